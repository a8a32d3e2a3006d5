"""run.py, the README's two commands: its logic, without real installs.

run.py is imported as a module with ROOT pointed at a temporary project: a small
pyproject.toml and a fake virtual environment, whose ``python`` is a script that runs this
test's own Python. The pip command that would install something is recorded instead
of run; the check of installed packages runs for real (against this test's environment).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RUN_PY = REPO / "run.py"


def load_run_py():
    spec = importlib.util.spec_from_file_location("run_py_under_test", RUN_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- the command line ------------------------------------------------------------------------


def test_an_unknown_command_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert load_run_py().main(["tset"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'tset'" in err and "lab, test, save" in err


def test_no_command_prints_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert load_run_py().main([]) == 2
    assert "python3 run.py test" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("notebooks/missing.ipynb", "save: there is no notebook notebooks/missing.ipynb (in {})"),
        ("README.md", "save: README.md is not a notebook (.ipynb)"),
    ],
)
def test_save_of_a_wrong_path_says_so_in_one_line(
    argument: str, message: str, tmp_path: Path
) -> None:
    (tmp_path / "README.md").write_text("not a notebook")
    env = {**os.environ, "TGF_VENV": str(tmp_path / "no-venv")}
    result = subprocess.run(
        [sys.executable, str(RUN_PY), "save", argument],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == ["run.py: " + message.format(tmp_path)]
    assert not (tmp_path / "no-venv").exists(), "nothing is installed for a wrong path"


def test_a_failed_command_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module = load_run_py()

    def fail(extras):
        raise subprocess.CalledProcessError(1, ["python", "-m", "pip", "install", "."])

    monkeypatch.setattr(module, "ensure_environment", fail)
    assert module.main(["test"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "failed with exit code 1" in err and "pip install" in err
