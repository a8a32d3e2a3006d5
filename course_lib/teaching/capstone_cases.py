"""The capstone's five backward stages (notebook 11): for each, the gradients the learner writes,
random cases with the engine's answers, the answers the usual slips give, and each
intermediate's rule.

The network is :mod:`course_lib.network.capstone` (linear → layer norm → tanh → linear →
softmax cross-entropy, every intermediate named). The learner writes its backward pass in five
stages, one function each, ``stage(f, g) -> dict``: ``f`` holds the forward pass's values by
the names of the forward code (``f["a"]``, ``f["W1"]``, ``f["labels"]``, ``f["eps"]`` ...),
``g`` the gradients of the stages before (``g["dz"]`` is dL/dz; ``g["dloss"]`` is 1, the seed),
and the function returns the gradients of its own stage's names:

==================  ==================================================================
stage               gradients, in the order the backward pass finds them
==================  ==================================================================
``loss``            dlog_p, de_sum, de, dshifted, dz_max, dz
``second_layer``    dh, dW2, db2
``tanh``            dn, dgain, dshift, da_hat
``layer_norm``      dinv_std, dvar, dc, dmu, da
``first_layer``     dW1, db1
==================  ==================================================================

Each stage is checked with the *engine's* gradients of the stages before it in ``g``, so a slip
shows in the stage that made it. A slip's sentence names it and where to look, never the line
that fixes it; each intermediate's rule (in symbols) is for
:mod:`course_lib.teaching.intermediates` to show from that intermediate's second miss on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from course_lib.network.capstone import EPS, engine_gradients
from course_lib.teaching.code_exercise import Case, Exercise, shapes_named

__all__ = [
    "STAGES",
    "Stage",
    "fresh_copy",
    "stage_by_name",
    "stage_cases",
    "stage_exercise",
    "upstream_names",
]


@dataclass(frozen=True)
class Stage:
    """One stage of the capstone's backward pass: its name, the function the learner writes,
    the gradients it returns (backward order), each one's rule in symbols, and which output
    each output is computed from (to say "fix that one first")."""

    name: str
    title: str
    function: str
    outputs: tuple[str, ...]
    rules: dict[str, str]
    depends: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    # gradients whose engine value is within rounding of 0 in every case, so that "close"
    # cannot tell a slip in them: what to say when one reads close
    blind: dict[str, str] = field(default_factory=dict)

    @property
    def signature(self) -> str:
        return f"{self.function}(f, g) -> dict of {', '.join(self.outputs)}"


STAGES: tuple[Stage, ...] = (
    Stage(
        "loss",
        "the loss: softmax cross-entropy, written out",
        "my_loss_backward",
        ("dlog_p", "de_sum", "de", "dshifted", "dz_max", "dz"),
        {
            "dlog_p": "loss = −(1/N) Σ_n log_p[n, y_n]: each picked entry log_p[n, y_n] gets "
            "−1/N, every other entry 0",
            "de_sum": "log_p = shifted − log(e_sum), e_sum broadcast over the row: de_sum = "
            "−(dlog_p summed over the row) / e_sum, shape (N, 1)",
            "de": "e_sum = Σ_row e: every e in a row gets its row's de_sum (a sum's local "
            "partial is 1), shape (N, C)",
            "dshifted": "shifted feeds log_p (local partial 1) and e = exp(shifted) (local "
            "partial e): dshifted = dlog_p + e ⊙ de",
            "dz_max": "shifted = z − z_max, z_max broadcast over the row: dz_max = −(dshifted "
            "summed over the row), shape (N, 1)",
            "dz": "z feeds shifted (local partial 1) and z_max (the max picks one entry per row): "
            "dz = dshifted, plus dz_max added at each row's arg-max",
        },
        {
            "de_sum": "dlog_p",
            "de": "de_sum",
            "dshifted": "de",
            "dz_max": "dshifted",
            "dz": "dshifted",
        },
        {
            "dz_max": "on these cases this check cannot tell a slip in dz_max (the cell after "
            "the check shows why, and the quiz at the end asks it): read yours against the rule",
            "dz": "on these cases this check cannot tell a slip in the path through z_max (the "
            "cell after the check shows why): read yours against the rule",
        },
    ),
    Stage(
        "second_layer",
        "the second linear layer",
        "my_second_layer_backward",
        ("dh", "dW2", "db2"),
        {
            "dh": "z = h W2 + b2: dh = dz W2ᵀ",
            "dW2": "z = h W2 + b2: dW2 = hᵀ dz",
            "db2": "b2 is added to every row: db2 = dz summed over the N rows",
        },
    ),
    Stage(
        "tanh",
        "tanh, and layer norm's gain and shift",
        "my_tanh_backward",
        ("dn", "dgain", "dshift", "da_hat"),
        {
            "dn": "h = tanh(n): dn = dh ⊙ (1 − h²), tanh's slope written with its output",
            "dgain": "n = gain ⊙ a_hat + shift, gain used by every row: dgain = (dn ⊙ a_hat) "
            "summed over the N rows",
            "dshift": "shift is added to every row: dshift = dn summed over the N rows",
            "da_hat": "n = gain ⊙ a_hat + shift: da_hat = dn ⊙ gain",
        },
        {"dgain": "dn", "dshift": "dn", "da_hat": "dn"},
    ),
    Stage(
        "layer_norm",
        "inside layer norm",
        "my_layer_norm_backward",
        ("dinv_std", "dvar", "dc", "dmu", "da"),
        {
            "dinv_std": "a_hat = c ⊙ inv_std, inv_std broadcast over the row: dinv_std = "
            "(da_hat ⊙ c) summed over the row, shape (N, 1)",
            "dvar": "inv_std = (var + ε)^(−1/2): dvar = dinv_std ⊙ (−1/2) (var + ε)^(−3/2)",
            "dc": "c feeds a_hat (local partial inv_std) and var = mean over the row of c² "
            "(local partial 2c / H): dc = da_hat ⊙ inv_std + dvar ⊙ 2c / H",
            "dmu": "c = a − mu, mu broadcast over the row: dmu = −(dc summed over the row), "
            "shape (N, 1)",
            "da": "a feeds c (local partial 1) and mu = mean over the row of a (local partial "
            "1/H): da = dc + dmu / H",
        },
        {"dvar": "dinv_std", "dc": "dvar", "dmu": "dc", "da": ("dc", "dmu")},
    ),
    Stage(
        "first_layer",
        "the first linear layer",
        "my_first_layer_backward",
        ("dW1", "db1"),
        {
            "dW1": "a = X W1 + b1: dW1 = Xᵀ da",
            "db1": "b1 is added to every row: db1 = da summed over the N rows",
        },
    ),
)


def stage_by_name(name: str) -> Stage:
    """The stage called ``name`` ("loss", "second_layer", "tanh", "layer_norm", "first_layer")."""
    for stage in STAGES:
        if stage.name == name:
            return stage
    raise ValueError(f"no capstone stage named {name!r}; there are {[s.name for s in STAGES]}")


def upstream_names(stage: Stage) -> tuple[str, ...]:
    """The gradients a stage's ``g`` holds: the seed dloss and every earlier stage's outputs."""
    names = ["dloss"]
    for earlier in STAGES:
        if earlier is stage:
            return tuple(names)
        names.extend(earlier.outputs)
    raise ValueError(f"{stage!r} is not one of the capstone's stages")


# ---- random networks and the engine's answers ----------------------------------------------

# (N, D, H, C): N, D, H and C all different, so a wrong axis or a transposed matrix changes a
# shape; then H = C (a square W2: a missing transpose still runs, and is named by its numbers);
# then MNIST's sizes with a hidden layer of 32.
SIZES = [(5, 6, 4, 3), (4, 7, 5, 5), (16, 784, 32, 10)]


def random_network(
    rng: np.random.Generator, n: int, d: int, hidden: int, classes: int
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(X, labels, params): inputs in [0, 1), and weights, biases, gain and shift all random
    (a gain of exactly 1 or a bias of exactly 0 would hide a missing factor or term)."""
    X = rng.uniform(0, 1, size=(n, d))
    labels = rng.integers(0, classes, size=n)
    params = {
        "W1": rng.normal(size=(d, hidden)) * (1.5 / np.sqrt(d)),
        "b1": rng.normal(size=hidden) * 0.5,
        "gain": 1 + 0.4 * rng.normal(size=hidden),
        "shift": 0.3 * rng.normal(size=hidden),
        "W2": rng.normal(size=(hidden, classes)) * 0.8,
        "b2": rng.normal(size=classes) * 0.3,
    }
    return X, labels, params


