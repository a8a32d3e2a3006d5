"""Where course_lib is running: inside a Jupyter kernel (widgets can show) or a plain script."""

from __future__ import annotations

import sys

__all__ = ["in_notebook"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (ZMQ shell), where progress widgets can be displayed.

    Checked without importing IPython, so scripts and tests that never loaded it stay quiet.
    """
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"
