"""axe-core over what a notebook shows: the accessibility check of the browser tests.

``axe_violations(page)`` runs axe-core (bundled by ``axe-playwright-python``) on the outputs of
the open notebook only, the part the course draws: SVG graphs and charts, HTML views, and the
ipywidgets controls the explorers are made of. JupyterLab's own interface is not the course's
to fix and is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

ACTIVE = ".jp-NotebookPanel:not(.lm-mod-hidden)"
OUTPUTS = f"{ACTIVE} .jp-OutputArea-output"
# Left out of the check, each for a reason the course cannot fix:
# * ``.noUi-handle``: the handle of an ipywidgets slider (noUiSlider) gets no accessible
#   name, and nothing set from Python reaches it (a known gap upstream: ipywidgets passes no
#   ``handleAttributes`` to noUiSlider). Every course slider has a labelled number box beside
#   it (course_lib/widgets/_controls.py), which is checked, and that is how a screen reader
#   user sets the value. See README.md, "Accessibility".
NOT_OURS = (".noUi-handle",)


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]
    html: tuple[str, ...]

    def __str__(self) -> str:
        where = "; ".join(self.targets[:3]) + (" ..." if len(self.targets) > 3 else "")
        return f"{self.rule} ({self.impact}, {len(self.targets)} elements): {self.help} [{where}]"


def axe_violations(page, exclude: tuple[str, ...] = NOT_OURS) -> list[Violation]:
    """The axe-core violations inside the open notebook's outputs, but for ``exclude``."""
    from axe_playwright_python.sync_playwright import Axe

    context: dict = {"include": [[OUTPUTS]]}
    if exclude:
        context["exclude"] = [[selector] for selector in exclude]
    results = Axe().run(page, context=context, options={"resultTypes": ["violations"]})
    found = []
    for item in results.response["violations"]:
        nodes = item.get("nodes", [])
        found.append(
            Violation(
                item["id"],
                item.get("impact") or "",
                item.get("help", ""),
                tuple(" ".join(map(str, n.get("target", []))) for n in nodes),
                tuple(n.get("html", "")[:200] for n in nodes),
            )
        )
    return found


def accessible_name(page, element) -> tuple[str, str, str]:
    """(role, name, description) of ``element`` (a Playwright locator) as Chromium computes
    them for screen readers: read from the browser's accessibility tree (DevTools protocol),
    not from the element's attributes."""
    element.evaluate("(el) => el.setAttribute('data-tgf-probe', '1')")
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("Accessibility.enable")
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "[data-tgf-probe]"})
        tree = cdp.send(
            "Accessibility.getPartialAXTree", {"nodeId": node["nodeId"], "fetchRelatives": False}
        )
    finally:
        cdp.detach()
        element.evaluate("(el) => el.removeAttribute('data-tgf-probe')")
    ax = tree["nodes"][0]

    def value(key: str) -> str:
        return str((ax.get(key) or {}).get("value", ""))

    return value("role"), value("name"), value("description")