def fresh_copy(values: dict[str, Any]) -> dict[str, Any]:
    """A fresh dict of fresh arrays: a learner's in-place change cannot reach the next case."""
    return {
        k: np.array(v, copy=True) if isinstance(v, np.ndarray) else v for k, v in values.items()
    }


Mistakes = list[tuple[np.ndarray, str, str]]


def _computed(candidates: list[tuple[Callable[[], Any], str, str]]) -> Mistakes:
    """The mistakes whose wrong answer exists for this case (some need shapes that match)."""
    found = []
    for make, output, why in candidates:
        try:
            with np.errstate(all="ignore"):
                found.append((np.asarray(make(), dtype=np.float64), output, why))
        except (ValueError, IndexError):
            pass
    return found


def _row_sum(x: np.ndarray) -> np.ndarray:
    return x.sum(axis=1, keepdims=True)


def _bias_mistakes(name: str, upstream: np.ndarray, used_by: str) -> list:
    """The slips of a bias-like gradient (a vector added to every row of ``upstream``)."""
    return [
        (
            lambda: upstream.mean(axis=0),
            name,
            f"that averages over the N rows: {used_by} is used by every row, one use per row, "
            "and the uses of one value add up (sum at joins), they are not averaged",
        ),
        (
            lambda: upstream.sum(axis=1),
            name,
            f"that sums over axis 1, across a row; {used_by} has one entry per column, used "
            "once in every row, so its uses run down the batch",
        ),
        (
            lambda: np.array(upstream.sum()),
            name,
            f"that sums over every entry into one number; {used_by} has one entry per column",
        ),
    ]


