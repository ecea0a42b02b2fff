"""Record what travels between a client and a kernel: a TCP relay on 127.0.0.1.

- :class:`Relay` listens on a free port of 127.0.0.1, forwards every connection it accepts to
  one port of 127.0.0.1 (a kernel's shell port, say), and records the bytes both ways, as
  they travel: ZeroMQ's frames, and whatever is inside them, encrypted or not.
- :func:`relayed` puts one relay in front of each of several channels of a kernel and gives
  the connection info a client uses to go through them.
- :func:`execute_relayed` executes one cell with a client whose channels go through relays,
  and returns what the client got and the relays (closed, their recordings kept).

Everything stays on 127.0.0.1; each relay runs one thread, and every wait is bounded.
"""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import zmq
from jupyter_client import BlockingKernelClient

from .messaging import Exchange, execute

__all__ = ["Relay", "RelayError", "execute_relayed", "relayed"]

HOST = "127.0.0.1"


class RelayError(RuntimeError):
    """The relay's thread did not stop in time."""


class Relay:
    """A TCP forwarder from a free port of 127.0.0.1 to ``target_port``, recording both ways.

    Parameters
    ----------
    target_port
        The port of 127.0.0.1 to forward to.
    connect_timeout
        Seconds to wait when connecting to the target, and for a send to complete.

    Notes
    -----
    The relay starts listening at once, in a thread of its own. Stop it with :meth:`close`
    or by leaving a ``with`` block: the thread stops and every socket is closed.
    """

    def __init__(self, target_port: int, connect_timeout: float = 5.0) -> None:
        self.target_port = target_port
        self.connect_timeout = connect_timeout
        self._up: list[bytes] = []  # client to target
        self._down: list[bytes] = []  # target to client
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._selector = selectors.DefaultSelector()
        self._peers: dict[socket.socket, tuple[socket.socket, list[bytes]]] = {}
        self.connections = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((HOST, 0))
        self._listener.listen()
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._run, name=f"relay-{self.port}", daemon=True)
        self._thread.start()

    @property
    def sent(self) -> bytes:
        """Every byte that went from the client to the target so far."""
        with self._lock:
            return b"".join(self._up)

    @property
    def received(self) -> bytes:
        """Every byte that went from the target back to the client so far."""
        with self._lock:
            return b"".join(self._down)

    def _accept(self) -> None:
        client, _ = self._listener.accept()
        try:
            target = socket.create_connection((HOST, self.target_port), self.connect_timeout)
        except OSError:
            client.close()  # nothing listens there: the client sees a closed connection
            return
        for sock in (client, target):
            sock.settimeout(self.connect_timeout)
            self._selector.register(sock, selectors.EVENT_READ)
        self._peers[client] = (target, self._up)
        self._peers[target] = (client, self._down)
        self.connections += 1

    def _drop(self, sock: socket.socket) -> None:
        peer, _ = self._peers.pop(sock)
        self._peers.pop(peer, None)
        for each in (sock, peer):
            try:
                self._selector.unregister(each)
            except (KeyError, ValueError):
                pass
            each.close()

    def _forward(self, sock: socket.socket) -> None:
        peer, record = self._peers[sock]
        try:
            data = sock.recv(65536)
            if data:
                with self._lock:
                    record.append(data)
                peer.sendall(data)
                return
        except OSError:
            pass
        self._drop(sock)  # closed or broken: close both ends

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.05):
                sock = key.fileobj
                if sock is self._listener:
                    self._accept()
                elif sock in self._peers:
                    self._forward(sock)  # type: ignore[arg-type]

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread (waiting at most ``timeout`` s) and close every socket.

        Raises
        ------
        RelayError
            If the thread is still running after ``timeout`` seconds.
        """
        self._stop.set()
        self._thread.join(timeout)
        alive = self._thread.is_alive()
        for sock in list(self._peers):
            if sock in self._peers:
                self._drop(sock)
        self._listener.close()
        self._selector.close()
        if alive:
            raise RelayError(f"relay on port {self.port} did not stop within {timeout} s")

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Relay 127.0.0.1:{self.port} -> 127.0.0.1:{self.target_port}>"


@contextmanager
def relayed(
    info: dict[str, Any], channels: Iterable[str] = ("shell", "iopub")
) -> Iterator[tuple[dict[str, Any], dict[str, Relay]]]:
    """Put a :class:`Relay` in front of each of ``channels`` of a kernel on 127.0.0.1.

    Parameters
    ----------
    info
        The kernel's connection info (``ip`` must be ``127.0.0.1``, ``transport`` ``tcp``).
    channels
        The channels to relay (``shell``, ``iopub``, ``stdin``, ``control``, ``hb``).

    Yields
    ------
    tuple
        A copy of ``info`` whose relayed ports are the relays' ports (give it to a client's
        ``load_connection_info``), and the relays by channel. They are closed on leaving.

    Raises
    ------
    ValueError
        If the kernel is not on ``tcp://127.0.0.1``.
    """
    if info.get("transport", "tcp") != "tcp" or info.get("ip") != HOST:
        raise ValueError(f"relays only go to tcp://{HOST}, not {info.get('ip')!r}")
    with ExitStack() as stack:
        relays = {name: stack.enter_context(Relay(info[f"{name}_port"])) for name in channels}
        yield {**info, **{f"{name}_port": r.port for name, r in relays.items()}}, relays


def execute_relayed(
    info: dict[str, Any],
    code: str,
    channels: Iterable[str] = ("shell", "iopub"),
    timeout: float = 30.0,
) -> tuple[Exchange, dict[str, Relay]]:
    """Execute ``code`` with a client whose ``channels`` go through relays.

    The client reads every field of ``info`` it knows (the HMAC key, CurveZMQ keys if any),
    waits until the kernel answers (``wait_for_ready``), runs :func:`utils.messaging.execute`,
    and is stopped; so are the relays.

    Parameters
    ----------
    info
        The kernel's connection info, on ``tcp://127.0.0.1``.
    code
        The code to execute.
    channels
        The channels to relay; the others go straight to the kernel.
    timeout
        Seconds to wait for the kernel to answer, and for the execution's reply and ``idle``.

    Returns
    -------
    tuple
        The :class:`~utils.messaging.Exchange`, and the relays by channel: their ``sent`` and
        ``received`` hold what crossed them.
    """
    with relayed(info, channels) as (via, relays):
        client = BlockingKernelClient(context=zmq.Context.instance())
        client.load_connection_info(via)
        client.start_channels(stdin=False, hb=False, control=False)
        try:
            client.wait_for_ready(timeout=timeout)
            exchange = execute(client, code, timeout=timeout)
        finally:
            client.stop_channels()
    return exchange, relays
