#!/usr/bin/env python3
"""The CI matrix: the tests on every Python found here, and once at the lowest declared versions.

.ci/run starts it after installing Chromium; it needs only the Python standard library. Each
run has a virtual environment of its own (made by run.py, see TGF_VENV there):

* the README's command, ``python3 run.py test``, on this Python (the default python3), browser
  tests included, in .venv;
* ``pythonX.Y run.py test --ignore=tests/browser`` on every other Python 3.11 or newer found
  here, in .venv-pyX.Y: ``python3.N`` on PATH, or a version pyenv has installed but not enabled
  (its shim then refuses to run). One run per minor version: the first found on PATH wins;
* on the Python that binder/runtime.txt names, every package held to Binder's lock
  (binder/lock.txt, written by .ci/lock_binder.py), so a semester's image is the tested one: it
  replaces that version's run above (in .venv-pyX.Y), or is a run of its own (.venv-binder)
  when that version is this python3;
* the same on the oldest of these Pythons with each direct dependency at the floor that
  pyproject.toml declares (.ci/constraints-lowest.txt), in .venv-lowest.

The runs go one after another, each spread over the cores by the README's command itself
(pytest-xdist workers, one per core; see run.py). With --jobs N, N runs go at a time instead,
each on cores / N workers (TGF_TEST_WORKERS, unless set): the first run's output straight to the
terminal (its browser tests time each notebook), the others' in test-artifacts/ci/, printed as
each one ends.

Then one line per run (PASS/FAIL, the Python and numpy in its venv, the venv, the time to make
the venv and to run the tests) and the supported versions not found here, which are skipped,
not failed. The exit status is 1 when any run failed.

    python3 .ci/matrix.py            run the matrix
    python3 .ci/matrix.py --jobs 2   the same, two runs at a time
    python3 .ci/matrix.py --plan     say what would run, and run nothing
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from subprocess import STDOUT
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUN_PY = ROOT / "run.py"
CONSTRAINTS = ".ci/constraints-lowest.txt"
BINDER_LOCK = "binder/lock.txt"
BINDER_RUNTIME = ROOT / "binder" / "runtime.txt"
# The versions the README promises; one not found here is listed as skipped. A newer Python
# found here is run too.
SUPPORTED = ("3.11", "3.12", "3.13", "3.14")
OLDEST = (3, 11)
WITHOUT_BROWSER = "--ignore=tests/browser"
_NAME = re.compile(r"python3\.(\d+)")
_PROBE = "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)"
# Make (or check) the venv of TGF_VENV as ``run.py test`` would, without running the tests.
_SETUP = (
    "import sys, run\ntry:\n    run.ensure_environment(('test',))\n"
    "except Exception as error:\n    sys.exit(f'making the venv failed: {error}')"
)
_SETUP_LOCK = threading.Lock()
_PRINT_LOCK = threading.Lock()
LOGS = ROOT / "test-artifacts" / "ci"
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
    setup_seconds: float  # making the venv (pip), or checking it is up to date
    test_seconds: float
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


def binder_version() -> str | None:
    """The 'X.Y' of binder/runtime.txt (``python-X.Y``), the Python Binder's lock is for."""
    try:
        match = re.fullmatch(r"python-(3\.\d+)\s*", BINDER_RUNTIME.read_text())
    except OSError:
        return None
    return match[1] if match else None


def plan(
    default: Python, found: dict[str, Python], locked: str | None = None
) -> tuple[list[Run], list[str]]:
    """The runs, and the supported minor versions not found (skipped); ``locked`` is the
    Python version Binder's lock is for."""
    runs = [Run(default, ".venv", (), "python3 run.py test (the README's; browser tests too)")]
    others = sorted((p for p in found.values() if p.minor != default.minor), key=lambda p: p.order)
    binder = "Binder's locked versions (binder/lock.txt), no browser tests"
    for python in others:
        if python.minor == locked:
            run = Run(python, f".venv-py{python.minor}", (WITHOUT_BROWSER,), binder, BINDER_LOCK)
        else:
            run = Run(python, f".venv-py{python.minor}", (WITHOUT_BROWSER,), "no browser tests")
        runs.append(run)
    if locked is not None and default.minor == locked:
        runs.append(Run(default, ".venv-binder", (WITHOUT_BROWSER,), binder, BINDER_LOCK))
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
    missing = [minor for minor in SUPPORTED if minor not in covered]
    if locked is not None and locked not in covered:
        missing.append(f"{locked} for Binder's lock")
    return runs, missing


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


def _env(run: Run) -> dict[str, str]:
    env = {**os.environ, "TGF_VENV": run.venv}
    env.pop("TGF_CONSTRAINTS", None)
    if run.constraints:
        env["TGF_CONSTRAINTS"] = run.constraints
    return env


