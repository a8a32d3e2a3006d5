"""tests/notebook_harness.py: which later cells a changed cell can reach (read from the names),
and a kernel's names put back after a test changed them."""

from __future__ import annotations

from notebook_harness import NotebookRun, cell_names, cells_reached, output_text

CELLS = [
    (0, "import numpy as np\nfrom course_lib.teaching.code_check import check_exercise"),
    (1, "def my_rule(x):\n    ...\n\nRULES = [my_rule]"),
    (2, "report = check_exercise('rule', my_rule)\nreport"),
    (3, "print(report.ok)"),
    (4, "data = np.arange(3)\nprint(data)"),  # reads only a module and its own names
    (5, "def helper(v):\n    return RULES[0](v) + 1"),  # reads it inside a function body
    (6, "net = {'w': 1}"),
    (7, "total = helper(2)\nnet['w'] = total"),  # changes an object another cell reads
    (8, "print(net)"),
    (9, "print(data.max())"),
]


def test_a_cell_is_reached_through_reads_assignments_and_the_objects_changed() -> None:
    assert cells_reached(CELLS, changed=1) == [2, 3, 5, 7, 8]


def test_only_cells_after_the_changed_one_are_listed() -> None:
    assert cells_reached(CELLS, changed=5) == [7, 8]
    assert cells_reached(CELLS, changed=8) == []


def test_a_module_passes_nothing_on_unless_a_cell_rebinds_its_name() -> None:
    # cell 2 reads check_exercise, an import only: cell 4's np is not reached through it
    assert 4 not in cells_reached(CELLS, changed=1)
    assert cells_reached(CELLS, changed=0) == []  # an import run again changes nothing
    rebound = [*CELLS, (10, "np = None")]
    assert cells_reached(rebound, changed=0) == [4, 9]


def test_after_a_cell_that_is_not_plain_python_every_cell_is_reached() -> None:
    sources = [source for _, source in CELLS]
    with_magic = list(enumerate([*sources[:4], "%timeit report.ok", *sources[4:]]))
    assert cells_reached(with_magic, changed=1) == [2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert cells_reached(with_magic, changed=5) == [6, 7, 8, 9, 10]  # one before counts too


def test_a_function_defined_above_passes_the_change_on_when_called() -> None:
    cells = [
        (0, "class Node:\n    def backward(self):\n        return my_backward(self)"),
        (1, "def my_backward(node):\n    ..."),
        (2, "report = check(Node)"),  # reads Node, not my_backward: reached through Node
        (3, "print(report)"),
        (4, "other = 2"),
    ]
    assert cells_reached(cells, changed=1) == [2, 3]


def test_cell_names_reads_binds_and_imports() -> None:
    reads, binds, imported = cell_names(
        "import numpy as np\nfrom a.b import c as d\nimport os.path\n"
        "for k in range(3):\n    y = np.sum(k)\nclass K: pass\nwith open('f') as fh: pass"
    )
    assert {"np", "range", "k", "open"} <= reads and "y" not in reads
    assert {"np", "d", "os", "k", "y", "K", "fh"} <= binds
    assert imported == {"np", "d", "os"}
    assert cell_names("%matplotlib inline") is None


def test_namespace_kept_puts_back_every_name_and_every_cell_output() -> None:
    with NotebookRun("00") as run:  # a kernel; none of the notebook's cells is run
        index, cell = run.code_cells[0]
        cell.outputs = []
        run.exec("kept = [1]\nalso = 2")
        before = run.eval("(id(kept), also)")
        with run.namespace_kept():
            run.exec("kept = 'other'\ndel also\nadded = 3")
            run.run_cell(index)
            assert run.eval("kept") == "other" and cell.outputs
        assert run.eval("(id(kept), also)") == before
        assert run.eval("kept == [1] and 'added' not in globals()")
        assert cell.outputs == []
        assert output_text(run.exec("print(sorted(k for k in globals() if 'tgf' in k))")) == "[]\n"
