"""Kernel ports reserved across test processes (tests/kernel_ports.py)."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
from jupyter_client import KernelManager
from jupyter_client.connect import LocalPortCache
from kernel_ports import STALE_SECONDS, ReservedPorts, port_range, use_reserved_ports

IP = "127.0.0.1"


def free_block(size: int = 40) -> range:
    """A run of ports that nothing listens on now, below the range the kernels of the test
    processes draw from, so these tests never take or hold a port a kernel may be about to bind."""
    for start in range(6_000, port_range().start - size, 397):
        block = range(start, start + size)
        if all(_free(port) for port in block):
            return block
    pytest.skip("no run of free ports between 6000 and 10000 on this machine")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((IP, port))
        except OSError:
            return False
    return True


def test_two_processes_never_hold_the_same_port(tmp_path: Path) -> None:
    # Two caches with one folder stand for two pytest-xdist workers: each draws until the block
    # is used up, and no port is handed out twice.
    block = free_block(40)
    first, second = ReservedPorts(tmp_path, block), ReservedPorts(tmp_path, block)
    second._next = first._next  # the worst case: both start at the same port
    drawn = []
    for _ in range(20):
        drawn += [first.find_available_port(IP), second.find_available_port(IP)]
    assert len(set(drawn)) == 40
    assert set(drawn) == set(block)
    assert sorted(int(p.name) for p in tmp_path.iterdir()) == sorted(drawn)
    with pytest.raises(RuntimeError, match="no free port for a kernel"):
        first.find_available_port(IP)


def test_a_returned_port_is_free_for_another_process(tmp_path: Path) -> None:
    block = free_block(2)
    first, second = ReservedPorts(tmp_path, block), ReservedPorts(tmp_path, block)
    a, b = first.find_available_port(IP), first.find_available_port(IP)
    with pytest.raises(RuntimeError):
        second.find_available_port(IP)
    first.return_port(a)
    assert second.find_available_port(IP) == a
    first.release_all()  # what runs when the process exits
    assert not (tmp_path / str(b)).exists()
    assert (tmp_path / str(a)).exists()  # still the second process's


def test_a_port_another_program_listens_on_is_skipped(tmp_path: Path) -> None:
    block = free_block(3)
    with socket.socket() as other:
        other.bind((IP, block[0]))
        other.listen()
        cache = ReservedPorts(tmp_path, block)
        cache._next = 0
        assert cache.find_available_port(IP) == block[1]
    assert not (tmp_path / str(block[0])).exists()  # not left reserved


def test_a_reservation_of_a_killed_process_is_taken_back(tmp_path: Path) -> None:
    block = free_block(1)
    (tmp_path / str(block[0])).touch()
    cache = ReservedPorts(tmp_path, block)
    with pytest.raises(RuntimeError):
        cache.find_available_port(IP)  # a live reservation is respected
    old = time.time() - STALE_SECONDS - 60
    os.utime(tmp_path / str(block[0]), (old, old))
    assert cache.find_available_port(IP) == block[0]


def test_ports_lie_below_the_ephemeral_range(tmp_path: Path) -> None:
    ranges = tmp_path / "ip_local_port_range"
    ranges.write_text("40000\t60999\n")
    assert port_range(ranges) == range(10_000, 40_000)
    assert port_range(tmp_path / "missing") == range(10_000, 32_768)


def test_every_kernel_of_the_test_process_uses_the_reserved_ports() -> None:
    # tests/conftest.py installed it: jupyter_client's provisioner asks LocalPortCache.instance()
    cache = LocalPortCache.instance()
    assert isinstance(cache, ReservedPorts)
    assert use_reserved_ports() is cache
    km = KernelManager()
    km.start_kernel()
    try:
        info = km.get_connection_info()
        ports = [info[f"{name}_port"] for name in ("shell", "iopub", "stdin", "control", "hb")]
        assert all(port in cache.ports for port in ports)
        assert all((cache.folder / str(port)).exists() for port in ports)
        km.client().wait_for_ready(timeout=60)  # the kernel listens on them
    finally:
        km.shutdown_kernel(now=True)
    assert not any((cache.folder / str(port)).exists() for port in ports)  # given back
