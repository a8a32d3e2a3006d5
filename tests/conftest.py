"""Set up for every test process: kernels get ports no other test process holds
(:mod:`kernel_ports`); the suite is spread over pytest-xdist's workers file by file, the learner
simulation test by test (:mod:`spreading`); and what the browser tests measured and saved,
listed at the end.

The browser tests (``tests/browser/conftest.py``) record each notebook's seconds and each
screenshot as properties of the test (``record_property``). A test's properties travel with its
report, also from pytest-xdist's workers (``run.py test`` spreads the suite over the cores), so
the process that prints the summary collects them here, from the reports, whichever process ran
the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kernel_ports import use_reserved_ports

_TIMINGS: list[str] = []
_SCREENSHOTS: list[Path] = []


def pytest_configure(config: pytest.Config) -> None:
    use_reserved_ports()  # before any kernel starts, in each pytest-xdist worker too


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: ignored without pytest-xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    from spreading import scheduler_for  # imports pytest-xdist, present when this runs

    return scheduler_for(config, log)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "teardown":  # the last report of a test carries all of its properties
        return
    for key, value in report.user_properties:
        if key == "browser_timing":
            _TIMINGS.append(str(value))
        elif key == "screenshot":
            _SCREENSHOTS.append(Path(str(value)))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _TIMINGS:
        terminalreporter.write_sep("-", "browser: seconds per notebook (open, Run All, widget)")
        for line in _TIMINGS:
            terminalreporter.write_line(f"  {line}")
    if _SCREENSHOTS:
        folders = sorted({str(path.parent) for path in _SCREENSHOTS})
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(
            f"{len(_SCREENSHOTS)} screenshots saved in {', '.join(folders)}:"
        )
        for path in _SCREENSHOTS:
            terminalreporter.write_line(f"  {path.name}")
