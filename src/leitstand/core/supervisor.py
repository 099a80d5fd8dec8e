"""``leitstand run``: web, monitor and worker under one supervisor.

The embedded default behind ``make run``. Each part is its own process (as in
production), started with the same interpreter. Ctrl-C or SIGTERM stops all of
them: SIGTERM first, SIGKILL after a grace period. A part that dies on its own
is restarted with a growing delay, so that one crash does not take the
platform down and a crash loop does not spin.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger("leitstand.run")

GRACE_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 30.0


@dataclass
class Part:
    """One supervised process."""

    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = field(default=0.0)

    def start(self) -> None:
        log.info("starting %s", self.name)
        self.process = subprocess.Popen(self.argv)  # noqa: S603 - our own interpreter and args
        self.started_at = time.monotonic()


def command(*args: str) -> list[str]:
    """A ``leitstand`` sub-command run with this interpreter."""
    return [sys.executable, "-m", "leitstand.cli", *args]


def supervise(parts: list[Part], stop: threading.Event) -> int:
    """Run ``parts`` until ``stop`` is set; return the exit status."""
    for part in parts:
        part.start()
    try:
        while not stop.wait(0.5):
            now = time.monotonic()
            for part in parts:
                if part.process is None:
                    if now >= part.next_start:
                        part.start()
                    continue
                code = part.process.poll()
                if code is None:
                    if now - part.started_at > 60:
                        part.restarts = 0  # it ran for a minute: the crash loop is over
                    continue
                delay = min(MAX_BACKOFF_SECONDS, 2.0**part.restarts)
                log.warning("%s exited with %s; restarting in %.0f s", part.name, code, delay)
                part.restarts += 1
                part.process = None
                part.next_start = now + delay
    finally:
        shutdown(parts)
    return 0


def shutdown(parts: list[Part]) -> None:
    """SIGTERM every running part, then SIGKILL what is left after the grace period."""
    running = [p for p in parts if p.process is not None and p.process.poll() is None]
    for part in running:
        log.info("stopping %s", part.name)
        assert part.process is not None
        part.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for part in running:
        assert part.process is not None
        try:
            part.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in time; killing it", part.name)
            part.process.kill()
            part.process.wait()


def install_stop_handlers(stop: threading.Event) -> None:
    """Ctrl-C and SIGTERM set ``stop``; children get their own SIGINT from the terminal too."""

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
