"""course_lib.teaching.engine_check: a learner's own engine (their class's ops, their
topological sort, the class with its backward pass) against course_lib's, on fixed and random
graphs. The right engine passes; every planted bug is named, on a first attempt without the rule
and without a line of the solution; an engine with ``.grad =`` where ``.grad +=`` belongs is never
called right; nothing a learner writes makes a check raise."""

from __future__ import annotations

import sys

import learner_engines
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from learner_engines import SLIPS, SOLUTIONS, define, learner, slipped

from course_lib.autodiff.scalar import Value
from course_lib.teaching.code_exercise import forget_attempts
from course_lib.teaching.engine_check import (
    BACKWARD_RULE,
    CHAIN_LENGTH,
    OPS_RULE,
    ORDER_RULE,
    PYTHON_RECURSION_LIMIT,
    check_engine,
    check_ops,
    check_topological_order,
)


@pytest.fixture(autouse=True)
def _first_attempt():
    forget_attempts()
    yield
    forget_attempts()


CHECKS = {
    "ops": lambda ns, seed=0: check_ops(ns["MyValue"], seed),
    "order": lambda ns, seed=0: check_topological_order(ns["my_topological_order"], seed),
    "engine": lambda ns, seed=0: check_engine(ns["MyValue"], seed),
}


def solution_lines(exercise: str) -> list[str]:
    """The statements of an exercise's solution a first feedback must never show."""
    lines = []
    for line in SOLUTIONS[exercise].splitlines():
        code = line.split("#")[0].strip()
        if len(code) >= 12 and not code.startswith(("def ", "class ", '"""', "return self.")):
            lines.append(code)
    return lines


# ---- the right engine passes --------------------------------------------------------------------


@pytest.mark.parametrize("exercise", CHECKS)
def test_the_solution_passes(exercise):
    report = CHECKS[exercise](learner())
    assert report.ok, report
    assert report.verdict == "right" and report.rule == ""


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_the_solution_passes_on_the_random_graphs_of_any_seed(seed):
    namespace = learner()
    assert check_engine(namespace["MyValue"], seed).ok
    assert check_topological_order(namespace["my_topological_order"], seed).ok


# ---- every planted bug is named, first without the rule or a solution line ----------------------


PLANTED = [(exercise, *slip) for exercise in CHECKS for slip in SLIPS[exercise]]


@pytest.mark.parametrize(
    ("exercise", "name", "old", "new", "words"), PLANTED, ids=[p[1] for p in PLANTED]
)
def test_each_planted_bug_is_named(exercise, name, old, new, words):
    namespace = learner(**{exercise: slipped(exercise, old, new)})
    report = CHECKS[exercise](namespace)
    shown = " ".join(str(report).split())  # the report wraps its lines
    assert not report.ok, (name, shown)
    assert words.lower() in shown.lower(), (name, shown)
    assert report.rule == "" and "The rule" not in shown
    submitted = slipped(exercise, old, new)
    for line in solution_lines(exercise):
        if line not in submitted:  # quoting the learner's own line is no giveaway
            assert line not in shown, (name, line)


@pytest.mark.parametrize(
    ("exercise", "rule"), [("ops", OPS_RULE), ("order", ORDER_RULE), ("engine", BACKWARD_RULE)]
)
def test_a_second_different_wrong_attempt_shows_the_rule(exercise, rule):
    first_slip, second_slip = SLIPS[exercise][0], SLIPS[exercise][1]
    first = CHECKS[exercise](learner(**{exercise: slipped(exercise, *first_slip[1:3])}))
    second = CHECKS[exercise](learner(**{exercise: slipped(exercise, *second_slip[1:3])}))
    assert first.rule == "" and second.rule == rule
    assert "The rule" in str(second)


@pytest.mark.parametrize("exercise", ["ops", "order"])
def test_an_attempt_that_gives_nothing_back_does_not_bring_the_rule_closer(exercise):
    learner_engines.assert_unreturned_is_no_attempt(CHECKS[exercise], exercise)


# ---- `=` where `+=` belongs is never right ------------------------------------------------------


OVERWRITES = [
    "parent.grad = node.grad * partial",
    "parent.grad = partial * node.grad",
    "parent.grad = node.grad * partial + 0.0",
]


