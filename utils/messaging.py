"""Send a kernel one request and collect what it causes: the reply and the iopub messages.

The protocol pages talk to their kernels through these few functions, so that each page shows
its requests and answers, not the loops that read them:

- :func:`send`: one request on shell or control (optionally to a subshell); returns it.
- :func:`reply_to`: the reply to a request, read from its channel.
- :func:`iopub_of`: the iopub messages a request caused, ``status: busy`` to ``status: idle``.
- :func:`ask` and :func:`execute`: all three at once, as an :class:`Exchange`;
  :func:`submit` sends an ``execute_request`` without waiting.

Messages that arrive while a function waits for another request's answer are not dropped:
they are kept, per client and channel, for the call that asks for them (:func:`pending`
returns the ones nobody asked for, such as ``iopub_welcome``). So a page may send several
requests before it reads any answer, and answers never get lost to the wrong reader.

Every wait is bounded; a timeout raises :class:`~utils.run_jupyter_kernel.NoReplyError` (no
reply) or :class:`~utils.run_jupyter_kernel.ExecutionTimeoutError` (no ``idle``), holding the
messages received so far.
"""

from __future__ import annotations

import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from queue import Empty
from typing import Any

from jupyter_client.blocking import BlockingKernelClient

from .run_jupyter_kernel import ExecutionTimeoutError, NoReplyError, parent_id, summarize

__all__ = ["Exchange", "ask", "execute", "iopub_of", "pending", "reply_to", "send", "submit"]

Message = dict[str, Any]

#: What ``execute_request`` fields :func:`execute` sends unless told otherwise.
EXECUTE_DEFAULTS: dict[str, Any] = {
    "silent": False,
    "store_history": True,
    "user_expressions": {},
    "allow_stdin": False,
    "stop_on_error": True,
}

# Messages read while looking for others: client -> channel -> messages, in arrival order.
_inbox: weakref.WeakKeyDictionary[BlockingKernelClient, dict[str, deque[Message]]] = (
    weakref.WeakKeyDictionary()
)


@dataclass
class Exchange:
    """One request and everything it caused."""

    request: Message
    reply: Message | None
    iopub: list[Message] = field(default_factory=list)

    @property
    def content(self) -> dict[str, Any]:
        """The reply's content (``{}`` if there was no reply)."""
        return self.reply["content"] if self.reply else {}

    def summary(self) -> list[str]:
        """One short line per iopub message (``utils.run_jupyter_kernel.summarize``)."""
        return summarize(self.iopub)


def _box(client: BlockingKernelClient, channel: str) -> deque[Message]:
    return _inbox.setdefault(client, {}).setdefault(channel, deque())


def _msg_id(request: Message | str) -> str:
    return request if isinstance(request, str) else request["header"]["msg_id"]


