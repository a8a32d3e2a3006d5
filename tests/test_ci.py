"""CI: .ci/run, the matrix it starts (.ci/matrix.py) and the pytest settings it relies on.

.ci/run is run from a temporary copy with a PATH of fakes: ``id`` says root, ``apt-get``
fails, there is no ``chromium``, and ``python3`` only writes down how it was called. The
matrix's logic is tested with fake interpreters (shell scripts that print a version) and with
its runs replaced by stand-ins: nothing is installed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
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
    _script(
        bin_dir / "python3",
        f'echo "python3 $* (BLAS threads: $OPENBLAS_NUM_THREADS)" >> "{calls}"\n'
        f"exit {python3_exit}\n",
    )
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
    # no BLAS setting of its own: run.py sets it, for CI as for a user
    assert calls == "python3 .ci/matrix.py (BLAS threads: )\n"


def test_failing_tests_fail_the_ci_run(tmp_path: Path) -> None:
    result, calls = run_ci(tmp_path, python3_exit=1)
    assert result.returncode != 0
    assert calls


def test_pytest_reports_skips() -> None:
    """-rs: a skipped browser, data or Binder test is listed with its reason."""
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "-rs" in pyproject["tool"]["pytest"]["ini_options"]["addopts"]


# ---- the matrix ------------------------------------------------------------------------------


def load_matrix():
    spec = importlib.util.spec_from_file_location("ci_matrix", REPO / ".ci" / "matrix.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def fake_python(folder: Path, name: str, version: str | None) -> Path:
    """An executable ``name`` in ``folder`` that reports ``version`` (or fails, like a pyenv
    shim of a version that is not enabled)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if version is None:
        _script(path, f'echo "pyenv: {name}: command not found" >&2\nexit 127\n')
    else:
        _script(path, f'echo {version}\necho "$0"\n')
    return path


def test_interpreters_are_found_on_path_one_per_minor_version(tmp_path: Path) -> None:
    matrix = load_matrix()
    first, second = tmp_path / "first", tmp_path / "second"
    fake_python(first, "python3.12", "3.12.4")
    fake_python(second, "python3.12", "3.12.9")  # later on PATH: not used
    fake_python(first, "python3.13", None)  # a shim that refuses: missing
    fake_python(first, "python3.10", "3.10.13")  # too old: ignored
    fake_python(second, "python3.11", "3.11.7")
    fake_python(first, "python3.15", "3.15.0")  # newer than the supported list: run too
    found = matrix.find_pythons(path=f"{first}{os.pathsep}{second}", pyenv=None)
    assert {minor: p.version for minor, p in found.items()} == {
        "3.11": "3.11.7",
        "3.12": "3.12.4",
        "3.15": "3.15.0",
    }
    assert found["3.12"].executable == str(first / "python3.12")


def test_a_pyenv_version_that_is_not_enabled_is_found_through_pyenv(tmp_path: Path) -> None:
    matrix = load_matrix()
    fake_python(tmp_path / "shims", "python3.13", None)
    root = tmp_path / "pyenv"
    fake_python(root / "versions" / "3.13.0" / "bin", "python3.13", "3.13.0")
    fake_python(root / "versions" / "3.13.2" / "bin", "python3.13", "3.13.2")
    fake_python(root / "versions" / "3.10.13" / "bin", "python3.10", "3.10.13")
    found = matrix.find_pythons(path=str(tmp_path / "shims"), pyenv=root)
    assert {minor: p.version for minor, p in found.items()} == {"3.13": "3.13.2"}


def test_the_plan_skips_the_default_version_and_lists_the_missing_ones() -> None:
    matrix = load_matrix()
    default = matrix.Python("3.12.1", "/usr/bin/python3")
    found = {
        "3.11": matrix.Python("3.11.7", "/opt/python3.11"),
        "3.12": matrix.Python("3.12.1", "/opt/python3.12"),  # the default's version
        "3.15": matrix.Python("3.15.0", "/opt/python3.15"),
    }
    runs, missing = matrix.plan(default, found)
    assert [(r.python.executable, r.venv, r.pytest_args, r.constraints) for r in runs] == [
        ("/usr/bin/python3", ".venv", (), None),
        ("/opt/python3.11", ".venv-py3.11", ("--ignore=tests/browser",), None),
        ("/opt/python3.15", ".venv-py3.15", ("--ignore=tests/browser",), None),
        (
            "/opt/python3.11",
            ".venv-lowest",
            ("--ignore=tests/browser",),
            ".ci/constraints-lowest.txt",
        ),
    ]
    assert runs[0].command()[1:] == [str(REPO / "run.py"), "test"]
    assert missing == ["3.13", "3.14"]


