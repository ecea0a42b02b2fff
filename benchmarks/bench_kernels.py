"""Start-up time and latency of each kernel the book compares, through one client, in one run.

Run from the repository root::

    python benchmarks/bench_kernels.py [--rounds 5] [--calls 10] [--json [PATH]]

For each kernel of ``utils.other_kernels`` (ipykernel ``python3``, xeus-python ``xpython``,
IRkernel ``ir``, bash_kernel ``bash``) it measures:

- start-up: from ``KernelManager.start_kernel()`` to the kernel's first ``kernel_info_reply``,
  as ``utils.other_kernels.running`` does it (the time to enter its ``with`` block, which
  also finds the kernelspec: a few milliseconds once warm);
- ``kernel_info``: from sending a ``kernel_info_request`` to its reply on shell;
- execute: from sending an ``execute_request`` of a trivial task (the chapter's ``value``
  task: ``6 * 7``, or ``echo $((6 * 7))`` in bash) to the ``status: idle`` of that request
  on iopub.

A round starts every kernel once, in an order that rotates from round to round so that slow
phases of the machine hit all kernels alike; right after each start, a plain
``BlockingKernelClient`` loop (the same for all four) makes three ``kernel_info`` and execute
round trips that are not kept, then ``--calls`` of each, alternating; then the kernel is
stopped. Every figure is a median with its 10th and 90th percentiles, and a ratio to
ipykernel's median of the same run (the baseline). Every wait is bounded; a start or a request
that fails or times out is counted as an error and the run goes on; every kernel is stopped,
however the run ends. Nothing here is a test: the numbers are for reading.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from queue import Empty

from jupyter_client.blocking import BlockingKernelClient

from utils.other_kernels import KERNELS, kernel_spec_manager, missing, running
from utils.run_jupyter_kernel import parent_id

BASELINE = "python3"
TASK = "value"
TIMEOUT = 30.0  # seconds for any one request or start-up
MEASURES = {
    "startup": "start to first kernel_info_reply",
    "kernel_info": "kernel_info round trip",
    "execute": "execute round trip (to idle)",
}


class RoundTripTimeout(TimeoutError):
    """A reply or an ``idle`` did not come within :data:`TIMEOUT`."""


def plain_client(connection_file: str) -> BlockingKernelClient:
    """A ``BlockingKernelClient`` of its own session, whose iopub subscription works.

    It sends ``kernel_info_request`` until an iopub message arrives (a subscription takes
    effect some time after connecting), then one more, and reads everything up to that one's
    reply and ``idle``: nothing of the probes is left queued.
    """
    client = BlockingKernelClient()
    client.load_connection_file(connection_file)
    client.start_channels()
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            client.kernel_info()
            try:
                client.get_iopub_msg(timeout=0.2)
                break
            except Empty:
                if time.monotonic() > deadline:
                    raise RoundTripTimeout("nothing arrived on iopub") from None
        kernel_info_round_trip(client)
    except BaseException:
        client.stop_channels()
        raise
    return client


def until(get: Callable[..., dict], done: Callable[[dict], bool], deadline: float) -> dict:
    """Read messages with ``get`` until one is ``done`` and return it; raise at ``deadline``."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RoundTripTimeout("no answer in time")
        try:
            msg = get(timeout=left)
        except Empty:
            continue
        if done(msg):
            return msg


def kernel_info_round_trip(client: BlockingKernelClient) -> float:
    """Seconds from a ``kernel_info_request`` to its reply; its iopub status drained after."""
    start = time.perf_counter()
    msg_id = client.kernel_info()
    deadline = time.monotonic() + TIMEOUT
    until(client.get_shell_msg, lambda m: parent_id(m) == msg_id, deadline)
    seconds = time.perf_counter() - start
    until(client.get_iopub_msg, lambda m: idle_of(m, msg_id), deadline)
    return seconds


def execute_round_trip(client: BlockingKernelClient, code: str) -> float:
    """Seconds from an ``execute_request`` to its ``idle``; its reply read after."""
    start = time.perf_counter()
    msg_id = client.execute(code)
    deadline = time.monotonic() + TIMEOUT
    until(client.get_iopub_msg, lambda m: idle_of(m, msg_id), deadline)
    seconds = time.perf_counter() - start
    until(client.get_shell_msg, lambda m: parent_id(m) == msg_id, deadline)
    return seconds


def idle_of(msg: dict, msg_id: str) -> bool:
    return (
        msg["msg_type"] == "status"
        and msg["content"]["execution_state"] == "idle"
        and parent_id(msg) == msg_id
    )


def one_round(
    name: str, calls: int, samples: dict[str, dict[str, list[float]]], errors: list[str]
) -> dict:
    """Start ``name`` (timed), then ``calls`` round trips of each kind; what it says it is."""
    start = time.perf_counter()
    try:
        with running(name, startup_timeout=TIMEOUT) as manager:
            samples["startup"][name].append(time.perf_counter() - start)
            client = plain_client(manager.connection_file)
            try:
                return round_trips(name, client, calls, samples, errors)
            finally:
                client.stop_channels()
    except Exception as error:  # noqa: BLE001 - count it, go on with the other kernels
        errors.append(f"{type(error).__name__}: {error}")
        return {}


