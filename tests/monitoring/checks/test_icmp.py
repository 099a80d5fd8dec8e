"""ICMP ping check: parameters and evaluation tables; real echo requests to
loopback (the kernel answers) and to an address that never answers.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from leitstand.monitoring.checks import ParamsError, Result, State, registry
from leitstand.monitoring.checks.icmp import IcmpCheck, IcmpParams, IcmpRaw, reply_timeout


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"host": "srv.example"}, IcmpParams("srv.example")),
        (
            {
                "host": "192.0.2.1",
                "count": 3,
                "interval_s": 0.5,
                "rtt_warning_s": 0.05,
                "rtt_critical_s": 0.1,
                "loss_warning_pct": 10,
                "loss_critical_pct": 50,
            },
            IcmpParams("192.0.2.1", 3, 0.5, 0.05, 0.1, 10, 50),
        ),
    ],
)
def test_parse_params(raw: dict[str, Any], expected: IcmpParams) -> None:
    assert IcmpCheck.parse_params(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "host: required"),
        ({"host": "srv.example", "count": 0}, "count: must be between 1 and 20, got 0"),
        ({"host": "srv.example", "count": 21}, "count: must be between 1 and 20, got 21"),
        ({"host": "srv.example", "interval_s": 60}, "interval_s: must be at most 10, got 60"),
        (
            {"host": "srv.example", "rtt_warning_s": 1, "rtt_critical_s": 0.5},
            "rtt_warning_s: must not be greater than rtt_critical_s",
        ),
        (
            {"host": "srv.example", "loss_warning_pct": 90},
            "loss_warning_pct: must not be greater than loss_critical_pct",
        ),
        (
            {"host": "srv.example", "loss_critical_pct": 101},
            "loss_critical_pct: must be between 1 and 100, got 101",
        ),
        (
            {"host": "srv.example", "timeout": 3},
            "unknown parameter 'timeout'; expected some of: count, host, interval_s, "
            "loss_critical_pct, loss_warning_pct, rtt_critical_s, rtt_warning_s",
        ),
    ],
)
def test_parse_params_refuses(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError) as info:
        IcmpCheck.parse_params(raw)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("params", "timeout", "expected"),
    [
        (IcmpParams("h", count=5, interval_s=0.2), 10, 1.4),
        (IcmpParams("h", count=1, interval_s=0.2), 1, 0.6),
        # Too many requests for the timeout: still wait a little for each.
        (IcmpParams("h", count=20, interval_s=1), 5, 0.05),
    ],
)
def test_reply_timeout(params: IcmpParams, timeout: float, expected: float) -> None:
    assert reply_timeout(params, timeout) == pytest.approx(expected)


P = IcmpParams("srv.example")


@pytest.mark.parametrize(
    ("raw", "state", "summary"),
    [
        (IcmpRaw(5, (0.010,) * 5), State.OK, "rtt 10.000 ms, 0% packet loss"),
        (
            IcmpRaw(5, (0.010,) * 3),
            State.WARNING,
            "rtt 10.000 ms, 40% packet loss (loss warning at 40%)",
        ),
        (
            IcmpRaw(5, (0.010,)),
            State.CRITICAL,
            "rtt 10.000 ms, 80% packet loss (loss critical at 80%)",
        ),
        (
            IcmpRaw(5, (0.1, 0.3, 0.2, 0.2, 0.2)),
            State.WARNING,
            "rtt 200.000 ms, 0% packet loss (rtt warning at 200 ms)",
        ),
        (
            IcmpRaw(5, (0.6,) * 4),
            State.CRITICAL,
            "rtt 600.000 ms, 20% packet loss (rtt critical at 500 ms)",
        ),
        (
            IcmpRaw(5, (0.3,) * 2),
            State.WARNING,
            "rtt 300.000 ms, 60% packet loss (loss warning at 40%; rtt warning at 200 ms)",
        ),
        (IcmpRaw(5, ()), State.CRITICAL, "srv.example does not answer: 100% packet loss (5 sent)"),
        (
            IcmpRaw(error="network is unreachable"),
            State.CRITICAL,
            "cannot ping srv.example: network is unreachable",
        ),
        (
            IcmpRaw(error="not allowed to send ICMP echo requests", permission_denied=True),
            State.UNKNOWN,
            "cannot ping srv.example: not allowed to send ICMP echo requests",
        ),
    ],
)
def test_evaluate(raw: IcmpRaw, state: State, summary: str) -> None:
    result = IcmpCheck().evaluate(P, raw)
    assert (result.state, result.summary) == (state, summary)


def test_evaluate_metrics() -> None:
    result = IcmpCheck().evaluate(P, IcmpRaw(4, (0.001, 0.003, 0.002)))
    assert result.metrics == pytest.approx(
        {"loss_pct": 25.0, "rtt_avg_s": 0.002, "rtt_min_s": 0.001, "rtt_max_s": 0.003}
    )


# -- real echo requests -----------------------------------------------------------


def run(timeout: float = 5, **params: Any) -> Result:
    return asyncio.run(registry.run_check("icmp", params, timeout))


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_loopback_answers(host: str) -> None:
    result = run(host=host, count=3, interval_s=0.01)
    assert result.state is State.OK
    assert result.summary.endswith(" ms, 0% packet loss")
    assert result.metrics["loss_pct"] == 0
    assert 0 < result.metrics["rtt_avg_s"] < 0.1


def test_loopback_slower_than_a_tiny_threshold() -> None:
    result = run(host="127.0.0.1", count=2, interval_s=0.01, rtt_warning_s=1e-9)
    assert result.state is State.WARNING
    assert result.summary.endswith("(rtt warning at 1e-06 ms)")


def test_address_that_never_answers() -> None:
    # Every address in 127.0.0.0/8 is this host's and answers, so there is no
    # silent peer on loopback. 198.51.100.1 (TEST-NET-2, RFC 5737) is never
    # routed: either the echo requests get no answer (or an ICMP unreachable)
    # or, without a default route, they cannot be sent at all.
    started = time.monotonic()
    result = run(timeout=2, host="198.51.100.1", count=2, interval_s=0.01)
    assert result.state is State.CRITICAL
    assert result.summary == "198.51.100.1 does not answer: 100% packet loss (2 sent)" or (
        result.summary.startswith("cannot ping 198.51.100.1: ")
    )
    assert time.monotonic() - started < 2


def test_unknown_host_name() -> None:
    assert run(host="no-such-host.invalid", count=1) == Result(
        State.CRITICAL,
        "cannot ping no-such-host.invalid: cannot resolve host name no-such-host.invalid",
    )
