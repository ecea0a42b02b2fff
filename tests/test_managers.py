"""utils.managers.record_signals with a real KernelManager and kernel."""

from __future__ import annotations

import subprocess
from pathlib import Path

from jupyter_client import KernelManager

from utils.managers import record_signals

QUIET = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}


def test_signals_are_recorded_once_across_calls_and_restarts(tmp_path: Path) -> None:
    manager = KernelManager(connection_file=str(tmp_path / "kernel.json"))
    manager.start_kernel(**QUIET)
    try:
        sent = record_signals(manager)
        assert record_signals(manager) is sent  # a second call wraps nothing again
        manager.interrupt_kernel()
        assert sent == ["SIGINT"]
        manager.restart_kernel(now=True, **QUIET)  # interrupt, then kill the old process
        assert sent == ["SIGINT", "SIGINT", "SIGKILL"]
        manager.interrupt_kernel()  # the restarted process: same provisioner, same list
        assert sent[-1] == "SIGINT" and len(sent) == 4
    finally:
        manager.shutdown_kernel(now=True)
    assert not manager.is_alive()


def test_a_manager_that_never_started_has_nothing_to_record() -> None:
    try:
        record_signals(KernelManager())
    except RuntimeError as error:
        assert "start its kernel" in str(error)
    else:
        raise AssertionError("no error for a manager without a provisioner")
