"""The example kernels run both ways; misbehaving ones give get_messages' named errors."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from jupyter_client import KernelManager
from jupyter_core.paths import jupyter_data_dir

from conftest import BOOK_KERNELS
from kernels.misbehaving import DyingKernel, MalformedKernel, SilentKernel
from kernels.sqlite import SqliteKernel
from utils.run_jupyter_kernel import (
    ExecutionTimeoutError,
    IPKernelAppProcess,
    KernelDiedError,
    get_messages,
    summarize,
)

QUERY = (
    "CREATE TABLE t (x INTEGER);\nINSERT INTO t VALUES (1), (2);\nSELECT SUM(x) AS total FROM t;"
)
RESULT = "execute_result: total\n-----\n3"


def test_sqlite_kernel_through_ipkernelappprocess(tmp_path: Path) -> None:
    with IPKernelAppProcess(tmp_path / "k.json", kernel_class=SqliteKernel) as kernel:
        assert summarize(get_messages(kernel.connection_file, QUERY))[2] == RESULT


def test_sqlite_kernel_through_its_kernelspec(tmp_path: Path) -> None:
    manager = KernelManager(kernel_name="sqlite-book", connection_file=str(tmp_path / "k.json"))
    manager.start_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = manager.client()
    try:
        client.start_channels()
        client.wait_for_ready(timeout=60)
        assert summarize(get_messages(client=client, code=QUERY))[2] == RESULT
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_kernelspecs_are_installed_only_in_a_temp_dir() -> None:
    shared = [Path(jupyter_data_dir()), Path(sys.prefix) / "share" / "jupyter"]
    shared += [Path("/usr/local/share/jupyter"), Path("/usr/share/jupyter")]
    for folder in shared:
        for name in BOOK_KERNELS:
            assert not (folder / "kernels" / name).exists(), f"{name} was installed in {folder}"


def test_a_silent_kernel_times_out_with_what_arrived(tmp_path: Path) -> None:
    with IPKernelAppProcess(tmp_path / "k.json", kernel_class=SilentKernel) as kernel:
        with pytest.raises(ExecutionTimeoutError) as error:
            get_messages(kernel.connection_file, "x", timeout=2)
    assert summarize(error.value.messages) == ["status: busy", "execute_input: 'x'"]


def test_a_dying_kernel_is_noticed_before_the_timeout(tmp_path: Path) -> None:
    with IPKernelAppProcess(tmp_path / "k.json", kernel_class=DyingKernel) as kernel:
        start = time.monotonic()
        with pytest.raises(KernelDiedError) as error:
            get_messages(kernel.connection_file, "x", timeout=60)
        assert time.monotonic() - start < 10
    assert summarize(error.value.messages)[-1] == "stream stdout: 'bye\\n'"


def test_malformed_content_is_returned_as_received(tmp_path: Path) -> None:
    with IPKernelAppProcess(tmp_path / "k.json", kernel_class=MalformedKernel) as kernel:
        messages = get_messages(kernel.connection_file, "x")
    assert messages[2]["msg_type"] == "execute_result" and "data" not in messages[2]["content"]
