"""Run an IPython kernel in a child process and collect the messages of one execution.

Two tools carry the book:

- :class:`IPKernelAppProcess` starts ``python -m ipykernel_launcher`` in a child process
  and returns once the kernel answers; :meth:`IPKernelAppProcess.shutdown` (or leaving the
  ``with`` block, or the end of the parent process) stops it.
- :func:`get_messages` executes code on a kernel and returns the iopub messages of that
  execution, from ``status: busy`` to ``status: idle``, the moment ``idle`` arrives.

Every wait is bounded and every failure raises a subclass of :class:`KernelError`.
"""

from __future__ import annotations

import atexit
import json
import os
import socket as socket_module
import subprocess
import sys
import sysconfig
import tempfile
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from queue import Empty
from typing import Any

import zmq
from jupyter_client.blocking import BlockingKernelClient

__all__ = [
    "ConnectionFileError",
    "ConnectionFileInUseError",
    "ExecutionTimeoutError",
    "IPKernelAppProcess",
    "KernelDiedError",
    "KernelError",
    "KernelStartError",
    "MessagesLostError",
    "NoReplyError",
    "get_messages",
    "load_connection_info",
    "parent_id",
    "summarize",
]

REQUIRED_FIELDS = ("ip", "key", "transport", "shell_port", "iopub_port", "hb_port")
HEARTBEAT_TIMEOUT = 1.0  # seconds without a heartbeat echo before a kernel counts as dead
SILENCE_BEFORE_HEARTBEAT = 0.5  # seconds of iopub silence before the heartbeat is checked
IDLE_AFTER_REPLY = 5.0  # seconds of iopub silence after the execute_reply before idle is lost
KEY_CHECK_AFTER = 2.0  # seconds without any answer before we ask control whether our key works
WRONG_KEY = "the kernel does not accept our messages: the connection file's key is likely wrong"


