"""utils.jupyter_servers against real servers: jupyter_server, and jupyter_server in front of a
Kernel Gateway (remote kernels). JSON and v1 binary websocket framing, tokens, clean stops."""

from __future__ import annotations

import asyncio
import json
import urllib.error
from collections.abc import Iterator

import pytest

from utils.jupyter_servers import (
    V1,
    FrameError,
    RunningServer,
    decode_frame,
    decode_v1,
    encode_v1,
    request,
    start_jupyter_server,
    start_kernel_gateway,
    ws_connect,
    ws_execute,
    ws_receive,
)
from utils.run_jupyter_kernel import summarize

CASES = [
    ("x = 42\ny = x * 2\ny", "execute_result: 84"),
    ("print('hi')", "stream stdout: 'hi\\n'"),
    ("1 / 0", "error: ZeroDivisionError: division by zero"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[RunningServer, str]]:
    with start_jupyter_server(str(tmp_path_factory.mktemp("server"))) as server:
        _, kernel = server.api("POST", "/api/kernels", {"name": "python3"})
        yield server, kernel["id"]
    assert server.process.returncode == 0


@pytest.mark.parametrize("v1", [False, True], ids=["json", "v1-binary"])
@pytest.mark.parametrize(("code", "expected"), CASES)
def test_execute_over_the_websocket(server, v1: bool, code: str, expected: str) -> None:
    running, kernel_id = server
    iopub, reply = asyncio.run(ws_execute(running, kernel_id, code, v1=v1))
    lines = summarize(iopub)
    assert lines[0] == "status: busy" and lines[-1] == "status: idle" and expected in lines
    assert reply["msg_type"] == "execute_reply"


@pytest.mark.parametrize("v1", [False, True], ids=["json", "v1-binary"])
def test_a_message_with_buffers_is_decoded_by_the_negotiated_protocol(server, v1: bool) -> None:
    """The kernel's comm_open with a buffer reaches ws_execute whole on both protocols.

    On the default protocol jupyter_server sends it as a binary frame of its own format (offsets,
    then JSON, then buffers), not a v1 frame: ws_execute decodes by what the server chose.
    """
    running, kernel_id = server
    code = (
        "from comm import create_comm\n"
        "c = create_comm(target_name='book-buffers', data={'n': 1}, buffers=[b'\\x00\\x01'])"
    )
    iopub, reply = asyncio.run(ws_execute(running, kernel_id, code, v1=v1))
    opened = [m for m in iopub if m["msg_type"] == "comm_open"]
    assert reply["content"]["status"] == "ok"
    assert len(opened) == 1 and opened[0]["content"]["data"] == {"n": 1}
    assert [bytes(b) for b in opened[0]["buffers"]] == [b"\x00\x01"]


def test_a_frame_of_the_other_protocol_is_refused_at_once() -> None:
    """A default-protocol frame read as v1 (or the other way) raises FrameError, not a hang."""
    msg = request("comm_msg", {"comm_id": "c", "data": {}})
    json_part = json.dumps(msg).encode()
    default = (2).to_bytes(4, "big") + (12).to_bytes(4, "big")  # JSON, then one buffer
    default += (12 + len(json_part)).to_bytes(4, "big") + json_part + b"\x00\x01"
    assert decode_frame(default)["buffers"] == [b"\x00\x01"]
    with pytest.raises(FrameError, match="other websocket protocol"):
        decode_v1(default)
    with pytest.raises(FrameError):
        decode_frame(encode_v1("shell", msg))  # read as the default protocol
    for broken in (b"", b"\x01", encode_v1("shell", msg)[:40]):
        with pytest.raises(FrameError):
            decode_v1(broken)


def test_v1_frames_round_trip() -> None:
    msg = request("execute_request", {"code": "1"})
    msg["buffers"] = [b"\x00\x01binary"]
    decoded = decode_v1(encode_v1("shell", msg))
    assert decoded["channel"] == "shell" and decoded["header"] == msg["header"]
    assert decoded["content"] == {"code": "1"} and decoded["buffers"] == [b"\x00\x01binary"]


def test_decode_frame_reads_both_binary_framings_and_json() -> None:
    from jupyter_server.services.kernels.connection.base import serialize_binary_message

    msg = {**request("comm_msg", {"data": {}}), "channel": "iopub", "buffers": [b"\x00\xff"]}
    default = decode_frame(serialize_binary_message(msg))
    assert default["channel"] == "iopub" and default["buffers"] == [b"\x00\xff"]
    assert default["header"] == msg["header"]
    v1 = decode_frame(encode_v1("iopub", msg), V1)
    assert v1["channel"] == "iopub" and v1["buffers"] == [b"\x00\xff"]
    text = decode_frame(json.dumps({**msg, "buffers": []}))
    assert text["content"] == {"data": {}}


@pytest.mark.parametrize("offered", [None, [V1]], ids=["default", "v1"])
def test_ws_receive_collects_a_request_until_answered(server, offered) -> None:
    running, kernel_id = server

    async def exchange() -> tuple[str | None, list[dict]]:
        ws = await ws_connect(running, kernel_id, session_id="book-test", subprotocols=offered)
        try:
            msg = request("execute_request", {"code": "6 * 7", "silent": False})
            if ws.selected_subprotocol == V1:
                await ws.write_message(encode_v1("shell", msg), binary=True)
            else:
                await ws.write_message(json.dumps({**msg, "channel": "shell"}))
            frames = await ws_receive(ws, msg["header"]["msg_id"])
            decoded = [decode_frame(frame, ws.selected_subprotocol) for frame in frames]
            mine = msg["header"]["msg_id"]
            return ws.selected_subprotocol, [
                m for m in decoded if m["parent_header"].get("msg_id") == mine
            ]
        finally:
            ws.close()

    chosen, answers = asyncio.run(exchange())
    assert chosen == (V1 if offered else None)
    assert {m["msg_type"] for m in answers} >= {"status", "execute_result", "execute_reply"}


def test_ws_connect_without_the_token_is_refused(server) -> None:
    from tornado.httpclient import HTTPClientError

    running, kernel_id = server
    with pytest.raises(HTTPClientError) as error:
        asyncio.run(ws_connect(running, kernel_id, token=False))
    assert error.value.code == 403


def test_requests_without_the_token_are_refused(server) -> None:
    running, _ = server
    impostor = RunningServer(running.process, running.base, "not-the-token", running.log_file)
    with pytest.raises(urllib.error.HTTPError) as error:
        impostor.api("GET", "/api/kernels")
    assert error.value.code == 403


def test_kernels_through_a_gateway(tmp_path) -> None:
    listing = "--JupyterWebsocketPersonality.list_kernels=True"
    with start_kernel_gateway(str(tmp_path), listing) as gateway:
        options = [f"--gateway-url={gateway.base}", f"--GatewayClient.auth_token={gateway.token}"]
        with start_jupyter_server(str(tmp_path), *options) as server:
            _, kernel = server.api("POST", "/api/kernels", {"name": "python3"})
            assert [k["id"] for k in gateway.api("GET", "/api/kernels")[1]] == [kernel["id"]]
            for code, expected in CASES:
                iopub, _ = asyncio.run(ws_execute(server, kernel["id"], code))
                assert expected in summarize(iopub)
            server.api("DELETE", f"/api/kernels/{kernel['id']}")
            assert gateway.api("GET", "/api/kernels")[1] == []
    assert server.process.returncode == 0 and gateway.process.returncode is not None


def test_a_server_does_not_outlive_a_program_that_fails_halfway(tmp_path) -> None:
    import subprocess
    import sys

    from conftest import wait_until_gone

    script = (
        "from utils.jupyter_servers import start_jupyter_server\n"
        f"server = start_jupyter_server({str(tmp_path)!r})\n"
        "server.api('POST', '/api/kernels', {'name': 'python3'})\n"
        "print('PID', server.process.pid, flush=True)\n"
        "raise SystemExit('failing halfway')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert "failing halfway" in result.stderr
    pid = int(result.stdout.split("PID")[1].split()[0])
    assert wait_until_gone(pid), "the server outlived the program that started it"


def test_a_port_taken_by_a_kernel_meanwhile_is_given_up_for_another(tmp_path, monkeypatch) -> None:
    """A port free when picked but bound by a ZeroMQ socket before the server starts.

    The server cannot bind it and exits; what answers there speaks ZeroMQ, not HTTP. The
    server is started again on another port.
    """
    import zmq

    from utils import jupyter_servers

    context = zmq.Context()
    taken = context.socket(zmq.ROUTER)  # as a kernel's shell socket
    port = taken.bind_to_random_port("tcp://127.0.0.1")
    ports = iter([port, jupyter_servers.free_port()])
    monkeypatch.setattr(jupyter_servers, "free_port", lambda: next(ports))
    try:
        with start_jupyter_server(str(tmp_path)) as server:
            assert not server.base.endswith(f":{port}")
            assert server.api("GET", "/api")[0] == 200
    finally:
        taken.close(linger=0)
        context.term()
