"""The exercise checker: every exercise's solution passes, typical wrong versions get their
diagnosis, and no learner code (raising, hanging, returning garbage) makes it raise."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import exercises
from course_lib.exercise_bank import EXERCISES
from course_lib.exercises import check_exercise, is_placeholder

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
    ("tanh_backward", lambda upstream, x, out: upstream * (1 - x**2), "uses its output"),
    ("tanh_backward", lambda upstream, x, out: 1 - out**2, "multiply it by the upstream"),
    ("tanh_backward", lambda upstream, x, out: -upstream * (1 - out**2), "wrong sign"),
    ("sum_to_shape", lambda grad, shape: grad, "sum over axis 0"),
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
        "sum over axis 0",
    ),
    (
        "matmul_backward",
        lambda upstream, A, B: (upstream @ B, A.T @ upstream),
        "B must be transposed",
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
        "1/N",
    ),
    (
        "cross_entropy_backward",
        lambda logits, labels: softmax_probabilities(logits) / len(labels),
        "subtract the one-hot target",
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
        "(P − Y) / N",
    ),
    ("network_backward", _net_with(dW2=lambda g, h, **_: g["dlogits"].T @ h), "transposed"),
    ("network_backward", _net_with(db2=lambda g, **_: g["dlogits"]), "sum over axis 0"),
    ("network_backward", _net_with(dh=_overwrite_paths), "overwrote dh"),
    ("network_backward", _net_with(da=lambda g, **_: g["dh"]), "local partial h (1 − h)"),
    ("network_backward", _net_with(dW1=lambda g, X, **_: X.T @ g["dh"]), "through the sigmoid"),
]


@pytest.mark.parametrize(("name", "fn", "says"), WRONG)
def test_a_typical_mistake_gets_its_diagnosis(name, fn, says):
    report = check_exercise(name, fn)
    assert not report.ok and report.verdict == "wrong"
    assert says in str(report), str(report)


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
    assert "db2" in text and "wrong" in text and "exact" in text
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
    assert "does not match the engine's gradient: check it term by term" in report, report


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


def test_a_complex_answer_is_not_judged_by_its_real_part():
    report = check_exercise("sum_to_shape", lambda grad, shape: sum_to_shape(grad, shape) + 1j)
    assert not report.ok and "complex" in str(report)


def test_a_float32_answer_is_told_about_precision():
    def in_float32(p, upstream):
        return softmax_vjp(p.astype(np.float32), upstream.astype(np.float32))

    report = check_exercise("softmax_vjp", in_float32)
    assert not report.ok and "float32 precision" in str(report), str(report)


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
    from course_lib.exercises import show_rule_if_right

    right = check_exercise("sum_to_shape", sum_to_shape)
    wrong = check_exercise("sum_to_shape", lambda grad, shape: grad)
    unwritten = check_exercise("sum_to_shape", lambda grad, shape: ...)
    assert show_rule_if_right(right, sum_to_shape).startswith("def sum_to_shape(")
    for report in (wrong, unwritten):
        shown = show_rule_if_right(report, sum_to_shape)
        assert "once your sum_to_shape is right" in shown and "def " not in shown
    with pytest.raises(TypeError, match="the report check_exercise returned"):
        show_rule_if_right(None, sum_to_shape)
