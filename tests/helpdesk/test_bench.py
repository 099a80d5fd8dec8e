"""``leitstand bench helpdesk`` as an operator runs it: a scratch database, its
figures, its last line of JSON, and a clear refusal instead of an hour on SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection


def leitstand(*args: str, data: Path, database_url: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEITSTAND_")}
    env["LEITSTAND_DATA_DIR"] = str(data)
    if database_url:
        env["LEITSTAND_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "leitstand.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def figures(result: subprocess.CompletedProcess[str]) -> dict[str, float]:
    assert result.returncode == 0, result.stderr[-3000:]
    last = result.stdout.strip().splitlines()[-1]
    parsed: dict[str, float] = json.loads(last)
    return parsed


def test_bench_on_sqlite_with_a_small_n(tmp_path: Path) -> None:
    result = leitstand("bench", "helpdesk", "--tickets", "400", "--samples", "8", data=tmp_path)
    out = figures(result)
    assert list(out) == ["tickets", "create_p95_ms", "queue_p95_ms"]
    assert out["tickets"] == 400
    assert 0 < out["create_p95_ms"] < 10_000
    assert 0 < out["queue_p95_ms"] < 10_000
    assert "measured on sqlite, not PostgreSQL" in result.stdout
    assert "data: 400 tickets" in result.stdout
    for key in ("breaching", "unassigned", "mine", "open"):
        assert f"queue {key}" in result.stdout
    # The scratch database, not the live one: nothing was written into the data dir.
    assert (
        not (tmp_path / "leitstand.sqlite3").exists()
        or (tmp_path / "leitstand.sqlite3").stat().st_size < 200_000
    )


def test_bench_refuses_a_million_tickets_on_sqlite(tmp_path: Path) -> None:
    result = leitstand("bench", "helpdesk", data=tmp_path)
    assert result.returncode == 1
    assert "measures PostgreSQL" in result.stderr
    assert "LEITSTAND_DATABASE_URL=postgresql://" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["--tickets", "0"], ["--samples", "-1"], ["--tickets", "many"]])
def test_bench_rejects_bad_arguments(tmp_path: Path, args: list[str]) -> None:
    result = leitstand("bench", "helpdesk", *args, data=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs the PostgreSQL test server")
@pytest.mark.django_db
def test_bench_on_postgresql_uses_and_drops_a_scratch_database(tmp_path: Path) -> None:
    settings = connection.settings_dict
    url = (
        f"postgresql://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/"
        f"{settings['NAME']}_bench_test"
    )
    result = leitstand(
        "bench", "helpdesk", "--tickets", "3000", "--samples", "8", data=tmp_path, database_url=url
    )
    out = figures(result)
    assert out["tickets"] == 3000
    assert "EXPLAIN breaching" in result.stdout
    assert "EXPLAIN unassigned" in result.stdout
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s",
            [f"{settings['NAME']}_bench_test_bench_helpdesk"],
        )
        assert cursor.fetchone() == (0,)
