"""``leitstand scenarios check`` as a user runs it: the real command, its output and exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import SHARED_SCENARIOS

SHARED_FILES = sorted(SHARED_SCENARIOS.glob("*.yaml"))


def run_check(
    *files: Path | str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "LEITSTAND_DATABASE_URL"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "leitstand.cli", "scenarios", "check", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )


@pytest.mark.skipif(not SHARED_FILES, reason="shared/scenarios is not beside the repository")
def test_every_shared_scenario_passes() -> None:
    result = run_check(*SHARED_FILES)
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert all(line.startswith("PASS ") for line in lines[:-1])
    total = sum(1 for _ in lines[:-1])
    assert total >= 59
    assert lines[-1] == f"{total} passed, 0 failed"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


CATALOG = """
catalog:
  calendars:
    office: {timezone: Europe/Berlin, hours: {mon-fri: ["09:00-17:00"]}, holidays: {country: DE, subdivision: BW}}
  sla_policies:
    basic:
      calendar: office
      targets: {P2: {response: {within: 8h, clock: false}}}
  rate_cards:
    card: {currency: EUR, increment: 15m, free_up_to: 5m, rates: {support: {per_increment: "35.00"}}}
"""


def test_a_wrong_expectation_fails_with_both_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "wrong.yaml",
        CATALOG
        + """cases:
  - {name: right, kind: charge, rate_card: card, work_type: support, duration: 16m, expect: "70.00"}
  - {name: wrong, kind: charge, rate_card: card, work_type: support, duration: 16m, expect: "35.00"}
  - {name: late deadline, kind: deadline, policy: basic, priority: P2, target: response, start: "2026-01-05T16:30:00+01:00", expect: "2026-01-07T16:00:00+01:00"}
""",
    )
    result = run_check(path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "PASS wrong.yaml: right",
        "FAIL wrong.yaml: wrong: expected 35.00, got 70.00",
        "FAIL wrong.yaml: late deadline: expected 2026-01-07T16:00:00+01:00, "
        "got 2026-01-07T16:30:00+01:00",
        "1 passed, 2 failed",
    ]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("{name: x, kind: horoscope, expect: 1}", "unknown kind 'horoscope'"),
        (
            "{name: x, kind: elapsed, calendar: nowhere, from: '2026-01-05T09:00:00+01:00', to: '2026-01-05T10:00:00+01:00', expect: 1h}",
            "unknown calendar 'nowhere'",
        ),
        (
            "{name: x, kind: charge, rate_card: card, work_type: support, duration: 16 minutes, expect: '70.00'}",
            "bad duration '16 minutes'",
        ),
        (
            "{name: x, kind: charge, rate_card: card, work_type: support, expect: '70.00'}",
            "missing field 'duration'",
        ),
        (
            "{name: x, kind: charge, rate_card: card, work_type: support, duration: 5m, colour: red, expect: '0.00'}",
            "unknown field 'colour'",
        ),
        (
            "{name: x, kind: deadline, policy: basic, priority: P9, target: response, start: '2026-01-05T09:00:00+01:00', expect: '2026-01-05T10:00:00+01:00'}",
            "has no target 'response' for priority 'P9'",
        ),
        (
            "{name: x, kind: deadline, policy: basic, priority: P2, target: response, start: '2026-01-05T09:00:00', expect: '2026-01-05T10:00:00+01:00'}",
            "has no UTC offset",
        ),
    ],
)
def test_an_invalid_case_is_one_clear_failed_line(tmp_path: Path, case: str, message: str) -> None:
    path = write(tmp_path, "bad.yaml", CATALOG + f"cases:\n  - {case}\n")
    result = run_check(path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("FAIL bad.yaml: x: ")
    assert message in lines[0]
    assert lines[-1] == "0 passed, 1 failed"
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "catalog: {calendars: {x: {timezone: Nowhere/City, hours: {}}}}\ncases: []\n",
            "unknown time zone",
        ),
        ("catalog:\n  rate_cards: [\n", "not valid YAML"),
        ("cases: []\n", "missing field 'catalog'"),
        (CATALOG, "missing field 'cases'"),
    ],
)
def test_an_invalid_file_is_one_error_line_and_counts_as_failed(
    tmp_path: Path, text: str, message: str
) -> None:
    good = write(
        tmp_path,
        "good.yaml",
        CATALOG
        + "cases:\n  - {name: ok, kind: charge, rate_card: card, work_type: support, duration: 5m, expect: '0.00'}\n",
    )
    bad = write(tmp_path, "broken.yaml", text)
    result = run_check(bad, good)
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert lines[0].startswith("ERROR broken.yaml")
    assert message in lines[0]
    assert lines[1] == "PASS good.yaml: ok"
    assert lines[-1] == "1 passed, 1 failed"
    assert "Traceback" not in result.stdout + result.stderr


def test_files_do_not_see_each_others_catalog(tmp_path: Path) -> None:
    """Each file is checked against its own catalog only (loaded, answered, rolled back)."""
    first = write(tmp_path, "a.yaml", CATALOG + "cases: []\n")
    second = write(
        tmp_path,
        "b.yaml",
        "catalog: {}\ncases:\n  - {name: x, kind: charge, rate_card: card, work_type: support, duration: 5m, expect: '0.00'}\n",
    )
    result = run_check(first, second)
    assert "unknown rate card 'card'" in result.stdout
    assert result.stdout.splitlines()[-1] == "0 passed, 1 failed"


def test_check_never_writes_the_live_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    path = write(tmp_path, "a.yaml", CATALOG + "cases: []\n")
    result = run_check(path, env={"LEITSTAND_DATA_DIR": str(data)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (data / "leitstand.sqlite3").exists()
