"""ICMP ping: packet loss and round-trip time (as ``check_icmp`` does).

Seed 002 §2.1 Priority 1 services: "Network connectivity ICMP Ping". The
echo requests are sent with icmplib: as root over a raw socket; otherwise over
an unprivileged ICMP datagram socket, which Linux allows only to the groups in
``net.ipv4.ping_group_range`` (Debian's default "1 0" allows nobody).
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import icmplib  # type: ignore[import-untyped]  # icmplib ships no type hints

from leitstand.monitoring.checks import fields
from leitstand.monitoring.checks.base import CheckType, ParamsError, Result, State, describe_error
from leitstand.monitoring.checks.registry import register

# check_icmp's defaults: warning at 200 ms or 40 % loss, critical at 500 ms or 80 %.
DEFAULT_RTT_WARNING_S = 0.2
DEFAULT_RTT_CRITICAL_S = 0.5
DEFAULT_LOSS_WARNING_PCT = 40
DEFAULT_LOSS_CRITICAL_PCT = 80
# Never wait less than this for a reply, however short the check's timeout.
MIN_REPLY_TIMEOUT_S = 0.05


@dataclass(frozen=True)
class IcmpParams:
    """Which host to ping, how often, and when loss or round trips are too much."""

    host: str
    count: int = 5
    interval_s: float = 0.2
    rtt_warning_s: float = DEFAULT_RTT_WARNING_S
    rtt_critical_s: float = DEFAULT_RTT_CRITICAL_S
    loss_warning_pct: int = DEFAULT_LOSS_WARNING_PCT
    loss_critical_pct: int = DEFAULT_LOSS_CRITICAL_PCT


@dataclass(frozen=True)
class IcmpRaw:
    """How many echo requests went out and the round-trip time of each reply
    (seconds), or why none could be sent.
    """

    sent: int = 0
    rtts_s: tuple[float, ...] = ()
    error: str | None = None
    # Not allowed to send ICMP at all: the monitor's fault, not the target's.
    permission_denied: bool = False


def reply_timeout(params: IcmpParams, timeout: float) -> float:
    """How long to wait for each reply so that all ``count`` requests fit in
    80 % of the check's timeout: a host that never answers is reported with
    its loss, not cut off by the engine's deadline.
    """
    per_request = timeout * 0.8 / params.count - params.interval_s
    return max(MIN_REPLY_TIMEOUT_S, per_request)


def _grade(value: float, warning: float, critical: float) -> State:
    if value >= critical:
        return State.CRITICAL
    if value >= warning:
        return State.WARNING
    return State.OK


def _worst(*states: State) -> State:
    order = [State.OK, State.WARNING, State.CRITICAL]
    return max(states, key=order.index)


@register("icmp")
class IcmpCheck(CheckType[IcmpParams, IcmpRaw]):
    """Send ``count`` echo requests and judge loss and average round trip."""

    Params = IcmpParams

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> IcmpParams:
        fields.only(
            raw,
            [
                "host",
                "count",
                "interval_s",
                "rtt_warning_s",
                "rtt_critical_s",
                "loss_warning_pct",
                "loss_critical_pct",
            ],
        )
        rtt_warning = fields.optional_seconds(raw, "rtt_warning_s") or DEFAULT_RTT_WARNING_S
        rtt_critical = fields.optional_seconds(raw, "rtt_critical_s") or DEFAULT_RTT_CRITICAL_S
        if rtt_warning > rtt_critical:
            raise ParamsError("rtt_warning_s: must not be greater than rtt_critical_s")
        loss_warning = fields.integer(
            raw, "loss_warning_pct", DEFAULT_LOSS_WARNING_PCT, minimum=1, maximum=100
        )
        loss_critical = fields.integer(
            raw, "loss_critical_pct", DEFAULT_LOSS_CRITICAL_PCT, minimum=1, maximum=100
        )
        if loss_warning > loss_critical:
            raise ParamsError("loss_warning_pct: must not be greater than loss_critical_pct")
        interval = fields.optional_seconds(raw, "interval_s") or 0.2
        if interval > 10:
            raise ParamsError(f"interval_s: must be at most 10, got {interval:g}")
        return IcmpParams(
            host=fields.host(raw),
            count=fields.integer(raw, "count", 5, minimum=1, maximum=20),
            interval_s=interval,
            rtt_warning_s=rtt_warning,
            rtt_critical_s=rtt_critical,
            loss_warning_pct=loss_warning,
            loss_critical_pct=loss_critical,
        )

    async def probe(self, params: IcmpParams, timeout: float) -> IcmpRaw:
        try:
            host = await icmplib.async_ping(
                params.host,
                count=params.count,
                interval=params.interval_s,
                timeout=reply_timeout(params, timeout),
                privileged=os.geteuid() == 0,
            )
        except icmplib.SocketPermissionError:
            return IcmpRaw(
                error="not allowed to send ICMP echo requests: run the monitor as root or "
                "add its group to net.ipv4.ping_group_range",
                permission_denied=True,
            )
        except icmplib.NameLookupError:
            return IcmpRaw(error=f"cannot resolve host name {params.host}")
        except (icmplib.ICMPLibError, OSError) as exc:
            return IcmpRaw(error=describe_error(exc))
        return IcmpRaw(
            sent=int(host.packets_sent), rtts_s=tuple(float(ms) / 1000 for ms in host.rtts)
        )

    def evaluate(self, params: IcmpParams, raw: IcmpRaw) -> Result:
        if raw.permission_denied:
            return Result(State.UNKNOWN, f"cannot ping {params.host}: {raw.error}")
        if raw.error is not None or raw.sent == 0:
            return Result(
                State.CRITICAL, f"cannot ping {params.host}: {raw.error or 'nothing sent'}"
            )
        received = len(raw.rtts_s)
        loss = 100 * (raw.sent - received) / raw.sent
        if not raw.rtts_s:
            return Result(
                State.CRITICAL,
                f"{params.host} does not answer: 100% packet loss ({raw.sent} sent)",
                {"loss_pct": loss},
            )
        average = statistics.fmean(raw.rtts_s)
        metrics = {
            "loss_pct": loss,
            "rtt_avg_s": average,
            "rtt_min_s": min(raw.rtts_s),
            "rtt_max_s": max(raw.rtts_s),
        }
        loss_state = _grade(loss, params.loss_warning_pct, params.loss_critical_pct)
        rtt_state = _grade(average, params.rtt_warning_s, params.rtt_critical_s)
        notes = []
        if loss_state is not State.OK:
            limit = (
                params.loss_critical_pct
                if loss_state is State.CRITICAL
                else params.loss_warning_pct
            )
            notes.append(f"loss {loss_state} at {limit}%")
        if rtt_state is not State.OK:
            limit_s = params.rtt_critical_s if rtt_state is State.CRITICAL else params.rtt_warning_s
            notes.append(f"rtt {rtt_state} at {limit_s * 1000:g} ms")
        note = f" ({'; '.join(notes)})" if notes else ""
        return Result(
            _worst(loss_state, rtt_state),
            f"rtt {average * 1000:.3f} ms, {loss:.0f}% packet loss{note}",
            metrics,
        )