def _loss_mistakes(f: dict[str, Any], g: dict[str, Any]) -> Mistakes:
    n, c = f["z"].shape
    y = f["labels"]
    rows = np.arange(n)

    def picked(value: float, where: str = "own") -> np.ndarray:
        out = np.zeros((n, c))
        if where == "own":
            out[rows, y] = value
        elif where == "columns":
            out[:, y] = value
        else:
            out[y] = value
        return out

    e, e_sum, dlog_p, de_sum, de = f["e"], f["e_sum"], g["dlog_p"], g["de_sum"], g["de"]
    dshifted, dz_max = g["dshifted"], g["dz_max"]
    found: list = [
        (
            lambda: picked(-1 / n, "columns"),
            "dlog_p",
            "[:, labels] picks whole columns: every row gets an entry at every label of the "
            "batch; the loss reads one entry per row, at that row's own label",
        ),
        (
            lambda: picked(-1 / (n * c)),
            "dlog_p",
            f"that divides by N·C = {n * c}, every entry of log_p; the loss's mean runs over "
            f"the N = {n} entries it picks, one per row",
        ),
        (
            lambda: picked(-1 / c),
            "dlog_p",
            f"that divides by C = {c}, the number of classes; the loss's mean runs over the "
            f"N = {n} rows of the batch",
        ),
        (
            lambda: np.full((n, c), -1 / n),
            "dlog_p",
            "every entry of log_p got a gradient, but the loss reads only one entry per row "
            "(the one at the row's label): the others do not move it",
        ),
        (
            lambda: -_row_sum(dlog_p),
            "de_sum",
            "the local partial of np.log is missing: log_p = shifted − log(e_sum), and the log "
            "passes its upstream on times its own slope at e_sum",
        ),
        (
            lambda: -_row_sum(dlog_p) * e_sum,
            "de_sum",
            "that multiplies by e_sum; the slope of log at e_sum is not e_sum",
        ),
        (
            lambda: -dlog_p.mean(axis=1, keepdims=True) / e_sum,
            "de_sum",
            "that averages over the row; e_sum is used by each of the C entries of its row "
            "(a broadcast), and the uses add up",
        ),
        (
            lambda: de_sum,
            "de",
            "de has one number per row, the shape of e_sum; e has C entries in each row, and "
            "each one was added into e_sum, so each one gets a gradient: de has e's shape",
        ),
        (
            lambda: de_sum * e,
            "de",
            "that multiplies by e: e_sum is a plain sum of the e's, and the local partial of a "
            "sum with respect to one of its terms is not the term",
        ),
        (
            lambda: np.broadcast_to(de_sum / c, (n, c)),
            "de",
            "that shares de_sum out among the row's C entries; each entry's local partial is "
            "whole, so each gets all of it",
        ),
        (
            lambda: dlog_p,
            "dshifted",
            "only the path through log_p: shifted is used twice (in log_p and in e = "
            "exp(shifted)), and the gradients of a value's uses add up (sum at joins)",
        ),
        (
            lambda: de * e,
            "dshifted",
            "only the path through e: shifted also enters log_p directly, a second use whose "
            "gradient adds (sum at joins)",
        ),
        (
            lambda: dlog_p + de,
            "dshifted",
            "the path through e lacks exp's local partial: e = exp(shifted) passes de on times "
            "its own slope",
        ),
        (
            lambda: dlog_p + de * f["shifted"],
            "dshifted",
            "the path through e is multiplied by shifted, exp's input; the slope of exp is "
            "not its input",
        ),
        (
            lambda: dlog_p - de * e,
            "dshifted",
            "the path through e has the wrong sign: shifted enters e with a plus",
        ),
        (
            lambda: dshifted * e,
            "dz",
            "that multiplies by e again; exp belongs to shifted's path, already inside dshifted",
        ),
        (
            lambda: np.broadcast_to(dz_max, (n, c)),
            "dz",
            "dz is (almost) zero everywhere: that is only the path through z_max, which is tiny; "
            "z also enters shifted directly, a second use whose gradient adds",
        ),
        (
            lambda: overwritten_at_max(),
            "dz",
            "that is `=` where `+=` belongs: at each row's arg-max z is used twice (by shifted "
            "and by the max), and dz there holds only the path through z_max, written over the "
            "other",
        ),
    ]

    def overwritten_at_max() -> np.ndarray:
        out = np.array(dshifted, dtype=np.float64, copy=True)
        out[rows, f["z"].argmax(axis=1)] = np.asarray(dz_max).reshape(n)
        return out

    if y.max() < n:  # otherwise indexing rows by the labels raises, and the learner sees that
        found.insert(
            1,
            (
                lambda: picked(-1 / n, "rows"),
                "dlog_p",
                "indexing with the labels alone, [labels], picks whole rows y[0], y[1], ...; "
                "each row needs one entry, at its own label",
            ),
        )
    return _computed(found)


