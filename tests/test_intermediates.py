"""The capstone's compare tool (course_lib.teaching.intermediates): every stage's solution is
right, every usual slip is named on a first attempt without the solution's line, the rule of an
intermediate shows from its second miss on, a stage can be written a line at a time, and the
chained comparison and the training gradients agree with the engine."""

from __future__ import annotations

import re

import numpy as np
import pytest
from capstone_slips import SLIPS, SOLUTIONS

from course_lib.network.capstone import (
    PARAMETERS,
    engine_parameter_gradients,
    init_parameters,
)
from course_lib.teaching.capstone_cases import STAGES, random_network, stage_by_name
from course_lib.teaching.intermediates import (
    IntermediatesReport,
    check_stage,
    compare_all,
    forget_capstone_attempts,
    learner_gradients,
)

FUNCTIONS = {stage.name: stage.function for stage in STAGES}


@pytest.fixture(autouse=True)
def _fresh_tiers():
    forget_capstone_attempts()
    yield
    forget_capstone_attempts()


def defined(source: str, name: str | None = None):
    """The function ``source`` defines (with numpy as np), renamed if ``name`` is given."""
    namespace = {"np": np}
    exec(compile(source, "<learner>", "exec"), namespace)
    functions = [v for k, v in namespace.items() if k.startswith("my_")]
    assert len(functions) == 1
    return functions[0]


def solution(stage: str):
    return defined(SOLUTIONS[FUNCTIONS[stage]])


def slipped(stage: str, old: str, new: str):
    text = SOLUTIONS[FUNCTIONS[stage]]
    assert old in text, (stage, old)
    return defined(text.replace(old, new, 1))


def solution_lines(stage: str) -> list[str]:
    """The lines of a stage's solution that carry a gradient's formula, in a normal form (no
    spaces, no comments)."""
    lines = []
    for line in SOLUTIONS[FUNCTIONS[stage]].splitlines()[2:]:
        code = re.sub(r"\s+", "", line.split("#")[0])
        if "=" in code and not code.startswith(("return", "N=", "H=", "rows=")):
            lines.append(code.split("=", 1)[1])
    return lines


def normal(text: str) -> str:
    """The report's text, spaces out, symbols as code, without the learner's own quoted line."""
    text = re.sub(r"of your function: `[^`]*`", "", text)
    for symbol, as_code in {"ᵀ": ".T", "−": "-", "·": "*", "⊙": "*", "²": "**2"}.items():
        text = text.replace(symbol, as_code)
    return re.sub(r"\s+", "", text)


def test_every_stage_has_a_solution_and_a_rule_for_each_gradient():
    assert set(FUNCTIONS.values()) <= set(SOLUTIONS)
    for stage in STAGES:
        assert set(stage.rules) == set(stage.outputs), stage.name
    names = [n for stage in STAGES for n in stage.outputs]
    assert len(names) == len(set(names)) == 20


@pytest.mark.parametrize("stage", [s.name for s in STAGES])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_stages_solution_is_right(stage, seed):
    report = check_stage(stage, solution(stage), seed=seed)
    assert report.ok, str(report)
    assert all(r.status in ("exact", "close") for r in report.rows)
    assert [r.name for r in report.rows] == list(stage_by_name(stage).outputs)


@pytest.mark.parametrize(("stage", "function", "old", "new", "says"), SLIPS)
def test_a_slip_is_named_on_the_first_attempt_without_the_solutions_line(
    stage, function, old, new, says
):
    report = check_stage(stage, slipped(stage, old, new))
    shown = str(report)
    assert report.verdict in ("wrong", "error"), shown
    assert says in shown, shown
    assert "The rule:" not in shown
    for line in solution_lines(stage):
        assert line not in normal(shown), (line, shown)


def test_a_gradient_built_from_wrong_ones_points_at_them_not_at_float32():
    """ε left out changes dvar a little; dc, built from it, and da, built from dc and dmu,
    are off by little too: each says which input to fix first, none blames float32."""
    report = check_stage("layer_norm", slipped("layer_norm", '(f["var"] + f["eps"])', 'f["var"]'))
    rows = {r.name: r for r in report.rows}
    assert "ε is missing" in rows["dvar"].note
    assert "built from dvar" in rows["dc"].note
    assert "built from dc" in rows["da"].note
    assert "float32" not in str(report), str(report)


def test_each_stage_has_at_least_two_named_slips():
    counts = {stage.name: sum(1 for s in SLIPS if s[0] == stage.name) for stage in STAGES}
    assert min(counts.values()) >= 2, counts


