"""The messaging spec's message types, their schemas, and a record of a client's traffic.

- :data:`MESSAGE_TYPES`: every message type of the messaging spec (version
  :data:`SPEC_VERSION`), by channel.
- :func:`validate_message`: check one message against its schema: ``jupyter_kernel_test``'s
  maintained ``msgspec_v5`` where it covers the type, this module's own schemas for the rest.
  A failure raises :class:`MessageSchemaError` naming the message and the field.
- :class:`RecordingSession`: a ``jupyter_client`` session that keeps every message it sends
  or receives; :func:`recording_client` connects a blocking client through one.
- :func:`report` validates a record and returns one stable line listing its message types;
  :func:`exchanges` groups a record by request: the reply and the iopub side effects.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Any

import zmq
from jsonschema import Draft4Validator, ValidationError
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.session import Session
from jupyter_kernel_test import msgspec_v5

from .display import wrap
from .run_jupyter_kernel import NoReplyError, _connect, load_connection_info, parent_id

__all__ = [
    "LIVE_TYPES_LINE",
    "MESSAGE_TYPES",
    "SPEC_VERSION",
    "MessageSchemaError",
    "RecordingSession",
    "channel_of",
    "exchanges",
    "recording_client",
    "report",
    "reported_types",
    "validate_message",
]

SPEC_VERSION = "5.5"  # jupyter_client docs/messaging.rst: the version this list was taken from

#: Every message type of the spec, by the channel it travels on. Comm messages go from
#: client to kernel on shell and from kernel to client on iopub. Heartbeat has no messages.
MESSAGE_TYPES: dict[str, tuple[str, ...]] = {
    "shell": (
        "execute_request", "execute_reply", "inspect_request", "inspect_reply",
        "complete_request", "complete_reply", "history_request", "history_reply",
        "is_complete_request", "is_complete_reply", "connect_request", "connect_reply",
        "comm_info_request", "comm_info_reply", "kernel_info_request", "kernel_info_reply",
    ),
    "control": (
        "shutdown_request", "shutdown_reply", "interrupt_request", "interrupt_reply",
        "debug_request", "debug_reply", "create_subshell_request", "create_subshell_reply",
        "delete_subshell_request", "delete_subshell_reply", "list_subshell_request",
        "list_subshell_reply",
    ),
    "iopub": (
        "stream", "display_data", "update_display_data", "execute_input", "execute_result",
        "error", "status", "clear_output", "debug_event", "iopub_welcome",
    ),
    "stdin": ("input_request", "input_reply"),
    "comms": ("comm_open", "comm_msg", "comm_close"),
}  # fmt: skip

#: The first words of the line :func:`report` returns; tests find a page's live types by it.
LIVE_TYPES_LINE = "message types captured live and valid:"


class MessageSchemaError(ValueError):
    """A message does not match the schema of its type; the text names message and field."""


# --------------------------------------------------------------------------- schemas

_STR, _INT, _BOOL, _OBJ = ({"type": t} for t in ("string", "integer", "boolean", "object"))
_STR_LIST = {"type": "array", "items": _STR}


def _content(required: dict[str, Any], optional: dict[str, Any] | None = None) -> Draft4Validator:
    """A validator of a content dict with these required and optional fields (extra ones pass)."""
    properties = {**required, **(optional or {})}
    return Draft4Validator({"type": "object", "properties": properties, "required": list(required)})


_DAP_BASE = {"seq": _INT}
_ERROR_REPLY = _content({"status": {"enum": ["error"]}, "ename": _STR, "evalue": _STR})

#: The project's own schemas, for the types ``msgspec_v5`` does not cover. Debug messages
#: carry Debug Adapter Protocol requests, responses and events as their content.
OWN_SCHEMAS: dict[str, Draft4Validator] = {
    "debug_request": _content({**_DAP_BASE, "type": {"enum": ["request"]}, "command": _STR},
                              {"arguments": _OBJ}),
    # DAP responses have a seq, but the replies ipykernel makes itself (dumpCell, debugInfo:
    # Jupyter's own commands, not debugpy's) have none, as in the spec's examples of them.
    "debug_reply": _content({"type": {"enum": ["response"]}, "request_seq": _INT,
                             "success": _BOOL, "command": _STR},
                            {**_DAP_BASE, "message": _STR, "body": {}}),
    "debug_event": _content({**_DAP_BASE, "type": {"enum": ["event"]}, "event": _STR},
                            {"body": _OBJ}),
    "create_subshell_request": _content({}),
    "create_subshell_reply": _content({"status": {"enum": ["ok"]}, "subshell_id": _STR}),
    "delete_subshell_request": _content({"subshell_id": _STR}),
    "delete_subshell_reply": _content({"status": {"enum": ["ok"]}}),
    "list_subshell_request": _content({}),
    "list_subshell_reply": _content({"status": {"enum": ["ok"]}, "subshell_id": _STR_LIST}),
    "iopub_welcome": _content({"subscription": _STR}),
    # A comm opened by the comm package in the kernel says "target_module": null.
    "comm_open": _content({"comm_id": _STR, "target_name": _STR, "data": _OBJ},
                          {"target_module": {"type": ["string", "null"]}}),
    "comm_msg": _content({"comm_id": _STR, "data": _OBJ}),
    "comm_close": _content({"comm_id": _STR}, {"data": _OBJ}),
    # ipykernel answers a request it skipped after an error with status "aborted", as the
    # spec's request-reply rules say (deprecated there since 5.1); msgspec_v5 rejects it (it
    # knows only "abort", whose schema asks for the error fields), so this schema checks both.
    "aborted_reply": _content({"status": {"enum": ["aborted", "abort"]}}),
    # The spec says input_request.password is a bool; msgspec_v5 asks for a number.
    "input_request": _content({"prompt": _STR, "password": _BOOL}),
}  # fmt: skip


def _own_schema(msg: dict[str, Any]) -> Draft4Validator | None:
    """This project's validator for ``msg``'s content, or None where ``msgspec_v5`` covers it."""
    msg_type, content = msg["header"]["msg_type"], msg["content"]
    status = content.get("status") if msg_type.endswith("_reply") else None
    if status in ("aborted", "abort"):
        return OWN_SCHEMAS["aborted_reply"]
    if msg_type in OWN_SCHEMAS:
        return _ERROR_REPLY if status == "error" else OWN_SCHEMAS[msg_type]
    if msg_type in msgspec_v5.schema_fragments:
        return None
    raise ValidationError(f"no schema knows the message type {msg_type!r}")


def _field(error: ValidationError, prefix: str) -> str:
    """The dotted path of the field a validation error is about."""
    path = (
        [prefix, *map(str, error.absolute_path)] if prefix else list(map(str, error.absolute_path))
    )
    if error.validator == "required":  # the error sits on the parent; name the missing key
        path.append(error.message.split("'")[1])
    return ".".join(path) or "message"


def validate_message(msg: dict[str, Any]) -> str:
    """Check ``msg`` (as ``jupyter_client`` deserializes it) against the schema of its type.

    Returns
    -------
    str
        Which schema checked the content: ``"msgspec_v5"`` (maintained) or ``"own"``.

    Raises
    ------
    MessageSchemaError
        Naming the message type, its ``msg_id`` and the field that does not match.
    """
    header = msg.get("header") if isinstance(msg, dict) else None
    header = header if isinstance(header, dict) else {}
    name = f"{header.get('msg_type', '?')} message {header.get('msg_id', '?')}"
    try:
        msgspec_v5.msg_structure_validator.validate(msg)
    except ValidationError as error:
        raise MessageSchemaError(f"{name}: field {_field(error, '')}: {error.message}") from None
    try:
        validator = _own_schema(msg)
        if validator is None:
            msgspec_v5.validate_message(msg)
        else:
            validator.validate(msg["content"])
    except ValidationError as error:
        raise MessageSchemaError(
            f"{name}: field {_field(error, 'content')}: {error.message}"
        ) from None
    return "msgspec_v5" if validator is None else "own"


# --------------------------------------------------------------------------- recording


class RecordingSession(Session):
    """A ``Session`` that appends every message it sends or receives to :attr:`record`.

    Messages it sends are recorded as ``Session.send`` returns them; messages it receives as
    ``Session.deserialize`` returns them. Both carry ``header``, ``parent_header``,
    ``metadata`` and ``content``. For each message it sends, :attr:`channels` keeps the
    channel it went out on (once :attr:`sockets` names the client's sockets, as
    :func:`recording_client` does), so :meth:`channel_of` can tell every message's channel.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.record: list[dict[str, Any]] = []
        #: ``msg_id`` of every message this session sent -> the channel it was sent on.
        self.channels: dict[str, str] = {}
        #: ``id()`` of each of the client's sockets -> its channel name.
        self.sockets: dict[int, str] = {}

    def send(self, stream: Any, msg_or_type: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: D102
        msg = super().send(stream, msg_or_type, *args, **kwargs)
        if msg is not None:
            self.record.append(msg)
            self.channels[msg["header"]["msg_id"]] = self.sockets.get(id(stream), "")
        return msg

    def deserialize(self, msg_list: Any, content: bool = True, copy: bool = True) -> Any:  # noqa: D102
        msg = super().deserialize(msg_list, content=content, copy=copy)
        self.record.append(msg)
        return msg

    def sent(self, msg: dict[str, Any]) -> bool:
        """True for a message this session sent, False for one it received."""
        return msg["header"]["msg_id"] in self.channels

    def channel_of(self, msg: dict[str, Any]) -> str:
        """The channel ``msg`` travelled on: as sent, or as the request it answers was sent."""
        known = self.channels.get(msg["header"]["msg_id"])
        if known:
            return known
        parent = self.channels.get(parent_id(msg) or "")
        if parent and msg["header"]["msg_type"].endswith("_reply"):
            return parent
        return channel_of(msg, sent=self.sent(msg))


def channel_of(msg: dict[str, Any], sent: bool | None = None) -> str:
    """The channel a message of this type travels on, from its type alone.

    ``kernel_info_*`` may travel on shell or control; it counts as shell here
    (:meth:`RecordingSession.channel_of` knows better). Comm messages go on shell when a
    client sends them (``sent``) and on iopub when the kernel does.
    """
    kind = msg["header"]["msg_type"]
    if kind in MESSAGE_TYPES["comms"]:
        return "shell" if sent else "iopub"
    for channel in ("shell", "control", "iopub", "stdin"):
        if kind in MESSAGE_TYPES[channel]:
            return channel
    return ""


def recording_client(
    connection_file: str | os.PathLike[str], timeout: float = 30.0, welcome_wait: float = 1.0
) -> BlockingKernelClient:
    """A blocking client, all channels started, whose ``session.record`` keeps its traffic.

    It returns once its iopub subscription is known to work: an ``iopub_welcome`` arrived
    (sent when a subscription is new to the kernel) or the ``status`` of a ``kernel_info``
    probe sent by a throwaway client. Every request sent afterwards therefore has all its iopub
    messages seen, and a record does not depend on how fast the subscription took effect. The
    message that proved it stays queued for the caller to read (and so to record).

    Probes start only after ``welcome_wait`` seconds without a welcome: a probe makes the
    kernel publish, and ipykernel 7.4 can miss a subscription that arrives while it publishes
    (``benchmarks/bench_welcome.py``), which would cost this client its welcome.

    Raises
    ------
    NoReplyError
        If nothing arrives on iopub within ``timeout`` seconds.
    """
    info = load_connection_info(connection_file)
    client = BlockingKernelClient(context=zmq.Context.instance(), session=RecordingSession())
    client.load_connection_info(info)
    client.start_channels()
    for name in ("shell", "iopub", "stdin", "control"):
        client.session.sockets[id(getattr(client, f"{name}_channel").socket)] = name
    deadline, prober = time.monotonic() + timeout, None
    try:
        quiet_wait = int(min(welcome_wait, timeout) * 1000)
        while not client.iopub_channel.socket.poll(quiet_wait):
            if time.monotonic() > deadline:
                raise NoReplyError(f"nothing arrived on iopub within {timeout} s")
            prober = prober or _connect(info, iopub=False)
            prober.kernel_info()
            quiet_wait = 100
    except BaseException:
        client.stop_channels()
        raise
    finally:
        if prober is not None:
            prober.stop_channels()
    return client


def report(*records: Iterable[dict[str, Any]], with_welcome: bool = False) -> str:
    """Validate every message of ``records``; return one line naming their types, sorted.

    The line starts with :data:`LIVE_TYPES_LINE` and is folded to fit a page (continuation
    lines are indented; :func:`reported_types` reads it back). It holds no counts, which depend on
    timing (how output was flushed, how many probes a subscription needed), so it is stable.
    ``iopub_welcome`` is validated like every message but named only if ``with_welcome``:
    whether a client gets one depends on timing too (ipykernel 7.4 can miss a subscription
    that arrives while it is publishing; ``benchmarks/bench_welcome.py`` measures how often),
    so only a page that waits for its welcome on a kernel that publishes nothing names it.

    Raises
    ------
    MessageSchemaError
        Listing every message that does not validate.
    """
    types, failures = set(), []
    for msg in (msg for record in records for msg in record):
        try:
            validate_message(msg)
        except MessageSchemaError as error:
            failures.append(str(error))
        types.add(msg["header"]["msg_type"])
    if failures:
        raise MessageSchemaError("\n".join(failures))
    if not with_welcome:
        types.discard("iopub_welcome")
    return wrap(f"{LIVE_TYPES_LINE} {', '.join(sorted(types))}")


def reported_types(text: str) -> set[str]:
    """The message types named by the :func:`report` lines in ``text`` (an output, say)."""
    found: set[str] = set()
    words: list[str] | None = None  # the report being read, if any
    for line in [*text.splitlines(), ""]:
        if words is not None and line.startswith("    "):
            words.append(line)
            continue
        if words is not None:
            found.update(t.strip() for t in ",".join(words).split(",") if t.strip())
            words = None
        if line.startswith(LIVE_TYPES_LINE):
            words = [line[len(LIVE_TYPES_LINE) :]]
    return found


def exchanges(record: Iterable[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Group a record by request: one ``(request, reply, side effects)`` row per request type.

    Side effects are the distinct types of the other messages whose parent is the request
    (iopub messages, and the kernel's ``input_request`` on stdin), sorted: their number and
    order depend on timing. Requests of one type that had the same answers share a row.
    ``input_reply`` has no row: ``jupyter_client`` sends it without a parent header.
    """
    record = list(record)
    rows: list[tuple[str, str, str]] = []
    for request in record:
        request_type = request["header"]["msg_type"]
        if not request_type.endswith("_request") or request_type == "input_request":
            continue  # input_request is the kernel's: a side effect of its execute_request
        msg_id = request["header"]["msg_id"]
        answers = {m["header"]["msg_type"] for m in record if parent_id(m) == msg_id}
        replies = {t for t in answers if t.endswith("_reply")}
        row = (
            request_type,
            ", ".join(sorted(replies)) or "-",
            ", ".join(sorted(answers - replies)) or "-",
        )
        if row not in rows:
            rows.append(row)
    return rows
