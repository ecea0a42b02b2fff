"""utils.iopub_log with a real kernel: a reader that keeps everything, late output included."""

from __future__ import annotations

import threading

import pytest

from utils.iopub_log import IOPubLog
from utils.messaging import execute, submit
from utils.protocol import recording_client
from utils.run_jupyter_kernel import ExecutionTimeoutError, IPKernelAppProcess, summarize


def test_the_log_keeps_a_request_and_output_that_comes_after_its_idle(
    kernel: IPKernelAppProcess, tmp_path
) -> None:
    gate = tmp_path / "gate"
    code = (
        "import os, threading, time\n"
        "def later():\n"
        f"    while not os.path.exists({str(gate)!r}): time.sleep(0.01)\n"
        "    print('late', flush=True)\n"
        "threading.Thread(target=later).start()"
    )
    with IOPubLog(recording_client(kernel.connection_file)) as log:
        request = submit(log.client, code)
        assert summarize(log.wait_idle(request, timeout=10)) == [
            "status: busy",
            f"execute_input: {code!r}",
            "status: idle",
        ]
        gate.touch()
        late = log.wait_for(lambda m: m["msg_type"] == "stream", timeout=10)
        assert late["content"]["text"] == "late\n"
        assert late["parent_header"]["msg_id"] == request["header"]["msg_id"]
        assert log.of(request)[-1] is late  # after the idle, kept under its parent


def test_the_log_sees_the_requests_of_other_clients(kernel: IPKernelAppProcess) -> None:
    other = recording_client(kernel.connection_file)
    try:
        with IOPubLog(recording_client(kernel.connection_file)) as log:
            theirs = execute(other, "'from the other client'")
            seen = log.wait_idle(theirs.request, timeout=10)
            assert [m["msg_type"] for m in seen] == [
                "status",
                "execute_input",
                "execute_result",
                "status",
            ]
            assert {m["parent_header"]["session"] for m in seen} == {other.session.session}
    finally:
        other.stop_channels()


def test_a_wait_that_nothing_answers_times_out_with_what_came(kernel: IPKernelAppProcess) -> None:
    with IOPubLog(recording_client(kernel.connection_file)) as log:
        with pytest.raises(ExecutionTimeoutError) as caught:
            log.wait_for(lambda m: m["msg_type"] == "never", timeout=0.3)
        assert isinstance(caught.value.messages, list)


def test_stop_ends_the_reading_thread(kernel: IPKernelAppProcess) -> None:
    log = IOPubLog(recording_client(kernel.connection_file))
    log.stop(timeout=5)
    assert not any(t.name == "iopub-log" and t.is_alive() for t in threading.enumerate())