def test_the_rule_of_a_gradient_shows_from_its_second_miss_on():
    first = check_stage("layer_norm", slipped("layer_norm", '+ f["eps"]', ""))
    assert "ε is missing" in str(first) and "The rule:" not in str(first)
    again = check_stage("layer_norm", slipped("layer_norm", '+ f["eps"]', ""))  # same code
    assert "The rule:" not in str(again)
    second = check_stage(  # another version with the same gradient wrong
        "layer_norm",
        slipped("layer_norm", '* -0.5 * (f["var"] + f["eps"]) ** -1.5', '* -0.5 / f["var"] ** 1.5'),
    )
    text = " ".join(str(second).split())
    assert "The rule: inv_std = (var + ε)^(−1/2)" in text
    assert text.count("The rule:") == 1  # dvar's only: dc and da are built from it
    html = second._repr_html_()
    assert "The rule:" in html and "✘ wrong" in html


def test_a_miss_of_one_gradient_does_not_show_another_gradients_rule():
    check_stage("tanh", slipped("tanh", 'da_hat = dn * f["gain"]', "da_hat = dn"))
    other = check_stage(
        "tanh", slipped("tanh", "dshift = dn.sum(axis=0)", "dshift = dn.mean(axis=0)")
    )
    assert "averages over the N rows" in str(other) and "The rule:" not in str(other)


def test_a_gradient_left_unchanged_while_another_line_changes_is_not_a_second_miss():
    """Fixing dh while db2 stayed wrong showed db2's rule (a learner's pass of notebook 11)."""
    mean = slipped("second_layer", 'db2 = g["dz"].sum(axis=0)', 'db2 = g["dz"].mean(axis=0)')
    check_stage("second_layer", mean)
    text = SOLUTIONS[FUNCTIONS["second_layer"]].replace(
        'g["dz"].sum(axis=0)', 'g["dz"].mean(axis=0)', 1
    )
    changed_elsewhere = defined(text + "\n# the learner edited another line\n")
    again = check_stage("second_layer", changed_elsewhere)
    assert "averages over the N rows" in str(again) and "The rule:" not in str(again)
    other_slip = check_stage(
        "second_layer",
        slipped("second_layer", 'db2 = g["dz"].sum(axis=0)', 'db2 = g["dz"].sum(axis=0) / 2'),
    )
    assert "The rule:" in str(other_slip)


def test_a_slip_in_dz_max_reads_close_and_says_the_check_cannot_see_it():
    """dz_max is within rounding of 0: a sign slip there passes, so the row says so."""
    report = check_stage(
        "loss",
        slipped(
            "loss",
            "dz_max = -dshifted.sum(axis=1, keepdims=True)",
            "dz_max = dshifted.sum(axis=1, keepdims=True)",
        ),
    )
    text = " ".join(str(report).split())
    assert report.ok and "this check cannot tell a slip in dz_max" in text
    assert "rounding of 0" not in text  # what the predict cell after the check asks


TEMPLATE = '''
def my_tanh_backward(f, g):
    """The gradients of h = tanh(n) and n = gain * a_hat + shift."""
    dn = ...
    dgain = ...
    dshift = ...
    da_hat = ...
    return {"dn": dn, "dgain": dgain, "dshift": dshift, "da_hat": da_hat}
'''


def test_a_stage_is_checked_a_line_at_a_time():
    untouched = check_stage("tanh", defined(TEMPLATE))
    assert untouched.verdict == "not written yet" and not untouched.ok
    assert all(r.status == "not written yet" for r in untouched.rows)
    one_line = TEMPLATE.replace("dn = ...", 'dn = g["dh"] * (1 - f["h"] ** 2)')
    so_far = check_stage("tanh", defined(one_line))
    assert so_far.verdict == "right so far", str(so_far)
    assert so_far.status("dn") == "exact" and so_far.status("dgain") == "not written yet"
    assert "dgain, dshift, da_hat still to write" in so_far.message
    wrong_line = TEMPLATE.replace("dn = ...", 'dn = g["dh"] * (1 - f["n"] ** 2)')
    wrong = check_stage("tanh", defined(wrong_line))
    assert wrong.verdict == "wrong" and "tanh's input" in str(wrong)
    out_of_order = TEMPLATE.replace("dgain = ...", 'dgain = (dn * f["a_hat"]).sum(axis=0)')
    report = check_stage("tanh", defined(out_of_order))
    assert report.verdict == "error" and "still `...`" in report.message


def test_a_function_that_raises_returns_none_or_the_wrong_kind_gets_a_sentence():
    def raises(f, g):
        return {"dh": g["dz"] @ f["W3"]}

    def nothing(f, g):
        g["dh"] = g["dz"] @ f["W2"].T

    def a_tuple(f, g):
        return g["dz"] @ f["W2"].T, f["h"].T @ g["dz"], g["dz"].sum(axis=0)

    raised = check_stage("second_layer", raises)
    assert raised.verdict == "error" and "KeyError" in raised.message
    assert "Look each name up in the right dict" in raised.message
    assert "forget the `return`" in check_stage("second_layer", nothing).message
    assert "return a dict with keys dh, dW2, db2" in check_stage("second_layer", a_tuple).message
    with pytest.raises(ValueError, match="no capstone stage named 'softmax'"):
        check_stage("softmax", raises)
    with pytest.raises(TypeError, match="stage name"):
        check_stage(2, raises)