def _second_layer_mistakes(f: dict[str, Any], g: dict[str, Any]) -> Mistakes:
    dz, W2 = g["dz"], f["W2"]
    found: list = [
        (
            lambda: dz @ W2,
            "dh",
            "that is dz @ W2: W2 must be transposed to carry dz back to h (compare the shapes)",
        ),
        (
            lambda: dz[:, :1] * W2[:, 0],
            "dh",
            "dh holds only the path through the first logit: each hidden unit feeds all C "
            "logits, and its gradient adds the paths through every one of them (sum at joins)",
        ),
        (
            lambda: f["n"].T @ dz,
            "dW2",
            "that uses n, tanh's input; the second layer's input is h, tanh's output",
        ),
        *_bias_mistakes("db2", dz, "b2"),
    ]
    return _computed(found)


def _tanh_mistakes(f: dict[str, Any], g: dict[str, Any]) -> Mistakes:
    dh, h, n, dn, a_hat, gain = g["dh"], f["h"], f["n"], g["dn"], f["a_hat"], f["gain"]
    found: list = [
        (
            lambda: dh * (1 - n**2),
            "dn",
            "that uses n, tanh's input: tanh's local partial written as 1 − (·)² takes its "
            "output h",
        ),
        (
            lambda: dh * (1 - np.tanh(h) ** 2),
            "dn",
            "that applies tanh to h, but h is already tanh(n), the output: the slope written "
            "with the output needs no further tanh (the σ(h)(1 − σ(h)) slip, for tanh)",
        ),
        (
            lambda: dh * h * (1 - h),
            "dn",
            "that is the sigmoid's slope, h(1 − h); the activation here is tanh",
        ),
        (lambda: dh * (1 - h), "dn", "a factor of tanh's local partial is missing"),
        (
            lambda: dh * (1 + h**2),
            "dn",
            "check the sign inside tanh's local partial: tanh flattens out as |h| grows",
        ),
        (
            lambda: dh,
            "dn",
            "that is dh itself: passing through tanh multiplies by its local partial",
        ),
        (
            lambda: (dn * n).sum(axis=0),
            "dgain",
            "that multiplies by n, the result of gain ⊙ a_hat + shift; gain's partner in the "
            "product is what gain multiplies",
        ),
        (
            lambda: (dn * gain).sum(axis=0),
            "dgain",
            "that multiplies by gain itself; gain's partner in the product is what gain multiplies",
        ),
        (
            lambda: dn.sum(axis=0),
            "dgain",
            "that is what an added term gets (dn summed): gain is multiplied by a_hat, so its "
            "gradient carries a_hat's values",
        ),
        *_bias_mistakes("dgain", dn * a_hat, "gain"),
        (
            lambda: (dn * a_hat).sum(axis=0),
            "dshift",
            "that is what dgain should be: shift is added, not multiplied by a_hat (or the two "
            "keys are swapped)",
        ),
        *_bias_mistakes("dshift", dn, "shift"),
        (
            lambda: dn,
            "da_hat",
            "gain's factor is missing: a_hat is multiplied by gain on its way to n",
        ),
        (
            lambda: dn * a_hat,
            "da_hat",
            "that multiplies by a_hat itself; its partner in the product gain ⊙ a_hat is gain",
        ),
        (lambda: dn / gain, "da_hat", "that divides by gain where the product multiplies"),
    ]
    return _computed(found)


