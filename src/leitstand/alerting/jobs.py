"""Alerting's periodic steps, run by ``leitstand worker`` (see :mod:`leitstand.core.periodic`).

Each returns how much it did, so the worker calls it again at once while
there is work and waits ``every`` seconds when there is none. Alarms are
time-critical: deliveries are looked at twice a second (one indexed query
when there is nothing to do), events every two seconds (the event hook
queues alarms in the event's own transaction; this step only catches up).
"""

from __future__ import annotations

from leitstand.alerting import actions
from leitstand.alerting.worker import default_worker_id
from leitstand.core.periodic import periodic


@periodic(every=2.0)
def alerting_events() -> int:
    """Open, group and resolve alerts from new check events."""
    return int(actions.process_new_events())


@periodic(every=15.0)
def alerting_escalation() -> int:
    """Escalate and remind unacknowledged alerts."""
    return int(actions.escalate_due())


@periodic(every=0.5)
def alerting_delivery() -> int:
    """Send due notifications from the outbox."""
    return int(actions.deliver_due(default_worker_id()))
