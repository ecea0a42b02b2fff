"""Run jupyter_server or a Jupyter Kernel Gateway on 127.0.0.1, and talk to kernels through them.

- :func:`start_jupyter_server`, :func:`start_jupyterlab` and :func:`start_kernel_gateway` start a
  server on a free port of 127.0.0.1 with a random token, its config and runtime files in a
  folder of the caller's, and return a :class:`RunningServer` once its REST API answers. It is
  stopped by :meth:`RunningServer.stop`, at the end of the process that started it, and on
  Linux by SIGTERM when that process is killed (it then stops its kernels itself); on Linux,
  also when the thread that started it ends, so start servers from the main thread.
- :func:`ws_execute` executes code over a kernel's websocket, with JSON messages or the binary
  ``v1.kernel.websocket.jupyter.org`` framing (:func:`encode_v1`, :func:`decode_v1`).
- :func:`ws_connect`, :func:`ws_receive` and :func:`decode_frame` are the pieces for a page
  that looks at the frames themselves: open the websocket (session id, subprotocols, token or
  not), collect every frame until a request is answered, decode a frame of either protocol.
"""

from __future__ import annotations

import asyncio
import atexit
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from .parent_death import on_parent_death
from .run_jupyter_kernel import parent_id

V1 = "v1.kernel.websocket.jupyter.org"


@dataclass(eq=False)
class RunningServer:
    """A server process, where it listens, and its token. Stop it with :meth:`stop` or ``with``."""

    process: subprocess.Popen[bytes]
    base: str
    token: str
    log_file: str

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One REST call with the token; returns (status, decoded JSON body or None)."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"token {self.token}"}
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers=headers
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = response.read()
            return response.status, json.loads(payload) if payload else None

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM (the server stops its kernels), then SIGKILL; returns the exit code."""
        _running.discard(self)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        return self.process.returncode

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


_running: set[RunningServer] = set()


@atexit.register
def _stop_all() -> None:
    """Stop every server this process started and did not stop (e.g. a page that failed halfway)."""
    for server in list(_running):
        server.stop()


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(server: RunningServer) -> bool:
    """True if the server's ``/api`` answers 200 within 2 s; anything else is not ready yet."""
    headers = {"Authorization": f"token {server.token}"}
    request = urllib.request.Request(server.base + "/api", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200
    except (OSError, http.client.HTTPException):  # URLError and timeouts are OSErrors
        return False


def _start(
    app: str, module: str, token_option: str, folder: str, args: list[str], timeout: float
) -> RunningServer:
    """Start ``python -m <module>`` and wait (bounded) until its ``/api`` answers.

    The port is one that was free a moment before; if another process (a kernel, say) takes
    it first, the server exits saying so, and it is started again on another port (three
    tries). Until the server answers, whatever else answers on that port (a kernel's ZeroMQ
    socket does not speak HTTP) counts as not ready yet.
    """
    token = secrets.token_hex(24)
    env = dict(os.environ)
    for name in ("CONFIG", "RUNTIME", "DATA"):  # the caller's own Jupyter settings play no part
        env[f"JUPYTER_{name}_DIR"] = os.path.join(folder, f"{app}-{name.lower()}")
    log_file = os.path.join(folder, f"{app}.log")
    deadline = time.monotonic() + timeout
    for _attempt in range(3):
        port = free_port()
        command = [sys.executable, "-m", module, f"--{app}.ip=127.0.0.1", f"--{app}.port={port}"]
        command += [f"--{app}.port_retries=0", f"--{token_option}={token}", *args]
        linux = on_parent_death(signal.SIGTERM)  # the server then stops its kernels
        with open(log_file, "wb") as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=log, **linux)
        server = RunningServer(process, f"http://127.0.0.1:{port}", token, log_file)
        _running.add(server)
        while process.poll() is None and time.monotonic() < deadline:
            if _answers(server):
                return server
            time.sleep(0.1)
        server.stop()
        with open(log_file, errors="replace") as log:
            taken = "already in use" in log.read()
        if not taken or time.monotonic() > deadline:
            break
    raise RuntimeError(f"{module} did not start; its log is {log_file}")


def start_jupyter_server(folder: str, *args: str, timeout: float = 60.0) -> RunningServer:
    """jupyter_server on 127.0.0.1 with a random token; ``args`` are more ServerApp options."""
    options = ["--ServerApp.open_browser=False", f"--ServerApp.root_dir={folder}", *args]
    if os.geteuid() == 0:
        options.append("--allow-root")  # containers and CI often run as root
    return _start("ServerApp", "jupyter_server", "IdentityProvider.token", folder, options, timeout)


