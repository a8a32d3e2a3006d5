"""Run a notebook in a real kernel and look inside it: the harness behind tests/test_notebook_*.py.

nbval (strict mode) re-runs every notebook and compares each cell's output with the saved one.
That proves the page did not change; it cannot say whether what the page shows is *right*. The
checks that say so used to be ``assert`` cells inside the notebooks, where every learner had to
read them. They live here instead:

* :class:`NotebookRun` starts a kernel with nbclient (the same ``python3`` kernel of the
  current environment that nbval uses, ``--nbval-current-env``), with the notebook's folder as
  its working directory;
* :meth:`NotebookRun.run_all` executes the notebook's cells in order, exactly as saved (the
  placeholders ``...`` of the exercises stay untouched);
* :meth:`NotebookRun.eval` evaluates an expression in the kernel and returns its value
  (pickled across), so a test can assert on the notebook's namespace with plain pytest;
* :meth:`NotebookRun.exec` runs extra code in the kernel (moving a widget's slider, say);
* :meth:`NotebookRun.output` is the text a cell showed (stdout and ``text/plain``), found by a
  piece of its source, so tests do not depend on cell numbers.

A test module per notebook runs it once (:func:`notebook_fixture`) and asserts on the result;
when nbval has just run the notebook in the same pytest process, the module takes over nbval's
kernel and the outputs nbval saw instead (:mod:`shared_kernels`), so the notebook runs once for
both.
The learner simulation (``tests/test_learner_simulation.py``) drives the same class cell by
cell.
"""

from __future__ import annotations

import ast
import base64
import builtins
import copy
import gc
import pickle
import re
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.asynchronous import AsyncKernelClient
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbclient.util import run_sync
from shared_kernels import KeptKernel, take

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT_S = 600  # as nbval's --nbval-cell-timeout: a stall detector, not a target


class NotebookError(AssertionError):
    """A cell (of the notebook, or one a test added) raised, or showed a traceback."""


def notebook_path(name: str) -> Path:
    """The notebook ``name`` in notebooks/ (``"01"`` or a full file name)."""
    matches = sorted(NOTEBOOKS.glob(f"{name}*.ipynb")) if len(name) == 2 else [NOTEBOOKS / name]
    if len(matches) != 1 or not matches[0].exists():
        raise FileNotFoundError(f"no single notebook matches {name!r} in {NOTEBOOKS}")
    return matches[0]


def output_text(cell: Any, kinds: tuple[str, ...] = ("stdout", "text/plain")) -> str:
    """The text a code cell showed: its stdout stream and each result's ``text/plain``."""
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream" and out.get("name") in kinds:
            parts.append(out["text"])
        elif out["output_type"] in ("execute_result", "display_data"):
            for kind in kinds:
                if kind in out.get("data", {}):
                    parts.append(out["data"][kind])
    return "".join(p if isinstance(p, str) else "".join(p) for p in parts)


def answered(nb: Any, marker: str, old: str, new: str) -> str:
    """Run the exercise cell containing ``marker`` with ``old`` replaced by ``new`` (a
    learner's answer) in the notebook's kernel, and return the text it showed."""
    source = nb.cell(marker).source
    assert old in source, f"the exercise cell no longer contains {old!r}"
    return output_text(nb.exec(source.replace(old, new)))


def error_text(cell: Any) -> str | None:
    """The traceback a cell showed as an output (a widget callback's error, say), or None."""
    for out in cell.get("outputs", []):
        if out["output_type"] == "error":
            return _strip_ansi("\n".join(out.get("traceback", [])) or out.get("evalue", ""))
    return None


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


