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
            "tests/test_learner_simulation.py::test_notebook_10_code_exercises_answered_right",
        )
    }
    assert len(units) == 3
    for path, ids in (
        ("notebooks/07_mnist_fan_out.ipynb", ("Cell 0", "Cell 6")),  # nbval: one kernel, in order
        ("tests/test_notebook_07.py", ("test_a", "test_b")),
        ("tests/browser/test_notebooks_in_browser.py", ("test_x[02]", "test_x[07]")),
    ):
        assert {spreading._split_scope(f"{path}::{i}") for i in ids} == {path}


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
