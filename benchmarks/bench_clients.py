"""Latency of one small execution through each client implementation of the book, in one run.

Run from the repository root::

    python benchmarks/bench_clients.py [--calls 50] [--json]

Each way executes ``1`` and waits until the kernel is idle again (or, for the console, until
the next prompt). The plain blocking loop is the baseline; ratios are against it. The first
websocket ways open one websocket per call, as a short-lived tool would; the two "reused" ways
keep one websocket (subprotocol v1.kernel.websocket.jupyter.org) open for all calls, as
JupyterLab does: a Python client on tornado, and JupyterLab's own client library,
@jupyterlab/services, in Node (node/run_task.mjs --bench, timed inside Node; it needs
``npm ci --prefix node`` and is skipped with a message without it). nbclient runs a one-cell
notebook per call, kernel start included. Nothing here is a test: the numbers are for reading.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import nbformat
import pexpect

# run as a script, this file's folder is on sys.path: reuse the baseline of the other benchmark
from bench_get_messages import connected_client, drain_until_idle
from jupyter_client import AsyncKernelClient
from jupyter_client.threaded import ThreadedKernelClient, ThreadedZMQSocketChannel
from nbclient import NotebookClient

from utils.jupyter_servers import (
    V1,
    RunningServer,
    encode_v1,
    request,
    start_jupyter_server,
    start_kernel_gateway,
    ws_connect,
    ws_execute,
    ws_receive,
)
from utils.node_client import NodeMissingError, run_node_script
from utils.run_jupyter_kernel import IPKernelAppProcess, get_messages

ROOT = Path(__file__).resolve().parents[1]
CODE = "1"


def timed(call: Callable[[], object], calls: int) -> list[float]:
    call()  # warm up: first connection, imports
    samples = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def threaded_way(connection_file: str) -> tuple[Callable[[], None], Callable[[], None]]:
    state: dict[str, object] = {"msg_id": None, "idle": threading.Event()}

    class IOPub(ThreadedZMQSocketChannel):
        def call_handlers(self, msg: dict) -> None:
            state.setdefault("subscribed", True)
            if (
                msg["parent_header"].get("msg_id") == state["msg_id"]
                and msg["msg_type"] == "status"
            ):
                if msg["content"]["execution_state"] == "idle":
                    state["idle"].set()  # type: ignore[attr-defined]

    client = ThreadedKernelClient(iopub_channel_class=IOPub)
    client.load_connection_file(connection_file)
    client.start_channels()
    deadline = time.monotonic() + 30
    while "subscribed" not in state and time.monotonic() < deadline:
        client.kernel_info()  # any iopub message proves the subscription (slow joiner)
        time.sleep(0.05)

    def call() -> None:
        state["idle"].clear()  # type: ignore[attr-defined]
        # The id is stored before the request is sent: the client's thread may handle the
        # idle before client.execute() would have returned it.
        content = {
            "code": CODE,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        msg = client.session.msg("execute_request", content)
        state["msg_id"] = msg["header"]["msg_id"]
        client.shell_channel.send(msg)
        assert state["idle"].wait(30)  # type: ignore[attr-defined]

    return call, client.stop_channels


def scratch_client_class() -> type:
    page = ROOT / "notebooks" / "clients" / "a-client-from-scratch.ipynb"
    cells = [
        c for c in nbformat.read(page, 4).cells if "scratch-client" in c.metadata.get("tags", [])
    ]
    namespace: dict[str, object] = {}
    exec(compile(cells[0].source, str(page), "exec"), namespace)
    return namespace["ScratchClient"]  # type: ignore[return-value]


def console_way(connection_file: str, folder: str) -> tuple[Callable[[], None], Callable[[], None]]:
    private = {n: folder for n in ("JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR", "IPYTHONDIR")}
    console = pexpect.spawn(
        sys.executable,
        ["-m", "jupyter_console", "--existing", connection_file, "--simple-prompt"],
        env={**os.environ, **private, "TERM": "dumb"},
        encoding="utf-8",
        timeout=30,
    )
    console.expect(r"In \[\d+\]: ")

    def call() -> None:
        console.sendline(CODE)
        console.expect(r"In \[\d+\]: ")

    def stop() -> None:
        console.terminate(force=True)

    return call, stop


async def reused_websocket(server: RunningServer, kernel_id: str, calls: int) -> list[float]:
    """One v1 websocket for all calls (after one warm-up), each until its reply and idle."""
    ws = await ws_connect(server, kernel_id, session_id=uuid.uuid4().hex, subprotocols=[V1])
    try:
        assert ws.selected_subprotocol == V1
        samples = []
        for _ in range(calls + 1):
            msg = request("execute_request", {"code": CODE, "silent": False})
            start = time.perf_counter()
            await ws.write_message(encode_v1("shell", msg), binary=True)
            await ws_receive(ws, msg["header"]["msg_id"], timeout=30)
            samples.append(time.perf_counter() - start)
        return samples[1:]
    finally:
        ws.close()


def jupyterlab_services(server: RunningServer, calls: int) -> list[float] | None:
    """@jupyterlab/services in Node, on a kernel of its own: its `done` times, or None."""
    try:
        events = run_node_script(
            "run_task.mjs", server.base, server.token, "--bench", str(calls), "--timeout",
            str(30 + calls), timeout=60 + calls,
        )  # fmt: skip
    except NodeMissingError as error:
        print(f"@jupyterlab/services skipped: {error}", file=sys.stderr)
        return None
    return next(e["seconds"] for e in events if e["event"] == "bench")


def measure(calls: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder, IPKernelAppProcess() as kernel:
        cf = kernel.connection_file
        plain = connected_client(cf)
        results["blocking (plain loop)"] = timed(
            lambda: drain_until_idle(plain, plain.execute(CODE)), calls
        )
        results["get_messages (reused client)"] = timed(
            lambda: get_messages(client=plain, code=CODE), calls
        )

        async def async_calls() -> list[float]:
            client = AsyncKernelClient()
            client.load_connection_file(cf)
            client.start_channels()
            await client.wait_for_ready(timeout=30)
            samples = []
            for _ in range(calls + 1):
                start = time.perf_counter()
                await client.execute_interactive(CODE, output_hook=lambda msg: None, timeout=30)
                samples.append(time.perf_counter() - start)
            client.stop_channels()
            return samples[1:]

        results["async (execute_interactive)"] = asyncio.run(async_calls())
        call, stop = threaded_way(cf)
        results["threaded (callbacks)"] = timed(call, calls)
        stop()
        scratch = scratch_client_class()(json.loads(Path(cf).read_text()))
        scratch.wait_for_iopub()
        results["scratch pyzmq client"] = timed(lambda: scratch.execute(CODE), calls)
        scratch.close()
        call, stop = console_way(cf, folder)
        results["jupyter console (pexpect)"] = timed(call, calls)
        stop()
        plain.stop_channels()

        with start_jupyter_server(folder) as server:
            _, k = server.api("POST", "/api/kernels", {"name": "python3"})
            results["jupyter_server websocket"] = timed(
                lambda: asyncio.run(ws_execute(server, k["id"], CODE)), calls
            )
            results["jupyter_server websocket (reused, v1)"] = asyncio.run(
                reused_websocket(server, k["id"], calls)
            )
            node = jupyterlab_services(server, calls)
            if node is not None:
                results["@jupyterlab/services (Node, reused, v1)"] = node
        with start_kernel_gateway(folder) as gateway:
            options = [
                f"--gateway-url={gateway.base}",
                f"--GatewayClient.auth_token={gateway.token}",
            ]
            with start_jupyter_server(folder, *options) as server:
                _, k = server.api("POST", "/api/kernels", {"name": "python3"})
                results["via Kernel Gateway"] = timed(
                    lambda: asyncio.run(ws_execute(server, k["id"], CODE)), calls
                )

        def one_cell_notebook() -> None:
            nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CODE)])
            NotebookClient(nb, kernel_name="python3", timeout=30).execute(
                stdout=open(os.devnull, "wb"), stderr=open(os.devnull, "wb")
            )

        results["nbclient (one-cell notebook)"] = timed(one_cell_notebook, max(3, calls // 10))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50, help="executions per way")
    parser.add_argument("--json", action="store_true", help="print medians in seconds as JSON")
    args = parser.parse_args()
    results = measure(args.calls)
    medians = {name: statistics.median(values) for name, values in results.items()}
    if args.json:
        print(json.dumps({"calls": args.calls, "median_seconds": medians}))
        return
    base = medians["blocking (plain loop)"]
    print(f"{'way':40} {'n':>4} {'median ms':>10} {'ratio':>8}")
    for name, values in results.items():
        print(f"{name:40} {len(values):4d} {medians[name] * 1e3:10.2f} {medians[name] / base:8.2f}")


if __name__ == "__main__":
    main()
