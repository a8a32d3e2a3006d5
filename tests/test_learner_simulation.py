"""A restless learner, simulated: every notebook survives being played with.

The notebooks tell learners to move every slider, type wrong answers and run cells again. This
test does all of that in a real kernel (nbclient, see ``notebook_harness``), one kernel per
notebook, cell by cell in order:

* **twice** — run the cell twice in a row: the second run must not raise, and must show the
  same output as the first (cells tagged ``nbval-ignore-output``, the timing cells, are exempt
  from the comparison only);
* **slips** — if the cell is a hand exercise (it calls ``check("key", answer)`` with
  ``answer = ...`` or ``answer = [..., ...]``), answer it with the usual slips: the answer
  negated, doubled, halved and zero (for axes: every axis and none). Each must get feedback
  that names something to look at, never a bare "is not right.", and never the answer itself;
* **code slips** — after the check cell of a code exercise (``check_exercise("name", fn)``
  below a cell tagged ``exercise``), define ``fn`` as the notebook's own Solution: the check
  must say RIGHT; then as each mistake the exercise bank lists (up to a dozen, each sentence
  once; ``tests/exercise_slips.py`` plants each in the Solution): the check cell must name it
  by its sentence, with no rule and no line of the Solution, and the same slip written another
  way must add the rule. Then define ``fn`` to raise, to return None and to stay unwritten, and
  for each run every cell below that ``fn`` can reach (Run All Below, less the cells that read
  nothing ``fn`` touched: ``NotebookRun.cells_reached``; the main pass runs those anyway):
  nothing may stop. The exercise cell and its check run again afterwards, as the learner left
  them;
* **play** — move every widget control the cell created a few times, to random values a
  learner could give it: each slider to a random allowed value, each drop-down / radio /
  toggle to a random option, each checkbox flipped, each text box given numbers *and* garbage
  (``""``, ``abc``, ``1e400``, ``nan``, ``1/2``, ``0,5``, ...) followed by Enter, each button
  (Step, Back, Reset, Check, Hint, ...) clicked. Any exception, raised by a cell or by a
  widget's observer or click handler, fails the test; so does a cell that fails later because
  an earlier control was moved (a cell that reads a widget's state must set it first, or
  build its own object).

The random values come from a seed per notebook (``TGF_SIM_SEED`` changes it), so a failure is
reproducible.
"""

from __future__ import annotations

import os
import re
import zlib
from pathlib import Path

import numpy as np
import pytest
from exercise_slips import normal, solution_fragments
from notebook_harness import NOTEBOOKS, NotebookError, NotebookRun, output_text
from test_answers import states

from course_lib.teaching.answers import exercise
from course_lib.teaching.exercise_bank import EXERCISES
from course_lib.teaching.hand_exercise import AxesExercise

NOTEBOOK_NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
MOVES_PER_CONTROL = 3

# Runs inside the kernel: defines __tgf_play(seed), which moves every control created since its
# previous call. Exceptions propagate (click and Enter handlers are called directly, not through
# ipywidgets' dispatcher, which would only print them), wrapped in a message naming the control.
KERNEL_PLAYER = r"""
def __tgf_make_player():
    import math
    import random

    from ipywidgets.widgets.widget import _instances

    seen = set(_instances)
    texts = ["", "abc", "1e400", "-1e400", "nan", "inf", "1/2", "0,5", "  -3 ", "2.5", "0",
             "1e-400", "12345678901234567890", "-0.25"]
    sliders = {"IntSliderModel", "FloatSliderModel", "FloatLogSliderModel",
               "IntRangeSliderModel", "FloatRangeSliderModel"}
    choosers = {"DropdownModel", "RadioButtonsModel", "ToggleButtonsModel", "SelectModel",
                "SelectionSliderModel"}
    flags = {"CheckboxModel", "ToggleButtonModel"}
    numbers = {"IntTextModel", "BoundedIntTextModel", "FloatTextModel", "BoundedFloatTextModel"}
    typed = {"TextModel", "TextareaModel", "ComboboxModel"}

    def allowed(w, rng):
        lo, hi, step = w.min, w.max, getattr(w, "step", None) or 0
        if w._model_name == "FloatLogSliderModel":
            return w.base ** rng.uniform(lo, hi)
        if isinstance(lo, int) and isinstance(hi, int):
            return rng.randint(lo, hi)
        value = rng.uniform(lo, hi)
        if step:
            value = min(hi, lo + round((value - lo) / step) * step)
        return value

    def move(w, rng):
        kind = w._model_name
        if kind in sliders:
            if kind.endswith("RangeSliderModel"):
                return "value", tuple(sorted((allowed(w, rng), allowed(w, rng))))
            return "value", allowed(w, rng)
        if kind in choosers:
            if not w.options:
                return None
            return "index", rng.randrange(len(w.options))
        if kind in flags:
            return "value", not w.value
        if kind in numbers:
            if kind.startswith("Bounded"):
                return "value", allowed(w, rng)
            return "value", rng.choice([0, 1, -3, 7, 2.5, -0.5])
        if kind == "PlayModel":
            return "value", rng.randint(w.min, w.max)
        if kind in typed:
            return "typed", rng.choice(texts)
        if kind == "ButtonModel":
            return "click", None
        return None

    def name(w):
        label = getattr(w, "description", "") or getattr(w, "tooltip", "") or ""
        return f"{type(w).__name__}({label!r})"

    def play(seed):
        rng = random.Random(seed)
        new = [w for key, w in list(_instances.items()) if key not in seen]
        seen.update(_instances)
        moved = 0
        for _ in range(MOVES):
            for w in new:
                if getattr(w, "disabled", False) or w.comm is None:
                    continue
                what = move(w, rng)
                if what is None:
                    continue
                trait, value = what
                try:
                    if trait == "click":
                        for callback in list(w._click_handlers.callbacks):
                            callback(w)
                    elif trait == "typed":
                        w.value = value
                        for callback in list(w._submission_callbacks.callbacks):
                            callback(w)
                    else:
                        setattr(w, trait, value)
                except Exception as error:
                    raise RuntimeError(
                        f"a learner's move broke a widget: {name(w)} {trait} -> {value!r} "
                        f"raised {type(error).__name__}: {error}"
                    ) from error
                moved += 1
        seen.update(_instances)
        return moved

    return play


__tgf_play = __tgf_make_player()
del __tgf_make_player
""".replace("MOVES", str(MOVES_PER_CONTROL))

