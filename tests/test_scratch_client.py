"""The pyzmq-only client written in the book keeps interoperating with a real kernel.

The client's code is taken from the page itself (the cell tagged ``scratch-client``), so the test
checks exactly what readers see.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from utils.run_jupyter_kernel import IPKernelAppProcess, get_messages, summarize

PAGE = Path(__file__).resolve().parents[1] / "notebooks" / "clients" / "a-client-from-scratch.ipynb"


@pytest.fixture(scope="module")
def scratch_client_class() -> type:
    cells = [
        c for c in nbformat.read(PAGE, 4).cells if "scratch-client" in c.metadata.get("tags", [])
    ]
    assert len(cells) == 1, "the page must have one cell tagged scratch-client"
    namespace: dict[str, Any] = {}
    exec(compile(cells[0].source, str(PAGE), "exec"), namespace)
    return namespace["ScratchClient"]


@pytest.fixture
def scratch(kernel: IPKernelAppProcess, scratch_client_class: type):
    client = scratch_client_class(json.loads(Path(kernel.connection_file).read_text()))
    client.wait_for_iopub()
    yield client
    client.close()


@pytest.mark.parametrize(
    "code",
    ["x = 42\ny = x * 2\ny", "print('hello')", "1 / 0", "import sys; print('e', file=sys.stderr)"],
)
def test_same_messages_as_jupyter_client(kernel, scratch, code: str) -> None:
    messages, reply = scratch.execute(code)
    assert summarize(messages) == summarize(get_messages(kernel.connection_file, code))
    assert reply["msg_type"] == "execute_reply"
    assert reply["parent_header"]["msg_id"] == messages[0]["parent_header"]["msg_id"]


def test_many_executions_are_complete(scratch) -> None:
    for i in range(100):
        messages, reply = scratch.execute(f"{i} * 3")
        assert summarize(messages)[2] == f"execute_result: {i * 3}"
        assert reply["content"]["status"] == "ok"


def test_messages_it_signs_are_verified_by_the_kernel(kernel, scratch_client_class) -> None:
    info = json.loads(Path(kernel.connection_file).read_text())
    impostor = scratch_client_class({**info, "key": "wrong"})
    try:
        impostor.send("execute_request", {"code": "planted = 1", "silent": False})
        assert impostor.receive(impostor.shell, timeout=1.0) is None  # dropped: no reply
    finally:
        impostor.close()
    assert summarize(get_messages(kernel.connection_file, "'planted' in globals()"))[2] == (
        "execute_result: False"
    )
