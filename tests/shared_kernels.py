"""One kernel per notebook for nbval and the notebook's own tests.

nbval runs a notebook cell by cell in a kernel and compares each output with the saved one;
``tests/test_notebook_NN.py`` then asserts on what the notebook computed (``notebook_harness``).
Each used to start a kernel of its own and run the whole notebook in it, so every notebook ran
twice for these two checks. With this plugin the kernel nbval ran the notebook in is handed to
the notebook's tests instead of stopped, with the outputs nbval saw, and the notebook runs once:

* :func:`pytest_collection_modifyitems` puts the tests of ``tests/test_notebook_NN.py`` right
  after nbval's cells of ``notebooks/NN_*.ipynb`` when both are collected (and
  ``spreading.NotebookSpreading`` sends both to the same pytest-xdist worker, as one unit);
* nbval's notebook collector is replaced by :class:`SharedKernelNotebook`, which records what
  each cell showed and, at its teardown, keeps the kernel (:func:`take` hands it over) instead
  of stopping it when the notebook's tests come next and every cell ran without raising;
* ``notebook_harness.notebook_fixture`` takes the kept kernel when there is one, and otherwise
  (the test file run on its own, a cell that raised, nbval not collected) starts its own kernel
  and runs the notebook, as before. A kept kernel nobody took is stopped at the end of the
  session.

tests/conftest.py registers this module as a plugin, so that its hooks apply to the
notebooks/ folder too (a conftest's collection hooks apply only below its own folder).
"""

from __future__ import annotations

import copy
import gc
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbval.plugin import IPyNbCell, IPyNbFile

__all__ = [
    "KeptKernel",
    "SharedKernelNotebook",
    "notebook_of_test_file",
    "pytest_collect_file",
    "pytest_collection_modifyitems",
    "pytest_runtest_call",
    "pytest_sessionfinish",
    "take",
]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
_TEST_FILE = re.compile(r"tests/test_notebook_(\d\d)\.py")


@dataclass
class KeptKernel:
    """nbval's running kernel (``nbval.kernel.RunningKernel``) after the notebook's last cell,
    and the notebook with the outputs each code cell showed in it."""

    kernel: Any
    notebook: nbformat.NotebookNode

    def stop(self) -> None:
        """Stop the kernel and let go of it (and so of nbval's kernel manager)."""
        kernel, self.kernel = self.kernel, None
        if kernel is not None and kernel.is_alive():
            kernel.stop()


_KEPT: dict[Path, KeptKernel] = {}  # notebook path -> its kernel, until its tests take it
_WANTED: set[Path] = set()  # notebooks whose tests run right after their nbval cells


def notebook_of_test_file(path: str) -> str | None:
    """The notebook (relative to the project, as in a node id) that ``tests/test_notebook_NN.py``
    tests; None for any other file, or when no single notebook starts with ``NN_``."""
    found = _TEST_FILE.fullmatch(path)
    if found is None:
        return None
    matches = sorted(NOTEBOOKS.glob(f"{found[1]}_*.ipynb"))
    return f"notebooks/{matches[0].name}" if len(matches) == 1 else None


def take(path: Path) -> KeptKernel | None:
    """The kernel nbval left running for the notebook at ``path``, now the caller's to stop;
    None when there is none."""
    return _KEPT.pop(Path(path).resolve(), None)


class SharedKernelNotebook(IPyNbFile):
    """nbval's notebook collector, which keeps its kernel for the notebook's tests."""

    def setup(self) -> None:
        self.shown: dict[int, list] = {}  # code cell number -> the outputs it showed
        super().setup()

    def record(self, cell: IPyNbCell) -> None:
        outputs = getattr(cell, "test_outputs", None)
        if outputs is not None:
            self.shown[cell.cell_num] = list(outputs)

    def _executed(self) -> nbformat.NotebookNode | None:
        """The notebook with the outputs its cells showed here, or None when a code cell did
        not run or raised (its tests then run the notebook afresh, and say which cell)."""
        notebook = copy.deepcopy(self.nb)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        if len(self.shown) != len(code):
            return None
        for number, cell in enumerate(code):
            outputs = self.shown[number]
            if any(out.get("output_type") == "error" for out in outputs):
                return None
            cell.outputs = [nbformat.from_dict(out) for out in outputs]
        return notebook

    def teardown(self) -> None:
        path = Path(self.path).resolve()
        if path in _WANTED and self.kernel is not None and self.kernel.is_alive():
            executed = self._executed()
            if executed is not None:
                _KEPT[path] = KeptKernel(self.kernel, executed)
                self.kernel = None  # nbval's teardown now has no kernel to stop
        super().teardown()


@pytest.hookimpl(hookwrapper=True)
def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    """nbval's collector of a notebook, replaced by :class:`SharedKernelNotebook`."""
    outcome = yield
    collected = outcome.get_result()
    if collected and any(type(node) is IPyNbFile for node in collected):
        outcome.force_result(
            [
                SharedKernelNotebook.from_parent(parent, path=file_path)
                if type(node) is IPyNbFile
                else node
                for node in collected
            ]
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """After nbval ran a cell (whether its output matched or not), note what it showed."""
    yield
    if isinstance(item, IPyNbCell) and isinstance(item.parent, SharedKernelNotebook):
        item.parent.record(item)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each notebook's tests right after its nbval cells, when both are collected."""
    _WANTED.clear()
    tests_of: dict[str, list[pytest.Item]] = {}
    for item in items:
        notebook = notebook_of_test_file(item.nodeid.split("::", 1)[0])
        if notebook is not None:
            tests_of.setdefault(notebook, []).append(item)
    last_cell = {
        item.nodeid.split("::", 1)[0]: index
        for index, item in enumerate(items)
        if isinstance(item, IPyNbCell)
    }
    moved = {notebook: tests for notebook, tests in tests_of.items() if notebook in last_cell}
    if not moved:
        return
    leaving = {id(item) for tests in moved.values() for item in tests}
    order: list[pytest.Item] = []
    for index, item in enumerate(items):
        if id(item) not in leaving:
            order.append(item)
        notebook = item.nodeid.split("::", 1)[0]
        if isinstance(item, IPyNbCell) and last_cell[notebook] == index and notebook in moved:
            order.extend(moved[notebook])
            _WANTED.add((ROOT / notebook).resolve())
    items[:] = order


def pytest_sessionfinish() -> None:
    """Stop the kept kernels no test took (their tests were deselected, or stopped early)."""
    if not _KEPT:
        return
    while _KEPT:
        _KEPT.popitem()[1].stop()
    with warnings.catch_warnings():  # nbval never closes the file it sends stderr to
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
