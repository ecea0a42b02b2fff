"""The security page's relay and claims: what a relay on 127.0.0.1 reads with and without
CurveZMQ, forged messages with and without a key, connection file modes."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq
from jupyter_client import BlockingKernelClient, KernelManager

from utils.messaging import execute, reply_to, send
from utils.relay import Relay, execute_relayed, relayed
from utils.run_jupyter_kernel import IPKernelAppProcess, NoReplyError

CODE = 'secret = "swordfish"\nprint(secret.upper())'


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IPKernelAppProcess]:
    """A kernel with a key, its connection file in a folder it creates."""
    folder = tmp_path_factory.mktemp("security")
    with IPKernelAppProcess(connection_file=folder / "runtime" / "kernel.json") as process:
        yield process


def _info(kernel: IPKernelAppProcess) -> dict:
    return json.loads(Path(kernel.connection_file).read_text())


def _forger(info: dict) -> BlockingKernelClient:
    client = BlockingKernelClient(context=zmq.Context.instance())
    client.load_connection_info({**info, "key": ""})
    client.start_channels(stdin=False, hb=False, control=False)
    client.get_iopub_msg(timeout=10)  # the welcome: its subscription works
    return client


def test_relay_forwards_records_and_closes() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:

        def echo_once() -> None:
            conn, _ = server.accept()
            with conn:
                conn.sendall(conn.recv(1024).upper())

        thread = threading.Thread(target=echo_once, daemon=True)
        thread.start()
        relay = Relay(server.getsockname()[1])
        with relay, socket.create_connection(("127.0.0.1", relay.port), timeout=5) as client:
            client.sendall(b"hello")
            assert client.recv(1024) == b"HELLO"
        thread.join(5)
        assert (relay.sent, relay.received, relay.connections) == (b"hello", b"HELLO", 1)
        with pytest.raises(OSError):  # closed: nothing listens on its port any more
            socket.create_connection(("127.0.0.1", relay.port), timeout=2).close()


def test_relayed_refuses_other_addresses() -> None:
    with pytest.raises(ValueError, match="127.0.0.1"):
        with relayed({"ip": "0.0.0.0", "transport": "tcp", "shell_port": 1}, ["shell"]):
            pass


def test_code_and_output_are_readable_without_curve(kernel: IPKernelAppProcess) -> None:
    exchange, relays = execute_relayed(_info(kernel), CODE)
    assert "stream stdout: 'SWORDFISH\\n'" in exchange.summary()
    assert b"swordfish" in relays["shell"].sent
    assert b"SWORDFISH" in relays["iopub"].received
    assert relays["shell"].sent[12:16] == b"NULL"  # the greeting's mechanism


@pytest.mark.skipif(not zmq.has("curve"), reason="libzmq without CurveZMQ")
def test_code_and_output_are_not_readable_with_curve(tmp_path: Path) -> None:
    manager = KernelManager(
        connection_file=str(tmp_path / "curve.json"), transport_encryption="auto"
    )
    manager.start_kernel()
    try:
        info = json.loads(Path(manager.connection_file).read_text())
        assert len(info["curve_publickey"]) == len(info["curve_secretkey"]) == 40
        exchange, relays = execute_relayed(info, CODE)
        assert "stream stdout: 'SWORDFISH\\n'" in exchange.summary()
        sent, received = relays["shell"].sent, relays["iopub"].received
        assert sent[12:17] == b"CURVE"
        assert b"swordfish" not in sent and b"<IDS|MSG>" not in sent
        assert b"SWORDFISH" not in received and b"<IDS|MSG>" not in received
    finally:
        manager.shutdown_kernel(now=True)


def test_forged_message_runs_with_an_empty_key(tmp_path: Path) -> None:
    marker = tmp_path / "forged.txt"
    with IPKernelAppProcess(extra_args=["--Session.key="]) as unsigned:
        assert _info(unsigned)["key"] == ""
        forger = _forger(_info(unsigned))
        try:
            exchange = execute(forger, f"open({str(marker)!r}, 'w').write('ran')")
        finally:
            forger.stop_channels()
    assert exchange.content["status"] == "ok"
    assert marker.exists()


def test_forged_message_is_dropped_with_a_key(kernel: IPKernelAppProcess, tmp_path: Path) -> None:
    marker = tmp_path / "forged.txt"
    forger = _forger(_info(kernel))
    try:
        code = f"open({str(marker)!r}, 'w').write('ran')"
        request = send(forger, "shell", "execute_request", {"code": code})
        with pytest.raises(NoReplyError):
            reply_to(forger, request, timeout=2)
    finally:
        forger.stop_channels()
    deadline = time.monotonic() + 10
    while "Unsigned Message" not in Path(kernel.log_file).read_text():
        assert time.monotonic() < deadline, "the kernel did not log the unsigned message"
        time.sleep(0.05)
    assert not marker.exists()


def test_connection_file_is_0600_in_a_private_folder(kernel: IPKernelAppProcess) -> None:
    path = Path(kernel.connection_file)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o1700  # 0700 and the sticky bit
