"""The exercise checker: every exercise's solution passes, typical wrong versions get their
diagnosis (on a first attempt without the solution's line; the rule from the second attempt
on), and no learner code (raising, hanging, returning garbage) makes it raise."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import numpy as np
import pytest
from exercise_slips import normal, solution_fragments, submissions

from course_lib.teaching import code_exercise as exercises
from course_lib.teaching import exercise_bank
from course_lib.teaching.code_check import check_exercise
from course_lib.teaching.code_exercise import forget_attempts, is_placeholder, wrong_attempts
from course_lib.teaching.exercise_bank import EXERCISES


@pytest.fixture(autouse=True)
def _fresh_tiers():
    """Every test starts as a learner's first attempt (the count of wrong attempts is kept in
    the module, as in a kernel)."""
    forget_attempts()
    yield
    forget_attempts()


# ---- solutions (what the notebooks' Solution cells hold) -------------------------------------


def tanh_backward(upstream, x, out):
    return upstream * (1 - out**2)


def sum_to_shape(grad, shape):
    added = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(added)))
    expanded = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=expanded, keepdims=True)


def matmul_backward(upstream, A, B):
    dA = upstream @ B.swapaxes(-1, -2)
    dB = A.swapaxes(-1, -2) @ upstream
    while dB.ndim > B.ndim:  # B was shared by a batch of products: sum over the batch
        dB = dB.sum(axis=0)
    return dA, dB


def softmax_vjp(p, upstream):
    return p * (upstream - (upstream * p).sum(axis=-1, keepdims=True))


def softmax_probabilities(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy_backward(logits, labels):
    g = softmax_probabilities(logits)
    g[np.arange(len(labels)), labels] -= 1
    return g / len(labels)


def network_backward(X, labels, W1, b1, W2, b2, h, P):
    Y = np.eye(P.shape[1])[labels]
    dlogits = (P - Y) / len(labels)
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(axis=0)
    dh = dlogits @ W2.T
    da = dh * h * (1 - h)
    dW1 = X.T @ da
    db1 = da.sum(axis=0)
    return {"dlogits": dlogits, "dW2": dW2, "db2": db2, "dh": dh, "da": da, "dW1": dW1, "db1": db1}


def _network_with_da(X, labels, W1, b1, W2, b2, h, P, slope):
    """network_backward with ``da`` computed as ``slope(dh, h)`` (to plant a slip there)."""
    right = network_backward(X, labels, W1, b1, W2, b2, h, P)
    da = slope(right["dh"], h)
    return {**right, "da": da, "dW1": X.T @ da, "db1": da.sum(axis=0)}


def layer_norm_backward(x, upstream, eps):
    d = x - x.mean(axis=-1, keepdims=True)
    s = np.sqrt((d * d).mean(axis=-1, keepdims=True) + eps)
    y = d / s
    g = upstream
    return (g - g.mean(axis=-1, keepdims=True) - y * (g * y).mean(axis=-1, keepdims=True)) / s


def embedding_backward(tokens, upstream, vocab_size):
    dW = np.zeros((vocab_size, upstream.shape[-1]))
    np.add.at(dW, tokens, upstream)
    return dW


def embedding_backward_one_hot(tokens, upstream, vocab_size):
    """Another right way: a one-hot matrix times the upstream rows sums the repeats."""
    one_hot = np.eye(vocab_size)[tokens.ravel()]  # (positions, V)
    return one_hot.T @ upstream.reshape(-1, upstream.shape[-1])


def _ln_parts(x, upstream, eps):
    d = x - x.mean(axis=-1, keepdims=True)
    s = np.sqrt((d * d).mean(axis=-1, keepdims=True) + eps)
    return d / s, s, upstream


def _embedding_overwrite(tokens, upstream, vocab_size):
    dW = np.zeros((vocab_size, upstream.shape[-1]))
    dW[tokens] += upstream  # BUG: a repeated token is written once
    return dW


def _embedding_in_integers(tokens, upstream, vocab_size):
    dW = np.zeros((vocab_size, upstream.shape[-1]), dtype=int)  # BUG: cuts the fractions
    np.add.at(dW, tokens, upstream)  # numpy cuts each float added into the int array
    return dW


SOLUTIONS = {
    "tanh_backward": tanh_backward,
    "sum_to_shape": sum_to_shape,
    "matmul_backward": matmul_backward,
    "softmax_vjp": softmax_vjp,
    "cross_entropy_backward": cross_entropy_backward,
    "cross_entropy_find_the_bug": cross_entropy_backward,  # the fixed rule is the same rule
    "network_backward": network_backward,
    "layer_norm_backward": layer_norm_backward,
    "embedding_backward": embedding_backward,
}


def test_the_one_hot_embedding_backward_is_right_too():
    assert check_exercise("embedding_backward", embedding_backward_one_hot).ok


def test_every_exercise_has_a_solution_here():
    assert set(SOLUTIONS) == set(EXERCISES)


@pytest.mark.parametrize("name", sorted(SOLUTIONS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_solution_is_right(name, seed):
    report = check_exercise(name, SOLUTIONS[name], seed=seed)
    assert report.ok, str(report)
    assert "matches the engine" in report.message


# ---- typical wrong versions and the diagnosis each gets -------------------------------------


def _net_with(**changes):
    def backward(X, labels, W1, b1, W2, b2, h, P):
        grads = network_backward(X, labels, W1, b1, W2, b2, h, P)
        for key, change in changes.items():
            grads[key] = change(grads, X=X, W2=W2, h=h, P=P, labels=labels)
        return grads

    return backward


def _overwrite_paths(grads, W2, **_):
    for k in range(W2.shape[1]):  # BUG: = instead of +=
        dh = grads["dlogits"][:, k : k + 1] * W2[:, k]
    return dh


def _planted_bug(logits, labels):
    """The find-the-bug exercise's untouched function: Y[:, labels] sets whole columns."""
    P = softmax_probabilities(logits)
    Y = np.zeros_like(P)
    Y[:, labels] = 1
    return (P - Y) / len(labels)


