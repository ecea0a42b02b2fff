"""utils.reconnects: the pure helpers offline, the others against one real jupyter_server."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path

import pytest
from jupyter_server.services.kernels.connection.base import serialize_binary_message

from utils.jupyter_servers import (
    RunningServer,
    encode_v1,
    request,
    start_jupyter_server,
    ws_connect,
)
from utils.reconnects import (
    connection_file,
    iopub_watcher,
    kernel_process,
    live_websocket,
    log_lines,
    printed,
    published,
    read_as_legacy,
    received_within,
    stream_text,
    tally,
    v1_client,
    wait_for_connections,
    wait_for_log,
    ws_collect,
)


def test_a_v1_frame_read_as_legacy_asks_for_402653184_bytes() -> None:
    frame = encode_v1("shell", request("execute_request", {"code": "1"}))
    assert read_as_legacy(frame) == (0x06000000, 402_653_184)


def test_a_legacy_frame_read_as_legacy_gives_its_own_count() -> None:
    msg = {**request("comm_msg", {}), "channel": "shell", "buffers": [b"ab", b"cde"]}
    assert read_as_legacy(serialize_binary_message(msg)) == (3, 12)


def test_printed_reads_the_numbers_of_stream_messages_in_order() -> None:
    messages = [
        {"msg_type": "status", "content": {"execution_state": "busy"}},
        {"msg_type": "stream", "content": {"text": "0\n1\n"}},
        {"msg_type": "stream", "content": {"text": "2\n"}},
    ]
    assert printed(messages) == [0, 1, 2]
    assert tally(messages) == "1 status, 2 stream"


def _fake_server(folder: str) -> RunningServer:
    log = os.path.join(folder, "ServerApp.log")
    Path(log).write_text(
        "[W 2026-01-01 00:00:00.000 ServerApp] Replacing stale connection: k1:s1\n"
        "[I 2026-01-01 00:00:00.001 ServerApp] Starting buffering for k1:s1\n"
    )
    return RunningServer(process=None, base="http://127.0.0.1:1", token="t", log_file=log)  # type: ignore[arg-type]


def test_log_lines_drop_the_time_stamp_and_name_volatile_values() -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = _fake_server(folder)
        names = {"k1": "<kernel>", "s1": "<session>"}
        assert log_lines(server, "stale", names) == [
            "Replacing stale connection: <kernel>:<session>"
        ]
        assert connection_file(server, "k1") == os.path.join(
            folder, "ServerApp-runtime", "kernel-k1.json"
        )


def test_wait_for_log_is_bounded() -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = _fake_server(folder)
        assert len(wait_for_log(server, "buffering", timeout=0.2)) == 1
        with pytest.raises(TimeoutError):
            wait_for_log(server, "buffering", count=2, timeout=0.2)


@pytest.fixture(scope="module")
def server_and_kernel():
    with tempfile.TemporaryDirectory() as folder:
        server = start_jupyter_server(folder)
        try:
            _, kernel = server.api("POST", "/api/kernels", {"name": "python3"})
            yield server, kernel["id"]
        finally:
            server.stop()


async def _execute(server: RunningServer, kernel_id: str, code: str) -> tuple[str, list]:
    """Execute over a websocket; the request's msg_id and its messages up to its idle."""
    ws = await ws_connect(server, kernel_id, session_id="test-reconnects")
    try:
        execute = request("execute_request", {"code": code, "silent": False})
        msg_id = execute["header"]["msg_id"]
        await ws.write_message(json.dumps({**execute, "channel": "shell"}))

        def idle(msg: dict) -> bool:
            return msg["content"].get("execution_state") == "idle"

        return msg_id, await ws_collect(ws, msg_id, until=idle, timeout=30)
    finally:
        ws.close()


def test_the_watcher_sees_what_the_websocket_sees(server_and_kernel) -> None:
    server, kernel_id = server_and_kernel
    watcher = iopub_watcher(server, kernel_id)
    try:
        msg_id, received = asyncio.run(_execute(server, kernel_id, "print(1)\nprint(2)"))
        sent = published(watcher, msg_id, timeout=30)
        nothing = stream_text(watcher, "no-such-request", timeout=0.3)
    finally:
        watcher.stop_channels()
    assert printed(sent) == printed(received) == [1, 2]
    assert nothing == "nothing"
    iopub = [m["msg_type"] for m in received if m["channel"] == "iopub"]
    assert [m["msg_type"] for m in sent] == iopub
    assert "execute_reply" in [m["msg_type"] for m in received if m["channel"] == "shell"]


def test_kernel_process_finds_the_kernel_of_the_server(server_and_kernel) -> None:
    server, kernel_id = server_and_kernel
    process = kernel_process(server, kernel_id)
    assert any(f"kernel-{kernel_id}.json" in part for part in process.cmdline())
    with pytest.raises(LookupError):
        kernel_process(server, "no-such-kernel")


async def _quiet_socket(server: RunningServer, kernel_id: str) -> tuple[int, int, list]:
    """Connection counts with a live websocket open and after it closed; what it got of an
    unknown request within 0.3 s (nothing)."""
    ws = await live_websocket(server, kernel_id, "test-quiet")
    await wait_for_connections(server, kernel_id, 1)
    with_one = server.api("GET", f"/api/kernels/{kernel_id}")[1]["connections"]
    got = await received_within(ws, "no-such-request", 0.3)
    ws.close()
    await wait_for_connections(server, kernel_id, 0)
    return with_one, server.api("GET", f"/api/kernels/{kernel_id}")[1]["connections"], got


def test_websocket_helpers_count_and_wait(server_and_kernel) -> None:
    server, kernel_id = server_and_kernel
    assert asyncio.run(_quiet_socket(server, kernel_id)) == (1, 0, [])
    with pytest.raises(TimeoutError):
        asyncio.run(wait_for_connections(server, kernel_id, 5, timeout=0.3))


def test_v1_client_negotiates_v1_and_is_ready(server_and_kernel) -> None:
    server, kernel_id = server_and_kernel
    ws = v1_client(server, kernel_id, "test-v1")
    try:
        assert ws.getsubprotocol() == "v1.kernel.websocket.jupyter.org"
    finally:
        ws.close()
