#!/usr/bin/env python3
"""Set up the course and open it, or run every test. Needs only Python 3.11+.

    python3 run.py lab     create/update .venv with the course's packages, then open JupyterLab
    python3 run.py test    create/update .venv with the test packages too, then run every test
    python3 run.py save    re-execute notebooks in place and save their outputs (maintainers)
    python3 run.py release DIR    the students' notebooks for a class, into DIR (nbgrader)
    python3 run.py grade SUBMISSIONS --out grades.csv [--feedback DIR]
                           grade SUBMISSIONS/<student>/<notebook>.ipynb with nbgrader
    python3 run.py binder  print the Binder link that opens this clone's course (from its
                           GitHub or GitLab remote, 'origin' or the one named after it)

The virtual environment lives in .venv next to this file. It is (re)installed when it is
missing, when pyproject.toml changed since the last install, or when a package pyproject.toml
asks for is missing from it. Extra arguments after ``test`` go to pytest, e.g.
``python3 run.py test tests/test_scalar.py -x``; after ``save`` come the notebooks to save
(all of them when none are given).

``test`` spreads the whole suite over pytest-xdist workers, one per core up to
MAX_TEST_WORKERS, each test file on one worker (``--dist loadfile``: a notebook's cells run in
order in one kernel); TGF_TEST_WORKERS=N picks the number (1: one process), ``auto`` the default.
Extra arguments that name tests or options of their own run as given, in one process. Kernels
started by different workers at once cannot get the same TCP port: tests/kernel_ports.py
reserves each port across the test processes.

For CI (.ci/matrix.py): TGF_VENV names another folder for the virtual environment, e.g.
.venv-py3.12, and TGF_CONSTRAINTS a pip constraints file installed with the package, e.g.
.ci/constraints-lowest.txt; relative paths are taken from the folder of this file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
COMMANDS = ("lab", "test", "save", "release", "grade", "binder")
STAMP_NAME = "course-installed.txt"
MAX_TEST_WORKERS = 4  # each worker starts kernels (and one a JupyterLab): memory, not cores, binds
# Every process run.py starts (JupyterLab's kernels and the tests' included) does its matrix
# products on one BLAS thread, unless the variable is already set: split over several threads, a
# product adds its terms in another order, and on two threads notebooks 07 and 09 printed other
# last digits than their saved outputs (which nbval compares). The course's products are small:
# on 2 cores notebook 07's training took 0.97 s an epoch on one thread, 1.08 s on two
# (benchmarks/bench_mnist.py --threads 1, --threads 0).
BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# Options that choose pytest's processes or stop in a debugger: given one, run.py adds no workers.
_OWN_PROCESS_OPTIONS = ("-n", "--numprocesses", "--dist", "-p", "--pdb", "--trace")

# Run by the virtual environment's Python: prints each requirement (one a line) that is not
# installed there, or installed at a version the requirement excludes.
_CHECK_REQUIREMENTS = """\
import json, sys
from importlib.metadata import PackageNotFoundError, version
try:
    from packaging.requirements import Requirement
except ImportError:
    print("packaging")
    sys.exit()
for line in json.loads(sys.argv[1]):
    req = Requirement(line)
    if req.marker is not None and not req.marker.evaluate():
        continue
    try:
        found = version(req.name)
    except PackageNotFoundError:
        print(line)
        continue
    if not req.specifier.contains(found, prereleases=True):
        print(f"{line} (found {found})")