def send(
    client: BlockingKernelClient,
    channel: str,
    msg_type: str,
    content: dict[str, Any] | None = None,
    *,
    subshell_id: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Message:
    """Send one request on ``channel`` (``"shell"`` or ``"control"``) and return it.

    ``subshell_id`` puts the field of that name in the header (spec 5.5), which
    ``jupyter_client`` 8.10 has no parameter for.
    """
    if channel not in ("shell", "control"):
        raise ValueError(f"requests go on shell or control, not {channel!r}")
    msg = client.session.msg(msg_type, content or {}, metadata=metadata)
    if subshell_id is not None:
        msg["header"]["subshell_id"] = subshell_id
    getattr(client, f"{channel}_channel").send(msg)
    return msg


def _next(
    client: BlockingKernelClient, channel: str, wanted: Any, deadline: float
) -> Message | None:
    """The first message on ``channel`` for which ``wanted(msg)``, or None at the deadline.

    Looks first at the messages kept from earlier reads; any other message read is kept.
    """
    box = _box(client, channel)
    for msg in list(box):
        if wanted(msg):
            box.remove(msg)
            return msg
    get = getattr(client, f"get_{channel}_msg")
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            msg = get(timeout=min(left, 0.5))
        except Empty:
            continue
        if wanted(msg):
            return msg
        box.append(msg)


def reply_to(
    client: BlockingKernelClient,
    request: Message | str,
    channel: str = "shell",
    timeout: float = 10.0,
) -> Message:
    """The reply to ``request`` (a message or its ``msg_id``) on ``channel``.

    Raises
    ------
    NoReplyError
        If no reply comes within ``timeout`` seconds.
    """
    msg_id = _msg_id(request)
    reply = _next(
        client,
        channel,
        lambda m: parent_id(m) == msg_id,
        time.monotonic() + timeout,
    )
    if reply is None:
        raise NoReplyError(f"no reply to {msg_id} on {channel} within {timeout} s")
    return reply


def iopub_of(
    client: BlockingKernelClient,
    request: Message | str,
    until: str | Callable[[Message], bool] = "idle",
    timeout: float = 10.0,
) -> list[Message]:
    """The iopub messages whose parent is ``request``, up to the one that ends the wait.

    ``until`` is an execution state (the wait ends with that ``status``: ``"idle"``,
    ``"busy"``), or a function of a message that returns True for the last one wanted (say,
    the first ``stream``).

    Raises
    ------
    ExecutionTimeoutError
        If that message does not come within ``timeout`` seconds; ``.messages`` holds what did.
    """
    if isinstance(until, str):
        state = until

        def until(msg: Message) -> bool:
            return msg["header"]["msg_type"] == "status" and (
                msg["content"]["execution_state"] == state
            )

        until.__name__ = f"status: {state}"
    msg_id = _msg_id(request)
    deadline = time.monotonic() + timeout
    messages: list[Message] = []
    while True:
        msg = _next(client, "iopub", lambda m: parent_id(m) == msg_id, deadline)
        if msg is None:
            received = ", ".join(summarize(messages)) or "nothing"
            raise ExecutionTimeoutError(
                f"no {getattr(until, '__name__', 'awaited message')} for {msg_id} within "
                f"{timeout} s; received: {received}",
                messages,
            )
        messages.append(msg)
        if until(msg):
            return messages


def ask(
    client: BlockingKernelClient,
    channel: str,
    msg_type: str,
    content: dict[str, Any] | None = None,
    *,
    timeout: float = 10.0,
    subshell_id: str | None = None,
) -> Exchange:
    """Send a request, then wait for its reply and for its ``status: idle`` on iopub."""
    request = send(client, channel, msg_type, content, subshell_id=subshell_id)
    reply = reply_to(client, request, channel, timeout)
    return Exchange(request, reply, iopub_of(client, request, timeout=timeout))


def submit(
    client: BlockingKernelClient,
    code: str,
    *,
    subshell_id: str | None = None,
    **fields: Any,
) -> Message:
    """Send an ``execute_request`` (:data:`EXECUTE_DEFAULTS` and ``fields``) and return it at once.

    Its answers are collected later, with :func:`reply_to` and :func:`iopub_of`; the request's
    ``msg_id`` is known before anything can arrive for it.
    """
    unknown = set(fields) - set(EXECUTE_DEFAULTS)
    if unknown:
        raise TypeError(f"execute_request has no field(s) {sorted(unknown)}")
    content = {"code": code, **EXECUTE_DEFAULTS, **fields}
    return send(client, "shell", "execute_request", content, subshell_id=subshell_id)


def execute(
    client: BlockingKernelClient,
    code: str,
    *,
    timeout: float = 10.0,
    subshell_id: str | None = None,
    **fields: Any,
) -> Exchange:
    """Execute ``code``: an ``execute_request`` with :data:`EXECUTE_DEFAULTS` and ``fields``."""
    unknown = set(fields) - set(EXECUTE_DEFAULTS)
    if unknown:
        raise TypeError(f"execute_request has no field(s) {sorted(unknown)}")
    content = {"code": code, **EXECUTE_DEFAULTS, **fields}
    return ask(
        client, "shell", "execute_request", content, timeout=timeout, subshell_id=subshell_id
    )


def pending(client: BlockingKernelClient, channel: str = "iopub") -> list[Message]:
    """The messages kept for ``channel`` that no call asked for yet; they are handed over."""
    box = _box(client, channel)
    messages = list(box)
    box.clear()
    return messages
