"""The protocol atlas: the spec's 43 message types are all produced live in the pages, and
every captured message is checked against a schema that can fail."""

from __future__ import annotations

import copy
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_kernel_test import msgspec_v5
from nbval.plugin import find_comment_markers, find_metadata_tags

from utils.protocol import (
    LIVE_TYPES_LINE,
    MESSAGE_TYPES,
    OWN_SCHEMAS,
    SPEC_VERSION,
    MessageSchemaError,
    exchanges,
    recording_client,
    report,
    reported_types,
    validate_message,
)
from utils.run_jupyter_kernel import IPKernelAppProcess, NoReplyError

ROOT = Path(__file__).resolve().parents[1]
ALL_TYPES = [t for types in MESSAGE_TYPES.values() for t in types]


def test_the_spec_list_has_43_distinct_types() -> None:
    assert SPEC_VERSION == "5.5"
    assert len(ALL_TYPES) == len(set(ALL_TYPES)) == 43
    assert set(MESSAGE_TYPES) == {"shell", "control", "iopub", "stdin", "comms"}


def test_every_type_has_a_schema() -> None:
    """Maintained (msgspec_v5) where it covers the type, the project's own for the rest."""
    uncovered = [
        t for t in ALL_TYPES if t not in msgspec_v5.schema_fragments and t not in OWN_SCHEMAS
    ]
    assert uncovered == []


# --------------------------------------------------------------------------- the pages