def make_venv(run: Run, out: Any = None) -> tuple[int, float]:
    """Make (or check) the run's venv as ``run.py test`` would, without running the tests:
    (exit code, seconds). Under a lock: two pip installs of this editable project at once
    would both write course_lib.egg-info."""
    to_log = {"stdout": out, "stderr": STDOUT} if out else {}
    with _SETUP_LOCK:
        start = time.monotonic()
        setup = [run.python.executable, "-c", _SETUP]
        try:
            code = subprocess.call(setup, cwd=ROOT, env=_env(run), **to_log)
        except OSError as error:  # the interpreter vanished or cannot start
            print(f"could not start {run.python.executable}: {error}", file=out, flush=True)
            code = 1
        return code, time.monotonic() - start


def execute(
    run: Run,
    number: int,
    total: int,
    log: Path | None = None,
) -> Result:
    """Make the run's venv, then run its tests; output to ``log`` (else to this terminal).

    The venv is made first, on its own (:func:`make_venv`, one pip at a time across runs);
    the tests then run with the README's command, which checks the venv again and finds it up
    to date.
    """
    out = log.open("w", encoding="utf-8") if log else None
    to_log = {"stdout": out, "stderr": STDOUT} if out else {}
    try:
        print(
            f"\n=== matrix run {number}/{total}: Python {run.python.version}, {run.venv}"
            + (f", constraints {run.constraints}" if run.constraints else "")
            + f": {' '.join(run.command())}"
            + (f" (output in {log})" if log else ""),
            flush=True,
        )
        code, setup_seconds = make_venv(run, out)
        start = time.monotonic()
        if code == 0:
            code = subprocess.call(run.command(), cwd=ROOT, env=_env(run), **to_log)
        test_seconds = time.monotonic() - start
    finally:
        if out:
            out.close()
    found = installed(run.venv)
    passed = code == 0
    if not found.startswith(f"Python {run.python.version},"):
        print(f"{run.venv} holds {found}, not Python {run.python.version}: delete it", flush=True)
        passed = False
    if log:
        with _PRINT_LOCK:
            print(f"\n=== output of matrix run {number}/{total} ({run.venv}):", flush=True)
            print(log.read_text(encoding="utf-8", errors="replace"), flush=True)
    return Result(run, passed, setup_seconds, test_seconds, found)


def describe(run: Run) -> str:
    return f"Python {run.python.version} ({run.python.executable}) in {run.venv}: {run.what}"


def summary(results: list[Result], missing: list[str], seconds: float, jobs: int = 1) -> str:
    lines = [
        f"CI matrix: {len(results)} runs in {seconds / 60:.1f} min"
        + (f" ({jobs} at a time)" if jobs > 1 and len(results) > 1 else "")
    ]
    for r in results:
        lines.append(
            f"  {'PASS' if r.passed else 'FAIL'}  {r.installed:<30}  {r.run.venv:<14}"
            f"  {r.setup_seconds:4.0f} s setup + {r.test_seconds:4.0f} s tests  {r.run.what}"
        )
    if missing:
        lines.append(f"  skipped, not found here: Python {', '.join(missing)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    jobs = 1
    if len(argv) == 2 and argv[0] == "--jobs" and argv[1].isdigit() and int(argv[1]) >= 1:
        jobs, argv = int(argv[1]), []
    if argv not in ([], ["--plan"]):
        print(__doc__)
        return 2
    runs, missing = plan(default_python(), find_pythons(pyenv=pyenv_root()), binder_version())
    if argv == ["--plan"]:
        print("\n".join(describe(run) for run in runs))
        if missing:
            print(f"skipped, not found here: Python {', '.join(missing)}")
        return 0
    if jobs > 1:  # the runs share the cores: each spreads its tests over its share
        os.environ.setdefault("TGF_TEST_WORKERS", str(max(1, (os.cpu_count() or 1) // jobs)))
    start = time.monotonic()
    rest = list(enumerate(runs[1:], 2))
    logs = {run.venv: LOGS / f"{run.venv.lstrip('.')}.log" for _, run in rest}
    if jobs == 1:
        results = [execute(run, number, len(runs)) for number, run in enumerate(runs, 1)]
    else:
        # N lanes from the start: the README's command (its output to the terminal, its
        # browser tests timing each notebook) in one, the other runs one after another in the
        # others, each making its venv first; whichever lane is free takes the next run.
        LOGS.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(execute, runs[0], 1, len(runs))]
            futures += [
                pool.submit(execute, run, number, len(runs), logs[run.venv]) for number, run in rest
            ]
            results = [future.result() for future in futures]
    print("\n" + summary(results, missing, time.monotonic() - start, jobs), flush=True)
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
