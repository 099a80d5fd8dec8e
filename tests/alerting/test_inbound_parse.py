"""Parsing inbound alarm payloads: tables of raw input and the expected result or error line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from leitstand.alerting import inbound
from leitstand.alerting.inbound import PayloadError, parse_time


def alertmanager(*alerts: dict[str, Any], **top: Any) -> bytes:
    """A body as Alertmanager 0.27 sends it to a webhook receiver."""
    document = {
        "receiver": "leitstand",
        "status": "firing",
        "alerts": list(alerts),
        "groupLabels": {"alertname": "NodeDown"},
        "commonLabels": {"alertname": "NodeDown", "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.provider.example:9093",
        "version": "4",
        "groupKey": '{}/{severity="critical"}:{alertname="NodeDown"}',
        "truncatedAlerts": 0,
    }
    document.update(top)
    return json.dumps(document).encode()


FIRING = {
    "status": "firing",
    "labels": {"alertname": "NodeDown", "instance": "db1:9100", "severity": "critical"},
    "annotations": {"summary": "db1 is down", "description": "No scrape for 5 minutes."},
    "startsAt": "2026-11-18T03:00:00.123456789Z",
    "endsAt": "0001-01-01T00:00:00Z",
    "generatorURL": "http://prometheus.provider.example:9090/graph?g0.expr=up+%3D%3D+0",
    "fingerprint": "a1b2c3d4e5f60718",
}


def test_alertmanager_firing() -> None:
    [alert] = inbound.parse("alertmanager", alertmanager(FIRING))
    assert alert.fingerprint == "a1b2c3d4e5f60718"
    assert alert.firing
    assert alert.name == "NodeDown"
    assert alert.summary == "db1 is down"
    assert alert.labels["instance"] == "db1:9100"
    assert alert.starts_at == datetime(2026, 11, 18, 3, 0, 0, 123456, tzinfo=UTC)
    assert alert.ends_at is None


def test_alertmanager_resolved_with_end_time_and_offset() -> None:
    resolved = {**FIRING, "status": "resolved", "endsAt": "2026-11-18T04:10:00+01:00"}
    [alert] = inbound.parse("alertmanager", alertmanager(resolved, status="resolved"))
    assert not alert.firing
    assert alert.ends_at == datetime(2026, 11, 18, 3, 10, tzinfo=UTC)


def test_alertmanager_summary_falls_back_to_description_then_nothing() -> None:
    only_description = {**FIRING, "annotations": {"description": "No scrape."}}
    none = {**FIRING, "annotations": {}, "fingerprint": "other"}
    first, second = inbound.parse("alertmanager", alertmanager(only_description, none))
    assert first.summary == "No scrape."
    assert second.summary == ""


def test_empty_group_is_fine() -> None:
    assert inbound.parse("alertmanager", alertmanager()) == []


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in FIRING.items() if k != key}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            b"{not json",
            "body: not JSON: Expecting property name enclosed in double quotes at line 1",
        ),
        (b"\xff\xfe", "body: not UTF-8"),
        (b"[]", "body: must be an object"),
        (alertmanager(FIRING, version="3"), "version: expected '4', got '3'"),
        (alertmanager(FIRING, version=4), "version: expected '4', got 4"),
        (alertmanager(FIRING, groupKey=""), "groupKey: must be a non-empty string"),
        (alertmanager(FIRING, alerts={"a": 1}), "alerts: must be a list"),
        (alertmanager("x"), "alerts[0]: must be an object"),  # type: ignore[arg-type]
        (alertmanager(without("fingerprint")), "alerts[0].fingerprint: must be a non-empty string"),
        (
            alertmanager({**FIRING, "status": "pending"}),
            "alerts[0].status: must be 'firing' or 'resolved', not 'pending'",
        ),
        (
            alertmanager(without("status")),
            "alerts[0].status: must be 'firing' or 'resolved', not None",
        ),
        (
            alertmanager({**FIRING, "labels": {"a": 1}}),
            "alerts[0].labels: must be an object of strings",
        ),
        (
            alertmanager({**FIRING, "startsAt": "yesterday"}),
            "alerts[0].startsAt: not an RFC 3339 time: 'yesterday'",
        ),
        (
            alertmanager({**FIRING, "startsAt": "2026-11-18T03:00:00"}),
            "alerts[0].startsAt: needs a time zone offset: '2026-11-18T03:00:00'",
        ),
        (alertmanager(without("startsAt")), "alerts[0].startsAt: must be an RFC 3339 time string"),
        (
            alertmanager(FIRING, {**FIRING, "fingerprint": "x" * 201}),
            "alerts[1].fingerprint: longer than 200 characters",
        ),
        (b"[" * 100000 + b"]" * 100000, "body: larger than"),
    ],
)
def test_alertmanager_errors_name_the_field(body: bytes, error: str) -> None:
    if error == "body: larger than":
        body = b" " * (inbound.MAX_BODY_BYTES + 1)
    with pytest.raises(PayloadError) as raised:
        inbound.parse("alertmanager", body)
    assert str(raised.value).startswith(error)
    assert "\n" not in str(raised.value)


def test_too_many_alerts() -> None:
    many = [{**FIRING, "fingerprint": str(i)} for i in range(inbound.MAX_ALERTS + 1)]
    with pytest.raises(PayloadError, match=r"alerts: more than 1000 in one request"):
        inbound.parse("alertmanager", alertmanager(*many))


def test_deep_nesting_is_a_payload_error_not_a_crash() -> None:
    with pytest.raises(PayloadError):
        inbound.parse("alertmanager", b"[" * 200_000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-18T03:00:00Z", datetime(2026, 11, 18, 3, tzinfo=UTC)),
        ("2026-11-18T03:00:00.5Z", datetime(2026, 11, 18, 3, 0, 0, 500000, tzinfo=UTC)),
        ("2026-11-18T04:00:00+01:00", datetime(2026, 11, 18, 3, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", None),
    ],
)
def test_times(text: str, expected: datetime | None) -> None:
    assert parse_time(text, "t") == expected


# -- generic ------------------------------------------------------------------------


def generic(document: Any) -> bytes:
    return json.dumps(document).encode()


def test_generic_single_alert() -> None:
    [alert] = inbound.parse(
        "generic",
        generic(
            {
                "id": "backup-db1",
                "status": "firing",
                "title": "Backup failed",
                "description": "restic exit 1",
                "labels": {"severity": "warning", "leitstand_asset": "db1"},
                "at": "2026-11-18T03:00:00Z",
            }
        ),
    )
    assert (alert.fingerprint, alert.firing, alert.name, alert.summary) == (
        "backup-db1",
        True,
        "Backup failed",
        "restic exit 1",
    )
    assert alert.labels == {"severity": "warning", "leitstand_asset": "db1"}
    assert alert.starts_at == datetime(2026, 11, 18, 3, tzinfo=UTC)


def test_generic_list_and_resolution() -> None:
    alerts = inbound.parse(
        "generic",
        generic(
            {
                "alerts": [
                    {"id": "a", "status": "firing", "title": "A"},
                    {"id": "b", "status": "resolved", "title": "B", "at": "2026-11-18T03:00:00Z"},
                ]
            }
        ),
    )
    assert [(a.fingerprint, a.firing) for a in alerts] == [("a", True), ("b", False)]
    assert alerts[1].ends_at == datetime(2026, 11, 18, 3, tzinfo=UTC)
    assert alerts[0].starts_at is None


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ({"status": "firing", "title": "A"}, "id: must be a non-empty string"),
        ({"id": "a", "title": "A"}, "status: must be 'firing' or 'resolved', not None"),
        ({"id": "a", "status": "firing"}, "title: must be a non-empty string"),
        ({"id": "a", "status": "firing", "title": " "}, "title: must be a non-empty string"),
        (
            {"id": "a", "status": "firing", "title": "A", "at": 5},
            "at: must be an RFC 3339 time string",
        ),
        (
            {"alerts": [{"id": "a", "status": "firing"}]},
            "alerts[0].title: must be a non-empty string",
        ),
        ({"alerts": "a"}, "alerts: must be a list"),
        ({"id": 7, "status": "firing", "title": "A"}, "id: must be a non-empty string"),
    ],
)
def test_generic_errors(document: Any, error: str) -> None:
    with pytest.raises(PayloadError) as raised:
        inbound.parse("generic", generic(document))
    assert str(raised.value) == error


def test_unknown_kind() -> None:
    with pytest.raises(PayloadError, match="no parser for source kind 'nagios'"):
        inbound.parse("nagios", b"{}")
