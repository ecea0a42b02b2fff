"""Watch what a ``jupyter_client.KernelManager`` does to its kernel process.

A kernel manager reaches its kernel two ways: messages (a ``shutdown_request`` on control) and
signals to the process (``SIGINT`` for an interrupt, ``SIGTERM``, ``SIGKILL``). Messages can be
recorded by the manager's session (``utils.protocol.RecordingSession``); signals are sent by the
manager's *provisioner*, which :func:`record_signals` wraps so that pages can show them.
"""

from __future__ import annotations

import signal
from typing import Any

__all__ = ["record_signals"]


def record_signals(manager: Any) -> list[str]:
    """Record every signal ``manager``'s current provisioner sends, by name, from now on.

    Parameters
    ----------
    manager
        A started ``KernelManager`` (or ``AsyncKernelManager``).

    Returns
    -------
    list of str
        The list the names are appended to (``"SIGINT"``, ``"SIGKILL"``, ...), in the order
        sent. ``KernelManager`` keeps its provisioner across restarts, so the list goes on
        recording the signals sent to the restarted processes too. Calling this again for
        the same provisioner returns the same list: no signal is counted twice.

    Raises
    ------
    RuntimeError
        If the manager has no provisioner (its kernel was never started).
    """
    provisioner = manager.provisioner
    if provisioner is None:
        raise RuntimeError("the kernel manager has no provisioner: start its kernel first")
    known = getattr(provisioner, "_signals_sent", None)
    if known is not None:
        return known
    sent: list[str] = []
    send_signal = provisioner.send_signal

    async def recorded(signum: int) -> None:
        sent.append(signal.Signals(signum).name)
        await send_signal(signum)

    provisioner.send_signal = recorded
    provisioner._signals_sent = sent
    return sent
