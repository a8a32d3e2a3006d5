"""The backward stepper on a projector: 1280×720 at 150% browser zoom (README, "Projecting").

A lecture hall shows JupyterLab on a 1280×720 projector, the browser full screen (F11) and
zoomed to 150%. At that zoom the page lays out in CSS pixels as a window of
1280/1.5 × 720/1.5 = 853×480, and every CSS pixel is drawn as 1.5 screen pixels
(``window.devicePixelRatio`` is 1.5). That is exactly what a Playwright context with
``viewport=853×480`` and ``device_scale_factor=1.5`` gives, so that is the zoom under test.
(CSS ``zoom`` on the page, ``document.body.style.zoom``, is not the same thing: the window
stays 1280 CSS px wide for JupyterLab's layout, and it scales what it zooms differently from
the browser's zoom. Playwright has no browser-zoom control.)

Notebook 02's stepper (``walk = stepper(f)``) is stepped through all its states (Reset, then
Step after Step) in four layouts: the file browser open (JupyterLab's default), the file
browser closed (Ctrl+B), Presentation Mode (View → Appearance → Presentation Mode, which
enlarges the notebook's text), and Presentation Mode without the browser's zoom (the window's
own 1280×720 CSS px). In every state of every layout:

* at 150% zoom, every text of the graph renders at least 16 screen px: its font size times
  the drawing's scale on the page times 1.5 (so a drawing shrunk to its column fails,
  however large its font size is written);
* with the file browser closed at 150% zoom, and in Presentation Mode at 100%, the stepper's
  buttons, graph and step text are on one screen: scrolled to the stepper's top, each lies
  whole inside the notebook's visible area;
* where the column is too narrow for the graph at that size (the file browser open, or
  Presentation Mode at 150%, which enlarges it by 16/13), the graph keeps its size in a
  region that scrolls sideways, which the keyboard can focus and which is named;
* Presentation Mode makes the graph's text and the step's text larger than without it.

The measurements are printed (``-s``) and written to ``test-artifacts/browser/projection.txt``.
"""

from __future__ import annotations

import re
import time

import pytest

NOTEBOOK = "02_six_nodes_fan_out.ipynb"
ACTIVE = ".jp-NotebookPanel:not(.lm-mod-hidden)"
# Resolves once the browser has drawn two more frames: whatever the page changed before it
# (a scroll, a new layout) has been laid out and painted.
TWO_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
WIDTH, HEIGHT, ZOOM = 1280, 720, 1.5  # the projector's window and the browser's zoom
MIN_TEXT_PX = 16  # screen pixels
RUN_ALL_TIMEOUT_MS = 300_000
WIDGET_TIMEOUT_MS = 10_000

# Everything measured in one call: sizes in CSS px, text in screen px (× devicePixelRatio).
MEASURE_JS = """(root) => {
    const rect = (el) => { const r = el.getBoundingClientRect();
        return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; };
    const svg = root.querySelector('svg[role="img"]');
    const texts = [...svg.querySelectorAll('text')].map((t) => ({
        text: t.textContent,
        px: parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a,
    }));
    texts.sort((a, b) => a.px - b.px);
    // What the learner sees: the notebook's scrolling area, within the window.
    const outer = root.closest('.jp-WindowedPanel-outer') || document.documentElement;
    const o = outer.getBoundingClientRect();
    const screen = {left: Math.max(o.left, 0), top: Math.max(o.top, 0),
        right: Math.min(o.right, window.innerWidth),
        bottom: Math.min(o.bottom, window.innerHeight)};
    // A part is cut off if it sticks out of the screen or out of a box that clips it.
    const clip = (el) => {
        let r = rect(el);
        for (let a = el.parentElement; a && a !== outer; a = a.parentElement) {
            const s = getComputedStyle(a);
            if (s.overflowX !== 'visible' || s.overflowY !== 'visible') {
                const b = a.getBoundingClientRect();
                r = {left: Math.max(r.left, b.left), top: Math.max(r.top, b.top),
                     right: Math.min(r.right, b.right), bottom: Math.min(r.bottom, b.bottom)};
            }
        }
        return r;
    };
    const parts = {
        buttons: root.querySelector('.widget-button, .jupyter-button').parentElement,
        graph: svg,
        text: [...root.querySelectorAll('.widget-html:not(.tgf-region-rule)')].pop(),
    };
    const fits = {};
    for (const [name, el] of Object.entries(parts)) {
        const r = rect(el), c = clip(el);
        const whole = Math.abs(c.left - r.left) < 1 && Math.abs(c.right - r.right) < 1
            && Math.abs(c.top - r.top) < 1 && Math.abs(c.bottom - r.bottom) < 1;
        fits[name] = {rect: r, whole,
            on_screen: whole && r.left >= screen.left - 1 && r.right <= screen.right + 1
                && r.top >= screen.top - 1 && r.bottom <= screen.bottom + 1};
    }
    // the focusable, named box around the drawing (not one of JupyterLab's own)
    let region = svg.closest('[tabindex="0"][aria-label]');
    if (region && !root.contains(region)) region = null;
    const words = parts.text.querySelector('.widget-html-content > div') || parts.text;
    return {
        dpr: window.devicePixelRatio, screen, fits, smallest: texts[0],
        graph_label: svg.getAttribute('aria-label'),
        step_text_px: parseFloat(getComputedStyle(words).fontSize),
        svg_width: svg.getBoundingClientRect().width, natural_width: svg.viewBox.baseVal.width,
        region: region && {label: region.getAttribute('aria-label'), tabindex: region.tabIndex,
            role: region.getAttribute('role'),
            scrolls: region.scrollWidth > region.clientWidth + 1},
    };
}"""


