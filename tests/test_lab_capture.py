"""utils.lab_capture: decoding, matching and waiting on made-up frames, then one real JupyterLab.

The live test opens a notebook in JupyterLab in headless Chromium and checks the first phase's
capture. Without a Chromium it is skipped, with how to install one (in CI, where ``CI`` is
set, it fails instead).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import nbformat
import pytest

from utils.browser import BrowserNotFoundError, find_chromium
from utils.jupyter_servers import V1, encode_v1, request
from utils.lab_capture import (
    CaptureTimeoutError,
    Connection,
    Frame,
    HttpCall,
    LabCapture,
    LabCaptureError,
    Phase,
)


def reply_to(msg: dict, msg_type: str) -> dict:
    """A reply to ``msg`` as a kernel would send it (a header of its own, ``msg`` as parent)."""
    reply = request(msg_type, {"status": "ok"})
    reply["parent_header"] = msg["header"]
    return reply


def frame(connection: Connection, direction: str, msg: dict, channel: str = "shell") -> Frame:
    return Frame(connection, direction, encode_v1(channel, msg), time.monotonic() - 10)


def open_connection(index: int = 0) -> Connection:
    return Connection(index, "ws://127.0.0.1:1/api/kernels/k/channels", [V1], V1, 101)


def lab_without_server() -> LabCapture:
    return LabCapture(server=None)  # type: ignore[arg-type]  # nothing here starts or stops


def test_a_frame_is_decoded_in_the_framing_its_server_chose() -> None:
    msg = request("kernel_info_request", {})
    decoded = frame(open_connection(), "sent", msg).message
    assert (decoded["channel"], decoded["header"]) == ("shell", msg["header"])


def test_a_frame_is_not_decoded_before_its_handshake_is_known() -> None:
    unknown = Connection(0, "ws://127.0.0.1:1/api/kernels/k/channels")
    late = frame(unknown, "sent", request("kernel_info_request", {}))
    assert not late.decodable
    with pytest.raises(LabCaptureError, match="handshake"):
        _ = late.message


def test_pending_requests_are_those_without_a_reply_on_an_open_connection() -> None:
    lab = lab_without_server()
    connection = open_connection()
    asked = request("kernel_info_request", {})
    lab.frames.append(frame(connection, "sent", asked))
    assert [f.msg_type for f in lab.pending()] == ["kernel_info_request"]
    lab.frames.append(frame(connection, "received", reply_to(asked, "kernel_info_reply")))
    assert lab.pending() == []
    lab.frames.append(frame(connection, "sent", request("history_request", {})))
    connection.closed = True  # a closed websocket brings no reply: not waited for
    assert lab.pending() == []


def test_page_and_devtools_reports_meet_on_one_connection_per_websocket() -> None:
    lab = lab_without_server()
    url = "ws://127.0.0.1:1/api/kernels/k/channels"
    first = lab._connection(url, "page")
    assert lab._connection(url, "devtools") is first  # the page reported first
    second = lab._connection(url, "devtools")  # the same URL again: the next websocket
    assert second is not first and lab._connection(url, "page") is second
    assert [c.index for c in lab.connections] == [0, 1]


def test_settle_returns_when_quiet_and_names_what_is_unanswered() -> None:
    lab = lab_without_server()
    connection = open_connection()
    asked = request("complete_request", {"code": "x", "cursor_pos": 1})
    lab.frames.append(frame(connection, "sent", asked))
    with pytest.raises(CaptureTimeoutError, match="unanswered: complete_request"):
        asyncio.run(lab.settle(quiet=0.1, timeout=0.3))
    lab.frames.append(frame(connection, "received", reply_to(asked, "complete_reply")))
    asyncio.run(lab.settle(quiet=0.1, timeout=5))
    with pytest.raises(CaptureTimeoutError, match="condition"):
        asyncio.run(lab.settle(lambda: False, quiet=0.1, timeout=0.3))


def test_a_phase_summarises_its_frames_and_calls() -> None:
    connection = open_connection()
    asked = request("execute_request", {"code": "1"})
    phase = Phase(
        "run",
        [
            frame(connection, "sent", asked),
            frame(connection, "received", reply_to(asked, "status"), "iopub"),
            frame(connection, "received", reply_to(asked, "execute_reply")),
            frame(connection, "received", reply_to(asked, "status"), "iopub"),
        ],
        [HttpCall("POST", "/api/kernels/0c8a3f8e-1b2c-4d5e-8f90-123456789abc/interrupt", 204, 0)],
    )
    assert phase.types("received") == ["status", "execute_reply"]
    assert phase.counts()[("received", "iopub", "status")] == 2
    assert phase.calls("POST") == ["POST /api/kernels/<id>/interrupt"]
    assert phase.calls("GET") == []


@pytest.fixture
def chromium() -> None:
    try:
        find_chromium()
    except BrowserNotFoundError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(error))


def test_jupyterlab_opens_a_notebook_and_everything_stops(chromium: None, tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells.append(nbformat.v4.new_code_cell(""))
    nbformat.write(notebook, tmp_path / "t.ipynb")

    async def capture() -> tuple[LabCapture, Phase]:
        lab = await LabCapture.start(str(tmp_path))
        try:
            ready = lambda phase: "kernel_info_reply" in phase.types("received")  # noqa: E731
            async with lab.phase("open", ready, timeout=60) as opening:
                await lab.open("t.ipynb", timeout=90)
        finally:
            await lab.close()
        return lab, opening

    lab, opening = asyncio.run(capture())
    assert [(c.offered, c.chosen, c.status) for c in lab.connections] == [([V1], V1, 101)]
    assert opening.types("sent")[0] == "kernel_info_request"
    assert "POST /api/sessions" in opening.calls("POST")
    assert lab.server.process.returncode is not None  # the server was stopped
    assert lab._browser is not None and not lab._browser.is_connected()
