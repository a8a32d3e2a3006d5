"""Compare a learner's gradients of a forward pass's named intermediates with the engine's, one
row each: the capstone's compare tool (notebook 11), after Karpathy's "backprop ninja".

The learner has only the forward code of :func:`course_lib.network.capstone.forward` and
writes the backward pass in five stages (:data:`course_lib.teaching.capstone_cases.STAGES`).
Two calls check it:

* :func:`check_stage` checks one stage on several random networks, with the engine's gradients
  of the stages before it, so a slip shows where it was made. Each intermediate gets a row:
  **exact** (bit for bit), **close** (within float64 rounding), **wrong** (with the slip named
  where it is a known one: a shape, a transpose, a sum where a mean belongs, a missing 1/N, a
  sign, ε or ``ddof=1`` in layer norm, the activation's slope written with the wrong value ...)
  or **not written yet** (still ``...``: a stage can be written and checked a line at a time);
* :func:`compare_all` runs the five stages one after another on a batch, each on the
  gradients the learner's own earlier stages produced, as training will, and compares all
  twenty intermediates with the engine's.

Every status is a word and a mark (✔ ≈ ✘ …), never a colour alone, in the text and in the HTML
table. Feedback comes in tiers, per intermediate: the first miss names the slip and where to
look; from an intermediate's second miss (in two different versions of the function) on, its
rule is shown too, in symbols; the code stays behind the notebook's Solution block. A function
that raises, returns None or is still a placeholder gets a sentence, never a traceback.
"""

from __future__ import annotations

import dataclasses
import html
import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from course_lib.network.capstone import PARAMETERS, engine_gradients, forward
from course_lib.numbers.checking import whole_number
from course_lib.teaching.capstone_cases import (
    STAGES,
    Stage,
    fresh_copy,
    stage_by_name,
    stage_exercise,
)
from course_lib.teaching.code_exercise import (
    Case,
    Exercise,
    ExerciseReport,
    built_from,
    forget_attempts,
    run_exercise,
    sources_of,
    wrong_attempts,
)

__all__ = [
    "IntermediatesReport",
    "Row",
    "check_stage",
    "compare_all",
    "forget_capstone_attempts",
    "learner_gradients",
]

MARKS = {
    "exact": "✔ exact",
    "close": "≈ close",
    "wrong": "✘ wrong",
    "missing": "✘ missing",
    "not written yet": "… not written yet",
    "not run": "· not run",
}
NOT_WRITTEN = "still `...`"  # what the checker says of an output that is still `...`

# (stage, intermediate) -> how many different wrong values of it the learner's versions gave
_misses: dict[tuple[str, str], int] = {}
_last_wrong: dict[tuple[str, str], float] = {}  # the largest difference of its last wrong value

# The gradient each stage starts from (the last stage's output it reads most).
STAGE_INPUT = {"second_layer": "dz", "tanh": "dh", "layer_norm": "da_hat", "first_layer": "da"}


@dataclass(frozen=True)
class Row:
    """One intermediate's gradient against the engine's."""

    name: str
    status: str  # exact, close, wrong, missing, not written yet, not run
    max_difference: float = math.nan
    note: str = ""
    stage: str = ""

    @property
    def right(self) -> bool:
        return self.status in ("exact", "close")


