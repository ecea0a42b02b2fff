"""The book's websocket client (JSON and v1 binary) keeps working against a real jupyter_server.

The helpers are taken from the page itself (cells tagged ``jupyter-server-helpers`` and
``websocket-client``), so the test checks exactly what readers see.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from utils.run_jupyter_kernel import summarize

PAGE = (
    Path(__file__).resolve().parents[1] / "notebooks" / "clients" / "jupyter-server-websocket.ipynb"
)


@pytest.fixture(scope="module")
def page() -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    cells = nbformat.read(PAGE, 4).cells
    for tag in ("jupyter-server-helpers", "websocket-client"):
        tagged = [c for c in cells if tag in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"the page must have one cell tagged {tag}"
        exec(compile(tagged[0].source, str(PAGE), "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def server(page, tmp_path_factory) -> Iterator[tuple[str, str, str]]:
    folder = tmp_path_factory.mktemp("server")
    process, base, token = page["start_jupyter_server"](str(folder))
    try:
        _, kernel = page["api"](base, token, "POST", "/api/kernels", {"name": "python3"})
        yield base, token, kernel["id"]
    finally:
        assert page["stop_jupyter_server"](process, base, token) == 0
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("v1", [False, True], ids=["json", "v1-binary"])
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("x = 42\ny = x * 2\ny", "execute_result: 84"),
        ("print('hi')", "stream stdout: 'hi\\n'"),
        ("1 / 0", "error: ZeroDivisionError: division by zero"),
    ],
)
def test_execute_over_the_websocket(page, server, v1: bool, code: str, expected: str) -> None:
    base, token, kernel_id = server
    iopub, reply = asyncio.run(page["ws_execute"](base, token, kernel_id, code, v1=v1))
    lines = summarize(iopub)
    assert lines[0] == "status: busy" and lines[-1] == "status: idle" and expected in lines
    assert reply["msg_type"] == "execute_reply"


def test_v1_frames_round_trip(page) -> None:
    msg = page["request"]("execute_request", {"code": "1"})
    msg["buffers"] = [b"\x00\x01binary"]
    decoded = page["decode_v1"](page["encode_v1"]("shell", msg))
    assert decoded["channel"] == "shell" and decoded["header"] == msg["header"]
    assert decoded["content"] == {"code": "1"} and decoded["buffers"] == [b"\x00\x01binary"]


def test_requests_without_the_token_are_refused(page, server) -> None:
    import urllib.error

    base, _, _ = server
    with pytest.raises(urllib.error.HTTPError) as error:
        page["api"](base, "not-the-token", "GET", "/api/kernels")
    assert error.value.code == 403
