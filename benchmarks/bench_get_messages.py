"""Benchmark ``utils.run_jupyter_kernel`` against plain jupyter_client, in one run.

Run from the repository root::

    python benchmarks/bench_get_messages.py [--calls 200] [--starts 5]

It prints medians, and ratios against the plain loop with the targets the tools aim for:

- ``get_messages`` with a fresh connection per call: within 3x a plain execute-and-drain loop;
- ``get_messages`` with a reused client: within 1.1x of that loop;
- ``IPKernelAppProcess`` start-to-answer: within 1.5x of ``KernelManager.start_kernel()``
  plus ``wait_for_ready()``.

Every kind of call is measured in interleaved rounds on the same kernel, so slow phases of
the machine hit all of them alike. Nothing here is a test: the numbers are for reading.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from queue import Empty

from jupyter_client import KernelManager
from jupyter_client.blocking import BlockingKernelClient

from utils.run_jupyter_kernel import IPKernelAppProcess, get_messages

CODE = "1"


def connected_client(connection_file: str) -> BlockingKernelClient:
    """A client ready to use: channels started and ``wait_for_ready`` passed."""
    client = BlockingKernelClient()
    client.load_connection_file(connection_file)
    client.start_channels()
    client.wait_for_ready(timeout=30)
    return client


def drain_until_idle(client: BlockingKernelClient, msg_id: str) -> list[dict]:
    """The plain jupyter_client way: read iopub until ``idle`` for our request."""
    messages = []
    while True:
        msg = client.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages


def drain_until_silent(client: BlockingKernelClient, silence: float) -> list[dict]:
    """A client that reads iopub until ``silence`` seconds pass without a message."""
    messages = []
    while True:
        try:
            messages.append(client.get_iopub_msg(timeout=silence))
        except Empty:
            return messages


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def bench_execution(connection_file: str, calls: int) -> dict[str, list[float]]:
    """Latency of one small execution, each way, interleaved call by call."""
    plain = connected_client(connection_file)
    reused = connected_client(connection_file)

    def naive_fresh() -> None:
        client = connected_client(connection_file)
        drain_until_idle(client, client.execute(CODE))
        client.stop_channels()

    ways: dict[str, Callable[[], object]] = {
        "plain loop (baseline)": lambda: drain_until_idle(plain, plain.execute(CODE)),
        "get_messages, reused client": lambda: get_messages(client=reused, code=CODE),
        "get_messages, fresh connection": lambda: get_messages(connection_file, CODE),
    }
    for call in ways.values():  # warm up: imports, first connections, the kernel's caches
        for _ in range(10):
            call()
    samples: dict[str, list[float]] = {name: [] for name in ways}
    samples["naive fresh client + wait_for_ready"] = []
    for i in range(calls):
        for name, call in ways.items():
            samples[name].append(timed(call))
        if i % 10 == 0:  # about 200 ms each: a sample every tenth round is plenty
            samples["naive fresh client + wait_for_ready"].append(timed(naive_fresh))

    def silence_way() -> None:
        client = BlockingKernelClient()
        client.load_connection_file(connection_file)
        client.start_channels()
        client.execute(CODE)
        drain_until_silent(client, silence=5.0)
        client.stop_channels()

    samples["wait for 5 s of silence"] = [timed(silence_way)]
    plain.stop_channels()
    reused.stop_channels()
    return samples


def bench_startup(starts: int) -> dict[str, list[float]]:
    """Start-to-answer time of a kernel, each way, alternating."""
    samples: dict[str, list[float]] = {"KernelManager + wait_for_ready": []}
    samples["IPKernelAppProcess"] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(starts):
            manager = KernelManager(connection_file=str(Path(tmp) / f"km-{i}.json"))
            start = time.perf_counter()
            manager.start_kernel()
            client = manager.client()
            client.start_channels()
            client.wait_for_ready(timeout=60)
            samples["KernelManager + wait_for_ready"].append(time.perf_counter() - start)
            client.stop_channels()
            manager.shutdown_kernel(now=False)

            start = time.perf_counter()
            kernel = IPKernelAppProcess(Path(tmp) / f"ipk-{i}.json")
            samples["IPKernelAppProcess"].append(time.perf_counter() - start)
            kernel.shutdown()
    return samples


def report(title: str, samples: dict[str, list[float]], baseline: str) -> dict[str, float]:
    base = statistics.median(samples[baseline])
    print(f"\n{title}")
    print(f"{'way':40} {'n':>5} {'median ms':>10} {'p90 ms':>9} {'ratio':>8}")
    ratios = {}
    for name, values in samples.items():
        values = sorted(values)
        median = statistics.median(values)
        p90 = values[int(0.9 * (len(values) - 1))]
        ratios[name] = median / base
        row = f"{name:40} {len(values):5d} {median * 1e3:10.2f} {p90 * 1e3:9.2f}"
        print(f"{row} {ratios[name]:8.2f}")
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="executions per way")
    parser.add_argument("--starts", type=int, default=5, help="kernel starts per way")
    args = parser.parse_args()

    with IPKernelAppProcess() as kernel:
        execution = bench_execution(kernel.connection_file, args.calls)
    startup = bench_startup(args.starts)

    exec_ratios = report("One execution of `1` (latency)", execution, "plain loop (baseline)")
    start_ratios = report("Kernel start to first answer", startup, "KernelManager + wait_for_ready")
    targets = [
        ("fresh get_messages <= 3x plain", exec_ratios["get_messages, fresh connection"], 3.0),
        ("reused get_messages <= 1.1x plain", exec_ratios["get_messages, reused client"], 1.1),
        ("IPKernelAppProcess <= 1.5x KernelManager", start_ratios["IPKernelAppProcess"], 1.5),
    ]
    print("\nTargets")
    for label, ratio, limit in targets:
        print(f"{label:42} {ratio:6.2f}  {'met' if ratio <= limit else 'MISSED'}")


if __name__ == "__main__":
    main()
