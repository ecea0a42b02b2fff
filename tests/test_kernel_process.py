"""IPKernelAppProcess: it answers at once, stops, and never outlives the process that started it."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import pid_alive, wait_until_gone
from utils.run_jupyter_kernel import (
    ConnectionFileError,
    ConnectionFileInUseError,
    IPKernelAppProcess,
    KernelStartError,
    get_messages,
    summarize,
)

# A child program: start a kernel, execute once, print the kernel's pid, exit WITHOUT shutdown().
CHILD = textwrap.dedent(
    """
    from utils.run_jupyter_kernel import IPKernelAppProcess, get_messages, summarize
    kernel = IPKernelAppProcess()
    print("RESULT", summarize(get_messages(kernel.connection_file, "6 * 7"))[2], flush=True)
    print("KERNEL_PID", kernel.pid, flush=True)
    """
)


def child_output(result: subprocess.CompletedProcess[str]) -> tuple[list[str], int]:
    """The RESULT lines the child printed, and the pid of its kernel."""
    lines = result.stdout.splitlines()
    results = [line for line in lines if line.startswith("RESULT")]
    pids = [int(line.split()[1]) for line in lines if line.startswith("KERNEL_PID")]
    assert len(pids) == 1, result.stdout + result.stderr
    return results, pids[0]


def test_kernel_answers_when_the_constructor_returns(tmp_path: Path) -> None:
    with IPKernelAppProcess(tmp_path / "k.json") as kernel:
        messages = get_messages(kernel.connection_file, "1 + 1", timeout=10)  # no sleep before
        assert summarize(messages)[2] == "execute_result: 2"
        assert kernel.is_alive()


def test_connection_file_is_private_loopback_and_keyed(tmp_path: Path) -> None:
    with IPKernelAppProcess(tmp_path / "a.json") as a, IPKernelAppProcess(tmp_path / "b.json") as b:
        info_a = json.loads(Path(a.connection_file).read_text())
        info_b = json.loads(Path(b.connection_file).read_text())
        assert Path(a.connection_file).stat().st_mode & 0o777 == 0o600
        assert info_a["ip"] == "127.0.0.1" and info_a["transport"] == "tcp"
        assert info_a["signature_scheme"] == "hmac-sha256"
        assert len(info_a["key"]) >= 32 and info_a["key"] != info_b["key"]


def test_shutdown_stops_the_kernel_removes_its_files_and_is_idempotent(tmp_path: Path) -> None:
    kernel = IPKernelAppProcess(tmp_path / "k.json")
    kernel.shutdown()
    assert not kernel.is_alive() and not pid_alive(kernel.pid)
    assert not Path(kernel.connection_file).exists()
    assert not Path(kernel.log_file).exists()
    kernel.shutdown()  # a second call is harmless


def test_default_connection_file_lives_in_a_temp_dir_removed_on_shutdown() -> None:
    with IPKernelAppProcess() as kernel:
        folder = Path(kernel.connection_file).parent
        assert folder.is_dir() and folder.name.startswith("ipkernel-")
    assert not folder.exists()


def test_with_block_stops_the_kernel_when_an_exception_escapes(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with IPKernelAppProcess(tmp_path / "k.json") as kernel:
            raise RuntimeError("boom")
    assert not pid_alive(kernel.pid)


@pytest.mark.parametrize("how", ["script without a main guard", "python -c", "script on stdin"])
def test_ways_of_calling_and_the_kernel_dies_with_its_parent(tmp_path: Path, how: str) -> None:
    script = tmp_path / "start_kernel.py"
    script.write_text(CHILD)  # no `if __name__ == "__main__"` guard on purpose
    command = {
        "script without a main guard": ([sys.executable, str(script)], None),
        "python -c": ([sys.executable, "-c", CHILD], None),
        "script on stdin": ([sys.executable, "-"], CHILD),
    }[how]
    result = subprocess.run(
        command[0], input=command[1], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    results, kernel_pid = child_output(result)
    assert results == ["RESULT execute_result: 42"]  # once: the script was not re-run
    assert wait_until_gone(kernel_pid), "the kernel outlived the script that started it"


def test_kernel_dies_after_an_exception_in_its_parent(tmp_path: Path) -> None:
    code = CHILD + "raise SystemExit('failing on purpose')\n"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "failing on purpose" in result.stderr
    _, kernel_pid = child_output(result)
    assert wait_until_gone(kernel_pid)


def test_kernel_dies_when_its_parent_is_killed(tmp_path: Path) -> None:
    code = CHILD + "import time\ntime.sleep(120)\n"
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        kernel_pid = None
        for line in parent.stdout:  # type: ignore[union-attr]
            if line.startswith("KERNEL_PID"):
                kernel_pid = int(line.split()[1])
                break
        assert kernel_pid and pid_alive(kernel_pid)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        # ipykernel's parent poller checks every second
        assert wait_until_gone(kernel_pid, timeout=10), "the kernel outlived its killed parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_from_a_notebook(tmp_path: Path) -> None:
    source = CHILD + "kernel_pid = kernel.pid\n"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    client = NotebookClient(nb, kernel_name="python3", timeout=120, resources={})
    client.execute(cwd=str(tmp_path))
    outputs = "".join(out.get("text", "") for out in nb.cells[0].outputs)
    assert "RESULT execute_result: 42" in outputs, nb.cells[0].outputs
    kernel_pid = int(outputs.split("KERNEL_PID")[1].split()[0])
    # nbclient shut the notebook's kernel down, so the kernel it started must be gone too
    assert wait_until_gone(kernel_pid)


ECHO_KERNEL = textwrap.dedent(
    """
    from ipykernel.kernelbase import Kernel

    class EchoKernel(Kernel):
        implementation = "echo"
        implementation_version = "1.0"
        language_info = {"name": "echo", "mimetype": "text/plain", "file_extension": ".txt"}
        banner = "Echo kernel"

        def do_execute(self, code, silent, store_history=True, user_expressions=None,
                       allow_stdin=False, *, cell_meta=None, cell_id=None):
            if not silent:
                self.send_response(self.iopub_socket, "stream", {"name": "stdout", "text": code})
            return {"status": "ok", "execution_count": self.execution_count,
                    "payload": [], "user_expressions": {}}
    """
)


def test_kernel_class_from_a_module_in_a_temp_dir(tmp_path: Path) -> None:
    module_file = tmp_path / "book_echo_kernel.py"
    module_file.write_text(ECHO_KERNEL)
    spec = importlib.util.spec_from_file_location("book_echo_kernel", module_file)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["book_echo_kernel"] = module
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        with IPKernelAppProcess(tmp_path / "k.json", kernel_class=module.EchoKernel) as kernel:
            messages = get_messages(kernel.connection_file, "hello echo", timeout=20)
    finally:
        del sys.modules["book_echo_kernel"]
    assert "stream stdout: 'hello echo'" in summarize(messages)


def test_kernel_class_defined_in_a_function_is_refused_clearly() -> None:
    from ipykernel.kernelbase import Kernel

    class LocalKernel(Kernel):
        pass

    with pytest.raises(ValueError, match="importable module"):
        IPKernelAppProcess(kernel_class=LocalKernel)


def test_the_connection_file_of_a_live_kernel_is_refused(kernel: IPKernelAppProcess) -> None:
    with pytest.raises(ConnectionFileInUseError, match="alive"):
        IPKernelAppProcess(kernel.connection_file)
    assert summarize(get_messages(kernel.connection_file, "3"))[2] == "execute_result: 3"


def test_a_stale_connection_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    with IPKernelAppProcess(path) as first:
        stale = Path(first.connection_file).read_text()
    path.write_text(stale)  # as if the kernel had been killed without cleaning up
    with IPKernelAppProcess(path) as second:
        assert Path(second.connection_file).read_text() != stale
        assert summarize(get_messages(second.connection_file, "4"))[2] == "execute_result: 4"


def test_a_file_that_is_not_a_connection_file_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.json"
    path.write_text("my notes, not JSON")
    with pytest.raises(ConnectionFileError, match="not JSON"):
        IPKernelAppProcess(path)
    assert path.read_text() == "my notes, not JSON"


def test_a_kernel_that_cannot_start_raises_with_its_log(tmp_path: Path) -> None:
    with pytest.raises(KernelStartError, match="exited") as error:
        IPKernelAppProcess(
            tmp_path / "k.json", extra_args=["--IPKernelApp.kernel_class=no_such_module.Kernel"]
        )
    assert "no_such_module" in str(error.value)  # the kernel's own log explains why
    assert not (tmp_path / "k.json").exists()
