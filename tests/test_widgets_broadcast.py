"""Headless tests of the broadcast explorer (no kernel, no browser)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import broadcast_shape_pairs

from course_lib.widgets import broadcast_explorer
from course_lib.widgets.broadcast import PRESETS, broadcast_axes, parse_shape


def test_column_plus_row_sums_rows_for_a_and_columns_for_b():
    w = broadcast_explorer((3, 1), (1, 4))
    assert w.preset.value == "column (3, 1) + row (1, 4)"
    assert w.result_shape == (3, 4)
    upstream = np.arange(1.0, 13.0).reshape(3, 4)
    np.testing.assert_array_equal(w.upstream, upstream)
    np.testing.assert_array_equal(w.grads[0], upstream.sum(axis=1, keepdims=True))  # 10, 26, 42
    np.testing.assert_array_equal(w.grads[1], upstream.sum(axis=0, keepdims=True))
    assert w.axes == (((), (1,)), ((), (0,)))
    assert "1 → 4 expanded" in w.alignment.value and "1 → 3 expanded" in w.alignment.value
    assert "a.grad = upstream.sum(axis=1, keepdims=True)" in w.alignment.value
    assert ">42</td>" in w.grids.value


def test_bias_add_preset_and_ones_upstream():
    w = broadcast_explorer()
    w.preset.value = "bias add (N, C) + (C,): (2, 3) + (3,)"
    assert w.shapes == ((2, 3), (3,)) and w.result_shape == (2, 3)
    np.testing.assert_array_equal(w.grads[1], [5.0, 7.0, 9.0])
    assert "added" in w.alignment.value
    assert "b.grad = upstream.sum(axis=0)</code>" in w.alignment.value
    w.upstream_kind.value = "ones"
    np.testing.assert_array_equal(w.grads[1], [2.0, 2.0, 2.0])  # each b_c used N = 2 times
    np.testing.assert_array_equal(w.grads[0], np.ones((2, 3)))


def test_typed_shapes_three_d_and_scalar():
    w = broadcast_explorer()
    w.shape_a.value = "(2, 1, 3)"
    w.shape_b.value = "4 1"
    assert w.result_shape == (2, 4, 3)
    assert w.grads[1].shape == (4, 1) and w.grads[0].shape == (2, 1, 3)
    assert w.axes[1] == ((0,), (2,))
    assert ".reshape((4, 1))" in w.alignment.value
    assert "[1, :, :]" in w.grids.value
    w.shape_b.value = "()"
    assert w.grads[1].shape == () and w.grads[1] == w.upstream.sum()


def test_incompatible_shapes_show_the_library_error():
    w = broadcast_explorer()
    w.preset.value = "incompatible (3, 4) + (5,)"
    assert w.error.startswith("add: cannot broadcast (3, 4) with (5,)")
    assert "do not broadcast" in w.alignment.value and w.grids.value == ""
    w.shape_b.value = "4"  # fixing the shape recovers
    assert w.error is None and w.result_shape == (3, 4)
    assert w.preset.value == "(your own)"


def test_bad_typed_shape_is_reported_not_raised():
    w = broadcast_explorer()
    w.shape_a.value = "3, x"
    assert "whole numbers" in w.error
    w.shape_a.value = "9"
    assert "1 to 6" in w.error


def test_every_preset_draws():
    w = broadcast_explorer()
    for name in PRESETS:
        w.preset.value = name
        assert (w.error is None) == ("incompatible" not in name)


@settings(max_examples=30, deadline=None)
@given(pair=broadcast_shape_pairs(max_dims=3, max_side=4))
def test_gradients_sum_the_upstream_and_keep_shapes(pair):
    w = broadcast_explorer(*pair)
    assert w.error is None
    for shape, grad in zip(pair, w.grads, strict=True):
        assert grad.shape == shape
        assert grad.sum() == pytest.approx(w.upstream.sum())  # every cell lands somewhere once


def test_parse_shape_and_broadcast_axes():
    assert parse_shape("3, 1") == (3, 1)
    assert parse_shape("(3,)") == (3,)
    assert parse_shape("") == () and parse_shape("()") == ()
    with pytest.raises(ValueError, match="at most 3 axes"):
        parse_shape("1, 1, 1, 1")
    assert broadcast_axes((3,), (2, 3)) == ((0,), ())
    assert broadcast_axes((2, 1), (4, 2, 5)) == ((0,), (2,))
    with pytest.raises(ValueError, match="cannot broadcast"):
        broadcast_axes((2, 3), (3,))
    with pytest.raises(ValueError, match="each size must be 1 to 6"):
        broadcast_explorer((7,), (1,))


@pytest.mark.parametrize(
    "typed", ["abc", "1e400", "-1e400", "nan", "inf", "1/2", "0,5", "  -3 ", "2.5", "0", "7",
              "12345678901234567890", "-0.25", "1, 1, 1, 1"],
)  # fmt: skip
def test_anything_typed_gets_a_message_in_the_widget_not_an_exception(typed):
    w = broadcast_explorer()
    for box in (w.shape_a, w.shape_b):
        box.value = typed
        assert w.error is not None and "Not a shape this explorer can show" in w.alignment.value
        assert w.grids.value == ""
        box.value = "2, 3"  # a valid entry recovers
        assert w.error is None or "cannot broadcast" in w.error
    w.shape_a.value, w.shape_b.value = "3, 1", "1, 4"
    assert w.error is None and w.result_shape == (3, 4)


@pytest.mark.parametrize(
    "args, match",
    [
        ((5,), r"^broadcast_explorer: shape_a must be a shape, a tuple of sizes like \(3, 1\)"),
        (((3, "a"),), r"shape_a must be a shape.*got tuple \(3, 'a'\)"),
        (((3, 1), None), r"^broadcast_explorer: shape_b must be a shape"),
        (((True,),), r"shape_a must be a shape"),
    ],
)
def test_bad_starting_shapes_get_clear_errors(args, match):
    with pytest.raises(TypeError, match=match):
        broadcast_explorer(*args)


def test_starting_shapes_may_be_typed_as_in_the_boxes():
    w = broadcast_explorer("2, 1, 3", "(4, 1)")
    assert w.shapes == ((2, 1, 3), (4, 1)) and w.result_shape == (2, 4, 3)
    with pytest.raises(ValueError, match="each size must be 1 to 6"):
        broadcast_explorer("7", "1")


def test_grid_numbers_are_whole_sums_written_in_full():
    w = broadcast_explorer((6, 6, 6), ())
    assert w.grads[1] == 216 * 217 / 2  # the scalar b collects every cell: 1 + 2 + ... + 216
    assert ">23436</td>" in w.grids.value and "e+04" not in w.grids.value


def test_each_coloured_cell_also_names_the_element_it_came_from() -> None:
    """Colour groups the cells that add up to one gradient entry; the cell's tag says it too."""
    w = broadcast_explorer((3, 1), (1, 4))
    grids = w.grids.value
    # a (3, 1) is copied along axis 1: row 1 of the result holds four copies of a[1, 0]
    assert grids.count(">a[1, 0]</span>") == 4 + 1  # four upstream cells and a.grad's own
    assert grids.count(">b[0, 2]</span>") == 3 + 1
    scalar = broadcast_explorer((2, 3), ())
    assert scalar.grids.value.count(">b</span>") == 6 + 1


