"""``leitstand-agent``: enroll, run, collect once, bench.

The run loop is :class:`Agent`, a set of small steps (collect, monitor, send,
poll) each run when due; :meth:`Agent.step` does what is due and says how long
to sleep, so tests drive it without threads or real waiting.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import psutil

from leitstand_agent import __version__, actions, processes
from leitstand_agent.client import Client, ClientError, send_pending
from leitstand_agent.collect import Collector
from leitstand_agent.config import DEFAULT_PATH, Config, ConfigError, load
from leitstand_agent.policy import PolicyError, parse_policy
from leitstand_agent.restarts import RestartWatcher
from leitstand_agent.spool import Spool
from leitstand_agent.state import State, StateError

log = logging.getLogger("leitstand_agent")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Agent:
    """The agent's loop state: what is due when, and what waits for the next report."""

    config: Config
    state: State
    client: Client
    collector: Collector
    spool: Spool
    clock: Callable[[], float] = time.monotonic
    restarter: RestartWatcher | None = None
    process_actions: list[dict[str, Any]] = field(default_factory=list)
    restart_actions: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unsent_results: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    next_collect: float = 0.0
    next_monitor: float = 0.0
    next_send: float = 0.0
    next_poll: float = 0.0
    # Set by 503/429 Retry-After (and errors): no report goes out before it.
    hold_until: float = 0.0

    @property
    def interval(self) -> float:
        # The server's interval from enrollment wins over the file's default.
        return self.state.report_interval or self.config.report_interval

    def collect(self) -> int:
        """Collect one report into the spool; its ``seq``."""
        report = self.collector.collect()
        seq = self.state.next_seq()
        body = {
            "seq": seq,
            "collected_at": _now_iso(),
            "agent_version": __version__,
            **report,
            "process_actions": self.process_actions,
            "restart_actions": self.restart_actions,
        }
        body["errors"] = [*self.notes, *report.get("errors", [])]
        dropped = self.spool.put(seq, json.dumps(body, separators=(",", ":")).encode("utf-8"))
        self.process_actions, self.restart_actions, self.notes = [], [], []
        if dropped:
            self.state.dropped_reports += dropped
            self.state.save()
            self.notes.append(f"spool: dropped the {dropped} oldest unsent report(s) (bound)")
        return seq

    def monitor(self) -> None:
        """One round of the process monitor and the restart watch, for the next report."""
        self.process_actions.extend(processes.enforce(self.config.processes))
        if self.config.restart.units:
            if self.restarter is None:
                self.restarter = RestartWatcher(self.config.restart)
            self.restart_actions.extend(self.restarter.check())

    def send(self) -> float | None:
        """Send the queue; seconds to wait before the next try, or ``None``."""
        outcome = send_pending(self.spool, self.client)
        if outcome.error:
            log.warning("sending reports: %s", outcome.error)
        return outcome.retry_after

    def refresh_policy(self) -> None:
        """Take the contract's policies from the server; keep the current ones on any doubt."""
        try:
            process, restart = parse_policy(self.client.policy())
        except (ClientError, PolicyError) as exc:
            log.warning("fetching the policy: %s", exc)
            return
        processes, restarts = self.config.processes, self.config.restart
        if process is not None and process != processes.policy:
            log.info("process policy from the server: %s", process)
            processes = dataclasses.replace(processes, policy=process)
        if restart is not None and restart != restarts.policy:
            restarts = dataclasses.replace(restarts, policy=restart)
            self.restarter = None  # rebuilt with the new policy on the next round
        self.config = dataclasses.replace(self.config, processes=processes, restart=restarts)

    def poll(self) -> None:
        """Fetch the policy, then fetch, verify and run remote actions; post the results."""
        self.refresh_policy()
        self._post_results()
        try:
            pending = self.client.actions()
        except ClientError as exc:
            log.warning("fetching actions: %s", exc)
            return
        context = actions.Context(self.config.actions)
        for action in pending:
            action_id = action.get("id")
            if not isinstance(action_id, int) or isinstance(action_id, bool):
                log.warning("an action without an integer id: ignored")
                continue
            assert self.state.host_id is not None
            result = actions.handle(
                action,
                host_id=self.state.host_id,
                action_key=self.state.action_key,
                state=self.state,
                context=context,
            )
            log.info("action %s (%s): %s", action_id, action.get("type"), result["status"])
            self.unsent_results.append((action_id, result))
        self._post_results()

    def _post_results(self) -> None:
        while self.unsent_results:
            action_id, result = self.unsent_results[0]
            try:
                self.client.post_result(action_id, result)
            except ClientError as exc:
                log.warning("posting the result of action %s: %s", action_id, exc)
                return
            self.unsent_results.pop(0)

    def step(self) -> float:
        """Do what is due now; seconds until something is due next."""
        now = self.clock()
        if now >= self.next_monitor:
            self.monitor()
            self.next_monitor = now + self.config.processes.interval
        if now >= self.next_collect:
            self.collect()
            self.next_collect = now + self.interval
            self.next_send = max(now, self.hold_until)
        if now >= self.next_send and self.spool.pending():
            wait = self.send()
            if wait is None:
                self.next_send = float("inf")  # until the next collection
            else:
                self.hold_until = self.next_send = self.clock() + wait
        if now >= self.next_poll:
            self.poll()
            self.next_poll = self.clock() + self.config.actions.poll_interval
        due = min(self.next_monitor, self.next_collect, self.next_send, self.next_poll)
        return max(0.0, due - self.clock())

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                wait = self.step()
            except (OSError, StateError) as exc:
                # Disk full, state unwritable: keep monitoring, try again later.
                log.error("agent step failed: %s", exc)
                wait = 10.0
            stop.wait(wait)


