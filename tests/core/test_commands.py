"""The console commands as a user types them: exit status, output, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from leitstand.core.demo import CATALOG


def leitstand(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEITSTAND_")}
    env["LEITSTAND_DATA_DIR"] = str(data)
    return subprocess.run(
        [sys.executable, "-m", "leitstand.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_catalog_load_twice_then_dump(tmp_path: Path) -> None:
    assert leitstand("migrate", "--no-input", data=tmp_path).returncode == 0
    first = leitstand("catalog", "load", str(CATALOG), data=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith("created, 0 updated, 0 unchanged")
    second = leitstand("catalog", "load", str(CATALOG), data=tmp_path)
    assert second.stdout.strip().endswith("0 created, 0 updated, 26 unchanged")
    dump = tmp_path / "dump.yaml"
    assert leitstand("catalog", "dump", "-o", str(dump), data=tmp_path).returncode == 0
    again = leitstand("catalog", "load", str(dump), data=tmp_path)
    assert again.stdout.strip().endswith("0 created, 0 updated, 26 unchanged")


def test_catalog_load_of_a_broken_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    assert leitstand("migrate", "--no-input", data=tmp_path).returncode == 0
    bad = tmp_path / "offer.yaml"
    bad.write_text("catalog:\n  backup_policies:\n    daily: {keep_for: 14 days}\n")
    result = leitstand("catalog", "load", str(bad), data=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"CommandError: {bad}: catalog.backup_policies.daily.keep_for: bad duration '14 days': "
        "expected <number><unit>... with units s, m, h, d, w, mo"
    ]


def test_bench_sla_ends_with_its_json_figures(tmp_path: Path) -> None:
    result = leitstand("bench", "sla", "--seconds", "0.2", "--starts", "200", data=tmp_path)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(figures) == {"short_per_s", "long_per_s"}
    assert figures["short_per_s"] > 0
    assert figures["long_per_s"] > 0


def test_monitor_rejects_a_bad_shard(tmp_path: Path) -> None:
    result = leitstand("monitor", "--shard", "3/2", data=tmp_path)
    assert result.returncode == 1
    assert "bad shard '3/2': need 0 <= I < N" in result.stderr
    assert "Traceback" not in result.stderr