class NotebookRun:
    """One notebook in one live kernel. Use as a context manager (the kernel stops on exit)."""

    def __init__(self, name: str, kept: KeptKernel | None = None) -> None:
        self.path = notebook_path(name)
        self.kept = kept
        self.nb = nbformat.read(self.path, as_version=4) if kept is None else kept.notebook
        self.client = NotebookClient(
            self.nb,
            kernel_name="python3",
            timeout=CELL_TIMEOUT_S,
            resources={"metadata": {"path": str(self.path.parent)}},
            km=None if kept is None else kept.kernel.km,
        )
        self._stack = ExitStack()

    # ---- kernel lifetime ----------------------------------------------------------------

    def __enter__(self) -> NotebookRun:
        if self.kept is None:
            self._stack.enter_context(self.client.setup_kernel())
            return self
        # nbval's kernel, which has run every cell: a client of nbclient's kind joins it
        self._stack.callback(self._let_go)
        self._stack.callback(self.kept.stop)
        manager = self.kept.kernel.km
        client = AsyncKernelClient(**manager.get_connection_info(session=True), parent=manager)
        self._stack.callback(client.stop_channels)
        run_sync(self._join)(client)
        client.allow_stdin = False
        self.client.kc = client
        return self

    def _let_go(self) -> None:
        """Drop nbval's stopped kernel and collect its manager now. nbval sends the kernel's
        stderr to a /dev/null file it never closes; left to a later garbage collection, the
        file's ResourceWarning landed in whatever test ran then, and failed it when that test
        had turned warnings into errors (CI, Python 3.12 and 3.13)."""
        self.client.kc = self.client.km = None
        self.kept = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)  # nbval's file, not ours
            gc.collect()

    @staticmethod
    async def _join(client: AsyncKernelClient) -> None:
        client.start_channels()  # in the event loop the client's calls will run in
        await client.wait_for_ready(timeout=60)

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    # ---- the notebook's own cells -------------------------------------------------------

    @property
    def code_cells(self) -> list[tuple[int, Any]]:
        """(index, cell) of every code cell, in order."""
        return [(i, c) for i, c in enumerate(self.nb.cells) if c.cell_type == "code"]

    def run_cell(self, index: int) -> Any:
        """Execute the notebook's cell ``index`` (its outputs replace the saved ones)."""
        cell = self.nb.cells[index]
        try:
            self.client.execute_cell(cell, index)
        except CellExecutionError as error:
            message = _strip_ansi(str(error))
            raise NotebookError(
                f"{self.path.name} cell {index} raised:\n{cell.source}\n---\n{message}"
            ) from None
        shown = error_text(cell)
        if shown is not None:
            raise NotebookError(
                f"{self.path.name} cell {index} showed a traceback:\n{cell.source}\n---\n{shown}"
            )
        return cell

    def run_all(self) -> NotebookRun:
        """Execute every code cell in order, as a learner's Run All does."""
        for index, _ in self.code_cells:
            self.run_cell(index)
        return self

    def cell(self, containing: str) -> Any:
        """The one code cell whose source contains ``containing``."""
        found = [c for _, c in self.code_cells if containing in c.source]
        if len(found) != 1:
            raise LookupError(
                f"{len(found)} code cells of {self.path.name} contain {containing!r} (need 1)"
            )
        return found[0]

    def output(self, containing: str) -> str:
        """What the cell containing ``containing`` showed (stdout and text/plain)."""
        return output_text(self.cell(containing))

    def cells_reached(self, changed: int) -> list[int]:
        """The code cells after cell ``changed`` that a change to it can reach: see
        :func:`cells_reached`."""
        return cells_reached([(i, c.source) for i, c in self.code_cells], changed)

    @property
    def markdown(self) -> str:
        """The text of every markdown cell, one cell after another."""
        return "\n".join(c.source for c in self.nb.cells if c.cell_type == "markdown")

    def solution(self, function: str) -> str:
        """The Python code of the collapsed Solution (a markdown cell starting
        ``<details><summary>Solution</summary>``) that defines ``function``."""
        for cell in self.nb.cells:
            if cell.cell_type == "markdown" and f"def {function}(" in cell.source:
                assert "<details><summary>Solution</summary>" in cell.source, cell.source[:80]
                found = re.search(r"```python\n(.*?)```", cell.source, re.S)
                if found:
                    return found.group(1)
        raise LookupError(f"no Solution in {self.path.name} defines {function}")

    @contextmanager
    def namespace_kept(self) -> Iterator[None]:
        """Inside, a test may redefine and rerun anything; on the way out the kernel's global
        names are bound to the objects they had on the way in (names added since are gone) and
        every cell's outputs are the ones it had. Objects changed in place stay changed: for
        cells that rebind names (a new model, a new report), not for ones that mutate."""
        self.exec("__tgf_kept_names = dict(globals())")
        outputs = [copy.deepcopy(c.get("outputs")) for c in self.nb.cells]
        try:
            yield
        finally:
            self.exec(
                "(lambda names, kept: (names.clear(), names.update(kept)))"
                "(globals(), __tgf_kept_names)"
            )
            for cell, shown in zip(self.nb.cells, outputs, strict=True):
                if shown is not None:
                    cell.outputs = shown

    # ---- code a test adds -----------------------------------------------------------------

    def exec(self, code: str) -> Any:
        """Run ``code`` in the kernel as an extra cell; return that cell (with its outputs)."""
        cell = nbformat.v4.new_code_cell(code)
        # nbclient stores an executed cell back into the notebook at its index: lend it a
        # place at the end for the time it runs.
        self.nb.cells.append(cell)
        try:
            self.client.execute_cell(cell, len(self.nb.cells) - 1)
        except CellExecutionError as error:
            raise NotebookError(
                f"in {self.path.name}, this code raised:\n{code}\n---\n{_strip_ansi(str(error))}"
            ) from None
        finally:
            self.nb.cells.pop()
        shown = error_text(cell)
        if shown is not None:
            raise NotebookError(f"in {self.path.name}, this code showed a traceback:\n{shown}")
        return cell

    def eval(self, expression: str) -> Any:
        """The value of ``expression`` in the kernel's namespace (pickled across)."""
        code = (
            "print('\\n' + __import__('base64').b64encode("
            f"__import__('pickle').dumps(({expression}))).decode())"
        )
        text = output_text(self.exec(code), kinds=("stdout",))
        return pickle.loads(base64.b64decode(text.strip().splitlines()[-1]))


