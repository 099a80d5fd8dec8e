"""``leitstand run``: web, monitor and worker start together and stop cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def leitstand(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leitstand.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def children_of(pid: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)],
        capture_output=True,
        text=True,
        check=False,
    )
    return [int(p) for p in out.stdout.split()]


def test_run_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEITSTAND_")}
    env["LEITSTAND_DATA_DIR"] = str(tmp_path)
    env["LEITSTAND_DEBUG"] = "1"
    leitstand("migrate", "--no-input", env=env)
    leitstand("demo", env=env)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "leitstand.cli", "run", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = b""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = r.read()
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        assert body == b'{"status": "ok"}'
        parts = children_of(proc.pid)
        assert len(parts) == 3  # web, monitor, worker
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output
    assert "customer number 'C10001', user 'anna'" in output
    assert "Leitstand stopped." in output
    assert "Traceback" not in output
    for pid in parts:
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )


def test_run_restarts_a_part_that_dies(tmp_path: Path) -> None:
    """A crashed part is started again; the others keep running."""
    import threading

    from leitstand.core.supervisor import Part, supervise

    marker = tmp_path / "starts"
    script = f"open({str(marker)!r}, 'a').write('x'); raise SystemExit(3)"
    sleeper = Part("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"])
    crasher = Part("crasher", [sys.executable, "-c", script])
    stop = threading.Event()
    threading.Timer(3.5, stop.set).start()
    supervise([sleeper, crasher], stop)
    # First start, then restarts after 1 s and 2 s of back-off.
    assert marker.read_text().count("x") >= 2
    assert sleeper.process is not None
    assert sleeper.process.poll() is not None  # stopped at the end
