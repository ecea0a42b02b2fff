"""The struct.error of "Restart Kernel and Run All Cells", for real: its cost, and its rate.

Run from the repository root (both parts start their own servers on 127.0.0.1)::

    python benchmarks/bench_reconnects.py freeze
    python benchmarks/bench_reconnects.py lab [--runs 6] [--delay 1.0] [--wait 60] [--at-open]

``freeze`` sends one ``v1.kernel.websocket.jupyter.org`` frame where jupyter_server reads
the legacy binary format, twice: on a connection that negotiated no subprotocol, and on a
v1 connection that a second websocket with the same session id has replaced. While the
server parses each frame (each case on a server of its own), a thread asks
``GET /api/status`` every 0.5 s; the script prints how long the server did not answer, its
resident memory before, at its peak and after (Linux ``/proc``), the error in its log and
what the websocket client received. It needs about 4 GB of free memory and a
minute per frame on a busy machine: it is why the page shows this only in prose.

``lab`` drives JupyterLab in headless Chromium (Playwright, ``utils.browser``): for each run
it opens a new copy of a three-cell notebook (so a new kernel starts), waits ``--delay``
seconds after the notebook appears, clicks *Restart Kernel and Run All Cells* and confirms
(with ``--at-open``: confirms the moment the page's first kernel websocket opens, polled
every 10 ms), then waits up to ``--wait`` seconds for every cell to get its execution count.
Per run it prints whether all cells ran, the kernel status shown, the server log lines that
matter ("Replacing stale connection", ``struct.error``), and for each kernel websocket of
the page the subprotocol it got and how many binary and text frames it sent. Measured on
the book's machine (the page's prose): 6 runs at ``--delay 1.0``, 5 with ``--at-open``.
Nothing here is a test: the browser races the server, and the counts are for reading.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
import urllib.request
import uuid

import websocket  # websocket-client

from utils.jupyter_servers import (
    V1,
    RunningServer,
    decode_frame,
    encode_v1,
    request,
    start_jupyter_server,
    start_jupyterlab,
)


def _longest_silence(server: RunningServer, stop: threading.Event, out: list[float]) -> None:
    """Poll ``/api/status`` until ``stop``; append the longest time one request took."""
    longest = 0.0
    while not stop.is_set():
        started = time.monotonic()
        req = urllib.request.Request(
            server.base + "/api/status", headers={"Authorization": f"token {server.token}"}
        )
        try:
            urllib.request.urlopen(req, timeout=120).read()
        except OSError:
            pass
        longest = max(longest, time.monotonic() - started)
        time.sleep(0.5)
    out.append(longest)


def _ready(ws: websocket.WebSocket, v1: bool) -> None:
    """Send a kernel_info_request on ``ws`` and read until its reply (the nudge is over)."""
    msg = request("kernel_info_request", {})
    if v1:
        ws.send_binary(encode_v1("shell", msg))
    else:
        ws.send(json.dumps({**msg, "channel": "shell"}))
    while True:
        opcode, data = ws.recv_data()
        frame = data if opcode == websocket.ABNF.OPCODE_BINARY else data.decode()
        answer = decode_frame(frame, V1 if v1 else None)
        if answer["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            if answer["msg_type"] == "kernel_info_reply":
                return


def _client_view(ws: websocket.WebSocket) -> list[str]:
    """What a client reads after sending the frame: frame kinds until the connection ends."""
    seen = []
    try:
        while True:
            opcode, data = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
                seen.append(f"close frame (code {code})")
            else:
                seen.append(websocket.ABNF.OPCODE_MAP.get(opcode, str(opcode)) + " frame")
    except websocket.WebSocketConnectionClosedException:
        seen.append("connection closed")
    except websocket.WebSocketTimeoutException:
        seen.append("nothing more within the timeout")
    return seen


def freeze() -> None:
    """The real struct.error, twice, each on a server of its own, with what it costs."""
    for case in ("no subprotocol", "v1, then replaced"):
        folder = tempfile.mkdtemp()
        server = start_jupyter_server(folder)
        try:
            _one_freeze(server, case)
        finally:
            server.stop()
            shutil.rmtree(folder, ignore_errors=True)


def _memory_mb(pid: int) -> tuple[float, float]:
    """The resident memory of a process now and at its peak (Linux ``VmRSS``, ``VmHWM``), MB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                values[line.split(":")[0]] = int(line.split()[1]) / 1024
    return values.get("VmRSS", float("nan")), values.get("VmHWM", float("nan"))


def _one_freeze(server: RunningServer, case: str) -> None:
    """Send one v1 frame where the server reads the legacy format; print what it cost."""
    _, kernel = server.api("POST", "/api/kernels", {"name": "python3"})
    url = server.base.replace("http", "ws", 1) + f"/api/kernels/{kernel['id']}/channels"
    header = [f"Authorization: token {server.token}"]
    frame = encode_v1("shell", request("kernel_info_request", {}))
    session = uuid.uuid4().hex
    v1 = case.startswith("v1")
    ws = websocket.create_connection(
        f"{url}?session_id={session}",
        header=header,
        subprotocols=[V1] if v1 else None,
        timeout=180,
    )
    _ready(ws, v1)
    twin = None
    if v1:  # a second websocket with the same session id replaces the first
        twin = websocket.create_connection(
            f"{url}?session_id={session}", header=header, subprotocols=[V1], timeout=180
        )
    before_rss, _ = _memory_mb(server.process.pid)
    before = os.path.getsize(server.log_file)
    stop, silence = threading.Event(), []
    poller = threading.Thread(target=_longest_silence, args=(server, stop, silence))
    poller.start()
    ws.send_binary(frame)
    seen = _client_view(ws)
    time.sleep(1)
    stop.set()
    poller.join(200)
    with open(server.log_file) as log:
        log.seek(before)
        errors = [line.strip() for line in log if line.strip().startswith("struct.error")]
    rss, peak = _memory_mb(server.process.pid)
    print(f"{case}: negotiated {ws.getsubprotocol()!r}")
    print(f"  the client then read: {', '.join(seen)}")
    print(f"  server log: {(errors or ['(no struct.error)'])[0]}")
    print(f"  longest GET /api/status meanwhile: {silence[0]:.1f} s")
    print(f"  server memory: {before_rss:.0f} MB before, peak {peak:.0f} MB, {rss:.0f} MB after")
    if twin is not None:
        twin.close()


NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "metadata": {}, "source": src, "outputs": [], "execution_count": None}
        for src in ("x = 6 * 7", "print(x)", "import time\ntime.sleep(0.5)\nx + 1")
    ],
    "metadata": {
        "kernelspec": {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


def lab(runs: int, delay: float, wait: float, at_open: bool = False) -> None:
    """Restart Kernel and Run All Cells ``delay`` s after opening (or at the socket's open)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    from utils.browser import CHROMIUM_ARGS, find_chromium

    folder = tempfile.mkdtemp()
    for run in range(runs):
        with open(os.path.join(folder, f"run{run}.ipynb"), "w") as file:
            json.dump(NOTEBOOK, file)
    server = start_jupyterlab(folder)
    outcomes = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=find_chromium(), args=CHROMIUM_ARGS
            )
            try:
                for run in range(runs):
                    try:
                        outcomes.append(_one_lab_run(server, browser, run, delay, wait, at_open))
                    except PlaywrightError as error:  # a run that could not be driven
                        print(json.dumps({"run": run, "not driven": str(error)[:200]}))
            finally:
                browser.close()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    runs = len(outcomes)
    stuck = sum(not outcome["all ran"] for outcome in outcomes)
    errors = sum(outcome["struct.error"] > 0 for outcome in outcomes)
    stale = sum(outcome["replaced"] > 0 for outcome in outcomes)
    when = "at the first socket's open" if at_open else f"{delay} s after opening"
    print(f"{runs} runs, confirmed {when}: {stuck} with cells left at [*], {errors} with a")
    print(f"struct.error in the server log, {stale} with 'Replacing stale connection'")


# Records, in the page, when each kernel websocket opened and the subprotocol it got.
RECORD_SOCKETS = """
const Native = window.WebSocket;
window.__channels = [];
window.WebSocket = class extends Native {
  constructor(url, protocols) {
    super(url, protocols);
    if (String(url).includes('/channels')) {
      const record = {offered: protocols || [], opened: false, protocol: null};
      window.__channels.push(record);
      this.addEventListener('open', () => {
        record.opened = true;
        record.protocol = this.protocol;
      });
    }
  }
};
"""


def _one_lab_run(server, browser, run: int, delay: float, wait: float, at_open: bool) -> dict:
    """Open run{run}.ipynb, restart and run all; what happened.

    The dialog is confirmed ``delay`` seconds after the notebook appears or, with
    ``at_open``, as soon as the page's first kernel websocket has opened (polled every 10 ms).
    """
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.add_init_script(RECORD_SOCKETS)
    sockets: list[dict] = []

    def on_websocket(ws):
        if "/channels" not in ws.url:
            return
        record = {"binary": 0, "text": 0}
        sockets.append(record)

        def sent(payload):
            record["binary" if isinstance(payload, bytes) else "text"] += 1

        ws.on("framesent", sent)

    page.on("websocket", on_websocket)
    before = os.path.getsize(server.log_file)
    try:
        workspace = f"{server.base}/lab/workspaces/run{run}-{uuid.uuid4().hex[:8]}"
        page.goto(f"{workspace}/tree/run{run}.ipynb?token={server.token}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
        if not at_open:
            time.sleep(delay)
        page.locator(
            ".jp-NotebookPanel-toolbar [data-command='notebook:restart-run-all'] >> visible=true"
        ).click(timeout=10_000)
        if at_open:
            page.wait_for_function(
                "window.__channels.some(s => s.opened)", polling=10, timeout=60_000
            )
        page.locator(".jp-Dialog .jp-mod-accept").click(timeout=10_000)
        deadline = time.monotonic() + wait
        all_ran = False
        while time.monotonic() < deadline:
            prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
            if prompts and all(p.strip() not in ("[ ]:", "[*]:", "") for p in prompts):
                all_ran = True
                break
            time.sleep(0.5)
        status = page.locator(".jp-Notebook-ExecutionIndicator").get_attribute(
            "data-status", timeout=5_000
        )
        prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
        opened = page.evaluate("window.__channels")
    finally:
        page.close()
    with open(server.log_file) as log:
        log.seek(before)
        text = log.read()
    outcome = {
        "all ran": all_ran,
        "status": status,
        "prompts": " ".join(p.strip() for p in prompts),
        "replaced": text.count("Replacing stale connection"),
        "struct.error": text.count("struct.error"),
        "sockets": [
            {**frames, "offered v1": bool(o["offered"]), "got": o["protocol"]}
            for frames, o in zip(sockets, opened, strict=False)
        ],
    }
    print(json.dumps({"run": run, **outcome}), flush=True)
    return outcome


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("part", choices=["freeze", "lab"])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--wait", type=float, default=60.0)
    parser.add_argument("--at-open", action="store_true", help="confirm as the socket opens")
    arguments = parser.parse_args()
    if arguments.part == "freeze":
        freeze()
    else:
        lab(arguments.runs, arguments.delay, arguments.wait, arguments.at_open)