def _read_config(path: Path | None) -> Config:
    # The default path may be absent (defaults apply); a path given explicitly must exist.
    if path is None:
        if not DEFAULT_PATH.exists():
            return Config(DEFAULT_PATH)
        path = DEFAULT_PATH
    return load(path)


def _machine_id() -> str:
    try:
        return Path("/etc/machine-id").read_text(encoding="ascii").strip()
    except OSError:
        return ""


def _client(config: Config, state: State) -> Client:
    return Client(
        config.server_url or state.server_url,
        ca_file=config.ca_file,
        timeout=config.timeout,
        host_id=state.host_id,
        secret=state.secret,
    )


def cmd_enroll(args: argparse.Namespace, config: Config) -> int:
    state = State.load(config.state_dir / "state.json")
    if state.enrolled and not args.force:
        print(f"already enrolled as host {state.host_id}; --force enrolls again", file=sys.stderr)
        return 1
    client = Client(args.url, ca_file=config.ca_file, timeout=config.timeout)
    enrollment = client.enroll(args.token, socket.gethostname(), _machine_id())
    state.host_id = enrollment.host_id
    state.secret = enrollment.secret
    state.action_key = enrollment.action_key
    state.report_interval = enrollment.report_interval
    state.server_url = client.base.removesuffix("/api/agent/v1/")
    state.save()
    print(f"enrolled as host {enrollment.host_id}")
    return 0


def cmd_rotate(args: argparse.Namespace, config: Config) -> int:
    del args
    state = State.load(config.state_dir / "state.json")
    if not state.enrolled:
        print("not enrolled: nothing to rotate", file=sys.stderr)
        return 1
    # Saved before first use: until then the server still accepts the old one.
    state.secret = _client(config, state).rotate()
    state.save()
    print(f"new secret stored for host {state.host_id}")
    return 0


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    del args
    state = State.load(config.state_dir / "state.json")
    if not state.enrolled:
        print("not enrolled: run `leitstand-agent enroll URL TOKEN` first", file=sys.stderr)
        return 1
    agent = Agent(
        config=config,
        state=state,
        client=_client(config, state),
        collector=_collector(config),
        spool=Spool(config.state_dir / "spool", config.spool_max_reports, config.spool_max_bytes),
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        del frame
        log.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("leitstand-agent %s running as host %s", __version__, state.host_id)
    agent.run(stop)
    return 0


def cmd_collect(args: argparse.Namespace, config: Config) -> int:
    del args
    collector = _collector(config)
    report = {"collected_at": _now_iso(), "agent_version": __version__, **collector.collect()}
    print(json.dumps(report, indent=1))
    return 0


def _collector(config: Config) -> Collector:
    return Collector(
        config.packages_interval,
        config.smart_interval,
        backup_stamp=config.actions.backup_stamp,
        licence_settings=config.licences,
    )


def bench(count: int, collector: Collector | None = None) -> dict[str, float]:
    """RSS after warm-up and CPU per collection, as ``leitstand-agent bench`` prints them."""
    collector = collector or Collector()
    collector.collect()  # warm-up: imports, package inventory, first process scan
    collector.collect()
    gc.collect()
    start = time.process_time()
    for _ in range(count):
        collector.collect()
    cpu_ms = (time.process_time() - start) * 1000 / count
    rss_mb = psutil.Process().memory_info().rss / (1024 * 1024)
    return {"rss_mb": round(rss_mb, 1), "cpu_ms_per_collection": round(cpu_ms, 2)}


def cmd_bench(args: argparse.Namespace, config: Config) -> int:
    figures = bench(args.count, _collector(config))
    print(f"collections: {args.count} (after 2 warm-up collections)")
    print("targets: rss_mb < 30, cpu_ms_per_collection < 20")
    print(json.dumps(figures))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leitstand-agent",
        description="The Leitstand agent: reports, process limits, unit restarts, remote actions.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--config", type=Path, default=None, help=f"configuration file (default {DEFAULT_PATH})"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True)
    enroll = commands.add_parser("enroll", help="enroll this host with a one-time token")
    enroll.add_argument("url", help="the Leitstand server, https://...")
    enroll.add_argument("token", help="the single-use enrollment token")
    enroll.add_argument("--force", action="store_true", help="enroll again though enrolled")
    enroll.set_defaults(handler=cmd_enroll)
    rotate = commands.add_parser("rotate", help="replace this host's secret")
    rotate.set_defaults(handler=cmd_rotate)
    run = commands.add_parser("run", help="collect, report, monitor processes, run actions")
    run.set_defaults(handler=cmd_run)
    collect = commands.add_parser("collect", help="print one report as JSON")
    collect.add_argument("--once", action="store_true", help="one collection (the default)")
    collect.set_defaults(handler=cmd_collect)
    bench_parser = commands.add_parser("bench", help="measure memory and CPU per collection")
    bench_parser.add_argument("-n", "--count", type=int, default=20)
    bench_parser.set_defaults(handler=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    try:
        config = _read_config(args.config)
        handler: Callable[[argparse.Namespace, Config], int] = args.handler
        return handler(args, config)
    except (ConfigError, StateError, ClientError) as exc:
        # An administrator reads this: one line, no traceback.
        print(f"leitstand-agent: {exc}", file=sys.stderr)
        return 2
    except PermissionError as exc:
        print(f"leitstand-agent: {exc.filename}: permission denied", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
