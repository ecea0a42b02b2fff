"""Show values so that they fit a page of the book: tables as tables, the rest wrapped.

A page's content column holds about 88 characters of monospace text. Everything the pages
show goes through these helpers, so nothing needs sideways scrolling, in the rendered book or
in JupyterLab:

- :class:`Table`: rows and headers, shown as an HTML table (the rendered book, JupyterLab) with
  an aligned plain-text version (terminals, and the output check that re-runs the pages).
- :func:`show`: pretty-print a message, or any value, one field per line within :data:`WIDTH`.
- :func:`wrap`: a long line of words (a list of message types, say) folded within
  :data:`WIDTH`.
"""

from __future__ import annotations

import html
import pprint
import re
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["WIDTH", "Table", "show", "wrap"]

#: Columns of monospace text that fit the book's content column (780 px at 8.4 px a character).
WIDTH = 88


class Table:
    """A table for a notebook output: HTML where it can be rendered, aligned text elsewhere.

    Parameters
    ----------
    rows
        The rows; each cell is shown with ``str``. A cell that is a list or tuple is shown
        as its items joined by ``", "``.
    headers
        The column headings.
    code
        Indices of the columns whose cells are code (message types, field names): they are
        shown in a monospace font.
    caption
        An optional caption, shown above the table.
    """

    def __init__(
        self,
        rows: Iterable[Sequence[Any]],
        headers: Sequence[str],
        *,
        code: Iterable[int] = (),
        caption: str | None = None,
    ) -> None:
        self.headers = [str(h) for h in headers]
        self.rows = [[_cell(value) for value in row] for row in rows]
        self.code = set(code)
        self.caption = caption
        for row in self.rows:
            if len(row) != len(self.headers):
                raise ValueError(
                    f"a row has {len(row)} cells and the table {len(self.headers)} headers: {row}"
                )

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, header: str) -> list[str]:
        """The cells of one column, by its heading."""
        index = self.headers.index(header)
        return [row[index] for row in self.rows]

    def _repr_html_(self) -> str:
        def cell(tag: str, index: int, value: str) -> str:
            text = html.escape(value)
            if index in self.code and tag == "td" and value:
                text = f"<code>{text}</code>"
            return f"<{tag}>{text}</{tag}>"

        head = "".join(cell("th", i, h) for i, h in enumerate(self.headers))
        body = "".join(
            "<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>"
            for row in self.rows
        )
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return (
            f'<table class="book-table">{caption}<thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
        )

    def __repr__(self) -> str:
        """Aligned columns within :data:`WIDTH`; a cell too wide wraps inside its column.

        A cell's ``\n`` starts a new line in it. Columns that do not fit are narrowed, widest
        first, but not below their longest word, so that words are not cut (only if that is
        not enough are long words cut).
        """
        lines_of = [[v.split("\n") for v in row] for row in [self.headers, *self.rows]]
        widths = [
            max(len(line) for row in lines_of for line in row[i]) for i in range(len(self.headers))
        ]
        words = [
            max(
                (len(word) for row in lines_of for line in row[i] for word in line.split()),
                default=1,
            )
            for i in range(len(self.headers))
        ]
        budget = WIDTH - 2 * (len(widths) - 1)
        for floor in (words, [8] * len(widths)):  # first keep words whole, then cut if needed
            while sum(widths) > budget:
                room = [w - f for w, f in zip(widths, floor, strict=True)]
                if max(room) <= 0:
                    break
                widest = max(range(len(widths)), key=lambda i: (room[i] > 0, widths[i]))
                widths[widest] = max(floor[widest], widths[widest] - (sum(widths) - budget))
        lines = []
        if self.caption:
            lines += textwrap.wrap(self.caption, WIDTH)
        for row in [lines_of[0], None, *lines_of[1:]]:
            if row is None:
                lines.append("  ".join("-" * w for w in widths))
                continue
            cells = [
                [piece for line in cell for piece in (textwrap.wrap(line, w) or [""])]
                for cell, w in zip(row, widths, strict=True)
            ]
            for k in range(max(map(len, cells))):
                parts = [
                    (c[k] if k < len(c) else "").ljust(w)
                    for c, w in zip(cells, widths, strict=True)
                ]
                lines.append("  ".join(parts).rstrip())
        return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)


class _Printer(pprint.PrettyPrinter):
    """``pprint``, but a long string without spaces (a key, a hash) is split too."""

    def _pprint_str(self, value: str, stream: Any, indent: int, allowance: int, context: Any,
                    level: int) -> None:  # fmt: skip
        if level == 1:
            indent, allowance = indent + 1, allowance + 1
        room = max(self._width - indent - allowance, 16)
        if len(repr(value)) <= room:
            stream.write(repr(value))
            return
        chunks: list[str] = []
        for line in value.splitlines(keepends=True):
            piece = ""
            for word in re.findall(r"\S+\s*|\s+", line):
                while len(repr(word)) > room:  # a word too long for a line: cut it
                    cut = room - 2
                    while len(repr(word[:cut])) > room:
                        cut -= 1
                    if piece:
                        chunks.append(piece)
                        piece = ""
                    chunks.append(word[:cut])
                    word = word[cut:]
                if piece and len(repr(piece + word)) > room:
                    chunks.append(piece)
                    piece = ""
                piece += word
            if piece:
                chunks.append(piece)
        stream.write("(" + ("\n" + " " * indent).join(map(repr, chunks)) + ")")

    _dispatch = dict(pprint.PrettyPrinter._dispatch)  # type: ignore[attr-defined]
    _dispatch[str.__repr__] = _pprint_str


def show(value: Any, width: int = WIDTH) -> None:
    """Print ``value`` pretty, one field per line where a line would be too long.

    Dictionaries keep their order (a message's header comes before its content, as on the
    wire); long strings are split into pieces that fit (Python joins adjacent strings, so
    the output can be pasted back as the same value).
    """
    print(_Printer(width=width, sort_dicts=False).pformat(value))


def wrap(text: str, width: int = WIDTH, indent: str = "    ") -> str:
    """``text`` folded at spaces within ``width`` columns; continuation lines indented."""
    return "\n".join(textwrap.wrap(text, width, subsequent_indent=indent, break_on_hyphens=False))
