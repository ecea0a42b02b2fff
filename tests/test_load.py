"""The load cases of the failure chapter, as tests: every execution complete, nothing leaked.

Times are not asserted here (``benchmarks/bench_load.py`` measures them); what is asserted is
that under load each execution comes back whole, and that connections leave nothing behind.
The slow subscriber is checked by its page, ``notebooks/failures/lost-output-under-load``.
"""

from __future__ import annotations

import pytest

from utils.load import (
    IncompleteError,
    big_output,
    fresh_connections,
    many_kernels,
    plain_client,
    plain_execute,
    sequential_executions,
)
from utils.run_jupyter_kernel import IPKernelAppProcess


@pytest.fixture(scope="module")
def kernel():
    with IPKernelAppProcess() as running:
        yield running


def test_a_thousand_sequential_executions_each_complete(kernel) -> None:
    run = sequential_executions(kernel.connection_file, 1000, "book")
    assert run.count == 1000  # each result was checked: i returned str(i)


def test_a_thousand_fresh_connections_leave_no_fd_or_thread_behind(kernel) -> None:
    fresh_connections(kernel.connection_file, 20, "book", kernel.pid)  # the first ones warm up
    run = fresh_connections(kernel.connection_file, 1000, "book", kernel.pid)
    for side in ("client", "kernel"):
        before, after = run.extra[f"{side}_before"], run.extra[f"{side}_after"]
        assert after.fds <= before.fds, side
        assert after.threads <= before.threads, side


def test_twenty_kernels_at_once_each_execute() -> None:
    run = many_kernels(20, "book")
    assert run.extra["all_answered"]
    assert all(20 < rss < 300 for rss in run.extra["rss_mb"])  # MB each: a real, small kernel


@pytest.mark.parametrize("kind, megabytes", [("stream", 50), ("display", 10)])
def test_a_large_output_is_received_whole(kernel, kind: str, megabytes: int) -> None:
    output = big_output(kernel.connection_file, megabytes, "book", kind)
    assert output.whole and output.received_bytes == megabytes * 1024 * 1024


def test_an_execution_that_does_not_finish_in_time_is_named(kernel) -> None:
    client = plain_client(kernel.connection_file)
    try:
        with pytest.raises(IncompleteError, match="no idle within 0.5 s"):
            plain_execute(client, "import time; time.sleep(1.5)", timeout=0.5)
        plain_execute(client, "1")  # the kernel finishes the sleep, then answers again
    finally:
        client.stop_channels()