class KernelError(Exception):
    """Base class of every error raised by this module.

    ``messages`` holds the iopub messages received before the error, so nothing is lost.
    """

    def __init__(self, message: str, messages: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.messages: list[dict[str, Any]] = list(messages or [])


class ConnectionFileError(KernelError, ValueError):
    """The connection file is missing, is not JSON, or lacks a required field."""


class ConnectionFileInUseError(KernelError, FileExistsError):
    """The connection file belongs to a kernel that is still alive."""


class KernelStartError(KernelError, RuntimeError):
    """The kernel process exited, or did not answer, while starting."""


class ExecutionTimeoutError(KernelError, TimeoutError):
    """The execution did not reach ``status: idle`` within the timeout."""


class KernelDiedError(KernelError, RuntimeError):
    """The kernel stopped answering its heartbeat while we waited for it."""


class NoReplyError(KernelError, TimeoutError):
    """The kernel is alive but ignores our requests, or signs with another key."""


class MessagesLostError(KernelError, RuntimeError):
    """The execution ended (its ``execute_reply`` came) but its ``status: idle`` never did."""


# --------------------------------------------------------------------------- connection files


def load_connection_info(connection_file: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a connection file.

    Parameters
    ----------
    connection_file
        Path of a kernel connection file.

    Returns
    -------
    dict
        The parsed connection info.

    Raises
    ------
    ConnectionFileError
        If the file does not exist, is not a JSON object, or lacks a required field.
    """
    path = Path(connection_file)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConnectionFileError(f"connection file {str(path)!r} does not exist") from None
    except OSError as error:
        raise ConnectionFileError(f"cannot read connection file {str(path)!r}: {error}") from None
    try:
        info = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConnectionFileError(f"connection file {str(path)!r} is not JSON: {error}") from None
    if not isinstance(info, dict):
        raise ConnectionFileError(f"connection file {str(path)!r} is not a JSON object")
    missing = [field for field in REQUIRED_FIELDS if field not in info]
    if missing:
        raise ConnectionFileError(
            f"connection file {str(path)!r} lacks the field(s) {', '.join(missing)}"
        )
    return info


def parent_id(msg: dict[str, Any]) -> str | None:
    """The ``msg_id`` of the request ``msg`` answers, or None.

    The spec makes ``parent_header`` an empty dict when a message has no parent; some
    kernels send ``null`` instead (xeus-python's ``iopub_welcome``), which this accepts.
    """
    return (msg.get("parent_header") or {}).get("msg_id")


def _connect(info: dict[str, Any], iopub: bool = True) -> BlockingKernelClient:
    """Return a client with only its shell (and iopub) channels started (the shared context)."""
    client = BlockingKernelClient(context=zmq.Context.instance())
    client.load_connection_info(info)
    client.start_channels(shell=True, iopub=iopub, stdin=False, hb=False, control=False)
    return client


def _heartbeat_answers(client: BlockingKernelClient, timeout: float = HEARTBEAT_TIMEOUT) -> bool:
    """Send one ping on the heartbeat channel; True if it is echoed within ``timeout``."""
    socket = client.connect_hb()
    try:
        socket.send(b"ping")
        return bool(socket.poll(int(timeout * 1000)))
    finally:
        socket.close(linger=0)


def _accepts(client: BlockingKernelClient, port: int, timeout: float) -> bool:
    """True if a TCP (or ipc) connection to one of the kernel's ports is accepted."""
    if client.transport == "ipc":
        address: Any = f"{client.ip}-{port}"
        family = socket_module.AF_UNIX
    else:
        address = (client.ip, port)
        family = socket_module.AF_INET6 if ":" in client.ip else socket_module.AF_INET
    probe = socket_module.socket(family, socket_module.SOCK_STREAM)
    probe.settimeout(timeout)
    try:
        probe.connect(address)
        # Linux can connect a socket to itself when its ephemeral port is the one it
        # connects to and nothing listens there: that is not a kernel.
        return family == socket_module.AF_UNIX or probe.getsockname() != probe.getpeername()
    except OSError:
        return False
    finally:
        probe.close()


def _listening(client: BlockingKernelClient, timeout: float = 1.0) -> bool:
    """True if something still accepts connections at the kernel's heartbeat and shell ports.

    The operating system accepts a connection for a process that is alive even while the
    process itself is too busy to answer, and refuses it once the process is gone. That
    tells a dead kernel from one whose heartbeat is silent only because it is executing:
    IRkernel, for one, echoes pings from its main loop, not from a thread of their own.
    Both ports must accept: a port freed by a dead kernel may be taken by another process,
    two of them at once hardly.
    """
    return all(_accepts(client, port, timeout) for port in (client.hb_port, client.shell_port))


class _Liveness:
    """Decides, during a silence, whether a kernel is gone, busy, or ignoring our key."""

    def __init__(self, client: BlockingKernelClient) -> None:
        self.client = client
        self.last_check = time.monotonic()
        self.heartbeat_silent = False  # its port accepts connections, its heartbeat is silent

    def check(self, during: str, messages: list[dict[str, Any]] | None = None) -> None:
        """Check after ``SILENCE_BEFORE_HEARTBEAT`` quiet seconds; raise if the kernel is gone.

        A heartbeat that does not echo is checked no more: from then on a refused connection
        to its port (milliseconds, not the ping's second) tells that the process is gone.
        """
        if time.monotonic() - self.last_check < SILENCE_BEFORE_HEARTBEAT:
            return
        if not self.heartbeat_silent and _heartbeat_answers(self.client):
            self.last_check = time.monotonic()
            return
        if not _listening(self.client):
            raise KernelDiedError(
                f"the kernel stopped answering its heartbeat {during}, and its heartbeat port "
                "refuses connections: its process is gone",
                messages,
            )
        self.heartbeat_silent = True
        self.last_check = time.monotonic()

    def why_no_answer(self) -> str:
        """A sentence for a timeout: what the heartbeat said about the kernel."""
        if self.heartbeat_silent:
            return (
                "the kernel's process is alive (its heartbeat port accepts connections) but "
                "its heartbeat did not answer: it is busy in a way that stops its heartbeat "
                "(a kernel that answers pings from its main loop, like IRkernel, does not while "
                "it executes) or it hangs"
            )
        return "the kernel is alive (its heartbeat answers)"


# --------------------------------------------------------------------------- the kernel process

_running: set[IPKernelAppProcess] = set()


@atexit.register
def _shutdown_all() -> None:
    """Stop every kernel this process started and did not stop yet."""
    for kernel in list(_running):
        kernel.shutdown()


def _kernel_class_argument(kernel_class: type | None) -> tuple[list[str], str | None]:
    """Return the launcher argument naming ``kernel_class``, and a folder to put on its path."""
    if kernel_class is None:
        return [], None
    module_name = kernel_class.__module__
    module = sys.modules.get(module_name)
    module_file = getattr(module, "__file__", None)
    if module_name == "__main__" or "<locals>" in kernel_class.__qualname__ or not module_file:
        raise ValueError(
            f"kernel_class {kernel_class.__qualname__} must be defined at the top level of an "
            "importable module file (not in __main__ or a notebook cell): the kernel runs "
            "in another process, which imports it by name"
        )
    root = Path(module_file).resolve().parent
    for _ in range(module_name.count(".") + (Path(module_file).stem == "__init__")):
        root = root.parent
    site_dirs = {sysconfig.get_paths()[name] for name in ("purelib", "platlib")}
    folder = None if str(root) in site_dirs else str(root)
    return [f"--IPKernelApp.kernel_class={module_name}.{kernel_class.__qualname__}"], folder


class IPKernelAppProcess:
    """An ipykernel ``IPKernelApp`` running in a child process.

    The constructor returns once the connection file exists and the kernel has answered a
    ``kernel_info_request``. The kernel is stopped by :meth:`shutdown`, by leaving a
    ``with`` block, at the normal exit of this process, and within about a second if this
    process is killed (ipykernel's parent poller watches our pid).

    Parameters
    ----------
    connection_file
        Where the kernel writes its connection file (random ports, random HMAC key,
        127.0.0.1, mode 0600). Default: a new temporary directory. An existing file of a
        live kernel raises :class:`ConnectionFileInUseError`; a stale one is replaced.
    kernel_class
        A ``Kernel`` subclass defined in an importable module; default ``IPythonKernel``.
    extra_args
        More command-line arguments for ``ipykernel_launcher``.
    startup_timeout
        Seconds to wait for the kernel to answer.

    Raises
    ------
    KernelStartError
        If the kernel process exits, or does not answer within ``startup_timeout``.
    """

    def __init__(
        self,
        connection_file: str | os.PathLike[str] | None = None,
        kernel_class: type | None = None,
        extra_args: list[str] | tuple[str, ...] = (),
        startup_timeout: float = 60.0,
    ) -> None:
        class_args, module_folder = _kernel_class_argument(kernel_class)
        if connection_file is not None:
            _refuse_live_connection_file(str(connection_file))
        self._workdir = Path(tempfile.mkdtemp(prefix="ipkernel-"))  # the log, the default file
        if connection_file is None:
            connection_file = self._workdir / "kernel.json"
        self.connection_file = str(Path(connection_file).absolute())
        self.log_file = str(self._workdir / "kernel.log")
        self.connection_info: dict[str, Any] = {}

        # JPY_* would tell the kernel about a parent kernel's set-up; PYTEST_CURRENT_TEST makes
        # ipykernel skip capturing output written to file descriptors 1 and 2: a kernel
        # started under a test run then behaves unlike the one a reader starts.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("JPY_") and k != "PYTEST_CURRENT_TEST"
        }
        if module_folder:
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [module_folder, env.get("PYTHONPATH")])
            )
        command = [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            self.connection_file,
            f"--IPKernelApp.parent_handle={os.getpid()}",
            *class_args,
            *extra_args,
        ]
        with open(self.log_file, "wb") as log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                start_new_session=True,  # Ctrl-C in our terminal interrupts us, not the kernel
            )  # fmt: skip
        _running.add(self)
        try:
            self._wait_until_answering(time.monotonic() + startup_timeout)
        except BaseException:
            self.shutdown()
            raise

    @property
    def pid(self) -> int:
        """Process id of the kernel."""
        return self.process.pid

    def is_alive(self) -> bool:
        """True while the kernel process has not exited."""
        return self.process.poll() is None

    def _fail(self, reason: str) -> KernelStartError:
        log_file = Path(self.log_file)
        log = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
        return KernelStartError(f"kernel (pid {self.pid}) {reason}; its log ends with:\n{log}")

    def _wait_until_answering(self, deadline: float) -> None:
        """Wait for the connection file, then for a ``kernel_info_reply``."""
        while True:
            if not self.is_alive():
                raise self._fail(f"exited with code {self.process.returncode} while starting")
            if time.monotonic() > deadline:
                raise self._fail("wrote no connection file before the startup timeout")
            try:
                self.connection_info = load_connection_info(self.connection_file)
                break
            except ConnectionFileError:  # not written yet, or half written
                time.sleep(0.005)
        # shell only: the caller's first iopub subscriber should be the kernel's first one
        client = _connect(self.connection_info, iopub=False)
        try:
            why_not = _await_kernel_info(client, deadline, self.is_alive)
        finally:
            client.stop_channels()
        if why_not == "exited":
            raise self._fail(f"exited with code {self.process.returncode}")
        if why_not:
            raise self._fail("did not answer before the startup timeout")

    def shutdown(self, timeout: float = 2.0) -> None:
        """Stop the kernel: a ``shutdown_request``, then SIGTERM, then SIGKILL.

        Each step gets ``timeout`` seconds. An IPython kernel exits on the request within a
        fraction of a second; ipykernel 7.4 wrapper kernels sometimes hang while joining their
        control thread after replying, and are then ended by SIGTERM. Removes the connection
        file and the log. Safe to call more than once.
        """
        if self.is_alive() and self.connection_info:
            client = BlockingKernelClient(context=zmq.Context.instance())
            client.load_connection_info(self.connection_info)
            client.start_channels(shell=False, iopub=False, stdin=False, hb=False, control=True)
            client.shutdown()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
            client.stop_channels()
        for stop in (self.process.terminate, self.process.kill):
            if self.is_alive():
                stop()
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    pass
        Path(self.connection_file).unlink(missing_ok=True)
        Path(self.log_file).unlink(missing_ok=True)
        if self._workdir.exists():
            for leftover in self._workdir.iterdir():
                leftover.unlink()
            self._workdir.rmdir()
        _running.discard(self)

    def __enter__(self) -> IPKernelAppProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        state = "alive" if self.is_alive() else f"exited({self.process.returncode})"
        return f"<IPKernelAppProcess pid={self.pid} {state} {self.connection_file!r}>"


