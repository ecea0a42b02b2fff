"""utils.server_in_between against a real jupyter_server: the kernel's connection file, what
the kernel published (with sizes), and bounded listening on a kernel websocket."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator

import pytest

from utils.jupyter_servers import RunningServer, request, start_jupyter_server, ws_connect
from utils.protocol import recording_client
from utils.run_jupyter_kernel import NoReplyError
from utils.server_in_between import kernel_connection_file, published_until_idle, ws_listen


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[tuple[RunningServer, str, str]]:
    folder = str(tmp_path_factory.mktemp("server"))
    with start_jupyter_server(folder) as running:
        _, kernel = running.api("POST", "/api/kernels", {"name": "python3"})
        yield running, folder, kernel["id"]


def test_the_connection_file_of_a_server_kernel(server) -> None:
    _, folder, kernel_id = server
    with open(kernel_connection_file(folder, kernel_id)) as f:
        info = json.load(f)
    assert info["ip"] == "127.0.0.1" and info["iopub_port"] > 0 and info["key"]
    with pytest.raises(FileNotFoundError, match="no connection file"):
        kernel_connection_file(folder, "no-such-kernel", timeout=0.2)


def test_published_until_idle_sizes_each_message(server) -> None:
    """Every iopub message of the request, busy to idle, each larger than its content alone."""
    _, folder, kernel_id = server
    client = recording_client(kernel_connection_file(folder, kernel_id))
    try:
        msg_id = client.execute("print('x' * 1000)")
        published = published_until_idle(client, msg_id, timeout=30)
        with pytest.raises(NoReplyError, match="no idle"):
            published_until_idle(client, "no-such-request", timeout=0.3)
    finally:
        client.stop_channels()
    kinds = [p.msg["msg_type"] for p in published]
    assert kinds[0] == "status" and kinds[-1] == "status" and "stream" in kinds
    assert published[-1].msg["content"]["execution_state"] == "idle"
    stream = next(p for p in published if p.msg["msg_type"] == "stream")
    header_and_parent = len(json.dumps(stream.msg["header"], default=str)) + 100
    assert 1001 + header_and_parent < stream.size < 1001 + 2000


def test_ws_listen_is_bounded_stops_early_and_sees_a_close(server) -> None:
    running, _, kernel_id = server

    async def scenario() -> tuple[list, bool, list, bool, bool, float]:
        session = uuid.uuid4().hex
        ws = await ws_connect(running, kernel_id, session_id=session)
        msg = request("kernel_info_request", {})
        await ws.write_message(json.dumps({**msg, "channel": "shell"}))

        def replied(m: dict) -> bool:
            return m["msg_type"] == "kernel_info_reply"

        heard, closed = await ws_listen(ws, 30, until=replied)
        start = time.monotonic()
        quiet, quiet_closed = await ws_listen(ws, 0.3)
        waited = time.monotonic() - start
        twin = await ws_connect(running, kernel_id, session_id=session)  # replaces ws
        _, ended = await ws_listen(ws, 30)
        twin.close()
        return heard, closed, quiet, quiet_closed, ended, waited

    heard, closed, quiet, quiet_closed, ended, waited = asyncio.run(scenario())
    assert heard[-1].msg["msg_type"] == "kernel_info_reply" and not closed
    assert [h.at for h in heard] == sorted(h.at for h in heard)
    assert not quiet_closed and 0.25 < waited < 5
    assert all(h.msg["msg_type"] == "status" for h in quiet)  # at most a late status
    assert ended
