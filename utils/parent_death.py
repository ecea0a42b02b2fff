"""Children that end with the process that started them (Linux's ``PR_SET_PDEATHSIG``).

ipykernel watches its parent itself; xeus-python, IRkernel, jupyter_server and Node do not.
A page whose own kernel is killed runs no ``atexit``, so the processes it started would be left
running. :func:`on_parent_death` gives ``subprocess.Popen`` the keyword arguments that make
Linux signal such a child when its parent goes. Linux sends the signal when the *thread* that
started the child ends: start such children from the main thread (or from a thread that lives
as long as they do), never from a short-lived worker thread. Elsewhere it gives nothing.
"""

from __future__ import annotations

import ctypes
import functools
import signal
import sys
from typing import Any

__all__ = ["on_parent_death"]

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _set_parent_death_signal(sig: int) -> None:  # pragma: no cover - runs in the child
    """Between fork and exec: ask Linux to send ``sig`` to this process when its parent dies."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)


def on_parent_death(sig: signal.Signals) -> dict[str, Any]:
    """``Popen`` keyword arguments: on Linux, the child gets ``sig`` when its parent dies.

    Parameters
    ----------
    sig
        ``signal.SIGKILL`` for a child that ignores SIGTERM while it waits, ``signal.SIGTERM``
        for one that should stop what it started first (a server and its kernels).

    Returns
    -------
    dict
        ``{"preexec_fn": ...}`` on Linux, ``{}`` elsewhere.
    """
    if sys.platform != "linux":
        return {}
    return {"preexec_fn": functools.partial(_set_parent_death_signal, int(sig))}
