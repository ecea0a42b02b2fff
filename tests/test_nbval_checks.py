"""The output check must be able to fail, and the sanitizer must hide only volatile values."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from nbval.plugin import get_sanitize_patterns

ROOT = Path(__file__).resolve().parents[1]
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
PAGE = ROOT / "notebooks" / "intro.ipynb"


def sanitize(text: str) -> str:
    for regex, replacement in get_sanitize_patterns(SANITIZE.read_text()):
        text = re.sub(regex, replacement, text)
    return text


def run_nbval(*notebooks: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(cwd),
         "--nbval", f"--nbval-sanitize-with={SANITIZE}", *map(str, notebooks)],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_an_altered_stored_output_fails_nbval(tmp_path: Path) -> None:
    """A copy of a page with one stored result changed (84 to 85) fails; the original passes."""
    nb = json.loads(PAGE.read_text())
    altered_cells, code_cells, altered_index = 0, 0, None
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            code_cells += 1
        for output in cell.get("outputs", []):
            text = "".join(output.get("data", {}).get("text/plain", []))
            if "execute_result: 84" in text:
                output["data"]["text/plain"] = text.replace(
                    "execute_result: 84", "execute_result: 85"
                )
                altered_cells += 1
                altered_index = code_cells - 1  # nbval numbers code cells from 0
    assert altered_cells == 1, "the page no longer stores the output this test alters"
    altered = tmp_path / "altered.ipynb"
    altered.write_text(json.dumps(nb))
    original = tmp_path / "original.ipynb"
    shutil.copy(PAGE, original)

    result = run_nbval(altered, original, cwd=tmp_path)

    report = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)  # drop colour codes
    assert result.returncode == 1, report[-3000:]
    assert re.search(r"\b1 failed\b", report.splitlines()[-1]), report[-3000:]
    failed = [line for line in report.splitlines() if line.startswith("FAILED")]
    expected = f"FAILED altered.ipynb::Cell {altered_index} - Notebook cell execution failed"
    assert failed == [expected], failed
    assert "+ _result: 85" in report  # nbval names the value that differs


def test_sanitizer_replaces_volatile_values() -> None:
    header = (
        "{'msg_id': 'b129712b-72dfc25a8727a31966a73369_36544_5', 'username': 'fedor', "
        "'session': 'b129712b-72dfc25a8727a31966a73369', "
        "'date': datetime.datetime(2025, 4, 16, 19, 14, 14, 147446, tzinfo=tzutc())}"
    )
    assert sanitize(header) == (
        "{'msg_id': '<MSG_ID>', 'username': '<USER>', 'session': '<HEX_ID>', 'date': <DATETIME>}"
    )
    sent = "'date': datetime.datetime(2026, 11, 25, 18, 30, 1, 5, tzinfo=datetime.timezone.utc)}"
    assert sanitize(sent) == "'date': <DATETIME>}"
    assert (
        sanitize('"shell_port": 33057, "ip": "127.0.0.1"')
        == '"shell_port": <PORT>, "ip": "127.0.0.1"'
    )
    assert sanitize("<IPKernelAppProcess pid=2142 alive '/tmp/ipkernel-x1/kernel.json'>") == (
        "<IPKernelAppProcess pid=<PID> alive '<TMP_PATH>'>"
    )


def test_sanitizer_keeps_real_content() -> None:
    real = [
        "['status: busy', \"execute_input: 'x = 42\\ny = x * 2\\ny'\", 'execute_result: 84']",
        "stream stdout: 'hello\\n'",
        "{'execution_state': 'idle'}",
        "jupyter_client 8.10.0",
        "protocol       5.4",
        "error: ZeroDivisionError: division by zero",
        "'signature_scheme': 'hmac-sha256', 'transport': 'tcp', 'ip': '127.0.0.1'",
    ]
    for text in real:
        assert sanitize(text) == text


def test_the_stream_name_is_compared(tmp_path: Path) -> None:
    """A text stored as stdout but printed to stderr fails: nbval keys streams by their name.

    ``name`` is in nbval's list of keys it skips, but nbval first turns each stream output into
    ``{stream name: text}``, so the name takes part in the comparison after all.
    """

    def notebook(stored_name: str) -> dict:
        cell = {
            "cell_type": "code", "execution_count": 1, "id": "c1", "metadata": {},
            "source": "import sys\nprint('hello', file=sys.stderr)",
            "outputs": [{"output_type": "stream", "name": stored_name, "text": "hello\n"}],
        }  # fmt: skip
        return {
            "cells": [cell], "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}},
        }  # fmt: skip

    for name in ("stderr", "stdout"):
        (tmp_path / f"{name}.ipynb").write_text(json.dumps(notebook(name)))

    result = run_nbval(tmp_path / "stderr.ipynb", tmp_path / "stdout.ipynb", cwd=tmp_path)

    report = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    failed = [line.split(" - ")[0] for line in report.splitlines() if line.startswith("FAILED")]
    assert failed == ["FAILED stdout.ipynb::Cell 0"], report[-3000:]
