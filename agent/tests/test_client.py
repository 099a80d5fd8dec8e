"""The HTTPS client against the protocol stand-in (tests/conftest.py), not the real server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from leitstand_agent.client import (
    Client,
    ClientError,
    InsecureURLError,
    check_url,
    parse_retry_after,
    send_pending,
)
from leitstand_agent.spool import Spool


def client_for(server: Any, **kwargs: Any) -> Client:
    return Client(
        server.url, host_id=server.state.host_id, secret=server.state.secret, timeout=5, **kwargs
    )


def spool_with(tmp_path: Path, *seqs: int) -> Spool:
    spool = Spool(tmp_path / "spool", 100, 10**6)
    for seq in seqs:
        spool.put(seq, json.dumps({"seq": seq}).encode())
    return spool


def test_enroll(stand_in: Any) -> None:
    enrollment = Client(stand_in.url).enroll("enroll-token", "web01", "abc123")
    assert (enrollment.host_id, enrollment.secret, enrollment.report_interval) == (
        17,
        "s" * 43,
        60.0,
    )
    assert stand_in.state.enrollments[0]["hostname"] == "web01"
    assert stand_in.state.enrollments[0]["machine_id"] == "abc123"
    assert stand_in.state.enrollments[0]["agent_version"] == "0.1.0"


def test_enroll_refused_names_the_reason(stand_in: Any) -> None:
    with pytest.raises(ClientError, match="enrollment refused: token unknown, used or expired"):
        Client(stand_in.url).enroll("wrong", "web01", "abc")


def test_bearer_authentication(stand_in: Any) -> None:
    client_for(stand_in).actions()
    assert stand_in.state.authorizations == ["Bearer 17." + "s" * 43]


def test_wrong_secret_is_an_error(stand_in: Any) -> None:
    client = Client(stand_in.url, host_id=17, secret="wrong", timeout=5)
    with pytest.raises(ClientError, match="bad credentials"):
        client.actions()


def test_send_pending_oldest_first_and_empties_queue(tmp_path: Path, stand_in: Any) -> None:
    spool = spool_with(tmp_path, 3, 1, 2)
    outcome = send_pending(spool, client_for(stand_in))
    assert (outcome.sent, outcome.rejected, outcome.retry_after, outcome.error) == (
        3,
        0,
        None,
        None,
    )
    assert [r["seq"] for r in stand_in.state.reports] == [1, 2, 3]
    assert spool.pending() == []


def test_duplicate_counts_as_accepted(tmp_path: Path, stand_in: Any) -> None:
    stand_in.state.accepted.add(1)
    spool = spool_with(tmp_path, 1)
    assert send_pending(spool, client_for(stand_in)).sent == 1
    assert spool.pending() == []


@pytest.mark.parametrize("status", [503, 429])
def test_busy_keeps_reports_and_returns_the_wait(
    tmp_path: Path, stand_in: Any, status: int
) -> None:
    stand_in.state.report_script = [
        (202, {}, {"accepted": 1}),
        (status, {"Retry-After": "120"}, {"error": "busy"}),
    ]
    spool = spool_with(tmp_path, 1, 2, 3)
    outcome = send_pending(spool, client_for(stand_in))
    assert (outcome.sent, outcome.retry_after) == (1, 120.0)
    # Report 3 was not sent while 2 waits: never newer before older.
    assert [r.seq for r in spool.pending()] == [2, 3]
    assert [r["seq"] for r in stand_in.state.reports] == [1]
    # Next round: the server is back, 2 then 3.
    assert send_pending(spool, client_for(stand_in)).sent == 2
    assert [r["seq"] for r in stand_in.state.reports] == [1, 2, 3]


def test_malformed_report_goes_to_rejected_and_the_next_follows(
    tmp_path: Path, stand_in: Any
) -> None:
    stand_in.state.report_script = [(400, {}, {"error": "metrics.cpu_percent: not a number"})]
    spool = spool_with(tmp_path, 1, 2)
    outcome = send_pending(spool, client_for(stand_in))
    assert (outcome.sent, outcome.rejected) == (1, 1)
    assert [p.name for p in spool.rejected()] == ["000000000001.json"]
    assert (
        spool.rejected_dir / "000000000001.reason"
    ).read_text() == "metrics.cpu_percent: not a number"
    assert [r["seq"] for r in stand_in.state.reports] == [2]


def test_forbidden_stops_without_losing_reports(tmp_path: Path, stand_in: Any) -> None:
    spool = spool_with(tmp_path, 1)
    client = Client(stand_in.url, host_id=17, secret="revoked", timeout=5)
    outcome = send_pending(spool, client)
    assert outcome.sent == 0
    assert outcome.retry_after == 30.0
    assert outcome.error == "report 1: bad credentials"
    assert [r.seq for r in spool.pending()] == [1]


def test_unreachable_server_keeps_reports(tmp_path: Path, stand_in: Any) -> None:
    url = stand_in.url
    stand_in.__exit__()
    spool = spool_with(tmp_path, 1)
    outcome = send_pending(spool, Client(url, host_id=17, secret="x", timeout=2))
    assert outcome.sent == 0
    assert outcome.retry_after == 30.0
    assert outcome.error
    assert [r.seq for r in spool.pending()] == [1]


def test_actions_and_results(stand_in: Any) -> None:
    stand_in.state.actions = [{"id": 5, "type": "kill_pid"}]
    client = client_for(stand_in)
    assert client.actions() == [{"id": 5, "type": "kill_pid"}]
    client.post_result(
        5, {"status": "rejected", "output": "x", "started_at": "a", "finished_at": "b"}
    )
    assert stand_in.state.results == [
        (5, {"status": "rejected", "output": "x", "started_at": "a", "finished_at": "b"})
    ]


def test_https_with_pinned_ca(tmp_path: Path, tls_stand_in: Any, certificates: Any) -> None:
    client = client_for(tls_stand_in, ca_file=certificates.ca)
    assert send_pending(spool_with(tmp_path, 1), client).sent == 1


def test_https_with_another_ca_is_refused(
    tmp_path: Path, tls_stand_in: Any, certificates: Any
) -> None:
    client = client_for(tls_stand_in, ca_file=certificates.other_ca)
    with pytest.raises(ClientError, match="CERTIFICATE_VERIFY_FAILED"):
        client.actions()


def test_https_without_pin_uses_system_cas_and_refuses_the_test_ca(tls_stand_in: Any) -> None:
    with pytest.raises(ClientError, match="CERTIFICATE_VERIFY_FAILED"):
        client_for(tls_stand_in).actions()


@pytest.mark.parametrize(
    "url",
    [
        "https://leitstand.example.net/",
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://[::1]:8000",
    ],
)
def test_check_url_accepts(url: str) -> None:
    assert not check_url(url).endswith("/")


def test_check_url_refuses_plain_http_across_the_network() -> None:
    with pytest.raises(InsecureURLError, match="loopback only"):
        check_url("http://leitstand.example.net")
    with pytest.raises(ClientError, match="not an https"):
        check_url("ftp://leitstand.example.net")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("120", 120.0), (None, None), ("soon", None), ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0)],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds
