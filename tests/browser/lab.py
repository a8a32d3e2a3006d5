"""A private JupyterLab for the browser tests and the browser benchmark.

The server runs from this Python (``sys.executable -m jupyter lab``) on 127.0.0.1 with a free
port and a random token, in a folder ``base`` that holds a *copy* of ``notebooks/`` with
outputs cleared (so nothing changes the real notebooks, and every output seen was made live).
Its settings live in ``base`` too: ``autoStartDefaultKernel`` (no "Select Kernel" dialog),
``windowingMode: none`` (every cell is in the page, for the tests that look at every cell; the
latency benchmark keeps JupyterLab's default, what ``run.py lab`` opens), no news and no update
check. Chromium is
the operating system's (Playwright's own browser download does not work offline).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The notebooks served; TGF_NOTEBOOKS points at another folder (to try a notebook out).
NOTEBOOKS = Path(os.environ.get("TGF_NOTEBOOKS", ROOT / "notebooks"))
SERVER_START_TIMEOUT_S = 60
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LabError(RuntimeError):
    """JupyterLab did not start: the message holds the end of its log."""


def find_chromium() -> str | None:
    """The path of a Chromium to drive: ``$CHROMIUM``, else the system's chromium/chrome."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def _copy_notebooks_without_outputs(dest: Path) -> None:
    """Copy notebooks/ to ``dest``, clearing every code cell's outputs and execution count."""
    shutil.copytree(NOTEBOOKS, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for path in dest.glob("*.ipynb"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code":
                cell["outputs"] = []
                cell["execution_count"] = None
        # Saved widget state would let a view appear without the kernel; drop it.
        nb.get("metadata", {}).pop("widgets", None)
        path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


@dataclass
class LabServer:
    """A running JupyterLab: where it is and how to talk to its REST API."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen
    log: Path

    def api(self, method: str, path: str) -> object:
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_sessions(self) -> None:
        """Delete every session (which shuts its kernel down): one notebook's kernel at a time."""
        for session in self.api("GET", "/api/sessions") or []:
            try:
                self.api("DELETE", f"/api/sessions/{session['id']}")
            except urllib.error.HTTPError:
                pass

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


@contextmanager
def running_lab(base: Path, every_cell_in_page: bool = True) -> Iterator[LabServer]:
    """JupyterLab serving a copy of the notebooks from the empty folder ``base``; stopped by
    its PID on the way out. Raises :class:`LabError` when it does not start.

    ``every_cell_in_page``: the notebook's windowing mode is ``none`` (every cell stays in the
    page); False keeps JupyterLab's default (``contentVisibility`` in JupyterLab 4.6: the
    browser skips the layout and painting of cells out of view), as a learner's JupyterLab has.
    """
    root = base / "root"
    root.mkdir()
    _copy_notebooks_without_outputs(root / "notebooks")
    settings = base / "user-settings"
    _write_json(
        settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
        {"autoStartDefaultKernel": True}
        | ({"windowingMode": "none"} if every_cell_in_page else {}),
    )
    _write_json(
        settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
        {"fetchNews": "false", "checkForUpdates": False},
    )
    token = secrets.token_hex(24)
    port = _free_port()
    env = dict(os.environ)
    # Keep this machine's own Jupyter and IPython configuration out of the test.
    env["JUPYTER_CONFIG_DIR"] = str(base / "config")
    env["JUPYTER_RUNTIME_DIR"] = str(base / "runtime")
    env["IPYTHONDIR"] = str(base / "ipython")
    command = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
        "--ServerApp.terminals_enabled=False",
        # window.jupyterapp: the tests open each notebook in one loaded JupyterLab
        "--LabApp.expose_app_in_browser=True",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = base / "jupyterlab.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
    server = LabServer(f"http://127.0.0.1:{port}", token, root, process, log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise LabError(
                    f"JupyterLab exited with code {process.returncode}:\n{server.log_tail()}"
                )
            try:
                server.api("GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise LabError(
                        f"JupyterLab did not answer within {SERVER_START_TIMEOUT_S} s:\n"
                        f"{server.log_tail()}"
                    ) from None
                time.sleep(0.25)
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """Stop the server by its PID: SIGINT twice is Jupyter's clean shutdown; then terminate."""
    if process.poll() is not None:
        return
    for sig in (signal.SIGINT, signal.SIGINT):
        process.send_signal(sig)
        time.sleep(0.2)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
