"""Set up for every test process: one BLAS thread (as run.py sets it, also when pytest is
started directly); kernels get ports no other test process holds (:mod:`kernel_ports`); the
suite is spread over pytest-xdist's workers file by file, the learner simulation test by test
(:mod:`spreading`); nbval's kernel of a notebook is handed to that notebook's tests
(:mod:`shared_kernels`); and what the browser tests measured and saved, listed at the end.

The browser tests (``tests/browser/conftest.py``) record each notebook's seconds and each
screenshot as properties of the test (``record_property``). A test's properties travel with its
report, also from pytest-xdist's workers (``run.py test`` spreads the suite over the cores), so
the process that prints the summary collects them here, from the reports, whichever process ran
the test.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
import shared_kernels
from kernel_ports import use_reserved_ports


def _blas_threads() -> dict[str, str]:
    """run.py's BLAS thread settings (one place for them), read from the file itself."""
    spec = importlib.util.spec_from_file_location(
        "run_py_settings", Path(__file__).resolve().parents[1] / "run.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BLAS_THREADS


# pytest started directly (not through run.py) gets what run.py gives every process it starts:
# one BLAS thread, set before numpy is imported here, in pytest-xdist's workers or in a kernel.
# Without it notebooks 07 and 09 print other last digits than their saved outputs, and on 2
# workers the spinning BLAS threads of the kernels made the learner simulation 5x slower.
for _name, _value in _blas_threads().items():
    os.environ.setdefault(_name, _value)

_TIMINGS: list[str] = []
_SCREENSHOTS: list[Path] = []


def pytest_configure(config: pytest.Config) -> None:
    use_reserved_ports()  # before any kernel starts, in each pytest-xdist worker too
    # a plugin, not hooks of this conftest: its hooks must reach the notebooks/ folder too
    config.pluginmanager.register(shared_kernels, "tgf_shared_kernels")


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