WRONG = [
    (
        "layer_norm_backward",
        lambda x, upstream, eps: upstream / _ln_parts(x, upstream, eps)[1],
        "as if each y_i depended on x_i alone",
    ),
    (
        "layer_norm_backward",
        lambda x, upstream, eps: (
            (upstream - upstream.mean(axis=-1, keepdims=True)) / _ln_parts(x, upstream, eps)[1]
        ),
        "path through s",
    ),
    (
        "layer_norm_backward",
        lambda x, upstream, eps: (
            lambda y, s, g: (g - y * (g * y).mean(axis=-1, keepdims=True)) / s
        )(*_ln_parts(x, upstream, eps)),
        "path through the mean",
    ),
    (
        "layer_norm_backward",
        lambda x, upstream, eps: (
            lambda y, s, g: (
                (g - g.mean(axis=0, keepdims=True) - y * (g * y).mean(axis=0, keepdims=True)) / s
            )
        )(*_ln_parts(x, upstream, eps)),
        "over axis 0",
    ),
    ("embedding_backward", _embedding_overwrite, "kept only one of its upstream rows"),
    (
        "embedding_backward",
        lambda tokens, upstream, vocab_size: (
            embedding_backward(tokens, upstream, vocab_size)
            / np.maximum(np.bincount(tokens.ravel(), minlength=vocab_size), 1)[:, None]
        ),
        "not averaged",
    ),
    (
        "embedding_backward",
        lambda tokens, upstream, vocab_size: embedding_backward(
            tokens, np.ones_like(upstream), vocab_size
        ),
        "counts each token's uses",
    ),
    ("embedding_backward", lambda tokens, upstream, vocab_size: upstream, "shape"),
    (
        "network_backward",
        lambda X, labels, W1, b1, W2, b2, h, P: _network_with_da(
            X, labels, W1, b1, W2, b2, h, P, lambda dh, h: dh * (1 - h**2)
        ),
        "tanh's slope",
    ),
    (
        "network_backward",
        lambda X, labels, W1, b1, W2, b2, h, P: {
            **network_backward(X, labels, W1, b1, W2, b2, h, P),
            "dlogits": P / len(labels),
        },
        "the one-hot target's part is missing",
    ),
    ("embedding_backward", _embedding_in_integers, "whole numbers only (dtype int64)"),
    (
        "layer_norm_backward",
        lambda x, upstream, eps: (
            layer_norm_backward(x, upstream, eps) * _ln_parts(x, upstream, eps)[1]
        ),
        "the factor 1/s is missing",
    ),
    (
        "layer_norm_backward",
        lambda x, upstream, eps: (
            lambda y, s, g: (
                (g - g.sum(axis=-1, keepdims=True) - y * (g * y).mean(axis=-1, keepdims=True)) / s
            )
        )(*_ln_parts(x, upstream, eps)),
        "the path through μ sums upstream over the row",
    ),
    (
        "layer_norm_backward",
        lambda x, upstream, eps: 2 * layer_norm_backward(x, upstream, eps),
        "twice the engine's: a factor of 2 too many",
    ),
    (
        "layer_norm_backward",
        lambda x, upstream, eps: layer_norm_backward(x, upstream, eps) / 2,
        "half the engine's: a factor of 2 is missing",
    ),
    ("tanh_backward", lambda upstream, x, out: upstream * (1 - x**2), "uses its output"),
    ("tanh_backward", lambda upstream, x, out: 1 - out**2, "the upstream gradient is missing"),
    ("tanh_backward", lambda upstream, x, out: -upstream * (1 - out**2), "wrong sign"),
    ("sum_to_shape", lambda grad, shape: grad, "copied it along axis 0"),
    ("sum_to_shape", lambda grad, shape: np.asarray(grad.sum()), "sums over every axis"),
    (
        "sum_to_shape",
        lambda grad, shape: (
            sum_to_shape(grad, shape).reshape(-1)
            if grad.ndim == len(shape)
            else sum_to_shape(grad, shape)
        ),
        "keepdims=True",
    ),
    ("sum_to_shape", lambda grad, shape: sum_to_shape(grad, shape) / 4, "averages the copies"),
    (
        "matmul_backward",
        lambda upstream, A, B: (upstream @ B.swapaxes(-1, -2), A.swapaxes(-1, -2) @ upstream),
        "copied it along axis 0",
    ),
    (
        "matmul_backward",
        lambda upstream, A, B: (upstream @ B, A.T @ upstream),
        "with B as it is: the shapes fit only because this case is square",
    ),
    (
        "matmul_backward",
        lambda upstream, A, B: (upstream @ B.swapaxes(-1, -2), (A.swapaxes(-1, -2) @ upstream).T),
        "transposed",
    ),
    ("softmax_vjp", lambda p, upstream: upstream * p * (1 - p), "only the diagonal"),
    (
        "softmax_vjp",
        lambda p, upstream: p * (upstream - (upstream * p).sum(axis=0, keepdims=True)),
        "summed over axis 0",
    ),
    ("softmax_vjp", lambda p, upstream: -softmax_vjp(p, upstream), "sign is flipped"),
    (
        "softmax_vjp",
        lambda p, upstream: (
            (np.diag(p) - np.outer(p, p)).T @ upstream if p.ndim == 1 else softmax_vjp(p, upstream)
        ),
        "as much as building",
    ),
    (
        "cross_entropy_backward",
        lambda logits, labels: cross_entropy_backward(logits, labels) * len(labels),
        "times too big: the loss is the mean over the batch, not its sum",
    ),
    (
        "cross_entropy_backward",
        lambda logits, labels: softmax_probabilities(logits) / len(labels),
        "the one-hot target's part is missing",
    ),
    (
        "cross_entropy_backward",
        lambda logits, labels: -cross_entropy_backward(logits, labels),
        "sign is flipped",
    ),
    (
        "cross_entropy_find_the_bug",
        _planted_bug,
        "bug is still there",
    ),
    (
        "cross_entropy_find_the_bug",
        lambda logits, labels: _planted_bug(logits, labels) * len(labels),
        "the division by N is gone, and the teammate's bug is still there",
    ),
    (
        "cross_entropy_find_the_bug",
        lambda logits, labels: cross_entropy_backward(logits, labels) * len(labels),
        "times too big",
    ),
    (
        "cross_entropy_find_the_bug",
        lambda logits, labels: -cross_entropy_backward(logits, labels),
        "sign is flipped",
    ),
    (
        "network_backward",
        _net_with(dlogits=lambda g, P, labels, **_: P - np.eye(P.shape[1])[labels]),
        "the mean over the N examples",
    ),
    ("network_backward", _net_with(dW2=lambda g, h, **_: g["dlogits"].T @ h), "transposed"),
    ("network_backward", _net_with(db2=lambda g, **_: g["dlogits"]), "copied it along axis 0"),
    ("network_backward", _net_with(dh=_overwrite_paths), "overwrote dh"),
    ("network_backward", _net_with(da=lambda g, **_: g["dh"]), "multiplies by its local partial"),
    ("network_backward", _net_with(da=lambda g, h, **_: g["dh"] * h), "multiplies by h only"),
    ("network_backward", _net_with(da=lambda g, h, **_: g["dh"] * (1 - h)), "by (1 − h) only"),
    ("network_backward", _net_with(dW1=lambda g, X, **_: X.T @ g["dh"]), "through the sigmoid"),
]


@pytest.mark.parametrize(("name", "fn", "says"), WRONG)
def test_a_typical_mistake_gets_its_diagnosis(name, fn, says):
    report = check_exercise(name, fn)
    assert not report.ok and report.verdict == "wrong"
    assert says in " ".join(str(report).split()), str(report)
    assert_no_solution_line(name, report)


def test_each_exercise_has_at_least_three_diagnosed_mistakes():
    counts = {name: sum(1 for n, _, _ in WRONG if n == name) for name in EXERCISES}
    assert min(counts.values()) >= 3, counts


def test_a_wrong_output_built_from_a_wrong_one_says_so():
    broken = _net_with(dlogits=lambda g, P, labels, **_: P - np.eye(P.shape[1])[labels])

    def chained(X, labels, W1, b1, W2, b2, h, P):
        grads = broken(X, labels, W1, b1, W2, b2, h, P)
        grads["dW2"] = h.T @ grads["dlogits"]  # right formula, wrong input
        return grads

    report = check_exercise("network_backward", chained)
    assert "fix dlogits first" in str(report)


# ---- learner code that misbehaves: feedback, never a traceback -------------------------------


