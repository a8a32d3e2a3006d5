"""The any-depth exercise (course_lib.teaching.depth_exercise): the δ recursion's solution is
right at depths 1, 2 and 5 with every activation, the engine's answers agree with finite
differences, and each usual slip is named on a first attempt, its rule shown on a second."""

from __future__ import annotations

import numpy as np
import pytest
from capstone_slips import DEEP_SLIPS, SOLUTIONS
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.network.deep_stack import ACTIVATIONS, stack_forward
from course_lib.teaching.code_exercise import forget_attempts
from course_lib.teaching.depth_exercise import (
    DEEP_BACKWARD_RULE,
    DEPTHS,
    check_deep_backward,
    depth_exercise,
    slope,
)


@pytest.fixture(autouse=True)
def _fresh_tiers():
    forget_attempts()
    yield
    forget_attempts()


def defined(source: str):
    namespace = {"np": np}
    exec(compile(source, "<learner>", "exec"), namespace)
    return namespace["my_deep_backward"]


SOLUTION = SOLUTIONS["my_deep_backward"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_solution_is_right_at_every_depth_and_activation(seed):
    report = check_deep_backward(defined(SOLUTION), seed=seed)
    assert report.ok, str(report)
    assert "depths 1, 2 and 5, with sigmoid, tanh and relu (9 networks)" in report.message


@pytest.mark.parametrize(("old", "new", "says"), DEEP_SLIPS)
def test_a_slip_is_named_on_the_first_attempt_without_the_solutions_line(old, new, says):
    assert old in SOLUTION
    report = check_deep_backward(defined(SOLUTION.replace(old, new, 1)))
    shown = str(report)
    assert not report.ok and says in shown, shown
    assert "The rule:" not in shown
    for line in ("hs[l-1].T@delta", "(delta@Ws[l-1].T)*slope(hs[l-1])", "delta.sum(axis=0)"):
        assert line not in "".join(shown.split()), shown


def test_the_rule_shows_from_the_second_wrong_attempt():
    check_deep_backward(defined(SOLUTION.replace("delta.sum(axis=0)", "delta.mean(axis=0)")))
    second = check_deep_backward(defined(SOLUTION.replace("delta.sum(axis=0)", "delta.sum(0) / 2")))
    assert second.rule == DEEP_BACKWARD_RULE and "The rule:" in str(second)


def test_an_unwritten_or_broken_function_gets_a_sentence():
    def unwritten(Ws, hs, activation, dh_last):
        """Not yet."""
        ...

    assert check_deep_backward(unwritten).verdict == "not written yet"
    report = check_deep_backward(lambda Ws, hs, activation, dh_last: None)
    assert "forget the `return`" in report.message and "dict with keys dW1, db1" in report.message
    report = check_deep_backward(lambda Ws, hs, activation, dh_last: {"dW1": hs[0]["x"]})
    assert report.verdict == "error"


def test_each_depth_is_an_exercise_of_its_own_outputs():
    assert DEPTHS == (1, 2, 5)
    assert depth_exercise(2).outputs == ("dW2", "db2", "dW1", "db1")
    assert depth_exercise(5).depends["dW1"] == "dW2"
    with pytest.raises(ValueError, match="depth must be one of"):
        depth_exercise(3)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 4), st.sampled_from(ACTIVATIONS), st.integers(0, 2**16))
def test_the_solutions_gradients_match_central_differences(depth, activation, seed):
    """The solution agrees with the engine (above); here both with finite differences."""
    rng = np.random.default_rng(seed)
    widths = rng.integers(2, 5, size=depth + 1)
    X = rng.normal(size=(3, widths[0]))
    Ws = [rng.normal(size=(widths[i], widths[i + 1])) for i in range(depth)]
    bs = [rng.normal(size=widths[i + 1]) for i in range(depth)]
    G = rng.normal(size=(3, widths[-1]))
    hs = stack_forward(X, Ws, bs, activation)
    grads = defined(SOLUTION)(Ws, hs, activation, G)
    near_kink = min(np.abs(hs[i] @ Ws[i] + bs[i]).min() for i in range(depth)) < 1e-4
    if activation == "relu" and near_kink:
        return  # a central difference across relu's kink measures nothing useful

    def loss(Ws):
        return float((stack_forward(X, Ws, bs, activation)[-1] * G).sum())

    h = 1e-6
    for layer in range(depth):
        for index in list(np.ndindex(Ws[layer].shape))[:4]:
            up = [W.copy() for W in Ws]
            down = [W.copy() for W in Ws]
            up[layer][index] += h
            down[layer][index] -= h
            numeric = (loss(up) - loss(down)) / (2 * h)
            assert numeric == pytest.approx(grads[f"dW{layer + 1}"][index], rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("depth", DEPTHS)
def test_every_case_holds_the_engines_answers(depth):
    solution = defined(SOLUTION)
    for case in depth_exercise(depth).make_cases(np.random.default_rng(0)):
        got = case.run(solution)
        for name, want in case.expected.items():
            np.testing.assert_allclose(got[name], want, rtol=1e-10, atol=1e-12)
        for wrong, name, why in case.mistakes:
            assert wrong.shape != case.expected[name].shape or not np.allclose(
                wrong, case.expected[name]
            ), why


def test_the_slope_is_written_with_the_output():
    h = np.array([0.0, 0.25, 0.9])
    assert np.allclose(slope("sigmoid", h), h * (1 - h))
    assert np.allclose(slope("tanh", h), 1 - h**2)
    assert np.array_equal(slope("relu", h), np.array([0.0, 1.0, 1.0]))


def test_a_depth_and_a_seed_are_whole_numbers():
    from course_lib.teaching.depth_exercise import check_deep_backward, depth_exercise

    assert depth_exercise(np.int64(2)).name == depth_exercise(2).name
    with pytest.raises(TypeError, match="depth_exercise: depth must be an int, got True"):
        depth_exercise(True)  # True == 1 was taken as depth 1
    with pytest.raises(ValueError, match="check_deep_backward: seed .* must be 0 or more"):
        check_deep_backward(lambda *a: None, seed=-1)


def test_keys_numbered_from_0_are_named_not_called_an_off_by_one():
    from_0 = SOLUTION.replace('f"dW{layer}"', 'f"dW{layer - 1}"').replace(
        'f"db{layer}"', 'f"db{layer - 1}"'
    )
    report = check_deep_backward(defined(from_0))
    assert "number the layers from 0 (dW0, db0, ...)" in report.message, report
    assert "off-by-one" not in report.message
    short = SOLUTION.replace("range(L, 0, -1)", "range(L, 1, -1)")  # stops before layer 1
    assert "the loop never reaches layer 1" in check_deep_backward(defined(short)).message
