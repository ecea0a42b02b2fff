"""How often a new iopub subscription gets no ``iopub_welcome`` from ipykernel, in one run.

Run from the repository root::

    python benchmarks/bench_welcome.py [--subscriptions 200] [--wait 2]

Each trial connects a raw SUB socket to a kernel's iopub with a topic nobody has used before,
so the kernel's XPUB socket reports it and ipykernel should answer with a welcome, and waits
``--wait`` seconds for it. The trials run twice on one kernel: while it is idle (the
baseline), and while another client keeps it answering ``kernel_info_request``s, so that it
publishes ``status`` messages as the subscriptions arrive. Both orders of ``connect`` and
``SUBSCRIBE`` are tried. Nothing here is a test: the counts are for reading (and they are why
``utils.protocol.report`` names ``iopub_welcome`` only when a page asks).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
from pathlib import Path

import zmq

from utils.run_jupyter_kernel import IPKernelAppProcess, _connect


def keep_publishing(info: dict, stop: threading.Event) -> None:
    """Make the kernel publish busy/idle continuously until ``stop`` is set."""
    client = _connect(info, iopub=False)
    try:
        while not stop.is_set():
            client.kernel_info()
            client.get_shell_msg(timeout=30)
    finally:
        client.stop_channels()


def missed_welcomes(address: str, label: str, subscriptions: int, wait: float, first: str) -> int:
    """How many of ``subscriptions`` new topics got no message within ``wait`` seconds."""
    context, missed = zmq.Context.instance(), 0
    for number in range(subscriptions):
        socket = context.socket(zmq.SUB)
        topic = f"{label}-{first}-{number}-".encode()  # new to the kernel: it must welcome it
        if first == "subscribe":
            socket.setsockopt(zmq.SUBSCRIBE, topic)
            socket.connect(address)
        else:
            socket.connect(address)
            socket.setsockopt(zmq.SUBSCRIBE, topic)
        missed += not socket.poll(int(wait * 1000))
        socket.close(linger=0)
    return missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=200, help="trials per row")
    parser.add_argument("--wait", type=float, default=2.0, help="seconds to wait per trial")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        with IPKernelAppProcess(Path(folder) / "kernel.json") as kernel:
            info = kernel.connection_info
            address = f"{info['transport']}://{info['ip']}:{info['iopub_port']}"
            print(f"{'kernel':22} {'order':22} {'missed':>8} {'of':>5}")
            for state in ("idle (baseline)", "publishing"):
                stop = threading.Event()
                publisher = threading.Thread(target=keep_publishing, args=(info, stop))
                if state == "publishing":
                    publisher.start()
                try:
                    for first in ("connect", "subscribe"):
                        missed = missed_welcomes(
                            address, state[:4], args.subscriptions, args.wait, first
                        )
                        order = f"{first} first"
                        print(f"{state:22} {order:22} {missed:8} {args.subscriptions:5}")
                finally:
                    stop.set()
                    if publisher.is_alive():
                        publisher.join()


if __name__ == "__main__":
    main()
