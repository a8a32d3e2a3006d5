"""Checking gradients numerically: finite differences, and backward() held against them.

* :mod:`~course_lib.checks.finite_differences`: the central difference of a function, its two
  errors (truncation and round-off) and the relative error;
* :mod:`~course_lib.checks.gradient_check`: ``gradient_check`` for ``Value`` functions,
  ``tensor_gradient_check`` for ``Tensor`` ones, and whole Jacobians both ways.

Import from here: ``from course_lib.checks import gradient_check``.
"""

from course_lib.checks.finite_differences import (
    central_difference,
    central_difference_sweep,
    relative_error,
)
from course_lib.checks.gradient_check import (
    GradientCheck,
    TensorGradientCheck,
    gradient_check,
    jacobian_finite_differences,
    jacobian_reverse_mode,
    tensor_gradient_check,
)

__all__ = [
    "GradientCheck",
    "TensorGradientCheck",
    "central_difference",
    "central_difference_sweep",
    "gradient_check",
    "jacobian_finite_differences",
    "jacobian_reverse_mode",
    "relative_error",
    "tensor_gradient_check",
]
