"""A conformance matrix: what one kernel does with each message type of the spec, live.

:func:`probe` starts a kernel (with :func:`utils.other_kernels.running`), sends it every
request of the messaging spec (version :data:`utils.protocol.SPEC_VERSION`) and code that
makes it publish each kind of iopub message, validates every message it answers with
:func:`utils.protocol.validate_message`, and returns a :class:`Conformance`: one short, stable
word per row of :data:`ROWS` (the spec's 43 message types and the rules around them), with the
message behind every deviation as evidence.

Every wait is bounded (:data:`WAIT` seconds for a reply), so a kernel that never answers a
request costs a few seconds, not the page. Requests that may block a kernel (``input()``)
run on a second kernel of their own, and ``shutdown_request`` goes last.
"""

from __future__ import annotations

import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client.blocking import BlockingKernelClient

from .messaging import reply_to, send, submit
from .other_kernels import KERNELS, running
from .protocol import MESSAGE_TYPES, MessageSchemaError, recording_client, validate_message
from .run_jupyter_kernel import NoReplyError, parent_id, summarize

__all__ = [
    "KIT_CLASSES",
    "NEUTRAL",
    "OK",
    "ROWS",
    "RULES",
    "WAIT",
    "Conformance",
    "brief",
    "probe",
    "probe_all",
    "queued_pairs",
    "read_junit",
    "start_kit",
    "verdict",
]

Message = dict[str, Any]

#: Seconds a request gets for its reply (and an execution for its ``status: idle``).
WAIT = 5.0

#: The mark of a row the kernel passes.
OK = "✓"

#: The rules around the message types checked besides each type's schema, in table order.
RULES: tuple[str, ...] = (
    "reply has status",
    "execution_count",
    "busy/idle around each request",
    "iopub_welcome on subscribe",
    "kernel_info on control",
    "interrupt reply on control",
    "shutdown reply on control",
    "input_request only if allowed",
    "stop_on_error true",
    "stop_on_error false",
    "comm_open to unknown target",
    "parent_header is a dict",
)

#: Every row of the matrix: (group, row), the spec's message types by channel, then the rules.
ROWS: tuple[tuple[str, str], ...] = (
    *((channel, kind) for channel, kinds in MESSAGE_TYPES.items() for kind in kinds),
    *(("rules", rule) for rule in RULES),
)

#: Code that makes a kernel publish rich output and talk over a comm, by kernelspec name.
#: ``None``: the kernel offers its user code no way to do it.
_PY_DISPLAY = (
    "from IPython.display import clear_output, display\n"
    "handle = display('first', display_id=True)\n"
    "handle.update('second')\n"
    "clear_output()"
)
_PY_COMM = (
    "from comm import create_comm\n"
    "c = create_comm(target_name='conformance', data={'a': 1})\n"
    "c.send({'b': 2})\n"
    "c.close()"
)
EXTRA_CODE: dict[str, dict[str, str | None]] = {
    "python3": {"display": _PY_DISPLAY, "comm": _PY_COMM},
    "xpython": {"display": _PY_DISPLAY, "comm": _PY_COMM},
    "ir": {
        "display": 'IRdisplay::display("first")\nIRdisplay::clear_output()',
        "comm": (
            "c <- IRkernel::comm_manager()$new_comm('conformance')\n"
            "c$open(list(a = 1))\nc$send(list(b = 2))\nc$close()"
        ),
    },
    "bash": {
        "display": "echo '<b>first</b>' | displayHTML conformance\n"
        "echo '<b>second</b>' | displayHTML conformance",
        "comm": None,
    },
}

#: Message types a kernel's user code has no way to make it send (so none is asked for).
NO_API: dict[str, tuple[str, ...]] = {
    "ir": ("update_display_data",),  # IRdisplay::publish_mimebundle(data, metadata): no id
    "bash": ("clear_output", *MESSAGE_TYPES["comms"]),  # displayHTML and friends only
}