def test_placeholders_read_not_written_yet():
    def dots(grad, shape): ...

    def raising(grad, shape):
        raise NotImplementedError

    def documented(grad, shape):
        """Sum grad back to shape."""
        ...

    def returns_dots(grad, shape):
        return ...

    for fn in (dots, raising, documented, returns_dots):
        assert is_placeholder(fn)
        report = check_exercise("sum_to_shape", fn)
        assert report.verdict == "not written yet" and not report.ok

    def partly(upstream, A, B):
        dA = upstream @ B.T
        dB = ...
        return dA, dB

    assert "dB is still `...`" in str(check_exercise("matmul_backward", partly))


def test_an_exception_names_the_line():
    def broken(upstream, x, out):
        slope = 1 - out**2
        return upstream * slope / 0.0 if False else upstream * undefined_name  # noqa: F821

    report = check_exercise("tanh_backward", broken)
    assert report.verdict == "error"
    assert "NameError" in report.message and "line 3 of your function" in report.message
    assert "undefined_name" in report.message


@pytest.mark.parametrize(
    ("fn", "says"),
    [
        (lambda grad, shape: None, "did you forget to `return`"),
        (lambda grad, shape: "abc", "not an array"),
        (lambda grad, shape: {"a": 1}, "not an array of numbers"),
        (lambda grad, shape: np.full(shape, np.nan), "NaN"),
        (lambda grad, shape: np.zeros((7, 7)), "must have the shape of its input"),
    ],
)
def test_garbage_gets_a_sentence(fn, says):
    report = check_exercise("sum_to_shape", fn)
    assert not report.ok and says in str(report), str(report)


def test_a_shape_error_in_learner_code_shows_the_shapes():
    report = check_exercise("matmul_backward", lambda u, A, B: (u @ B.T, np.ones((2, 5)) @ u))
    assert report.verdict == "error" and "The shapes do not fit" in report.message
    assert "A (3, 3)" in report.message


def test_wrong_number_of_outputs_and_missing_keys():
    assert "return 2 things" in check_exercise("matmul_backward", lambda u, A, B: u).message
    report = check_exercise("network_backward", lambda *args: {"dlogits": 0})
    assert "lacks dW2" in report.message


def test_a_function_that_never_ends_is_stopped(monkeypatch):
    monkeypatch.setattr(exercises, "TIME_LIMIT_S", 0.3)

    def forever(grad, shape):
        while True:
            pass

    report = check_exercise("sum_to_shape", forever)
    assert report.verdict == "error" and "still running after 0.3 s" in report.message


def test_not_a_function_and_unknown_exercise():
    assert check_exercise("sum_to_shape", 42).verdict == "error"
    with pytest.raises(ValueError, match="no exercise named"):
        check_exercise("nope", sum_to_shape)


def test_the_report_renders_as_text_and_html():
    report = check_exercise("network_backward", _net_with(db2=lambda g, **_: g["dlogits"]))
    text, page = str(report), report._repr_html_()
    assert "db2" in text and "wrong" in text and ("exact" in text or "close" in text)
    assert "<table>" in page and "<code>db2</code>" in page and "&lt;" not in text


@pytest.mark.parametrize(
    ("name", "fn"),
    [
        ("tanh_backward", lambda upstream, x, out: upstream),
        ("softmax_vjp", lambda p, upstream: upstream),
        ("layer_norm_backward", lambda x, upstream, eps: upstream),
    ],
)
def test_handing_back_the_upstream_unchanged_is_named(name, fn):
    report = str(check_exercise(name, fn))
    assert "is the upstream gradient `upstream` itself" in report, report


def test_an_unrecognised_wrong_answer_gets_no_made_up_cause():
    report = str(check_exercise("tanh_backward", lambda upstream, x, out: 2 * upstream))
    assert "and the engine's gradient differ, and not by a sign" in report, report


def test_exit_in_the_learners_function_is_reported_not_raised():
    import sys

    def leaves(grad, shape):
        sys.exit("bye")

    report = check_exercise("sum_to_shape", leaves)
    assert report.verdict == "error" and "called exit" in report.message
    assert "line 2 of your function" in report.message


def test_a_loop_that_swallows_exceptions_is_still_stopped(monkeypatch):
    monkeypatch.setattr(exercises, "TIME_LIMIT_S", 0.3)

    def stubborn(grad, shape):
        while True:
            try:
                sum(range(1000))
            except Exception:  # noqa: BLE001, S112  (what the learner wrote)
                pass

    report = check_exercise("sum_to_shape", stubborn)
    assert report.verdict == "error" and "still running" in report.message


@pytest.mark.parametrize("wait", ["compute", "sleep"])
def test_a_loop_around_a_bare_except_is_still_stopped(monkeypatch, wait):
    """A bare ``except: pass`` catches the checker's alarm too: each alarm fell into it and the
    loop ran on for good (a hang a learner could only end by restarting the kernel)."""
    import sys
    import time

    monkeypatch.setattr(exercises, "TIME_LIMIT_S", 0.3)

    def swallows_everything(grad, shape):
        while True:
            try:
                sum(range(1000)) if wait == "compute" else time.sleep(0.05)
            except:  # noqa: E722  (what the learner wrote)
                pass

    start, tracing = time.monotonic(), sys.gettrace()
    report = check_exercise("sum_to_shape", swallows_everything)
    assert report.verdict == "error" and "still running after 0.3 s" in report.message
    assert time.monotonic() - start < 3
    assert sys.gettrace() is tracing  # the tracing that stopped it is gone again
    assert check_exercise("sum_to_shape", sum_to_shape).ok


def test_a_complex_answer_is_not_judged_by_its_real_part():
    report = check_exercise("sum_to_shape", lambda grad, shape: sum_to_shape(grad, shape) + 1j)
    assert not report.ok and "complex" in str(report)


def test_a_float32_answer_is_told_about_precision():
    def in_float32(p, upstream):
        return softmax_vjp(p.astype(np.float32), upstream.astype(np.float32))

    report = check_exercise("softmax_vjp", in_float32)
    assert not report.ok and "float32 precision" in str(report), str(report)


@pytest.mark.parametrize(
    ("name", "fn"),
    [
        ("softmax_vjp", lambda p, upstream: softmax_vjp(p.astype(np.float32), upstream)),
        (
            "network_backward",
            lambda X, labels, W1, b1, W2, b2, h, P: network_backward(
                X.astype(np.float32), labels, W1, b1, W2, b2, h, P
            ),
        ),
        (
            "layer_norm_backward",
            lambda x, upstream, eps: layer_norm_backward(
                x, upstream.astype(np.float32).astype(np.float64), eps
            ),
        ),
    ],
    ids=["softmax_vjp", "network_backward", "layer_norm_backward"],
)
def test_a_float32_step_in_a_float64_answer_is_told_about_precision(name, fn):
    """Issue 22: computed in float32 and handed back in float64, the answer is off by float32
    rounding only: a word about precision, not 'check it term by term'."""
    report = check_exercise(name, fn)
    text = " ".join(str(report).split())
    assert not report.ok and "to about float32 precision only" in text, text
    assert "term by term" not in text
    (row,) = [r for r in report.rows if r.status == "wrong"]
    assert row.max_difference < 1e-5
    assert_no_solution_line(name, report)


