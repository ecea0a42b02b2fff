"""Put a kernel under load and measure what comes back: counts, bytes, time, resources.

Each function runs one kind of load two ways, so that every figure has a baseline from the
same run: ``"plain"`` is the plain ``jupyter_client`` loop (execute, then read iopub until
``idle`` of our request), ``"book"`` is the book's :func:`~utils.run_jupyter_kernel.get_messages`
and :class:`~utils.run_jupyter_kernel.IPKernelAppProcess`. Every run checks that each
execution is complete (its ``idle`` came and its output is the expected one) and raises
:class:`IncompleteError` when one is not: a load figure of a run that lost messages would
measure the wrong thing.

- :func:`sequential_executions`: ``n`` executions one after another on one connection.
- :func:`fresh_connections`: ``n`` executions, each on a new connection, with the file
  descriptors and threads of this process and of the kernel before and after.
- :func:`many_kernels`: ``n`` kernels started at once, each executing, their memory.
- :func:`big_output`: a large stdout stream or a large binary display payload, received whole.
- :func:`slow_subscriber`: what a subscriber that does not read for a while still receives
  (the iopub high-water mark).
"""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any, Literal

import psutil
import zmq
from jupyter_client import KernelManager
from jupyter_client.blocking import BlockingKernelClient

from .run_jupyter_kernel import IPKernelAppProcess, get_messages, parent_id

__all__ = [
    "WAYS",
    "IncompleteError",
    "Output",
    "Resources",
    "Run",
    "DISPLAYS_CODE",
    "big_output",
    "displayed_indices",
    "drain",
    "fresh_connections",
    "many_kernels",
    "plain_client",
    "plain_execute",
    "sequential_executions",
    "slow_subscriber",
]

Way = Literal["plain", "book"]
WAYS: tuple[Way, ...] = ("plain", "book")


class IncompleteError(RuntimeError):
    """An execution under load did not come back whole (no ``idle``, or other output)."""


@dataclass
class Run:
    """One load run: how many executions, how long in all, and what else was measured."""

    way: Way
    count: int
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def per_call_ms(self) -> float:
        """Milliseconds per execution (or per kernel, per connection)."""
        return 1e3 * self.seconds / self.count


@dataclass
class Resources:
    """Open file descriptors and threads of one process."""

    fds: int
    threads: int

    @classmethod
    def of(cls, pid: int | None = None) -> Resources:
        """Those of process ``pid`` (default: this one); Linux and macOS."""
        process = psutil.Process(pid)
        return cls(process.num_fds(), process.num_threads())


@dataclass
class Output:
    """A large output received: its size, whether it is whole, and how long it took."""

    way: Way
    kind: str
    expected_bytes: int
    received_bytes: int
    whole: bool
    messages: int
    seconds: float

    @property
    def mb_per_s(self) -> float:
        """Throughput in MB (10^6 bytes) per second."""
        return self.received_bytes / 1e6 / self.seconds


def plain_client(
    connection_file: str | os.PathLike[str], timeout: float = 30.0
) -> BlockingKernelClient:
    """A plain ``jupyter_client`` client with its channels started and ``wait_for_ready`` passed."""
    client = BlockingKernelClient()
    client.load_connection_file(str(connection_file))
    client.start_channels()
    client.wait_for_ready(timeout=timeout)
    return client


def plain_execute(client: BlockingKernelClient, code: str, timeout: float = 60.0) -> list[dict]:
    """The baseline: execute ``code``, read iopub until the ``idle`` of our request.

    Raises
    ------
    IncompleteError
        If ``idle`` does not come within ``timeout`` seconds.
    """
    msg_id = client.execute(code, allow_stdin=False)
    deadline = time.monotonic() + timeout
    messages = []
    while True:
        try:
            msg = client.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.01))
        except Empty:
            raise IncompleteError(f"no idle within {timeout} s; {len(messages)} messages") from None
        if parent_id(msg) != msg_id:
            continue
        messages.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages


def _result(messages: list[dict]) -> str | None:
    """The ``text/plain`` of the execute_result among ``messages``, if any."""
    for msg in messages:
        if msg["msg_type"] == "execute_result":
            return msg["content"]["data"]["text/plain"]
    return None


def sequential_executions(
    connection_file: str | os.PathLike[str], n: int, way: Way, timeout: float = 30.0
) -> Run:
    """``n`` executions of ``i`` (``i = 0 .. n-1``) one after another on one connection.

    Raises
    ------
    IncompleteError
        If an execution's result is not ``i``, or its ``idle`` does not come.
    """
    client = plain_client(connection_file)
    try:
        start = time.perf_counter()
        for i in range(n):
            if way == "plain":
                messages = plain_execute(client, str(i), timeout)
            else:
                messages = get_messages(client=client, code=str(i), timeout=timeout)
            if _result(messages) != str(i):
                raise IncompleteError(f"execution {i} returned {_result(messages)!r}")
        return Run(way, n, time.perf_counter() - start)
    finally:
        client.stop_channels()