def start_jupyterlab(folder: str, *args: str, timeout: float = 90.0) -> RunningServer:
    """JupyterLab on 127.0.0.1 with a random token; ``args`` are more LabApp/ServerApp options.

    Its news feed and update check are off: they would call jupyter.org, and the book's servers
    talk to 127.0.0.1 only. Open ``server.base + "/lab?token=" + server.token`` in a browser.
    """
    options = [
        "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={folder}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        *args,
    ]
    if os.geteuid() == 0:
        options.append("--allow-root")
    return _start("ServerApp", "jupyterlab", "IdentityProvider.token", folder, options, timeout)


def start_kernel_gateway(folder: str, *args: str, timeout: float = 60.0) -> RunningServer:
    """A Jupyter Kernel Gateway on 127.0.0.1 with a random token."""
    token_option = "KernelGatewayApp.auth_token"
    return _start("KernelGatewayApp", "kernel_gateway", token_option, folder, list(args), timeout)


def encode_v1(channel: str, msg: dict[str, Any]) -> bytes:
    """One v1 binary frame: offset count, offsets (u64, little-endian), channel, parts, buffers."""
    keys = ("header", "parent_header", "metadata", "content")
    frames = [channel.encode(), *(json.dumps(msg[key]).encode() for key in keys)]
    frames += msg.get("buffers", [])
    offsets = [8 * (len(frames) + 2)]  # the first frame starts after the count and the offsets
    for frame in frames:
        offsets.append(offsets[-1] + len(frame))
    numbers = [len(offsets), *offsets]
    return b"".join(number.to_bytes(8, "little") for number in numbers) + b"".join(frames)


class FrameError(ValueError):
    """A websocket frame that is not what its protocol says a frame is (it names why)."""


def _offsets(data: bytes, size: int, byteorder: str, least: int) -> list[int]:
    """The offsets at the start of a binary frame, checked before anything is sliced.

    ``size``-byte unsigned integers: a count, then that many offsets, each within the frame
    and none before the previous one. A count the frame cannot hold is refused at once, so a
    frame of another protocol fails fast instead of making a huge list.
    """
    if len(data) < size:
        raise FrameError(f"a binary frame of {len(data)} bytes has no offset count")
    count = int.from_bytes(data[:size], byteorder)  # type: ignore[arg-type]
    if not least <= count <= len(data) // size - 1:
        raise FrameError(
            f"a binary frame of {len(data)} bytes cannot hold {count} offsets of {size} bytes "
            f"(at least {least}): is it a frame of the other websocket protocol?"
        )
    offsets = [
        int.from_bytes(data[size * i : size * i + size], byteorder)  # type: ignore[arg-type]
        for i in range(1, count + 1)
    ]
    if offsets[0] < size * (count + 1) or offsets != sorted(offsets) or offsets[-1] > len(data):
        raise FrameError(f"the offsets of a {len(data)}-byte binary frame are out of order")
    return offsets


def decode_v1(data: bytes) -> dict[str, Any]:
    """The message in a v1 binary frame, with its ``channel``.

    Raises
    ------
    FrameError
        If ``data`` is not a v1 frame (its count or offsets do not fit it).
    """
    offsets = _offsets(data, 8, "little", least=6)  # channel and four parts, then the end
    frames = [data[start:end] for start, end in zip(offsets[:-1], offsets[1:], strict=True)]
    header, parent, metadata, content = (json.loads(frame) for frame in frames[1:5])
    return {
        "channel": frames[0].decode(),
        "header": header,
        "msg_type": header["msg_type"],
        "parent_header": parent,
        "metadata": metadata,
        "content": content,
        "buffers": frames[5:],
    }


def request(msg_type: str, content: dict[str, Any]) -> dict[str, Any]:
    """A client message; unsigned, since the server signs what it forwards to the kernel."""
    header = {
        "msg_id": uuid.uuid4().hex,
        "msg_type": msg_type,
        "username": "browser",
        "session": uuid.uuid4().hex,
        "date": "",
        "version": "5.4",
    }
    return {"header": header, "parent_header": {}, "metadata": {}, "content": content}


