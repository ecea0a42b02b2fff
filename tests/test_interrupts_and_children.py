"""utils.leftovers: processes and connection files that a kernel can leave behind."""

from __future__ import annotations

import json
import subprocess
import threading

import psutil
import pytest
import zmq

from utils.leftovers import (
    ProcessesLeftError,
    kill_all,
    stale_connection_files,
    still_running,
    wait_until_gone,
)


@pytest.fixture
def sleeper():
    process = subprocess.Popen(["sleep", "30"])
    yield process
    process.kill()
    process.wait(timeout=5)


def test_a_sleeping_process_runs_until_killed(sleeper):
    process = psutil.Process(sleeper.pid)
    assert still_running(process)
    assert not wait_until_gone([process], timeout=0.2)
    assert kill_all([process], timeout=5) == [process]
    assert not still_running(process)
    assert wait_until_gone([process], timeout=0.1)
    assert kill_all([process]) == []  # nothing left to kill


def test_a_zombie_does_not_count_as_running(sleeper):
    process = psutil.Process(sleeper.pid)
    sleeper.kill()
    assert wait_until_gone([process], timeout=5)  # a zombie until reaped below
    sleeper.wait(timeout=5)
    assert not still_running(process)


def test_processes_left_error_names_them():
    error = ProcessesLeftError("one left", [psutil.Process()])
    assert isinstance(error, RuntimeError)
    assert error.processes[0].pid == psutil.Process().pid


def _write(path, port, ip="127.0.0.1"):
    path.write_text(json.dumps({"ip": ip, "hb_port": port, "transport": "tcp"}))


def test_stale_connection_files_probes_the_heartbeat(tmp_path):
    context = zmq.Context.instance()
    heart = context.socket(zmq.REP)  # an echo, as a kernel's heartbeat
    live_port = heart.bind_to_random_port("tcp://127.0.0.1")
    dead = context.socket(zmq.REP)
    dead_port = dead.bind_to_random_port("tcp://127.0.0.1")
    dead.close(linger=0)  # a port nobody listens on any more
    stop = threading.Event()

    def echo():
        while not stop.is_set():
            if heart.poll(50):
                heart.send(heart.recv())

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    try:
        _write(tmp_path / "kernel-live.json", live_port)
        _write(tmp_path / "kernel-dead.json", dead_port)
        _write(tmp_path / "kernel-remote.json", dead_port, ip="10.0.0.1")  # never probed
        (tmp_path / "kernel-broken.json").write_text("not json")
        _write(tmp_path / "other.json", dead_port)  # not matched by the pattern
        stale = stale_connection_files(tmp_path, timeout=0.5)
    finally:
        stop.set()
        thread.join(timeout=5)
        heart.close(linger=0)
    assert [p.name for p in stale] == ["kernel-dead.json"]