def round_trips(
    name: str,
    client: BlockingKernelClient,
    calls: int,
    samples: dict[str, dict[str, list[float]]],
    errors: list[str],
) -> dict:
    """``kernel_info`` and execute round trips, alternating, after three of each not kept."""
    msg_id = client.kernel_info()
    deadline = time.monotonic() + TIMEOUT
    reply = until(client.get_shell_msg, lambda m: parent_id(m) == msg_id, deadline)
    until(client.get_iopub_msg, lambda m: idle_of(m, msg_id), deadline)
    code = KERNELS[name].task(TASK)
    for i in range(-3, calls):
        for kind in ("kernel_info", "execute"):
            try:
                if kind == "kernel_info":
                    seconds = kernel_info_round_trip(client)
                else:
                    seconds = execute_round_trip(client, code)
            except RoundTripTimeout as error:
                errors.append(f"{kind} round trip: {error}")
                continue
            if i >= 0:
                samples[kind][name].append(seconds)
    content = reply["content"]
    return {
        "implementation": content.get("implementation"),
        "implementation_version": content.get("implementation_version"),
        "protocol_version": content.get("protocol_version"),
        "language": content.get("language_info", {}).get("name"),
    }


def spread(values: list[float]) -> dict[str, float]:
    """Median, 10th and 90th percentiles (inclusive method) of ``values``."""
    if len(values) == 1:
        return {"median": values[0], "p10": values[0], "p90": values[0]}
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    return {"median": statistics.median(values), "p10": deciles[0], "p90": deciles[-1]}


def measure(names: list[str], rounds: int, calls: int) -> dict:
    """Everything the run measures, as a JSON-ready dict (seconds)."""
    kernel_spec_manager()  # installs bash_kernel's kernelspec once, before any timing
    errors: dict[str, list[str]] = {name: [] for name in names}
    samples: dict[str, dict[str, list[float]]] = {
        measure_name: {name: [] for name in names} for measure_name in MEASURES
    }
    about: dict[str, dict] = {}
    started = time.perf_counter()
    for i in range(rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            about[name] = one_round(name, calls, samples, errors[name]) or about.get(name, {})
    results: dict[str, dict] = {}
    for name in names:
        results[name] = {**about.get(name, {}), "code": KERNELS[name].task(TASK)}
        for measure_name, by_kernel in samples.items():
            values = by_kernel[name]
            if not values:
                continue
            entry = spread(values)
            base = samples[measure_name].get(BASELINE)
            if base:
                entry["ratio"] = entry["median"] / statistics.median(base)
            results[name][measure_name] = {**entry, "n": len(values), "samples": values}
        results[name]["errors"] = errors[name]
    return {
        "rounds": rounds,
        "calls": calls,
        "baseline": BASELINE,
        "task": TASK,
        "seconds": time.perf_counter() - started,
        "kernels": results,
    }


def summary(data: dict) -> str:
    """The results as text, one table per measure."""
    lines = [f"{data['rounds']} rounds of {data['calls']} calls, "
             f"ratios to {data['baseline']} (ipykernel) of this run"]  # fmt: skip
    for measure_name, title in MEASURES.items():
        lines += ["", title, f"{'kernel':10} {'n':>4} {'median ms':>10} {'p10 ms':>9} "
                  f"{'p90 ms':>9} {'ratio':>7}"]  # fmt: skip
        for name, result in data["kernels"].items():
            entry = result.get(measure_name)
            if entry is None:
                lines.append(f"{name:10} {'-':>4}  no figures")
                continue
            row = [entry["median"] * 1e3, entry["p10"] * 1e3, entry["p90"] * 1e3]
            ratio = entry.get("ratio", float("nan"))
            lines.append(f"{name:10} {entry['n']:4d} {row[0]:10.1f} {row[1]:9.1f} "
                         f"{row[2]:9.1f} {ratio:7.2f}")  # fmt: skip
    failed = {name: r["errors"] for name, r in data["kernels"].items() if r["errors"]}
    for name, messages in failed.items():
        lines += ["", f"{name}: {len(messages)} error(s), first: {messages[0]}"]
    lines += ["", f"whole run: {data['seconds']:.1f} s"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="start-ups per kernel")
    parser.add_argument(
        "--calls", type=int, default=10, help="round trips of each kind per kernel and round"
    )
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="PATH",
        help="write the results as JSON (seconds) to PATH, or to stdout without one "
        "(the summary then goes to stderr)",
    )
    parser.add_argument(
        "--kernels", nargs="+", default=list(KERNELS), help="kernelspec names (default: all)"
    )
    args = parser.parse_args()
    absent = missing(args.kernels)
    for name, how in absent.items():
        print(f"skipped {name}, not installed: {how}", file=sys.stderr)
    names = [name for name in args.kernels if name not in absent]
    if BASELINE not in names:
        parser.error(f"the baseline kernel {BASELINE!r} is needed")
    data = measure(names, args.rounds, args.calls)
    data["missing"] = absent
    text = summary(data)
    if args.json == "-":
        print(text, file=sys.stderr)
        print(json.dumps(data))
        return
    if args.json:
        with open(args.json, "w") as out:
            json.dump(data, out, indent=1)
    print(text)


if __name__ == "__main__":
    main()
