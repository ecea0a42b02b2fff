"""What a kernel can leave behind when it ends: processes it started, and its connection file.

A kernel that is shut down, killed, or orphaned by the death of the process that started it
may leave running the processes its code started, and its connection file in the Jupyter
runtime folder. These helpers look at both, and clean them up, with bounded waits:

- :func:`still_running`: a process is running (not gone, not a zombie waiting to be reaped).
- :func:`wait_until_gone`: wait, at most so long, until none of some processes runs.
- :func:`kill_all`: ``SIGKILL`` every one of some processes that still runs, and wait.
- :func:`stale_connection_files`: the connection files of a folder whose kernel does not
  answer on its heartbeat.

Processes are ``psutil.Process`` objects, which remember when their process started: a pid
that the system gave to a new process after the old one ended does not count as the old one.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path

import psutil
import zmq

__all__ = [
    "ProcessesLeftError",
    "kill_all",
    "stale_connection_files",
    "still_running",
    "wait_until_gone",
]

#: The address :func:`stale_connection_files` probes; a file naming another is skipped.
LOOPBACK = ("127.0.0.1",)


class ProcessesLeftError(RuntimeError):
    """Processes still ran after they were sent ``SIGKILL`` and given time to end."""

    def __init__(self, message: str, processes: list[psutil.Process]) -> None:
        super().__init__(message)
        self.processes = processes


def still_running(process: psutil.Process) -> bool:
    """True if ``process`` runs: it exists, is the same process, and is not a zombie.

    A zombie has ended and only waits for its parent to collect its exit status; it does
    nothing and holds no resources but its entry in the process table.
    """
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_until_gone(
    processes: Iterable[psutil.Process], timeout: float = 5.0, interval: float = 0.05
) -> bool:
    """Wait until none of ``processes`` runs; return False if some still run after ``timeout`` s."""
    processes = list(processes)
    deadline = time.monotonic() + timeout
    while any(still_running(p) for p in processes):
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def kill_all(processes: Iterable[psutil.Process], timeout: float = 5.0) -> list[psutil.Process]:
    """Send ``SIGKILL`` to every one of ``processes`` that still runs; wait until all are gone.

    Children of this process that end are reaped, so that no zombie is left either.

    Returns
    -------
    list of psutil.Process
        The processes that were running and were sent ``SIGKILL``.

    Raises
    ------
    ProcessesLeftError
        If some still run ``timeout`` seconds later (``.processes`` names them).
    """
    killed = []
    for process in processes:
        if still_running(process):
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
                killed.append(process)
    if not wait_until_gone(killed, timeout):
        left = [p for p in killed if still_running(p)]
        raise ProcessesLeftError(f"{len(left)} process(es) outlived SIGKILL: {left}", left)
    for process in killed:  # reap our own children; others are reaped by their parents
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(process.pid, os.WNOHANG)
    return killed


def _heartbeat_answers(info: dict, timeout: float) -> bool:
    """True if something answers a ping on the heartbeat address of ``info`` within ``timeout``."""
    transport, ip, port = info.get("transport", "tcp"), info["ip"], info["hb_port"]
    address = f"tcp://{ip}:{port}" if transport == "tcp" else f"ipc://{ip}-{port}"
    socket = zmq.Context.instance().socket(zmq.REQ)
    socket.linger = 0
    try:
        socket.connect(address)
        socket.send(b"ping")
        return bool(socket.poll(int(timeout * 1000)))
    finally:
        socket.close(linger=0)


def stale_connection_files(
    folder: str | os.PathLike[str], timeout: float = 1.0, pattern: str = "kernel-*.json"
) -> list[Path]:
    """The connection files in ``folder`` whose kernel does not answer on its heartbeat.

    Each file matching ``pattern`` (the names ``jupyter kernel`` and jupyter_server give
    them) is read, and its heartbeat address gets one ping: a kernel that runs echoes it
    back at once, so a file without an echo within ``timeout`` seconds belongs to a kernel
    that is gone (or hangs so badly that no client could use it). Nothing is deleted: the
    caller decides. Files that are not connection files, and files naming an address other
    than 127.0.0.1 (:data:`LOOPBACK`), are skipped, never probed.

    Returns
    -------
    list of pathlib.Path
        The stale files, sorted by name.
    """
    stale = []
    for path in sorted(Path(folder).glob(pattern)):
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            info["ip"], info["hb_port"]  # noqa: B018 - a connection file names both
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if info.get("transport", "tcp") == "tcp" and info["ip"] not in LOOPBACK:
            continue
        if not _heartbeat_answers(info, timeout):
            stale.append(path)
    return stale