@pytest.mark.parametrize("line", OVERWRITES)
def test_an_engine_that_overwrites_is_never_right(line):
    code = slipped("engine", "parent.grad += node.grad * partial", line)
    report = check_engine(learner(engine=code)["MyValue"])
    assert not report.ok and "fan-out gradients lost" in report.message


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_an_engine_that_overwrites_is_wrong_for_every_seed(seed):
    code = slipped("engine", "parent.grad += node.grad * partial", OVERWRITES[0])
    report = check_engine(learner(engine=code)["MyValue"], seed)
    assert not report.ok and "`=` where `+=` belongs" in report.message


# ---- the sort -----------------------------------------------------------------------------------


def test_a_recursive_sort_dies_on_the_chain_and_is_told_why():
    namespace = learner(order=slipped("order", None, SLIPS["order"][0][2]))
    report = check_topological_order(namespace["my_topological_order"])
    assert report.verdict == "error" and "RecursionError" in report.message
    assert f"{CHAIN_LENGTH:,} nodes" in report.message
    assert f"{PYTHON_RECURSION_LIMIT:,} nested calls" in report.message
    assert "a stack" in report.message and report.case.startswith("a chain of")
    # The whole engine, built on that sort, is stopped at the chain too.
    engine = check_engine(namespace["MyValue"])
    assert "RecursionError" in engine.message and "chain" in engine.case


def test_a_raised_recursion_limit_does_not_let_a_recursive_sort_pass():
    """sys.setrecursionlimit(50000) at the top of the cell made the recursive sort RIGHT."""
    namespace = learner(order=slipped("order", None, SLIPS["order"][0][2]))
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(50_000)
    try:
        report = check_topological_order(namespace["my_topological_order"])
        assert not report.ok and "RecursionError" in report.message
        assert "raising the limit only moves the wall" in report.message
        assert not check_engine(namespace["MyValue"]).ok
        assert sys.getrecursionlimit() == 50_000  # the learner's own setting is given back
    finally:
        sys.setrecursionlimit(before)
    inside = SOLUTIONS["order"].replace(
        "def my_topological_order(root):",
        "def my_topological_order(root):\n    import sys\n    sys.setrecursionlimit(50_000)",
    )
    assert inside != SOLUTIONS["order"]
    report = check_topological_order(learner(order=inside)["my_topological_order"])
    assert not report.ok and "sys.setrecursionlimit" in report.message
    assert sys.getrecursionlimit() == before


def test_a_sort_that_reads_micrograds_names_is_told_where_the_parents_are():
    code = SOLUTIONS["order"].replace("node.parents", "node._prev")
    report = check_topological_order(define(code, {})["my_topological_order"])
    assert "AttributeError" in report.message and "`parents`" in report.message


@pytest.mark.parametrize(
    ("returned", "words"),
    [
        ("None", "returned None"),
        ("3", "an int: return a list"),
        ("[root]", "lacks"),
        ("order + [3]", "not a node of the graph"),
        ("list(reversed(order))", "starts at the output"),
        ("order + order[:1]", "listed 2 times"),
    ],
)
def test_what_a_sort_returns_is_judged_whole(returned, words):
    code = SOLUTIONS["order"].replace("    return order\n", f"    return {returned}\n")
    assert code != SOLUTIONS["order"]
    report = check_topological_order(define(code, {})["my_topological_order"])
    assert not report.ok and words in report.message, report


def test_an_order_of_course_libs_nodes_is_checked_against_course_libs_own():
    from course_lib.autodiff.graph import topological_order

    assert check_topological_order(topological_order).ok


# ---- the ops ------------------------------------------------------------------------------------


def test_the_ops_are_read_by_which_parent_is_which_input():
    # Parents stored the other way round, each with its own partial: still right.
    code = SOLUTIONS["ops"].replace(
        "return MyValue(self.data * other.data, (self, other), (other.data, self.data))",
        "return MyValue(self.data * other.data, (other, self), (self.data, other.data))",
    )
    assert check_ops(define(code, {"my_backward": None})["MyValue"]).ok


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (("(self, other), (1.0, 1.0))", "(self,), (1.0,))"), "not among the parents"),
        (("(self, other), (1.0, 1.0))", "(self, other), (1.0,))"), "2 parents and 1 partials"),
        (("return MyValue(out, (self,), (out,))", "return self"), "returned one of its inputs"),
        (("return MyValue(out, (self,), (out,))", "return out"), "a float: it must return"),
        (("self.parents = parents", "self.parents = None"), "parents = None"),
        (("import math  # at the top of the cell\n", ""), "`import math` is missing"),
    ],
)
def test_a_node_that_cannot_be_read_is_described(edit, words):
    code = SOLUTIONS["ops"].replace(*edit)
    assert code != SOLUTIONS["ops"]
    report = check_ops(define(code, {})["MyValue"])
    assert not report.ok and words in str(report), report