#: Samples for the introspection requests: (code, cursor_pos is its length).
_SAMPLES: dict[str, dict[str, str]] = {
    "Python": {"inspect": "print", "complete": "pri", "incomplete": "for i in range(3):"},
    "R": {"inspect": "print", "complete": "pri", "incomplete": "f("},
    "bash": {"inspect": "echo", "complete": "ech", "incomplete": "for i in 1 2; do"},
}


@dataclass
class Conformance:
    """What one kernel did: a cell per row of :data:`ROWS`, and the evidence of deviations.

    Attributes
    ----------
    kernel
        The kernelspec name.
    cells
        Row name -> a short, stable word (``"✓"``, ``"no reply in 5 s"``, ``"schema: ..."``).
    evidence
        Row name -> the message (or request left unanswered) behind a cell that is not ``✓``.
    records
        Every message sent or received, per kernel the probe started (``main``, ``stdin``).
    kernel_info
        Its ``kernel_info_reply`` (on shell).
    interrupt_mode
        Its kernelspec's ``interrupt_mode`` (``signal`` or ``message``).
    """

    kernel: str
    cells: dict[str, str] = field(default_factory=dict)
    kernel_info: Message = field(default_factory=dict)
    interrupt_mode: str = "signal"
    evidence: dict[str, Message] = field(default_factory=dict)
    records: dict[str, list[Message]] = field(default_factory=dict)

    def set(self, row: str, cell: str, evidence: Message | None = None) -> None:
        """Fill ``row`` (once: the first finding stands) and keep its evidence."""
        self.cells.setdefault(row, cell)
        if evidence is not None and cell != OK and row not in self.evidence:
            self.evidence[row] = evidence

    def caused(self, msg: Message) -> list[str]:
        """What the request behind ``msg`` (a reply, or the request itself) caused on iopub.

        One short line per message (:func:`~utils.run_jupyter_kernel.summarize`).
        """
        request_id = parent_id(msg) if "_reply" in msg["header"]["msg_type"] else None
        request_id = request_id or msg["header"]["msg_id"]
        return summarize(
            [
                m
                for record in self.records.values()
                for m in record
                if parent_id(m) == request_id and not m["header"]["msg_type"].endswith("_reply")
            ]
        )

    def deviations(self) -> list[str]:
        """The rows whose cell is a deviation (not ``✓``, ``n/a``, ``no API``), in order."""
        return [row for _, row in ROWS if not self.cells.get(row, "").startswith(NEUTRAL)]


def verdict(msg: Message) -> str:
    """``"✓"`` if ``msg`` matches its schema, else ``"schema: <field>"``."""
    try:
        validate_message(msg)
    except MessageSchemaError as error:
        return "schema: " + str(error).split(": field ", 1)[1].split(":", 1)[0]
    return OK


def _reply_cell(reply: Message | None) -> str:
    """The cell of a reply row: its schema verdict, and its status when not ``ok``."""
    if reply is None:
        return "not sent"
    cell = verdict(reply)
    status = reply["content"].get("status")
    if cell == OK and status != "ok":
        return f"reply: {status}"
    return cell


def _wait_replies(
    client: BlockingKernelClient, requests: list[tuple[str, Message]], wait: float
) -> dict[str, Message | None]:
    """Replies to ``requests`` ((channel, request)) sent together, all within ``wait`` s."""
    deadline = time.monotonic() + wait
    replies: dict[str, Message | None] = {}
    for channel, request in requests:
        msg_id = request["header"]["msg_id"]
        try:
            left = max(deadline - time.monotonic(), 0.05)
            replies[msg_id] = reply_to(client, request, channel, timeout=left)
        except NoReplyError:
            replies[msg_id] = None
    return replies


