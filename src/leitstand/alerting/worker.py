"""The alerting loop: events in, escalations, deliveries; each a small claiming step.

Any number of these loops may run, on any number of machines: every step
claims its work atomically (an insert for events, a row lock for
escalations, a conditional UPDATE lease for deliveries), so they share the
work rather than repeat it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from django.db import close_old_connections
from django.urls import get_resolver

from leitstand.alerting import actions

log = logging.getLogger(__name__)

# How long an idle loop waits before looking again: the floor of an alarm's
# latency. Looking is one indexed query, so four times a second costs nothing.
IDLE_SLEEP = 0.25
ERROR_SLEEP = 1.0


def default_worker_id() -> str:
    """Host and process: what an operator needs to find a stuck lease's owner."""
    return f"{socket.gethostname()}:{os.getpid()}"


def step(worker_id: str) -> bool:
    """One round of every step; True if any of them did something."""
    # Events first: an alarm queued in this round is delivered in this round.
    did = actions.process_new_events()
    did = actions.escalate_due() or did
    return actions.deliver_due(worker_id) or did


def warm_up() -> None:
    """Load the URL configuration now, not for the first alarm.

    An alarm to staff carries an acknowledgement link, and the first
    ``reverse()`` imports every app's views (seconds, with PDF rendering
    among them): the first alarm after a start would pay for it.
    """
    get_resolver().url_patterns  # noqa: B018 - the property does the loading


def run(worker_id: str, stop: threading.Event, *, idle_sleep: float = IDLE_SLEEP) -> None:
    """Run steps until ``stop`` is set; sleep only when a round found nothing.

    A round that fails (the database went away, was locked too long, a bug)
    is logged and tried again after a pause: the loop is what delivers
    alarms, so it must outlive any one error. Its work is not lost: what the
    round had claimed is claimed again when the lease runs out.
    """
    warm_up()
    while not stop.is_set():
        try:
            did = step(worker_id)
        except Exception:
            log.exception("alerting round failed; trying again in %s s", ERROR_SLEEP)
            close_old_connections()
            stop.wait(ERROR_SLEEP)
            continue
        if not did:
            stop.wait(idle_sleep)


def run_until_idle(worker_id: str, *, limit: int = 1000) -> int:
    """Run rounds until one finds nothing (tests, ``--once``); returns the rounds run."""
    for rounds in range(1, limit + 1):
        if not step(worker_id):
            return rounds
        time.sleep(0)
    return limit
