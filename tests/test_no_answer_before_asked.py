"""Nothing on a saved page shows a hand exercise's answer before the exercise asks for it.

For every notebook as saved (what a learner sees on opening it), every exercise cell calling
``check("key", answer)`` is compared with everything above it: the prose, the code, and the
saved outputs (text, HTML and the drawings' SVG, whose text a learner reads too). None may
contain the exercise's answer. Only answers that cannot turn up by chance are searched for:
numbers with a fractional part, written with at least three significant digits (an input such
as z = -4 may equal an answer by coincidence; 0.5966 does not).
"""

from __future__ import annotations

import json
import re

import pytest
from notebook_harness import NOTEBOOKS
from test_learner_simulation import CHECK_CALL

from course_lib.teaching.answers import exercise
from course_lib.teaching.hand_exercise import AxesExercise

NOTEBOOK_PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))


def shown_text(cell: dict) -> str:
    parts = ["".join(cell["source"])]
    for out in cell.get("outputs", []):
        if "text" in out:
            parts.append("".join(out["text"]))
        for kind in ("text/plain", "text/html", "image/svg+xml"):
            if kind in out.get("data", {}):
                data = out["data"][kind]
                parts.append(data if isinstance(data, str) else "".join(data))
    return "\n".join(parts)


def spellings(value: float) -> list[str]:
    """How a page would write ``value`` to 3 or 4 significant digits (with its sign)."""
    forms = {f"{value:.4g}", f"{value:.3g}", f"{value:.3f}", f"{value:.4f}"}
    return sorted(f for f in forms if len(f.lstrip("-").replace(".", "").lstrip("0")) >= 3)


def distinctive(value: float) -> bool:
    return value != round(value) and len(f"{abs(value):.4g}".replace(".", "").lstrip("0")) >= 3


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name)
def test_no_answer_is_on_the_page_above_its_exercise(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    above = ""
    for index, cell in enumerate(cells):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code":
            for key, _ in CHECK_CALL.findall(source):
                task = exercise(key)
                if isinstance(task, AxesExercise):
                    continue
                for value in task.expected_values():
                    if not distinctive(value):
                        continue
                    for form in spellings(value):
                        hit = re.search(rf"(?<![\w.]){re.escape(form)}(?![\d])", above)
                        if hit is not None:
                            context = above[max(0, hit.start() - 80) : hit.end() + 40]
                            pytest.fail(
                                f"{path.name} cell {index} asks for {key}, but the page above "
                                f"it already shows {form}: …{context}…"
                            )
        above += "\n" + shown_text(cell)


def _mantissa_digits(form: str) -> int:
    """Significant digits a written number shows: 3 for 0.227 and 1.16e-06, 1 for 1e-06."""
    mantissa = form.lstrip("-").split("e")[0]
    return len(mantissa.replace(".", "").lstrip("0"))


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name)
def test_no_saved_output_anywhere_shows_an_exercise_answer(path):
    """A saved page is read whole, so an output below an exercise shows its answer as well as
    one above it: cells that print an answer are saved empty (tagged nbval-ignore-output) and
    show it when the learner runs them."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    outputs = {
        index: shown_text({"source": [], "outputs": cell.get("outputs", [])})
        for index, cell in enumerate(cells)
        if cell["cell_type"] == "code"
    }
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for key, _ in CHECK_CALL.findall("".join(cell["source"])):
            task = exercise(key)
            if isinstance(task, AxesExercise):
                continue
            for value in filter(distinctive, task.expected_values()):
                for form in (f for f in spellings(value) if _mantissa_digits(f) >= 3):
                    for index, text in outputs.items():
                        hit = re.search(rf"(?<![\w.]){re.escape(form)}(?![\d])", text)
                        assert hit is None, (
                            f"{path.name}: the saved output of cell {index} shows {form}, the "
                            f"answer to {key}: …{text[max(0, hit.start() - 80) : hit.end() + 40]}…"
                        )


def code_cells(path) -> list[str]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name[:2])
def test_no_cell_is_a_test_or_shows_an_answer_key(path) -> None:
    """A learner's page holds no assert cell, no test scaffolding and no answer read-out."""
    import ast

    for source in code_cells(path):
        body = ast.parse(source).body
        assert not body or not all(isinstance(s, ast.Assert) for s in body), source
        assert "assert" not in source and ".answer(" not in source, source
        assert "NBVAL" not in source and ".correct" not in source, source
        # a quiz's right option and its explanations stay in the library (notebook_quizzes)
        assert "Question(" not in source and "correct=" not in source, source


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name[:2])
def test_every_check_is_keyed_and_holds_only_the_learners_answer(path) -> None:
    """``check("module.name", answer)``: a key of the answer key and the learner's variable,
    never a literal or an engine read-out such as ``b.grad[0]``."""
    import ast

    from course_lib.teaching.answers import all_keys

    keys = set(all_keys())
    for source in code_cells(path):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check":
                key, answer = node.args
                assert isinstance(key, ast.Constant) and key.value in keys, ast.dump(node)
                assert isinstance(answer, ast.Name) and not node.keywords, ast.dump(node)


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.name[:2])
def test_every_import_is_used_on_the_page(path) -> None:
    """The imports a learner reads at the top are the names the notebook uses: nothing is
    imported for a test or left over from an earlier version of the page."""
    import ast

    cells = code_cells(path)
    first = ast.parse(cells[0])
    names = {
        alias.asname or alias.name.split(".")[0]
        for node in first.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    kept = [s for s in first.body if not isinstance(s, ast.Import | ast.ImportFrom)]
    rest = "\n".join([ast.unparse(ast.Module(kept, [])), *cells[1:]])
    for name in sorted(names):
        assert re.search(rf"\b{name}\b", rest), f"{path.name}: {name} is imported but not used"
    # the quiz's check takes the expected value from the caller: hand checks are keyed instead
    assert "course_lib.teaching.quiz import check" not in cells[0]