def _await_kernel_info(
    client: BlockingKernelClient, deadline: float, alive: Callable[[], bool]
) -> str | None:
    """Send ``kernel_info_request`` on shell and wait for its reply.

    Returns None once the reply has come, ``"exited"`` if ``alive()`` turns false first, or
    ``"timeout"`` at ``deadline``.
    """
    msg_id = client.kernel_info()
    while True:
        try:
            reply = client.get_shell_msg(timeout=0.1)
        except Empty:
            if not alive():
                return "exited"
            if time.monotonic() > deadline:
                return "timeout"
            continue
        if parent_id(reply) == msg_id:
            return None


def _refuse_live_connection_file(path: str) -> None:
    """Raise if ``path`` belongs to a live kernel; delete it if it is stale."""
    if not Path(path).exists():
        return
    info = load_connection_info(path)  # a file that is no connection file is not ours to delete
    client = BlockingKernelClient(context=zmq.Context.instance())
    client.load_connection_info(info)
    if _heartbeat_answers(client):
        raise ConnectionFileInUseError(
            f"connection file {path!r} belongs to a kernel that is alive (its heartbeat answers); "
            "pick another path or shut that kernel down"
        )
    Path(path).unlink()


# --------------------------------------------------------------------------- executing code

# iopub sockets of callers' clients known to receive: they skip the subscription probe.
_subscribed: weakref.WeakSet[zmq.Socket] = weakref.WeakSet()