BUILTIN_NAMES = frozenset(dir(builtins))


def cell_names(source: str) -> tuple[set[str], set[str], set[str]] | None:
    """(read, assigned, imported): the names a cell's code reads anywhere (function bodies
    included), the names it binds (assignments, ``def``, ``class``, ``for``, ``with ... as``)
    and those of them bound by an import; None when the source is not plain Python (an IPython
    magic, say)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    reads, assigns, imported = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (reads if isinstance(node.ctx, ast.Load) else assigns).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            assigns.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                imported.add((alias.asname or alias.name).split(".")[0])
    return reads, assigns | imported, imported - assigns


def cells_reached(cells: list[tuple[int, str]], changed: int) -> list[int]:
    """Of the code ``cells`` ((index, source) in order), those after cell ``changed`` that a
    change to that cell's code can reach, in order.

    Found by reading the cells' names (:func:`cell_names`), not by running them. The change
    reaches the names the changed cell binds or uses; from a name it reaches every cell that
    reads it, and so the names that cell binds or uses (it may have changed an object it
    used). Earlier cells count too: a function defined above looks its names up when it is
    called, so an earlier cell that reads a reached name passes the change on to what it
    binds. A name that only imports bind is the same module or library object however a cell
    ran, so it passes nothing on; a cell that is not plain Python (an IPython magic) could do
    anything, so with one in the notebook every cell after ``changed`` is reached. The other
    cells run as they did before the change, so a test that checks that the cells after a
    changed cell still run need run only these.
    """
    later = [index for index, _ in cells if index > changed]
    found = {index: cell_names(source) for index, source in cells}
    if changed not in found:
        raise LookupError(f"cell {changed} is not one of the code cells")
    if any(names is None for names in found.values()):
        return later
    # Names that only imports bind, anywhere in the notebook: modules and library functions
    modules = set().union(*(f[2] for f in found.values()))
    modules -= set().union(*(f[1] - f[2] for f in found.values()))

    def passed_on(index: int) -> set[str]:
        reads, binds, _ = found[index]
        return (reads | binds) - modules - BUILTIN_NAMES

    reached = {changed}
    tainted = passed_on(changed)
    grew = True
    while grew:  # earlier cells' functions, and what they bind, until nothing new is reached
        grew = False
        for index in found:
            if index not in reached and found[index][0] & tainted:
                reached.add(index)
                tainted |= passed_on(index)
                grew = True
    return [index for index in later if index in reached]


def notebook_fixture(name: str) -> Any:
    """A module-scoped pytest fixture: notebook ``name`` executed once, top to bottom: in the
    kernel nbval has just run it in, when nbval ran it and kept that kernel for these tests
    (:mod:`shared_kernels`), and otherwise in a kernel of its own."""

    @pytest.fixture(scope="module")
    def executed() -> Iterator[NotebookRun]:
        kept = take(notebook_path(name))
        with NotebookRun(name, kept) as run:
            if kept is None:
                run.run_all()
            yield run

    return executed
