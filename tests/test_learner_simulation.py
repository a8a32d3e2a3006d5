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


# ---- notebook 11: every code exercise answered right, then with each usual slip ---------------


def _formula_fragments(solution: str) -> list[str]:
    """The right-hand sides of a solution's assignments, without spaces or comments: the lines
    a first wrong attempt's feedback must never show."""
    fragments = []
    for line in solution.splitlines()[2:]:
        code = re.sub(r"\s+", "", line.split("#")[0])
        if re.match(r"^[\w\[\]\"{}(), -]+=[^=]", code) and not code.startswith(
            ("N=", "H=", "rows=", "L=", "grads={}")
        ):
            fragments.append(code.split("=", 1)[1])
    return fragments


def _feedback(run: NotebookRun, check: str) -> str:
    """What the notebook's check cell (its source exactly ``check``) shows when run now."""
    [cell] = [c for _, c in run.code_cells if c.source.strip() == check]
    text = output_text(run.exec(cell.source), kinds=("stdout", "text/plain"))
    return re.sub(r"of your function: `[^`]*`", "", text)  # the learner's own line may show


def test_the_capstone_takes_each_solution_and_names_each_slip_on_a_first_attempt() -> None:
    """Notebook 11 in one kernel: each code exercise gets its Solution (the check says RIGHT),
    then each listed slip of it as a first attempt (the tiers forgotten before each): the
    feedback names the slip, shows no rule and no line of the solution."""
    from capstone_slips import DEEP_SLIPS, SLIPS, SOLUTIONS

    from course_lib.teaching.capstone_cases import STAGES

    submissions = [
        (stage.function, f'check_stage("{stage.name}", {stage.function})', slips)
        for stage in STAGES
        for slips in [[(old, new, says) for s, _, old, new, says in SLIPS if s == stage.name]]
    ]
    submissions.append(
        (
            "my_deep_backward",
            "from course_lib.teaching.depth_exercise import check_deep_backward\n\n"
            "check_deep_backward(my_deep_backward)",
            DEEP_SLIPS,
        )
    )
    with NotebookRun("11_capstone.ipynb") as run:
        run.run_all()
        run.exec(
            "from course_lib.teaching.intermediates import forget_capstone_attempts\n"
            "from course_lib.teaching.code_exercise import forget_attempts"
        )
        submitted = 0
        for function, check, slips in submissions:
            solution = SOLUTIONS[function]
            assert run.solution(function) == solution, function
            run.exec(solution)
            right = _feedback(run, check)
            assert ": RIGHT." in right, right
            for old, new, says in slips:
                run.exec("forget_capstone_attempts(); forget_attempts()")
                run.exec(solution.replace(old, new, 1))
                shown = _feedback(run, check)
                assert says in shown, (function, new, shown)
                assert ": RIGHT." not in shown and "The rule:" not in shown, shown
                flat = re.sub(r"\s+", "", shown)
                for fragment in _formula_fragments(solution):
                    assert fragment not in flat, (function, new, fragment, shown)
                submitted += 1
        assert submitted == len(SLIPS) + len(DEEP_SLIPS)


# ---- notebook 10: the code exercises, answered right and with every listed slip ----------------

NOTEBOOK_10_EXERCISES = {  # exercise -> (what its cell defines, its Solution's function, check)
    "ops": ("class MyValue", "__add__", "ops_report = check_ops("),
    "order": ("def my_topological_order(", "my_topological_order", "order_report = check_"),
    "engine": ("def my_backward(", "my_backward", "engine_report = check_engine("),
    "network": ("class MyNeuron", "__call__", "network_report = check_network("),
    "step": ("def my_training_step(", "my_training_step", "step_report = check_training_step("),
}


def _statements(code: str) -> list[str]:
    """The statements of a solution a first feedback must not show (not the signatures)."""
    lines = (line.split("#")[0].strip() for line in code.splitlines())
    return [s for s in lines if len(s) >= 12 and not s.startswith(("def ", "class ", '"""'))]


def _again(code: str) -> str:
    """The same slip in code that is not the same (every line one further down, so each
    function's code object differs): a learner's second, different wrong attempt."""
    return "# the same slip, tried again\n" + code


def test_notebook_10_code_exercises_answered_right_and_with_each_slip() -> None:
    """One kernel, notebook 10 run as saved, then each code exercise in turn as a learner meets
    it: every listed slip submitted as a first attempt (the feedback names it, shows no rule and
    no line of the Solution the learner did not write); the same slip again in other code (now
    with the rule); then the Solution (RIGHT), after which the cells below run on it."""
    from learner_engines import SLIPS, SOLUTIONS, fill, slipped

    forget = "from course_lib.teaching.code_exercise import forget_attempts; forget_attempts()"
    with NotebookRun("10_build_your_engine.ipynb") as run:
        run.run_all()
        for name, (defines, function, check_cell) in NOTEBOOK_10_EXERCISES.items():
            solution = fill(run.cell(defines).source, run.solution(function))
            assert solution.rstrip() == SOLUTIONS[name].rstrip(), name
            check = run.cell(check_cell).source
            for slip, old, new, words in SLIPS[name]:
                run.exec(forget)
                submitted = slipped(name, old, new)
                run.exec(submitted)
                said = " ".join(output_text(run.exec(check)).split())
                assert words.lower() in said.lower(), (name, slip, said)
                assert "RIGHT" not in said and "The rule" not in said, (name, slip, said)
                for statement in _statements(solution):
                    if statement not in submitted:  # the learner's own line may be quoted
                        assert statement not in said, (name, slip, statement)
            # The same slip again, in different code: the rule comes with it.
            run.exec(forget)
            first = slipped(name, *SLIPS[name][0][1:3])
            run.exec(first)
            run.exec(check)
            run.exec(_again(first))
            said = " ".join(output_text(run.exec(check)).split())
            assert "The rule" in said and SLIPS[name][0][3].lower() in said.lower(), (name, said)
            # The Solution: right, and the rest of the notebook runs on it.
            run.exec(solution)
            assert ": RIGHT." in output_text(run.exec(check)), name
            after = next(i for i, c in run.code_cells if check_cell in c.source)
            for index, _ in run.code_cells:
                if index > after:
                    run.run_cell(index)
        assert run.eval("Engine is MyValue and make_mlp is MyMLP and step is my_training_step")
        assert run.eval("train_right") == 58
