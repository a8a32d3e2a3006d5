"""The autodiff core: the graph algorithm and the scalar engines (imports only numpy).

* :mod:`~course_lib.autodiff.graph`: what a node is, the topological order, and the backward
  pass itself (``backward_steps``, with the one line where gradients sum at joins);
* :mod:`~course_lib.autodiff.scalar`: ``Value``, the scalar engine, and its op table ``OPS``;
* :mod:`~course_lib.autodiff.forward`: forward mode (dual numbers), for comparison.
"""
