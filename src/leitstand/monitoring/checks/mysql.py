"""MySQL and MariaDB: log in and run ``SELECT 1``.

Seed 003 §2 "Datenbanken (MySQL, PostgreSQL)"; seed 002 §2.1 Priority 1
Services "Database server MySQL or MSSQL".
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import aiomysql  # type: ignore[import-untyped]
import pymysql  # type: ignore[import-untyped]

from leitstand.monitoring.checks.base import CheckType, Result, describe_error
from leitstand.monitoring.checks.database import (
    DatabaseParams,
    DatabaseRaw,
    evaluate_database,
    parse_database_params,
)
from leitstand.monitoring.checks.registry import register

# Client-side error codes (CR_*): the server was never reached or went away.
_NO_SERVER = {2002, 2003, 2005, 2006, 2013}
# MariaDB prefixes its version with "5.5.5-" so that old clients accept it.
_MARIADB_PREFIX = "5.5.5-"


def mysql_error(exc: BaseException) -> tuple[int | None, str]:
    """The error code and message of a PyMySQL error, or of anything else."""
    if isinstance(exc, pymysql.err.Error) and len(exc.args) == 2:
        code, message = exc.args
        if isinstance(exc.__cause__, OSError):
            message = describe_error(exc.__cause__)
        return (code if isinstance(code, int) else None), str(message)
    return None, describe_error(exc)


def server_version(info: str) -> str:
    """``"10.11.19-MariaDB-0+deb12u1"`` from ``"5.5.5-10.11.19-MariaDB-0+deb12u1"``."""
    return info.removeprefix(_MARIADB_PREFIX)


@register("mysql")
class MysqlCheck(CheckType[DatabaseParams, DatabaseRaw]):
    """aiomysql login and ``SELECT 1``."""

    Params = DatabaseParams

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> DatabaseParams:
        return parse_database_params(raw, default_port=3306)

    async def probe(self, params: DatabaseParams, timeout: float) -> DatabaseRaw:
        started = time.monotonic()
        try:
            connection = await aiomysql.connect(
                host=params.host,
                port=params.port,
                user=params.user,
                password=params.password or "",
                db=params.database,
                connect_timeout=timeout + 1,
            )
        except Exception as exc:  # a non-MySQL peer makes the driver raise anything
            code, message = mysql_error(exc)
            if code is None or code in _NO_SERVER:
                return DatabaseRaw(connect_error=message)
            return DatabaseRaw(login_error=message)
        try:
            async with connection.cursor() as cursor:
                await cursor.execute("SELECT 1")
                row = await cursor.fetchone()
            latency = time.monotonic() - started
        except Exception as exc:
            return DatabaseRaw(query_error=mysql_error(exc)[1])
        finally:
            connection.close()
        if row != (1,):
            return DatabaseRaw(query_error=f"returned {row!r}")
        return DatabaseRaw(
            latency_s=latency, server_version=server_version(connection.get_server_info())
        )

    def evaluate(self, params: DatabaseParams, raw: DatabaseRaw) -> Result:
        return evaluate_database("MySQL", params, raw)