def test_a_slip_far_above_float32_rounding_is_not_put_down_to_precision():
    report = check_exercise("softmax_vjp", lambda p, upstream: softmax_vjp(p, upstream) * 1.001)
    assert "float32" not in str(report)


def test_an_object_that_will_not_become_an_array_gets_a_sentence():
    class Stubborn:
        def __array__(self, *args, **kwargs):
            raise RuntimeError("Can't call numpy() on Tensor that requires grad")

    report = check_exercise("sum_to_shape", lambda grad, shape: Stubborn())
    assert not report.ok and "not an array of numbers" in str(report)


def test_no_exercise_named_none():
    with pytest.raises(TypeError, match="needs an exercise name"):
        check_exercise(None, sum_to_shape)


def test_the_engines_rule_shows_only_after_a_right_answer():
    from course_lib.teaching.code_check import show_rule_if_right

    right = check_exercise("sum_to_shape", sum_to_shape)
    wrong = check_exercise("sum_to_shape", lambda grad, shape: grad)
    unwritten = check_exercise("sum_to_shape", lambda grad, shape: ...)
    assert show_rule_if_right(right, sum_to_shape).startswith("def sum_to_shape(")
    for report in (wrong, unwritten):
        shown = show_rule_if_right(report, sum_to_shape)
        assert "once your sum_to_shape is right" in shown and "def " not in shown
    with pytest.raises(TypeError, match="the report check_exercise returned"):
        show_rule_if_right(None, sum_to_shape)


# ---- first attempts never show the solution's line ----------------------------------------------

# Fragments of each solution's lines (and of their formulas in symbols), in a normal form
# (no spaces, ᵀ as .T, − as -, · × ⊙ as *, ² as **2): a first wrong attempt never shows one.
SOLUTION_LINES = {
    "tanh_backward": ["upstream*(1-out**2)"],
    "sum_to_shape": ["grad.sum(axis=expanded,keepdims=True)", "grad.sum(axis=tuple(range(added)))"],
    "matmul_backward": [
        "upstream@B.T",
        "upstream@B.swapaxes(-1,-2)",
        "A.T@upstream",
        "A.swapaxes(-1,-2)@upstream",
        "GB.T",
        "A.TG",
    ],
    "softmax_vjp": ["p*(upstream-", "p*(g-", "(upstream*p).sum(", "(g*p).sum(axis=-1,keepdims"],
    "cross_entropy_backward": ["(P-Y)/N", "np.arange(", "-=1"],
    "cross_entropy_find_the_bug": ["np.arange(", "Y[np.arange"],
    "network_backward": [
        "(P-Y)/N",
        "h.T@dlogits",
        "h.Tdlogits",
        "dlogits@W2.T",
        "dlogitsW2.T",
        "h*(1-h)",
        "h(1-h)",
        "X.T@da",
        "X.Tda",
        "dlogits.sum(axis=0)",
        "da.sum(axis=0)",
    ],
    "layer_norm_backward": [
        "y*mean(g*y)",
        "-mean(g)-",
        "(g-mean_g-y*mean_gy)/s",
        "(g*y).mean(axis=-1",
        "g.mean(axis=-1",
    ],
    "embedding_backward": ["np.add.at(dW,tokens,upstream)", "add.at(dW,"],
}


def assert_no_solution_line(name, report) -> None:
    """No fragment of the solution's lines in the report (those listed above, and every
    statement of the solution written here), apart from the learner's own line that raised
    (quoted after "of your function:")."""
    shown = normal(re.sub(r"of your function: `[^`]*`", "", str(report)))
    own = solution_fragments(inspect.getsource(SOLUTIONS[name]))
    for line in SOLUTION_LINES[name] + own:
        assert line not in shown, (line, str(report))


def test_every_exercise_has_its_solution_lines_and_a_rule():
    assert set(SOLUTION_LINES) == set(EXERCISES)
    for exercise in EXERCISES.values():
        assert exercise.rule.strip(), exercise.name


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_no_mistake_sentence_in_the_bank_prints_the_solutions_line(name):
    """The audit of issue 22: every sentence a case holds (its mistakes, its known errors, its
    overflow note) names the slip and where to look, never the fix's line."""
    for seed in (0, 1, 2):
        for case in EXERCISES[name].make_cases(np.random.default_rng(seed)):
            sentences = [why for _, _, why in case.mistakes] + [why for _, why in case.errors]
            sentences.append(case.overflow)
            for sentence in sentences:
                for line in SOLUTION_LINES[name]:
                    assert line not in normal(sentence), (name, line, sentence)


def _flat(text: str) -> str:
    """``text`` with its whitespace runs as single spaces (a report wraps its lines)."""
    return " ".join(text.split())


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_every_listed_mistake_submitted_is_named_without_the_solution_then_gets_the_rule(
    name, seed
):
    """Issue 22's tiers, for every mistake the bank lists (each planted in a function that is
    right on every other case): a first attempt names it by its sentence, with no rule and no
    line of the solution; the same slip again, written another way, also shows the rule."""
    tried = 0
    for slip in submissions(name, SOLUTIONS[name], seed):
        forget_attempts()
        first = check_exercise(name, slip.fn, seed=seed)
        shown = " ".join(str(first).split())
        assert first.verdict == "wrong", (slip.case, slip.says, shown)
        assert " ".join(slip.says.split()) in shown, (slip.case, slip.says, shown)
        assert first.rule == "" and "The rule:" not in shown, shown
        assert_no_solution_line(name, first)
        again = check_exercise(name, slip.again, seed=seed)
        if _flat(slip.says) == _flat(EXERCISES[name].handed_out):
            # the planted bug: its first check is the notebook's own code, not an attempt, so
            # the rule comes with the learner's second writing of it
            assert again.rule == "", str(again)
            again = check_exercise(name, lambda *a, fn=slip.again: fn(*a), seed=seed)
        assert again.rule, (slip.case, slip.says, str(again))
        assert " ".join(slip.says.split()) in " ".join(str(again).split())
        if name == "network_backward":  # the rule of the output that slipped, not all seven
            assert again.rule == EXERCISES[name].output_rules[slip.output], str(again)
        else:
            assert again.rule == EXERCISES[name].rule
        tried += 1
    assert tried >= 3, (name, tried)


# ---- 1. the network's backward returns what the exercise asks: a dict of numpy arrays ----------


def _as_tuple(X, labels, W1, b1, W2, b2, h, P):
    grads = network_backward(X, labels, W1, b1, W2, b2, h, P)
    return tuple(grads.values())


def _with_a_list(X, labels, W1, b1, W2, b2, h, P):
    grads = network_backward(X, labels, W1, b1, W2, b2, h, P)
    grads["dW1"] = grads["dW1"].tolist()
    return grads


def _returns_nothing(X, labels, W1, b1, W2, b2, h, P):
    network_backward(X, labels, W1, b1, W2, b2, h, P)


def test_the_network_backward_must_return_a_dict_not_a_tuple():
    report = check_exercise("network_backward", _as_tuple)
    assert not report.ok
    assert (
        "return a dict with keys dlogits, dW2, db2, dh, da, dW1, db1 (your function returned a "
        "tuple" in report.message
    ), report.message
    assert_no_solution_line("network_backward", report)


