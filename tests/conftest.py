"""Shared set-up of the tests: the example kernels' kernelspecs, a kernel fixture, a leak check.

The private IPython/Jupyter folders of the run are set by the repository's root ``conftest.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager

from kernels import kernelspec
from utils.run_jupyter_kernel import IPKernelAppProcess

_PRIVATE = tempfile.mkdtemp(prefix="book-kernelspecs-")

# The book's example kernels, as kernelspecs in a private prefix on JUPYTER_PATH (never in the
# user's or the system's kernel folders): KernelManager(kernel_name=...) finds them there.
BOOK_KERNELS = {
    "sqlite-book": kernelspec("kernels.sqlite", "SQLite (book)", "sql"),
    "echo-book": kernelspec("kernels.echo", "Echo (book)", "echo"),
    **{
        f"{kind}-book": kernelspec("kernels.misbehaving", f"{kind} (book)", "echo", kind)
        for kind in ("silent", "dying", "malformed")
    },
}
_PREFIX = Path(_PRIVATE) / "prefix"
for _kernel_name, _spec in BOOK_KERNELS.items():
    _source = Path(_PRIVATE) / "specs" / _kernel_name
    _source.mkdir(parents=True)
    (_source / "kernel.json").write_text(json.dumps(_spec))
    KernelSpecManager().install_kernel_spec(str(_source), _kernel_name, prefix=str(_PREFIX))
os.environ["JUPYTER_PATH"] = str(_PREFIX / "share" / "jupyter")


def kernels_started_by(pid: int) -> list[int]:
    """Pids of live kernel processes whose command line names ``pid`` as their parent."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and f"--IPKernelApp.parent_handle={pid}".encode() in cmdline:
            found.append(int(proc.name))
    return found


def pid_alive(pid: int) -> bool:
    """True if ``pid`` is a process that is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until_gone(pid: int, timeout: float = 10.0) -> bool:
    """Wait (bounded) for ``pid`` to exit; True if it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    return not pid_alive(pid)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IPKernelAppProcess]:
    """One kernel shared by the tests of a module; stopped afterwards."""
    with IPKernelAppProcess(tmp_path_factory.mktemp("kernel") / "kernel.json") as kernel:
        yield kernel


@pytest.fixture(scope="session", autouse=True)
def no_kernel_left_behind() -> Iterator[None]:
    """Fail the run if any kernel started by this process outlives the tests."""
    yield
    leftovers = [pid for pid in kernels_started_by(os.getpid()) if not wait_until_gone(pid, 5)]
    shutil.rmtree(_PRIVATE, ignore_errors=True)
    assert not leftovers, f"kernel processes left running: {leftovers}"