def _drain(client: BlockingKernelClient, quiet: float = 0.5, limit: float = WAIT) -> None:
    """Read every channel until ``quiet`` s pass with nothing new (at most ``limit`` s).

    What is read lands in the client's record, where the rules are checked.
    """
    start = last = time.monotonic()
    while time.monotonic() - last < quiet and time.monotonic() - start < limit:
        for channel in ("iopub", "shell", "control", "stdin"):
            get = getattr(client, f"get_{channel}_msg")
            while True:
                try:
                    get(timeout=0.01)
                except Empty:
                    break
                last = time.monotonic()
        time.sleep(0.02)


def _execute(
    client: BlockingKernelClient, code: str, **fields: Any
) -> tuple[Message, Message | None]:
    """Run ``code``; the request and its reply (None after :data:`WAIT` s)."""
    request = submit(client, code, **fields)
    try:
        return request, reply_to(client, request, timeout=WAIT)
    except NoReplyError:
        return request, None


def _slow_error(kernel: Any) -> str:
    """The error task after a short sleep: the request sent right behind it is surely queued."""
    return kernel.task("sleep", seconds=0.5) + "\n" + kernel.task("error")


def _received(record: list[Message], client: BlockingKernelClient) -> list[Message]:
    return [m for m in record if not client.session.sent(m)]


def _first(record: list[Message], kind: str, parent: str | None = None) -> Message | None:
    for msg in record:
        if msg["header"]["msg_type"] == kind and (parent is None or parent_id(msg) == parent):
            return msg
    return None


def _probe_main(result: Conformance, name: str) -> None:
    """Everything but stdin, on one kernel; ``shutdown_request`` last."""
    kernel = KERNELS[name]
    samples = _SAMPLES[kernel.language]
    answers: dict[str, tuple[Message, Message | None]] = {}
    with running(name) as manager:
        time.sleep(1.0)  # let the kernel finish publishing the start's kernel_info status
        client = recording_client(manager.connection_file, timeout=10, welcome_wait=3)
        record = client.session.record
        try:
            _drain(client)
            # execute: a value, a print, rich output, a comm, then an error
            for task in ("value", "print", "display", "comm", "error"):
                code = kernel.task(task) if task in kernel.code else EXTRA_CODE[name][task]
                if code is None:
                    result.set(f"code:{task}", "no API")
                    continue
                answers[task] = _execute(client, code)
            # a request queued behind a failing one: aborted if stop_on_error, else run
            for stop in (True, False):
                time.sleep(0.3)  # IRkernel aborts what arrives just after an error's reply
                failing = submit(client, _slow_error(kernel), stop_on_error=stop)
                queued = submit(client, kernel.task("value"))
                replies = _wait_replies(client, [("shell", failing), ("shell", queued)], WAIT)
                answers[f"stop_on_error {stop}"] = queued, replies[queued["header"]["msg_id"]]
                answers[f"failing {stop}"] = failing, replies[failing["header"]["msg_id"]]
            time.sleep(0.3)

            # shell requests one at a time, each answered within WAIT seconds
            shell = {
                "kernel_info_request": {},
                "inspect_request": {"code": samples["inspect"], "detail_level": 0},
                "complete_request": {"code": samples["complete"]},
                "history_request": {"hist_access_type": "tail", "n": 3, "output": False,
                                    "raw": True},
                "is_complete_request": {"code": samples["incomplete"]},
                "comm_info_request": {},
            }  # fmt: skip
            for kind, content in shell.items():
                if "code" in content and kind != "is_complete_request":
                    content = {**content, "cursor_pos": len(content["code"])}
                request = send(client, "shell", kind, content)
                answers[kind] = (
                    request,
                    _wait_replies(client, [("shell", request)], WAIT)[request["header"]["msg_id"]],
                )
            # a comm from the client to a target the kernel does not know
            answers["comm_open"] = (
                send(
                    client,
                    "shell",
                    "comm_open",
                    {"comm_id": "conformance-probe", "target_name": "no-such-target", "data": {}},
                ),
                None,
            )

            # requests some kernels leave unanswered: sent together, WAIT seconds for all
            debug = {"type": "request", "seq": 1, "command": "debugInfo", "arguments": {}}
            batch = [
                ("shell", "connect_request", {}),
                ("control", "kernel_info_request", {}),
                ("control", "debug_request", debug),
                ("control", "create_subshell_request", {}),
                ("control", "list_subshell_request", {}),
                ("control", "delete_subshell_request", {"subshell_id": "no-such-subshell"}),
                ("control", "interrupt_request", {}),
            ]
            sent = [(channel, kind, send(client, channel, kind, c)) for channel, kind, c in batch]
            replies = _wait_replies(client, [(ch, r) for ch, _, r in sent], WAIT)
            for channel, kind, request in sent:
                key = kind if channel == "shell" else f"control:{kind}"
                answers[key] = request, replies[request["header"]["msg_id"]]
            created = answers["control:create_subshell_request"][1]
            if created and created["content"].get("status") == "ok":
                request = send(
                    client,
                    "control",
                    "delete_subshell_request",
                    {"subshell_id": created["content"]["subshell_id"]},
                )
                reply = _wait_replies(client, [("control", request)], WAIT)
                answers["control:delete_subshell_request"] = (
                    request,
                    reply[request["header"]["msg_id"]],
                )
            _drain(client)

            # shutdown, last
            request = send(client, "control", "shutdown_request", {"restart": False})
            reply = _wait_replies(client, [("control", request)], WAIT)[request["header"]["msg_id"]]
            answers["control:shutdown_request"] = (request, reply)
            _drain(client, quiet=0.3, limit=2)
        finally:
            client.stop_channels()
        result.records["main"] = list(record)
        result.interrupt_mode = manager.kernel_spec.interrupt_mode
        result.kernel_info = answers["kernel_info_request"][1] or {}
        _judge_main(result, name, client, record, answers)


