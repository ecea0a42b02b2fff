"""An iopub reader that never stops: every message a client receives, kept by a thread.

Helpers that read iopub "until idle" (``execute_interactive``, nbclient, the book's
``utils.messaging``) stop listening when a request's ``status: idle`` comes, and whatever the
kernel publishes later for that request (a background thread's print, a subprocess's output)
is read by the next call and skipped, or never read. :class:`IOPubLog` is the other way: a
thread of its own reads a client's iopub socket for as long as the log is open and keeps every
message, in arrival order, so late output always has a home.

Only the log's thread touches the client's iopub socket; the caller may go on using the
client's other channels (shell, stdin, control) from its own thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from queue import Empty
from types import TracebackType
from typing import Any

from jupyter_client.blocking import BlockingKernelClient

from .run_jupyter_kernel import ExecutionTimeoutError, parent_id

__all__ = ["IOPubLog"]

Message = dict[str, Any]


class IOPubLog:
    """Read ``client``'s iopub in a background thread and keep every message.

    Parameters
    ----------
    client
        A started client whose iopub subscription works (``utils.protocol.recording_client``
        returns one). From now on only the log reads its iopub channel.
    poll
        Seconds each read waits before the thread checks whether it should stop.

    Examples
    --------
    >>> with IOPubLog(recording_client(connection_file)) as log:  # doctest: +SKIP
    ...     request = submit(log.client, "print('hi')")
    ...     log.wait_for(lambda m: parent_id(m) == request["header"]["msg_id"], timeout=10)
    """

    def __init__(self, client: BlockingKernelClient, poll: float = 0.1) -> None:
        self.client = client
        self._poll = poll
        self._messages: list[Message] = []
        self._arrived = threading.Condition()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._read, name="iopub-log", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stopping.is_set():
            try:
                msg = self.client.get_iopub_msg(timeout=self._poll)
            except Empty:
                continue
            with self._arrived:
                self._messages.append(msg)
                self._arrived.notify_all()

    @property
    def messages(self) -> list[Message]:
        """Every message received so far, in arrival order (a copy)."""
        with self._arrived:
            return list(self._messages)

    def of(self, request: Message | str) -> list[Message]:
        """The messages received so far whose parent is ``request`` (a message or a msg_id)."""
        msg_id = request if isinstance(request, str) else request["header"]["msg_id"]
        return [m for m in self.messages if parent_id(m) == msg_id]

    def wait_for(self, wanted: Callable[[Message], bool], timeout: float = 10.0) -> Message:
        """The first message received (earlier or later) for which ``wanted(msg)`` is true.

        Raises
        ------
        ExecutionTimeoutError
            If none arrives within ``timeout`` seconds; ``.messages`` holds all received.
        """
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = next((m for m in self._messages if wanted(m)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    raise ExecutionTimeoutError(
                        f"no awaited iopub message within {timeout} s", list(self._messages)
                    )
                self._arrived.wait(left)

    def wait_idle(self, request: Message | str, timeout: float = 10.0) -> list[Message]:
        """The messages of ``request`` once its ``status: idle`` has come (see :meth:`of`)."""
        msg_id = request if isinstance(request, str) else request["header"]["msg_id"]
        self.wait_for(
            lambda m: (
                parent_id(m) == msg_id
                and m["header"]["msg_type"] == "status"
                and m["content"]["execution_state"] == "idle"
            ),
            timeout,
        )
        return self.of(msg_id)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the reading thread (within ``timeout`` seconds) and the client's channels."""
        self._stopping.set()
        self._thread.join(timeout)
        self.client.stop_channels()

    def __enter__(self) -> IOPubLog:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
