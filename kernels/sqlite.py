"""A SQL kernel: each execution runs statements on one in-memory sqlite3 database.

It shows every part of a kernel a frontend relies on: results (``execute_result`` with a
text and an HTML table), errors (``error`` with a traceback), completion, inspection and
``is_complete`` for multi-line input.
"""

from __future__ import annotations

import html
import re
import sqlite3
from typing import Any

from ipykernel.kernelapp import IPKernelApp
from ipykernel.kernelbase import Kernel

KEYWORDS = sorted(
    "SELECT FROM WHERE INSERT INTO VALUES UPDATE SET DELETE CREATE TABLE DROP ORDER BY "
    "GROUP HAVING LIMIT JOIN ON AS AND OR NOT NULL PRIMARY KEY INTEGER TEXT REAL COUNT".split()
)
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")


def table_text(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    """Rows as aligned plain text, header first."""
    cells = [columns] + [["NULL" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = [
        " | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def table_html(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    """Rows as an HTML table."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class SqliteKernel(Kernel):
    """SQL over sqlite3; the result of the last ``SELECT`` becomes the ``execute_result``."""

    implementation = "sqlite-book"
    implementation_version = "1.0"
    banner = f"SQLite {sqlite3.sqlite_version} kernel (in-memory database)"
    language_info = {
        "name": "sql",
        "mimetype": "application/sql",
        "file_extension": ".sql",
        "version": sqlite3.sqlite_version,
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.db = sqlite3.connect(":memory:")

    async def do_execute(
        self,
        code: str,
        silent: bool,
        store_history: bool = True,
        user_expressions: dict[str, Any] | None = None,
        allow_stdin: bool = False,
        *,
        cell_meta: dict[str, Any] | None = None,
        cell_id: str | None = None,
    ) -> dict[str, Any]:
        try:
            columns, rows = [], []
            for statement in split_statements(code):
                cursor = self.db.execute(statement)
                if cursor.description:
                    columns = [d[0] for d in cursor.description]
                    rows = cursor.fetchall()
            self.db.commit()
        except sqlite3.Error as error:
            content = {
                "ename": type(error).__name__,
                "evalue": str(error),
                "traceback": [
                    f"{type(error).__name__}: {error}",
                    f"in: {code.strip()}",
                ],
            }
            if not silent:
                self.send_response(self.iopub_socket, "error", content)
            count = self.execution_count
            return {"status": "error", "execution_count": count, **content}
        if columns and not silent:
            data = {
                "text/plain": table_text(columns, rows),
                "text/html": table_html(columns, rows),
            }
            self.send_response(
                self.iopub_socket,
                "execute_result",
                {"execution_count": self.execution_count, "data": data, "metadata": {}},
            )
        return {
            "status": "ok",
            "execution_count": self.execution_count,
            "payload": [],
            "user_expressions": {},
        }

    def names(self) -> list[str]:
        """SQL keywords and the names of the database's tables."""
        tables = [row[0] for row in self.db.execute("SELECT name FROM sqlite_master")]
        return KEYWORDS + sorted(tables)

    async def do_complete(self, code: str, cursor_pos: int) -> dict[str, Any]:
        match = WORD.search(code[:cursor_pos])
        prefix = match.group() if match else ""
        matches = [n for n in self.names() if prefix and n.lower().startswith(prefix.lower())]
        return {
            "status": "ok",
            "matches": matches,
            "cursor_start": cursor_pos - len(prefix),
            "cursor_end": cursor_pos,
            "metadata": {},
        }

    async def do_inspect(
        self, code: str, cursor_pos: int, detail_level: int = 0, omit_sections: Any = ()
    ) -> dict[str, Any]:
        left = re.search(r"[A-Za-z0-9_]*$", code[:cursor_pos]).group()  # type: ignore[union-attr]
        right = re.match(r"[A-Za-z0-9_]*", code[cursor_pos:]).group()  # type: ignore[union-attr]
        query = "SELECT sql FROM sqlite_master WHERE name = ?"
        word = left + right
        if word.upper() in KEYWORDS:
            text = f"{word.upper()}: an SQL keyword (see https://sqlite.org/lang.html)"
            return {"status": "ok", "found": True, "data": {"text/plain": text}, "metadata": {}}
        row = self.db.execute(query, (word,)).fetchone()
        if row is None:
            return {"status": "ok", "found": False, "data": {}, "metadata": {}}
        return {"status": "ok", "found": True, "data": {"text/plain": row[0]}, "metadata": {}}

    async def do_is_complete(self, code: str) -> dict[str, Any]:
        if code.count("(") < code.count(")"):
            return {"status": "invalid"}
        if sqlite3.complete_statement(code):
            return {"status": "complete"}
        return {"status": "incomplete", "indent": "    " if code.rstrip().endswith("(") else ""}


def split_statements(code: str) -> list[str]:
    """Split SQL into complete statements (sqlite3 executes one at a time)."""
    statements, current = [], ""
    for char in code:
        current += char
        if char == ";" and sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements


if __name__ == "__main__":
    IPKernelApp.launch_instance(kernel_class=SqliteKernel)
