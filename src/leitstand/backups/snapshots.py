"""The snapshots a customer can restore from, as the agent's backup runs reported them.

Seed 000 VII: "a daily backup that secures all data each day and retains it for
up to 14 days". Each ``run_backup`` remote action runs the host's configured
backup command (restic, DESIGN.md) and reports its output; restic names the
snapshot it made there, either as its closing line ``snapshot 3355b3ac saved``
or, with ``--json``, as ``snapshot_id`` in the summary message. A run whose
output names no snapshot made none the portal could offer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from leitstand.contracts.models import Asset
from leitstand.operations.models import RemoteAction

_SAVED = re.compile(r"^snapshot ([0-9a-f]{8,64}) saved\s*$", re.MULTILINE)
_ID = re.compile(r"^[0-9a-f]{8,64}$")


def snapshot_id(output: str) -> str | None:
    """The id of the snapshot restic reports in ``output``; None when it names none
    (the run failed, or the command is not restic)."""
    found = _SAVED.findall(output)
    if found:
        return str(found[-1])
    for raw in reversed(output.splitlines()):
        line = raw.strip()
        if not line.startswith("{"):
            continue
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("message_type") == "summary":
            value = message.get("snapshot_id")
            if isinstance(value, str) and _ID.match(value):
                return value
    return None


@dataclass(frozen=True)
class Snapshot:
    """One snapshot: restic's id and when the run that made it finished."""

    id: str
    taken_at: datetime


def recent(asset: Asset, since: datetime, limit: int = 30) -> list[Snapshot]:
    """The asset's snapshots taken after ``since`` (the retention's cut-off), newest
    first: only those of finished, successful backup runs."""
    runs = (
        RemoteAction.objects.filter(
            agent__asset=asset,
            type="run_backup",
            status=RemoteAction.Status.DONE,
            finished_at__gt=since,
        )
        .order_by("-finished_at")
        .values_list("output", "finished_at")[: limit * 2]
    )
    found = [Snapshot(sid, at) for output, at in runs if at and (sid := snapshot_id(output))]
    return found[:limit]
