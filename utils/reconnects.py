"""Watch jupyter_server drop, buffer, replay and replace kernel websockets.

- :func:`iopub_watcher` subscribes to a server's kernel directly, over ZeroMQ, through the
  connection file in the server's runtime folder: the ground truth of what the kernel
  published, whatever the websockets received.
- :func:`published` reads that subscription until a request's ``idle``.
- :func:`ws_collect` reads a kernel websocket until a message of a request says stop.
- :func:`printed` turns the ``stream`` messages of a request into the numbers it printed.
- :func:`log_lines` and :func:`wait_for_log` read the server's log (bounded waits).
- :func:`read_as_legacy` is how jupyter_server's legacy binary reader sees the start of a frame.
- :func:`kernel_process` finds the process of a kernel the server started (to pause it).
- :func:`live_websocket`, :func:`wait_for_connections`, :func:`received_within` and
  :func:`v1_client` open, count and read kernel websockets; :func:`tally` counts message types,
  :func:`stream_text` says what the kernel printed for a request.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import struct
import time
from collections.abc import Callable
from typing import Any

import psutil
import websocket  # websocket-client
from jupyter_client import BlockingKernelClient
from tornado.websocket import WebSocketClientConnection

from .jupyter_servers import (
    V1,
    RunningServer,
    decode_frame,
    encode_v1,
    request,
    ws_connect,
    ws_receive,
)
from .run_jupyter_kernel import parent_id


def connection_file(server: RunningServer, kernel_id: str) -> str:
    """The connection file jupyter_server wrote for a kernel it started.

    The book's servers keep their runtime files in ``<folder>/ServerApp-runtime``, next to
    their log (see :func:`utils.jupyter_servers.start_jupyter_server`).
    """
    folder = os.path.dirname(server.log_file)
    return os.path.join(folder, "ServerApp-runtime", f"kernel-{kernel_id}.json")


def iopub_watcher(
    server: RunningServer, kernel_id: str, timeout: float = 30.0
) -> BlockingKernelClient:
    """A client of the kernel itself (ZeroMQ), whose iopub subscription is known to be live.

    It connects to the kernel's ports with the key from :func:`connection_file`, and
    ``wait_for_ready`` sends ``kernel_info_request`` s on its own shell socket until an iopub
    message has come back (the slow-joiner guard). Stop it with ``stop_channels()``.

    Raises
    ------
    RuntimeError
        If the kernel does not answer within ``timeout`` seconds.
    """
    client = BlockingKernelClient(connection_file=connection_file(server, kernel_id))
    client.load_connection_file()
    client.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=False)
    try:
        client.wait_for_ready(timeout=timeout)
    except RuntimeError:
        client.stop_channels()
        raise
    return client


def published(
    client: BlockingKernelClient, msg_id: str, timeout: float = 30.0
) -> list[dict[str, Any]]:
    """The iopub messages the kernel published for request ``msg_id``, up to its ``idle``.

    Messages of other requests are skipped. Raises ``queue.Empty`` (jupyter_client's) when
    nothing comes for ``timeout`` seconds, or :class:`TimeoutError` after ``timeout`` in all.
    """
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = client.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.01))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages
    raise TimeoutError(f"no idle for {msg_id} within {timeout} s")


async def ws_collect(
    ws: WebSocketClientConnection,
    msg_id: str,
    until: Callable[[dict[str, Any]], bool],
    timeout: float = 30.0,
) -> list[dict[str, Any]]:
    """The decoded messages of request ``msg_id`` that ``ws`` receives, up to the first
    for which ``until`` is true (included). Other requests' messages are skipped.

    Raises
    ------
    TimeoutError
        When ``until`` has not been met within ``timeout`` seconds (in all).
    ConnectionError
        When the server closes the websocket first.
    """
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        data = await asyncio.wait_for(ws.read_message(), max(deadline - time.monotonic(), 0.0))
        if data is None:
            raise ConnectionError("the server closed the websocket")
        msg = decode_frame(data, ws.selected_subprotocol)
        if parent_id(msg) != msg_id:
            continue
        messages.append(msg)
        if until(msg):
            return messages


def printed(messages: list[dict[str, Any]]) -> list[int]:
    """The integers printed, one per line, in the ``stream`` messages among ``messages``."""
    text = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
    return [int(line) for line in text.split()]


def log_lines(server: RunningServer, text: str, names: dict[str, str] | None = None) -> list[str]:
    """The server's log lines that contain ``text``, without their time stamp.

    ``names`` maps volatile values (a kernel id, a session id) to the names shown instead.
    """
    with open(server.log_file, errors="replace") as log:
        lines = [line.split("] ", 1)[-1].rstrip() for line in log if text in line]
    for value, name in (names or {}).items():
        lines = [line.replace(value, name) for line in lines]
    return lines


def wait_for_log(
    server: RunningServer, text: str, count: int = 1, timeout: float = 10.0
) -> list[str]:
    """Wait until ``text`` is in at least ``count`` lines of the server's log; return them.

    Raises
    ------
    TimeoutError
        If it is not within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        lines = log_lines(server, text)
        if len(lines) >= count:
            return lines
        if time.monotonic() > deadline:
            raise TimeoutError(f"{text!r} not {count} times in the server's log after {timeout} s")
        time.sleep(0.05)


def read_as_legacy(frame: bytes) -> tuple[int, int]:
    """How ``deserialize_binary_message`` (jupyter_server) reads the start of a binary frame.

    The legacy binary format starts with a 32-bit big-endian count of offsets, each offset
    4 bytes. Returns ``(count, bytes)``: the count it reads, and how many bytes of offsets it
    then asks ``struct.unpack`` for (``4 * count``). Cheap: nothing is unpacked.
    """
    (count,) = struct.unpack("!i", frame[:4])
    return count, 4 * count


def kernel_process(server: RunningServer, kernel_id: str) -> psutil.Process:
    """The process of a kernel that ``server`` started: the descendant of the server's process
    whose command line names the kernel's connection file.

    ``suspend()`` (SIGSTOP) and ``resume()`` (SIGCONT) pause it: a paused kernel answers
    nothing, and the server's nudges of a new websocket wait.

    Raises
    ------
    LookupError
        If no such process runs.
    """
    name = os.path.basename(connection_file(server, kernel_id))
    for child in psutil.Process(server.process.pid).children(recursive=True):
        try:
            if any(name in part for part in child.cmdline()):
                return child
        except psutil.NoSuchProcess:
            continue
    raise LookupError(f"no process of kernel {kernel_id} under the server")


def tally(messages: list[dict[str, Any]]) -> str:
    """How many messages of each type, in order of first appearance: ``"2 status, 1 stream"``."""
    counts: dict[str, int] = {}
    for msg in messages:
        counts[msg["msg_type"]] = counts.get(msg["msg_type"], 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())


async def live_websocket(
    server: RunningServer, kernel_id: str, session_id: str, timeout: float = 30.0
) -> WebSocketClientConnection:
    """A kernel websocket (default protocol) whose nudge is over.

    It has sent a ``kernel_info_request`` and received the reply: the server reads its frames
    and it receives every iopub message from now on (and any replay came before the reply).
    """
    ws = await ws_connect(server, kernel_id, session_id=session_id)
    hello = request("kernel_info_request", {})
    await ws.write_message(json.dumps({**hello, "channel": "shell"}))
    await ws_receive(ws, hello["header"]["msg_id"], timeout=timeout)
    return ws


async def wait_for_connections(
    server: RunningServer, kernel_id: str, expected: int, timeout: float = 10.0
) -> None:
    """Wait until the server's REST API counts ``expected`` websockets on the kernel.

    Raises
    ------
    TimeoutError
        If it does not within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while server.api("GET", f"/api/kernels/{kernel_id}")[1]["connections"] != expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the kernel does not have {expected} connections")
        await asyncio.sleep(0.05)


async def received_within(
    ws: WebSocketClientConnection, msg_id: str, seconds: float
) -> list[dict[str, Any]]:
    """The messages of request ``msg_id`` that ``ws`` receives until ``seconds`` pass without
    any frame (or the server closes it): for when the expected answer is none."""
    got: list[dict[str, Any]] = []
    while True:
        try:
            data = await asyncio.wait_for(ws.read_message(), seconds)
        except TimeoutError:
            return got
        if data is None:
            return got
        msg = decode_frame(data, ws.selected_subprotocol)
        if parent_id(msg) == msg_id:
            got.append(msg)


def v1_client(
    server: RunningServer, kernel_id: str, session_id: str, ready: bool = True
) -> websocket.WebSocket:
    """A kernel websocket offering the v1 subprotocol, with the synchronous websocket-client.

    Unlike tornado's client, it reads nothing unless asked: it can still send after the
    server closed its side, before it has read the close frame. With ``ready`` it returns
    once a ``kernel_info_request`` of its own is answered (the nudge is over); without, at
    the handshake. Timeouts: 30 s per read.
    """
    url = server.base.replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels"
    ws = websocket.create_connection(
        f"{url}?session_id={session_id}",
        header=[f"Authorization: token {server.token}"],
        subprotocols=[V1],
        timeout=30,
    )
    if ready:
        hello = request("kernel_info_request", {})
        ws.send_binary(encode_v1("shell", hello))
        while True:
            msg = decode_frame(ws.recv(), ws.getsubprotocol())
            if msg["msg_type"] == "kernel_info_reply":
                if parent_id(msg) == hello["header"]["msg_id"]:
                    break
    return ws


def stream_text(client: BlockingKernelClient, msg_id: str, timeout: float = 1.0) -> str:
    """What the kernel printed for request ``msg_id``, seen on ``client``'s iopub, or
    ``"nothing"`` if no ``idle`` of that request comes within ``timeout`` seconds (the kernel
    never saw the request)."""
    try:
        messages = published(client, msg_id, timeout=timeout)
    except (TimeoutError, queue.Empty):
        return "nothing"
    return "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
