"""Start the kernels the book compares: ipykernel, xeus-python, IRkernel and bash_kernel.

One protocol, several implementations: IPython's kernel (Python, on ipykernel), xeus-python
(Python again, on the C++ library xeus), IRkernel (R, written in R) and bash_kernel (a bash
process driven by an ipykernel subclass). :data:`KERNELS` describes each of them, with the
same small tasks written in its language, so that a page or a test can give every kernel the
same work and compare the messages.

- :func:`kernel_spec_manager` finds their kernelspecs the normal way (``jupyter kernelspec
  list``), plus bash_kernel's, which this module installs into a temporary prefix of its own
  (never into the user's or the system's kernel folders).
- :func:`running` starts one of them with a ``KernelManager``, returns once it has answered a
  ``kernel_info_request``, and stops it when the ``with`` block ends, however it ends.
- :func:`missing` says which of them this machine lacks, and how to install each.

Every wait is bounded; a kernel that is not installed raises :class:`KernelNotInstalledError`
and one that does not start raises :class:`~utils.run_jupyter_kernel.KernelStartError`.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

from .parent_death import on_parent_death
from .run_jupyter_kernel import KernelError, KernelStartError, _await_kernel_info

__all__ = [
    "KERNELS",
    "KernelNotInstalledError",
    "OtherKernel",
    "kernel_spec_manager",
    "missing",
    "running",
]


class KernelNotInstalledError(KernelError, LookupError):
    """The kernelspec of a kernel is not found on this machine."""


@dataclass(frozen=True)
class OtherKernel:
    """One kernel of the comparison: how to find it, and the same tasks in its language.

    Attributes
    ----------
    name
        Its kernelspec name (``KernelManager(kernel_name=name)``).
    implementation
        The project that implements it, as its ``kernel_info_reply`` names it.
    language
        The language it runs.
    install
        How a reader installs it.
    code
        Task name -> code doing it in this kernel's language. Templates take ``{seconds}``
        (``sleep``), ``{n}`` and ``{pause}`` (``chatty``: print 0 .. n-1, one line each
        ``pause`` seconds) and ``{n}`` (``lines``: print 1 .. n, one per line).
    """

    name: str
    implementation: str
    language: str
    install: str
    code: Mapping[str, str] = field(default_factory=dict)

    def task(self, name: str, **values: object) -> str:
        """The code for task ``name``, with the template's values filled in."""
        return self.code[name].format(**values)


_PYTHON = {
    "value": "6 * 7",
    "print": "print('hello')",
    "error": "1 / 0",
    "input": "input('name? ')",
    "sleep": "import time\ntime.sleep({seconds})",
    "chatty": (
        "import time\nfor i in range({n}):\n    print(i, flush=True)\n    time.sleep({pause})"
    ),
    "lines": "for i in range(1, {n} + 1):\n    print(i)",
}

#: The kernels the book compares, by kernelspec name.
KERNELS: Mapping[str, OtherKernel] = MappingProxyType(
    {
        "python3": OtherKernel(
            "python3", "ipython", "Python", "pip install ipykernel (requirements.txt)", _PYTHON
        ),
        "xpython": OtherKernel(
            "xpython",
            "xeus-python",
            "Python",
            "pip install xeus-python (requirements.txt)",
            _PYTHON,
        ),
        "ir": OtherKernel(
            "ir",
            "IRkernel",
            "R",
            "apt-get install r-cran-irkernel (Debian, Ubuntu); elsewhere install R, then "
            "install.packages('IRkernel') and IRkernel::installspec() in R",
            {
                "value": "6 * 7",
                "print": 'cat("hello\\n")',
                "error": 'stop("boom")',
                "input": 'readline("name? ")',
                "sleep": "Sys.sleep({seconds})",
                "chatty": 'for (i in 0:({n} - 1)) {{\n  cat(i, "\\n", sep = "")\n'
                "  Sys.sleep({pause})\n}}",
                "lines": 'cat(paste0(1:{n}, "\\n"), sep = "")',
            },
        ),
        "bash": OtherKernel(
            "bash",
            "bash_kernel",
            "bash",
            "pip install bash_kernel (requirements.txt); this module installs its kernelspec",
            {
                "value": "echo $((6 * 7))",
                "print": "echo hello",
                "error": "ls /no/such/folder",
                "input": "read -p 'name? ' name",
                "sleep": "sleep {seconds}",
                "chatty": "for i in $(seq 0 $(({n} - 1))); do echo $i; sleep {pause}; done",
                "lines": "seq 1 {n}",
            },
        ),
    }
)

_bash_prefix: str | None = None


