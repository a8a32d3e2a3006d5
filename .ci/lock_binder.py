#!/usr/bin/env python3
"""Write binder/lock.txt: every package the course needs, pinned, for a semester's Binder image.

    python3 .ci/lock_binder.py     lock with the Python binder/runtime.txt names

It makes a throwaway virtual environment with that Python (found as .ci/matrix.py finds its
Pythons: ``python3.N`` on PATH, or pyenv's), installs the course's dependencies from
pyproject.toml (the runtime ones, not the test extra) at their newest versions, and writes
``pip freeze`` of it as pip constraints.
binder/requirements.txt installs the course under those constraints; CI's run on the same
Python installs them too (.ci/matrix.py), so the locked versions are the ones tested. Run it
again at the start of a semester, commit the new lock, and let CI test it.

Standard library only; it needs pip to reach PyPI.
"""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from matrix import find_pythons, pyenv_root  # this folder is on sys.path: a script's own

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "binder" / "runtime.txt"
LOCK = ROOT / "binder" / "lock.txt"


def python_version() -> str:
    """The 'X.Y' that binder/runtime.txt asks for (it reads ``python-X.Y``)."""
    match = re.fullmatch(r"python-(3\.\d+)\s*", RUNTIME.read_text())
    if match is None:
        sys.exit(f"{RUNTIME} must hold one line such as python-3.12")
    return match[1]


def find_python(version: str) -> str:
    found = find_pythons(pyenv=pyenv_root()).get(version)
    if found is None:
        sys.exit(f"no Python {version} here (on PATH or in pyenv): install it to make the lock")
    return found.executable


def dependencies() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def lock() -> int:
    version = python_version()
    python = find_python(version)
    with tempfile.TemporaryDirectory() as folder:
        venv = Path(folder) / "venv"
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip"]
        subprocess.run([*pip, "install", "-q", "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "install", "-q", *dependencies()], check=True)
        frozen = subprocess.run(
            [*pip, "freeze", "--all"], check=True, capture_output=True, text=True
        ).stdout
    pins = sorted(
        (line for line in frozen.splitlines() if "==" in line and not line.startswith("pip==")),
        key=str.lower,
    )
    header = (
        f"# Binder's image: the course's dependencies and theirs, pinned (Python {version}).\n"
        f"# Written by python3 .ci/lock_binder.py on {datetime.date.today()}. Binder installs the\n"
        "# course under these constraints (binder/requirements.txt); CI's run on this Python\n"
        "# tests them (.ci/matrix.py). Do not edit by hand: run the script again.\n"
    )
    LOCK.write_text(header + "\n".join(pins) + "\n")
    print(f"wrote {LOCK.relative_to(ROOT)}: {len(pins)} packages for Python {version}")
    return 0


def main(argv: list[str]) -> int:
    if argv == []:
        return lock()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
