"""The Procfile's gunicorn: it refuses to start without an auth mode, and serves with one."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def procfile_command(port: int) -> list[str]:
    """The Procfile's `web:` command with $PORT filled in, run from this venv."""
    line = next(x for x in (ROOT / "Procfile").read_text().splitlines() if x.startswith("web:"))
    argv = shlex.split(line.removeprefix("web:").replace("$PORT", str(port)))
    return [str(BIN / argv[0]), *argv[1:]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DREADNODE_", "DASHBOARD_"))}
    return env | {"HOME": "/nonexistent"} | extra


def test_the_procfile_refuses_to_start_without_an_auth_mode():
    done = subprocess.run(procfile_command(free_port()), cwd=ROOT, env=environment(), capture_output=True,
                          text=True, timeout=30)
    assert done.returncode != 0
    assert "refusing to listen on 0.0.0.0 without sign-in" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_procfile_refuses_viewer_mode_without_a_secret():
    done = subprocess.run(procfile_command(free_port()), cwd=ROOT, capture_output=True, text=True,
                          env=environment(DASHBOARD_AUTH="viewer", DREADNODE_SERVER="http://127.0.0.1:9"),
                          timeout=30)
    assert done.returncode != 0
    assert "needs DASHBOARD_SECRET_KEY" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_procfile_serves_in_service_mode():
    port = free_port()
    process = subprocess.Popen(procfile_command(port), cwd=ROOT, env=environment(DASHBOARD_AUTH="service"),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer /healthz within 30 s"
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=15)