def test_a_python_list_in_the_networks_dict_is_named():
    report = check_exercise("network_backward", _with_a_list)
    assert not report.ok
    assert "dW1 is a Python list: return a numpy array" in str(report), str(report)
    others = [r for r in report.rows if r.output != "dW1"]
    assert all(r.status in ("exact", "close") for r in others), str(report)
    assert "fix" not in str(report)  # no "built from ..., fix ... first" about a list


def test_none_from_the_network_asks_for_the_dict_and_none_from_matmul_for_two_things():
    report = check_exercise("network_backward", _returns_nothing)
    assert not report.ok and "dict with keys dlogits" in report.message
    assert "things" not in report.message and "tuple" not in report.message
    assert "forget the `return`" in report.message
    report = check_exercise("matmul_backward", lambda upstream, A, B: None)
    assert "return 2 things, (dA, dB)" in report.message and "None" in report.message


# ---- 2. cross-entropy: the case that tells mistakes apart is the one that names them -----------


def _eye_of_batch_size(logits, labels):
    Y = np.eye(len(labels))[labels]  # BUG: an identity of size N, not C
    return (softmax_probabilities(logits) - Y) / len(labels)


def _by_size(logits, labels):
    P = softmax_probabilities(logits)
    P[np.arange(len(labels)), labels] -= 1
    return P / logits.size  # BUG: N·C entries, not N rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_an_identity_of_the_batch_size_is_named_not_mistaken_for_whole_rows(seed):
    report = check_exercise("cross_entropy_backward", _eye_of_batch_size, seed=seed)
    assert not report.ok
    text = str(report)
    assert "np.eye(N)" in text and "one entry per class, C = 3" in text, text
    assert "P[y]" not in text and "picks whole rows" not in text, text
    assert_no_solution_line("cross_entropy_backward", report)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dividing_by_logits_size_is_named_not_mistaken_for_dividing_by_c(seed):
    report = check_exercise("cross_entropy_backward", _by_size, seed=seed)
    text = str(report).replace("\n    ", " ")
    assert not report.ok and "that divides by N·C = 12" in text, text
    assert "divides by C" not in text
    assert_no_solution_line("cross_entropy_backward", report)


def test_a_case_that_cannot_tell_mistakes_apart_still_reports_when_nothing_else_fails():
    """A mistake only the batch of one shows (nothing else fails) is still reported there."""

    def wrong_for_one_row(logits, labels):
        grad = cross_entropy_backward(logits, labels)
        return grad * 2 if len(labels) == 1 else grad

    report = check_exercise("cross_entropy_backward", wrong_for_one_row)
    assert not report.ok and "(1, 3)" in report.case


# ---- 3. an unstable softmax overflows on large logits ------------------------------------------


def _naive_softmax_backward(logits, labels):
    e = np.exp(logits)  # BUG: overflows for a large logit
    P = e / e.sum(axis=1, keepdims=True)
    P[np.arange(len(labels)), labels] -= 1
    return P / len(labels)


@pytest.mark.parametrize("name", ["cross_entropy_backward", "cross_entropy_find_the_bug"])
def test_an_unstable_softmax_fails_on_large_logits_and_is_named(name):
    report = check_exercise(name, _naive_softmax_backward)
    assert not report.ok and "near 1000" in report.case
    text = " ".join(str(report).split())
    assert "exp of a logit near 1000 overflows float64" in text, text
    assert 'notebook 05\'s section "Stability: softmax at z = 1000"' in text
    assert "max first" not in text and "subtract" not in text  # where to look, not the fix
    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "05_softmax_jacobian.ipynb"
    assert "## Stability: softmax at $z = 1000$" in notebook.read_text()  # the section named
    assert_no_solution_line(name, report)


# ---- 4. a missing keepdims -----------------------------------------------------------------------


def test_a_softmax_vjp_without_keepdims_is_told_about_keepdims():
    report = check_exercise(
        "softmax_vjp", lambda p, upstream: p * (upstream - (upstream * p).sum(axis=-1))
    )
    assert report.verdict == "error" and "your function raised ValueError" in report.message
    assert "⟨g, p⟩ has shape (N,)" in report.message and "keepdims=True" in report.message
    assert "so each row subtracts its own" in report.message
    assert "here p (4, 5), upstream (4, 5)" not in report.message  # two shapes that do fit
    assert_no_solution_line("softmax_vjp", report)


def test_any_broadcast_error_with_an_axis_dropped_mentions_keepdims():
    def shifted_without_keepdims(logits, labels):
        e = np.exp(logits - logits.max(axis=1))  # BUG: (4, 3) minus (4,)
        P = e / e.sum(axis=1, keepdims=True)
        P[np.arange(len(labels)), labels] -= 1
        return P / len(labels)

    report = check_exercise("cross_entropy_backward", shifted_without_keepdims)
    assert report.verdict == "error", str(report)
    assert "(4,) is (4, 3) with axis 1 dropped" in report.message
    assert "keepdims=True" in report.message
    assert_no_solution_line("cross_entropy_backward", report)


def test_a_broadcast_error_without_a_dropped_axis_lists_the_shapes_it_names():
    report = check_exercise("sum_to_shape", lambda grad, shape: grad + np.ones((5, 7)))
    assert report.verdict == "error" and "The shapes (4, 3) and (5, 7) do not fit" in report.message
    assert "keepdims" not in report.message


# ---- 5. mistakes named today --------------------------------------------------------------------


def _dh_from_first_output(grads, W2, **_):
    return grads["dlogits"][:, :1] * W2[:, 0]


def _dh_from_true_class(grads, W2, labels, **_):
    rows = np.arange(len(labels))
    return grads["dlogits"][rows, labels][:, None] * W2[:, labels].T


def _sigma_of_h(grads, h, **_):
    s = 1 / (1 + np.exp(-h))  # BUG: h is σ(a) already
    return grads["dh"] * s * (1 - s)


def _chain_da(change):
    """Change da and recompute what is built from it, as a learner's code would."""

    def backward(X, labels, W1, b1, W2, b2, h, P):
        grads = network_backward(X, labels, W1, b1, W2, b2, h, P)
        grads["da"] = change(grads, h=h)
        grads["dW1"], grads["db1"] = X.T @ grads["da"], grads["da"].sum(axis=0)
        return grads

    return backward


def _ln_without_eps(x, upstream, eps):
    return layer_norm_backward(x, upstream, 0.0)


def _ln_sample_variance(x, upstream, eps):
    d = x - x.mean(axis=-1, keepdims=True)
    s = np.sqrt(x.var(axis=-1, ddof=1, keepdims=True) + eps)  # BUG: ddof=1
    y, g = d / s, upstream
    return (g - g.mean(axis=-1, keepdims=True) - y * (g * y).mean(axis=-1, keepdims=True)) / s


def _embedding_by_sequence(tokens, upstream, vocab_size):
    dW = np.zeros((vocab_size, upstream.shape[-1]))
    for n, t in enumerate(tokens):  # right for a 1-D list, wrong for a (B, T) batch
        dW[t] += upstream[n]
    return dW


def _embedding_returns_add_at(tokens, upstream, vocab_size):
    dW = np.zeros((vocab_size, upstream.shape[-1]))
    return np.add.at(dW, tokens, upstream)  # BUG: np.add.at returns None


