"""How ``run.py test`` spreads the suite over pytest-xdist's workers.

run.py asks for ``--dist loadfile``: each test file goes to one worker, in order, so a notebook
that nbval runs cell by cell stays in one kernel, and a file's module fixtures (a notebook run
once for all its tests, the graded class, the browser's JupyterLab) are made once. One file is
the exception: the learner simulation plays every notebook, each in a kernel of its own and
with no shared fixture, and at about a fifth of the suite's time it was the last file still
running while the other worker sat idle. :class:`NotebookSpreading` gives each of its tests a
work unit of its own. A notebook's own test file, ``tests/test_notebook_NN.py``, goes with
nbval's cells of notebook NN as one unit, so that its tests can take over the kernel nbval ran
the notebook in (:mod:`shared_kernels`). Every other file stays whole.

pytest-xdist hands out the files with the most tests first. Four files have few tests but each
takes far longer than its count says: the browser tests (13 notebooks in JupyterLab, about 105 s
on one worker), the graded class (about 80 s), notebook 10 with its tests (about 40 s) and the
projection tests (about 30 s) (``python3 run.py test --durations=0``, 2026-12-06, second
measure). They now go out before every other file, the longest first (:data:`LONGEST_FIRST`),
and the short files fill in around them. On 2 cores that changed nothing measurable when it
came (300 s against 304 s: both workers stay busy to the end either way); with 4 workers the
browser tests, handed out late, would run alone for minutes: replaying the per-file times of
then, the test time fell from about 186 s to 147 s there (the browser file alone took 147 s).

pytest-xdist's documented hook for this is ``pytest_xdist_make_scheduler``
(tests/conftest.py); its file scheduler decides the unit of a test in ``_split_scope`` and
hands out the front of its queue of units in ``_assign_work_unit``, which this subclass
overrides.
"""

from __future__ import annotations

from shared_kernels import notebook_of_test_file
from xdist.scheduler import LoadFileScheduling

__all__ = ["LONGEST_FIRST", "SPREAD_BY_TEST", "NotebookSpreading", "scheduler_for"]

SPREAD_BY_TEST = ("tests/test_learner_simulation.py",)  # files whose tests may go apart
LONGEST_FIRST = (  # files handed out before all others, in this order (longest first)
    "tests/browser/test_notebooks_in_browser.py",
    "tests/test_nbgrader_course.py",
    "notebooks/10_build_your_engine.ipynb",  # with tests/test_notebook_10.py
    "tests/browser/test_projection.py",
)


class NotebookSpreading(LoadFileScheduling):
    """``--dist loadfile``, except that each test of a file in :data:`SPREAD_BY_TEST` is a work
    unit of its own, ``tests/test_notebook_NN.py`` is one unit with nbval's cells of notebook
    NN (:mod:`shared_kernels`), and the files of :data:`LONGEST_FIRST` are handed out before
    the others."""

    def _assign_work_unit(self, node: object) -> None:
        # xdist gives a worker the unit at the front of its queue: put the long files there
        for scope in reversed(LONGEST_FIRST):
            if scope in self.workqueue:
                self.workqueue.move_to_end(scope, last=False)
        super()._assign_work_unit(node)

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        if path in SPREAD_BY_TEST:
            return nodeid
        # a notebook's tests go with nbval's cells of it: one worker, one kernel for both
        return notebook_of_test_file(path) or path


def scheduler_for(config: object, log: object) -> NotebookSpreading | None:
    """The scheduler for ``--dist loadfile`` (run.py's); None for any other ``--dist``, which
    keeps pytest-xdist's own."""
    if config.getvalue("dist") != "loadfile":
        return None
    return NotebookSpreading(config, log)
