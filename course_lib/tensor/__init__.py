"""``Tensor``: reverse-mode automatic differentiation over numpy arrays.

A ``Tensor`` is a node of the same shape as :class:`course_lib.autodiff.scalar.Value` (``data``,
``grad``, ordered ``parents``, ``op``, ``label``, ``local_backward(upstream)``), so the one
backward pass of :mod:`course_lib.autodiff.graph` runs it, and the same drawing code shows either
kind of graph. ``data`` is a numpy array and ``grad`` an array of exactly its shape.

The engine, a module a concept:

* :mod:`~course_lib.tensor.node`: the node (``Tensor``), ``backward()`` and the glue that
  applies an op's rule and sums its contributions back to each input's shape;
* :mod:`~course_lib.tensor.broadcasting`: ``broadcast_axes`` and ``sum_to_shape``, broadcasting
  undone in one place;
* :mod:`~course_lib.tensor.ops`: every method op (``+``, ``@``, ``exp``, ``sum``, indexing ...)
  with its local rule beside it;
* :mod:`~course_lib.tensor.functions`: the ops that are functions (the softmax family, the
  fused ``softmax_cross_entropy`` and ``linear``, ``layer_norm``, ``embedding``);
* :mod:`~course_lib.tensor.validation`: the input checks and the error messages.

Import from here: ``from course_lib.tensor import Tensor, softmax_cross_entropy``.
"""

from course_lib.tensor.broadcasting import broadcast_axes, sum_to_shape
from course_lib.tensor.functions import (
    embedding,
    layer_norm,
    linear,
    log_softmax,
    softmax,
    softmax_cross_entropy,
)
from course_lib.tensor.node import Tensor
from course_lib.tensor.ops import matmul_backward

__all__ = [
    "Tensor",
    "broadcast_axes",
    "embedding",
    "layer_norm",
    "linear",
    "log_softmax",
    "matmul_backward",
    "softmax",
    "softmax_cross_entropy",
    "sum_to_shape",
]