@dataclass(frozen=True)
class IntermediatesReport:
    """What :func:`check_stage` or :func:`compare_all` found: a verdict, a sentence and a row
    per intermediate. ``verdict`` is "right", "right so far" (every written line right, some
    still ``...``), "not written yet", "wrong" or "error"."""

    title: str
    verdict: str
    message: str
    rows: tuple[Row, ...] = ()
    case: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict == "right"

    def __bool__(self) -> bool:
        return self.ok

    def status(self, name: str) -> str:
        """The status of the intermediate ``name`` (e.g. "dz"); "" if it has no row."""
        return next((r.status for r in self.rows if r.name == name), "")

    def __str__(self) -> str:
        lines = [f"{self.title}: {self.verdict.upper()}. {self.message}".rstrip()]
        if self.case:
            lines.append(f"case: {self.case}")
        if self.rows:
            width = max(12, *(len(r.name) for r in self.rows)) + 2
            lines.append(f"{'gradient':<{width}}{'status':<20}{'max |difference|':>16}")
            stage = None
            for row in self.rows:
                if row.stage and row.stage != stage:
                    stage = row.stage
                    lines.append(f"-- {stage}")
                diff = "" if math.isnan(row.max_difference) else f"{row.max_difference:.1e}"
                lines.append(f"{row.name:<{width}}{MARKS[row.status]:<20}{diff:>16}")
                if row.note:
                    lines.append(textwrap.indent(textwrap.fill(row.note, 88), "    "))
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        mark = {"right": "✔", "right so far": "✔", "not written yet": "…"}.get(self.verdict, "✘")
        parts = [
            f"<div><b>{mark} {html.escape(self.title)}: {html.escape(self.verdict)}</b> "
            f"{html.escape(self.message)}</div>"
        ]
        if self.case:
            parts.append(f"<div>case: {html.escape(self.case)}</div>")
        if self.rows:
            body = []
            stage = None
            for row in self.rows:
                if row.stage and row.stage != stage:
                    stage = row.stage
                    body.append(f'<tr><th colspan="4">{html.escape(stage)}</th></tr>')
                diff = "" if math.isnan(row.max_difference) else f"{row.max_difference:.1e}"
                body.append(
                    f"<tr><td><code>{html.escape(row.name)}</code></td>"
                    f"<td>{html.escape(MARKS[row.status])}</td><td>{diff}</td>"
                    f"<td>{html.escape(row.note)}</td></tr>"
                )
            parts.append(
                "<table><thead><tr><th>gradient</th><th>status</th><th>max |difference|</th>"
                f"<th>what to look at</th></tr></thead><tbody>{''.join(body)}</tbody></table>"
            )
        return "".join(parts)


# ---- one stage ------------------------------------------------------------------------------


def check_stage(stage: str, fn: Callable[..., Any], seed: int = 0) -> IntermediatesReport:
    """Check the learner's ``fn(f, g)`` for the capstone stage ``stage`` ("loss",
    "second_layer", "tanh", "layer_norm" or "first_layer") against the engine; never raises
    for ``fn``."""
    if not isinstance(stage, str):
        raise TypeError(f"check_stage needs a stage name such as 'loss', got {stage!r}")
    seed = whole_number(seed, "seed (it picks the cases)", "check_stage", minimum=0)
    spec = stage_by_name(stage)
    exercise = stage_exercise(spec)
    before = wrong_attempts(exercise.name)
    report = run_exercise(exercise, fn, seed)
    title = f"{report.function or spec.function} (stage {_number(spec)} · {spec.title})"
    unwritten = [r.output for r in report.rows if NOT_WRITTEN in r.diagnosis]
    if report.verdict == "wrong" and unwritten:
        if len(unwritten) == len(spec.outputs):
            return IntermediatesReport(
                title,
                "not written yet",
                f"replace the `...` in {spec.signature}, a line at a time from the top",
                tuple(Row(n, "not written yet", stage="") for n in spec.outputs),
            )
        # Judge the lines written so far on every case; the others wait.
        written = tuple(n for n in spec.outputs if n not in unwritten)
        partial = dataclasses.replace(
            exercise,
            outputs=written,
            depends=_written_sources(exercise.depends, written),
            make_cases=_only(exercise.make_cases, written),
        )
        report = run_exercise(partial, fn, seed)
    new_attempt = wrong_attempts(exercise.name) > before
    return _stage_report(spec, title, report, unwritten, new_attempt)


