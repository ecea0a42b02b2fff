"""How long a kernel takes to exit after its ``shutdown_reply``: ipykernel 7.4's shutdown race.

Run from the repository root::

    python benchmarks/bench_shutdown.py [--rounds 20] [--wait 12]

Each round starts a kernel the way a kernelspec would (``python -m <module> -f <file>``),
executes one cell through ``get_messages``, sends a ``shutdown_request`` on control, reads the
``shutdown_reply`` and then measures how long the process takes to exit, waiting at most
``--wait`` seconds before it kills the process (SIGKILL). Rounds alternate between the book's
echo kernel (a wrapper kernel) and IPython's kernel, so slow phases of the machine hit both.

A slow exit is ipykernel's race, seen here with py-spy: after the shutdown handler returns,
the control thread flushes stdout/stderr through the IOPub thread, which the main thread is
already stopping in ``IPKernelApp.close``; the flush then waits ``flush_timeout`` (10 s) or
blocks for good in ``IOPubThread.schedule``, and ``close`` joins the control thread with no
timeout. Nothing here is a test: the numbers are for reading. Every process it starts, it
stops.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client.blocking import BlockingKernelClient

from utils.messaging import reply_to, send
from utils.run_jupyter_kernel import ConnectionFileError, get_messages, load_connection_info

KERNELS = {"echo (wrapper kernel)": "kernels.echo", "IPython": "ipykernel_launcher"}


def one_round(module: str, wait: float) -> float | None:
    """Seconds from the shutdown_reply to the exit, or None if it outlived ``wait``."""
    with tempfile.TemporaryDirectory() as folder:
        connection_file = Path(folder) / "kernel.json"
        process = subprocess.Popen(
            [sys.executable, "-m", module, "-f", str(connection_file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while True:  # the kernel writes the file once its sockets are bound
                try:
                    load_connection_info(connection_file)
                    break
                except ConnectionFileError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise
                    time.sleep(0.05)
            get_messages(connection_file, "1")
            client = BlockingKernelClient()
            client.load_connection_file(connection_file)
            client.start_channels(shell=False, iopub=False, stdin=False, hb=False)
            try:
                reply_to(client, send(client, "control", "shutdown_request", {"restart": False}),
                         "control", timeout=10)  # fmt: skip
            finally:
                client.stop_channels()
            replied = time.monotonic()
            try:
                process.wait(wait)
                return time.monotonic() - replied
            except subprocess.TimeoutExpired:
                return None
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds per kernel")
    parser.add_argument("--wait", type=float, default=12.0, help="seconds before SIGKILL")
    args = parser.parse_args()
    exits: dict[str, list[float | None]] = {name: [] for name in KERNELS}
    for _ in range(args.rounds):
        for name, module in KERNELS.items():
            exits[name].append(one_round(module, args.wait))
    print(f"{'kernel':24} {'rounds':>6} {'median exit':>12} {'> 1 s':>6} {'killed':>7}")
    for name, times in exits.items():
        done = [t for t in times if t is not None]
        median = f"{statistics.median(done) * 1000:.0f} ms" if done else "-"
        slow = sum(1 for t in times if t is None or t > 1.0)
        print(f"{name:24} {len(times):6d} {median:>12} {slow:6d} {times.count(None):7d}")
    print(f"killed: still alive {args.wait:g} s after its shutdown_reply")


if __name__ == "__main__":
    main()
