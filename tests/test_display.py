"""The helpers that make outputs fit the page: tables, pretty-printing, wrapping, pictures."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from utils import pictures
from utils.diagrams import Arrow, Box, Link, Note, boxes, sequence, sequence_from_record
from utils.display import WIDTH, Table, show, wrap
from utils.protocol import MESSAGE_TYPES
from utils.spec import ANCHORS, SECTION_OF, spec_url

SVG = "{http://www.w3.org/2000/svg}"


def test_a_table_is_html_and_aligned_text() -> None:
    table = Table([["shell", "execute_request"], ["iopub", "<status>"]], ["channel", "type"],
                  code=[1])  # fmt: skip
    html = table._repr_html_()
    assert html.startswith('<table class="book-table">')
    assert "<code>&lt;status&gt;</code>" in html  # escaped, and shown as code
    lines = repr(table).splitlines()
    assert lines[0].split() == ["channel", "type"] and set(lines[1]) <= {"-", " "}
    assert table.column("type") == ["execute_request", "<status>"]


def test_a_wide_table_wraps_within_the_page() -> None:
    table = Table([["x" * 10, " ".join(["word"] * 60)]], ["a", "b"])
    assert max(map(len, repr(table).splitlines())) <= WIDTH


def test_words_stay_whole_and_newlines_start_lines() -> None:
    table = Table([["frame 7", "x" * 30 + " " + "y" * 40, "a\nb"]], ["which", "bytes", "c"])
    text = repr(table)
    assert "x" * 30 in text and "y" * 40 in text  # narrowed, but no word was cut
    assert max(map(len, text.splitlines())) <= WIDTH
    assert [line.split()[-1] for line in text.splitlines()[2:4]] == ["a", "b"]


def test_a_row_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="2 cells and the table 3 headers"):
        Table([[1, 2]], ["a", "b", "c"])


def test_show_and_wrap_fit_the_page(capsys: pytest.CaptureFixture[str]) -> None:
    value = {"header": {"msg_id": "a" * 40}, "content": {"text": "y" * 200, "b": "x y " * 60}}
    show(value)
    printed = capsys.readouterr().out
    assert max(map(len, printed.splitlines())) <= WIDTH
    assert eval(printed) == value  # the pieces join up to the same value
    folded = wrap("message types: " + ", ".join(["execute_request"] * 20))
    assert max(map(len, folded.splitlines())) <= WIDTH
    assert all(line.startswith("    ") for line in folded.splitlines()[1:])


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    return root


def test_a_sequence_diagram_is_svg_with_its_description_as_title() -> None:
    drawing = sequence(
        ["client", "kernel"],
        [Arrow("client", "kernel", "execute_request", "shell"), Note(("kernel",), "runs"),
         Arrow("kernel", "client", "status: idle <&>", "iopub")],
        title="t", alt="The client asks & the kernel answers.",
    )  # fmt: skip
    root = parse(drawing.svg)
    assert root.find(f"{SVG}title").text == drawing.alt
    assert float(root.get("width")) <= 780
    bundle = drawing._repr_mimebundle_()
    assert bundle["text/plain"] == drawing.alt and bundle["image/svg+xml"] == drawing.svg
    long = sequence(["a", "b"], [], title="t", alt="word " * 40)._repr_mimebundle_()
    assert max(map(len, long["text/plain"].splitlines())) <= WIDTH  # folded to fit
    assert "status: idle &lt;&amp;&gt;" in drawing.svg


def test_a_sequence_refuses_unknown_lanes() -> None:
    with pytest.raises(ValueError, match="server"):
        sequence(["a", "b"], [Arrow("a", "server", "x")], title="t", alt="a")


def test_sequence_from_record_keeps_channel_order_and_joins_streams() -> None:
    def msg(msg_type, second, content=None, parent="r"):
        return {"header": {"msg_type": msg_type, "msg_id": f"{msg_type}{second}",
                           "date": second},  # fmt: skip
                "parent_header": {"msg_id": parent}, "content": content or {}}  # fmt: skip

    request = msg("execute_request", 0, {"code": "print(1); 1"}, parent="")
    request["header"]["msg_id"] = "r"
    record = [
        request,
        msg("status", 1, {"execution_state": "busy"}),
        msg("stream", 5, {"name": "stdout", "text": "1"}),  # flushed late, sent first
        msg("stream", 6, {"name": "stdout", "text": "\n"}),
        msg("execute_result", 3, {"data": {"text/plain": "1"}}),
        msg("execute_reply", 7, {"status": "ok"}),
        msg("status", 8, {"execution_state": "idle"}),
    ]
    drawing = sequence_from_record(record, title="t", alt="a", about=["r"])
    labels = [t.text for t in parse(drawing.svg).iter(f"{SVG}text")]
    kinds = {"execute_request", "status", "stream", "execute_result", "execute_reply"}
    order = [label for label in labels if label and label.split()[0].rstrip(":") in kinds]
    assert order == ["execute_request 'print(1); 1'", "status: busy", "stream stdout: '1\\n'",
                     "execute_result: 1", "execute_reply", "status: idle"]  # fmt: skip


def test_the_same_capture_gives_the_same_picture() -> None:
    items = [Box("a", "a", 10, 40, 100, 40), Box("b", "b\nline", 300, 40, 100, 40)]
    one = boxes(items, [Link("a", "b", "ZeroMQ", "shell", both=True)], title="t", alt="x")
    two = boxes(items, [Link("a", "b", "ZeroMQ", "shell", both=True)], title="t", alt="x")
    assert one.svg == two.svg
    with pytest.raises(ValueError, match="c"):
        boxes(items, [Link("a", "c")], title="t", alt="x")


@pytest.mark.parametrize("name", pictures.__all__)
def test_every_fixed_picture_is_valid_and_described(name: str) -> None:
    drawing = getattr(pictures, name)()
    root = parse(drawing.svg)
    assert len(drawing.alt) > 60 and float(root.get("width")) <= 780


def test_every_message_type_links_to_a_section_of_the_spec() -> None:
    types = [t for group in MESSAGE_TYPES.values() for t in group]
    assert sorted(SECTION_OF) == sorted(types)
    assert all(anchor in ANCHORS for anchor in SECTION_OF.values())
    assert spec_url("status").endswith("messaging.html#status")
    with pytest.raises(KeyError):
        spec_url("no_such_section")
