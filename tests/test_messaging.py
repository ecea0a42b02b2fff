"""utils.messaging with a real kernel: answers are matched by parent, and none is lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jupyter_client.blocking import BlockingKernelClient

from utils.messaging import ask, execute, iopub_of, pending, reply_to, send, submit
from utils.protocol import recording_client, report
from utils.run_jupyter_kernel import ExecutionTimeoutError, IPKernelAppProcess, NoReplyError


@pytest.fixture()
def client(kernel: IPKernelAppProcess) -> Iterator[BlockingKernelClient]:
    client = recording_client(kernel.connection_file)
    yield client
    client.stop_channels()


def test_execute_returns_the_reply_and_the_iopub_messages(client: BlockingKernelClient) -> None:
    exchange = execute(client, "print('hi')\n6 * 7")
    assert exchange.content["status"] == "ok"
    assert exchange.summary() == [
        "status: busy",
        "execute_input: \"print('hi')\\n6 * 7\"",
        "stream stdout: 'hi\\n'",
        "execute_result: 42",
        "status: idle",
    ]
    assert "execute_reply" in report(client.session.record)


def test_answers_read_early_are_kept_for_their_own_request(client: BlockingKernelClient) -> None:
    """Two requests sent at once; the second one's answers are read first and not lost."""
    first = send(client, "shell", "execute_request", {"code": "import time; time.sleep(0.3)"})
    second = send(client, "shell", "kernel_info_request")
    assert reply_to(client, second)["header"]["msg_type"] == "kernel_info_reply"
    assert reply_to(client, first)["content"]["status"] == "ok"
    assert [m["content"].get("execution_state") for m in iopub_of(client, second)] == [
        "busy",
        "idle",
    ]
    assert iopub_of(client, first)[-1]["content"]["execution_state"] == "idle"
    assert all(m["header"]["msg_type"] in ("status", "iopub_welcome") for m in pending(client))


def test_control_requests_and_bounded_waits(client: BlockingKernelClient) -> None:
    assert ask(client, "control", "kernel_info_request").content["status"] == "ok"
    with pytest.raises(NoReplyError, match="no reply to nobody on shell within 0.2 s"):
        reply_to(client, "nobody", timeout=0.2)
    slow = send(client, "shell", "execute_request", {"code": "import time; time.sleep(1)"})
    with pytest.raises(ExecutionTimeoutError) as caught:
        iopub_of(client, slow, timeout=0.3)
    assert [m["content"].get("execution_state") for m in caught.value.messages][:1] == ["busy"]
    assert iopub_of(client, slow, timeout=10)[-1]["content"]["execution_state"] == "idle"


def test_submit_and_wait_for_the_first_output(client: BlockingKernelClient) -> None:
    request = submit(client, "import time\nprint('a', flush=True)\ntime.sleep(0.2)\nprint('b')")
    first = iopub_of(client, request, until=lambda m: m["header"]["msg_type"] == "stream")
    assert first[-1]["content"]["text"] == "a\n"
    rest = iopub_of(client, request)  # the rest, up to idle: nothing lost in between
    assert "".join(m["content"].get("text", "") for m in rest) == "b\n"
    assert reply_to(client, request)["content"]["status"] == "ok"
    with pytest.raises(ExecutionTimeoutError, match="no <lambda> for"):
        iopub_of(client, request, until=lambda m: False, timeout=0.2)


def test_requests_go_on_shell_or_control_only(client: BlockingKernelClient) -> None:
    with pytest.raises(ValueError, match="shell or control"):
        send(client, "iopub", "status")
    with pytest.raises(TypeError, match="no_such_field"):
        execute(client, "1", no_such_field=True)
