"""Periodic steps run by ``leitstand worker`` beside the task queue.

A step is a small function that claims work, does a bounded amount of it and
returns how much it did (Healthchecks' style): the loop calls it again at once
while it finds work, and waits ``every`` seconds when it does not. A step that
raises is logged and tried again later; it never stops the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections

log = logging.getLogger("leitstand.worker")

Step = Callable[[], int]


@dataclass
class Periodic:
    """A registered step and when it is due next."""

    name: str
    step: Step
    every: float
    due: float = 0.0


REGISTRY: dict[str, Periodic] = {}


def periodic(every: float) -> Callable[[Step], Step]:
    """Register ``func`` to run every ``every`` seconds (and at once while it finds work)."""

    def register(func: Step) -> Step:
        name = f"{func.__module__}.{func.__qualname__}"
        REGISTRY[name] = Periodic(name, func, every)
        return func

    return register


def run_due(now: float) -> float:
    """Run every step that is due; return seconds until the next one is."""
    for item in REGISTRY.values():
        if item.due > now:
            continue
        try:
            did = item.step()
        except Exception:
            log.exception("periodic step %s failed; trying again later", item.name)
            did = 0
        finally:
            close_old_connections()
        item.due = now if did else now + item.every
    return max(0.0, min((i.due for i in REGISTRY.values()), default=now + 5.0) - time.monotonic())


def run_forever(stop: threading.Event) -> None:
    """The loop of the worker's periodic thread."""
    while not stop.is_set():
        stop.wait(min(5.0, run_due(time.monotonic())))