@pytest.fixture
def projector_page(browser, lab_server):
    """A page as a 1280×720 window at 150% zoom shows it (see the module's docstring)."""
    size = {"width": int(WIDTH / ZOOM), "height": int(HEIGHT / ZOOM)}
    context = browser.new_context(viewport=size, device_scale_factor=ZOOM)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
        lab_server.shut_down_sessions()


def run_notebook(page, lab_server) -> None:
    """Open the notebook and Run All from the Run menu; wait until every cell has run."""
    page.set_default_timeout(30_000)
    page.goto(
        f"{lab_server.url}/lab/workspaces/test-projection/tree/notebooks/{NOTEBOOK}"
        f"?token={lab_server.token}"
    )
    prompts = f"{ACTIVE} .jp-CodeCell .jp-InputPrompt"
    page.locator(prompts).first.wait_for()
    idle(page)
    menu(page, "Run", "Run All Cells")
    page.wait_for_function(
        """(sel) => { const p = [...document.querySelectorAll(sel)].map(e => e.textContent);
            return p.length > 0 && p.every(t => /\\[\\d+\\]/.test(t)); }""",
        arg=prompts,
        timeout=RUN_ALL_TIMEOUT_MS,
    )
    idle(page)


def idle(page) -> None:
    page.locator("#jp-main-statusbar", has_text=re.compile(r"\|\s*Idle")).wait_for()


def menu(page, *path: str) -> None:
    """Click through the menu bar: ``menu(page, "View", "Appearance", "Presentation Mode")``."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{path[0]}$")).click()
    for item in path[1:]:
        page.locator(".lm-Menu:visible .lm-Menu-itemLabel").filter(
            has_text=re.compile(f"^{re.escape(item)}$")
        ).last.click()
    page.keyboard.press("Escape")  # a submenu's parent may stay open


def the_stepper(page):
    """The stepper's widget: the output with a Step button and a drawing named 'Step ...'."""
    output = (
        page.locator(f"{ACTIVE} .jp-OutputArea-output")
        .filter(has=page.locator("button", has_text=re.compile(r"^\s*Step\s*$")))
        .filter(has=page.locator('svg[role="img"][aria-label^="Step "]'))
    )
    assert output.count() == 1, f"{NOTEBOOK}: expected one stepper output, found {output.count()}"
    return output.locator(".jupyter-widgets").first


def press(page, stepper, button: str) -> None:
    """Press a stepper button and wait for the drawing the kernel sends back."""
    svg = stepper.locator('svg[role="img"]').first
    before = svg.get_attribute("aria-label")
    stepper.locator("button", has_text=re.compile(rf"^\s*{button}\s*$")).click()
    if button == "Reset" and before.startswith("Step 0 "):
        return
    page.wait_for_function(
        "([el, before]) => { const s = el.querySelector('svg[role=\"img\"]');"
        " return s && s.getAttribute('aria-label') !== before; }",
        arg=[stepper.element_handle(), before],
        timeout=WIDGET_TIMEOUT_MS,
    )


