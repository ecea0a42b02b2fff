"""Run the book's Node scripts (``node/*.mjs``) and read what they record, as JSON lines.

The Node side of the book lives in ``node/``: its ``package.json`` pins
``@jupyterlab/services``, and ``npm ci --prefix node`` installs it into ``node/node_modules``.

- :func:`find_node` finds the ``node`` executable: ``BOOK_NODE`` (a path), else ``node`` on
  ``PATH``.
- :func:`run_node_script` runs a script with a timeout, always kills it in ``finally``, and
  returns the JSON objects it printed, one a line (:func:`parse_json_lines`).
- :class:`NodeMissingError` says what is missing (Node.js, or the packages) and how to install
  it; :class:`NodeScriptError` carries what a script that failed or timed out printed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

from .parent_death import on_parent_death

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
INSTALL_NODE = (
    "install Node.js 20 or later (Debian or Ubuntu: apt-get install nodejs npm; "
    "macOS: brew install node), or set BOOK_NODE to the path of a node executable"
)
INSTALL_PACKAGES = "run npm ci --prefix node from the repository root"


class NodeMissingError(RuntimeError):
    """Node.js, or the book's Node packages, are not installed; the message says how to."""


class NodeScriptError(RuntimeError):
    """A Node script that exited with an error or did not finish in time.

    Attributes
    ----------
    returncode
        Its exit status (``None`` if it was killed at the timeout).
    events
        The JSON lines it printed before it ended.
    stderr
        What it wrote on stderr.
    """

    def __init__(
        self, message: str, returncode: int | None, events: list[dict[str, Any]], stderr: str
    ) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.events = events
        self.stderr = stderr


def find_node() -> str:
    """The path of the ``node`` executable: ``BOOK_NODE`` if set, else ``node`` on ``PATH``.

    Raises
    ------
    NodeMissingError
        If ``BOOK_NODE`` names no executable file, or no ``node`` is on ``PATH``.
    """
    given = os.environ.get("BOOK_NODE")
    if given:
        if os.path.isfile(given) and os.access(given, os.X_OK):
            return given
        raise NodeMissingError(f"BOOK_NODE={given} is not an executable file: {INSTALL_NODE}")
    found = shutil.which("node")
    if found is None:
        raise NodeMissingError(f"no node on PATH: {INSTALL_NODE}")
    return found


def check_packages(folder: Path = NODE_DIR) -> Path:
    """``folder/node_modules``, once it is there.

    Raises
    ------
    NodeMissingError
        If ``npm ci --prefix node`` has not been run (no ``node_modules`` folder).
    """
    modules = folder / "node_modules"
    if not modules.is_dir():
        raise NodeMissingError(f"{modules} is missing: {INSTALL_PACKAGES}")
    return modules


def parse_json_lines(text: str) -> list[dict[str, Any]]:
    """The JSON objects in ``text``, one per non-empty line.

    Raises
    ------
    ValueError
        Naming the first line that is not a JSON object.
    """
    events = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"line {number} is not JSON: {line[:80]!r}") from error
        if not isinstance(value, dict):
            raise ValueError(f"line {number} is not a JSON object: {line[:80]!r}")
        events.append(value)
    return events


def run_node_script(
    script: str | Path,
    *args: str,
    timeout: float = 30.0,
    env: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Run ``node script args...`` and return the JSON lines it printed on stdout.

    Parameters
    ----------
    script
        The script; a bare name is looked up in ``node/`` (``"run_task.mjs"``).
    *args
        Its command-line arguments.
    timeout
        Seconds to wait for it to exit; it is then killed. The book's scripts have a
        shorter timeout of their own, so this one is only a backstop.
    env
        More environment variables for it (added to this process's).

    Returns
    -------
    list of dict
        One dict per line of its stdout.

    Raises
    ------
    NodeMissingError
        If Node.js or ``node/node_modules`` is missing.
    NodeScriptError
        If it exits with a status other than 0, or is still running after ``timeout``.
    """
    node = find_node()
    check_packages()
    path = Path(script)
    if not path.is_absolute() and path.parent == Path("."):
        path = NODE_DIR / path
    linux = on_parent_death(signal.SIGKILL)
    process = subprocess.Popen(
        [node, str(path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
        **linux,
    )
    try:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate(timeout=10)
            raise NodeScriptError(
                f"{path.name} did not exit within {timeout} s",
                None,
                _lenient(out),
                err,
            ) from None
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    if process.returncode != 0:
        raise NodeScriptError(
            f"{path.name} exited with status {process.returncode}: {err.strip()[-500:]}",
            process.returncode,
            _lenient(out),
            err,
        )
    return parse_json_lines(out)


def _lenient(text: str) -> list[dict[str, Any]]:
    """The JSON lines of a script that failed: those that parse (the last may be cut)."""
    events = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            events.append(value)
    return events
