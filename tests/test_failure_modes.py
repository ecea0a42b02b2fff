"""utils.watchdog.wait_for_reply: a dead, a frozen and a never-started kernel noticed fast."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_client import KernelManager
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager

from utils.run_jupyter_kernel import ExecutionTimeoutError, KernelDiedError
from utils.watchdog import HeartbeatLostError, wait_for_reply

QUIET = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
FAST = 3.0  # seconds: "noticed fast", with room for a busy CI machine
FAST_HANG = 5.0  # a hang: a missed echo (1-2 s), then our own ping's grace (1.5 s)
TIMEOUT = 20.0  # the reply timeout given to wait_for_reply: far above FAST


def _managed(folder: Path) -> Iterator[tuple[KernelManager, object]]:
    """A kernel and a started client of its manager; both stopped at the end."""
    manager = KernelManager(connection_file=str(folder / "kernel.json"))
    manager.start_kernel(**QUIET)
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=30)
        yield manager, client
    finally:
        client.stop_channels()
        pid = manager.provisioner.pid if manager.provisioner else None
        if pid and manager.is_alive():
            os.kill(pid, signal.SIGCONT)  # a frozen kernel cannot take a shutdown request
        manager.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KernelManager, object]]:
    """One kernel for the tests that leave it running (the frozen one is continued)."""
    yield from _managed(tmp_path_factory.mktemp("shared"))


@pytest.fixture
def managed(tmp_path: Path) -> Iterator[tuple[KernelManager, object]]:
    """A kernel of the test's own (one to kill)."""
    yield from _managed(tmp_path)


def _timed(call) -> tuple[type[BaseException] | None, float]:
    start = time.monotonic()
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the class is what the test checks
        return type(error), time.monotonic() - start
    return None, time.monotonic() - start


def test_a_reply_is_returned(shared) -> None:
    manager, client = shared
    reply = wait_for_reply(client, client.execute("6 * 7"), TIMEOUT, manager=manager)
    assert reply["msg_type"] == "execute_reply" and reply["content"]["status"] == "ok"


def test_a_busy_kernel_is_not_taken_for_a_dead_one(shared) -> None:
    manager, client = shared  # ipykernel's heartbeat thread echoes while the cell runs
    msg_id = client.execute("import time; time.sleep(3)")
    error, _ = _timed(lambda: wait_for_reply(client, msg_id, 2.5, manager=manager))
    assert error is ExecutionTimeoutError
    assert wait_for_reply(client, msg_id, TIMEOUT, manager=manager)["content"]["status"] == "ok"


def test_a_killed_kernel_is_noticed_fast(managed) -> None:
    manager, client = managed
    msg_id = client.execute("import time; time.sleep(60)")
    time.sleep(0.5)
    os.kill(manager.provisioner.pid, signal.SIGKILL)
    error, elapsed = _timed(lambda: wait_for_reply(client, msg_id, TIMEOUT, manager=manager))
    assert error is KernelDiedError and elapsed < FAST


def test_a_kernel_that_never_starts_is_noticed_fast(tmp_path: Path) -> None:
    spec = tmp_path / "kernels" / "gone"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "no_such_kernel_module", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Gone"}))
    manager = KernelManager(
        kernel_name="gone",
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")]),
        connection_file=str(tmp_path / "gone.json"),
    )
    manager.start_kernel(**QUIET)
    client = manager.client()
    client.start_channels()
    try:
        msg_id = client.execute("1")
        error, elapsed = _timed(lambda: wait_for_reply(client, msg_id, TIMEOUT, manager=manager))
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert error is KernelDiedError and elapsed < FAST


def test_a_client_without_heartbeat_is_refused(shared) -> None:
    manager, _ = shared
    # not manager.client(): a second client of one manager has the same session id, so the
    # kernel's shell socket (ROUTER_HANDOVER) would send the shared client's replies to it
    client = BlockingKernelClient()
    client.load_connection_info(manager.get_connection_info())
    client.start_channels(hb=False)
    try:
        with pytest.raises(ValueError, match="heartbeat"):
            wait_for_reply(client, client.execute("1"), TIMEOUT, manager=manager)
        with pytest.raises(ValueError, match="positive"):
            wait_for_reply(client, "x", 0)
    finally:
        client.stop_channels()


def test_a_frozen_kernel_is_noticed_fast(shared) -> None:
    manager, client = shared  # last of the shared kernel's tests
    msg_id = client.execute("import time; time.sleep(1)")
    time.sleep(0.5)
    os.kill(manager.provisioner.pid, signal.SIGSTOP)
    try:
        error, elapsed = _timed(lambda: wait_for_reply(client, msg_id, TIMEOUT, manager=manager))
    finally:
        os.kill(manager.provisioner.pid, signal.SIGCONT)
    assert error is HeartbeatLostError and elapsed < FAST_HANG
    assert manager.is_alive()  # the process exists: only the heartbeat told
    deadline = time.monotonic() + 10  # the channel sees the echoes again a ping or two later
    while not client.hb_channel.is_beating() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert wait_for_reply(client, msg_id, TIMEOUT, manager=manager)["content"]["status"] == "ok"