async def ws_execute(
    server: RunningServer, kernel_id: str, code: str, v1: bool = False, timeout: float = 30.0
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Execute over the kernel's websocket; return (iopub messages busy..idle, shell reply)."""
    ws = await ws_connect(server, kernel_id, subprotocols=[V1] if v1 else None)
    try:
        msg = request("execute_request", {"code": code, "silent": False, "allow_stdin": False})
        if v1:
            await ws.write_message(encode_v1("shell", msg), binary=True)
        else:
            await ws.write_message(json.dumps({**msg, "channel": "shell"}))
        iopub: list[dict[str, Any]] = []
        reply = None
        while reply is None or not iopub or iopub[-1]["content"].get("execution_state") != "idle":
            data = await asyncio.wait_for(ws.read_message(), timeout)
            if data is None:
                raise ConnectionError("the server closed the websocket")
            # by the protocol the server chose, not the one asked for
            answer = decode_frame(data, ws.selected_subprotocol)
            if parent_id(answer) != msg["header"]["msg_id"]:
                continue
            if answer["channel"] == "iopub":
                iopub.append(answer)
            elif answer["channel"] == "shell":
                reply = answer
        return iopub, reply
    finally:
        ws.close()


async def ws_connect(
    server: RunningServer,
    kernel_id: str,
    *,
    session_id: str | None = None,
    subprotocols: list[str] | None = None,
    token: bool = True,
) -> WebSocketClientConnection:
    """Open a kernel's websocket, ``/api/kernels/{kernel_id}/channels``, as a browser does.

    Parameters
    ----------
    server
        The server that owns the kernel (or forwards to it).
    kernel_id
        The kernel's id, from ``POST /api/kernels``.
    session_id
        Sent as the URL's ``session_id`` argument: the server uses it as the session (and the
        ZeroMQ identity) of this connection. Without it the server picks one and logs a warning.
    subprotocols
        Websocket subprotocols to offer (``[V1]`` for the binary framing); what the server chose
        is the connection's ``selected_subprotocol`` (``None``: the default protocol).
    token
        Send the server's token in an ``Authorization`` header; ``False`` sends none.

    Returns
    -------
    WebSocketClientConnection
        The open connection (tornado's); close it with ``close()``.

    Raises
    ------
    tornado.httpclient.HTTPClientError
        When the server refuses the connection (403 without the token).
    """
    url = server.base.replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels"
    if session_id is not None:
        url += f"?session_id={session_id}"
    headers = {"Authorization": f"token {server.token}"} if token else {}
    return await websocket_connect(HTTPRequest(url, headers=headers), subprotocols=subprotocols)


def decode_frame(data: str | bytes, subprotocol: str | None = None) -> dict[str, Any]:
    """The message in one websocket frame of a kernel connection.

    A text frame is one JSON message. A binary frame is a :func:`decode_v1` frame on a
    connection whose ``subprotocol`` is :data:`V1`; otherwise it is the default protocol's
    binary frame (a message with buffers): a 32-bit big-endian count of offsets, the offsets
    (same format), the message as JSON, then the buffers.

    Raises
    ------
    FrameError
        If a binary frame does not fit the protocol (its count or offsets).
    """
    if isinstance(data, str):
        return json.loads(data)
    if subprotocol == V1:
        return decode_v1(data)
    offsets = _offsets(data, 4, "big", least=1)
    parts = [data[start:end] for start, end in zip(offsets, [*offsets[1:], len(data)], strict=True)]
    return {**json.loads(parts[0]), "buffers": parts[1:]}


async def ws_receive(
    ws: WebSocketClientConnection, msg_id: str, *, reply: bool = True, timeout: float = 30.0
) -> list[str | bytes]:
    """Every frame ``ws`` receives until the request ``msg_id`` is answered, as received.

    Answered means: its ``idle`` status has come on iopub and, if ``reply``, its reply on
    shell or control. Frames of other requests that arrive meanwhile are kept too (iopub
    carries every client's messages). Frames are decoded with :func:`decode_frame` to know
    when to stop, and returned undecoded.

    Raises
    ------
    TimeoutError
        When the answer is not complete within ``timeout`` seconds (in all).
    ConnectionError
        When the server closes the websocket first.
    """
    frames: list[str | bytes] = []
    replied, idle = not reply, False
    deadline = time.monotonic() + timeout
    while not (replied and idle):
        data = await asyncio.wait_for(ws.read_message(), max(deadline - time.monotonic(), 0.0))
        if data is None:
            raise ConnectionError("the server closed the websocket")
        frames.append(data)
        msg = decode_frame(data, ws.selected_subprotocol)
        if parent_id(msg) != msg_id:
            continue
        if msg["channel"] == "iopub":
            idle = idle or msg["content"].get("execution_state") == "idle"
        elif msg["channel"] in ("shell", "control"):
            replied = True
    return frames
