"""Kernel ports that no two test processes hand out at once.

Every kernel the tests start (nbval's, nbclient's, the learner simulation's) listens on five TCP
ports that jupyter_client picks before the kernel starts: it binds port 0, reads the number the
system chose and closes the socket; the kernel binds that number about a second later. Within
one process jupyter_client's ``LocalPortCache`` keeps two kernels apart. Two processes are not
kept apart: pytest-xdist's workers (and two test runs side by side, as CI's matrix runs them)
can draw the same free port in that second, and then one kernel dies at start ("Kernel died
before replying to kernel_info").

:class:`ReservedPorts` replaces how that cache finds a port (it is the cache's subclass, made
the singleton that jupyter_client asks for, through traitlets' ``SingletonConfigurable``):

* ports come from below the system's ephemeral range (``ip_local_port_range``, 32768 and up on
  Linux), where binding port 0 never lands, so the JupyterLab server of the browser tests and
  any other program that lets the system choose cannot draw them;
* each port is reserved across processes by creating a file named after it in a folder of the
  temporary directory, one per user (``O_CREAT | O_EXCL``: exactly one process succeeds), and
  still has to bind, so a port some other program holds is skipped;
* a port returns when jupyter_client releases the kernel's ports, and every port a process
  still holds when it exits; a reservation older than :data:`STALE_SECONDS` (a process that was
  killed) is taken back.

No library does this (jupyter_client's own cache is per process), so it is written here.
"""

from __future__ import annotations

import atexit
import errno
import getpass
import os
import random
import socket
import tempfile
import time
from pathlib import Path

from jupyter_client.connect import LocalPortCache

__all__ = ["STALE_SECONDS", "ReservedPorts", "port_range", "use_reserved_ports"]

STALE_SECONDS = 6 * 3600  # longer than any test run: a reservation this old lost its process
_LOWEST = 10_000  # below this are ports that services commonly use


def port_range(ephemeral_file: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> range:
    """The ports to hand out: from 10000 up to the first port of the system's ephemeral range
    (32768 when the system does not say)."""
    try:
        first = int(ephemeral_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        first = 32_768
    return range(_LOWEST, max(first, _LOWEST + 1_000))


class ReservedPorts(LocalPortCache):
    """jupyter_client's port cache, with each port reserved across processes by a file in
    ``folder`` (see the module's docstring)."""

    def __init__(self, folder: Path | None = None, ports: range | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.folder = folder or Path(tempfile.gettempdir()) / f"tgf-kernel-ports-{_user()}"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ports = ports or port_range()
        self._next = random.randrange(len(self.ports))  # processes start far apart
        atexit.register(self.release_all)

    def find_available_port(self, ip: str) -> int:
        for _ in range(len(self.ports)):
            port = self.ports[self._next]
            self._next = (self._next + 1) % len(self.ports)  # a released port waits its turn
            if port in self.currently_used_ports or not self._reserve(port):
                continue
            if _binds(ip, port):
                self.currently_used_ports.add(port)
                return port
            self._unreserve(port)  # another program holds it
        raise RuntimeError(
            f"no free port for a kernel in {self.ports.start}-{self.ports.stop - 1}: every one is "
            f"reserved in {self.folder} or in use; remove that folder if no tests are running"
        )

    def return_port(self, port: int) -> None:
        if port in self.currently_used_ports:
            self.currently_used_ports.remove(port)
            self._unreserve(port)

    def release_all(self) -> None:
        """Give back every port this process still holds (run when it exits)."""
        for port in list(self.currently_used_ports):
            self.return_port(port)

    def _reserve(self, port: int) -> bool:
        path = self.folder / str(port)
        for _ in range(2):
            try:
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                return True
            except FileExistsError:
                try:
                    stale = time.time() - path.stat().st_mtime > STALE_SECONDS
                except FileNotFoundError:
                    continue  # released meanwhile: try again
                if not stale:
                    return False
                path.unlink(missing_ok=True)  # its process is gone: take it back
        return False

    def _unreserve(self, port: int) -> None:
        (self.folder / str(port)).unlink(missing_ok=True)


def _user() -> str:
    """Who runs the tests (each user reserves in a folder of their own: another's is not ours
    to write in)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container's user)
        return str(os.getuid()) if hasattr(os, "getuid") else "user"


def _binds(ip: str, port: int) -> bool:
    """True when nothing listens on (ip, port) now."""
    with socket.socket() as probe:
        try:
            probe.bind((ip, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
                return False
            raise
    return True


def use_reserved_ports() -> ReservedPorts:
    """Make :class:`ReservedPorts` the port cache every kernel of this process gets its ports
    from (jupyter_client calls ``LocalPortCache.instance()``; the subclass's ``instance()``
    becomes that singleton). Call it before the first kernel starts."""
    if LocalPortCache.initialized() and not isinstance(LocalPortCache.instance(), ReservedPorts):
        LocalPortCache.clear_instance()
    return ReservedPorts.instance()