def _written_sources(
    depends: dict[str, str | tuple[str, ...]], written: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    """``depends`` cut down to the outputs in ``written`` and the sources among them."""
    kept = {}
    for output in written:
        sources = tuple(s for s in sources_of(depends, output) if s in written)
        if sources:
            kept[output] = sources
    return kept


def _only(
    make_cases: Callable[[np.random.Generator], list[Case]], written: tuple[str, ...]
) -> Callable[[np.random.Generator], list[Case]]:
    """The cases judging only the outputs in ``written``. With one output left the checker
    takes the function's result to be that output, so the case hands it on alone."""
    if len(written) > 1:
        return make_cases

    def pick(result: Any) -> Any:
        return result[written[0]] if isinstance(result, dict) and written[0] in result else result

    def cases(rng: np.random.Generator) -> list[Case]:
        return [
            dataclasses.replace(case, run=lambda fn, run=case.run: pick(run(fn)))
            for case in make_cases(rng)
        ]

    return cases


def _number(stage: Stage) -> int:
    return STAGES.index(stage) + 1


def _stage_report(
    spec: Stage, title: str, report: ExerciseReport, unwritten: list[str], new_attempt: bool
) -> IntermediatesReport:
    if report.verdict in ("not written yet", "error"):
        return IntermediatesReport(title, report.verdict, report.message, (), report.case)
    judged = {r.output: r for r in report.rows}
    rows = []
    for name in spec.outputs:
        if name in unwritten:
            rows.append(Row(name, "not written yet"))
            continue
        found = judged[name]
        status = found.status
        note = found.diagnosis
        wrong = [s for s in sources_of(spec.depends, name) if _wrong(judged.get(s))]
        if status in ("wrong", "missing") and wrong and found.numbers:
            note = built_from(wrong)  # built from a wrong gradient: its own slip cannot be told
        elif status == "close" and name in spec.blind:
            note = spec.blind[name]
        elif status in ("wrong", "missing"):
            key = (spec.name, name)
            # a miss of this gradient: a new attempt that changed it (the stage's other lines
            # may change while this one still gives the same wrong numbers)
            if new_attempt and _last_wrong.get(key) != found.max_difference:
                _misses[key] = _misses.get(key, 0) + 1
            _last_wrong[key] = found.max_difference
            if _misses.get(key, 0) >= 2:
                note = (
                    f"{note}. The rule: {spec.rules[name]}"
                    if note
                    else f"The rule: {spec.rules[name]}"
                )
        rows.append(Row(name, status, found.max_difference, note))
    wrong = [r.name for r in rows if r.status in ("wrong", "missing")]
    if wrong:
        verdict = "wrong"
        message = f"{', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} not right"
        case = report.case
    elif unwritten:
        verdict = "right so far"
        right = len(spec.outputs) - len(unwritten)
        message = (
            f"the {right} gradient{'s' if right != 1 else ''} written so far "
            f"match{'es' if right == 1 else ''} the engine; "
            f"{', '.join(unwritten)} still to write"
        )
        case = ""
    else:
        verdict, message, case = "right", report.message, ""
    return IntermediatesReport(title, verdict, message, tuple(rows), case)


def _wrong(row: Any) -> bool:
    return row is not None and row.status in ("wrong", "missing")


def forget_capstone_attempts() -> None:
    """Start every capstone tier afresh (each intermediate's count of misses)."""
    _misses.clear()
    _last_wrong.clear()
    for stage in STAGES:
        forget_attempts(f"capstone.{stage.name}")


# ---- every stage, chained ------------------------------------------------------------------


def _stage_functions(functions: Mapping[str, Any] | Sequence[Any]) -> list[tuple[Stage, Any]]:
    if isinstance(functions, Mapping):
        missing = [s.name for s in STAGES if s.name not in functions]
        if missing:
            raise ValueError(
                f"compare_all needs a function for every stage; missing {', '.join(missing)}"
            )
        return [(s, functions[s.name]) for s in STAGES]
    if isinstance(functions, str) or not isinstance(functions, Sequence):
        raise TypeError(
            "compare_all needs the five stage functions, in order (a list), or a dict by stage "
            f"name, got {type(functions).__name__}"
        )
    if len(functions) != len(STAGES):
        raise ValueError(
            f"compare_all needs {len(STAGES)} stage functions, in order "
            f"({', '.join(s.function for s in STAGES)}), got {len(functions)}"
        )
    return list(zip(STAGES, functions, strict=True))


def compare_all(
    functions: Mapping[str, Any] | Sequence[Any],
    X: np.ndarray,
    labels: np.ndarray,
    params: Mapping[str, np.ndarray],
) -> IntermediatesReport:
    """Run the learner's five stages one after another on the batch ``X``, ``labels`` with the
    weights ``params``, each stage on the gradients the learner's earlier stages produced (as
    training does), and compare every intermediate's gradient with the engine's."""
    pairs = _stage_functions(functions)
    f, engine = engine_gradients(X, labels, params)
    yours: dict[str, Any] = {"dloss": 1.0}
    wrong_inputs: set[str] = set()
    rows: list[Row] = []
    stopped = ""
    for spec, fn in pairs:
        heading = f"stage {_number(spec)} · {spec.title} ({spec.function})"
        if stopped:
            rows.extend(Row(n, "not run", note="", stage=heading) for n in spec.outputs)
            continue
        report = run_exercise(_one_batch(spec, f, yours, engine), fn)
        if report.verdict in ("not written yet", "error") or any(
            NOT_WRITTEN in r.diagnosis for r in report.rows
        ):
            status = "not written yet" if report.verdict != "error" else "missing"
            note = report.message if report.verdict == "error" else ""
            rows.extend(
                Row(n, status, note=note if i == 0 else "", stage=heading)
                for i, n in enumerate(spec.outputs)
            )
            stopped = spec.function
            continue
        judged = {r.output: r for r in report.rows}
        upstream = STAGE_INPUT.get(spec.name)
        for name in spec.outputs:
            found = judged[name]
            note = found.diagnosis
            if found.status not in ("exact", "close"):
                wrong_inputs.add(name)
                if upstream in wrong_inputs:
                    note = f"it is built from {upstream}, which is wrong: fix that first"
                else:
                    note = f"{note} (run stage {_number(spec)}'s check for more)".lstrip()
            rows.append(Row(name, found.status, found.max_difference, note, heading))
        yours.update(_outputs(fn, f, yours, spec))
    wrong = [r.name for r in rows if r.status in ("wrong", "missing")]
    right = sum(r.right for r in rows)
    if stopped:
        verdict = "wrong" if wrong else "not written yet"
        message = (
            f"{right} of {len(rows)} gradients match the engine; {stopped} is not written yet "
            "(or did not run), so the stages after it wait"
        )
    elif wrong:
        verdict = "wrong"
        message = f"{right} of {len(rows)} gradients match the engine; not yet: {', '.join(wrong)}"
    else:
        verdict = "right"
        message = (
            f"all {len(rows)} gradients match the engine on this batch of {len(X)} images, "
            "each stage working from your own earlier stages"
        )
    return IntermediatesReport("your backward pass, all stages", verdict, message, tuple(rows))


def _one_batch(
    spec: Stage, f: dict[str, Any], yours: dict[str, Any], engine: dict[str, Any]
) -> Exercise:
    """One stage as a one-case exercise on this batch, fed the learner's own earlier gradients."""
    g = dict(yours)
    case = Case(
        "this batch",
        {"f": f, "g": g},
        {k: np.asarray(engine[k], dtype=np.float64) for k in spec.outputs},
        batch=len(f["X"]),
        run=lambda fn: fn(fresh_copy(f), fresh_copy(g)),
    )
    return Exercise(
        f"capstone.all.{spec.name}",
        spec.signature,
        spec.outputs,
        lambda rng: [case],
        returns="dict",
        arrays=True,
    )


def _outputs(fn: Callable[..., Any], f: dict[str, Any], g: dict[str, Any], spec: Stage) -> dict:
    result = fn(fresh_copy(f), fresh_copy(g))
    return {k: np.asarray(result[k], dtype=np.float64) for k in spec.outputs}


def learner_gradients(
    functions: Mapping[str, Any] | Sequence[Any],
) -> Callable[[np.ndarray, np.ndarray, dict[str, np.ndarray]], dict[str, np.ndarray]]:
    """The parameters' gradients from the learner's five stages, chained: a function
    ``(X, labels, params) -> {"dW1": ..., "db1": ..., ...}`` for
    :func:`course_lib.network.capstone.train_capstone`. Use it after :func:`compare_all` says
    right (it runs the learner's code without the checker's guard)."""
    pairs = _stage_functions(functions)

    def gradients(X: np.ndarray, labels: np.ndarray, params: dict[str, np.ndarray]) -> dict:
        f = forward(X, labels, params)
        g: dict[str, Any] = {"dloss": 1.0}
        for spec, fn in pairs:
            g.update(_outputs(fn, f, g, spec))
        return {"d" + k: g["d" + k] for k in PARAMETERS}

    return gradients