def _judge_main(
    result: Conformance,
    name: str,
    client: BlockingKernelClient,
    record: list[Message],
    answers: dict[str, tuple[Message, Message | None]],
) -> None:
    """Fill the cells of the main kernel's rows from its record."""
    no_reply = f"no reply in {WAIT:g} s"
    received = _received(record, client)

    welcome = _first(received, "iopub_welcome")
    result.set("iopub_welcome on subscribe", OK if welcome else "not sent", welcome)

    def request_row(kind: str, key: str) -> None:
        request, reply = answers[key]
        result.set(kind, OK if reply else no_reply, None if reply else request)
        reply_kind = kind.replace("_request", "_reply")
        if reply is None:
            cell = "not sent"
        elif kind == "debug_request":  # a DAP response: success, not status
            cell = verdict(reply)
            if cell == OK and not reply["content"].get("success"):
                cell = "reply: success false"
        elif kind == "is_complete_request":  # its status is the verdict on the code
            cell = verdict(reply)
            if cell == OK:
                cell = f"{OK} ({reply['content']['status']})"
        else:
            cell = _reply_cell(reply)
        if kind == "kernel_info_request" and cell == OK:
            cell = f"{OK} ({reply['content']['protocol_version']})"
        result.set(reply_kind, cell, reply or request)

    for kind in ("kernel_info_request", "connect_request", "inspect_request",
                 "complete_request", "history_request", "is_complete_request",
                 "comm_info_request"):  # fmt: skip
        request_row(kind, kind)
    for kind in MESSAGE_TYPES["control"][::2]:
        request_row(kind, f"control:{kind}")

    # execute: the value task's request and reply stand for the type
    request, reply = answers["value"]
    result.set("execute_request", OK if reply else no_reply, None if reply else request)
    result.set("execute_reply", _reply_cell(reply), reply or request)

    # iopub: every message of a type, validated; the first failure stands
    for kind in MESSAGE_TYPES["iopub"]:
        for msg in (m for m in received if m["header"]["msg_type"] == kind):
            cell = verdict(msg)
            if cell != OK:
                result.set(kind, cell, msg)
            result.set(kind, OK)
    for kind in NO_API.get(name, ()):
        result.set(kind, "no API")
    result.set("debug_event", "not probed")
    for kind in MESSAGE_TYPES["iopub"]:
        result.set(kind, "not sent")

    # comms: the kernel's own comm (opened by code): its comm_open, then that comm's messages
    if "comm" in answers:
        comm_parent = answers["comm"][0]["header"]["msg_id"]
        own = [m for m in received if m["header"]["msg_type"] in MESSAGE_TYPES["comms"]]
        first_open = _first(own, "comm_open")
        comm_id = first_open["content"].get("comm_id") if first_open else None
        for kind in MESSAGE_TYPES["comms"]:
            msg = next(
                (m for m in own if m["header"]["msg_type"] == kind
                 and m["content"].get("comm_id") == comm_id),
                None,
            )  # fmt: skip
            if msg is None:
                result.set(kind, "not sent")
                continue
            cell = verdict(msg)
            if cell == OK and parent_id(msg) != comm_parent:
                cell = f"{OK}; parent_header {{}}"
            result.set(kind, cell, msg)
    opened = answers["comm_open"][0]
    closed = _first(received, "comm_close", opened["header"]["msg_id"])
    result.set(
        "comm_open to unknown target",
        f"{OK} comm_close" if closed else "no comm_close",
        closed or opened,
    )

    # rules
    replies = [m for m in received if m["header"]["msg_type"].endswith("_reply")]
    lacking = [m for m in replies if "status" not in m["content"]]
    result.set(
        "reply has status",
        OK if not lacking else f"none in {lacking[0]['header']['msg_type']}",
        lacking[0] if lacking else None,
    )
    value_id = answers["value"][0]["header"]["msg_id"]
    counts = []
    for kind in ("execute_input", "execute_result"):
        msg = _first(received, kind, value_id)
        if msg is None:
            counts.append(f"no {kind}")
        elif not isinstance(msg["content"].get("execution_count"), int):
            counts.append(f"none in {kind}")
    reply = answers["value"][1]
    if reply is None or not isinstance(reply["content"].get("execution_count"), int):
        counts.append("none in execute_reply")
    result.set("execution_count", "; ".join([OK] * (not any(
        c.startswith("none") for c in counts)) + counts))  # fmt: skip

    for stop in (True, False):
        queued, queued_reply = answers[f"stop_on_error {stop}"]
        status = queued_reply["content"]["status"] if queued_reply else None
        ran = any(
            parent_id(m) == queued["header"]["msg_id"]
            and m["header"]["msg_type"] in ("execute_input", "execute_result", "display_data",
                                            "stream")
            for m in received
        )  # fmt: skip
        if status is None:
            cell = no_reply
        elif stop:  # the queued request must be aborted: not run, status aborted or error
            cell = "ran it" if ran else f"{OK} ({status})"
        else:  # it must run (what its reply says is the other rows' business)
            cell = OK if ran else f"reply: {status}"
        result.set(f"stop_on_error {str(stop).lower()}", cell, queued_reply or queued)

    missing: set[str] = set()
    for request, reply in answers.values():
        if reply is None:
            continue  # no reply: the request's row says so
        msg_id = request["header"]["msg_id"]
        if request["header"]["msg_type"] in ("shutdown_request", "comm_open"):
            continue  # a kernel may exit before it publishes idle; comm_open is no request
        states = [
            m["content"]["execution_state"]
            for m in received
            if m["header"]["msg_type"] == "status" and parent_id(m) == msg_id
        ]
        if states[:1] != ["busy"] or states[-1:] != ["idle"]:
            missing.add(request["header"]["msg_type"].replace("_request", ""))
            result.evidence.setdefault("busy/idle around each request", reply)
    result.set(
        "busy/idle around each request",
        OK if not missing else "none for " + ", ".join(sorted(missing)),
    )
    for rule, key in (
        ("kernel_info on control", "control:kernel_info_request"),
        ("interrupt reply on control", "control:interrupt_request"),
        ("shutdown reply on control", "control:shutdown_request"),
    ):
        request, reply = answers[key]
        result.set(rule, OK if reply else no_reply, None if reply else request)
    nulls = [m for m in received if not isinstance(m.get("parent_header"), dict)]
    result.set(
        "parent_header is a dict",
        OK if not nulls else f"null in {nulls[0]['header']['msg_type']}",
        nulls[0] if nulls else None,
    )


