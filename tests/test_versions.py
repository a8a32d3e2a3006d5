"""Declared ranges are tested ranges.

Every direct dependency in pyproject.toml (the course's and the test extra's) has a floor
(``name>=version``); .ci/constraints-lowest.txt pins each one at exactly that floor, which the
CI matrix installs into a venv of its own and tests; and environment.yml (conda, Binder) asks
for the same ranges as pyproject.toml.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
DIRECT = [*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["test"]]


def _name(spec: str) -> str:
    return re.split(r"[\s<>=!~\[;]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _release(version: str) -> tuple[int, ...]:
    """1.26 and 1.26.0 are the same version."""
    parts = [int(p) for p in version.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def floors(specs: list[str]) -> dict[str, tuple[int, ...]]:
    result = {}
    for spec in specs:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9.]+)\s*", spec)
        assert match, f"{spec!r}: every direct dependency needs a plain floor, name>=version"
        result[_name(match[1])] = _release(match[2])
    return result


def test_the_lowest_constraints_pin_every_direct_dependency_at_its_floor() -> None:
    pins = {}
    for line in (REPO / ".ci" / "constraints-lowest.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{line!r}: the lowest-versions file pins with =="
            pins[_name(name)] = _release(version.strip())
    assert pins == floors(DIRECT)


def test_environment_yml_asks_for_the_same_ranges_as_pyproject() -> None:
    yaml = pytest.importorskip("yaml")
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    wanted = floors(PROJECT["dependencies"])
    offered = floors([d for d in conda if _name(d) in wanted])
    assert offered == wanted


def test_environment_yml_sets_the_blas_threads_run_py_sets() -> None:
    yaml = pytest.importorskip("yaml")
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    run_py = (REPO / "run.py").read_text()
    blas = ast.literal_eval(run_py.split("BLAS_THREADS = ", 1)[1].split("\n", 1)[0])
    assert env["variables"] == blas
