"""The alerting loop: events in, escalations, deliveries; each a small claiming step.

Any number of these loops may run, on any number of machines: every step
claims its work atomically (an insert for events, a row lock for
escalations, a conditional UPDATE lease for deliveries), so they share the
work rather than repeat it.
"""

from __future__ import annotations

import os
import socket
import threading
import time

from leitstand.alerting import actions

IDLE_SLEEP = 1.0


def default_worker_id() -> str:
    """Host and process: what an operator needs to find a stuck lease's owner."""
    return f"{socket.gethostname()}:{os.getpid()}"


def step(worker_id: str) -> bool:
    """One round of every step; True if any of them did something."""
    # Events first: an alarm queued in this round is delivered in this round.
    did = actions.process_new_events()
    did = actions.escalate_due() or did
    return actions.deliver_due(worker_id) or did


def run(worker_id: str, stop: threading.Event, *, idle_sleep: float = IDLE_SLEEP) -> None:
    """Run steps until ``stop`` is set; sleep only when a round found nothing."""
    while not stop.is_set():
        if not step(worker_id):
            stop.wait(idle_sleep)


def run_until_idle(worker_id: str, *, limit: int = 1000) -> int:
    """Run rounds until one finds nothing (tests, ``--once``); returns the rounds run."""
    for rounds in range(1, limit + 1):
        if not step(worker_id):
            return rounds
        time.sleep(0)
    return limit
