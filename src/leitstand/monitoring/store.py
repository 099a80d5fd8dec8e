"""The engine's database side: load a shard's checks, write outcomes in batches."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone

from leitstand.maintenance.models import PlannedWork
from leitstand.monitoring import hooks
from leitstand.monitoring.engine import CheckConfig, Outcome, Snapshot
from leitstand.monitoring.models import Check, CheckEvent, CheckResult, CheckStatus
from leitstand.monitoring.passive import PASSIVE_KINDS
from leitstand.monitoring.shards import Shard
from leitstand.monitoring.states import EventKind, Status

_RESULT_FIELDS = (
    "service_check",
    "at",
    "state",
    "latency_s",
    "summary",
    "metrics",
    "in_maintenance",
)


# One statement per batch, values prepared here rather than field by field:
# Django's get_db_prep_save for seven columns cost more per result than the
# check itself (see _insert_results).
_RESULT_SQL = "INSERT INTO {table} ({columns}) VALUES ({values})"


def _lock_checks(ids: list[int]) -> set[int]:
    """The ids among ``ids`` whose checks still exist, locked (FOR UPDATE) until
    the transaction ends where the database has row locks.

    Plain SQL: the ORM's ``pk__in`` prepared each of a few thousand ids through
    the field, ~15 % of a batch's cost. PostgreSQL takes the ids as one array
    parameter; SQLite (one writer at a time, no row locks) as a list.
    """
    if not ids:
        return set()
    qn = connection.ops.quote_name
    table, pk = qn(Check._meta.db_table), qn(Check._meta.pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT {pk} FROM {table} WHERE {pk} = ANY(%s) ORDER BY {pk} FOR UPDATE",  # noqa: S608
                [ids],
            )
        else:
            alive: set[int] = set()
            # SQLite allows 32,766 parameters per statement; stay well below.
            for start in range(0, len(ids), 10_000):
                chunk = ids[start : start + 10_000]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"SELECT {pk} FROM {table} WHERE {pk} IN ({marks})", chunk)  # noqa: S608
                alive.update(row[0] for row in cursor.fetchall())
            return alive
        return {row[0] for row in cursor.fetchall()}


def _insert_results(outcomes: list[Outcome]) -> None:
    """Insert one ``CheckResult`` row per outcome with ``executemany``.

    The values are what each field's ``get_db_prep_save`` gives (the tests
    compare both), prepared directly: the time through the backend's own
    adapter (UTC text on SQLite, the aware datetime on PostgreSQL) and the
    metrics JSON encoded once per batch when it is empty, which it nearly
    always is once the latency has its own column.
    """
    if not outcomes:
        return
    meta = CheckResult._meta
    qn = connection.ops.quote_name
    fields = [cast("Field[Any, Any]", meta.get_field(name)) for name in _RESULT_FIELDS]
    sql = _RESULT_SQL.format(
        table=qn(meta.db_table),
        columns=", ".join(qn(str(f.column)) for f in fields),
        values=", ".join(["%s"] * len(fields)),
    )
    encode = cast("Field[Any, Any]", meta.get_field("metrics")).get_db_prep_save
    empty = encode({}, connection)
    adapt_time = connection.ops.adapt_datetimefield_value
    rows = []
    for o in outcomes:
        result = o.result
        metrics = result.metrics
        latency = metrics.get("latency_s")
        if len(metrics) == ("latency_s" in metrics):
            prepared_metrics = empty
        else:
            # latency has its own column; keep the JSON for anything else
            prepared_metrics = encode(
                {k: v for k, v in metrics.items() if k != "latency_s"}, connection
            )
        rows.append(
            (
                o.check_id,
                adapt_time(o.at),
                o.state.state.value,
                None if latency is None else float(latency),
                result.summary[:300],
                prepared_metrics,
                bool(o.in_maintenance),
            )
        )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


_STATUS_FIELDS = ["state", "hard_state", "attempt", "flapping", "history", "summary", "last_run_at"]


STATUS_REFRESH = timedelta(seconds=60)


class DatabaseStore:
    """Reads ``Check`` rows, writes results, events and states."""

    def __init__(self) -> None:
        # check id -> (state fingerprint, when its status row was last written)
        self._written: dict[int, tuple[tuple[object, ...], datetime]] = {}

    def _status_due(self, outcome: Outcome) -> bool:
        """Write the status row unless it is unchanged and younger than STATUS_REFRESH."""
        state = outcome.state
        fingerprint = (state.state, state.hard_state, state.attempt, state.flapping)
        previous = self._written.get(outcome.check_id)
        return (
            previous is None
            or previous[0] != fingerprint
            or bool(outcome.events)
            or outcome.at - previous[1] >= STATUS_REFRESH
        )

    def _remember(self, outcomes: Iterable[Outcome]) -> None:
        """Note status rows as written, once their transaction has committed."""
        for o in outcomes:
            s = o.state
            self._written[o.check_id] = ((s.state, s.hard_state, s.attempt, s.flapping), o.at)

    def load(self, shard: Shard, known: Iterable[int]) -> Snapshot:
        rows = (
            Check.objects.filter(enabled=True)
            .exclude(kind__in=PASSIVE_KINDS)  # evaluated when agent reports arrive
            .values_list(
                "pk",
                "kind",
                "params",
                "interval_seconds",
                "retry_interval_seconds",
                "timeout_seconds",
                "max_attempts",
                "parent_id",
                "asset_id",
                "priority",
                "updated_at",
            )
        )
        configs = {}
        for pk, kind, params, interval, retry, timeout, attempts, parent, asset, prio, upd in rows:
            if not shard.owns(pk):
                continue
            configs[pk] = CheckConfig(
                id=pk,
                kind=kind,
                params=params,
                interval=float(max(1, interval)),
                retry_interval=float(max(1, retry)),
                timeout=float(max(1, timeout)),
                max_attempts=max(1, attempts),
                parent_id=parent,
                asset_id=asset,
                priority=prio,
                version=upd.isoformat(),
            )
        known_ids = set(known)
        unseen = [pk for pk in configs if pk not in known_ids]
        states = {
            row.service_check_id: row.to_state()
            for row in CheckStatus.objects.filter(pk__in=unseen)
        }
        parents = {
            c.parent_id for c in configs.values() if c.parent_id and c.parent_id not in configs
        }
        outside = {
            pk: Status(hard)
            for pk, hard in CheckStatus.objects.filter(pk__in=parents).values_list(
                "pk", "hard_state"
            )
        }
        assets = {c.asset_id for c in configs.values()}
        maintenance: dict[int, list] = {}  # type: ignore[type-arg]
        work = PlannedWork.objects.filter(
            ends_at__gt=timezone.now() - timedelta(hours=1), assets__in=assets
        ).values_list("assets", "starts_at", "ends_at")
        for asset, start, end in work:
            maintenance.setdefault(asset, []).append((start, end))
        return Snapshot(configs, states, outside, maintenance)

    def close(self) -> None:
        """Close this thread's database connection (the engine is stopping)."""
        connection.close()

    def write(self, outcomes: list[Outcome]) -> None:
        ids = sorted({o.check_id for o in outcomes})
        with transaction.atomic():
            # Lock the checks we write for: a check deleted after this read but
            # before our commit would fail the (deferred) foreign keys at COMMIT
            # and fail the whole batch. The lock makes such a delete wait for us;
            # one already under way makes us wait, and then its check is gone.
            alive = _lock_checks(ids)
            kept = [o for o in outcomes if o.check_id in alive]  # deleted meanwhile: drop
            _insert_results(kept)
            events = CheckEvent.objects.bulk_create(
                CheckEvent(
                    service_check_id=o.check_id,
                    at=o.at,
                    kind=e.kind.value,
                    old_state=e.old.value,
                    new_state=e.new.value,
                    reason=o.result.summary[:300],
                    priority=o.priority,
                    flapping=e.flapping,
                    in_maintenance=o.in_maintenance,
                )
                for o in kept
                for e in o.events
            )
            # Alerting writes its outbox rows in this same transaction.
            hooks.emit(events)
            # One status row per check: the last outcome of the batch wins, and
            # only when something changed or the row is a minute old. Rewriting
            # every status on every run cost more than the checks themselves;
            # last_run_at may therefore lag by up to STATUS_REFRESH.
            last = {o.check_id: o for o in kept if self._status_due(o)}
            changed = {
                o.check_id: o.at for o in kept for e in o.events if e.kind == EventKind.STATE
            }
            for with_change in (True, False):
                rows = [
                    CheckStatus(
                        service_check_id=o.check_id,
                        state=o.state.state.value,
                        hard_state=o.state.hard_state.value,
                        attempt=o.state.attempt,
                        flapping=o.state.flapping,
                        history=[s.value for s in o.state.history],
                        summary=o.result.summary[:300],
                        last_run_at=o.at,
                        last_change_at=changed.get(o.check_id),
                    )
                    for o in last.values()
                    if (o.check_id in changed) == with_change
                ]
                if rows:
                    CheckStatus.objects.bulk_create(
                        rows,
                        update_conflicts=True,
                        unique_fields=["service_check"],
                        update_fields=[*_STATUS_FIELDS, "last_change_at"]
                        if with_change
                        else _STATUS_FIELDS,
                    )
        self._remember(last.values())
