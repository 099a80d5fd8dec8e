"""Inbound alarms: parse what an Alertmanager or a script sends, into plain values.

Issue 5 item 5: "Inbound alarms from systems the provider already runs: the
Prometheus Alertmanager webhook (version 4 payload) and a generic JSON
webhook". Pure functions over bytes, no database: each format is one parser
registered in :data:`PARSERS`; a payload that does not fit raises
:class:`PayloadError` with one line naming the field, e.g.
``alerts[0].startsAt: not an RFC 3339 time: 'yesterday'``.

The Alertmanager format is its documented webhook body::

    {"version": "4", "groupKey": "...", "status": "firing", "receiver": "...",
     "alerts": [{"status": "firing", "labels": {...}, "annotations": {...},
                 "startsAt": "...", "endsAt": "...", "fingerprint": "..."}], ...}

The generic format is Leitstand's own, for scripts and services without an
Alertmanager: one alert object or ``{"alerts": [...]}``, each with ``id``
(stable per problem, the fingerprint), ``status`` (``firing`` or
``resolved``), ``title``, and optionally ``description``, ``labels`` (string
to string) and ``at`` (RFC 3339).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Alertmanager sends at most its configured max_alerts per message (default: all);
# a few hundred is a large group. More than this is not a group, it is a mistake.
MAX_ALERTS = 1000
MAX_BODY_BYTES = 1024 * 1024
# Go's zero time: Alertmanager's endsAt while an alert has no known end.
GO_ZERO_YEAR = 1


class PayloadError(ValueError):
    """The payload cannot be used; the message is one line naming the field."""


@dataclass(frozen=True)
class InboundAlert:
    """One alarm as every source format is reduced to it."""

    fingerprint: str
    firing: bool
    name: str
    summary: str
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None


Parser = Callable[[bytes], list[InboundAlert]]
PARSERS: dict[str, Parser] = {}


def parser(kind: str) -> Callable[[Parser], Parser]:
    """Register a format under the source kind that uses it."""

    def register(func: Parser) -> Parser:
        PARSERS[kind] = func
        return func

    return register


def parse(kind: str, body: bytes) -> list[InboundAlert]:
    """The alarms in ``body`` for a source of ``kind``; :class:`PayloadError` if unusable."""
    try:
        return PARSERS[kind](body)
    except KeyError:
        raise PayloadError(f"no parser for source kind {kind!r}") from None


# -- helpers ------------------------------------------------------------------------


def _document(body: bytes) -> Any:
    if len(body) > MAX_BODY_BYTES:
        raise PayloadError(f"body: larger than {MAX_BODY_BYTES} bytes")
    try:
        # Decoded here, not by json.loads: it would guess UTF-16 from a stray BOM.
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise PayloadError("body: not UTF-8") from None
    except json.JSONDecodeError as error:
        raise PayloadError(f"body: not JSON: {error.msg} at line {error.lineno}") from None
    except RecursionError:
        raise PayloadError("body: nested too deeply") from None


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: must be an object")
    return value


def _string(doc: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = doc.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise PayloadError(f"{where}{key}: must be a non-empty string")
    return value


def _strings(doc: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    value = doc.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise PayloadError(f"{where}{key}: must be an object of strings")
    return dict(value)


_FRACTION = re.compile(r"\.(\d+)")


def parse_time(value: Any, where: str) -> datetime | None:
    """An RFC 3339 time as Go writes it (nanoseconds, ``Z``); None for Go's zero time."""
    if not isinstance(value, str):
        raise PayloadError(f"{where}: must be an RFC 3339 time string")
    # Python 3.11 reads at most microseconds; Go writes up to nanoseconds.
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value.strip(), count=1)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise PayloadError(f"{where}: not an RFC 3339 time: {value[:40]!r}") from None
    if moment.tzinfo is None:
        raise PayloadError(f"{where}: needs a time zone offset: {value[:40]!r}")
    if moment.year <= GO_ZERO_YEAR:
        return None
    return moment.astimezone(UTC)


def _status(doc: Mapping[str, Any], where: str) -> bool:
    status = doc.get("status")
    if status not in ("firing", "resolved"):
        raise PayloadError(f"{where}status: must be 'firing' or 'resolved', not {status!r}")
    return bool(status == "firing")


def _alert_list(doc: Mapping[str, Any]) -> list[Any]:
    alerts = doc.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("alerts: must be a list")
    if len(alerts) > MAX_ALERTS:
        raise PayloadError(f"alerts: more than {MAX_ALERTS} in one request")
    return alerts


# -- formats ------------------------------------------------------------------------


@parser("alertmanager")
def parse_alertmanager(body: bytes) -> list[InboundAlert]:
    """Alertmanager's webhook, version 4 (the only version it has sent since 0.x)."""
    doc = _object(_document(body), "body")
    version = doc.get("version")
    if version != "4":
        raise PayloadError(f"version: expected '4', got {version!r}")
    _string(doc, "groupKey", "")
    result = []
    for index, raw in enumerate(_alert_list(doc)):
        where = f"alerts[{index}]."
        item = _object(raw, where.rstrip("."))
        labels = _strings(item, "labels", where)
        annotations = _strings(item, "annotations", where)
        fingerprint = _string(item, "fingerprint", where)
        if len(fingerprint) > 200:
            raise PayloadError(f"{where}fingerprint: longer than 200 characters")
        name = labels.get("alertname") or fingerprint
        summary = annotations.get("summary") or annotations.get("description") or ""
        result.append(
            InboundAlert(
                fingerprint=fingerprint,
                firing=_status(item, where),
                name=name,
                summary=summary,
                labels=labels,
                annotations=annotations,
                starts_at=parse_time(item.get("startsAt"), f"{where}startsAt"),
                ends_at=parse_time(item.get("endsAt", "0001-01-01T00:00:00Z"), f"{where}endsAt"),
            )
        )
    return result


@parser("generic")
def parse_generic(body: bytes) -> list[InboundAlert]:
    """Leitstand's generic JSON: one alert object or ``{"alerts": [...]}``."""
    doc = _object(_document(body), "body")
    items = _alert_list(doc) if "alerts" in doc else [doc]
    single = "alerts" not in doc
    result = []
    for index, raw in enumerate(items):
        where = "" if single else f"alerts[{index}]."
        item = _object(raw, where.rstrip(".") or "body")
        fingerprint = _string(item, "id", where)
        if len(fingerprint) > 200:
            raise PayloadError(f"{where}id: longer than 200 characters")
        at = parse_time(item["at"], f"{where}at") if item.get("at") is not None else None
        firing = _status(item, where)
        result.append(
            InboundAlert(
                fingerprint=fingerprint,
                firing=firing,
                name=_string(item, "title", where)[:200],
                summary=_string(item, "description", where, required=False),
                labels=_strings(item, "labels", where),
                starts_at=at if firing else None,
                ends_at=None if firing else at,
            )
        )
    return result