def _wait_for_subscription(client: BlockingKernelClient, deadline: float) -> None:
    """Return once the client's iopub SUB socket is known to receive.

    A new subscription takes effect some time after ``connect`` (ZeroMQ's slow joiner):
    anything the kernel publishes before then is lost to this socket. Any message that
    arrives proves the subscription works: ``iopub_welcome`` (sent when a subscription is
    new to the kernel's XPUB socket, by kernels of spec 5.4 and later) or the ``status`` of a
    ``kernel_info_request`` we send as a probe (needed while another client is subscribed,
    when no welcome comes, and with kernels that send none).

    While nothing arrives, the heartbeat and its port tell a dead kernel from a live one.
    A ``kernel_info_request`` on control (served even while shell is busy, by kernels that
    serve control from a thread of its own) tells a busy kernel from one that drops our
    messages because they are signed with the wrong key; it is asked only of a kernel whose
    heartbeat answers, since a kernel that answers nothing while busy would look the same.
    """
    started = time.monotonic()
    probe_interval, next_probe = 0.05, started
    control_checked = False
    liveness = _Liveness(client)
    while True:
        now = time.monotonic()
        if now >= next_probe:
            client.kernel_info()
            next_probe = now + probe_interval
            probe_interval = min(probe_interval * 2, 1.0)
        if _receive(client, timeout=min(next_probe, deadline) - now) is not None:
            return
        liveness.check("while we waited for our subscription")
        now = time.monotonic()
        if not (control_checked or liveness.heartbeat_silent) and now - started >= KEY_CHECK_AFTER:
            control_checked = True
            if not _control_answers(client):
                raise NoReplyError(
                    f"{WRONG_KEY}\nthe kernel is alive (its heartbeat answers) but answers no "
                    "request, not even kernel_info_request on control: it drops messages whose "
                    "HMAC signature does not match its key"
                )
        if now >= deadline:
            on_control = " and on control" if control_checked else ""
            raise ExecutionTimeoutError(
                f"{liveness.why_no_answer()}{on_control}, but its shell did not take our "
                "request before the timeout: it is busy with another request"
            )


