"""Load on one kernel, and on many, through the book's tools and the plain jupyter_client loop.

Run from the repository root::

    python benchmarks/bench_load.py [--executions 1000] [--connections 1000] [--kernels 20]
                                    [--megabytes 50] [--display-megabytes 10]

Every measure runs both ways in the same run, one after the other on the same kernel (or
machine), and prints the book's figure as a ratio against the plain loop's:

- ``executions`` executions of a small expression on one connection (each result checked);
- ``connections`` executions, each on a new connection (a plain client with
  ``wait_for_ready``, or ``get_messages(connection_file, ...)``), with the file descriptors
  and threads of this process and of the kernel before and after;
- ``kernels`` kernels started at once, each executing a cell (``KernelManager`` or
  ``IPKernelAppProcess``), and each kernel's resident memory;
- a ``megabytes`` MiB stdout stream and a ``display-megabytes`` MiB binary display payload,
  each received whole (byte counts, a SHA-256 for the payload), with throughput;
- a slow subscriber: how many of 8,000 outputs of 4 KiB a client that reads only after the
  cell ended still gets, with ZeroMQ's default receive high-water mark and with none.

Nothing here is a test (``tests/test_load.py`` checks the same loads for completeness and
leaks); the numbers are for reading.
"""

from __future__ import annotations

import argparse
import statistics

from utils.load import (
    WAYS,
    big_output,
    fresh_connections,
    many_kernels,
    sequential_executions,
    slow_subscriber,
)
from utils.run_jupyter_kernel import IPKernelAppProcess

LABELS = {"plain": "plain jupyter_client", "book": "book (get_messages / IPKernelAppProcess)"}


def row(label: str, plain: float, book: float, unit: str) -> None:
    """One measure: both figures and the book's as a ratio of the plain one."""
    print(f"{label:44} {plain:10.2f} {book:10.2f} {unit:6} {book / plain:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--kernels", type=int, default=20)
    parser.add_argument("--megabytes", type=float, default=50)
    parser.add_argument("--display-megabytes", type=float, default=10)
    args = parser.parse_args()

    print(f"{'measure':44} {'plain':>10} {'book':>10} {'unit':6} {'ratio':>7}")
    with IPKernelAppProcess() as kernel:
        cf = kernel.connection_file
        runs = {way: sequential_executions(cf, args.executions, way) for way in WAYS}
        label = f"{args.executions} sequential executions, per call"
        row(label, runs["plain"].per_call_ms, runs["book"].per_call_ms, "ms")

        runs = {way: fresh_connections(cf, args.connections, way, kernel.pid) for way in WAYS}
        row(
            f"{args.connections} fresh connections, per call",
            runs["plain"].per_call_ms,
            runs["book"].per_call_ms,
            "ms",
        )
        for way, run in runs.items():
            for side in ("client", "kernel"):
                before, after = run.extra[f"{side}_before"], run.extra[f"{side}_after"]
                print(
                    f"  {LABELS[way]}, {side}: fds {before.fds} -> {after.fds}, "
                    f"threads {before.threads} -> {after.threads}"
                )

        for kind, size in (("stream", args.megabytes), ("display", args.display_megabytes)):
            outputs = {way: big_output(cf, size, way, kind) for way in WAYS}
            whole = all(output.whole for output in outputs.values())
            label = f"{size:g} MiB {kind}, whole={whole}, throughput"
            row(label, outputs["plain"].mb_per_s, outputs["book"].mb_per_s, "MB/s")

        lost = slow_subscriber(cf, 8000)
        for name in ("default", "lifted"):
            got = lost[name]
            print(
                f"slow subscriber, RCVHWM {'0' if name == 'lifted' else 'default'}: "
                f"{got['received']} of {lost['published']} outputs, "
                f"idle {'received' if got['idle'] else 'lost'}"
            )

    runs = {way: many_kernels(args.kernels, way) for way in WAYS}
    row(
        f"{args.kernels} kernels at once, wall time",
        runs["plain"].seconds,
        runs["book"].seconds,
        "s",
    )
    for way, run in runs.items():
        rss = run.extra["rss_mb"]
        print(
            f"  {LABELS[way]}: resident memory per kernel, median {statistics.median(rss):.0f} MB"
        )


if __name__ == "__main__":
    main()
