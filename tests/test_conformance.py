"""utils.conformance: the conformance matrix of one kernel, probed live (ipykernel here).

The page ``notebooks/many-kernels/conformance-matrix.ipynb`` shows the matrix of all four
kernels; this checks the harness itself: every row gets a cell, ipykernel's cells are the
ones its behaviour calls for, every wait is bounded, and the rules that excuse a silence
(an older protocol version, a feature not advertised) are applied as the spec says.
"""

from __future__ import annotations

import time

import pytest

from utils.conformance import (
    OK,
    ROWS,
    RULES,
    Conformance,
    _apply_spec,
    brief,
    probe,
    read_junit,
    verdict,
)
from utils.protocol import MESSAGE_TYPES


@pytest.fixture(scope="module")
def ipykernel() -> tuple[Conformance, float]:
    start = time.monotonic()
    result = probe("python3")
    return result, time.monotonic() - start


def test_every_row_has_a_cell(ipykernel: tuple[Conformance, float]) -> None:
    result, _ = ipykernel
    assert len(ROWS) == 43 + len(RULES)
    assert {row for _, row in ROWS} <= set(result.cells)
    assert sum(len(kinds) for kinds in MESSAGE_TYPES.values()) == 43


def test_ipykernel_conforms_but_for_debug_reply(ipykernel: tuple[Conformance, float]) -> None:
    result, _ = ipykernel
    # the spec gives every reply a status, and makes debug_reply a DAP response (no status)
    assert result.deviations() == ["reply has status"]
    assert result.cells["reply has status"] == "none in debug_reply"
    assert result.evidence["reply has status"]["header"]["msg_type"] == "debug_reply"
    assert result.cells["kernel_info_reply"] == f"{OK} (5.3)"
    assert result.cells["stop_on_error true"] == f"{OK} (aborted)"
    assert result.cells["input_request only if allowed"] == f"{OK} (error)"
    assert result.cells["debug_event"] == "not probed"


def test_probe_is_bounded(ipykernel: tuple[Conformance, float]) -> None:
    _, seconds = ipykernel
    assert seconds < 40  # two kernel starts and ~30 requests, none left waiting


def test_verdict_names_the_field() -> None:
    msg = {
        "header": {"msg_id": "1", "msg_type": "status", "username": "u", "session": "s",
                   "date": "2026-01-01T00:00:00Z", "version": "5.3"},
        "parent_header": {},
        "metadata": {},
        "content": {"execution_state": "asleep"},
        "buffers": [],
    }  # fmt: skip
    assert verdict(msg) == "schema: content.execution_state"
    msg["content"]["execution_state"] = "idle"
    assert verdict(msg) == OK
    msg["parent_header"] = None
    assert verdict(msg) == "schema: parent_header"
    assert brief(msg) == {
        "msg_type": "status",
        "parent_header": None,
        "content": {"execution_state": "idle"},
    }


def test_silences_the_spec_allows() -> None:
    old = Conformance("old", interrupt_mode="signal")
    old.kernel_info = {"content": {"protocol_version": "5.3", "supported_features": []}}
    new = Conformance("new", interrupt_mode="signal")
    new.kernel_info = {"content": {"protocol_version": "5.5", "supported_features": []}}
    liar = Conformance("liar", interrupt_mode="message")
    liar.kernel_info = {"content": {"protocol_version": "5.3", "supported_features": ["debugger"]}}
    for result in (old, new, liar):
        for _, row in ROWS:
            result.cells[row] = "no reply in 5 s" if "request" in row else "not sent"
        _apply_spec(result)
    assert old.cells["create_subshell_request"] == "n/a (5.3)"
    assert new.cells["create_subshell_request"] == f"{OK} no reply"
    assert new.cells["create_subshell_reply"] == f"{OK} none"
    assert new.cells["debug_request"] == "no reply in 5 s"  # 5.5 without the debugger
    assert liar.cells["debug_request"] == "no reply in 5 s"  # advertised, so expected
    assert old.cells["interrupt_request"] == "n/a (signal mode)"
    assert liar.cells["interrupt_request"] == "no reply in 5 s"
    assert old.cells["connect_request"] == "n/a (deprecated)"


def test_read_junit(tmp_path) -> None:
    report = tmp_path / "report.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.t.TestA" name="test_one"/>'
        '<testcase classname="tests.t.TestA" name="test_two">'
        '<skipped type="pytest.xfail" message="does X"/></testcase>'
        '<testcase classname="tests.t.TestB" name="test_one">'
        '<skipped type="pytest.skip" message="no sample"/></testcase>'
        '<testcase classname="tests.t.TestB" name="test_two"><failure message="boom"/>'
        "</testcase></testsuite></testsuites>"
    )
    outcomes, reasons = read_junit(report, {"TestA": "a", "TestB": "b"})
    assert outcomes == {
        "one": {"a": "passed", "b": "skipped"},
        "two": {"a": "xfail", "b": "failed"},
    }
    assert reasons == [("a", "two", "does X")]