def _control_answers(client: BlockingKernelClient, timeout: float = 2.0) -> bool:
    """Send ``kernel_info_request`` on the control channel; True if a reply comes."""
    socket = client.connect_control()
    try:
        client.session.send(socket, "kernel_info_request")
        return bool(socket.poll(int(timeout * 1000)))
    finally:
        socket.close(linger=0)


def _receive(client: BlockingKernelClient, timeout: float) -> dict[str, Any] | None:
    """One iopub message, or None after ``timeout`` seconds; a bad signature raises NoReplyError."""
    try:
        return client.get_iopub_msg(timeout=max(timeout, 0))
    except Empty:
        return None
    except ValueError:  # jupyter_client's Session: "Invalid Signature"
        raise NoReplyError(
            f"{WRONG_KEY}\na message from the kernel on iopub failed HMAC verification "
            "with the connection file's key"
        ) from None


def get_messages(
    connection_file: str | os.PathLike[str] | None = None,
    code: str = "",
    timeout: float = 60.0,
    *,
    client: BlockingKernelClient | None = None,
) -> list[dict[str, Any]]:
    """Execute ``code`` and return the iopub messages of that execution.

    The list runs from ``status: busy`` to ``status: idle`` of our ``execute_request``, in
    the order the kernel sent them, and holds nothing else. It is returned as soon as
    ``idle`` arrives.

    Parameters
    ----------
    connection_file
        The kernel's connection file; a new connection is made and closed for this call.
    code
        The code to execute (with ``allow_stdin=False``: ``input()`` raises in the kernel).
    timeout
        Seconds for the whole call.
    client
        A client whose shell and iopub channels are started, instead of ``connection_file``.
        Its iopub messages of other requests read meanwhile are dropped, and the
        ``execute_reply`` stays in its shell channel.

    Returns
    -------
    list of dict
        The messages, as ``jupyter_client`` deserializes them.

    Raises
    ------
    ConnectionFileError
        Missing or malformed connection file.
    ExecutionTimeoutError
        ``idle`` did not arrive within ``timeout``; ``.messages`` holds what did, and the
        message says whether the kernel started the request and what its heartbeat said.
    KernelDiedError
        The kernel's process is gone: its heartbeat stopped answering and its heartbeat port
        refuses connections (noticed within about 1.5 s). A kernel whose heartbeat is silent
        while it executes (IRkernel) but whose port accepts connections is waited for.
    MessagesLostError
        The ``execute_reply`` came (checked only on a connection of our own) but no ``idle``
        within 5 s of iopub silence after it: messages were dropped; ``.messages`` holds what
        came. xeus-python 0.19 drops iopub messages when a cell writes a few thousand outputs
        faster than its subscriber reads them.
    NoReplyError
        The kernel's heartbeat answers but it answers no request, not even on control
        (noticed within about 4 s), or it signs with another key: most likely a wrong key.
    ValueError
        A ``timeout`` that is not a positive number.
    """
    if not isinstance(code, str):
        raise TypeError(f"code must be a str, not {type(code).__name__}")
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    if (connection_file is None) == (client is None):
        raise TypeError("pass exactly one of connection_file and client")
    own_client = client is None
    if own_client:
        client = _connect(load_connection_info(connection_file))
    deadline = time.monotonic() + timeout
    try:
        if own_client or client.iopub_channel.socket not in _subscribed:
            _wait_for_subscription(client, deadline)
            if not own_client:
                _subscribed.add(client.iopub_channel.socket)
        msg_id = client.execute(code, allow_stdin=False)
        return _collect(client, msg_id, deadline, watch_shell=own_client)
    finally:
        if own_client:
            client.stop_channels()