def _embedding_assigns_add_at(tokens, upstream, vocab_size):
    dW = np.zeros((vocab_size, upstream.shape[-1]))
    dW = np.add.at(dW, tokens, upstream)  # BUG: dW is None now
    return dW


def _matmul_swapped(upstream, A, B):
    dA, dB = matmul_backward(upstream, A, B)
    return dB, dA


def _matmul_mean_over_stack(upstream, A, B):
    dA = upstream @ B.swapaxes(-1, -2)
    dB = A.swapaxes(-1, -2) @ upstream
    while dB.ndim > B.ndim:
        dB = dB.mean(axis=0)  # BUG: a mean where a sum belongs
    return dA, dB


def _network_keys_swapped(X, labels, W1, b1, W2, b2, h, P):
    grads = network_backward(X, labels, W1, b1, W2, b2, h, P)
    grads["dW2"], grads["dh"] = grads["dh"].T @ grads["dlogits"], grads["dh"]
    grads["dW1"], grads["db1"] = grads["db1"], grads["dW1"]
    return grads


NAMED_NOW = [
    (
        "softmax_vjp",
        lambda p, upstream: p * (upstream - (upstream * p).sum()),
        "summed over the whole array",
    ),
    (
        "cross_entropy_backward",
        lambda logits, labels: (
            (np.log(softmax_probabilities(logits)) - np.eye(logits.shape[1])[labels]) / len(labels)
        ),
        "uses the log-probabilities",
    ),
    ("network_backward", _net_with(dh=_dh_from_first_output), "path through the first output"),
    ("network_backward", _net_with(dh=_dh_from_true_class), "only each example's true-class"),
    ("network_backward", _chain_da(_sigma_of_h), "applies σ to h, but h is already σ(a)"),
    ("layer_norm_backward", _ln_without_eps, "ε is missing from s"),
    ("layer_norm_backward", _ln_sample_variance, "ddof=1, the sample variance"),
    ("embedding_backward", _embedding_by_sequence, "count each token's uses in every sequence"),
    (
        "embedding_backward",
        _embedding_returns_add_at,
        "np.add.at works in place and returns None: return the array you added into",
    ),
    ("embedding_backward", _embedding_assigns_add_at, "np.add.at works in place and returns None"),
    ("matmul_backward", _matmul_swapped, "in another order; return them in the order (dA, dB)"),
    ("matmul_backward", _matmul_mean_over_stack, "that averages over the stack"),
    ("network_backward", _network_keys_swapped, "that is what db1 should be, stored under the key"),
]


@pytest.mark.parametrize(
    ("name", "fn", "says"), NAMED_NOW, ids=lambda v: getattr(v, "__name__", "")
)
def test_a_mistake_that_had_no_name_has_one(name, fn, says):
    report = check_exercise(name, fn)
    assert not report.ok and report.verdict == "wrong", str(report)
    text = " ".join(str(report).split())
    assert says in text, text
    assert "and the engine's gradient differ, and not by a sign" not in text
    assert "The rule:" not in text  # a first attempt
    assert_no_solution_line(name, report)


def test_the_layer_norm_without_eps_is_off_by_a_small_amount_only():
    report = check_exercise("layer_norm_backward", _ln_without_eps)
    (row,) = report.rows
    assert 1e-7 < row.max_difference < 1e-4


def test_the_loop_over_sequences_is_right_for_one_sequence():
    tokens, upstream = np.array([1, 3, 1]), np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(
        _embedding_by_sequence(tokens, upstream, 4), embedding_backward(tokens, upstream, 4)
    )


# ---- 6. feedback in tiers -----------------------------------------------------------------------


def _vjp_diagonal_only(p, upstream):
    return upstream * p * (1 - p)


def _vjp_diagonal_again(p, upstream):
    diagonal = p * (1 - p)  # the same mistake, written another way
    return diagonal * upstream


def test_the_same_mistake_again_shows_the_rule_without_the_code():
    first = check_exercise("softmax_vjp", _vjp_diagonal_only)
    assert "keeps only the diagonal" in str(first) and "The rule:" not in str(first)
    assert first.rule == "" and wrong_attempts("softmax_vjp") == 1
    second = check_exercise("softmax_vjp", _vjp_diagonal_again)
    assert "keeps only the diagonal" in str(second)
    assert "The rule: (Jᵀg)_j = p_j (g_j − ⟨g, p⟩)" in str(second).replace("\n", " ")
    assert "The rule:" in second._repr_html_()
    assert wrong_attempts("softmax_vjp") == 2
    assert "keepdims=True" not in second.rule and "(upstream" not in second.rule  # symbols only


def test_checking_the_same_code_again_is_not_a_new_attempt():
    check_exercise("network_backward", _net_with(db2=lambda g, **_: g["dlogits"]))
    again = _net_with(db2=lambda g, **_: g["dlogits"])  # another closure, other code object
    first = check_exercise("embedding_backward", _embedding_overwrite)
    rerun = check_exercise("embedding_backward", _embedding_overwrite)  # e.g. a later cell
    assert str(first) == str(rerun) and "The rule:" not in str(rerun)
    assert wrong_attempts("embedding_backward") == 1
    assert check_exercise("network_backward", again).rule  # a second attempt there
    assert wrong_attempts("network_backward") == 2


def test_attempts_are_counted_per_exercise_and_can_be_forgotten():
    check_exercise("softmax_vjp", _vjp_diagonal_only)
    assert "The rule:" not in str(check_exercise("tanh_backward", lambda u, x, out: u * out))
    assert wrong_attempts("softmax_vjp") == 1 and wrong_attempts("tanh_backward") == 1
    forget_attempts("softmax_vjp")
    assert wrong_attempts("softmax_vjp") == 0 and wrong_attempts("tanh_backward") == 1
    assert "The rule:" not in str(check_exercise("softmax_vjp", _vjp_diagonal_again))
    forget_attempts()
    assert wrong_attempts("tanh_backward") == 0


def test_right_and_unwritten_attempts_are_not_counted():
    check_exercise("softmax_vjp", softmax_vjp)
    check_exercise("softmax_vjp", lambda p, upstream: ...)
    assert wrong_attempts("softmax_vjp") == 0


def test_the_networks_rule_is_that_of_the_output_wrong_again_never_the_whole_list():
    """Notebook 07 asks for the backward from the forward pass alone: a second wrong attempt
    shows the rule of an output only when that output slips again, not the seven formulas."""
    from course_lib.teaching.classifier_cases import NETWORK_OUTPUT_RULES

    bias = check_exercise("network_backward", _net_with(db2=lambda g, **_: g["dlogits"]))
    assert bias.rule == ""
    skipped = _net_with(dW1=lambda g, X, **_: X.T @ g["dh"])  # another output slips
    assert check_exercise("network_backward", skipped).rule == ""
    again = check_exercise("network_backward", _net_with(db2=lambda g, **_: g["dlogits"] * 1))
    assert again.rule == NETWORK_OUTPUT_RULES["db2"], str(again)
    text = str(again)
    for other, rule in NETWORK_OUTPUT_RULES.items():
        if other != "db2":
            assert rule not in text, other
    # both slips again, in one attempt: both rules, in the order of the outputs
    both = _net_with(db2=lambda g, **_: g["dlogits"] + 0, dW1=lambda g, X, **_: X.T @ g["dh"] + 0)
    assert check_exercise("network_backward", both).rule == (
        f"{NETWORK_OUTPUT_RULES['db2']} {NETWORK_OUTPUT_RULES['dW1']}"
    )
    # an output wrong only because it is built from a wrong one is not a slip of its own
    forget_attempts()
    no_mean = _net_with(dlogits=lambda g, P, labels, **_: P - np.eye(P.shape[1])[labels])

    def chained(X, labels, W1, b1, W2, b2, h, P):
        grads = no_mean(X, labels, W1, b1, W2, b2, h, P)
        grads["dW2"] = h.T @ grads["dlogits"]  # right formula, built from the wrong dlogits
        return grads

    check_exercise("network_backward", no_mean)
    assert check_exercise("network_backward", chained).rule == NETWORK_OUTPUT_RULES["dlogits"]