def _probe_stdin(result: Conformance, name: str) -> None:
    """``input()`` with and without ``allow_stdin``, on a kernel of its own."""
    kernel = KERNELS[name]
    no_reply = f"no reply in {WAIT:g} s"
    with running(name) as manager:
        client = recording_client(manager.connection_file, timeout=10)
        record = client.session.record
        try:
            allowed = submit(client, kernel.task("input"), allow_stdin=True)
            try:
                asked = client.get_stdin_msg(timeout=WAIT)
            except Empty:
                asked = None
            if asked is None:
                result.set("input_request", f"not sent in {WAIT:g} s", allowed)
                result.set("input_reply", "not sent")
            else:
                result.set("input_request", verdict(asked), asked)
                client.input("world")
                try:
                    reply_to(client, allowed, timeout=WAIT)
                    result.set("input_reply", OK)
                except NoReplyError:
                    result.set("input_reply", f"{no_reply} after it", allowed)
            _settle(client, manager, allowed)

            refused, reply = _execute(client, kernel.task("input"), allow_stdin=False)
            _drain(client, quiet=0.2, limit=1)
            asked = _first(_received(record, client), "input_request", refused["header"]["msg_id"])
            if asked is not None:
                cell = "input_request sent"
            elif reply is None:
                cell = f"{OK}; the cell hangs"
            else:
                cell = f"{OK} ({reply['content']['status']})"
            result.set("input_request only if allowed", cell, asked or reply or refused)
            _settle(client, manager, refused)
        finally:
            client.stop_channels()
        result.records["stdin"] = list(record)


