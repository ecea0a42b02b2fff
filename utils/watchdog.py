"""Wait for a reply in short slices, and notice a dead or hung kernel between them.

``BlockingKernelClient.execute(reply=True)`` and ``execute_interactive`` wait for their whole
timeout when the kernel dies or hangs: they only read their sockets. :func:`wait_for_reply`
reads the shell channel for at most ``poll_interval`` seconds at a time and, between reads,
asks the kernel manager whether the process still exists and the heartbeat channel whether
the kernel still echoes its pings.
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

from jupyter_client import KernelManager
from jupyter_client.blocking import BlockingKernelClient

from .run_jupyter_kernel import (
    ExecutionTimeoutError,
    KernelDiedError,
    KernelError,
    _heartbeat_answers,
    parent_id,
)

__all__ = ["HeartbeatLostError", "wait_for_reply"]


class HeartbeatLostError(KernelError, RuntimeError):
    """The kernel's heartbeat stopped echoing while we waited for a reply.

    Its process may still exist (a frozen or deadlocked kernel), or the client cannot tell
    (no kernel manager). A kernel that echoes pings from its main loop instead of a thread
    of its own (IRkernel) is also silent while it merely executes.
    """


def wait_for_reply(
    client: BlockingKernelClient,
    msg_id: str,
    timeout: float,
    *,
    manager: KernelManager | None = None,
    poll_interval: float = 0.25,
    heartbeat_grace: float = 1.5,
) -> dict[str, Any]:
    """Return the shell reply to ``msg_id``; raise as soon as the kernel is gone or silent.

    Parameters
    ----------
    client
        A client whose shell and heartbeat channels are started (``start_channels()``).
        Replies to other requests read meanwhile are dropped.
    msg_id
        The ``msg_id`` of the request (what ``client.execute(...)`` returned).
    timeout
        Seconds to wait for the reply, at most.
    manager
        The kernel's manager, if this process has it: its ``is_alive()`` polls the process,
        which tells a dead kernel at once.
    poll_interval
        Seconds of each read of the shell channel; the checks run between reads.
    heartbeat_grace
        When the heartbeat channel has missed an echo, one more ping of our own gets this
        many seconds: a single late echo (a loaded machine) is not taken for a hang.

    Returns
    -------
    dict
        The reply message.

    Raises
    ------
    KernelDiedError
        The manager says the kernel's process has exited (within ``poll_interval``).
    HeartbeatLostError
        The heartbeat channel missed an echo (one or two of its ``time_to_dead`` periods,
        1 s each by default, after the kernel froze) and our own ping was not answered within
        ``heartbeat_grace`` either.
    ExecutionTimeoutError
        No reply within ``timeout``, while the kernel was alive and its heartbeat echoed.
    ValueError
        The client's heartbeat channel is not running, or ``timeout`` is not positive.
    """
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    if not client.hb_channel.is_alive():
        raise ValueError("start the client's heartbeat channel: start_channels(hb=True)")
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ExecutionTimeoutError(
                f"no reply to {msg_id} within {timeout:g} s, from a live, busy kernel"
            )
        try:
            reply = client.get_shell_msg(timeout=min(poll_interval, remaining))
        except Empty:
            if manager is not None and not manager.is_alive():
                raise KernelDiedError(
                    f"the kernel's process exited before it replied to {msg_id}"
                ) from None
            if not client.hb_channel.is_beating() and not _heartbeat_answers(
                client, heartbeat_grace
            ):
                raise HeartbeatLostError(
                    f"the heartbeat went silent before the reply to {msg_id}"
                ) from None
            continue
        if parent_id(reply) == msg_id:
            return reply
