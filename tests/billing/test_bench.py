"""``leitstand bench billing`` runs end to end with small numbers and ends with its JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_bench_billing_ends_with_its_json_figures(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEITSTAND_")}
    env["LEITSTAND_DATA_DIR"] = str(tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "leitstand.cli",
            "bench",
            "billing",
            *("--customers", "4", "--entries", "10", "--documents", "2"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    assert list(figures) == [
        "customers",
        "entries",
        "seconds",
        "documents",
        "seconds_per_document",
        "export_lines",
        "export_seconds",
    ]
    assert (figures["customers"], figures["entries"], figures["documents"]) == (4, 40, 2)
    assert figures["seconds_per_document"] > 0
    assert figures["export_lines"] > 4  # a fee and time lines per customer
    assert any(line.startswith("finalise: 2 invoices with 4 documents") for line in lines)
    # the live database of the data directory was never created: a scratch one was used
    assert not (tmp_path / "leitstand.sqlite3").exists()
