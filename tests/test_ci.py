"""CI: .ci/run and the pytest settings it relies on.

.ci/run is run from a temporary copy with a PATH of fakes: ``id`` says root, ``apt-get``
fails, there is no ``chromium``, and ``python3`` only writes down how it was called.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    os.name == "nt" or shutil.which("bash") is None, reason=".ci/run is a bash script"
)


def _script(path: Path, text: str) -> None:
    path.write_text("#!/bin/sh\n" + text)
    path.chmod(0o755)


def run_ci(tmp_path: Path, python3_exit: int = 0) -> tuple[subprocess.CompletedProcess, str]:
    """Run a copy of .ci/run with the fakes; returns the result and what python3 was asked."""
    project = tmp_path / "project"
    (project / ".ci").mkdir(parents=True)
    shutil.copy(REPO / ".ci" / "run", project / ".ci" / "run")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(shutil.which("dirname"), bin_dir / "dirname")
    _script(bin_dir / "id", "echo 0\n")
    _script(bin_dir / "apt-get", 'echo "E: Unable to locate package chromium" >&2\nexit 100\n')
    calls = tmp_path / "python3-calls.txt"
    _script(bin_dir / "python3", f'echo "python3 $*" >> "{calls}"\nexit {python3_exit}\n')
    result = subprocess.run(
        [shutil.which("bash"), str(project / ".ci" / "run")],
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result, calls.read_text() if calls.exists() else ""


def test_a_failed_chromium_install_skips_the_browser_tests_and_runs_the_rest(
    tmp_path: Path,
) -> None:
    result, calls = run_ci(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "apt-get could not install chromium; the browser tests will be skipped" in result.stderr
    assert calls == "python3 run.py test\n"


def test_failing_tests_fail_the_ci_run(tmp_path: Path) -> None:
    result, calls = run_ci(tmp_path, python3_exit=1)
    assert result.returncode != 0
    assert calls


def test_pytest_reports_skips() -> None:
    """-rs: a skipped browser, data or Binder test is listed with its reason."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "-rs" in pyproject["tool"]["pytest"]["ini_options"]["addopts"]