IGNORE_TAG = "nbval-ignore-output"
# Outputs that may differ between two runs of the same cell without anything being wrong.
VOLATILE = [
    (re.compile(r"0x[0-9a-fA-F]{6,16}"), "0xADDRESS"),
    (re.compile(r"model_id='?[0-9a-f]{32}'?"), "model_id"),
]


def _seed(name: str) -> int:
    return zlib.crc32(name.encode()) + int(os.environ.get("TGF_SIM_SEED", "0"))


def _comparable(cell) -> str:
    text = output_text(cell, kinds=("stdout", "text/plain", "text/html", "image/svg+xml"))
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text


CHECK_CALL = re.compile(r"""(?<![.\w])check\(\s*["']([\w.]+)["']\s*,\s*(\w+)\s*\)""")


def slips_of(key: str) -> list[str]:
    """Python literals of the usual slips for exercise ``key``."""
    task = exercise(key)
    if isinstance(task, AxesExercise):
        return [repr(tuple(range(task.ndim))), "()"]
    e = np.asarray(task.expected, dtype=float)
    return [repr(v.tolist()) for v in (-e, 2 * e, e / 2, np.zeros_like(e))]


def answer_slips(run: NotebookRun, name: str, index: int, source: str) -> int:
    """Run the exercise cell with each usual slip in place of its ``...``; check the feedback."""
    tried = 0
    for key, variable in CHECK_CALL.findall(source):
        placeholder = re.search(rf"(?m)^{variable} = (\.\.\.|\[[., ]*\])", source)
        if placeholder is None:
            continue
        task = exercise(key)
        for slip in slips_of(key):
            if task.judge(eval(slip)).correct:  # e.g. zero negated is zero
                continue
            changed = source.replace(placeholder.group(0), f"{variable} = {slip}", 1)
            cell = run.exec(changed)
            shown = [output_text({"outputs": [out]}) for out in cell["outputs"]]
            verdicts = [
                line
                for text in shown
                for line in text.splitlines()
                if line.startswith(task.name + " =")
            ]
            assert verdicts, f"{name} cell {index}: no feedback for {key} = {slip}:\n{shown}"
            for line in verdicts:
                if " is not right." not in line:
                    continue
                after = line.split(" is not right.", 1)[1].strip()
                assert after, f"{name} cell {index}: a bare 'not right' for {key} = {slip}"
                if not isinstance(task, AxesExercise):
                    for value in task.expected_values():
                        assert not states(after, value), (name, key, slip, line)
            tried += 1
    return tried


CODE_CHECK = re.compile(r"""check_exercise\(\s*["'](\w+)["']\s*,\s*(\w+)\s*\)""")
SLIPS_PER_EXERCISE = 12
# What a learner leaves in the exercise cell when it is not right yet: each must let every cell
# below it run (the check says what is wrong, later cells wait for a right answer).
BROKEN = {
    "raises": "    raise ValueError('not sure yet')\n",
    "returns None": "    _ = args\n",
    "unwritten": "    ...\n",
}


def _flat(text: str) -> str:
    return " ".join(text.split())


