#!/usr/bin/env python3
"""The CI matrix: the tests on every Python found here, and once at the lowest declared versions.

.ci/run starts it after installing Chromium; it needs only the Python standard library. One
after the other, each in a virtual environment of its own (made by run.py, see TGF_VENV there):

* the README's command, ``python3 run.py test``, on this Python (the default python3), browser
  tests included, in .venv;
* ``pythonX.Y run.py test --ignore=tests/browser`` on every other Python 3.11 or newer found
  here, in .venv-pyX.Y: ``python3.N`` on PATH, or a version pyenv has installed but not enabled
  (its shim then refuses to run). One run per minor version: the first found on PATH wins;
* the same on the oldest of these Pythons with each direct dependency at the floor that
  pyproject.toml declares (.ci/constraints-lowest.txt), in .venv-lowest.

Then one line per run (PASS/FAIL, the Python and numpy in its venv, the venv, wall time) and the
supported versions not found here, which are skipped, not failed. The exit status is 1 when any
run failed.

    python3 .ci/matrix.py          run the matrix
    python3 .ci/matrix.py --plan   say what would run, and run nothing
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_PY = ROOT / "run.py"
CONSTRAINTS = ".ci/constraints-lowest.txt"
# The versions the README promises; one not found here is listed as skipped. A newer Python
# found here is run too.
SUPPORTED = ("3.11", "3.12", "3.13", "3.14")
OLDEST = (3, 11)
WITHOUT_BROWSER = "--ignore=tests/browser"
_NAME = re.compile(r"python3\.(\d+)")
_PROBE = "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)"
_INSTALLED = (
    "import sys\ntry:\n    import numpy\nexcept ImportError:\n    numpy = None\n"
    "print(sys.version.split()[0], numpy.__version__ if numpy else '-')"
)


@dataclass(frozen=True)
class Python:
    version: str  # e.g. "3.12.1"
    executable: str  # the interpreter itself (not a pyenv shim)

    @property
    def minor(self) -> str:
        return ".".join(self.version.split(".")[:2])

    @property
    def order(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.version.split("."))


@dataclass(frozen=True)
class Run:
    python: Python
    venv: str
    pytest_args: tuple[str, ...]
    what: str
    constraints: str | None = None

    def command(self) -> list[str]:
        return [self.python.executable, str(RUN_PY), "test", *self.pytest_args]


@dataclass(frozen=True)
class Result:
    run: Run
    passed: bool
    seconds: float
    installed: str  # "Python 3.12.1, numpy 2.4.6", read from the venv after the run


def probe(executable: str) -> Python | None:
    """The Python that ``executable`` runs, or None when it does not run (a pyenv shim of a
    version that is not enabled exits with an error)."""
    try:
        result = subprocess.run(
            [executable, "-c", _PROBE], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = result.stdout.split("\n")
    if result.returncode != 0 or len(lines) < 2 or not re.fullmatch(r"\d+\.\d+\.\d+", lines[0]):
        return None
    return Python(lines[0], lines[1] or executable)


def pyenv_root() -> Path | None:
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return None
    try:
        result = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(result.stdout.strip()) if result.returncode == 0 else None


def candidates(path: str, pyenv: Path | None) -> list[str]:
    """Interpreters that may be Python 3.11+: ``python3.N`` in each folder of ``path`` in order,
    then those of pyenv's installed versions (newest first)."""
    found = []
    for folder in path.split(os.pathsep):
        if folder and Path(folder).is_dir():
            for file in sorted(Path(folder).iterdir()):
                match = _NAME.fullmatch(file.name)
                if match and int(match[1]) >= OLDEST[1] and os.access(file, os.X_OK):
                    found.append(str(file))
    if pyenv is not None:
        versions = [
            v for v in (pyenv / "versions").glob("*") if re.fullmatch(r"3\.\d+\.\d+", v.name)
        ]
        versions.sort(key=lambda v: tuple(int(p) for p in v.name.split(".")), reverse=True)
        for version in versions:
            file = version / "bin" / f"python{'.'.join(version.name.split('.')[:2])}"
            if file.exists():
                found.append(str(file))
    return found