def _layer_norm_mistakes(f: dict[str, Any], g: dict[str, Any]) -> Mistakes:
    n, hidden = f["a"].shape
    da_hat, c, a_hat, var, eps = g["da_hat"], f["c"], f["a_hat"], f["var"], f["eps"]
    inv_std, dinv_std, dvar, dc, dmu = f["inv_std"], g["dinv_std"], g["dvar"], g["dc"], g["dmu"]
    direct = da_hat * inv_std
    found: list = [
        (
            lambda: (da_hat * c).sum(axis=0, keepdims=True),
            "dinv_std",
            "that sums over axis 0, down the batch; inv_std has one value per row, used by each "
            "of the H entries of its own row",
        ),
        (
            lambda: (da_hat * c).sum(axis=0),
            "dinv_std",
            "that sums over axis 0, down the batch; inv_std has one value per row, used by each "
            "of the H entries of its own row",
        ),
        (
            lambda: (da_hat * c).mean(axis=1, keepdims=True),
            "dinv_std",
            "that averages over the row; inv_std is used by each of the H entries of its row "
            "(a broadcast), and the uses add up",
        ),
        (
            lambda: _row_sum(da_hat * a_hat),
            "dinv_std",
            "that multiplies by a_hat; inv_std's partner in the product c · inv_std is c",
        ),
        (
            lambda: dinv_std * -0.5 * var**-1.5,
            "dvar",
            "ε is missing: the forward pass raises (var + ε) to its power, so the slope is "
            "taken at var + ε too (a small difference, but far above float64 rounding)",
        ),
        (
            lambda: dinv_std * -0.5 * (var + eps) ** -0.5,
            "dvar",
            "the power rule lowers the exponent by one; that keeps the exponent −1/2",
        ),
        (
            lambda: dinv_std * (var + eps) ** -1.5,
            "dvar",
            "the power rule's factor is missing: the exponent itself, −1/2, multiplies too",
        ),
        (
            lambda: direct,
            "dc",
            "only the path through a_hat: c is also used in var (the mean of c²), a second use "
            "whose gradient adds (sum at joins)",
        ),
        (
            lambda: dvar * 2 * c / hidden,
            "dc",
            "only the path through var: c also enters a_hat directly, a second use whose "
            "gradient adds (sum at joins)",
        ),
        (
            lambda: direct + dvar * 2 * c,
            "dc",
            f"the path through var is H = {hidden} times too big: var is a mean over the H "
            "entries of a row, not a sum (sum vs mean)",
        ),
        (
            lambda: direct + dvar * 2 * c / (hidden - 1),
            "dc",
            "the path through var divides by H − 1 (ddof=1, the sample variance); var in the "
            "forward pass is the plain mean over the row's H entries",
        ),
        (
            lambda: direct + dvar * 2 * c / n,
            "dc",
            f"the path through var divides by N = {n}, the batch size; var's mean runs along "
            f"a row, over its H = {hidden} entries",
        ),
        (
            lambda: direct + dvar * c / hidden,
            "dc",
            "the path through var lacks the power rule's factor: the slope of c² is not c",
        ),
        (
            lambda: dc.mean(axis=1, keepdims=True) * -1,
            "dmu",
            "that averages over the row; mu is used by each of the H entries of its row (a "
            "broadcast), and the uses add up",
        ),
        (
            lambda: -dc.sum(axis=0, keepdims=True),
            "dmu",
            "that sums over axis 0, down the batch; mu has one value per row, used by the H "
            "entries of its own row",
        ),
        (
            lambda: -dc.sum(axis=0),
            "dmu",
            "that sums over axis 0, down the batch; mu has one value per row, used by the H "
            "entries of its own row",
        ),
        (
            lambda: dc,
            "da",
            "only the path through c: a is also used in mu (the mean of its row), a second use "
            "whose gradient adds (sum at joins)",
        ),
        (
            lambda: dc + dmu,
            "da",
            f"the path through mu is H = {hidden} times too big: mu is the mean of the row's H "
            "entries, not their sum (sum vs mean)",
        ),
        (
            lambda: dc - dmu / hidden,
            "da",
            "the path through mu has the wrong sign: a enters mu with a plus (the minus of "
            "c = a − mu is already inside dmu)",
        ),
        (
            lambda: dc + dmu / (hidden - 1),
            "da",
            "the path through mu divides by H − 1; mu is the plain mean of the row's H entries",
        ),
        (
            lambda: dc + dmu / n,
            "da",
            f"the path through mu divides by N = {n}, the batch size; mu's mean runs along a "
            f"row, over its H = {hidden} entries",
        ),
    ]
    return _computed(found)