def _bash_kernel_prefix() -> str | None:
    """A temporary prefix holding bash_kernel's kernelspec (installed once per process)."""
    global _bash_prefix
    if _bash_prefix is None:
        try:
            import bash_kernel  # noqa: F401
        except ImportError:
            return None
        prefix = tempfile.mkdtemp(prefix="bash-kernelspec-")
        atexit.register(shutil.rmtree, prefix, ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "bash_kernel.install", "--prefix", prefix],
            check=True,
            capture_output=True,
            timeout=60,
        )
        _bash_prefix = prefix
    return _bash_prefix


def kernel_spec_manager() -> KernelSpecManager:
    """A ``KernelSpecManager`` that sees the usual kernel folders and bash_kernel's spec."""
    manager = KernelSpecManager()
    prefix = _bash_kernel_prefix()
    if prefix is not None:
        folder = str(Path(prefix) / "share" / "jupyter" / "kernels")
        manager.kernel_dirs = [*manager.kernel_dirs, folder]
    return manager


def missing(names: list[str] | None = None) -> dict[str, str]:
    """Kernels of ``names`` (default: all of :data:`KERNELS`) not found: name -> how to install."""
    found = kernel_spec_manager().find_kernel_specs()
    return {n: KERNELS[n].install for n in names or list(KERNELS) if n not in found}


_started: set[KernelManager] = set()


@atexit.register
def _stop_all() -> None:
    """Stop every kernel :func:`running` started and did not stop (an interrupted page)."""
    for manager in list(_started):
        _stop(manager)


def _stop(manager: KernelManager, timeout: float = 5.0) -> None:
    """A ``shutdown_request``, ``timeout`` seconds to exit, then SIGKILL; never raises."""
    try:
        if manager.has_kernel:
            manager.shutdown_wait_time = timeout
            manager.shutdown_kernel(now=not manager.is_alive())
    except Exception:  # noqa: BLE001 - whatever went wrong, the process must go
        with contextlib.suppress(Exception):
            manager.kill_kernel()
    finally:
        manager.cleanup_resources()
        _started.discard(manager)


def _wait_until_answering(manager: KernelManager, deadline: float) -> None:
    """Return once the kernel answers ``kernel_info_request`` on shell."""
    client = manager.client()
    client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
    try:
        why_not = _await_kernel_info(client, deadline, manager.is_alive)
    finally:
        client.stop_channels()
    if why_not == "exited":
        raise KernelStartError(f"kernel {manager.kernel_name!r} exited while starting")
    if why_not:
        raise KernelStartError(
            f"kernel {manager.kernel_name!r} did not answer kernel_info_request before the "
            "startup timeout"
        )


@contextlib.contextmanager
def running(name: str, startup_timeout: float = 60.0) -> Iterator[KernelManager]:
    """Start kernel ``name``; yield its ``KernelManager``; stop it when the block ends.

    The kernel runs in a temporary folder of its own (its working directory and connection
    file), with its output to the terminal discarded. It is stopped when the block ends,
    however it ends: a ``shutdown_request``, 5 s to exit, then SIGKILL; at the end of this
    process if the block was never left; and on Linux by SIGKILL if this process is killed.

    Parameters
    ----------
    name
        A kernelspec name, as ``jupyter kernelspec list`` shows it.
    startup_timeout
        Seconds for the kernel to start and answer ``kernel_info_request``.

    Raises
    ------
    KernelNotInstalledError
        No kernelspec of that name on this machine (the message says how to install it).
    KernelStartError
        The kernel exited while starting or did not answer within ``startup_timeout``.
    """
    folder = tempfile.TemporaryDirectory(prefix=f"kernel-{name}-")
    manager = KernelManager(
        kernel_name=name,
        kernel_spec_manager=kernel_spec_manager(),
        connection_file=str(Path(folder.name) / "kernel.json"),
    )
    try:
        with warnings.catch_warnings():
            # bash_kernel's kernelspec has a "codemirror_mode" field KernelSpec does not know
            warnings.filterwarnings("ignore", "Passing unrecognized arguments", DeprecationWarning)
            manager.kernel_spec  # noqa: B018 - looks the kernelspec up (and keeps it)
    except NoSuchKernel:
        folder.cleanup()
        how = KERNELS[name].install if name in KERNELS else "install it"
        raise KernelNotInstalledError(f"no kernelspec named {name!r} here: {how}") from None
    _started.add(manager)
    try:
        linux = on_parent_death(signal.SIGKILL)  # xeus-python and IRkernel outlive SIGTERM
        manager.start_kernel(
            cwd=folder.name, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **linux
        )
        _wait_until_answering(manager, time.monotonic() + startup_timeout)
        yield manager
    finally:
        _stop(manager)
        folder.cleanup()
