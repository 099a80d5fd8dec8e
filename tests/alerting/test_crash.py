"""Receivers down, a worker killed mid-send, receivers back: nothing lost, one duplicate at most.

The worker is a real process (``crash_worker.py``) on a file database of its
own, killed with SIGKILL while a receiver holds its request: the message has
arrived but the worker never learns so and never records it. A second worker
takes the expired lease over and sends again with the same idempotency key.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from tests.alerting.conftest import Gate, HttpSink, SmtpSink
from tests.conftest import REPO

HERE = Path(__file__).resolve().parent
PYTHON = str(REPO / ".venv" / "bin" / "python")
COUNT = 12


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[dict[str, str], SmtpSink, HttpSink]]:
    smtp, http = SmtpSink(), HttpSink()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leitstand.settings",
        "LEITSTAND_DATA_DIR": str(tmp_path),
        "LEITSTAND_DATABASE_URL": f"sqlite:///{tmp_path / 'crash.sqlite3'}",
        "LEITSTAND_EMAIL_HOST": "127.0.0.1",
        "LEITSTAND_EMAIL_PORT": str(smtp.port),
        "LEITSTAND_FROM_EMAIL": "leitstand@provider.example",
        "ALERTING_HOOK_PORT": str(http.port),
    }
    subprocess.run(
        [PYTHON, "-m", "leitstand.cli", "migrate", "-v0"], env=env, check=True, timeout=120
    )
    yield env, smtp, http
    smtp.stop()
    http.stop()


def harness(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, str(HERE / "crash_worker.py"), *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout


def worker(env: dict[str, str], name: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [PYTHON, str(HERE / "crash_worker.py"), "work", name],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def outbox(env: dict[str, str]) -> list[dict[str, Any]]:
    # Read the worker's database directly: WAL lets us read while it writes,
    # and it is much faster than a Python process per look.
    path = env["LEITSTAND_DATABASE_URL"].removeprefix("sqlite:///")
    with closing(sqlite3.connect(path, timeout=10)) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT idempotency_key, status, attempts FROM alerting_notification")
        return [dict(row) for row in rows]


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_outage_and_crash_lose_nothing(
    world: tuple[dict[str, str], SmtpSink, HttpSink], tmp_path: Path
) -> None:
    env, smtp, http = world
    harness(env, "setup", str(COUNT))
    keys = {row["idempotency_key"] for row in outbox(env)}
    assert len(keys) == COUNT

    # 1. Both receivers are down: the worker fails, schedules retries, loses nothing.
    first = worker(env, "w1", tmp_path / "w1.log")
    try:
        wait_for(lambda: all(row["attempts"] >= 2 for row in outbox(env)), 30, "failed attempts")
        assert all(row["status"] != "sent" for row in outbox(env))

        # 2. Receivers come back, armed to hold the first request: kill the
        #    worker while it waits for the answer.
        gate = Gate(armed=True)
        smtp.gate = http.gate = gate
        smtp.start()
        http.start()
        assert gate.holding.wait(30), "no request reached a receiver"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    gate.released.set()

    # 3. A new worker takes over, including the dead worker's expired lease.
    second = worker(env, "w2", tmp_path / "w2.log")
    try:
        wait_for(lambda: all(row["status"] == "sent" for row in outbox(env)), 60, "delivery")
    finally:
        second.send_signal(signal.SIGKILL)
        second.wait(10)

    received = Counter(
        [mail.header("Message-ID").strip("<>").split("@")[0] for mail in smtp.received]
        + [request.headers["Idempotency-Key"] for request in http.received]
    )
    assert set(received) == keys  # zero lost
    assert max(received.values()) <= 2  # at most one duplicate each
    # Only one worker died, holding one message: exactly one duplicate overall.
    assert sum(n - 1 for n in received.values()) == 1