@pytest.mark.parametrize("typed", ["²", "3, ²", "3²", "(2, ³)"])
def test_a_superscript_digit_is_named_not_passed_to_int(typed):
    """ "²" is a digit to str.isdigit, so it reached int(), whose "invalid literal for int() with
    base 10" was shown in the widget."""
    with pytest.raises(ValueError, match="a superscript or other special digit; type plain 0-9"):
        parse_shape(typed)
    w = broadcast_explorer()
    w.shape_a.value = typed
    assert "superscript" in w.error and "int()" not in w.error
    assert "superscript" in w.alignment.value and w.grids.value == ""
    w.shape_a.value = "3, 1"  # typed again, plainly: the explorer is back
    assert w.error is None and w.result_shape == (3, 4)


@pytest.mark.parametrize("typed", ["9" * 5000, "0" * 10 + "7", "12345678901234567890"])
def test_a_huge_size_is_refused_by_the_size_rule(typed):
    with pytest.raises(ValueError, match="each size must be 1 to 6") as caught:
        parse_shape(typed)
    assert len(str(caught.value)) < 200  # the text is cut short, not repeated in full
    with pytest.raises(ValueError, match="each size must be 1 to 6"):
        broadcast_explorer((10**400,), (1,))


def test_a_bad_shape_leaves_the_example_list_at_your_own_and_brackets_are_shapes():
    w = broadcast_explorer()
    w.preset.value = name = next(iter(PRESETS))
    assert w.preset.value == name
    w.shape_b.value = "3, x"  # a typo: the shapes are no longer the example's
    assert w.error is not None and w.preset.value == "(your own)"
    assert parse_shape("[2, 3]") == (2, 3) and parse_shape("[]") == ()
    with pytest.raises(ValueError, match="whole numbers"):  # mixed brackets are no shape
        parse_shape("(2, 3]")