def _reply_arrived(client: BlockingKernelClient, msg_id: str) -> bool:
    """Read what waits on shell (our own client's: nothing else reads it); True if the reply."""
    while True:
        try:
            reply = client.get_shell_msg(timeout=0)
        except Empty:
            return False
        if parent_id(reply) == msg_id:
            return True


def _collect(
    client: BlockingKernelClient, msg_id: str, deadline: float, watch_shell: bool = False
) -> list[dict[str, Any]]:
    """Read iopub until ``status: idle`` for ``msg_id``; check on the kernel when it is quiet.

    With ``watch_shell`` (a client of our own), a quiet iopub is also a moment to look for the
    ``execute_reply``: once it has come, ``idle`` follows at once, so iopub silent for
    :data:`IDLE_AFTER_REPLY` seconds after it means the kernel's messages were dropped on the
    way (a ZeroMQ PUB socket drops messages for a subscriber that falls behind).
    """
    messages: list[dict[str, Any]] = []
    liveness = _Liveness(client)
    replied_at: float | None = None
    while True:
        now = time.monotonic()
        if now >= deadline:
            received = ", ".join(summarize(messages)) or "nothing"
            started = "" if messages else " (it never started it: no status: busy)"
            raise ExecutionTimeoutError(
                f"no status: idle for execute_request {msg_id} before the timeout{started}; "
                f"{liveness.why_no_answer()}; received: {received}",
                messages,
            )
        msg = _receive(client, timeout=min(deadline - now, SILENCE_BEFORE_HEARTBEAT))
        if msg is None:
            if watch_shell and replied_at is None and _reply_arrived(client, msg_id):
                replied_at = time.monotonic()
            if replied_at is not None and time.monotonic() - replied_at >= IDLE_AFTER_REPLY:
                raise MessagesLostError(
                    f"the execute_reply of {msg_id} came but its status: idle did not, "
                    f"{IDLE_AFTER_REPLY:g} s later: the kernel's iopub messages were dropped on "
                    f"the way; kept: {len(messages)} message(s)",
                    messages,
                )
            liveness.check(f"during {msg_id}", messages)
            continue
        liveness.last_check = time.monotonic()
        if parent_id(msg) != msg_id:
            continue
        if not messages and not _is_status(msg, "busy"):
            raise KernelError(f"the first message for {msg_id} was not status: busy", [msg])
        messages.append(msg)
        if _is_status(msg, "idle"):
            return messages


def _is_status(msg: dict[str, Any], state: str) -> bool:
    return msg["msg_type"] == "status" and msg["content"].get("execution_state") == state


# --------------------------------------------------------------------------- showing messages


def summarize(messages: list[dict[str, Any]]) -> list[str]:
    """One short, stable line per message: its type and the part of its content that matters.

    Examples: ``status: busy``, ``execute_result: 84``, ``stream stdout: 'hello\\n'``.
    Consecutive ``stream`` messages of one stream are joined into one line: the kernel
    flushes output on a timer, so one ``print`` may arrive in one message or in several.
    """
    lines: list[str] = []
    stream_text: dict[str, str] = {}  # the stream being joined, if the previous message was one
    for msg in messages:
        kind, content = msg["msg_type"], msg.get("content", {})
        if kind == "stream" and content.get("name") in stream_text:
            stream_text[content["name"]] += content.get("text", "")
            lines[-1] = f"stream {content['name']}: {stream_text[content['name']]!r}"
            continue
        stream_text = {}
        if kind == "status":
            lines.append(f"status: {content.get('execution_state')}")
        elif kind == "stream":
            stream_text = {content.get("name"): content.get("text", "")}
            lines.append(f"stream {content.get('name')}: {content.get('text')!r}")
        elif kind == "execute_input":
            lines.append(f"execute_input: {content.get('code')!r}")
        elif kind in ("execute_result", "display_data", "update_display_data"):
            data = content.get("data", {})
            lines.append(f"{kind}: {data.get('text/plain', sorted(data))}")
        elif kind == "error":
            lines.append(f"error: {content.get('ename')}: {content.get('evalue')}")
        else:
            lines.append(kind)
    return lines