def _first_layer_mistakes(f: dict[str, Any], g: dict[str, Any]) -> Mistakes:
    found: list = [
        (
            lambda: f["X"].T @ g["dc"],
            "dW1",
            "that starts from dc, the gradient of c; the first layer's output is a, so its "
            "weights' gradient starts from the gradient of a",
        ),
        *_bias_mistakes("db1", g["da"], "b1"),
    ]
    return _computed(found)


MISTAKES: dict[str, Callable[[dict[str, Any], dict[str, Any]], Mistakes]] = {
    "loss": _loss_mistakes,
    "second_layer": _second_layer_mistakes,
    "tanh": _tanh_mistakes,
    "layer_norm": _layer_norm_mistakes,
    "first_layer": _first_layer_mistakes,
}

# The shapes of the arrays each stage multiplies, for the sentence after a shape error.
FACTORS = {
    "loss": ("log_p", "e_sum", "e", "z"),
    "second_layer": ("h", "W2", "dz"),
    "tanh": ("h", "dh", "gain", "a_hat"),
    "layer_norm": ("c", "inv_std", "var", "da_hat"),
    "first_layer": ("X", "W1", "da"),
}


def _errors(stage: Stage, f: dict[str, Any], g: dict[str, Any]) -> list:
    """Exceptions that show a known slip, each with its sentence."""
    values = {**f, **g}
    shapes = ", ".join(
        f"{name} {np.shape(values[name])}" for name in FACTORS[stage.name] if name in values
    )
    n = len(f["X"])
    return [
        (
            lambda e: isinstance(e, ValueError) and (n, n) in shapes_named(e),
            f"an array of shape ({n}, {n}) appeared: a vector of N = {n} numbers (a sum that "
            f"dropped its axis) met a column of shape ({n}, 1), and the broadcast made a "
            "square; keep the summed axis as size 1 (keepdims=True) so each row keeps its own "
            "number",
        ),
        (
            lambda e: isinstance(e, TypeError) and "ellipsis" in str(e),
            "a line uses a gradient that is still `...`: write the lines in order, from the top "
            "(each gradient is built from the ones above it)",
        ),
        (
            lambda e: isinstance(e, ValueError) and "matmul" in str(e),
            f"a matrix product's inner sizes do not meet; here {shapes}: write each factor's "
            "shape beside it, and transpose where the sizes must meet",
        ),
        (
            lambda e: isinstance(e, KeyError),
            "look each name up in the right dict: f holds the forward pass's values under the "
            "forward code's names (f['z'], f['W2'], f['labels'], f['eps'] ...), g the gradients "
            "of the stages before this one "
            f"({', '.join(repr(k) for k in upstream_names(stage)[-3:])} ...); a gradient of "
            "this stage is a variable of your function, not in g",
        ),
    ]