def find_pythons(path: str | None = None, pyenv: Path | None = None) -> dict[str, Python]:
    """The first working interpreter of each minor version >= 3.11, by minor version."""
    pythons: dict[str, Python] = {}
    for executable in candidates(os.environ.get("PATH", "") if path is None else path, pyenv):
        python = probe(executable)
        if python is not None and python.order >= OLDEST and python.minor not in pythons:
            pythons[python.minor] = python
    return pythons


def default_python() -> Python:
    """The Python running this script: .ci/run starts it with the default python3."""
    return Python(".".join(map(str, sys.version_info[:3])), sys.executable)


def plan(default: Python, found: dict[str, Python]) -> tuple[list[Run], list[str]]:
    """The runs, and the supported minor versions not found (skipped)."""
    runs = [Run(default, ".venv", (), "python3 run.py test (the README's; browser tests too)")]
    others = sorted((p for p in found.values() if p.minor != default.minor), key=lambda p: p.order)
    for python in others:
        runs.append(Run(python, f".venv-py{python.minor}", (WITHOUT_BROWSER,), "no browser tests"))
    oldest = min([default, *others], key=lambda p: p.order)
    runs.append(
        Run(
            oldest,
            ".venv-lowest",
            (WITHOUT_BROWSER,),
            "lowest versions, no browser tests",
            CONSTRAINTS,
        )
    )
    covered = {default.minor, *(p.minor for p in others)}
    return runs, [minor for minor in SUPPORTED if minor not in covered]


def installed(venv: str) -> str:
    """'Python X, numpy Y' as found in ``venv`` (what the run really used)."""
    python = ROOT / venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    try:
        result = subprocess.run(
            [str(python), "-c", _INSTALLED], capture_output=True, text=True, timeout=60
        )
        version, numpy = result.stdout.split()
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return "(no working venv)"
    return f"Python {version}, numpy {numpy}"


def execute(run: Run, number: int, total: int) -> Result:
    env = {**os.environ, "TGF_VENV": run.venv}
    env.pop("TGF_CONSTRAINTS", None)
    if run.constraints:
        env["TGF_CONSTRAINTS"] = run.constraints
    print(
        f"\n=== matrix run {number}/{total}: Python {run.python.version}, {run.venv}"
        + (f", constraints {run.constraints}" if run.constraints else "")
        + f": {' '.join(run.command())}",
        flush=True,
    )
    start = time.monotonic()
    code = subprocess.call(run.command(), cwd=ROOT, env=env)
    seconds = time.monotonic() - start
    found = installed(run.venv)
    if not found.startswith(f"Python {run.python.version},"):
        print(f"{run.venv} holds {found}, not Python {run.python.version}: delete it", flush=True)
        return Result(run, False, seconds, found)
    return Result(run, code == 0, seconds, found)


def describe(run: Run) -> str:
    return f"Python {run.python.version} ({run.python.executable}) in {run.venv}: {run.what}"


def summary(results: list[Result], missing: list[str], seconds: float) -> str:
    lines = [f"CI matrix: {len(results)} runs in {seconds / 60:.1f} min"]
    for r in results:
        lines.append(
            f"  {'PASS' if r.passed else 'FAIL'}  {r.installed:<30}  {r.run.venv:<14}"
            f"  {r.seconds:6.0f} s  {r.run.what}"
        )
    if missing:
        lines.append(f"  skipped, not found here: Python {', '.join(missing)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv not in ([], ["--plan"]):
        print(__doc__)
        return 2
    runs, missing = plan(default_python(), find_pythons(pyenv=pyenv_root()))
    if argv == ["--plan"]:
        print("\n".join(describe(run) for run in runs))
        if missing:
            print(f"skipped, not found here: Python {', '.join(missing)}")
        return 0
    start = time.monotonic()
    results = [execute(run, number, len(runs)) for number, run in enumerate(runs, 1)]
    print("\n" + summary(results, missing, time.monotonic() - start), flush=True)
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
