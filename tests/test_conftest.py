"""tests/conftest.py: pytest started directly runs on one BLAS thread, as run.py's processes do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
SHOW = (
    "import os, sys; sys.path.insert(0, {tests!r}); import conftest; "
    "print(*(os.environ[v] for v in {variables!r}), 'numpy' in sys.modules)"
)


def _loaded_with(env: dict[str, str]) -> list[str]:
    code = SHOW.format(tests=str(TESTS), variables=VARIABLES)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_loading_the_conftest_sets_one_blas_thread_before_numpy_is_imported() -> None:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    assert _loaded_with(env) == ["1", "1", "1", "False"]


def test_a_thread_count_the_user_set_is_kept() -> None:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env["OPENBLAS_NUM_THREADS"] = "2"
    assert _loaded_with(env) == ["2", "1", "1", "False"]