def test_binders_lock_is_tested_on_its_python() -> None:
    """The run on binder/runtime.txt's Python installs binder/lock.txt; when that Python is the
    default one, the lock gets a run of its own; when it is not here, the summary says so."""
    matrix = load_matrix()
    default = matrix.Python("3.11.7", "/usr/bin/python3")
    found = {"3.12": matrix.Python("3.12.1", "/opt/python3.12")}
    runs, _ = matrix.plan(default, found, locked="3.12")
    assert [(r.venv, r.constraints) for r in runs] == [
        (".venv", None),
        (".venv-py3.12", "binder/lock.txt"),
        (".venv-lowest", ".ci/constraints-lowest.txt"),
    ]
    runs, _ = matrix.plan(default, found, locked="3.11")
    assert (".venv-binder", "binder/lock.txt") in [(r.venv, r.constraints) for r in runs]
    _, missing = matrix.plan(default, found, locked="3.13")
    assert "3.13 for Binder's lock" in missing
    assert matrix.binder_version() == (REPO / "binder" / "runtime.txt").read_text().strip()[7:]


def test_every_run_happens_and_one_failure_fails_the_matrix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = load_matrix()
    monkeypatch.setattr(matrix, "LOGS", tmp_path / "logs")
    monkeypatch.setattr(matrix, "pyenv_root", lambda: None)
    monkeypatch.setattr(matrix, "default_python", lambda: matrix.Python("3.11.7", "/opt/python3"))
    monkeypatch.setattr(
        matrix, "find_pythons", lambda path=None, pyenv=None: {
            "3.13": matrix.Python("3.13.0", "/opt/python3.13")
        }
    )  # fmt: skip
    done = []

    def execute(run, number, total, log=None):
        done.append((number, run.venv, log))
        passed = run.venv != ".venv-py3.13"
        return matrix.Result(run, passed, 3.0, 12.0, f"Python {run.python.version}")

    monkeypatch.setattr(matrix, "execute", execute)
    monkeypatch.setattr(matrix.os, "environ", {})  # restored after the test
    monkeypatch.setattr(matrix.os, "cpu_count", lambda: 4)
    assert matrix.main(["--jobs", "2"]) == 1
    assert matrix.os.environ["TGF_TEST_WORKERS"] == "2", "two runs share 4 cores: 2 workers each"
    # two at a time, so in no fixed order; the README's command writes to the terminal
    assert sorted(done) == [
        (1, ".venv", None),
        (2, ".venv-py3.13", tmp_path / "logs" / "venv-py3.13.log"),
        (3, ".venv-lowest", tmp_path / "logs" / "venv-lowest.log"),
    ]
    out = capsys.readouterr().out
    assert "CI matrix: 3 runs" in out
    assert out.count("PASS") == 2 and out.count("FAIL") == 1
    assert "FAIL  Python 3.13.0" in out
    assert "skipped, not found here: Python 3.12, 3.14" in out
    done.clear()
    del matrix.os.environ["TGF_TEST_WORKERS"]
    assert matrix.main([]) == 1  # one run at a time, each on every core (run.py's default)
    assert done == [(1, ".venv", None), (2, ".venv-py3.13", None), (3, ".venv-lowest", None)]
    assert "TGF_TEST_WORKERS" not in matrix.os.environ


def test_a_run_makes_its_venv_then_runs_the_readme_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = load_matrix()
    calls = []

    def call(cmd, **kwargs):
        calls.append((cmd, kwargs["env"]["TGF_VENV"], kwargs["env"].get("TGF_CONSTRAINTS")))
        if "stdout" in kwargs:
            kwargs["stdout"].write(f"output of {cmd[1]}\n")
            kwargs["stdout"].flush()
        return 0

    monkeypatch.setattr(matrix.subprocess, "call", call)
    monkeypatch.setattr(matrix, "installed", lambda venv: "Python 3.11.7, numpy 1.26.0")
    run = matrix.Run(
        matrix.Python("3.11.7", "/opt/python3.11"), ".venv-lowest", ("-x",), "lowest", "c.txt"
    )
    result = matrix.execute(run, 2, 3, tmp_path / "lowest.log")
    assert result.passed
    assert [c[0][1] for c in calls] == ["-c", str(REPO / "run.py")]
    assert "ensure_environment(('test',))" in calls[0][0][2]
    assert calls[1][0][2:] == ["test", "-x"]
    assert {(venv, constraints) for _, venv, constraints in calls} == {(".venv-lowest", "c.txt")}
    out = capsys.readouterr().out
    assert "output of matrix run 2/3 (.venv-lowest)" in out
    assert f"output of {REPO / 'run.py'}" in out, "the log is printed when the run ends"


def test_a_run_in_a_venv_of_another_python_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """The summary reports the Python the venv really has; a stale venv is not a pass."""
    matrix = load_matrix()
    monkeypatch.setattr(matrix.subprocess, "call", lambda cmd, **kw: 0)
    monkeypatch.setattr(matrix, "installed", lambda venv: "Python 3.11.2, numpy 2.4.6")
    run = matrix.Run(matrix.Python("3.12.1", "/opt/python3.12"), ".venv-py3.12", (), "test")
    assert not matrix.execute(run, 1, 1).passed
    monkeypatch.setattr(matrix, "installed", lambda venv: "Python 3.12.1, numpy 2.4.6")
    assert matrix.execute(run, 1, 1).passed
