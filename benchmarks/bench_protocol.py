"""What recording and validating messages (``utils.protocol``) costs, against plain jupyter_client.

Run from the repository root::

    python benchmarks/bench_protocol.py [--calls 300]

Two numbers, each beside its baseline, measured in the same run:

- the latency of one small execution through ``recording_client`` (every message kept) against
  a plain ``BlockingKernelClient``, interleaved call by call on one kernel;
- the time ``report`` takes to validate one execution's messages, against the execution itself.
"""

from __future__ import annotations

import argparse

from bench_get_messages import connected_client, drain_until_idle, report, timed

from utils.protocol import recording_client
from utils.protocol import report as validate_record
from utils.run_jupyter_kernel import IPKernelAppProcess

CODE = "print('x'); 1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="executions per way")
    args = parser.parse_args()

    with IPKernelAppProcess() as kernel:
        plain = connected_client(kernel.connection_file)
        recording = recording_client(kernel.connection_file)
        recording.wait_for_ready(timeout=30)

        def run(client):
            drain_until_idle(client, client.execute(CODE))
            client.get_shell_msg(timeout=30)

        for _ in range(20):  # warm up
            run(plain)
            run(recording)
        samples: dict[str, list[float]] = {"plain client (baseline)": [], "recording client": []}
        samples["report() of one execution"] = []
        for _ in range(args.calls):
            samples["plain client (baseline)"].append(timed(lambda: run(plain)))
            recording.session.record.clear()
            samples["recording client"].append(timed(lambda: run(recording)))
            one_execution = list(recording.session.record)
            samples["report() of one execution"].append(
                timed(lambda: validate_record(one_execution))  # noqa: B023
            )
        messages = len(one_execution)
        plain.stop_channels()
        recording.stop_channels()

    title = f"One execution of {CODE!r}; report() validates the {messages} messages read meanwhile"
    report(title, samples, "plain client (baseline)")


if __name__ == "__main__":
    main()
