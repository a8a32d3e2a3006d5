"""Binder / JupyterHub: repo2docker builds the course from binder/, a locked image.

A real image build needs a Docker daemon (and a non-root user), which CI does not have, so
this renders the Dockerfile with ``repo2docker --no-build`` from a clean copy of the
committed repository (what Binder would clone) and checks that it takes the Python of
binder/runtime.txt and installs the course from binder/requirements.txt, under the pins of
binder/lock.txt, once the repository is in place. The lock pins every dependency of
pyproject.toml within its declared range; CI runs the tests under it (.ci/matrix.py). The root
environment.yml, for conda users, asks for the same dependencies as pyproject.toml.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("repo2docker") is None,
    reason="jupyter-repo2docker is not installed (it is in the 'test' extra of pyproject.toml)",
)


@pytest.fixture(scope="module")
def clean_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed tree at HEAD, unpacked into an empty folder (no .venv, no stray files)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout to make a clean copy of HEAD")
    dest = tmp_path_factory.mktemp("binder") / "repo"
    dest.mkdir()
    archive = dest.parent / "head.tar"
    subprocess.run(
        ["git", "archive", "--format=tar", "-o", str(archive), "HEAD"], cwd=ROOT, check=True
    )
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    return dest


@pytest.fixture(scope="module")
def rendered(clean_copy: Path) -> tuple[str, str]:
    """(Dockerfile, log) from repo2docker --no-build, as Binder's user (uid 1000, jovyan)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "repo2docker",
            "--no-build",
            "--debug",
            "--user-id",
            "1000",
            "--user-name",
            "jovyan",
            str(clean_copy),
        ],
        cwd=clean_copy.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"repo2docker failed:\n{result.stderr}"
    return result.stdout, result.stderr


def _environment(clean_copy: Path) -> dict:
    yaml = pytest.importorskip("yaml")
    path = clean_copy / "environment.yml"
    assert path.exists(), "environment.yml is missing from the committed tree"
    return yaml.safe_load(path.read_text())


def _name(spec: str) -> str:
    return re.split(r"[\s<>=!~\[;]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_repo2docker_uses_the_python_of_runtime_txt_and_the_locked_requirements(
    rendered: tuple[str, str],
) -> None:
    dockerfile, log = rendered
    assert "FROM " in dockerfile
    version = (ROOT / "binder" / "runtime.txt").read_text().strip().removeprefix("python-")
    assert f"Building conda environment for python={version}" in log, log
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    assert "environment.yml" not in dockerfile  # binder/ wins over the root files


def test_the_repository_is_in_place_and_writable_before_the_course_installs(
    rendered: tuple[str, str],
) -> None:
    """binder/requirements.txt installs ``-e .`` from the repo folder, so the folder must be
    copied there first, owned by the notebook user (a build writes metadata into it)."""
    dockerfile, _ = rendered
    lines = dockerfile.splitlines()

    def first(pattern: str) -> int:
        for number, line in enumerate(lines):
            if re.search(pattern, line):
                return number
        raise AssertionError(f"no line matching {pattern!r} in the Dockerfile")

    workdir = first(r"^WORKDIR \$\{REPO_DIR\}")
    copy = first(r"^COPY --chown=1000:1000 src/ \$\{REPO_DIR\}/")
    install = first(r'-r "binder/requirements\.txt"')
    assert workdir < copy < install
    user_lines = [line for line in lines[copy:install] if line.startswith("USER ")]
    assert user_lines and user_lines[-1] == "USER ${NB_USER}"


def test_environment_installs_the_package_and_the_same_dependencies(clean_copy: Path) -> None:
    env = _environment(clean_copy)
    assert "conda-forge" in env.get("channels", [])
    deps = env["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    pip_sections = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml needs one pip: section (to install the course)"
    pip = [p.strip() for p in pip_sections[0]]
    assert "pip" in [_name(d) for d in conda], "the pip: section needs pip itself in the list"
    assert any(p in ("-e .", ".", "--editable .") for p in pip), (
        f"environment.yml's pip section does not install the course package itself: {pip}"
    )
    python = [d for d in conda if _name(d) == "python"]
    assert python and "3.11" in python[0], f"python should be pinned to 3.11, got {python}"

    project = tomllib.loads((clean_copy / "pyproject.toml").read_text())["project"]
    wanted = {_name(d) for d in project["dependencies"]}
    offered = {_name(d) for d in conda} | {_name(p) for p in pip if not p.startswith(("-", "."))}
    missing = wanted - offered
    assert not missing, f"pyproject.toml needs {sorted(missing)} but environment.yml lacks them"


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"{path.name}: {line!r} is not pinned with =="
            pins[_name(name)] = version
    return pins


def test_binder_installs_the_course_under_a_lock_of_every_dependency_within_range() -> None:
    requirements = [
        line
        for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert requirements == ["-c lock.txt", "-e ."]
    specifiers = pytest.importorskip("packaging.requirements")
    pins = _pins(ROOT / "binder" / "lock.txt")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for dependency in project["dependencies"]:
        wanted = specifiers.Requirement(dependency)
        name = _name(wanted.name)
        assert name in pins, f"binder/lock.txt does not pin {name}"
        assert wanted.specifier.contains(pins[name]), (
            f"binder/lock.txt pins {name}=={pins[name]}, outside pyproject's {wanted.specifier}"
        )
    version = (ROOT / "binder" / "runtime.txt").read_text().strip().removeprefix("python-")
    assert f"pinned (Python {version})" in (ROOT / "binder" / "lock.txt").read_text()


def test_binder_starts_the_kernels_on_one_blas_thread_as_run_py_does(
    rendered: tuple[str, str],
) -> None:
    dockerfile, _ = rendered
    assert 'ENV R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in dockerfile
    shown = subprocess.run(
        ["bash", str(ROOT / "binder" / "start"), "env"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout.splitlines()
    run_py = (ROOT / "run.py").read_text()
    blas = ast.literal_eval(run_py.split("BLAS_THREADS = ", 1)[1].split("\n", 1)[0])
    assert {f"{name}={value}" for name, value in blas.items()} <= set(shown)
