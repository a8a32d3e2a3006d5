#!/usr/bin/env python3
"""Set up the course and open it, or run every test. Needs only Python 3.11+.

    python3 run.py lab     create/update .venv, then open the course in JupyterLab
    python3 run.py test    create/update .venv, then run the unit tests and every notebook
    python3 run.py save    re-execute every notebook in place and save its outputs (maintainers)

The virtual environment lives in .venv next to this file. It is (re)installed when it is
missing or when pyproject.toml changed since the last install. Extra arguments after
``test`` go to pytest, e.g. ``python3 run.py test tests/test_scalar.py -x``; after ``save``
come the notebooks to save (all of them when none are given).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / "course-installed.txt"
COMMANDS = ("lab", "test", "save")


class Failure(Exception):
    """A problem to report in one line, without a traceback."""


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def run(cmd: list[str | Path], **kwargs) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def ensure_environment(extras: str) -> Path:
    """Create .venv if missing and install the package with ``extras`` when out of date."""
    python = venv_python()
    if not python.exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=VENV.exists()).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest() + f" [{extras}]"
    installed = STAMP.read_text().split("\n") if STAMP.exists() else []
    if wanted not in installed:
        run([python, "-m", "pip", "install", "--upgrade", "pip"])
        run([python, "-m", "pip", "install", "--editable", f"{ROOT}[{extras}]"])
        STAMP.write_text("\n".join([*installed, wanted]) + "\n")
    return python


def lab(args: list[str]) -> int:
    python = ensure_environment("test")
    # Bound to this machine only; JupyterLab's token authentication stays on (the default).
    cmd = [
        python,
        "-m",
        "jupyter",
        "lab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.root_dir={ROOT}",
        "notebooks/00_start_here.ipynb",
        *args,
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in args:
        print("Running as root (as in many containers): passing --allow-root to JupyterLab.")
        cmd.append("--allow-root")
    return subprocess.call([str(c) for c in cmd], cwd=ROOT)


def test(args: list[str]) -> int:
    python = ensure_environment("test")
    return subprocess.call([str(python), "-m", "pytest", *args], cwd=ROOT)


def save(args: list[str]) -> int:
    for name in args:
        if not Path(name).is_file():
            raise Failure(f"save: there is no notebook {name} (in {Path.cwd()})")
        if Path(name).suffix != ".ipynb":
            raise Failure(f"save: {name} is not a notebook (.ipynb)")
    notebooks = [Path(a).resolve() for a in args] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    python = ensure_environment("test")
    for notebook in notebooks:
        run(
            [
                python,
                "-m",
                "jupyter",
                "nbconvert",
                "--to",
                "notebook",
                "--execute",
                "--inplace",
                "--ExecutePreprocessor.timeout=600",
                "--ExecutePreprocessor.kernel_name=python3",
                notebook,
            ],
            cwd=ROOT,
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if sys.version_info < (3, 11):  # noqa: UP036  (run.py may be started by an older Python)
        print(
            f"The course needs Python 3.11 or newer; this is {sys.version.split()[0]}.",
            file=sys.stderr,
        )
        return 1
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0 if argv else 2
    if argv[0] not in COMMANDS:
        print(
            f"run.py: unknown command {argv[0]!r}; the commands are {', '.join(COMMANDS)} "
            "(python3 run.py --help says what each does)",
            file=sys.stderr,
        )
        return 2
    command = {"lab": lab, "test": test, "save": save}[argv[0]]
    try:
        return command(argv[1:])
    except Failure as failure:
        print(f"run.py: {failure}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        print(
            f"run.py: this command failed with exit code {error.returncode} (its messages are "
            f"above): {' '.join(str(c) for c in error.cmd)}",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
