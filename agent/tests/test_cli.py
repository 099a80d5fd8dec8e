"""The command line and the run loop, against the protocol stand-in (conftest.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from leitstand_agent.actions import sign
from leitstand_agent.cli import Agent, bench, main
from leitstand_agent.client import Client
from leitstand_agent.collect import Collector
from leitstand_agent.config import load
from leitstand_agent.restarts import RestartWatcher
from leitstand_agent.spool import Spool
from leitstand_agent.state import State


def write_config(tmp_path: Path, url: str, extra: str = "") -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(
        f'[server]\nurl = "{url}"\ntimeout = 5\n[agent]\nstate_dir = "{tmp_path / "state"}"\n'
        f'packages_interval = "1d"\nsmart_interval = "1d"\n{extra}'
    )
    return path


def test_enroll_stores_credentials_privately(
    tmp_path: Path, stand_in: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, "https://unused.example.net")
    assert main(["--config", str(config), "enroll", stand_in.url, "enroll-token"]) == 0
    assert capsys.readouterr().out == "enrolled as host 17\n"
    state_file = tmp_path / "state" / "state.json"
    assert oct(state_file.stat().st_mode & 0o777) == "0o600"
    state = State.load(state_file)
    assert (state.host_id, state.secret, state.action_key, state.report_interval) == (
        17,
        "s" * 43,
        "k" * 43,
        60.0,
    )
    assert state.server_url == stand_in.url
    # Enrolled once: a second enroll needs --force.
    assert main(["--config", str(config), "enroll", stand_in.url, "again"]) == 1


def test_enroll_refused_is_one_line(
    tmp_path: Path, stand_in: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, stand_in.url)
    assert main(["--config", str(config), "enroll", stand_in.url, "wrong-token"]) == 2
    assert (
        capsys.readouterr().err
        == "leitstand-agent: enrollment refused: token unknown, used or expired\n"
    )


def test_bad_config_is_one_line_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "agent.toml"
    config.write_text("[process_policy]\nmax_rss = 'lots'\n")
    assert main(["--config", str(config), "collect", "--once"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"leitstand-agent: {config}: process_policy.max_rss: expected a size")
    assert "Traceback" not in err
    assert err.count("\n") == 1


def test_run_needs_enrollment(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, "https://x.example.net")
    assert main(["--config", str(config), "run"]) == 1
    assert "not enrolled" in capsys.readouterr().err


def test_collect_once_prints_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, "https://x.example.net")
    assert main(["--config", str(config), "collect", "--once"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {
        "collected_at",
        "agent_version",
        "metrics",
        "filesystems",
        "processes",
        "errors",
    } <= set(report)


def test_bench_figures() -> None:
    figures = bench(3, Collector(next_packages=float("inf")))
    assert set(figures) == {"rss_mb", "cpu_ms_per_collection"}
    assert figures["rss_mb"] > 0
    assert figures["cpu_ms_per_collection"] > 0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_agent(tmp_path: Path, stand_in: Any, extra: str = "") -> tuple[Agent, FakeClock]:
    config = load(write_config(tmp_path, stand_in.url, extra))
    state = State(
        config.state_dir / "state.json",
        host_id=17,
        secret="s" * 43,
        action_key="k" * 43,
        report_interval=60,
    )
    clock = FakeClock()
    agent = Agent(
        config=config,
        state=state,
        client=Client(stand_in.url, host_id=17, secret="s" * 43, timeout=5),
        collector=Collector(next_packages=float("inf"), next_smart=float("inf")),
        spool=Spool(config.state_dir / "spool", 1500, 10**8),
        clock=clock,
    )
    return agent, clock


def test_step_collects_sends_and_polls(tmp_path: Path, stand_in: Any) -> None:
    agent, clock = make_agent(tmp_path, stand_in)
    wait = agent.step()
    assert [r["seq"] for r in stand_in.state.reports] == [1]
    report = stand_in.state.reports[0]
    assert report["agent_version"] == "0.1.0"
    assert report["process_actions"] == []
    assert report["restart_actions"] == []
    assert datetime.fromisoformat(report["collected_at"]).utcoffset() == timedelta(0)
    assert wait == 10.0  # the process monitor is next
    clock.now += 10
    agent.step()
    assert len(stand_in.state.reports) == 1  # not yet time to report again
    clock.now += 50
    agent.step()
    assert [r["seq"] for r in stand_in.state.reports] == [1, 2]
    assert agent.spool.pending() == []


def test_reports_wait_for_retry_after_and_go_in_order(tmp_path: Path, stand_in: Any) -> None:
    agent, clock = make_agent(tmp_path, stand_in)
    stand_in.state.report_script = [(503, {"Retry-After": "100"}, {"error": "database down"})]
    agent.step()
    assert stand_in.state.reports == []
    clock.now += 60
    agent.step()  # collects report 2, but the server said wait 100 s
    assert stand_in.state.reports == []
    assert [r.seq for r in agent.spool.pending()] == [1, 2]
    clock.now += 41
    agent.step()
    assert [r["seq"] for r in stand_in.state.reports] == [1, 2]


def test_monitor_records_go_into_the_next_report(tmp_path: Path, stand_in: Any) -> None:
    agent, _ = make_agent(tmp_path, stand_in)
    agent.process_actions.append(
        {
            "pid": 4711,
            "name": "xmrig",
            "decision": "kill:prohibited",
            "signal": "SIGTERM",
            "at": "x",
            "dry_run": False,
        }
    )
    agent.step()
    assert stand_in.state.reports[0]["process_actions"][0]["pid"] == 4711
    assert agent.process_actions == []


def test_actions_are_verified_run_and_answered(tmp_path: Path, stand_in: Any) -> None:
    agent, _ = make_agent(tmp_path, stand_in, "[actions]\nenabled = ['run_backup']\n")
    action: dict[str, Any] = {
        "id": 55,
        "type": "run_backup",
        "params": {},
        "nonce": "N" * 22,
        "expires_at": (datetime.now(UTC) + timedelta(minutes=2)).isoformat(),
    }
    good = {**action, "signature": sign(action, 17, "k" * 43)}
    forged = {**action, "id": 56, "nonce": "M" * 22, "signature": sign(action, 17, "x")}
    stand_in.state.actions = [good, forged]
    agent.step()
    results = dict(stand_in.state.results)
    assert results[55]["status"] == "rejected"
    assert results[55]["output"] == "no backup_command is configured on this host"
    assert (results[56]["status"], results[56]["output"]) == ("rejected", "signature is wrong")


def test_run_stops_cleanly_on_sigterm(tmp_path: Path, stand_in: Any) -> None:
    config = write_config(tmp_path, stand_in.url)
    assert main(["--config", str(config), "enroll", stand_in.url, "enroll-token"]) == 0
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent / "src")}
    agent = subprocess.Popen(
        [sys.executable, "-m", "leitstand_agent.cli", "--config", str(config), "run"],
        env=env,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 15
        while not stand_in.state.reports and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [r["seq"] for r in stand_in.state.reports] == [1]
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=10) == 0
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
    assert agent.stderr is not None
    log = agent.stderr.read().decode()
    agent.stderr.close()
    assert "signal SIGTERM: stopping" in log
    assert State.load(tmp_path / "state" / "state.json").seq == 1


def test_rotate_stores_the_new_secret(
    tmp_path: Path, stand_in: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, stand_in.url)
    assert main(["--config", str(config), "enroll", stand_in.url, "enroll-token"]) == 0
    assert main(["--config", str(config), "rotate"]) == 0
    assert State.load(tmp_path / "state" / "state.json").secret == "r" * 43
    # The next call carries the new secret and is accepted.
    assert main(["--config", str(config), "rotate"]) == 0
    assert stand_in.state.authorizations[-1] == "Bearer 17." + "r" * 43


def test_restart_watch_records_go_into_the_report(tmp_path: Path, stand_in: Any) -> None:
    agent, _ = make_agent(tmp_path, stand_in, "[restart]\nunits = ['php.service']\nsilence = 0\n")
    restarted: list[str] = []

    def restart(unit: str) -> str:
        restarted.append(unit)
        return ""

    agent.restarter = RestartWatcher(
        agent.config.restart, is_active=lambda unit: False, restart=restart
    )
    agent.step()
    assert restarted == ["php.service"]
    [record] = stand_in.state.reports[0]["restart_actions"]
    assert (record["unit"], record["decision"], record["attempt"]) == ("php.service", "restart", 1)