"""


class Failure(Exception):
    """A problem to report in one line, without a traceback."""


def venv_dir() -> Path:
    return ROOT / os.environ.get("TGF_VENV", ".venv")


def constraints_file() -> Path | None:
    name = os.environ.get("TGF_CONSTRAINTS")
    if not name:
        return None
    path = ROOT / name
    if not path.is_file():
        raise Failure(f"TGF_CONSTRAINTS names {path}, which is not a file")
    return path


def venv_python(venv_path: Path) -> Path:
    if os.name == "nt":
        return venv_path / "Scripts" / "python.exe"
    return venv_path / "bin" / "python"


def run(cmd: list[str | Path], **kwargs) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def requirements(extras: tuple[str, ...]) -> list[str]:
    """The package itself, its dependencies and those of ``extras``, from pyproject.toml."""
    import tomllib  # here, not at the top: Python 3.10 must reach the version check

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [project["name"], *project.get("dependencies", [])]
    for extra in extras:
        wanted += project.get("optional-dependencies", {})[extra]
    return wanted


def missing_requirements(python: Path, wanted: list[str]) -> list[str]:
    """The entries of ``wanted`` that ``python``'s environment lacks (or has at a wrong version)."""
    try:
        result = subprocess.run(
            [str(python), "-c", _CHECK_REQUIREMENTS, json.dumps(wanted)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return [f"(the virtual environment's Python does not run: {error})"]
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        return [f"(the check of installed packages failed: {last})"]
    return result.stdout.splitlines()


def install_key() -> str:
    """What an install depends on: pyproject.toml and the constraints file, if any."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    constraints = constraints_file()
    if constraints is not None:
        digest.update(b"\0constraints\0" + constraints.read_bytes())
    return digest.hexdigest()


def read_stamp(stamp: Path) -> tuple[str, set[str]]:
    """(install key, extras) of the last install, or ("", set()) when there was none."""
    try:
        key, _, extras = stamp.read_text(encoding="utf-8").strip().partition(" ")
    except OSError:
        return "", set()
    return key, {e for e in extras.strip("[]").split(",") if e}


def ensure_environment(extras: tuple[str, ...] = ()) -> Path:
    """Create the virtual environment if missing; install the package with ``extras`` when
    pyproject.toml (or the constraints file) changed, or when a required package is missing."""
    venv_path = venv_dir()
    python = venv_python(venv_path)
    check_venv_folder(venv_path, python)
    if not python.exists():
        print(f"Creating a virtual environment in {venv_path} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=venv_path.exists()).create(venv_path)
    stamp = venv_path / STAMP_NAME
    key = install_key()
    installed_key, installed_extras = read_stamp(stamp)
    if installed_key != key:
        what = "pyproject.toml" + (" or TGF_CONSTRAINTS" if constraints_file() else "")
        reason = f"{what} changed" if installed_key else "first install"
        installed_extras = set()
    elif not set(extras) <= installed_extras:
        reason = f"adding the {', '.join(sorted(set(extras) - installed_extras))} extra"
    else:
        missing = missing_requirements(python, requirements(extras))
        if not missing:
            return python
        reason = f"{venv_path.name} lacks {', '.join(missing)}"
    print(f"Installing the course into {venv_path} ({reason}) ...", flush=True)
    wanted_extras = sorted(set(extras) | installed_extras)
    target = f"{ROOT}[{','.join(wanted_extras)}]" if wanted_extras else str(ROOT)
    command: list[str | Path] = [python, "-m", "pip", "install", "--editable", target]
    constraints = constraints_file()
    if constraints is not None:
        command += ["--constraint", constraints]
    stamp.unlink(missing_ok=True)  # an interrupted install must not look finished
    run(command)
    stamp.write_text(f"{key} [{','.join(wanted_extras)}]\n", encoding="utf-8")
    return python


def check_venv_folder(venv_path: Path, python: Path) -> None:
    """Refuse, in one line with the fix, a virtual environment folder run.py cannot use.

    A file where the folder belongs (not ours to delete), or a Python in it that is not an
    executable file (a broken copy): either would end in a traceback further on.
    """
    if venv_path.exists() and not venv_path.is_dir():
        raise Failure(
            f"{venv_path} is a file, but the course's virtual environment goes in a folder of "
            "that name; move or delete that file, then run this again"
        )
    if python.exists() and not (python.is_file() and os.access(python, os.X_OK)):
        what = "not a file" if not python.is_file() else "not executable"
        raise Failure(
            f"{python} is {what}, so the virtual environment in {venv_path} is broken; "
            "delete that folder, then run this again to rebuild it"
        )


def lab(args: list[str]) -> int:
    python = ensure_environment()
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


def test_workers() -> int:
    """How many pytest-xdist workers ``run.py test`` starts: TGF_TEST_WORKERS's number, or with
    it unset or ``auto`` one per core, at most :data:`MAX_TEST_WORKERS` (1: no workers)."""
    given = os.environ.get("TGF_TEST_WORKERS", "").strip()
    if given in ("", "auto"):
        return max(1, min(MAX_TEST_WORKERS, os.cpu_count() or 1))
    if not given.isdigit() or int(given) < 1:
        raise Failure(
            f"TGF_TEST_WORKERS must be a whole number of test processes, 1 or more, or auto "
            f"(one per core, the default), got {given!r}; 1 runs the tests in one process"
        )
    return int(given)


def pytest_arguments(args: list[str]) -> list[str]:
    """pytest's arguments for ``run.py test ARGS``: ``ARGS`` with the workers in front when the
    whole suite runs (every extra argument an option such as ``--ignore=...``, none choosing
    processes or a debugger), else ``ARGS`` as they are."""
    workers = test_workers()
    own = any(not arg.startswith("-") or arg.startswith(_OWN_PROCESS_OPTIONS) for arg in args)
    if workers == 1 or own:
        return list(args)
    # loadfile: a file's tests stay on one worker, in order. (loadgroup could spread the learner
    # simulation's notebooks over the workers too, but under pytest 9 it groups nothing:
    # pytest-xdist 3.8 renames a test's node id through an attribute pytest 9 no longer reads.)
    return ["-n", str(workers), "--dist", "loadfile", *args]


def test(args: list[str]) -> int:
    arguments = pytest_arguments(args)  # a bad TGF_TEST_WORKERS stops before any install
    python = ensure_environment(("test",))
    return subprocess.call([str(python), "-m", "pytest", *arguments], cwd=ROOT)


def save(args: list[str]) -> int:
    for name in args:
        if not Path(name).is_file():
            raise Failure(f"save: there is no notebook {name} (in {Path.cwd()})")
        if Path(name).suffix != ".ipynb":
            raise Failure(f"save: {name} is not a notebook (.ipynb)")
    notebooks = [Path(a).resolve() for a in args] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    python = ensure_environment()
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
        clear_machine_outputs(notebook)
    return 0


IGNORE_TAG = "nbval-ignore-output"


def clear_machine_outputs(notebook: Path) -> int:
    """Empty the outputs of the cells tagged ``nbval-ignore-output`` in a saved notebook, and
    drop the widgets' saved state.

    Those cells show what a learner should see only on running them: timings, which differ from
    machine to machine, and confirmations of an exercise's answer, which must not sit on the
    page before the learner has answered. nbval runs them without comparing their outputs (the
    notebook's tests check them instead). The tag lives in the cell's metadata, out of the
    learner's sight. Returns how many cells (and widget states) were cleared.
    """
    data = json.loads(notebook.read_text(encoding="utf-8"))
    cleared = 0
    # The widgets' saved state: the views as the save left them, after later cells moved them
    # (an explorer at the values a "predict" cell asks about, a stepper at its last step). A
    # trusted notebook would draw them on opening; without it, each widget shows its text line
    # until the cell runs.
    if data.get("metadata", {}).pop("widgets", None) is not None:
        cleared += 1
    for cell in data["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell["cell_type"] == "code" and IGNORE_TAG in tags:
            cell["outputs"] = []  # its execution count stays: the notebook ran in order
            cleared += 1
    if cleared:
        text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        notebook.write_text(text, encoding="utf-8")
    return cleared


BINDER = (
    "https://mybinder.org/v2/{host}/{path}/{ref}?urlpath=lab/tree/notebooks/00_start_here.ipynb"
)
_REMOTE = re.compile(
    r"^(?:https?://(?:[^@/]+@)?|ssh://(?:[^@/]+@)?|[^@/]+@)?(github\.com|gitlab\.com)[:/]"
    r"(?P<path>[^\s]+?)(?:\.git)?/?$"
)


def binder_link(remote: str, ref: str = "HEAD") -> str:
    """The mybinder.org address that builds ``remote`` (a GitHub or GitLab clone address, https
    or ssh) at ``ref`` and opens notebook 00; a Failure for any other address."""
    match = _REMOTE.match(remote.strip())
    if match is None:
        raise Failure(
            f"binder: {remote.strip()!r} is not a GitHub or GitLab address; Binder builds from "
            "a public repository there: push this clone to one, then run this again"
        )
    host = "gh" if match[1] == "github.com" else "gl"
    path = match["path"] if host == "gh" else match["path"].replace("/", "%2F")
    return BINDER.format(host=host, path=path, ref=ref)


def classroom(command: str, args: list[str]) -> int:
    """``release`` and ``grade``: course_lib.classroom in .venv, with nbgrader (the ``grade``
    extra, installed on first use so that ``lab`` stays lean)."""
    python = ensure_environment(("grade",))
    return subprocess.call([str(python), "-m", "course_lib.classroom", command, *args])


def binder(args: list[str]) -> int:
    remote_name = args[0] if args else "origin"
    if len(args) > 1:
        raise Failure("binder: give at most one remote name, e.g. python3 run.py binder upstream")
    try:
        result = subprocess.run(
            ["git", "remote", "get-url", remote_name],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Failure(f"binder: could not run git ({error}); is git installed?") from None
    if result.returncode != 0:
        raise Failure(
            f"binder: this folder has no git remote named {remote_name!r} (git says: "
            f"{result.stderr.strip() or 'nothing'}); push the course to GitHub or GitLab first"
        )
    print(binder_link(result.stdout))
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
    for name, value in BLAS_THREADS.items():
        os.environ.setdefault(name, value)
    command = {
        "lab": lab,
        "test": test,
        "save": save,
        "release": lambda args: classroom("release", args),
        "grade": lambda args: classroom("grade", args),
        "binder": binder,
    }[argv[0]]
    try:
        return command(argv[1:])
    except Failure as failure:
        print(f"run.py: {failure}", file=sys.stderr)
        return 2
    except OSError as error:  # a program that cannot be started, a folder that cannot be made
        where = f" ({error.filename})" if error.filename else ""
        print(
            f"run.py: {error.strerror or error}{where}; check that this folder and its .venv "
            "can be read and written, or delete .venv and run this again",
            file=sys.stderr,
        )
        return 1
    except subprocess.CalledProcessError as error:
        print(
            f"run.py: this command failed with exit code {error.returncode} (its messages are "
            f"above): {' '.join(str(c) for c in error.cmd)}",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
