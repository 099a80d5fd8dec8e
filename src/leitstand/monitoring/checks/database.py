"""What the database check types share: parameters, observation, evaluation.

Each database product is its own check type (``postgresql.py``,
``mysql.py``) with its own driver; they log in, run ``SELECT 1`` and report
the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from leitstand.monitoring.checks import fields
from leitstand.monitoring.checks.base import (
    ParamsError,
    Result,
    State,
    grade_latency,
    latency_note,
    one_line,
)

FIELDS = (
    "host",
    "port",
    "user",
    "password",
    "database",
    "latency_warning_s",
    "latency_critical_s",
)


@dataclass(frozen=True)
class DatabaseParams:
    """Where the server listens, whom to log in as, how slow is too slow."""

    host: str
    port: int
    user: str
    password: str | None = field(default=None, repr=False)
    database: str | None = None
    latency_warning_s: float | None = None
    latency_critical_s: float | None = None


@dataclass(frozen=True)
class DatabaseRaw:
    """Login plus ``SELECT 1`` time and server version, or where it failed."""

    latency_s: float | None = None
    server_version: str = ""
    connect_error: str | None = None
    login_error: str | None = None
    query_error: str | None = None


def parse_database_params(raw: Mapping[str, Any], default_port: int) -> DatabaseParams:
    """The parameters every database check type takes."""
    fields.only(raw, FIELDS)
    warning, critical = fields.latency_thresholds(raw)
    password = raw.get("password")
    # An empty password is a real (if poor) password: keep "" distinct from None.
    if password is not None and not isinstance(password, str):
        raise ParamsError("password: must be a string")
    return DatabaseParams(
        host=fields.host(raw),
        port=fields.port(raw, default_port),
        user=fields.text(raw, "user"),
        password=password,
        database=fields.optional_text(raw, "database"),
        latency_warning_s=warning,
        latency_critical_s=critical,
    )


def evaluate_database(product: str, params: DatabaseParams, raw: DatabaseRaw) -> Result:
    """One verdict for every database product."""
    target = f"{params.host}:{params.port}"
    if raw.connect_error is not None:
        return Result(State.CRITICAL, one_line(f"cannot connect to {target}: {raw.connect_error}"))
    if raw.login_error is not None:
        return Result(
            State.CRITICAL,
            one_line(f"cannot log in to {target} as {params.user}: {raw.login_error}"),
        )
    if raw.query_error is not None or raw.latency_s is None:
        return Result(
            State.CRITICAL,
            one_line(f"SELECT 1 failed on {target}: {raw.query_error or 'no result'}"),
        )
    warning, critical = params.latency_warning_s, params.latency_critical_s
    state = grade_latency(raw.latency_s, warning, critical)
    summary = f"{product} {raw.server_version} answered in {raw.latency_s * 1000:.0f} ms"
    return Result(
        state,
        one_line(summary + latency_note(state, warning, critical)),
        {"latency_s": raw.latency_s},
        {"server_version": raw.server_version},
    )
