"""course_lib.teaching.network_check: the neuron, layer and MLP a learner builds on their
engine, and their training step, against course_lib.network.scalar_mlp. The right code passes,
each planted bug is named (a step that never resets the gradients: they grow), first without the
rule or a line of the solution, and nothing a learner writes makes a check raise."""

from __future__ import annotations

import learner_engines
import numpy as np
import pytest
from learner_engines import SLIPS, SOLUTIONS, define, learner, slipped
from test_engine_check import solution_lines

from course_lib.autodiff.scalar import Value
from course_lib.network import scalar_mlp
from course_lib.teaching import network_check
from course_lib.teaching.code_exercise import forget_attempts
from course_lib.teaching.network_check import (
    NETWORK_RULE,
    STEP_RULE,
    check_network,
    check_training_step,
)


@pytest.fixture(autouse=True)
def _first_attempt():
    forget_attempts()
    yield
    forget_attempts()


CHECKS = {
    "network": lambda ns: check_network(ns["MyNeuron"], ns["MyLayer"], ns["MyMLP"]),
    "step": lambda ns: check_training_step(ns["my_training_step"]),
}


@pytest.mark.parametrize("exercise", CHECKS)
def test_the_solution_passes(exercise):
    report = CHECKS[exercise](learner())
    assert report.ok, report


def test_the_network_passes_on_course_libs_engine_too():
    namespace = learner()
    namespace["Engine"] = Value  # the notebook's stand-in while a learner's engine is not right
    assert CHECKS["network"](namespace).ok


PLANTED = [(exercise, *slip) for exercise in CHECKS for slip in SLIPS[exercise]]


@pytest.mark.parametrize(
    ("exercise", "name", "old", "new", "words"), PLANTED, ids=[p[1] for p in PLANTED]
)
def test_each_planted_bug_is_named(exercise, name, old, new, words):
    submitted = slipped(exercise, old, new)
    report = CHECKS[exercise](learner(**{exercise: submitted}))
    shown = " ".join(str(report).split())  # the report wraps its lines
    assert not report.ok and words.lower() in shown.lower(), (name, shown)
    assert report.rule == "" and "The rule" not in shown
    for line in solution_lines(exercise):
        if line not in submitted:
            assert line not in shown, (name, line)


@pytest.mark.parametrize(("exercise", "rule"), [("network", NETWORK_RULE), ("step", STEP_RULE)])
def test_a_second_different_wrong_attempt_shows_the_rule(exercise, rule):
    first, second = SLIPS[exercise][0], SLIPS[exercise][1]
    assert CHECKS[exercise](learner(**{exercise: slipped(exercise, *first[1:3])})).rule == ""
    again = CHECKS[exercise](learner(**{exercise: slipped(exercise, *second[1:3])}))
    assert again.rule == rule


@pytest.mark.parametrize("exercise", ["network", "step"])
def test_an_attempt_that_gives_nothing_back_does_not_bring_the_rule_closer(exercise):
    learner_engines.assert_unreturned_is_no_attempt(CHECKS[exercise], exercise)


def test_a_step_without_the_reset_is_right_once_and_then_the_gradients_grow():
    submitted = slipped("step", *SLIPS["step"][0][1:3])
    report = check_training_step(learner(step=submitted)["my_training_step"])
    losses = next(row for row in report.rows if row.output == "losses")
    assert "they grow" in losses.diagnosis
    # Run by hand on the checker's engine: after the second step, .grad holds both steps'
    # gradients added up, larger than the second step's own.
    namespace = learner(step=submitted)
    model = scalar_mlp.MLP(
        2, [3, 1], np.random.default_rng(7), engine=network_check.AccumulatingValue
    )
    xs, ys = network_check._step_data()
    namespace["my_training_step"](model, xs, ys, 0.5)
    first = [p.grad for p in model.parameters()]
    namespace["my_training_step"](model, xs, ys, 0.5)
    held = [p.grad for p in model.parameters()]
    twin = scalar_mlp.MLP(2, [3, 1], np.random.default_rng(7))
    scalar_mlp.training_step(twin, xs, ys, 0.5)
    scalar_mlp.mean_squared_error(twin, xs, ys).backward()
    second = [p.grad for p in twin.parameters()]
    assert held == pytest.approx([a + b for a, b in zip(first, second, strict=True)])


