"""The capstone's stages and their cases (course_lib.teaching.capstone_cases): the stages cover
every intermediate and weight of the forward pass once, every case's answers are the engine's,
every known slip gives an answer that differs from the right one, and no slip's sentence holds
a solution's line."""

from __future__ import annotations

import re

import numpy as np
import pytest
from capstone_slips import SOLUTIONS

from course_lib.network.capstone import INTERMEDIATES, PARAMETERS, engine_gradients
from course_lib.teaching.capstone_cases import (
    SIZES,
    STAGES,
    fresh_copy,
    stage_by_name,
    stage_cases,
    stage_exercise,
    upstream_names,
)


def test_the_stages_cover_every_intermediate_and_weight_once():
    names = [n for stage in STAGES for n in stage.outputs]
    assert sorted(names) == sorted("d" + n for n in (*INTERMEDIATES, *PARAMETERS))


def test_each_stage_gets_the_gradients_of_the_stages_before_it():
    assert upstream_names(STAGES[0]) == ("dloss",)
    assert upstream_names(stage_by_name("tanh")) == (
        "dloss",
        *STAGES[0].outputs,
        *STAGES[1].outputs,
    )
    with pytest.raises(ValueError, match="no capstone stage named"):
        stage_by_name("softmax")


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_the_cases_hold_the_engines_answers_and_distinct_mistakes(stage):
    cases = stage_cases(stage, np.random.default_rng(0))
    assert len(cases) == len(SIZES)
    for case in cases:
        f, g = case.inputs["f"], case.inputs["g"]
        assert set(g) == set(upstream_names(stage))
        _, engine = engine_gradients(f["X"], f["labels"], {k: f[k] for k in PARAMETERS})
        for name in stage.outputs:
            assert np.array_equal(case.expected[name], engine[name])
        for wrong, name, why in case.mistakes:
            right = case.expected[name]
            assert wrong.shape != right.shape or not np.allclose(wrong, right), why
            assert why and why[0].islower() or why[0] in "[ε", why


def _formula_lines() -> list[str]:
    lines = []
    for name, text in SOLUTIONS.items():
        if name == "my_deep_backward":
            continue
        for line in text.splitlines()[2:]:
            code = re.sub(r"\s+", "", line.split("#")[0])
            if "=" in code and not code.startswith(("return", "N=", "H=", "rows=")):
                lines.append(code.split("=", 1)[1])
    return lines


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_no_slip_sentence_holds_a_solutions_line(stage):
    for case in stage_cases(stage, np.random.default_rng(1)):
        sentences = [why for _, _, why in case.mistakes] + [why for _, why in case.errors]
        for sentence in sentences:
            for line in _formula_lines():
                assert line not in re.sub(r"\s+", "", sentence), (line, sentence)


def test_the_exercise_of_a_stage_is_named_after_it_and_has_no_stage_wide_rule():
    exercise = stage_exercise("layer_norm")
    assert exercise.name == "capstone.layer_norm" and exercise.rule == ""
    assert exercise.returns == "dict" and exercise.outputs == stage_by_name("layer_norm").outputs


def test_fresh_copy_copies_arrays_and_keeps_other_values():
    values = {"a": np.zeros(2), "n": 3}
    copied = fresh_copy(values)
    copied["a"][0] = 1
    assert values["a"][0] == 0 and copied["n"] == 3


def test_a_stage_that_is_not_one_and_an_rng_that_is_not_one_are_named():
    from course_lib.teaching.capstone_cases import stage_cases, stage_exercise

    with pytest.raises(TypeError, match="stage_exercise needs a stage or its name, one of"):
        stage_exercise(None)
    with pytest.raises(TypeError, match="stage_cases needs np.random.default_rng"):
        stage_cases(stage_by_name("tanh"), None)
