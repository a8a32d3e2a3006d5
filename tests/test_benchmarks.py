"""The benchmarks (benchmarks/*.py) still name what the library has.

A benchmark is a script nobody runs in the suite (each takes seconds to minutes, some need MNIST
or a browser), so a library change can break one silently: bench_tensor.py kept importing
``sgd_step_in_place`` for days after that twin of ``sgd_step`` was removed. Every name a
benchmark imports from ``course_lib``, at its top or inside a function, must exist there.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCHMARKS = sorted((Path(__file__).resolve().parents[1] / "benchmarks").glob("*.py"))


def _course_lib_imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for each ``from course_lib... import name`` anywhere in the file, and
    (module, "") for each ``import course_lib...``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_lib"):
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, "") for a in node.names if a.name.startswith("course_lib")]
    return found


def test_there_are_benchmarks_that_use_the_library() -> None:
    assert sum(bool(_course_lib_imports(path)) for path in BENCHMARKS) >= 5


@pytest.mark.parametrize("path", BENCHMARKS, ids=[p.stem for p in BENCHMARKS])
def test_every_name_a_benchmark_imports_from_course_lib_exists(path: Path) -> None:
    for module, name in _course_lib_imports(path):
        imported = importlib.import_module(module)
        if name:
            assert hasattr(imported, name) or _is_module(f"{module}.{name}"), (
                f"{path.name} imports {name} from {module}, which has no such name"
            )


def _is_module(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True