def _settle(client: BlockingKernelClient, manager: Any, request: Message) -> None:
    """Wait (bounded) for ``request``'s ``status: idle``; interrupt the kernel if it hangs."""

    def idle() -> bool:
        return any(
            m["header"]["msg_type"] == "status"
            and m["content"]["execution_state"] == "idle"
            and parent_id(m) == request["header"]["msg_id"]
            for m in client.session.record
        )

    for attempt in range(2):
        deadline = time.monotonic() + (0.5 if attempt == 0 else WAIT)
        while not idle() and time.monotonic() < deadline:
            _drain(client, quiet=0.2, limit=0.3)
        if idle():
            return
        manager.interrupt_kernel()


#: Rows of what spec 5.5 added (changelog): not expected of a kernel declaring an older version
#: unless it advertises the feature in ``supported_features``.
NEW_IN_5_5: dict[str, str] = {
    **dict.fromkeys(["iopub_welcome", "iopub_welcome on subscribe"], ""),
    **dict.fromkeys(["kernel_info on control"], ""),
    **dict.fromkeys(["debug_request", "debug_reply", "debug_event"], "debugger"),
    **dict.fromkeys(
        [f"{verb}_subshell_{end}" for verb in ("create", "delete", "list")
         for end in ("request", "reply")],
        "kernel subshells",
    ),
}  # fmt: skip

#: Cells that are no deviation: conformant, not applicable, not possible, not tried.
NEUTRAL = (OK, "n/a", "no API", "not probed")


