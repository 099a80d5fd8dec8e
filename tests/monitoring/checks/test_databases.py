"""PostgreSQL and MySQL checks: shared parameters and evaluation tables, and
logins against the machine's PostgreSQL (127.0.0.1:5432) and MariaDB
(127.0.0.1:3306).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from leitstand.monitoring.checks import ParamsError, Result, State, registry
from leitstand.monitoring.checks.database import (
    DatabaseParams,
    DatabaseRaw,
    evaluate_database,
    parse_database_params,
)
from leitstand.monitoring.checks.mysql import MysqlCheck, mysql_error, server_version
from leitstand.monitoring.checks.postgresql import PostgresqlCheck


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"host": "db.example", "user": "monitor"}, DatabaseParams("db.example", 5432, "monitor")),
        (
            {
                "host": "db.example",
                "port": 6432,
                "user": "monitor",
                "password": "",
                "database": "app",
                "latency_warning_s": 0.5,
            },
            DatabaseParams("db.example", 6432, "monitor", "", "app", latency_warning_s=0.5),
        ),
    ],
)
def test_parse_params(raw: dict[str, Any], expected: DatabaseParams) -> None:
    assert PostgresqlCheck.parse_params(raw) == expected


def test_mysql_default_port() -> None:
    assert MysqlCheck.parse_params({"host": "db.example", "user": "monitor"}).port == 3306


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"user": "monitor"}, "host: required"),
        ({"host": "db.example"}, "user: required"),
        ({"host": "db.example", "user": "monitor", "password": 1234}, "password: must be a string"),
        (
            {"host": "db.example", "user": "monitor", "db": "app"},
            "unknown parameter 'db'; expected some of: database, host, latency_critical_s, latency_warning_s, password, port, user",
        ),
    ],
)
def test_parse_params_refuses(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamsError) as info:
        parse_database_params(raw, default_port=5432)
    assert str(info.value) == message


def test_password_is_not_shown_in_repr() -> None:
    assert "s3cret" not in repr(DatabaseParams("db.example", 5432, "monitor", "s3cret"))


PARAMS = DatabaseParams("db.example", 5432, "monitor", latency_warning_s=0.1, latency_critical_s=1)


@pytest.mark.parametrize(
    ("raw", "state", "summary"),
    [
        (
            DatabaseRaw(latency_s=0.004, server_version="15.0"),
            State.OK,
            "PostgreSQL 15.0 answered in 4 ms",
        ),
        (
            DatabaseRaw(latency_s=0.25, server_version="15.0"),
            State.WARNING,
            "PostgreSQL 15.0 answered in 250 ms (warning at 0.1 s)",
        ),
        (
            DatabaseRaw(latency_s=1.5, server_version="15.0"),
            State.CRITICAL,
            "PostgreSQL 15.0 answered in 1500 ms (critical at 1 s)",
        ),
        (
            DatabaseRaw(connect_error="connection refused"),
            State.CRITICAL,
            "cannot connect to db.example:5432: connection refused",
        ),
        (
            DatabaseRaw(login_error='password authentication failed for user "monitor"'),
            State.CRITICAL,
            'cannot log in to db.example:5432 as monitor: password authentication failed for user "monitor"',
        ),
        (
            DatabaseRaw(query_error="returned None"),
            State.CRITICAL,
            "SELECT 1 failed on db.example:5432: returned None",
        ),
        (DatabaseRaw(), State.CRITICAL, "SELECT 1 failed on db.example:5432: no result"),
    ],
)
def test_evaluate(raw: DatabaseRaw, state: State, summary: str) -> None:
    result = evaluate_database("PostgreSQL", PARAMS, raw)
    assert (result.state, result.summary) == (state, summary)


def test_evaluate_metrics_and_details() -> None:
    result = MysqlCheck().evaluate(PARAMS, DatabaseRaw(latency_s=0.004, server_version="8.4.3"))
    assert result == Result(
        State.OK, "MySQL 8.4.3 answered in 4 ms", {"latency_s": 0.004}, {"server_version": "8.4.3"}
    )


@pytest.mark.parametrize(
    ("info", "version"),
    [("5.5.5-10.11.19-MariaDB-0+deb12u1", "10.11.19-MariaDB-0+deb12u1"), ("8.4.3", "8.4.3")],
)
def test_server_version(info: str, version: str) -> None:
    assert server_version(info) == version


def test_mysql_error_of_a_foreign_exception() -> None:
    assert mysql_error(ConnectionResetError()) == (None, "connection reset by peer")


# -- the machine's servers ------------------------------------------------------------


def run(kind: str, params: dict[str, Any], timeout: float = 5) -> Result:
    return asyncio.run(registry.run_check(kind, {"host": "127.0.0.1", **params}, timeout))


def test_postgresql_up() -> None:
    result = run("postgresql", {"user": "postgres", "database": "postgres"})
    assert result.state is State.OK
    assert re.fullmatch(r"\d+\.\d+", result.details["server_version"])
    assert result.summary.startswith(f"PostgreSQL {result.details['server_version']} answered in ")


@pytest.mark.parametrize(
    ("params", "summary"),
    [
        (
            {"user": "postgres", "database": "no_such_db"},
            'cannot log in to 127.0.0.1:5432 as postgres: database "no_such_db" does not exist',
        ),
        (
            {"user": "no_such_role", "password": "x", "database": "postgres"},
            'cannot log in to 127.0.0.1:5432 as no_such_role: role "no_such_role" does not exist',
        ),
    ],
)
def test_postgresql_login_refused(params: dict[str, Any], summary: str) -> None:
    # This server trusts 127.0.0.1 (no passwords), so a wrong database and an
    # unknown role stand in for a wrong password: the same code path.
    assert run("postgresql", params) == Result(State.CRITICAL, summary)


def test_postgresql_closed_port(closed_port: int) -> None:
    assert run("postgresql", {"port": closed_port, "user": "postgres"}) == Result(
        State.CRITICAL, f"cannot connect to 127.0.0.1:{closed_port}: connection refused"
    )


def test_postgresql_garbage(garbage_port: int) -> None:
    result = run("postgresql", {"port": garbage_port, "user": "postgres"})
    assert result.state is State.CRITICAL
    assert result.summary.startswith(f"cannot connect to 127.0.0.1:{garbage_port}: ")


def test_postgresql_silent(silent_port: int) -> None:
    assert run("postgresql", {"port": silent_port, "user": "postgres"}, timeout=0.5) == Result(
        State.CRITICAL, "no answer within 0.5 s"
    )


def test_mysql_up() -> None:
    result = run("mysql", {"user": "root", "password": ""})
    assert result.state is State.OK
    assert result.summary.startswith(f"MySQL {result.details['server_version']} answered in ")
    assert not result.details["server_version"].startswith("5.5.5-")


def test_mysql_wrong_password() -> None:
    assert run("mysql", {"user": "root", "password": "wrong"}) == Result(
        State.CRITICAL,
        "cannot log in to 127.0.0.1:3306 as root: Access denied for user 'root'@'127.0.0.1' (using password: YES)",
    )


def test_mysql_unknown_database() -> None:
    assert run("mysql", {"user": "root", "database": "no_such_db"}) == Result(
        State.CRITICAL, "cannot log in to 127.0.0.1:3306 as root: Unknown database 'no_such_db'"
    )


def test_mysql_closed_port(closed_port: int) -> None:
    assert run("mysql", {"port": closed_port, "user": "root"}) == Result(
        State.CRITICAL, f"cannot connect to 127.0.0.1:{closed_port}: connection refused"
    )


def test_mysql_garbage(garbage_port: int) -> None:
    assert run("mysql", {"port": garbage_port, "user": "root"}) == Result(
        State.CRITICAL,
        f"cannot connect to 127.0.0.1:{garbage_port}: Packet sequence number wrong - got 103 expected 0",
    )


def test_mysql_silent(silent_port: int) -> None:
    assert run("mysql", {"port": silent_port, "user": "root"}, timeout=0.5) == Result(
        State.CRITICAL, "no answer within 0.5 s"
    )