def fresh_connections(
    connection_file: str | os.PathLike[str],
    n: int,
    way: Way,
    kernel_pid: int | None = None,
    timeout: float = 30.0,
) -> Run:
    """``n`` executions, each on a connection of its own, opened and closed.

    ``extra`` holds this process's and, with ``kernel_pid``, the kernel's
    :class:`Resources` before and after (``client_before``, ``client_after``,
    ``kernel_before``, ``kernel_after``), measured after a short settling pause.

    Raises
    ------
    IncompleteError
        If an execution's result is not ``i``, or its ``idle`` does not come.
    """

    def settled(pid: int | None) -> Resources:
        time.sleep(0.5)  # closed sockets and finished threads take a moment to go
        return Resources.of(pid)

    extra: dict[str, Any] = {"client_before": settled(None)}
    if kernel_pid is not None:
        extra["kernel_before"] = Resources.of(kernel_pid)
    start = time.perf_counter()
    for i in range(n):
        if way == "plain":
            client = plain_client(connection_file, timeout)
            try:
                messages = plain_execute(client, str(i), timeout)
            finally:
                client.stop_channels()
        else:
            messages = get_messages(connection_file, str(i), timeout)
        if _result(messages) != str(i):
            raise IncompleteError(f"execution {i} returned {_result(messages)!r}")
    seconds = time.perf_counter() - start
    extra["client_after"] = settled(None)
    if kernel_pid is not None:
        extra["kernel_after"] = Resources.of(kernel_pid)
    return Run(way, n, seconds, extra)


def _start_plain(folder: str, index: int, timeout: float) -> tuple[KernelManager, int]:
    """A kernel started by ``KernelManager``, answering; returns it and its pid."""
    manager = KernelManager(connection_file=os.path.join(folder, f"plain-{index}.json"))
    manager.start_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=timeout)
    finally:
        client.stop_channels()
    return manager, manager.provisioner.process.pid


def many_kernels(n: int, way: Way, timeout: float = 120.0) -> Run:
    """``n`` kernels started at once, each executing one cell; all stopped at the end.

    The time is from the first start to the last kernel's complete execution. ``extra``
    holds ``rss_mb``: each kernel's resident memory (MB) after its execution, and
    ``all_answered``.

    Raises
    ------
    IncompleteError
        If a kernel's execution does not return its own index.
    """
    folder = tempfile.mkdtemp(prefix="many-kernels-")
    kernels: list[Any] = []
    lock = threading.Lock()

    def start_and_execute(index: int) -> int:
        if way == "plain":
            manager, pid = _start_plain(folder, index, timeout)
            with lock:
                kernels.append(manager)
            connection_file = manager.connection_file
        else:
            kernel = IPKernelAppProcess(
                Path(folder) / f"book-{index}.json", startup_timeout=timeout
            )
            with lock:
                kernels.append(kernel)
            connection_file, pid = kernel.connection_file, kernel.pid
        client = plain_client(connection_file, timeout)
        try:
            code = f"data = list(range(1000)); {index}"
            if way == "plain":
                messages = plain_execute(client, code, timeout)
            else:
                messages = get_messages(client=client, code=code, timeout=timeout)
        finally:
            client.stop_channels()
        if _result(messages) != str(index):
            raise IncompleteError(f"kernel {index} returned {_result(messages)!r}")
        return pid

    start = time.perf_counter()
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
            pids = list(pool.map(start_and_execute, range(n)))
        seconds = time.perf_counter() - start
        rss = [psutil.Process(pid).memory_info().rss / 1e6 for pid in pids]
        return Run(way, n, seconds, {"rss_mb": rss, "all_answered": len(pids) == n})
    finally:
        _stop_kernels(kernels)


def _stop_kernels(kernels: list[Any]) -> None:
    """Stop every kernel started by :func:`many_kernels`, at once, bounded."""

    def stop(kernel: Any) -> None:
        if isinstance(kernel, KernelManager):
            kernel.shutdown_kernel(now=True)
        else:
            kernel.shutdown()

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(len(kernels), 1)) as pool:
        list(pool.map(stop, kernels))


STREAM_CODE = """
import sys
line = "x" * 1023 + "\\n"
for _ in range({lines}):
    sys.stdout.write(line)
"""

DISPLAY_CODE = """
import base64, hashlib, os
from IPython.display import display
payload = os.urandom({size})
display({{"application/octet-stream": base64.b64encode(payload).decode()}}, raw=True)
hashlib.sha256(payload).hexdigest()
"""


