"""``leitstand bench portal`` runs end to end with small numbers and ends with its JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_bench_portal_ends_with_its_json_figures(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEITSTAND_")}
    env["LEITSTAND_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "leitstand.cli",
            "bench",
            "portal",
            *("--services", "30", "--tickets", "60", "--open", "12"),
            *("--others", "2", "--requests", "3", "--warmup", "1"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    assert list(figures) == ["services", "tickets", "dashboard_p95_ms"]
    assert (figures["services"], figures["tickets"]) == (30, 60)
    assert figures["dashboard_p95_ms"] > 0
    assert any(line.startswith("dashboard: 3 requests") for line in lines)
    # the live database of the data directory was never created: a scratch one was used
    assert not (tmp_path / "leitstand.sqlite3").exists()


def test_bench_portal_refuses_nonsense_without_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEITSTAND_")}
    env["LEITSTAND_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "leitstand.cli", "bench", "portal", "--tickets", "5", "--open", "9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "open <= tickets" in result.stderr
    assert "Traceback" not in result.stderr
