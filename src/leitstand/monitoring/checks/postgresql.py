"""PostgreSQL: log in and run ``SELECT 1``.

Seed 003 §2 "Datenbanken (MySQL, PostgreSQL)".
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from leitstand.monitoring.checks.base import CheckType, Result, describe_error
from leitstand.monitoring.checks.database import (
    DatabaseParams,
    DatabaseRaw,
    evaluate_database,
    parse_database_params,
)
from leitstand.monitoring.checks.registry import register


@register("postgresql")
class PostgresqlCheck(CheckType[DatabaseParams, DatabaseRaw]):
    """asyncpg login (database defaults to the user's name) and ``SELECT 1``."""

    Params = DatabaseParams

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> DatabaseParams:
        return parse_database_params(raw, default_port=5432)

    async def probe(self, params: DatabaseParams, timeout: float) -> DatabaseRaw:
        started = time.monotonic()
        try:
            # asyncpg's own timeout is a backstop; run_check's deadline comes first.
            connection = await asyncpg.connect(
                host=params.host,
                port=params.port,
                user=params.user,
                password=params.password,
                database=params.database,
                timeout=timeout + 1,
            )
        except asyncpg.PostgresError as exc:
            return DatabaseRaw(login_error=describe_error(exc))
        except Exception as exc:  # a non-PostgreSQL peer makes the driver raise anything
            return DatabaseRaw(connect_error=describe_error(exc))
        try:
            value = await connection.fetchval("SELECT 1")
            latency = time.monotonic() - started
        except BaseException as exc:
            # Failed or cancelled by the deadline: hang up without waiting on the peer.
            connection.terminate()
            if not isinstance(exc, Exception):
                raise
            return DatabaseRaw(query_error=describe_error(exc))
        with contextlib.suppress(Exception):
            await connection.close(timeout=1)
        if value != 1:
            return DatabaseRaw(query_error=f"returned {value!r}")
        # "15.20 (Debian 15.20-0+deb12u1)": the version is the first word.
        version = str(connection.get_settings().server_version).split(" ", 1)[0]
        return DatabaseRaw(latency_s=latency, server_version=version)

    def evaluate(self, params: DatabaseParams, raw: DatabaseRaw) -> Result:
        return evaluate_database("PostgreSQL", params, raw)
