"""Fixtures for the browser tests: a private JupyterLab server and a headless Chromium.

The server is :func:`lab.running_lab` (a copy of ``notebooks/`` with outputs cleared, private
settings, a free port and a random token). Chromium is the operating system's (``chromium``
from Debian, which ``.ci/run`` installs), driven by Playwright. Where there is no Chromium (or
no Playwright) the browser tests are skipped with a message saying so; set ``CHROMIUM`` to a
browser's path to use another one.

Screenshots go to ``test-artifacts/browser/`` (or ``$TGF_ARTIFACTS/browser``). Each screenshot
and each notebook's seconds is recorded as a property of its test (``record_property``), which
pytest-xdist sends from its workers with the test's report; ``tests/conftest.py`` lists them at
the end of the run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lab import CHROMIUM_ARGS, ROOT, LabError, LabServer, find_chromium, running_lab

ARTIFACTS = Path(os.environ.get("TGF_ARTIFACTS", ROOT / "test-artifacts")) / "browser"


@pytest.fixture(scope="module")
def chromium_path() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("browser tests need Playwright: pip install playwright (in the test extra)")
    path = find_chromium()
    if path is None:
        pytest.skip(
            "browser tests need Chromium and none was found (looked for $CHROMIUM, chromium, "
            "chromium-browser, google-chrome); on Debian/Ubuntu: apt-get install chromium"
        )
    return path


@pytest.fixture(scope="module")
def lab_server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab serving a copy of the notebooks (:func:`lab.running_lab`)."""
    try:
        with running_lab(tmp_path_factory.mktemp("jupyterlab")) as server:
            yield server
    except LabError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


VIEWPORT = {"width": 1280, "height": 900}
# Every notebook and dialog in JupyterLab's main area closed without saving (a notebook run by a
# test has changes; marked clean, it closes without the "Save your work" dialog); resolves to
# whether the main area is empty and no dialog is left.
_CLOSE_ALL = """async () => {
    const app = window.jupyterapp;
    for (const widget of [...app.shell.widgets("main")]) {
        if (widget.context) widget.context.model.dirty = false;
        widget.close();
    }
    await new Promise((done) => setTimeout(done, 0));
    return [...app.shell.widgets("main")].length === 0 && !document.querySelector(".jp-Dialog");
}"""


class LabPage:
    """One JupyterLab, loaded once in one page, in which the tests open notebook after
    notebook, as a learner does in one browser tab (the app's scripts are loaded and run once,
    not once a notebook: opening a notebook until its kernel is idle took 4.6-5.7 s in a new
    page, 2.4-3.1 s in the loaded one). Between tests every document
    is closed and every kernel shut down; when that fails (a test left the page broken), the
    next test gets a newly loaded page."""

    def __init__(self, browser: object, server: LabServer) -> None:
        self.browser, self.server, self.context, self.page = browser, server, None, None

    def fresh(self) -> object:
        """The page, with nothing open and at the usual window size."""
        if self.page is None:
            self.context = self.browser.new_context(viewport=VIEWPORT)
            self.page = self.context.new_page()
            url = f"{self.server.url}/lab/workspaces/browser-tests?reset&token={self.server.token}"
            self.page.goto(url)
            self.page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell")
            self.page.evaluate("() => window.jupyterapp.restored.then(() => true)")
        self.page.set_viewport_size(VIEWPORT)
        return self.page

    def clear(self) -> None:
        """Close every document and shut every kernel down; drop the page if that fails."""
        try:
            if self.page is not None and not self.page.evaluate(_CLOSE_ALL):
                self.close()
        except Exception:  # a page that crashed or hangs: load a new one for the next test
            self.close()
        self.server.shut_down_sessions()

    def close(self) -> None:
        context, self.context, self.page = self.context, None, None
        if context is not None:
            context.close()


@pytest.fixture(scope="module")
def lab_page(browser: object, lab_server: LabServer) -> Iterator[LabPage]:
    loaded = LabPage(browser, lab_server)
    try:
        yield loaded
    finally:
        loaded.close()


@pytest.fixture
def page(lab_page: LabPage) -> Iterator[object]:
    """JupyterLab's page with no document open (:class:`LabPage`); afterwards the notebook is
    closed and its kernel shut down."""
    try:
        yield lab_page.fresh()
    finally:
        lab_page.clear()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where screenshots go; each one saved there is listed in the terminal summary."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def save_screenshot(
    artifacts_dir: Path, record_property: Callable[[str, object], None]
) -> Callable[[object, str], Path]:
    """``save_screenshot(page_or_locator, name)`` writes ``name.png`` and records it."""

    def save(target: object, name: str) -> Path:
        path = artifacts_dir / f"{name}.png"
        target.screenshot(path=str(path))
        record_property("screenshot", str(path))
        return path

    return save


@pytest.fixture
def record_seconds(
    record_property: Callable[[str, object], None],
) -> Callable[[str, float], None]:
    """``record_seconds(name, seconds)``: listed in the terminal summary."""

    def record(name: str, seconds: float) -> None:
        record_property("browser_timing", f"{name}: {seconds:.1f} s")

    return record
