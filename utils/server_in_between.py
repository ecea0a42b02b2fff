"""What jupyter_server does between a websocket client and its kernel, measured from both sides.

- :func:`kernel_connection_file`: the connection file a server started by
  :func:`utils.jupyter_servers.start_jupyter_server` wrote for one of its kernels, so that a
  ZeroMQ client can listen to the same kernel as a witness.
- :func:`published_until_idle`: what the kernel published on iopub for one request, each
  message with its size as jupyter_server's IOPub rate limit counts it.
- :func:`ws_listen`: every frame a kernel websocket receives for a bounded time (the server's
  own ``restarting`` and ``dead`` statuses have no request to wait for), and whether the
  server closed it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jupyter_client.blocking import BlockingKernelClient
from tornado.websocket import WebSocketClientConnection

from .jupyter_servers import decode_frame
from .run_jupyter_kernel import NoReplyError, parent_id

__all__ = ["Heard", "Published", "kernel_connection_file", "published_until_idle", "ws_listen"]


def kernel_connection_file(folder: str, kernel_id: str, timeout: float = 10.0) -> str:
    """The path of the connection file that the server of ``folder`` wrote for ``kernel_id``.

    :func:`~utils.jupyter_servers.start_jupyter_server` points the server's
    ``JUPYTER_RUNTIME_DIR`` at ``<folder>/ServerApp-runtime``; its kernel manager writes
    ``kernel-<kernel_id>.json`` there before the kernel starts.

    Raises
    ------
    FileNotFoundError
        If the file is not there within ``timeout`` seconds.
    """
    path = os.path.join(folder, "ServerApp-runtime", f"kernel-{kernel_id}.json")
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise FileNotFoundError(f"no connection file for kernel {kernel_id}: {path}")
        time.sleep(0.05)
    return path


@dataclass(frozen=True)
class Published:
    """One iopub message as the kernel published it, and its size.

    ``size`` is what ``ZMQChannelsWebsocketConnection._limit_rate`` counts toward the data
    rate of a ``stream`` message: the bytes of its header, parent header, metadata, content
    and buffers as they came from the kernel (everything after the signature).
    """

    msg: dict[str, Any]
    size: int


def published_until_idle(
    client: BlockingKernelClient, msg_id: str, timeout: float = 30.0
) -> list[Published]:
    """Every iopub message of request ``msg_id``, up to its ``idle``, read off ``client``'s socket.

    ``client`` must be subscribed before the request was sent (a
    :func:`utils.protocol.recording_client` is): messages published before it subscribed are
    not seen. Messages of other requests are read and left out. The frames are read from the
    socket itself, so ``client.session`` does not record them.

    Raises
    ------
    NoReplyError
        If the ``idle`` of ``msg_id`` has not come within ``timeout`` seconds (in all).
    """
    socket = client.iopub_channel.socket
    deadline = time.monotonic() + timeout
    found: list[Published] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not socket.poll(int(left * 1000)):
            raise NoReplyError(f"no idle for {msg_id} on iopub within {timeout} s")
        frames = socket.recv_multipart(copy=True)
        _idents, parts = client.session.feed_identities(frames)
        msg = client.session.deserialize(parts)
        if parent_id(msg) != msg_id:
            continue
        found.append(Published(msg, sum(len(part) for part in parts[1:])))
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return found


@dataclass(frozen=True)
class Heard:
    """One frame a websocket received: when (seconds since listening began) and the message."""

    at: float
    msg: dict[str, Any]


async def ws_listen(
    ws: WebSocketClientConnection,
    seconds: float,
    until: Callable[[dict[str, Any]], bool] | None = None,
) -> tuple[list[Heard], bool]:
    """Every frame ``ws`` receives for ``seconds`` seconds, decoded, with its arrival time.

    Listening stops early when ``until(msg)`` is true for a frame (that frame is kept) or when
    the server closes the websocket.

    Returns
    -------
    tuple[list[Heard], bool]
        The frames, and whether the server closed the websocket (then ``ws.close_code`` and
        ``ws.close_reason`` say how).
    """
    start = time.monotonic()
    heard: list[Heard] = []
    while (left := seconds - (time.monotonic() - start)) > 0:
        try:
            data = await asyncio.wait_for(ws.read_message(), left)
        except TimeoutError:
            break
        if data is None:
            return heard, True
        msg = decode_frame(data, ws.selected_subprotocol)
        heard.append(Heard(time.monotonic() - start, msg))
        if until is not None and until(msg):
            break
    return heard, False