def code_slips(run: NotebookRun, name: str, index: int, source: str, done: set[str]) -> int:
    """If cell ``index`` is the first check of a code exercise, submit the Solution, each listed
    mistake (twice: the tiers) and the broken versions; see the module's docstring."""
    found = CODE_CHECK.search(source)
    if found is None or found.group(1) in done:
        return 0
    key, function = found.groups()
    done.add(key)
    exercise = max(
        i
        for i, cell in run.code_cells
        if i < index
        and "exercise" in cell.metadata.get("tags", [])
        and f"def {function}(" in cell.source
    )
    solution = run.solution(function)
    fragments = solution_fragments(solution, given=run.nb.cells[exercise].source)
    tests = Path(__file__).resolve().parent
    run.exec(
        f"import sys\nsys.path.insert(0, {str(tests)!r})\n"
        "from exercise_slips import submissions as __tgf_submissions\n"
        "from course_lib.teaching.code_exercise import forget_attempts as __tgf_forget\n"
        + solution.replace(f"def {function}(", "def __tgf_solution(", 1)
        + f"\n__tgf_slips = list(__tgf_submissions({key!r}, __tgf_solution, 0, "
        f"limit={SLIPS_PER_EXERCISE}))\n__tgf_forget({key!r})"
    )

    def check_with(value: str) -> str:
        run.exec(f"{function} = {value}")
        return output_text(run.run_cell(index))

    tried = 0
    try:
        shown = check_with("__tgf_solution")
        assert f"{key}: RIGHT" in shown, f"{name}: the Solution of {function} fails:\n{shown}"
        slips = run.eval("[(s.says, s.case) for s in __tgf_slips]")
        assert slips, f"{name}: the bank lists no mistake for {key}"
        for k, (says, case) in enumerate(slips):
            run.exec(f"__tgf_forget({key!r})")
            if EXERCISES[key].handed_out:  # as after Run All: the code as handed out checked
                run.run_cell(exercise)  # once (no attempt), so the learner's own code giving
                run.run_cell(index)  # the planted numbers is an attempt
            first = check_with(f"__tgf_slips[{k}].fn")
            where = f"{name} cell {index}, {key}, a slip on {case}: {says}"
            assert _flat(says) in _flat(first), f"{where}\nnot named:\n{first}"
            assert "The rule:" not in first, f"{where}\na rule on a first attempt:\n{first}"
            shown = normal(re.sub(r"of your function: `[^`]*`", "", first))
            for fragment in fragments:
                assert fragment not in shown, f"{where}\nshows {fragment}:\n{first}"
            again = check_with(f"__tgf_slips[{k}].again")
            assert "The rule:" in again, f"{where}\nno rule the second time:\n{again}"
            tried += 1
        # the cells below that fn can reach; the others run as they did (and run in the main pass)
        below = [i for i in run.cells_reached(exercise) if i > index]
        for what, body in BROKEN.items():
            run.exec(f"def {function}(*args, **kwargs):\n{body}")
            try:
                shown = output_text(run.run_cell(index))
                for later in below:
                    run.run_cell(later)
            except NotebookError as error:
                raise NotebookError(
                    f"{name}: with a {function} that {what}, a cell stopped:\n{error}"
                ) from None
            assert "RIGHT" not in shown, (what, shown)
    finally:
        run.exec(f"__tgf_forget({key!r})")
        run.run_cell(exercise)  # as the learner left it
        run.run_cell(index)
    return tried


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_a_restless_learner(name: str) -> None:
    """One kernel per notebook: every cell runs twice (the same output both times), its hand
    exercises are answered with the usual slips, and every control it made is moved."""
    moved = slipped = coded = 0
    checked: set[str] = set()
    with NotebookRun(name) as run:
        run.exec(KERNEL_PLAYER)
        for index, cell in run.code_cells:
            first = _comparable(run.run_cell(index))
            second = _comparable(run.run_cell(index))
            if IGNORE_TAG not in cell.metadata.get("tags", []):
                assert second == first, (
                    f"{name} cell {index} shows something else when run a second time:\n"
                    f"{cell.source}\n--- first run ---\n{first}\n--- second run ---\n{second}"
                )
            slipped += answer_slips(run, name, index, cell.source)
            coded += code_slips(run, name, index, cell.source, checked)
            try:
                shown = run.exec(f"print(__tgf_play({_seed(name) + index}))")
            except NotebookError as error:
                raise NotebookError(
                    f"after {name} cell {index} ran, moving its controls failed:\n{error}"
                ) from None
            moved += int(output_text(shown, kinds=("stdout",)).split()[-1])
    assert moved > 0, f"the simulation moved no control at all in {name}"
    has_checks = any(CHECK_CALL.search(cell.source) for _, cell in run.code_cells)
    assert slipped > 0 or not has_checks, f"no hand exercise of {name} was answered with a slip"
    exercises = {k for _, c in run.code_cells for k, _ in CODE_CHECK.findall(c.source)}
    assert checked == exercises, f"code exercises of {name} never submitted: {exercises - checked}"
    assert coded >= 3 * len(exercises), (name, coded)
