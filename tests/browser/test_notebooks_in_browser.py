"""Every notebook in a real JupyterLab in headless Chromium, the way a learner meets it.

For each ``notebooks/*.ipynb`` (found when the tests are collected, so a new notebook is
covered without touching this file): open it (all in one JupyterLab page, one notebook after
another, as a learner does in one tab: conftest.LabPage), Run All from the Run menu, wait until
every code cell has run and the kernel is idle, and check that no cell shows an error. Then find the
notebook's main widget, check that it rendered, move one of its controls as a learner would
and check that what the widget shows changes: the new view is computed by the kernel, so this
proves the whole browser <-> kernel round trip works.

The main widget is found by this rule:

1. the first widget carrying the CSS class ``tgf-main`` (``widget.add_class("tgf-main")``),
   for a notebook whose main widget is not its first explorer;
2. otherwise the first widget output with a slider, toggle buttons or a dropdown (the
   explorers have these; quizzes and hand-trace boxes have radio buttons, text boxes and
   buttons, so they are not taken for the main widget).

Inside it, the test moves the first visible slider with the keyboard (ArrowRight, or ArrowLeft
at its maximum), or else clicks an unselected toggle button, or else picks the dropdown's next
option; then it waits for the widget's HTML views to change (not the control's own readout,
which the browser updates by itself).

Then the accessibility checks (README.md, "Accessibility"):

* by keyboard alone: Shift+Tab from a slider of the main widget into its number box (every
  course slider has one), press an arrow key and Tab out; what the widget shows must change;
* the first drawing's accessible name and description, read from Chromium's accessibility
  tree, must be its ``aria-label`` and its ``<desc>``;
* axe-core over the notebook's outputs must find no violation (accessibility.py says what is
  left out and why); the findings are written to ``test-artifacts/browser/NN-axe.txt``.

Set TGF_NOTEBOOKS to another folder to run these tests on notebooks outside the repository.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from accessibility import accessible_name, axe_violations
from lab import NOTEBOOKS

NOTEBOOK_PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))

OPEN_TIMEOUT_MS = 30_000  # JupyterLab page and kernel start
RUN_ALL_TIMEOUT_MS = 300_000  # a stall detector: one notebook normally runs in 5-25 s (MNIST
# trains for a few seconds), but on a loaded 2-core machine training alone took over 40 s
WIDGET_TIMEOUT_MS = 10_000  # one control change answered by the kernel

ACTIVE = ".jp-NotebookPanel:not(.lm-mod-hidden)"
# JupyterLab shows a traceback as a stderr-type output. A stderr stream that is only a
# warning is not an error; text naming an exception is.
ERROR_OUTPUTS = (
    f'{ACTIVE} .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"], '
    f'{ACTIVE} .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
)
ERROR_PATTERN = r"Traceback|Error\b|Exception\b"
# What a widget shows: its HTML views. An HTML view is compared by its markup (a chart may change
# shape without changing text), an HTMLMath view by its text (typesetting rewrites markup).
VIEWS = ".widget-html-content, .widget-htmlmath-content"
# The controls the test knows how to change, in the order it prefers them.
CONTROLS = {
    "slider": ".widget-slider:visible",
    "toggle buttons": ".widget-toggle-buttons:visible",
    "dropdown": ".widget-dropdown:visible",
}
SNAPSHOT_JS = """(el) => [...el.querySelectorAll('.widget-html-content, .widget-htmlmath-content')]
    .map(e => e.classList.contains('widget-html-content') ? e.innerHTML : e.textContent)
    .join('\\n')"""


def code_cell_count(path: Path) -> int:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum(1 for cell in nb["cells"] if cell["cell_type"] == "code")


if not NOTEBOOK_PATHS:
    pytest.skip(f"no notebooks in {NOTEBOOKS}", allow_module_level=True)


@pytest.mark.parametrize("notebook", NOTEBOOK_PATHS, ids=[p.stem for p in NOTEBOOK_PATHS])
def test_notebook_runs_and_its_main_widget_responds(
    notebook: Path,
    page,
    save_screenshot,
    record_property,
    record_seconds,
    artifacts_dir,
) -> None:
    started = time.perf_counter()
    page.set_default_timeout(OPEN_TIMEOUT_MS)
    open_notebook(page, f"notebooks/{notebook.name}")
    n_code = code_cell_count(notebook)
    prompts = page.locator(f"{ACTIVE} .jp-CodeCell .jp-InputPrompt")
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length === n",
        arg=[f"{ACTIVE} .jp-CodeCell .jp-InputPrompt", n_code],
    )
    wait_for_idle_kernel(page)

    # Run All, through the menu a learner would use.
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    # Done when every code cell has its number; or, sooner, when a cell failed and nothing is
    # still running (JupyterLab then skips the cells after it).
    try:
        page.wait_for_function(
            """([sel, err]) => {
                const p = [...document.querySelectorAll(sel)].map(e => e.textContent);
                if (p.length === 0 || p.some(t => t.includes("*"))) return false;
                if (p.every(t => /\\[\\d+\\]/.test(t))) return true;
                const failed = [...document.querySelectorAll(err)];
                return failed.some(e => /ERROR_PATTERN/.test(e.textContent));
            }""".replace("ERROR_PATTERN", ERROR_PATTERN),
            arg=[f"{ACTIVE} .jp-CodeCell .jp-InputPrompt", ERROR_OUTPUTS],
            timeout=RUN_ALL_TIMEOUT_MS,
        )
    except Exception:
        save_screenshot(page, f"{notebook.stem}-FAILED")
        pending = [
            i for i, t in enumerate(prompts.all_text_contents()) if not re.search(r"\[\d+\]", t)
        ]
        errors = error_texts(page)
        pytest.fail(
            f"{notebook.name}: not every code cell ran within {RUN_ALL_TIMEOUT_MS / 1000:.0f} s "
            f"(code cells not run, counting from 0: {pending})"
            + (f"\nerror output:\n{errors[0]}" if errors else "")
        )
    wait_for_idle_kernel(page)
    run_seconds = time.perf_counter() - started

    errors = error_texts(page)
    if errors:
        save_screenshot(page, f"{notebook.stem}-FAILED")
    assert not errors, f"{notebook.name}: a cell shows an error:\n" + "\n---\n".join(errors)
    not_run = [i for i, t in enumerate(prompts.all_text_contents()) if not re.search(r"\[\d+\]", t)]
    assert not not_run, f"{notebook.name}: code cells {not_run} (counting from 0) did not run"
    broken = page.locator(f"{ACTIVE} .jp-OutputArea-output", has_text="Error displaying widget")
    assert broken.count() == 0, f"{notebook.name}: {broken.first.text_content()}"

    main = main_widget(page, notebook)
    main.scroll_into_view_if_needed()
    assert main.is_visible(), f"{notebook.name}: the main widget is not visible"
    assert main.locator(VIEWS).count() > 0, (
        f"{notebook.name}: the main widget has no HTML view showing what the kernel computed"
    )
    before = settled_view(main)
    assert main.locator(VIEWS).first.text_content().strip(), (
        f"{notebook.name}: the main widget's view is empty"
    )
    save_screenshot(page, notebook.stem)

    moved = move_a_control(main, notebook)
    try:
        page.wait_for_function(
            f"([el, before]) => ({SNAPSHOT_JS})(el) !== before",
            arg=[main.element_handle(), before],
            timeout=WIDGET_TIMEOUT_MS,
        )
    except Exception:
        save_screenshot(page, f"{notebook.stem}-FAILED")
        pytest.fail(
            f"{notebook.name}: changed the main widget's {moved}, but what the widget shows "
            f"did not change within {WIDGET_TIMEOUT_MS / 1000:.0f} s: the kernel did not answer"
        )
    # A tall widget is clipped by the notebook's scroll area: grow the window to fit it first.
    box = main.bounding_box()
    if box and box["height"] > 700:
        page.set_viewport_size({"width": 1280, "height": int(box["height"]) + 300})
        page.wait_for_timeout(300)  # JupyterLab re-lays out on resize
        main.scroll_into_view_if_needed()
    save_screenshot(main, f"{notebook.stem}-widget")
    assert not error_texts(page), f"{notebook.name}: changing the {moved} led to an error"

    typed = operate_by_keyboard(page, main, notebook)
    if typed:
        record_property("keyboard", typed)
        settled_view(main)  # one key press may bring more than one redraw from the kernel
    drawing = page.locator(f'{ACTIVE} .jp-OutputArea-output svg[role="img"]')
    if drawing.count():
        # Read it between redraws (the label must not change meanwhile), and give Chromium's
        # accessibility tree, which follows the page a moment later, a few tries to catch up.
        for _ in range(10):
            before = drawing.first.get_attribute("aria-label")
            role, name, description = accessible_name(page, drawing.first)
            label = drawing.first.get_attribute("aria-label")
            desc = " ".join((drawing.first.locator("desc").first.text_content() or "").split())
            if label == before and name == label:
                break
            page.wait_for_timeout(300)
        assert role in ("image", "img") and name == label and name, (
            f"{notebook.name}: the browser names the first drawing {name!r} (role {role!r}), "
            f"not by its aria-label {label!r}"
        )
        assert " ".join(description.split()) == desc, (
            f"{notebook.name}: the browser describes the first drawing as {description!r}, "
            f"not by its <desc> {desc!r}"
        )
        record_property("drawing_name", name)

    violations = axe_violations(page)
    report = artifacts_dir / f"{notebook.stem}-axe.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(str(v) + "\n  " + "\n  ".join(v.html) for v in violations))
    record_property("axe_violations", sum(len(v.targets) for v in violations))
    assert not violations, (
        f"{notebook.name}: axe-core finds accessibility violations in the outputs (see "
        f"{report}):\n" + "\n".join(map(str, violations))
    )

    total = time.perf_counter() - started
    record_property("browser_seconds", round(total, 1))
    record_seconds(notebook.name, total)
    print(f"{notebook.name}: opened and ran in {run_seconds:.1f} s, {total:.1f} s in all")


def open_notebook(page, path: str) -> None:
    """Open the notebook at ``path`` (relative to the server's root) in the loaded JupyterLab,
    as a double click in its file browser does (the document manager's open command)."""
    page.evaluate(
        "(path) => window.jupyterapp.commands.execute('docmanager:open', {path}).then(() => 1)",
        path,
    )


def wait_for_idle_kernel(page) -> None:
    """The status bar's kernel item reads '<kernel name> | Idle'."""
    page.locator("#jp-main-statusbar", has_text=re.compile(r"\|\s*Idle")).wait_for()


def error_texts(page) -> list[str]:
    """The text of every error output (a traceback) in the open notebook."""
    texts = page.locator(ERROR_OUTPUTS).all_text_contents()
    return [text[-2000:] for text in texts if re.search(ERROR_PATTERN, text)]


def main_widget(page, notebook: Path):
    """The ``tgf-main`` widget, else the first widget output holding one of CONTROLS."""
    any_control = ", ".join(CONTROLS.values())
    marked = page.locator(f"{ACTIVE} .tgf-main")
    if marked.count():
        main = marked.first
        assert main.locator(any_control).count(), (
            f"{notebook.name}: the widget marked tgf-main has no slider, toggle buttons or "
            "dropdown to change"
        )
        return main
    explorers = page.locator(f"{ACTIVE} .jp-OutputArea-output").filter(
        has=page.locator(any_control)
    )
    assert explorers.count(), (
        f"{notebook.name}: no widget with a slider, toggle buttons or dropdown was found; every "
        "notebook needs a live widget (mark the main one with widget.add_class('tgf-main'))"
    )
    return explorers.first


def move_a_control(main, notebook: Path) -> str:
    """Change one control of ``main`` as a learner would; says what changed, for messages."""
    slider = main.locator(CONTROLS["slider"])
    if slider.count():
        slider = slider.first
        handle = slider.locator(".noUi-handle").first
        old = handle.get_attribute("aria-valuenow")
        handle.focus()
        handle.press("ArrowRight")
        if handle.get_attribute("aria-valuenow") == old:
            handle.press("ArrowLeft")  # it was at its maximum
        new = handle.get_attribute("aria-valuenow")
        assert new != old, f"{notebook.name}: the slider did not move with the arrow keys ({old})"
        return f"slider ({old} -> {new})"
    toggles = main.locator(CONTROLS["toggle buttons"])
    if toggles.count():
        choices = toggles.first.locator("button:not(.mod-active):not([disabled])")
        assert choices.count(), f"{notebook.name}: the toggle buttons have nothing to switch to"
        label = (choices.first.text_content() or "").strip()
        choices.first.click()
        return f"toggle buttons (clicked {label!r})"
    select = main.locator(CONTROLS["dropdown"]).first.locator("select")
    options = select.locator("option")
    assert options.count() > 1, f"{notebook.name}: the dropdown has only one option"
    current = select.evaluate("(s) => s.selectedIndex")
    target = (current + 1) % options.count()
    select.select_option(index=target)
    return f"dropdown ({options.nth(target).text_content()!r})"


def operate_by_keyboard(page, main, notebook: Path) -> str | None:
    """Change the main widget with the keyboard alone: Shift+Tab from a slider into its number
    box (the control a screen reader can name), press an arrow key, Tab out; what the widget
    shows must change. Says what was done, or None when the widget has no number box."""
    rows = main.locator(".tgf-slider-row:visible")
    if not rows.count():
        return None
    row = rows.first
    box = row.locator("input[type=number]")
    row.locator(".noUi-handle").focus()  # the slider; the box comes just before it
    page.keyboard.press("Shift+Tab")
    assert box.evaluate("(el) => el === document.activeElement"), (
        f"{notebook.name}: Shift+Tab from a slider did not reach its number box"
    )
    before = main.evaluate(SNAPSHOT_JS)
    old = box.input_value()
    key = "ArrowUp" if box.evaluate("(el) => el.max === '' || +el.value < +el.max") else "ArrowDown"
    page.keyboard.press(key)
    page.keyboard.press("Tab")  # leaving the box commits the number
    try:
        page.wait_for_function(
            f"([el, before]) => ({SNAPSHOT_JS})(el) !== before",
            arg=[main.element_handle(), before],
            timeout=WIDGET_TIMEOUT_MS,
        )
    except Exception:
        pytest.fail(
            f"{notebook.name}: {key} in the number box (value {old} -> {box.input_value()}) "
            f"did not change what the widget shows within {WIDGET_TIMEOUT_MS / 1000:.0f} s"
        )
    return f"number box {old} -> {box.input_value()} by {key}, Tab"


def settled_view(main, timeout_s: float = 5.0) -> str:
    """The views' snapshot once two readings 0.3 s apart agree (math typesetting is async)."""
    deadline = time.monotonic() + timeout_s
    previous = main.evaluate(SNAPSHOT_JS)
    while True:
        time.sleep(0.3)
        current = main.evaluate(SNAPSHOT_JS)
        if current == previous or time.monotonic() > deadline:
            return current
        previous = current