def test_a_network_backward_that_fails_twice_before_any_output_gets_the_general_rule():
    from course_lib.teaching.classifier_cases import NETWORK_RULE

    check_exercise("network_backward", lambda *args: [][0])
    second = check_exercise("network_backward", lambda *args: 1 / 0)
    assert second.verdict == "error" and second.rule == NETWORK_RULE
    assert "=" not in NETWORK_RULE and "ᵀ" not in NETWORK_RULE  # in words: no formula


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_the_rule_shows_on_a_second_wrong_attempt_at_every_exercise(name):
    def first(*args):
        return 0.0

    def second(*args):
        return 1.0

    assert check_exercise(name, first).rule == ""
    assert check_exercise(name, second).rule == EXERCISES[name].rule


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_an_attempt_that_gives_nothing_back_does_not_bring_the_rule_closer(name):
    """A function without a ``return`` (None) has no maths to judge: the check asks for the
    return, and the next attempt with numbers is still a first attempt (no rule)."""

    def unreturned(*args):
        _ = args

    def half_written(*args):
        _ = [args]

    def first(*args):
        return 0.0

    for fn in (unreturned, half_written):
        report = check_exercise(name, fn)
        assert report.verdict in ("wrong", "error") and report.rule == "", str(report)
        assert not report.answered and "return" in str(report)
    assert wrong_attempts(name) == 0
    assert check_exercise(name, first).rule == ""
    assert wrong_attempts(name) == 1


def test_a_scalar_rule_is_told_of_numbers_not_arrays_and_text_is_not_an_attempt():
    """Notebook 02's tanh rule works on single numbers: its feedback never speaks of shapes or
    arrays, which notebook 03 introduces; text where the number belongs is not an attempt."""
    for returned, says in (
        (lambda upstream, x, out: [upstream * (1 - out**2)], "return the number itself"),
        (lambda upstream, x, out: np.array([1.0, 2.0]), "holds 2 numbers"),
        (lambda upstream, x, out: "abc", "the text 'abc', not a number"),
        (lambda upstream, x, out: "1.5", "the text '1.5', not a number"),
    ):
        shown = str(check_exercise("tanh_backward", returned))
        assert says in shown and "shape" not in shown and "array" not in shown.split(says)[1]
    assert wrong_attempts("tanh_backward") == 2  # the list and the array; not the two texts


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_a_misspelt_name_is_reported_but_does_not_bring_the_rule_closer(name):
    """Two typos in a row (NameError: Python stopped before any maths ran) get the error each
    time, never the rule; the next attempt with numbers is still a first attempt."""

    def typo(*args):
        return otu  # noqa: F821

    def other_typo(*args):
        return outt  # noqa: F821

    for fn in (typo, other_typo):
        report = check_exercise(name, fn)
        assert report.verdict == "error" and report.rule == "", str(report)
        assert "NameError" in str(report) and not report.answered
    assert wrong_attempts(name) == 0

    def first(*args):
        return 0.0

    def crash(*args):
        return [][0]  # an IndexError is code that ran: it counts

    assert check_exercise(name, first).rule == ""
    assert check_exercise(name, crash).rule == EXERCISES[name].rule


def test_an_attribute_spelt_close_to_a_real_one_is_a_typo_and_a_far_one_is_not():
    def shpe(upstream, x, out):
        return np.asarray(upstream).shpe  # .shape, misspelt

    def grad_of_a_number(upstream, x, out):
        return out.grad  # a number has no gradient: that is no typo

    report = check_exercise("tanh_backward", shpe)
    assert "AttributeError" in str(report) and not report.answered
    report = check_exercise("tanh_backward", grad_of_a_number)
    assert "AttributeError" in str(report) and report.answered
    assert wrong_attempts("tanh_backward") == 1


# ---- 7. the docstring's table names each exercise's notebook ------------------------------------


def test_the_bank_docstring_names_the_notebook_that_checks_each_exercise():
    notebooks = Path(__file__).resolve().parents[1] / "notebooks"
    rows = re.findall(r"^``(\w+)``\s.*?\s(\d\d)$", exercise_bank.__doc__, re.M)
    assert {name for name, _ in rows} == set(EXERCISES)
    for name, number in rows:
        (path,) = notebooks.glob(f"{number}_*.ipynb")
        cells = json.loads(path.read_text())["cells"]
        source = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert f'check_exercise("{name}"' in source, (name, path.name)


# ---- 8. a class (or classes) to check, and mistakes a case's run names -------------------------


def _class_exercise(run, rule="the rule in symbols"):
    """An exercise on a learner's class: its one case builds the class with 2.0 and reads
    ``doubled()``, which must give 4.0."""
    case = exercises.Case("Thing(2.0).doubled()", {}, {"value": np.array(4.0)}, run=run)
    return exercises.Exercise("thing", "class Thing", ("value",), lambda rng: [case], rule=rule)


def _doubled(cls):
    return np.array(cls(2.0).doubled())


def _make_class(body: str):
    """A class defined from source, as a notebook cell defines one (so its source is known)."""
    namespace = {}
    exec(compile(body, "<cell>", "exec"), namespace)  # noqa: S102 (a learner's cell, simulated)
    return namespace["Thing"]


RIGHT_THING = """
class Thing:
    def __init__(self, x):
        self.x = x

    def doubled(self):
        return 2 * self.x
"""


def test_a_class_is_checked_through_a_case_run_and_named_in_the_report():
    report = exercises.run_exercise(_class_exercise(_doubled), _make_class(RIGHT_THING))
    assert report.ok and report.function == "Thing"


def test_a_class_that_raises_is_reported_with_the_method_and_its_line():
    broken = _make_class(RIGHT_THING.replace("return 2 * self.x", "return 2 * self.y"))
    report = exercises.run_exercise(_class_exercise(_doubled), broken)
    assert report.verdict == "error"
    assert report.message.startswith("your class raised AttributeError")
    assert "in Thing.doubled" in report.message


def test_a_mistake_a_case_run_names_is_reported_as_wrong_with_its_sentence():
    def run(cls):
        if cls(2.0).doubled() == 2.0:
            raise exercises.NamedMistake("doubled() returned its input unchanged: look at it")
        return _doubled(cls)

    same = _make_class(RIGHT_THING.replace("return 2 * self.x", "return self.x"))
    report = exercises.run_exercise(_class_exercise(run), same)
    assert report.verdict == "wrong" and report.rule == ""
    assert report.message == "doubled() returned its input unchanged: look at it"