def stage_cases(stage: Stage, rng: np.random.Generator) -> list[Case]:
    """A case per network size in :data:`SIZES`: the forward values ``f``, the engine's
    gradients of the earlier stages in ``g``, and the engine's answers for this stage."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"stage_cases needs np.random.default_rng(seed), got {rng!r}")
    cases = []
    for n, d, hidden, classes in SIZES:
        X, labels, params = random_network(rng, n, d, hidden, classes)
        f, g_all = engine_gradients(X, labels, params, EPS)
        g = {k: g_all[k] for k in upstream_names(stage)}
        expected = {k: np.asarray(g_all[k], dtype=np.float64) for k in stage.outputs}
        broadcast = {
            "de_sum": (n, classes),
            "dz_max": (n, classes),
            "db2": (n, classes),
            "dgain": (n, hidden),
            "dshift": (n, hidden),
            "dinv_std": (n, hidden),
            "dmu": (n, hidden),
            "db1": (n, hidden),
        }

        def run(fn: Callable[..., Any], f: dict[str, Any] = f, g: dict[str, Any] = g) -> Any:
            return fn(fresh_copy(f), fresh_copy(g))

        cases.append(
            Case(
                f"a {d}-{hidden}-{classes} network on a batch of N = {n} (labels {labels.tolist()})"
                if n <= 5
                else f"MNIST's sizes: a {d}-{hidden}-{classes} network on a batch of N = {n}",
                {"f": f, "g": g},
                expected,
                mistakes=MISTAKES[stage.name](f, g_all),
                broadcast={k: v for k, v in broadcast.items() if k in stage.outputs},
                batch=n,
                run=run,
                errors=_errors(stage, f, g),
            )
        )
    return cases


def stage_exercise(stage: Stage | str) -> Exercise:
    """The stage as an :class:`~course_lib.teaching.code_exercise.Exercise` (named
    ``capstone.<stage>``; no exercise-wide rule: the rules are per intermediate)."""
    if isinstance(stage, str):
        stage = stage_by_name(stage)
    if not isinstance(stage, Stage):
        raise TypeError(
            "stage_exercise needs a stage or its name, one of "
            f"{[s.name for s in STAGES]}, got {stage!r}"
        )
    return Exercise(
        f"capstone.{stage.name}",
        stage.signature,
        stage.outputs,
        lambda rng: stage_cases(stage, rng),
        depends=dict(stage.depends),
        returns="dict",
        arrays=True,
    )
