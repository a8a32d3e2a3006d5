"""nbval's kernel of a notebook handed to the notebook's own tests (tests/shared_kernels.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
import shared_kernels
from nbval.plugin import IPyNbCell
from shared_kernels import (
    SharedKernelNotebook,
    notebook_of_test_file,
    pytest_collection_modifyitems,
    take,
)

ROOT = Path(__file__).resolve().parents[1]
NB00 = next((ROOT / "notebooks").glob("00_*.ipynb"))


def test_a_notebooks_test_file_names_its_notebook_and_no_other_file_does() -> None:
    assert notebook_of_test_file("tests/test_notebook_00.py") == f"notebooks/{NB00.name}"
    for path in (
        "tests/test_notebook_99.py",  # no such notebook
        "tests/test_notebook_harness.py",
        "tests/test_scalar.py",
        f"notebooks/{NB00.name}",
    ):
        assert notebook_of_test_file(path) is None


class _Kernel:
    def __init__(self, alive: bool = True) -> None:
        self.alive, self.stopped = alive, False

    def is_alive(self) -> bool:
        return self.alive

    def stop(self) -> None:
        self.stopped, self.alive = True, False


def _collector(kernel: _Kernel, shown: dict[int, list]) -> SharedKernelNotebook:
    """A SharedKernelNotebook of notebook 00 after nbval's cells ran (no pytest session)."""
    node = object.__new__(SharedKernelNotebook)
    for name, value in {
        "path": NB00,
        "nb": nbformat.read(NB00, as_version=4),
        "kernel": kernel,
        "shown": shown,
        "parent": SimpleNamespace(config=SimpleNamespace(option=SimpleNamespace())),
    }.items():
        setattr(node, name, value)
    return node


def _every_cell(output: dict) -> dict[int, list]:
    notebook = nbformat.read(NB00, as_version=4)
    count = sum(cell.cell_type == "code" for cell in notebook.cells)
    return {number: [dict(output)] for number in range(count)}


SHOWN = {"output_type": "stream", "name": "stdout", "text": "shown here\n"}


@pytest.fixture
def wanted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_kernels, "_WANTED", {NB00.resolve()})
    monkeypatch.setattr(shared_kernels, "_KEPT", {})


def test_the_kernel_is_kept_with_the_outputs_nbval_saw(wanted: None) -> None:
    kernel = _Kernel()
    _collector(kernel, _every_cell(SHOWN)).teardown()
    assert not kernel.stopped
    kept = take(NB00)
    assert kept is not None and kept.kernel is kernel
    code = [cell for cell in kept.notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [SHOWN] for cell in code)
    assert take(NB00) is None  # handed over once
    kept.stop()
    assert kernel.stopped


@pytest.mark.parametrize(
    "case", ["a cell raised", "a cell did not run", "the kernel died", "no tests follow"]
)
def test_otherwise_the_kernel_is_stopped_and_the_tests_run_the_notebook_afresh(
    wanted: None, case: str
) -> None:
    kernel = _Kernel(alive=case != "the kernel died")
    shown = _every_cell(SHOWN)
    if case == "a cell raised":
        shown[3] = [{"output_type": "error", "ename": "E", "evalue": "", "traceback": []}]
    elif case == "a cell did not run":
        del shown[3]
    elif case == "no tests follow":
        shared_kernels._WANTED.clear()
    _collector(kernel, shown).teardown()
    assert take(NB00) is None
    assert not kernel.alive


class _Cell(IPyNbCell):
    """An nbval cell item with only a node id (no pytest session)."""

    nodeid = property(lambda self: self.given_id)


def _cell(nodeid: str) -> IPyNbCell:
    cell = object.__new__(_Cell)
    cell.given_id = nodeid
    return cell


class _Test:
    def __init__(self, nodeid: str) -> None:
        self.nodeid = nodeid


def test_a_notebooks_tests_move_to_right_after_its_cells(wanted: None) -> None:
    nb = f"notebooks/{NB00.name}"
    items = [
        _Test("tests/test_notebook_00.py::test_a"),
        _Test("tests/test_scalar.py::test_b"),
        _Test("tests/test_notebook_00.py::test_c"),
        _cell(f"{nb}::Cell 0"),
        _cell(f"{nb}::Cell 1"),
        _Test("tests/test_notebook_01.py::test_d"),  # its notebook is not collected: stays
    ]
    pytest_collection_modifyitems(items)
    assert [item.nodeid for item in items] == [
        "tests/test_scalar.py::test_b",
        f"{nb}::Cell 0",
        f"{nb}::Cell 1",
        "tests/test_notebook_00.py::test_a",
        "tests/test_notebook_00.py::test_c",
        "tests/test_notebook_01.py::test_d",
    ]
    assert shared_kernels._WANTED == {NB00.resolve()}


SPY = """
import notebook_harness

TAKEN = []
_take = notebook_harness.take


def _spy(path):
    kept = _take(path)
    TAKEN.append(f"{path.name[:2]}:{'kept' if kept is not None else 'own kernel'}")
    return kept


notebook_harness.take = _spy


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"TAKEN {TAKEN}")
"""


# A file left open fails the run: nbval never closes the file it sends the kernel's stderr to,
# and the harness must let its kernel manager go (in CI a later test failed on the warning).
STRICT = ("-W", "error::ResourceWarning", "-W", "error::pytest.PytestUnraisableExceptionWarning")


@pytest.mark.parametrize("with_nbval", [True, False])
def test_in_a_real_run_the_tests_take_nbvals_kernel_or_start_their_own(
    tmp_path: Path, with_nbval: bool
) -> None:
    (tmp_path / "tgf_spy.py").write_text(SPY)
    paths = ([str(NB00)] if with_nbval else []) + ["tests/test_notebook_00.py"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT / "tests")])}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "tgf_spy", *STRICT, *paths],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"TAKEN ['00:{'kept' if with_nbval else 'own kernel'}']" in result.stdout