def _apply_spec(result: Conformance) -> None:
    """Turn silences the spec allows into ``✓ ...`` or ``n/a ...`` cells.

    - A message type new in 5.5 is not expected of a kernel that declares an older
      ``protocol_version``, unless it advertises the feature in ``supported_features``.
    - Subshell requests to a kernel without ``'kernel subshells'``: "an error is logged and
      no reply is sent" (spec, Kernel subshells).
    - ``connect_request`` is deprecated since 5.1: "Kernels are not expected to implement
      handlers for this message".
    - ``interrupt_request`` is for kernels whose kernelspec says ``interrupt_mode: message``.
    """
    info = result.kernel_info.get("content", {})
    version = tuple(int(x) for x in str(info.get("protocol_version", "5.0")).split(".")[:2])
    features = info.get("supported_features") or []
    silent = ("not sent", "no reply")
    for _, row in ROWS:
        cell = result.cells.get(row, "")
        if not cell.startswith(silent):
            continue
        feature = NEW_IN_5_5.get(row)
        if feature is not None and feature not in features:
            if version < (5, 5):
                result.cells[row] = f"n/a ({info.get('protocol_version')})"
            elif feature == "kernel subshells" and row.endswith("_request"):
                result.cells[row] = f"{OK} no reply"
            elif feature == "kernel subshells":
                result.cells[row] = f"{OK} none"
        elif row.startswith("connect_"):
            result.cells[row] = "n/a (deprecated)"
        elif row.startswith("interrupt") and result.interrupt_mode != "message":
            result.cells[row] = f"n/a ({result.interrupt_mode} mode)"
        if not result.cells[row].startswith(silent):
            result.evidence.pop(row, None)


def probe(name: str, progress: Callable[[str], None] | None = None) -> Conformance:
    """Start kernel ``name``, send it every request of the spec, and judge what it does.

    Two kernels are started one after the other: one for every message type but stdin (it
    gets ``shutdown_request`` last), one for ``input()`` with and without ``allow_stdin``
    (a kernel that waits for input it cannot get is interrupted). Both are always stopped.

    Parameters
    ----------
    name
        A kernelspec name of :data:`utils.other_kernels.KERNELS`.
    progress
        Called with a word before each phase (for a progress line), if given.

    Returns
    -------
    Conformance
        A cell for every row of :data:`ROWS`.
    """
    result = Conformance(name)
    for phase, run in (("main", _probe_main), ("stdin", _probe_stdin)):
        if progress:
            progress(f"{name}: {phase}")
        run(result, name)
    for _group, row in ROWS:
        result.cells.setdefault(row, "not probed")
    _apply_spec(result)
    return result


def probe_all(names: Iterable[str], workers: int = 4) -> dict[str, Conformance]:
    """:func:`probe` several kernels at once, ``workers`` kernels running at a time.

    The probes of one kernel are independent of the others' (each kernel has its own
    clients), so they run in threads: the page waits for the slowest kernel's
    unanswered requests once, not for every kernel's in turn.
    """
    names = list(names)
    results = {name: Conformance(name) for name in names}
    jobs = [(run, name) for name in names for run in (_probe_main, _probe_stdin)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(run, results[name], name) for run, name in jobs]:
            future.result()
    for result in results.values():
        for _group, row in ROWS:
            result.cells.setdefault(row, "not probed")
        _apply_spec(result)
    return results


def brief(msg: Message) -> dict[str, Any]:
    """A stable view of ``msg`` for a page: its type, its parent's type, its content.

    Ids, dates and session names change on every run; a traceback is cut to its line count.
    A ``parent_header`` that is not a dict is shown as it is.
    """
    parent = msg.get("parent_header")
    content = dict(msg.get("content") or {})
    if isinstance(content.get("traceback"), list):
        content["traceback"] = f"[{len(content['traceback'])} lines]"
    return {
        "msg_type": msg["header"]["msg_type"],
        "parent_header": parent.get("msg_type", {}) if isinstance(parent, dict) else parent,
        "content": content,
    }


