"""The real agent against the real server: enroll, report, buffer while the server is
down, replay in order after, and signed actions run once (a replay is refused).

The server is Django's own WSGI application on a loopback port the test starts,
stops and starts again; the agent is the leitstand-agent package, its CLI in a
subprocess for enrollment and its run-loop object for the rest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from tests.conftest import Tenant

from leitstand.contracts.catalog import load_file
from leitstand.contracts.models import Plan
from leitstand.core.demo import CATALOG
from leitstand.operations import agents
from leitstand.operations.models import AgentReport, ProcessPolicy, RemoteAction
from leitstand_agent import config as agent_config
from leitstand_agent.cli import Agent, _client
from leitstand_agent.collect import Collector
from leitstand_agent.spool import Spool
from leitstand_agent.state import State

pytestmark = pytest.mark.django_db(transaction=True)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def closing(app: WSGIHandler) -> Any:
    """Close each request thread's database connection (PostgreSQL keeps them
    otherwise, and will not drop the test database at the end)."""

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        try:
            return list(app(environ, start_response))
        finally:
            connection.close()

    return wrapped


class Server:
    """Leitstand on a loopback port that can be stopped and started again."""

    def __init__(self) -> None:
        self.port = 0
        self.httpd: WSGIServer | None = None

    def start(self) -> None:
        self.httpd = make_server(
            "127.0.0.1", self.port, closing(WSGIHandler()), ThreadingWSGIServer, handler_class=Quiet
        )
        self.port = self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self.httpd is not None
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    running.start()
    yield running
    if running.httpd is not None:
        running.stop()


def write_config(tmp_path: Path, url: str) -> Path:
    logs = tmp_path / "logs"
    logs.mkdir()
    path = tmp_path / "agent.toml"
    path.write_text(
        f"""
[server]
url = "{url}"
timeout = "5s"

[agent]
state_dir = "{tmp_path / "state"}"

[actions]
enabled = ["clean_logs"]
log_dirs = ["{logs}"]
"""
    )
    return path


def agent_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leitstand_agent.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )


def running_agent(config_path: Path) -> Agent:
    config = agent_config.load(config_path)
    state = State.load(config.state_dir / "state.json")
    return Agent(
        config=config,
        state=state,
        client=_client(config, state),
        collector=Collector(config.packages_interval, config.smart_interval),
        spool=Spool(config.state_dir / "spool", config.spool_max_reports, config.spool_max_bytes),
    )


def test_enroll_report_buffer_replay_and_actions(
    server: Server, customer_a: Tenant, tmp_path: Path
) -> None:
    config_path = write_config(tmp_path, server.url)
    token = agents.create_enrollment_token(customer_a.asset)

    enrolled = agent_cli("--config", str(config_path), "enroll", server.url, token)
    assert enrolled.returncode == 0, enrolled.stderr
    assert enrolled.stdout.startswith("enrolled as host ")
    again = agent_cli("--config", str(config_path), "enroll", server.url, token, "--force")
    assert again.returncode != 0  # the token was single-use
    assert "403" in again.stderr or "expired" in again.stderr

    agent = running_agent(config_path)
    # The contract's process policy reaches the agent with the next poll.
    load_file(CATALOG)
    customer_a.contract.plan = Plan.objects.get(name="cloudflux-managed-server")
    customer_a.contract.save()
    agent.poll()
    assert (
        agent.config.processes.policy == ProcessPolicy.objects.get(name="managed-server").to_rule()
    )

    agent.collect()
    assert agent.send() is None
    first = AgentReport.objects.get()
    assert first.seq == 1
    assert first.agent.asset == customer_a.asset
    assert first.body["metrics"]["mem_total"] > 0  # a real collection of this machine

    # The server goes away: reports wait on disk.
    server.stop()
    for _ in range(3):
        agent.collect()
    agent.send()
    assert len(agent.spool.pending()) == 3
    assert AgentReport.objects.count() == 1

    # It comes back on the same address: everything arrives, oldest first.
    server.start()
    assert agent.send() is None
    assert agent.spool.pending() == []
    received = list(AgentReport.objects.order_by("received_at", "id").values_list("seq", flat=True))
    assert received == [1, 2, 3, 4]

    # A signed action runs once; handed out again (same nonce) it is refused as a replay.
    old = tmp_path / "logs" / "old.log"
    old.write_text("x")
    os.utime(old, (0, 0))
    new = tmp_path / "logs" / "new.log"
    new.write_text("y")
    action = agents.request_action(
        first.agent, "clean_logs", {"directory": str(tmp_path / "logs"), "older_than_days": 7}
    )
    agent.poll()
    action.refresh_from_db()
    assert action.status == "done", action.output
    assert not old.exists()
    assert new.exists()
    RemoteAction.objects.filter(pk=action.pk).update(status="pending")
    agent.poll()
    action.refresh_from_db()
    assert action.status == "rejected"
    assert "nonce" in action.output or "replay" in action.output
