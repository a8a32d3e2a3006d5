"""How ``run.py test`` spreads the suite over pytest-xdist's workers.

run.py asks for ``--dist loadfile``: each test file goes to one worker, in order, so a notebook
that nbval runs cell by cell stays in one kernel, and a file's module fixtures (a notebook run
once for all its tests, the graded class, the browser's JupyterLab) are made once. One file is
the exception: the learner simulation plays every notebook, each in a kernel of its own and
with no shared fixture, and at about a fifth of the suite's time it was the last file still
running while the other worker sat idle. :class:`NotebookSpreading` gives each of its tests a
work unit of its own; every other file stays whole.

pytest-xdist's documented hook for this is ``pytest_xdist_make_scheduler``
(tests/conftest.py); its file scheduler decides the unit of a test in ``_split_scope``, which
this subclass overrides.
"""

from __future__ import annotations

from xdist.scheduler import LoadFileScheduling

__all__ = ["SPREAD_BY_TEST", "NotebookSpreading", "scheduler_for"]

SPREAD_BY_TEST = ("tests/test_learner_simulation.py",)  # files whose tests may go apart


class NotebookSpreading(LoadFileScheduling):
    """``--dist loadfile``, except that each test of a file in :data:`SPREAD_BY_TEST` is a work
    unit of its own."""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        return nodeid if path in SPREAD_BY_TEST else path


def scheduler_for(config: object, log: object) -> NotebookSpreading | None:
    """The scheduler for ``--dist loadfile`` (run.py's); None for any other ``--dist``, which
    keeps pytest-xdist's own."""
    if config.getvalue("dist") != "loadfile":
        return None
    return NotebookSpreading(config, log)
