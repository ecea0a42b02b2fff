"""get_messages: the whole execution, only it, the moment it ends, and named errors otherwise."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_client.blocking import BlockingKernelClient

from utils.run_jupyter_kernel import (
    ConnectionFileError,
    ExecutionTimeoutError,
    IPKernelAppProcess,
    KernelDiedError,
    KernelError,
    MessagesLostError,
    NoReplyError,
    get_messages,
    summarize,
)


def connected_client(connection_file: str, wait: bool = True) -> BlockingKernelClient:
    client = BlockingKernelClient()
    client.load_connection_file(connection_file)
    client.start_channels()
    if wait:
        client.wait_for_ready(timeout=30)
    return client


@pytest.fixture
def other_client(kernel: IPKernelAppProcess) -> Iterator[BlockingKernelClient]:
    """Another client subscribed to iopub the whole time: no iopub_welcome for newcomers."""
    client = connected_client(kernel.connection_file)
    yield client
    client.stop_channels()


def assert_complete(messages: list[dict], result: str) -> None:
    lines = summarize(messages)
    assert lines[0] == "status: busy" and lines[-1] == "status: idle", lines
    assert lines[1].startswith("execute_input") and result in lines, lines
    parents = {msg["parent_header"]["msg_id"] for msg in messages}
    assert len(parents) == 1, "messages of another request slipped in"


def test_the_first_pages_example(kernel: IPKernelAppProcess) -> None:
    messages = get_messages(kernel.connection_file, "x = 42\ny = x * 2\ny")
    assert [msg["msg_type"] for msg in messages] == [
        "status",
        "execute_input",
        "execute_result",
        "status",
    ]
    assert messages[2]["content"]["data"] == {"text/plain": "84"}
    assert messages[1]["content"]["code"] == "x = 42\ny = x * 2\ny"


def test_print_arrives_as_stdout_stream(kernel: IPKernelAppProcess) -> None:
    messages = get_messages(kernel.connection_file, "print('hello')")
    streams = [msg for msg in messages if msg["msg_type"] == "stream"]
    assert "".join(msg["content"]["text"] for msg in streams) == "hello\n"
    assert {msg["content"]["name"] for msg in streams} == {"stdout"}
    assert_complete(messages, "stream stdout: 'hello\\n'")


def test_only_this_executions_messages(kernel, other_client) -> None:
    other_client.execute("import time; time.sleep(0.3); print('other')")
    messages = get_messages(kernel.connection_file, "print('mine')")
    assert_complete(messages, "stream stdout: 'mine\\n'")
    assert "other" not in repr(summarize(messages))


def test_returns_the_moment_idle_arrives(kernel: IPKernelAppProcess) -> None:
    start = time.monotonic()
    get_messages(kernel.connection_file, "1", timeout=60)
    assert time.monotonic() - start < 5  # a wait for 5 s of silence would take 5 s after every call


def test_500_fresh_calls_with_nobody_else_subscribed(kernel: IPKernelAppProcess) -> None:
    for i in range(500):
        assert_complete(
            get_messages(kernel.connection_file, f"{i} + 1"), f"execute_result: {i + 1}"
        )


def test_500_fresh_calls_while_another_client_is_subscribed(kernel, other_client) -> None:
    for i in range(500):
        assert_complete(
            get_messages(kernel.connection_file, f"{i} * 2"), f"execute_result: {i * 2}"
        )


def test_200_calls_on_a_client_used_right_after_start_channels(kernel) -> None:
    client = connected_client(kernel.connection_file, wait=False)  # no wait_for_ready
    try:
        for i in range(200):
            assert_complete(
                get_messages(client=client, code=f"{i} - 1"), f"execute_result: {i - 1}"
            )
    finally:
        client.stop_channels()


def test_missing_connection_file(tmp_path: Path) -> None:
    with pytest.raises(ConnectionFileError, match="does not exist"):
        get_messages(tmp_path / "nowhere.json", "1")


def test_connection_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(ConnectionFileError, match="not JSON"):
        get_messages(path, "1")


def test_connection_file_lacking_fields(tmp_path: Path) -> None:
    path = tmp_path / "partial.json"
    path.write_text(json.dumps({"ip": "127.0.0.1", "key": "k"}))
    with pytest.raises(ConnectionFileError, match="shell_port, iopub_port, hb_port"):
        get_messages(path, "1")


def test_timeout_keeps_what_arrived(tmp_path: Path) -> None:
    with IPKernelAppProcess(tmp_path / "k.json") as kernel:
        with pytest.raises(ExecutionTimeoutError, match="received: status: busy") as error:
            get_messages(kernel.connection_file, "import time; time.sleep(30)", timeout=2)
    assert summarize(error.value.messages)[:2] == [
        "status: busy",
        "execute_input: 'import time; time.sleep(30)'",
    ]
    assert isinstance(error.value, KernelError) and isinstance(error.value, TimeoutError)


def test_kernel_dying_during_the_execution_is_noticed_fast(tmp_path: Path) -> None:
    with IPKernelAppProcess(tmp_path / "k.json") as kernel:
        start = time.monotonic()
        with pytest.raises(KernelDiedError, match="heartbeat") as error:
            code = "import os, time; print('bye', flush=True); time.sleep(0.5); os._exit(1)"
            get_messages(kernel.connection_file, code, timeout=60)
        assert time.monotonic() - start < 10  # about 1.5 s: not the 60 s timeout
        received = summarize(error.value.messages)  # what came before the death is kept
        assert received[0] == "status: busy" and "stream stdout: 'bye\\n'" in received
        assert isinstance(error.value, RuntimeError)
        # a connection file whose kernel is gone: the same error, just as fast
        start = time.monotonic()
        with pytest.raises(KernelDiedError):
            get_messages(kernel.connection_file, "1", timeout=60)
        assert time.monotonic() - start < 10


def wrong_key_copy(kernel: IPKernelAppProcess, tmp_path: Path) -> Path:
    info = json.loads(Path(kernel.connection_file).read_text())
    info["key"] = "not-the-kernels-key"
    path = tmp_path / "wrong-key.json"
    path.write_text(json.dumps(info))
    return path


def test_wrong_key_when_alone_on_iopub(tmp_path: Path) -> None:
    with IPKernelAppProcess(tmp_path / "k.json") as kernel:
        with pytest.raises(NoReplyError, match="key is likely wrong"):
            get_messages(wrong_key_copy(kernel, tmp_path), "1", timeout=20)
        assert summarize(get_messages(kernel.connection_file, "5"))[2] == "execute_result: 5"


def test_wrong_key_while_another_client_is_subscribed(kernel, other_client, tmp_path) -> None:
    # No iopub_welcome reaches us, so nothing signed arrives: silence, then the control check.
    start = time.monotonic()
    with pytest.raises(NoReplyError, match="(?s)key is likely wrong.*heartbeat answers"):
        get_messages(wrong_key_copy(kernel, tmp_path), "1", timeout=30)
    assert time.monotonic() - start < 15


def test_bad_arguments(kernel: IPKernelAppProcess) -> None:
    with pytest.raises(TypeError, match="code must be a str"):
        get_messages(kernel.connection_file, b"1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout"):
        get_messages(kernel.connection_file, "1", timeout=0)
    with pytest.raises(TypeError, match="exactly one"):
        get_messages(code="1")
    client = connected_client(kernel.connection_file)
    try:
        with pytest.raises(TypeError, match="exactly one"):
            get_messages(kernel.connection_file, "1", client=client)
    finally:
        client.stop_channels()


def test_an_idle_lost_on_the_way_is_named_not_waited_for(tmp_path: Path) -> None:
    """The reply came, the idle never will: MessagesLostError in seconds, not the timeout."""
    from lossy_kernel import LosingIdleKernel

    with IPKernelAppProcess(tmp_path / "lossy.json", kernel_class=LosingIdleKernel) as lossy:
        started = time.monotonic()
        with pytest.raises(MessagesLostError, match="execute_reply .* came") as error:
            get_messages(lossy.connection_file, "hello", timeout=60)
        assert time.monotonic() - started < 15
        assert summarize(error.value.messages)[0] == "status: busy"