def queued_pairs(name: str, pairs: int = 6, stop_on_error: bool = False) -> list[dict[str, Any]]:
    """Send ``pairs`` times an error and a value at once; what came back for each pair.

    Each item: the two replies' ``status`` and ``ename`` and the value request's iopub lines
    (:func:`~utils.run_jupyter_kernel.summarize`). Every wait is bounded by :data:`WAIT`.
    """
    kernel = KERNELS[name]
    found = []
    with running(name) as manager:
        client = recording_client(manager.connection_file, timeout=10)
        try:
            for _ in range(pairs):
                time.sleep(0.3)  # IRkernel aborts what arrives just after an error's reply
                failing = submit(client, kernel.task("error"), stop_on_error=stop_on_error)
                queued = submit(client, kernel.task("value"))
                replies = _wait_replies(client, [("shell", failing), ("shell", queued)], WAIT)
                _drain(client, quiet=0.2, limit=1)
                item: dict[str, Any] = {}
                for role, request in (("error", failing), ("value", queued)):
                    reply = replies[request["header"]["msg_id"]] or {"content": {}}
                    item[role] = (reply["content"].get("status"), reply["content"].get("ename"))
                item["value iopub"] = summarize(
                    [m for m in client.session.record
                     if parent_id(m) == queued["header"]["msg_id"]
                     and not m["header"]["msg_type"].endswith("_reply")]
                )  # fmt: skip
                found.append(item)
        finally:
            client.stop_channels()
    return found


def read_junit(
    path: str | Path, classes: dict[str, str]
) -> tuple[dict[str, dict[str, str]], list[tuple[str, str, str]]]:
    """The outcomes of a pytest JUnit XML report, by test and kernel, and the xfail reasons.

    Parameters
    ----------
    path
        The report (``pytest --junitxml=path``).
    classes
        Test class name -> kernel name (the column it fills).

    Returns
    -------
    tuple
        ``{test: {kernel: "passed" | "failed" | "skipped" | "xfail"}}`` (``test_`` dropped
        from the names), and ``(kernel, test, reason)`` for every xfail, in report order.
    """
    outcomes: dict[str, dict[str, str]] = {}
    reasons: list[tuple[str, str, str]] = []
    for case in ET.parse(path).iter("testcase"):
        kernel = classes[case.get("classname", "").split(".")[-1]]
        test = case.get("name", "").removeprefix("test_")
        marks = {child.tag: child for child in case if child.tag != "system-out"}
        skipped = marks.get("skipped")
        if skipped is not None and skipped.get("type") == "pytest.xfail":
            outcome = "xfail"
            reasons.append((kernel, test, skipped.get("message", "")))
        elif skipped is not None:
            outcome = "skipped"
        else:
            outcome = "failed" if marks else "passed"
        outcomes.setdefault(test, {})[kernel] = outcome
    return outcomes, reasons


#: The jupyter_kernel_test classes of the four kernels, and the column each fills.
KIT_CLASSES = {
    "TestIPyKernel": "python3",
    "TestXeusPython": "xpython",
    "TestIRkernel": "ir",
    "TestBashKernel": "bash",
}


def start_kit(report: str | Path) -> subprocess.Popen[bytes]:
    """Start ``pytest`` on ``tests/test_other_kernels_conformance.py`` in a child process.

    It writes a JUnit XML report to ``report`` (read it with :func:`read_junit` once the
    process has ended: ``.wait(timeout=...)``); its output is discarded. The repository's
    ``addopts`` (nbval) are left out.
    """
    repository = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-m", "pytest", "tests/test_other_kernels_conformance.py", "-q",
               "-p", "no:cacheprovider", "-o", "addopts=", f"--junitxml={report}"]  # fmt: skip
    return subprocess.Popen(
        command, cwd=repository, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
