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
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
RUN_PY = REPO / "run.py"

PYPROJECT = """\
[project]
name = "course-lib"
version = "0.1.0"
dependencies = [{dependencies}]

[project.optional-dependencies]
test = ["pytest>=7"]
"""


def load_run_py():
    spec = importlib.util.spec_from_file_location("run_py_under_test", RUN_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Project:
    """A temporary project for run.py: its pyproject.toml, fake venv and recorded commands."""

    def __init__(self, module, root: Path, venv: str = ".venv") -> None:
        self.module = module
        self.root = root
        self.venv = root / venv
        self.commands: list[list[str]] = []
        self.write_pyproject('"numpy>=1.0"')
        python = module.venv_python(self.venv)
        python.parent.mkdir(parents=True)
        python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        python.chmod(0o755)

    def write_pyproject(self, dependencies: str) -> None:
        (self.root / "pyproject.toml").write_text(PYPROJECT.format(dependencies=dependencies))

    def installs(self) -> list[list[str]]:
        return [c for c in self.commands if c[1:4] == ["-m", "pip", "install"]]

    def stamp(self) -> str:
        return (self.venv / self.module.STAMP_NAME).read_text()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    if os.name == "nt":
        pytest.skip("the fake virtual environment's python is a POSIX shell script")
    module = load_run_py()
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.delenv("TGF_VENV", raising=False)
    monkeypatch.delenv("TGF_CONSTRAINTS", raising=False)
    monkeypatch.delenv("TGF_TEST_WORKERS", raising=False)
    project = Project(module, tmp_path)

    def record(cmd, **kwargs):
        project.commands.append([str(c) for c in cmd])

    monkeypatch.setattr(module, "run", record)
    return project


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
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(cmd, **kwargs):
        raise subprocess.CalledProcessError(1, [str(c) for c in cmd])

    monkeypatch.setattr(project.module, "run", fail)
    assert project.module.main(["test"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "failed with exit code 1" in err and "pip install" in err
    assert not (project.venv / project.module.STAMP_NAME).exists()


# ---- when to install -------------------------------------------------------------------------


def test_the_stamp_holds_only_the_current_install(project: Project) -> None:
    ensure = project.module.ensure_environment
    ensure(("test",))
    assert len(project.installs()) == 1
    assert len(project.stamp().splitlines()) == 1
    ensure(("test",))
    assert len(project.installs()) == 1, "nothing changed: no second install"
    project.write_pyproject('"numpy>=1.0", "pytest>=7"')
    ensure(("test",))
    assert len(project.installs()) == 2
    project.write_pyproject('"numpy>=1.0"')  # back to the first version: install again
    ensure(("test",))
    assert len(project.installs()) == 3
    assert len(project.stamp().splitlines()) == 1


def test_pip_is_not_upgraded(project: Project) -> None:
    project.module.ensure_environment(("test",))
    assert project.commands, "an install was expected"
    for command in project.commands:
        assert "--upgrade" not in command and "-U" not in command, command


@pytest.mark.parametrize(
    ("dependency", "reported"),
    [
        ('"tgf-surely-not-installed>=1"', "tgf-surely-not-installed>=1"),
        ('"numpy>=999"', "numpy>=999 (found "),
    ],
)
def test_a_missing_or_too_old_dependency_is_installed(
    project: Project, dependency: str, reported: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ensure = project.module.ensure_environment
    ensure(("test",))
    ensure(("test",))
    assert len(project.installs()) == 1, "everything present: no second install"
    capsys.readouterr()
    # The stamp is current, but the environment lacks what pyproject.toml asks for.
    project.write_pyproject(f'"numpy>=1.0", {dependency}')
    (project.venv / project.module.STAMP_NAME).write_text(
        f"{project.module.install_key()} [test]\n"
    )
    ensure(("test",))
    assert len(project.installs()) == 2
    assert reported in capsys.readouterr().out


def test_lab_installs_the_course_without_the_test_extra(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[list[str]] = []
    monkeypatch.setattr(project.module.subprocess, "call", lambda cmd, **kw: started.append(cmd))
    project.module.lab([])
    assert project.installs()[-1][-1] == str(project.root), "no extras for lab"
    assert started and started[0][1:4] == ["-m", "jupyter", "lab"]
    project.module.test([])
    assert project.installs()[-1][-1] == f"{project.root}[test]", "the test extra for test"
    project.module.lab([])
    assert len(project.installs()) == 2, "the test install has what lab needs: no reinstall"
    assert started[-1][1:4] == ["-m", "jupyter", "lab"]


def test_every_command_runs_its_processes_on_one_blas_thread_unless_told_otherwise(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, str | None]] = []

    def call(cmd, **kw):
        seen.append({name: os.environ.get(name) for name in project.module.BLAS_THREADS})
        return 0

    monkeypatch.setattr(project.module.subprocess, "call", call)
    # A copy of the environment without the variables (restored after the test): what run.py
    # sets must not stay behind in this process.
    blas = project.module.BLAS_THREADS
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items() if k not in blas})
    monkeypatch.setenv("TGF_TEST_WORKERS", "1")
    assert project.module.main(["test"]) == 0
    assert project.module.main(["lab"]) == 0
    assert seen == [dict.fromkeys(project.module.BLAS_THREADS, "1")] * 2
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")  # the user's own choice stands
    assert project.module.main(["test"]) == 0
    assert seen[-1]["OPENBLAS_NUM_THREADS"] == "4" and seen[-1]["OMP_NUM_THREADS"] == "1"


def test_a_constraints_file_is_passed_to_pip_and_its_change_reinstalls(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    constraints = project.root / "lowest.txt"
    constraints.write_text("numpy==1.26.0\n")
    monkeypatch.setenv("TGF_CONSTRAINTS", "lowest.txt")
    ensure = project.module.ensure_environment
    ensure(("test",))
    assert project.installs()[-1][-2:] == ["--constraint", str(constraints)]
    ensure(("test",))
    assert len(project.installs()) == 1
    constraints.write_text("numpy==2.0.0\n")
    ensure(("test",))
    assert len(project.installs()) == 2


def test_tgf_venv_names_the_virtual_environment(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Project(project.module, project.root, ".venv-py3.99")
    monkeypatch.setenv("TGF_VENV", ".venv-py3.99")
    assert project.module.ensure_environment(("test",)) == project.module.venv_python(other.venv)
    assert (other.venv / project.module.STAMP_NAME).exists()
    assert not (project.venv / project.module.STAMP_NAME).exists()


def test_a_missing_constraints_file_is_one_line(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TGF_CONSTRAINTS", "nowhere.txt")
    assert project.module.main(["test"]) == 2
    assert "TGF_CONSTRAINTS names" in capsys.readouterr().err
    assert not project.installs()


def test_the_check_reads_the_real_pyproject() -> None:
    """The requirement strings run.py checks are the project's own, extras included."""
    module = load_run_py()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    course = [project["name"], *project["dependencies"]]
    assert module.requirements(()) == course
    assert module.requirements(("test",)) == [*course, *project["optional-dependencies"]["test"]]


def test_save_keeps_no_timings_in_the_repository(tmp_path):
    """Cells tagged nbval-ignore-output (timings, confirmations) are saved empty; the others keep
    theirs."""
    import json

    run_py = load_run_py()
    timing = {
        "cell_type": "code",
        "execution_count": 3,
        "id": "t",
        "metadata": {"tags": ["nbval-ignore-output"]},
        "outputs": [{"name": "stdout", "output_type": "stream", "text": ["4.7 ms\n"]}],
        "source": ["print(t)"],
    }
    plain = dict(timing, id="p", metadata={}, source=["print(2)"], execution_count=4)
    notebook = tmp_path / "nb.ipynb"
    cells = [timing, plain]
    notebook.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4}))
    assert run_py.clear_machine_outputs(notebook) == 1
    saved = json.loads(notebook.read_text())["cells"]
    widgets = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    notebook.write_text(json.dumps({"cells": cells, "metadata": {"widgets": widgets}}))
    assert run_py.clear_machine_outputs(notebook) == 2
    assert "widgets" not in json.loads(notebook.read_text())["metadata"]
    assert saved[0]["outputs"] == [] and saved[0]["execution_count"] == 3  # count kept
    assert saved[1] == plain


def test_the_saved_notebooks_hold_no_timings():
    import json

    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if "nbval-ignore-output" in cell.get("metadata", {}).get("tags", []):
                assert cell["outputs"] == [], f"{path.name}: a run-only cell has saved outputs"
            assert "NBVAL" not in "".join(cell["source"]), f"{path.name}: markup a learner reads"
        # no widget views saved where later cells left them (a stepper at its last step)
        assert "widgets" not in json.loads(path.read_text(encoding="utf-8"))["metadata"]


# ---- binder: the link for a clone -----------------------------------------------------------


@pytest.mark.parametrize(
    ("remote", "link"),
    [
        ("https://github.com/ann/tgf.git", "gh/ann/tgf/HEAD"),
        ("https://github.com/ann/tgf\n", "gh/ann/tgf/HEAD"),
        ("git@github.com:ann/tgf.git", "gh/ann/tgf/HEAD"),
        ("ssh://git@github.com/ann/tgf", "gh/ann/tgf/HEAD"),
        ("https://token@github.com/ann/tgf/", "gh/ann/tgf/HEAD"),
        ("https://gitlab.com/group/sub/tgf.git", "gl/group%2Fsub%2Ftgf/HEAD"),
    ],
)
def test_binder_links_a_github_or_gitlab_clone_to_notebook_00(remote: str, link: str) -> None:
    assert load_run_py().binder_link(remote) == (
        f"https://mybinder.org/v2/{link}?urlpath=lab/tree/notebooks/00_start_here.ipynb"
    )


def test_binder_of_another_host_or_no_remote_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module = load_run_py()
    with pytest.raises(module.Failure, match="not a GitHub or GitLab address; Binder builds"):
        module.binder_link("/home/ann/tgf")
    if subprocess.run(["git", "--version"], capture_output=True).returncode != 0:
        pytest.skip("needs git")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.setattr(module, "ROOT", tmp_path)
    assert module.main(["binder"]) == 2
    assert "has no git remote named 'origin'" in capsys.readouterr().err
    subprocess.run(
        ["git", "-C", str(tmp_path), "remote", "add", "up", "git@github.com:ann/tgf.git"],
        check=True,
    )
    assert module.main(["binder", "up"]) == 0
    assert capsys.readouterr().out == (
        "https://mybinder.org/v2/gh/ann/tgf/HEAD?urlpath=lab/tree/notebooks/00_start_here.ipynb\n"
    )


def test_the_readmes_menu_paths_are_the_installed_jupyterlabs() -> None:
    """README sends an instructor to View → Appearance for Presentation Mode, Simple Interface
    and the sidebar: the submenu that JupyterLab's own menu settings declare."""
    import json

    schema = (
        Path(sys.prefix)
        / "share/jupyter/lab/schemas/@jupyterlab/application-extension/commands.json"
    )
    if not schema.exists():
        pytest.skip("JupyterLab's settings schemas are not installed in this environment")
    menus = json.loads(schema.read_text())["jupyter.lab.menus"]["main"]
    [view] = [menu for menu in menus if menu["id"] == "jp-mainmenu-view"]
    [appearance] = [
        item["submenu"] for item in view["items"] if item.get("type") == "submenu"
        and item["submenu"]["label"] == "Appearance"
    ]  # fmt: skip
    commands = {item.get("command") for item in appearance["items"]}
    assert {
        "application:toggle-presentation-mode",
        "application:toggle-mode",  # Simple Interface
        "application:toggle-left-area",  # Show Left Sidebar
    } <= commands
    readme = (REPO / "README.md").read_text()
    for label in ("Presentation Mode", "Simple Interface", "Show Left Sidebar"):
        assert f"*View → Appearance → {label}*" in readme


# ---- a virtual environment folder run.py cannot use: one line, not a traceback ----------------


def test_a_venv_that_is_a_file_is_one_line_and_the_file_is_kept(tmp_path: Path) -> None:
    """`run.py lab` with a file named .venv used to end in NotADirectoryError's traceback."""
    (tmp_path / "pyproject.toml").write_text(PYPROJECT.format(dependencies=""))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    env = {**os.environ, "TGF_VENV": str(blocker)}
    result = subprocess.run(
        [sys.executable, str(RUN_PY), "lab"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"run.py: {blocker} is a file, but the course's virtual environment goes in a folder of "
        "that name; move or delete that file, then run this again"
    ]
    assert blocker.read_text() == "not a folder", "a user's file is not ours to delete"


@pytest.mark.parametrize("broken", ["not executable", "not a file"])
def test_a_venv_whose_python_cannot_run_is_one_line(
    broken: str, project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    """A .venv/bin/python without its x bit used to end in PermissionError's traceback."""
    python = project.module.venv_python(project.venv)
    python.unlink()
    if broken == "not executable":
        python.write_text("#!/bin/sh\n")
        python.chmod(0o644)
    else:
        python.mkdir()
    assert project.module.main(["lab"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"run.py: {python} is {broken}, so the virtual environment in {project.venv} is "
        "broken; delete that folder, then run this again to rebuild it\n"
    )
    assert not project.installs() and python.exists()


def test_a_program_that_cannot_start_is_one_line(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(cmd, **kwargs):
        raise PermissionError(13, "Permission denied", str(cmd[0]))

    monkeypatch.setattr(project.module.subprocess, "call", refuse)
    assert project.module.main(["lab"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("run.py: Permission denied (")
    assert "Traceback" not in err and "Errno" not in err


# ---- test: the suite spread over the cores -----------------------------------------------------


def test_workers_for_the_whole_suite_one_per_core_by_default(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = project.module
    monkeypatch.setattr(module.os, "cpu_count", lambda: 16)
    spread = ["-n", str(module.MAX_TEST_WORKERS), "--dist", "loadfile"]
    assert module.pytest_arguments([]) == spread, "unset: one worker per core, up to the cap"
    monkeypatch.setenv("TGF_TEST_WORKERS", "auto")
    assert module.pytest_arguments([]) == spread
    assert module.pytest_arguments(["--ignore=tests/browser"]) == [
        *spread,
        "--ignore=tests/browser",
    ]
    for own in (
        ["tests/test_scalar.py", "-x"],  # a file: one process, as given
        ["-k", "softmax"],  # an option's value reads as a test: as given too
        ["-n", "3"],
        ["--numprocesses=3"],
        ["-p", "no:xdist"],
        ["--pdb"],
    ):
        assert module.pytest_arguments(own) == own
    monkeypatch.setattr(module.os, "cpu_count", lambda: 2)
    assert module.pytest_arguments([])[:2] == ["-n", "2"]
    monkeypatch.setattr(module.os, "cpu_count", lambda: None)  # unknown: one process
    assert module.pytest_arguments([]) == []
    monkeypatch.delenv("TGF_TEST_WORKERS")
    assert module.pytest_arguments([]) == []


def test_tgf_test_workers_sets_the_processes_and_a_bad_value_is_one_line(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module = project.module
    monkeypatch.setenv("TGF_TEST_WORKERS", "1")
    assert module.pytest_arguments([]) == []
    monkeypatch.setenv("TGF_TEST_WORKERS", "6")  # above the cap: the user's choice stands
    assert module.pytest_arguments([])[:2] == ["-n", "6"]
    started: list[list[str]] = []
    monkeypatch.setattr(module.subprocess, "call", lambda cmd, **kw: started.append(cmd))
    for bad in ("0", "two", "-1", "1.5", "AUTO"):
        monkeypatch.setenv("TGF_TEST_WORKERS", bad)
        assert module.main(["test"]) != 0
        err = capsys.readouterr().err
        assert (
            "TGF_TEST_WORKERS must be a whole number of test processes, 1 or more, or auto" in err
        )
        assert f"got {bad!r}" in err
    assert started == [] and project.installs() == [], "nothing installed or run"
