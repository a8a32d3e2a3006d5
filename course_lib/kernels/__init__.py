"""Stable softmax kernels, the sigmoid and the fused softmax cross-entropy: plain numpy, no
autodiff.

These are the formulas the ``Tensor`` ops call, written once, with their derivations in the
docstrings: :mod:`~course_lib.kernels.softmax` (log-sum-exp, softmax, log-softmax, their dense
Jacobians and their vector-Jacobian products), :mod:`~course_lib.kernels.sigmoid` (σ, the
one numpy version), :mod:`~course_lib.kernels.cross_entropy` (the
fused loss and its backward rule) and :mod:`~course_lib.kernels.validation` (the input checks
they share). Everything is importable from here: ``from course_lib import kernels`` then
``kernels.softmax(z)``.
"""

from course_lib.kernels.cross_entropy import (
    SoftmaxCrossEntropy,
    softmax_cross_entropy,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_grad,
)
from course_lib.kernels.sigmoid import sigmoid
from course_lib.kernels.softmax import (
    log_softmax,
    log_softmax_jacobian,
    log_softmax_vjp,
    logsumexp,
    softmax,
    softmax_jacobian,
    softmax_vjp,
)

__all__ = [
    "SoftmaxCrossEntropy",
    "log_softmax",
    "log_softmax_jacobian",
    "log_softmax_vjp",
    "logsumexp",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_backward",
    "softmax_cross_entropy_grad",
    "softmax_jacobian",
    "softmax_vjp",
]