# ---- not written yet, and code that cannot be run -----------------------------------------------


UNWRITTEN_OPS = SOLUTIONS["ops"]
for _method in ("__add__", "__mul__", "__pow__", "tanh", "exp"):
    _start = UNWRITTEN_OPS.index(f"    def {_method}(")
    _body = UNWRITTEN_OPS.index("\n\n", _start)
    _head = (
        UNWRITTEN_OPS.index('"""\n', _start) + 4
        if '"""' in UNWRITTEN_OPS[_start:_body]
        else (UNWRITTEN_OPS.index(":\n", _start) + 2)
    )
    UNWRITTEN_OPS = UNWRITTEN_OPS[:_head] + "        ...\n" + UNWRITTEN_OPS[_body + 1 :]


def test_untouched_exercises_read_not_written_yet():
    namespace = define(UNWRITTEN_OPS, {})
    define("def my_topological_order(root):\n    ...\n", namespace)
    define('def my_backward(root):\n    """Docstring."""\n    ...\n', namespace)
    for check, argument in (
        (check_ops, "MyValue"),
        (check_topological_order, "my_topological_order"),
        (check_engine, "MyValue"),
    ):
        report = check(namespace[argument])
        assert report.verdict == "not written yet", report
    # The ops written, the backward not: the engine's check names what is left.
    define(SOLUTIONS["ops"], namespace)
    assert "my_backward is not written yet" in check_engine(namespace["MyValue"]).message
    define(SOLUTIONS["engine"], namespace)
    report = check_engine(namespace["MyValue"])
    assert "my_topological_order is not written yet" in report.message


def test_one_op_left_unwritten_is_named():
    code = UNWRITTEN_OPS.replace(
        '        """self + other (a plain number other becomes a node first: MyValue(other))."""'
        "\n        ...\n",
        '        """self + other."""\n'
        "        other = other if isinstance(other, MyValue) else MyValue(other)\n"
        "        return MyValue(self.data + other.data, (self, other), (1.0, 1.0))\n",
    )
    report = check_ops(define(code, {})["MyValue"])
    assert report.verdict == "not written yet" and "MyValue.__mul__" in report.message


@pytest.mark.parametrize("thing", [None, 3, "MyValue", Value(1.0)])
def test_a_check_given_something_else_says_so_and_never_raises(thing):
    for check in (check_ops, check_engine):
        report = check(thing)
        assert report.verdict == "error" and "your class itself" in report.message
    assert check_topological_order(thing).verdict == "error"


def test_a_sort_that_never_ends_is_stopped(monkeypatch):
    from course_lib.teaching import code_exercise

    monkeypatch.setattr(code_exercise, "TIME_LIMIT_S", 0.3)  # the limit's length is not under test
    code = "def my_topological_order(root):\n    while True:\n        pass\n"
    report = check_topological_order(define(code, {})["my_topological_order"])
    assert "still running after" in report.message


def test_gradients_that_are_not_numbers_are_named():
    code = slipped(
        "engine",
        "parent.grad += node.grad * partial",
        "parent.grad = parent.grad + MyValue(1.0) * (node.grad * partial)",
    )
    report = check_engine(learner(engine=code)["MyValue"])
    assert "a gradient is a plain, finite number" in report.message, report


def test_a_node_must_start_with_a_gradient_of_zero():
    code = SOLUTIONS["ops"].replace("self.grad = 0.0", "self.grad = None")
    report = check_engine(learner(ops=code)["MyValue"])
    assert "must start with grad = 0.0" in report.message


def test_wrong_ops_send_the_engine_check_back_to_the_ops_check():
    code = slipped("ops", *SLIPS["ops"][0][1:3])
    report = check_engine(learner(ops=code)["MyValue"])
    assert "check_ops" in report.message and "already differs" in report.message


def test_a_backward_that_counts_a_node_twice_is_named():
    code = SOLUTIONS["order"] + SLIPS["order"][2][2]  # no set of placed nodes: duplicates
    report = check_engine(learner(order=code)["MyValue"])
    assert "2 times the sum" in report.message, report


@pytest.mark.parametrize("wrap", [set, frozenset, dict.fromkeys])
def test_an_order_handed_back_as_a_set_is_named_as_having_no_order(wrap):
    right = learner()["my_topological_order"]
    report = check_topological_order(lambda root: wrap(right(root)))
    assert not report.ok and "which keeps no order of its own" in report.message, report
    assert "starts at the output" not in report.message
