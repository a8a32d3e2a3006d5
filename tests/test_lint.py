"""The house style: ruff's lint and format hold for the library, the tests, the benchmarks and the
notebooks (ruff reads a notebook's code cells), so a reader never meets unused imports, names
defined twice or lines past 100 columns in a cell they read."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLACES = ["course_lib", "tests", "benchmarks", "notebooks", "run.py", ".ci"]


def ruff() -> list[str]:
    found = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if found is None:
        pytest.skip("ruff is not installed (it comes with the test extra)")
    return [found]


def test_ruff_finds_nothing():
    result = subprocess.run(
        [*ruff(), "check", "--output-format", "concise", *PLACES],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_everything_is_formatted():
    result = subprocess.run(
        [*ruff(), "format", "--check", *PLACES], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