def test_the_checkers_engine_adds_into_grad_and_otherwise_agrees_with_value():
    Acc = network_check.AccumulatingValue
    x, y = Acc(0.5), Acc(-1.5)
    f = (x * y + x.tanh()) ** 2 - x.exp()
    f.backward()
    vx, vy = Value(0.5), Value(-1.5)
    g = (vx * vy + vx.tanh()) ** 2 - vx.exp()
    g.backward()
    assert (x.grad, y.grad) == pytest.approx((vx.grad, vy.grad), rel=1e-15)
    f.backward()
    assert (x.grad, y.grad) == pytest.approx((2 * vx.grad, 2 * vy.grad), rel=1e-15)
    x.grad = None
    with pytest.raises(TypeError):
        f.backward()


UNWRITTEN_NETWORK = (
    SOLUTIONS["network"]
    .replace(
        "        total = self.b\n        for wi, xi in zip(self.w, x):\n"
        "            total = total + wi * xi\n        return total.tanh()\n",
        "        ...\n",
    )
    .replace("        return self.w + [self.b]\n", "        ...\n")
    .replace("        return [neuron(x) for neuron in self.neurons]\n", "        ...\n")
    .replace(
        "        return [p for neuron in self.neurons for p in neuron.parameters()]\n",
        "        ...\n",
    )
    .replace(
        "        widths = [n_in] + list(sizes)\n        self.layers = [MyLayer(widths[i], "
        "widths[i + 1], rng) for i in range(len(sizes))]\n",
        "        ...\n",
    )
    .replace(
        "        for layer in self.layers:\n            x = layer(x)\n        return x\n",
        "        ...\n",
    )
    .replace(
        "        return [p for layer in self.layers for p in layer.parameters()]\n", "        ...\n"
    )
)


def test_untouched_exercises_read_not_written_yet():
    namespace = learner(
        network=UNWRITTEN_NETWORK, step=SOLUTIONS["step"].split("    for p")[0] + "    ...\n"
    )
    report = CHECKS["network"](namespace)
    assert report.verdict == "not written yet" and "are not written yet" in report.message
    assert CHECKS["step"](namespace).verdict == "not written yet"
    # The neuron written, the rest not: what is left is named.
    neuron = SOLUTIONS["network"].split("class MyLayer:")[0]
    partly = neuron + "class MyLayer:" + UNWRITTEN_NETWORK.split("class MyLayer:")[1]
    report = CHECKS["network"](learner(network=partly))
    assert report.verdict == "not written yet" and "MyLayer.__call__" in report.message


@pytest.mark.parametrize(
    "things", [(None, None, None), ("MyNeuron", "MyLayer", "MyMLP"), (1, 2, 3)]
)
def test_a_check_given_something_else_says_so_and_never_raises(things):
    report = check_network(*things)
    assert report.verdict == "error" and "three classes themselves" in report.message
    assert check_training_step(None).verdict == "error"


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (("return self.w + [self.b]", "return None"), "parameters() returned None"),
        (("return self.w + [self.b]", "return self.w + [self.b, self.b]"), "more than once"),
        (("return self.w + [self.b]", "return self.w + [self.b, 3.0]"), "not one of its"),
        (("return self.w + [self.b]", "return (p for p in self.w + [self.b])"), "return a list"),
        (("        return total.tanh()", "        return [total.tanh()]"), "returns one node"),
        (
            (
                "return [neuron(x) for neuron in self.neurons]",
                "return (neuron(x) for neuron in self.neurons)",
            ),
            "not a generator",
        ),
        (("        return x\n", "        return x[0]\n"), "return a list of the output nodes"),
        (("self.layers = [", "self.parts = ["), "no list self.layers"),
        (("for i in range(len(sizes))]", "for i in range(len(sizes) - 1)]"), "has 2 layers"),
    ],
)
def test_what_the_classes_return_is_described(edit, words):
    code = SOLUTIONS["network"].replace(*edit)
    assert code != SOLUTIONS["network"]
    report = CHECKS["network"](learner(network=code))
    assert not report.ok and words in report.message, report


def test_a_step_that_calls_zero_grad_on_the_model_is_told_to_reset_each_parameter():
    code = SOLUTIONS["step"].replace(
        "    for p in model.parameters():\n        p.grad = 0.0  # this engine adds into .grad: "
        "start every step from 0\n",
        "    model.zero_grad()\n",
    )
    report = check_training_step(define(code, learner())["my_training_step"])
    assert "reset each of model.parameters() yourself" in report.message


def test_a_step_that_never_ends_is_stopped(monkeypatch):
    from course_lib.teaching import code_exercise

    monkeypatch.setattr(code_exercise, "TIME_LIMIT_S", 0.3)  # the limit's length is not under test
    code = "def my_training_step(model, xs, ys, lr):\n    while True:\n        pass\n"
    report = check_training_step(define(code, {})["my_training_step"])
    assert "still running after" in report.message
