"""The registry and ``run_check``: every kind registered, never an exception."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import time
from collections.abc import Mapping
from typing import Any

import pytest

from leitstand.monitoring.checks import CheckType, ParamsError, Result, State, registry


def test_kinds_lists_every_check_type() -> None:
    assert registry.kinds() == [
        "dns",
        "ftp",
        "http",
        "icmp",
        "imap",
        "mssql",
        "mysql",
        "ntp",
        "pop3",
        "postgresql",
        "smtp",
        "ssh",
        "tcp",
        "tls_cert",
    ]


def test_get_returns_the_registered_class() -> None:
    check_type = registry.get("tcp")
    assert check_type.kind == "tcp"
    assert check_type.__name__ == "TcpCheck"


def test_get_unknown_kind() -> None:
    with pytest.raises(KeyError, match="unknown check type 'gopher'"):
        registry.get("gopher")


def test_register_refuses_a_second_class_for_a_kind() -> None:
    with pytest.raises(ValueError, match="check type 'tcp' is already registered"):
        registry.register("tcp")(type("Other", (registry.get("http"),), {}))


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("gopher", {}, "unknown check type 'gopher'"),
        ("tcp", {"host": "db.example"}, "port: required"),
        (
            "tcp",
            {"host": "db.example", "port": 70000},
            "port: must be between 1 and 65535, got 70000",
        ),
    ],
)
def test_validate(kind: str, params: dict[str, object], message: str) -> None:
    with pytest.raises(ParamsError) as info:
        registry.validate(kind, params)
    assert str(info.value) == message


def test_validate_accepts_good_params() -> None:
    registry.validate("tcp", {"host": "db.example", "port": 5432})


@pytest.mark.parametrize(
    ("kind", "params", "summary"),
    [
        ("gopher", {}, "invalid check: unknown check type 'gopher'"),
        ("tcp", {"port": 22}, "invalid check: host: required"),
        (
            "http",
            {"url": "ftp://x.example/"},
            "invalid check: url: 'ftp://x.example/' must start with http:// or https:// and name a host",
        ),
        ("tcp", [], "invalid check: parameters must be a JSON object"),
    ],
)
def test_run_check_with_bad_params_is_unknown(kind: str, params: object, summary: str) -> None:
    result = asyncio.run(registry.run_check(kind, params, 1))  # type: ignore[arg-type]
    assert result == Result(State.UNKNOWN, summary)


def test_a_target_that_never_answers_costs_one_timeout(silent_port: int) -> None:
    started = time.monotonic()
    result = asyncio.run(
        registry.run_check("http", {"url": f"http://127.0.0.1:{silent_port}/"}, 0.5)
    )
    elapsed = time.monotonic() - started
    assert result == Result(State.CRITICAL, "no answer within 0.5 s")
    assert 0.5 <= elapsed < 1.0


def test_run_check_passes_a_result_through(closed_port: int) -> None:
    result = asyncio.run(registry.run_check("tcp", {"host": "127.0.0.1", "port": closed_port}, 2))
    assert result == Result(
        State.CRITICAL, f"cannot connect to 127.0.0.1:{closed_port}: connection refused"
    )


class _Broken(CheckType[None, None]):
    """A check type with a bug in ``probe`` or ``evaluate``."""

    fail_in = "probe"

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> None:
        return None

    async def probe(self, params: None, timeout: float) -> None:
        if self.fail_in == "probe":
            raise RuntimeError("probe exploded")

    def evaluate(self, params: None, raw: None) -> Result:
        if self.fail_in == "summary":
            return Result(State.OK, "two\nlines from a peer \x00")
        raise ZeroDivisionError("division by zero")


@pytest.fixture
def broken(monkeypatch: pytest.MonkeyPatch) -> type[_Broken]:
    # Registered only for the test, so that kinds() stays the real list.
    monkeypatch.setitem(registry._TYPES, "broken", _Broken)
    return _Broken


@pytest.mark.parametrize(
    ("fail_in", "summary"),
    [
        ("probe", "check failed: RuntimeError: probe exploded"),
        ("evaluate", "check failed: ZeroDivisionError: division by zero"),
    ],
)
def test_a_bug_in_a_check_type_gives_unknown(
    broken: type[_Broken], monkeypatch: pytest.MonkeyPatch, fail_in: str, summary: str
) -> None:
    monkeypatch.setattr(broken, "fail_in", fail_in)
    assert asyncio.run(registry.run_check("broken", {}, 1)) == Result(State.UNKNOWN, summary)


@pytest.mark.parametrize("kind", registry.kinds())
def test_every_check_type_keeps_the_contract(kind: str) -> None:
    check_type = registry.get(kind)
    assert dataclasses.is_dataclass(check_type.Params)
    assert check_type.Params.__dataclass_params__.frozen  # type: ignore[attr-defined]
    # Every type has a required field, so empty params are refused by name.
    with pytest.raises(ParamsError, match=r"^\w+: required$"):
        check_type.parse_params({})
    # The module quotes the seed clause it implements.
    assert "seed 00" in (sys.modules[check_type.__module__].__doc__ or "").lower()


def test_run_check_keeps_summaries_on_one_printable_line(
    broken: type[_Broken], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(broken, "fail_in", "summary")
    assert asyncio.run(registry.run_check("broken", {}, 1)) == Result(
        State.OK, "two lines from a peer \\x00"
    )