def measure_every_step(page, stepper, layout: str, zoom: float, lines: list[str]) -> list[dict]:
    """Reset, then measure each state of the stepper, scrolled to its top; text sizes in screen
    px at ``zoom`` (CSS px × zoom)."""
    press(page, stepper, "Reset")
    n = int(re.search(r"of (\d+)", stepper.locator("svg").first.get_attribute("aria-label"))[1])
    found = []
    for k in range(n + 1):
        if k:
            press(page, stepper, "Step")
        stepper.evaluate("(el) => el.scrollIntoView({block: 'start'})")
        page.evaluate(TWO_FRAMES)  # the scrolled page laid out and drawn (was a 100 ms sleep)
        m = stepper.evaluate(MEASURE_JS)
        m["step"], m["layout"] = k, layout
        m["smallest"]["px"] *= zoom
        m["step_text_px"] *= zoom
        found.append(m)
        fits = ", ".join(
            f"{part} {'on screen' if f['on_screen'] else 'whole' if f['whole'] else 'CUT OFF'}"
            for part, f in m["fits"].items()
        )
        bottom = max(f["rect"]["bottom"] for f in m["fits"].values())
        top = min(f["rect"]["top"] for f in m["fits"].values())
        region = m["region"]
        lines.append(
            f"{layout}, step {k}: graph text >= {m['smallest']['px']:.1f} screen px "
            f"({m['smallest']['text']!r}), step text {m['step_text_px']:.1f}; graph "
            f"{m['svg_width']:.0f} CSS px wide (drawn {m['natural_width']:.0f}); stepper "
            f"{bottom - top:.0f} CSS px tall in a notebook area of "
            f"{m['screen']['right'] - m['screen']['left']:.0f}×"
            f"{m['screen']['bottom'] - m['screen']['top']:.0f}; {fits}"
            + ("; its region scrolls" if region and region["scrolls"] else "")
        )
    return found


def test_stepper_fits_one_screen_at_150_percent_zoom(
    projector_page, lab_server, save_screenshot, artifacts_dir
) -> None:
    page = projector_page
    started = time.perf_counter()
    run_notebook(page, lab_server)
    stepper = the_stepper(page)
    lines: list[str] = []

    layouts = {}
    file_browser = page.locator("#filebrowser")
    assert file_browser.is_visible(), "JupyterLab should open with the file browser showing"
    layouts["file browser open"] = measure_every_step(
        page, stepper, "file browser open", ZOOM, lines
    )
    save_screenshot(page, "projection-file-browser-open")

    page.keyboard.press("Control+b")  # View → File Browser: close the left sidebar
    file_browser.wait_for(state="hidden")
    layouts["file browser closed"] = measure_every_step(
        page, stepper, "file browser closed", ZOOM, lines
    )
    save_screenshot(page, "projection-file-browser-closed")

    menu(page, "View", "Appearance", "Presentation Mode")
    page.locator(".jp-mod-presentationMode").first.wait_for(state="attached")
    page.wait_for_timeout(300)
    layouts["presentation mode"] = measure_every_step(
        page, stepper, "presentation mode", ZOOM, lines
    )
    save_screenshot(page, "projection-presentation-mode")

    # Presentation Mode without browser zoom: the window's own 1280×720 CSS px. (The device
    # pixel ratio stays 1.5, which changes no layout; text is counted at zoom 1.)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    page.wait_for_timeout(500)
    layouts["presentation mode at 100%"] = measure_every_step(
        page, stepper, "presentation mode at 100%", 1.0, lines
    )
    save_screenshot(page, "projection-presentation-mode-100")

    report = "\n".join(lines)
    (artifacts_dir / "projection.txt").write_text(report + "\n")
    print(f"\n{report}\n({time.perf_counter() - started:.1f} s)")

    problems = []
    closed = {m["step"]: m for m in layouts["file browser closed"]}
    for layout, states in layouts.items():
        for m in states:
            where = f"{layout}, step {m['step']}"
            cut = [part for part, f in m["fits"].items() if not f["on_screen"]]
            if layout in ("file browser closed", "presentation mode at 100%"):
                if cut:
                    problems.append(f"{where}: not on one screen: {', '.join(cut)}")
            elif not m["fits"]["graph"]["whole"]:  # too wide: it must scroll, not shrink
                region = m["region"]
                if not (region and region["tabindex"] == 0 and region["scrolls"]):
                    problems.append(
                        f"{where}: the graph is cut off, and not in a region the keyboard can "
                        f"focus to scroll it ({region})"
                    )
                elif not region["label"].startswith(m["graph_label"]):
                    problems.append(f"{where}: its region is not named for the drawing ({region})")
            if layout == "presentation mode at 100%":
                continue  # no browser zoom: the 16 px are asked of 150% zoom
            if m["smallest"]["px"] < MIN_TEXT_PX:
                problems.append(
                    f"{where}: graph text {m['smallest']['text']!r} is "
                    f"{m['smallest']['px']:.1f} screen px, less than {MIN_TEXT_PX}"
                )
            if layout == "presentation mode":
                before = closed[m["step"]]
                for what, key in (("graph text", "smallest"), ("step text", "step_text_px")):
                    now, was = m[key], before[key]
                    now, was = (now["px"], was["px"]) if key == "smallest" else (now, was)
                    if now < 1.15 * was:
                        problems.append(
                            f"{where}: the {what} does not grow with Presentation Mode "
                            f"({was:.1f} -> {now:.1f} screen px)"
                        )
    assert not problems, "\n".join(problems) + f"\n\nmeasured:\n{report}"
