"""utils.node_client: finding Node, named errors with the install hint, timeouts that kill, and
node/run_task.mjs driving a real jupyter_server's kernel through @jupyterlab/services.

Without Node.js or ``node/node_modules`` the tests that need them are skipped, with how to
install them; in CI (``CI`` set, as GitHub Actions does) they fail instead.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from utils.jupyter_servers import V1, RunningServer, start_jupyter_server
from utils.node_client import (
    NodeMissingError,
    NodeScriptError,
    check_packages,
    find_node,
    parse_json_lines,
    run_node_script,
)
from utils.protocol import validate_message


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[RunningServer]:
    """One jupyter_server for the tests that drive it."""
    with start_jupyter_server(str(tmp_path_factory.mktemp("server"))) as running:
        yield running


@pytest.fixture
def node() -> str:
    """The node executable and the installed packages, or a skip (a failure in CI)."""
    try:
        found = find_node()
        check_packages()
    except NodeMissingError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(error))
    return found


def test_parse_json_lines_names_the_line_that_is_not_json() -> None:
    assert parse_json_lines('{"a": 1}\n\n{"b": 2}\n') == [{"a": 1}, {"b": 2}]
    with pytest.raises(ValueError, match="line 2 is not JSON"):
        parse_json_lines('{"a": 1}\nStarting WebSocket\n')
    with pytest.raises(ValueError, match="not a JSON object"):
        parse_json_lines("[1, 2]\n")


def test_a_missing_node_says_how_to_install_it(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BOOK_NODE", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(NodeMissingError, match="apt-get install nodejs npm"):
        find_node()
    monkeypatch.setenv("BOOK_NODE", str(tmp_path / "nowhere"))
    with pytest.raises(NodeMissingError, match="BOOK_NODE"):
        find_node()
    fake = tmp_path / "node"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("BOOK_NODE", str(fake))
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    assert find_node() == str(fake)  # BOOK_NODE first
    monkeypatch.delenv("BOOK_NODE")
    assert find_node() == str(fake)  # then PATH


def test_missing_packages_say_to_run_npm_ci(tmp_path: Path) -> None:
    with pytest.raises(NodeMissingError, match="npm ci --prefix node"):
        check_packages(tmp_path)


def test_a_script_that_hangs_is_killed_at_the_timeout(node: str, tmp_path: Path) -> None:
    script = tmp_path / "hang.mjs"
    script.write_text('console.log(JSON.stringify({event: "up"}));\nsetInterval(() => {}, 1000);\n')
    started = time.monotonic()
    with pytest.raises(NodeScriptError, match="did not exit within 1") as caught:
        run_node_script(script, timeout=1)
    assert time.monotonic() - started < 8
    assert caught.value.returncode is None
    assert caught.value.events == [{"event": "up"}]


def test_a_script_that_fails_keeps_what_it_printed(node: str, tmp_path: Path) -> None:
    script = tmp_path / "fail.mjs"
    script.write_text(
        'console.log(\'{"event": "a"}\');\nconsole.error("broken");\nprocess.exit(3);\n'
    )
    with pytest.raises(NodeScriptError, match="status 3: broken") as caught:
        run_node_script(script, timeout=20)
    assert caught.value.returncode == 3
    assert caught.value.events == [{"event": "a"}]


def test_run_task_through_jupyter_server(node: str, server: RunningServer) -> None:
    events = run_node_script("run_task.mjs", server.base, server.token, timeout=60)
    _, kernels = server.api("GET", "/api/kernels")
    assert kernels == []  # the script shut its kernel down
    assert [e["protocol"] for e in events if e["event"] == "websocket-open"] == [V1]
    done = {e["future"]: e for e in events if e["event"] == "done"}
    assert (done["task"]["resolved"], done["task"]["status"]) == ("execute_reply", "ok")
    assert (done["error"]["resolved"], done["error"]["status"]) == ("execute_reply", "error")
    stdin = [e["msg_type"] for e in events if e["event"] == "onStdin"]
    assert stdin == ["input_request"]
    statuses = [e["status"] for e in events if e["event"] == "statusChanged"]
    assert statuses[-1] == "dead" and {"busy", "idle"} <= set(statuses)
    messages = [e["msg"] for e in events if e["event"] == "message"]
    assert {validate_message(m) for m in messages} <= {"msgspec_v5", "own"}
    assert events[-1] == {"t": events[-1]["t"], "event": "exit", "code": 0}


def test_run_task_bench_mode(node: str, server: RunningServer) -> None:
    events = run_node_script("run_task.mjs", server.base, server.token, "--bench", "3", timeout=60)
    (bench,) = [e for e in events if e["event"] == "bench"]
    assert len(bench["seconds"]) == 3 and all(0 < s < 30 for s in bench["seconds"])