def big_output(
    connection_file: str | os.PathLike[str],
    megabytes: float,
    way: Way,
    kind: Literal["stream", "display"] = "stream",
    timeout: float = 120.0,
) -> Output:
    """Receive ``megabytes`` (MiB) of stdout, or one binary display payload of that size.

    ``stream``: the kernel writes 1 KiB lines; the text received must be exactly those
    lines. ``display``: the kernel displays random bytes (base64 in the message, as the
    protocol carries binary data in JSON) and returns their SHA-256; the decoded payload
    must match it.
    """
    size = int(megabytes * 1024 * 1024)
    code = (
        STREAM_CODE.format(lines=size // 1024)
        if kind == "stream"
        else DISPLAY_CODE.format(size=size)
    )
    client = plain_client(connection_file)
    try:
        start = time.perf_counter()
        if way == "plain":
            messages = plain_execute(client, code, timeout)
        else:
            messages = get_messages(client=client, code=code, timeout=timeout)
        seconds = time.perf_counter() - start
    finally:
        client.stop_channels()
    if kind == "stream":
        texts = [m["content"]["text"] for m in messages if m["msg_type"] == "stream"]
        received = sum(len(text) for text in texts)
        whole = received == size and set("".join(texts)) <= {"x", "\n"}
        count = len(texts)
    else:
        payloads = [m for m in messages if m["msg_type"] == "display_data"]
        data = base64.b64decode(payloads[0]["content"]["data"]["application/octet-stream"])
        received, count = len(data), len(payloads)
        whole = repr(hashlib.sha256(data).hexdigest()) == _result(messages)
    return Output(way, kind, size, received, whole, count, seconds)


DISPLAYS_CODE = """
from IPython.display import display
for i in range({n}):
    display({{"text/plain": f"{{i:<{size}}}"}}, raw=True)
"""


def slow_subscriber(
    connection_file: str | os.PathLike[str],
    n: int,
    size: int = 4096,
    timeout: float = 120.0,
) -> dict[str, Any]:
    """A cell displays ``n`` outputs of ``size`` characters; two clients read none of them
    until it has ended.

    ``default`` executes the cell with ``execute(reply=True)``: it waits for the reply on
    shell, as a blocking client does, then reads iopub; its iopub socket has ZeroMQ's default
    receive high-water mark (1000 messages). ``lifted`` is connected the same way with
    ``RCVHWM`` 0 (no limit) and also reads only after the reply. Returns, for each, how many
    outputs it received (``received``), which ones (``indices``) and whether the ``idle``
    came (``idle``); and the status of the ``execute_reply`` (``reply``).
    """
    clients = {"default": BlockingKernelClient(), "lifted": BlockingKernelClient()}
    for name, client in clients.items():
        client.load_connection_file(str(connection_file))
        if name == "lifted":
            client.iopub_channel.socket.setsockopt(zmq.RCVHWM, 0)
        client.start_channels()
    try:
        for client in clients.values():
            client.wait_for_ready(timeout=30)
            drain(client)
        code = DISPLAYS_CODE.format(n=n, size=size)
        reply = clients["default"].execute(code, reply=True, timeout=timeout)
        msg_id = reply["parent_header"]["msg_id"]
        result: dict[str, Any] = {"published": n, "reply": reply["content"]["status"]}
        for name, client in clients.items():
            mine = [m for m in drain(client, quiet=1.0) if parent_id(m) == msg_id]
            result[name] = {
                "received": _count(mine, "display_data"),
                "indices": displayed_indices(mine),
                "idle": any(_is_idle(m) for m in mine),
            }
        return result
    finally:
        for client in clients.values():
            client.stop_channels()


def drain(client: BlockingKernelClient, quiet: float = 0.5, limit: float = 60.0) -> list[dict]:
    """Everything waiting on ``client``'s iopub, until ``quiet`` seconds pass with nothing.

    Raises
    ------
    IncompleteError
        If messages keep coming for ``limit`` seconds.
    """
    messages = []
    deadline = time.monotonic() + limit
    while True:
        if time.monotonic() > deadline:
            raise IncompleteError(f"iopub did not fall quiet within {limit} s")
        try:
            messages.append(client.get_iopub_msg(timeout=quiet))
        except Empty:
            return messages


def displayed_indices(messages: list[dict]) -> list[int]:
    """The numbers that :data:`DISPLAYS_CODE` displayed, in the order they were received."""
    return [
        int(msg["content"]["data"]["text/plain"])
        for msg in messages
        if msg["msg_type"] == "display_data"
    ]


def _count(messages: list[dict], msg_type: str) -> int:
    return sum(msg["msg_type"] == msg_type for msg in messages)


def _is_idle(msg: dict) -> bool:
    return msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
