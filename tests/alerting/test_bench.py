"""``leitstand bench alerting`` as a user runs it: real SMTP server, real worker processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from leitstand.alerting.bench import quantile


def test_bench_alerting_delivers_every_alarm_and_ends_with_its_json(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEITSTAND_")}
    env["LEITSTAND_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "leitstand.cli",
            "bench",
            "alerting",
            "--alarms",
            "25",
            "--rate",
            "50",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    assert list(figures) == ["alarms", "p50_s", "p99_s", "lost"]
    assert figures["alarms"] == 25
    assert figures["lost"] == 0
    assert 0 < figures["p50_s"] <= figures["p99_s"] < 30
    assert any(line.startswith("state change -> SMTP accepted") for line in lines)
    assert "Traceback" not in result.stderr
    # The scratch database, not the data dir's live one.
    assert not (tmp_path / "leitstand.sqlite3").exists()


def test_bench_refuses_bad_options(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEITSTAND_")}
    env["LEITSTAND_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "leitstand.cli", "bench", "alerting", "--alarms", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "must be positive" in result.stderr
    assert "Traceback" not in result.stderr


def test_quantile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert quantile(values, 0.5) == 50.0
    assert quantile(values, 0.99) == 99.0
    assert quantile([3.0], 0.99) == 3.0
    assert quantile([], 0.5) == 0.0
