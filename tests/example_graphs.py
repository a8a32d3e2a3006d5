"""Small graphs shared by several test modules."""

from __future__ import annotations

from course_lib.autodiff.scalar import Value


def five_nodes() -> tuple[Value, ...]:
    """f = (x y)(x + z) at x = 3, y = -2, z = 1: a = -6, b = 4, f = -24 (x fans out)."""
    x, y, z = Value(3.0, "x"), Value(-2.0, "y"), Value(1.0, "z")
    a = (x * y).named("a")
    b = (x + z).named("b")
    f = (a * b).named("f")
    return x, y, z, a, b, f