def test_not_written_yet_may_say_what_is_not_written():
    def run(cls):
        raise NotImplementedError("Thing.doubled is not written yet")

    report = exercises.run_exercise(_class_exercise(run), _make_class(RIGHT_THING))
    assert report.verdict == "not written yet"
    assert report.message == "Thing.doubled is not written yet"


def test_the_same_class_defined_again_is_the_same_attempt_and_a_new_one_shows_the_rule():
    wrong = RIGHT_THING.replace("return 2 * self.x", "return 3 * self.x")
    exercise = _class_exercise(_doubled)
    first = exercises.run_exercise(exercise, _make_class(wrong))
    again = exercises.run_exercise(exercise, _make_class(wrong))  # the cell run twice
    assert first.rule == again.rule == ""
    other = exercises.run_exercise(exercise, _make_class(wrong.replace("3 *", "5 *")))
    assert other.rule == "the rule in symbols"
    assert wrong_attempts("thing") == 2


def test_a_tuple_of_classes_is_one_attempt_of_all_of_them():
    def run(classes):
        return np.array(classes[0](1.0).doubled() + classes[1](1.0).doubled())

    exercise = _class_exercise(run)
    right = _make_class(RIGHT_THING)
    wrong = _make_class(RIGHT_THING.replace("2 * self.x", "3 * self.x"))
    assert exercises.run_exercise(exercise, (right, right)).ok
    assert exercises.run_exercise(exercise, (right, wrong)).rule == ""
    # Only the second class changed: still a new attempt, so the rule shows.
    changed = _make_class(RIGHT_THING.replace("2 * self.x", "4 * self.x"))
    report = exercises.run_exercise(exercise, (right, changed))
    assert report.rule == "the rule in symbols" and report.function == "Thing, Thing"


def test_a_class_that_never_returns_is_stopped(monkeypatch):
    monkeypatch.setattr(exercises, "TIME_LIMIT_S", 0.3)  # the limit's length is not under test
    slow = _make_class(RIGHT_THING.replace("return 2 * self.x", "while True:\n            pass"))
    report = exercises.run_exercise(_class_exercise(_doubled), slow)
    assert report.verdict == "error"
    assert report.message.startswith("your class was still running after")


@pytest.mark.parametrize("seed", [-1, 2.5, "0", None, True, [], float("nan")])
def test_a_bad_seed_is_refused_in_words_not_by_numpy(seed):
    """seed=-1 or 2.5 reached numpy ('expected non-negative integer', 'SeedSequence expects
    int'); seed=None or [] silently drew fresh random cases."""
    from course_lib.teaching.code_exercise import run_exercise

    with pytest.raises((TypeError, ValueError), match="check_exercise: seed"):
        check_exercise("sum_to_shape", sum_to_shape, seed=seed)
    with pytest.raises((TypeError, ValueError), match="run_exercise: seed"):
        run_exercise(exercise_bank.EXERCISES["sum_to_shape"], sum_to_shape, seed=seed)
    assert check_exercise("sum_to_shape", sum_to_shape, seed=np.int64(3)).ok


def test_show_rule_if_right_needs_a_rule_to_show():
    from course_lib.teaching.code_check import show_rule_if_right

    report = check_exercise("sum_to_shape", lambda grad, shape: grad)
    with pytest.raises(TypeError, match="needs the library's rule \\(a function\\)"):
        show_rule_if_right(report, 5)


def test_the_find_the_bug_function_as_handed_out_is_not_an_attempt():
    """Run All checks the teammate's function as the notebook hands it out: that names the
    planted bug but is no attempt of the learner's, so their first own fix gets no rule."""
    ns = {"np": np}
    exec(  # noqa: S102 (the notebook's cell, as handed out)
        "def fused_backward(logits, labels):\n"
        "    N, C = logits.shape\n"
        "    shifted = logits - logits.max(axis=1, keepdims=True)\n"
        "    P = np.exp(shifted)\n"
        "    P /= P.sum(axis=1, keepdims=True)\n"
        "    Y = np.zeros((N, C))\n"
        "    Y[:, labels] = 1\n"
        "    return (P - Y) / N\n",
        ns,
    )
    handed_out = check_exercise("cross_entropy_find_the_bug", ns["fused_backward"])
    assert "before any change" in str(handed_out) and handed_out.rule == ""
    assert wrong_attempts("cross_entropy_find_the_bug") == 0

    def first_fix(logits, labels):
        return ns["fused_backward"](logits, labels) * 2

    def second_fix(logits, labels):
        return ns["fused_backward"](logits, labels) * 3

    assert check_exercise("cross_entropy_find_the_bug", first_fix).rule == ""
    assert check_exercise("cross_entropy_find_the_bug", second_fix).rule
    # the planted numbers from code the learner wrote are an attempt like any other
    forget_attempts()
    check_exercise("cross_entropy_find_the_bug", ns["fused_backward"])

    def rewritten(logits, labels):
        return ns["fused_backward"](logits, labels) + 0

    assert check_exercise("cross_entropy_find_the_bug", rewritten).rule == ""
    assert wrong_attempts("cross_entropy_find_the_bug") == 1
    assert check_exercise("cross_entropy_find_the_bug", first_fix).rule


def test_a_placeholder_is_named_as_the_learner_left_it():
    def dots(upstream, x, out):
        """doc"""
        ...

    def passed(upstream, x, out):
        pass

    def raised(upstream, x, out):
        raise NotImplementedError

    def docstring_only(upstream, x, out):
        """only this"""

    said = {
        fn: check_exercise("tanh_backward", fn) for fn in (dots, passed, raised, docstring_only)
    }
    assert all(r.verdict == "not written yet" for r in said.values())
    assert said[dots].message == "replace the `...` in tanh_backward(upstream, x, out)"
    assert said[passed].message == "replace the `pass` in tanh_backward(upstream, x, out)"
    assert "`raise NotImplementedError`" in said[raised].message
    assert said[docstring_only].message == (
        "write the body of tanh_backward(upstream, x, out): so far it holds only its docstring"
    )
    assert wrong_attempts("tanh_backward") == 0


def test_an_embedding_table_of_the_wrong_width_is_told_the_shape_it_needs():
    def sized_by_axis_1(tokens, upstream, vocab_size):
        dW = np.zeros((vocab_size, upstream.shape[1]))  # D is the last axis, not axis 1
        np.add.at(dW, tokens, upstream)
        return dW

    report = check_exercise("embedding_backward", sized_by_axis_1)
    assert "The gradient dL/dW has W's shape, (6, 2) here" in report.message, report


def test_a_layer_norm_computed_down_the_columns_is_named():
    def down_axis_0(x, upstream, eps):
        d = x - x.mean(axis=0, keepdims=True)
        s = np.sqrt((d * d).mean(axis=0, keepdims=True) + eps)
        y = d / s
        g = upstream
        return (g - g.mean(axis=0, keepdims=True) - y * (g * y).mean(axis=0, keepdims=True)) / s

    report = check_exercise("layer_norm_backward", down_axis_0)
    assert "every mean, μ and the variance too, runs over axis 0" in str(report), report


def test_tanh_written_with_the_sigmoids_slope_is_named():
    report = check_exercise("tanh_backward", lambda upstream, x, out: upstream * out * (1 - out))
    assert "the sigmoid's local partial written with its output" in str(report), report