def checked_lines(notebook: Path) -> Iterator[str]:
    """Lines of the stored outputs of cells whose outputs nbval compares."""
    for cell in json.loads(notebook.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        markers = dict(find_comment_markers("".join(cell["source"])))
        markers.update(find_metadata_tags(cell.get("metadata", {})))
        if markers.get("skip") or markers.get("check") is False:
            continue  # NBVAL_SKIP or NBVAL_IGNORE_OUTPUT: not re-validated
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            yield from "".join(text).splitlines()


def live_types(notebook: Path) -> set[str]:
    """The message types a page's stored, nbval-checked outputs say it captured and validated."""
    return reported_types("\n".join(checked_lines(notebook)))


PAGES = sorted((ROOT / "notebooks").rglob("*.ipynb"))


def test_every_spec_type_is_produced_live_in_some_page() -> None:
    seen = {page.relative_to(ROOT).as_posix(): live_types(page) for page in PAGES}
    produced = set().union(*seen.values())
    missing = [t for t in ALL_TYPES if t not in produced]
    assert not missing, f"message types of spec {SPEC_VERSION} no page produces live: {missing}"
    unknown = produced - set(ALL_TYPES)
    assert not unknown, f"pages report message types the spec does not have: {unknown}"


def test_every_protocol_page_reports_its_messages() -> None:
    pages = sorted((ROOT / "notebooks" / "protocol").glob("*.ipynb"))
    assert pages, "the protocol chapter has no pages"
    silent = [p.name for p in pages if p.stem != "message-types" and not live_types(p)]
    assert silent == [], "pages without a checked report line"


def test_a_page_without_its_report_line_counts_for_nothing(tmp_path: Path) -> None:
    """The coverage check reads only outputs that nbval re-validates."""
    page = ROOT / "notebooks" / "protocol" / "comms.ipynb"
    nb = json.loads(page.read_text())
    assert "comm_open" in live_types(page)
    for cell in nb["cells"]:
        if any(LIVE_TYPES_LINE in "".join(o.get("text", "")) for o in cell.get("outputs", [])):
            cell["source"] = "# NBVAL_IGNORE_OUTPUT\n" + "".join(cell["source"])
    ignored = tmp_path / "ignored.ipynb"
    ignored.write_text(json.dumps(nb))
    assert live_types(ignored) == set()


# --------------------------------------------------------------------------- validation


@pytest.fixture(scope="module")
def traffic(kernel: IPKernelAppProcess) -> list[dict]:
    """A real record: kernel_info, an execution with output and an error, a comm_info."""
    client = recording_client(kernel.connection_file)
    try:
        client.wait_for_ready(timeout=30)
        msg_id = client.execute("print('x'); 1 / 0")
        client.get_shell_msg(timeout=30)
        while not (
            (msg := client.get_iopub_msg(timeout=30))["parent_header"].get("msg_id") == msg_id
            and msg["content"].get("execution_state") == "idle"
        ):
            pass  # the iopub messages reach the record as they are read
        client.comm_info()
        client.get_shell_msg(timeout=30)
        return list(client.session.record)
    finally:
        client.stop_channels()


def by_type(record: list[dict], msg_type: str) -> dict:
    return copy.deepcopy(next(m for m in record if m["header"]["msg_type"] == msg_type))


def test_a_real_record_validates_in_both_directions(traffic: list[dict]) -> None:
    types = reported_types(report(traffic))
    for msg_type in ("execute_request", "execute_reply", "stream", "error", "comm_info_reply"):
        assert msg_type in types
    assert validate_message(by_type(traffic, "execute_request")) == "msgspec_v5"
    assert validate_message(by_type(traffic, "iopub_welcome")) == "own"


def altered(content: dict, **changes: object) -> dict:
    """A copy of ``content`` with ``changes``; a change to None removes the key."""
    content = {**content, **changes}
    return {k: v for k, v in content.items() if v is not None}


@pytest.mark.parametrize(
    ("msg_type", "field", "alter"),
    [
        ("stream", "content.name", lambda c: altered(c, name="stdnothing")),
        ("execute_reply", "content.ename", lambda c: altered(c, ename=3)),  # an error reply
        ("error", "content.traceback", lambda c: altered(c, traceback=None)),
        ("iopub_welcome", "content.subscription", lambda c: altered(c, subscription=0)),
        ("comm_info_request", "content", lambda c: ["not", "a", "dict"]),
    ],
    ids=["bad-enum", "wrong-type", "missing", "own-schema", "not-an-object"],
)
def test_an_altered_message_fails_naming_message_and_field(
    traffic: list[dict], msg_type: str, field: str, alter
) -> None:
    msg = by_type(traffic, msg_type)
    msg["content"] = alter(msg["content"])
    with pytest.raises(MessageSchemaError) as caught:
        validate_message(msg)
    assert str(caught.value).startswith(
        f"{msg_type} message {msg['header']['msg_id']}: field {field}: "
    )


def test_report_lists_every_failure(traffic: list[dict]) -> None:
    broken = [by_type(traffic, "stream"), by_type(traffic, "status")]
    broken[0]["content"]["text"] = None
    broken[1]["content"]["execution_state"] = "sleeping"
    with pytest.raises(MessageSchemaError) as caught:
        report(traffic, broken)
    lines = str(caught.value).splitlines()
    assert [line.split(": field ")[1].split(":")[0] for line in lines] == [
        "content.text",
        "content.execution_state",
    ]


def test_an_unknown_type_is_an_error(traffic: list[dict]) -> None:
    msg = by_type(traffic, "status")
    msg["header"]["msg_type"] = "status_update"
    with pytest.raises(
        MessageSchemaError, match="no schema knows the message type 'status_update'"
    ):
        validate_message(msg)


def test_a_message_without_metadata_fails(traffic: list[dict]) -> None:
    msg = by_type(traffic, "status")
    del msg["metadata"]
    with pytest.raises(MessageSchemaError, match=r"^status message .*: field metadata: "):
        validate_message(msg)


def test_ipykernels_aborted_and_password_spellings_are_accepted(traffic: list[dict]) -> None:
    """ipykernel 7.4 says "aborted" (as the spec does) and password=False (msgspec_v5: a number)."""
    reply = by_type(traffic, "execute_reply")
    reply["content"] = {"status": "aborted"}
    assert validate_message(reply) == "own"
    request = by_type(traffic, "status")
    request["header"]["msg_type"] = "input_request"
    request["content"] = {"prompt": "name? ", "password": False}
    assert validate_message(request) == "own"
    with pytest.raises(Exception, match="is not of type 'number'"):
        msgspec_v5.validate_message(request)  # why this project keeps its own schema here


def test_exchanges_group_answers_by_request(traffic: list[dict]) -> None:
    rows = {request: (reply, effects) for request, reply, effects in exchanges(traffic)}
    assert rows["execute_request"] == ("execute_reply", "error, execute_input, status, stream")
    assert rows["comm_info_request"][0] == "comm_info_reply"  # its iopub status was not read


# --------------------------------------------------------------------------- recording_client


def test_a_recording_client_sees_all_of_its_first_requests_iopub(
    kernel: IPKernelAppProcess,
) -> None:
    """Also when another client is subscribed already, so that no iopub_welcome comes."""
    other = recording_client(kernel.connection_file)
    try:
        for _ in range(20):  # no welcome comes: each proof is a probe's status, so no need to wait
            client = recording_client(kernel.connection_file, welcome_wait=0.1)
            try:
                msg_id = client.kernel_info()
                client.get_shell_msg(timeout=30)
                states = []
                while "idle" not in states:
                    msg = client.get_iopub_msg(timeout=30)
                    if msg["parent_header"].get("msg_id") == msg_id:
                        states.append(msg["content"]["execution_state"])
                assert states == ["busy", "idle"]
            finally:
                client.stop_channels()
    finally:
        other.stop_channels()


def all_threads_stopped(pid: int) -> bool:
    """True once every thread of ``pid`` is in state T (stopped), as /proc shows it."""
    states = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            states.append((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
        except OSError:
            continue
    return bool(states) and all(state in ("T", "t") for state in states)


def test_a_recording_client_of_a_stopped_kernel_fails_in_bounded_time(tmp_path: Path) -> None:
    with IPKernelAppProcess(tmp_path / "kernel.json") as kernel:
        os.kill(kernel.pid, signal.SIGSTOP)
        try:
            # kill() returns before every thread has stopped (its ZeroMQ I/O thread could still
            # welcome our subscription): wait until all of them are (T)
            deadline = time.monotonic() + 5
            while not all_threads_stopped(kernel.pid):
                assert time.monotonic() < deadline, "the kernel did not stop"
                time.sleep(0.01)
            start = time.monotonic()
            with pytest.raises(NoReplyError, match="nothing arrived on iopub within 1.0 s"):
                recording_client(kernel.connection_file, timeout=1.0)
            assert time.monotonic() - start < 5
        finally:
            os.kill(kernel.pid, signal.SIGCONT)


def retyped(record: list[dict], msg_type: str, content: dict) -> dict:
    """A copy of a real message of the record, turned into ``msg_type`` with ``content``."""
    msg = by_type(record, "status")
    msg["header"]["msg_type"] = msg["msg_type"] = msg_type
    msg["content"] = content
    return msg


def test_ipykernels_null_target_module_and_seqless_debug_replies_are_accepted(
    traffic: list[dict],
) -> None:
    """Allowed, narrowly: the rest of each schema still holds."""
    comm_open = {"comm_id": "c", "target_name": "t", "data": {}, "target_module": None}
    assert validate_message(retyped(traffic, "comm_open", comm_open)) == "own"
    with pytest.raises(MessageSchemaError, match="field content.target_module: 3 is not"):
        validate_message(retyped(traffic, "comm_open", {**comm_open, "target_module": 3}))
    dump_cell = {"type": "response", "request_seq": 4, "success": True, "command": "dumpCell"}
    assert validate_message(retyped(traffic, "debug_reply", dump_cell)) == "own"
    without_request_seq = {k: v for k, v in dump_cell.items() if k != "request_seq"}
    with pytest.raises(MessageSchemaError, match="field content.request_seq: "):
        validate_message(retyped(traffic, "debug_reply", without_request_seq))


def test_an_error_reply_without_ename_fails(traffic: list[dict]) -> None:
    """ipykernel 7.4's answer to deleting an unknown subshell, shown on the subshells page."""
    content = {"status": "error", "evalue": "Unknown subshell_id 'x'"}
    with pytest.raises(MessageSchemaError, match="field content.ename: 'ename' is a required"):
        validate_message(retyped(traffic, "delete_subshell_reply", content))


def test_report_names_iopub_welcome_only_when_asked(traffic: list[dict]) -> None:
    """Whether a client gets a welcome depends on timing; a broken one fails all the same."""
    assert "iopub_welcome" not in reported_types(report(traffic))
    assert "iopub_welcome" in reported_types(report(traffic, with_welcome=True))
    broken = by_type(traffic, "iopub_welcome")
    del broken["content"]["subscription"]
    with pytest.raises(MessageSchemaError, match="field content.subscription"):
        report(traffic, [broken])
