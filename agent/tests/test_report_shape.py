"""The agent's report has the shape of the example in docs/agent-protocol.md.

The server is built against the same text; this test fails when the agent's
report and the protocol's example drift apart (a key renamed on one side).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from leitstand_agent.cli import Agent
from leitstand_agent.client import Client
from leitstand_agent.collect import Collector
from leitstand_agent.config import Config
from leitstand_agent.spool import Spool
from leitstand_agent.state import State

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "agent-protocol.md"
# Keys the agent adds beyond the example: notes on parts it could not collect.
EXTRA_TOP_LEVEL = {"errors"}


def protocol_example(after: str) -> Any:
    text = PROTOCOL.read_text(encoding="utf-8")
    section = text[text.index(after) :]
    block = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert block is not None
    return json.loads(block.group(1))


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    if not PROTOCOL.exists():
        pytest.skip("docs/agent-protocol.md is not next to the agent")
    result: dict[str, Any] = protocol_example("## Reports")
    return result


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("shape")
    agent = Agent(
        config=Config(tmp / "agent.toml", state_dir=tmp),
        state=State(tmp / "state.json", host_id=1, secret="s"),
        client=Client("http://127.0.0.1:9"),
        collector=Collector(),  # with packages, as the first report after start
        spool=Spool(tmp / "spool", 10, 10**8),
    )
    agent.process_actions.append(
        {
            "pid": 4711,
            "name": "xmrig",
            "decision": "kill:prohibited",
            "signal": "SIGTERM",
            "at": "2026-11-22T10:00:00+00:00",
            "dry_run": False,
        }
    )
    seq = agent.collect()
    result: dict[str, Any] = json.loads(agent.spool.pending()[0].body())
    assert result["seq"] == seq == 1
    return result


def test_top_level_keys(report: dict[str, Any], example: dict[str, Any]) -> None:
    assert set(report) - EXTRA_TOP_LEVEL <= set(example)
    # What a collection always has (raid, smart, failed_units, packages may be left out and noted).
    assert {
        "seq",
        "collected_at",
        "agent_version",
        "metrics",
        "filesystems",
        "processes",
        "process_actions",
        "restart_actions",
    } <= set(report)


def test_metrics_keys(report: dict[str, Any], example: dict[str, Any]) -> None:
    assert set(report["metrics"]) <= set(example["metrics"])
    # Only the mail queue (no Postfix on the host) and the backup age (no backup
    # configured) may be missing.
    assert set(example["metrics"]) - set(report["metrics"]) <= {"mail_queue", "backup_age_s"}


@pytest.mark.parametrize("part", ["filesystems", "processes", "process_actions"])
def test_list_items_have_the_example_keys(
    report: dict[str, Any], example: dict[str, Any], part: str
) -> None:
    assert report[part], f"{part} is empty on this host"
    for item in report[part]:
        assert set(item) == set(example[part][0]), item


def test_raid_and_smart_items(example: dict[str, Any]) -> None:
    from leitstand_agent.collect import parse_mdstat, parse_smartctl

    [array] = parse_mdstat("md0 : active raid1 sdb1[1] sda1[0]\n      1 blocks [2/2] [UU]\n")
    assert set(array) == set(example["raid"][0])
    disk = parse_smartctl('{"device": {"name": "/dev/sda"}, "smart_status": {"passed": true}}')
    assert disk is not None
    assert set(disk) == set(example["smart"][0])


def test_packages_shape(report: dict[str, Any], example: dict[str, Any]) -> None:
    if "packages" not in report:
        pytest.skip(f"no package manager here: {report['errors']}")
    assert set(report["packages"]) == set(example["packages"])
    assert all(len(row) == 2 for row in report["packages"]["installed"])
    assert all(len(row) == 3 for row in report["packages"]["pending"])


def test_value_types(report: dict[str, Any], example: dict[str, Any]) -> None:
    assert isinstance(report["seq"], int)
    for key, value in report["metrics"].items():
        assert isinstance(value, int | float), key
    assert all(isinstance(unit, str) for unit in report.get("failed_units", []))
    assert report["collected_at"].endswith("+00:00")
