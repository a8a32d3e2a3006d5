"""How run.py test spreads the suite over pytest-xdist's workers (tests/spreading.py)."""

from __future__ import annotations

import pytest

pytest.importorskip("xdist")

from spreading import NotebookSpreading, scheduler_for  # noqa: E402


def test_the_learner_simulation_is_spread_by_test_every_other_file_kept_whole() -> None:
    spreading = object.__new__(NotebookSpreading)  # _split_scope reads nothing of its state
    sim = "tests/test_learner_simulation.py::test_a_restless_learner"
    units = {
        spreading._split_scope(nodeid)
        for nodeid in (
            f"{sim}[07_mnist_fan_out.ipynb]",
            f"{sim}[09_layers.ipynb]",
            f"{sim}[10_build_your_engine.ipynb]",
        )
    }
    assert len(units) == 3
    for path, ids in (
        ("notebooks/07_mnist_fan_out.ipynb", ("Cell 0", "Cell 6")),  # nbval: one kernel, in order
        ("tests/test_scalar.py", ("test_a", "test_b")),
        ("tests/browser/test_notebooks_in_browser.py", ("test_x[02]", "test_x[07]")),
    ):
        assert {spreading._split_scope(f"{path}::{i}") for i in ids} == {path}


def test_a_notebooks_own_tests_are_one_unit_with_nbvals_cells_of_it() -> None:
    spreading = object.__new__(NotebookSpreading)
    units = {
        spreading._split_scope(nodeid)
        for nodeid in (
            "notebooks/07_mnist_fan_out.ipynb::Cell 0",
            "notebooks/07_mnist_fan_out.ipynb::Cell 6",
            "tests/test_notebook_07.py::test_a",
            "tests/test_notebook_07.py::test_b[1]",
        )
    }
    assert units == {"notebooks/07_mnist_fan_out.ipynb"}
    assert spreading._split_scope("tests/test_notebook_99.py::test_a") == (
        "tests/test_notebook_99.py"  # no notebook 99: the file stays a unit of its own
    )


def test_the_scheduler_is_ours_for_loadfile_only(pytestconfig: pytest.Config) -> None:
    class Config:
        """pytest's configuration, with the --dist asked for."""

        def __init__(self, dist: str) -> None:
            self.dist = dist

        def getvalue(self, name: str) -> object:
            asked = {"dist": self.dist, "tx": ["popen", "popen"]}  # as -n 2 sets them
            return asked[name] if name in asked else pytestconfig.getvalue(name)

        def __getattr__(self, name: str) -> object:
            return getattr(pytestconfig, name)

    assert isinstance(scheduler_for(Config("loadfile"), None), NotebookSpreading)
    assert scheduler_for(Config("load"), None) is None  # xdist's own
    assert scheduler_for(Config("no"), None) is None


class _Worker:
    """A stand-in for an xdist worker: records which tests it was sent."""

    def __init__(self, collection: list[str]) -> None:
        self.collection = collection
        self.sent: list[str] = []

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent.extend(self.collection[i] for i in indexes)


def test_the_longest_files_are_handed_out_first_the_rest_in_xdists_order() -> None:
    from collections import OrderedDict

    from spreading import LONGEST_FIRST

    files = ["tests/test_many.py", LONGEST_FIRST[2], "tests/test_few.py", LONGEST_FIRST[0]]
    collection = [f"{path}::test_{i}" for path in files for i in range(2)]
    spreading = object.__new__(NotebookSpreading)
    worker = _Worker(collection)
    spreading.workqueue = OrderedDict(
        (path, {nodeid: False for nodeid in collection if nodeid.startswith(path)})
        for path in files  # xdist's order: most tests first
    )
    spreading.assigned_work = OrderedDict()  # xdist 3.5 calls setdefault(node, default=...)
    spreading.registered_collections = {worker: collection}
    for _ in files:
        spreading._assign_work_unit(worker)
    handed_out = list(dict.fromkeys(nodeid.split("::")[0] for nodeid in worker.sent))
    assert handed_out == [
        LONGEST_FIRST[0],
        LONGEST_FIRST[2],
        "tests/test_many.py",
        "tests/test_few.py",
    ]
    assert len(worker.sent) == len(collection)  # every test sent, once