def test_changing_f_or_g_in_place_cannot_spoil_the_next_case():
    def in_place(f, g):
        dz = g["dz"]
        dz *= 0  # changes the array it was given
        f["W2"][:] = 0
        return solution("second_layer")(f, g)

    report = check_stage("second_layer", in_place)
    assert not report.ok
    assert check_stage("second_layer", solution("second_layer")).ok  # the cases are intact


def test_the_report_says_each_status_in_words_and_marks():
    report = check_stage("first_layer", slipped("first_layer", 'g["da"].sum(axis=0)', 'g["da"]'))
    text, html = str(report), report._repr_html_()
    assert "✔ exact" in text and "✘ wrong" in text
    assert "<table>" in html and "✔ exact" in html and "what to look at" in html
    assert (
        isinstance(report, IntermediatesReport) and not report and report.status("dW1") == "exact"
    )


# ---- the chain -------------------------------------------------------------------------------


def _batch(seed=0):
    X, labels, _ = random_network(np.random.default_rng(seed), 8, 12, 6, 4)
    return X, labels, init_parameters(12, 6, 4, seed=seed)


def test_the_solutions_chained_match_the_engine_everywhere():
    X, labels, params = _batch()
    report = compare_all([solution(s.name) for s in STAGES], X, labels, params)
    assert report.ok, str(report)
    assert len(report.rows) == 20 and all(r.right for r in report.rows)
    by_name = {s.name: solution(s.name) for s in STAGES}
    assert compare_all(by_name, X, labels, params).ok


def test_a_wrong_stage_makes_the_later_ones_wait_for_it():
    X, labels, params = _batch(1)
    stages = [solution(s.name) for s in STAGES]
    stages[1] = slipped("second_layer", 'f["W2"].T', 'f["W2"].T * 2')
    report = compare_all(stages, X, labels, params)
    assert report.verdict == "wrong"
    assert report.status("dz") in ("exact", "close") and report.status("dh") == "wrong"
    assert report.status("dn") == "wrong"
    text = " ".join(str(report).split())
    assert "built from dh, which is wrong: fix that first" in text
    assert "run stage 2's check for more" in text


def test_an_unwritten_stage_stops_the_chain_with_a_sentence():
    X, labels, params = _batch(2)
    stages = [solution(s.name) for s in STAGES]
    stages[2] = defined(TEMPLATE)
    report = compare_all(stages, X, labels, params)
    assert report.verdict == "not written yet"
    assert "my_tanh_backward is not written yet" in report.message
    assert report.status("da") == "not run" and report.status("dW2") in ("exact", "close")

    def raises(f, g):
        raise RuntimeError("oops")

    stages[2] = raises
    report = compare_all(stages, X, labels, params)
    assert report.status("dn") == "missing" and "RuntimeError: oops" in str(report)


def test_compare_all_needs_five_functions():
    X, labels, params = _batch()
    with pytest.raises(ValueError, match="needs 5 stage functions"):
        compare_all([solution("loss")], X, labels, params)
    with pytest.raises(ValueError, match="missing second_layer, tanh, layer_norm, first_layer"):
        compare_all({"loss": solution("loss")}, X, labels, params)
    with pytest.raises(TypeError, match="the five stage functions"):
        compare_all(solution("loss"), X, labels, params)


def test_the_learners_chained_gradients_are_the_engines():
    X, labels, params = _batch(3)
    ours = learner_gradients([solution(s.name) for s in STAGES])(X, labels, params)
    engine = engine_parameter_gradients(X, labels, params)
    assert set(ours) == {"d" + k for k in PARAMETERS}
    for k in ours:
        np.testing.assert_allclose(ours[k], engine[k], rtol=1e-12, atol=1e-15)


def test_a_bad_seed_is_named():
    with pytest.raises(TypeError, match="check_stage: seed .* must be an int, got None"):
        check_stage("tanh", lambda f, g: None, seed=None)


def test_da_built_on_a_wrong_dmu_says_to_fix_dmu_first():
    """A sign slip in dmu alone, with da = dc + dmu / H written right: da is not given a slip
    of its own to compensate for (which would make a second error)."""
    report = check_stage(
        "layer_norm",
        slipped("layer_norm", "dmu = -dc.sum(axis=1", "dmu = dc.sum(axis=1"),
    )
    text = " ".join(str(report).split())
    assert "built from dmu, which is not right yet: fix dmu first" in text, text
    assert "the path through mu has the wrong sign" not in text
