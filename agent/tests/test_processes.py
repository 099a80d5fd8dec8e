"""The process monitor on real child processes; only processes this test started are signalled.

Seed 003 §9 "Prozesse, die eine übermäßige Laufzeit oder RAM-Nutzung
aufweisen, werden automatisch beendet. Ausnahmen können von der
Systemadministration konfiguriert werden."; §13 forbids mining.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psutil
import pytest

from leitstand_agent.config import ProcessSettings
from leitstand_agent.processes import enforce, find_candidates, is_protected
from leitstand_agent.rules.process_policy import ProcessException, ProcessPolicy

SLEEP = "/usr/bin/sleep" if os.path.exists("/usr/bin/sleep") else "/bin/sleep"
MiB = 1024 * 1024


class Children:
    """Starts child processes and ends whatever is left of them after the test."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *argv: str, wait_ready: bool = False) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE)
        self.procs.append(proc)
        if wait_ready:
            assert proc.stdout is not None
            assert proc.stdout.readline() == b"ready\n"
        return proc

    def cleanup(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if proc.stdout:
                proc.stdout.close()


@pytest.fixture
def children() -> Iterator[Children]:
    started = Children()
    yield started
    started.cleanup()


def settings(
    max_runtime: float | None = None,
    max_rss: int | None = None,
    *,
    exceptions: tuple[ProcessException, ...] = (),
    prohibited: frozenset[str] = frozenset(),
    dry_run: bool = False,
    limits_min_uid: int = 0,
    grace: float = 2.0,
) -> ProcessSettings:
    policy = ProcessPolicy(
        None if max_runtime is None else timedelta(seconds=max_runtime),
        max_rss,
        exceptions,
        prohibited,
    )
    return ProcessSettings(
        policy=policy, dry_run=dry_run, limits_min_uid=limits_min_uid, grace=grace
    )


def ps(*procs: subprocess.Popen[bytes]) -> list[psutil.Process]:
    return [psutil.Process(p.pid) for p in procs]


def test_runtime_limit_ends_the_process_with_sigterm(children: Children) -> None:
    child = children.start(SLEEP, "30")
    time.sleep(0.5)
    records = enforce(settings(max_runtime=0.3), ps(child))
    assert [(r["pid"], r["name"], r["decision"], r["signal"], r["dry_run"]) for r in records] == [
        (child.pid, "sleep", "kill:runtime", "SIGTERM", False)
    ]
    assert child.wait(timeout=5) == -signal.SIGTERM
    assert records[0]["at"].endswith("+00:00")


def test_memory_limit(children: Children) -> None:
    hog = children.start(
        sys.executable, "-c",
        "import time; data = b'x' * (80 * 1024 * 1024); print('ready', flush=True); time.sleep(30)",
        wait_ready=True,
    )  # fmt: skip
    small = children.start(SLEEP, "30")
    records = enforce(settings(max_rss=50 * MiB), ps(hog, small))
    assert [(r["pid"], r["decision"]) for r in records] == [(hog.pid, "kill:rss")]
    assert hog.wait(timeout=5) == -signal.SIGTERM
    assert small.poll() is None


def test_exception_replaces_the_limit_for_its_command(children: Children) -> None:
    child = children.start(SLEEP, "30")
    time.sleep(0.5)
    policy = settings(
        max_runtime=0.3, exceptions=(ProcessException("sleep", max_runtime=timedelta(hours=1)),)
    )
    assert enforce(policy, ps(child)) == []
    assert child.poll() is None


def test_prohibited_name_via_symlink_for_every_account(children: Children, tmp_path: Path) -> None:
    miner = tmp_path / "xmrig"
    miner.symlink_to(SLEEP)
    child = children.start(str(miner), "30")
    time.sleep(0.1)  # until exec has set the name
    # limits_min_uid far above ours: runtime/RAM limits do not apply, the prohibited list does.
    records = enforce(settings(prohibited=frozenset({"xmrig"}), limits_min_uid=10**9), ps(child))
    assert [(r["name"], r["decision"], r["signal"]) for r in records] == [
        ("xmrig", "kill:prohibited", "SIGTERM")
    ]
    assert child.wait(timeout=5) == -signal.SIGTERM


def test_sigterm_ignored_gets_sigkill_after_grace(children: Children, tmp_path: Path) -> None:
    stubborn = tmp_path / "stubborn"
    stubborn.symlink_to(sys.executable)
    child = children.start(
        str(stubborn), "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(30)",
        wait_ready=True,
    )  # fmt: skip
    start = time.monotonic()
    records = enforce(settings(prohibited=frozenset({"stubborn"}), grace=0.3), ps(child))
    assert [(r["decision"], r["signal"]) for r in records] == [
        ("kill:prohibited", "SIGTERM"),
        ("kill:prohibited", "SIGKILL"),
    ]
    assert child.wait(timeout=5) == -signal.SIGKILL
    assert 0.3 <= time.monotonic() - start < 3


def test_dry_run_only_records(children: Children) -> None:
    child = children.start(SLEEP, "30")
    time.sleep(0.5)
    records = enforce(settings(max_runtime=0.3, dry_run=True), ps(child))
    assert [(r["decision"], r["dry_run"]) for r in records] == [("kill:runtime", True)]
    assert child.poll() is None


def test_system_accounts_are_not_held_to_runtime_limits(children: Children) -> None:
    child = children.start(SLEEP, "30")
    time.sleep(0.5)
    uid = os.getuid()
    assert find_candidates(settings(max_runtime=0.3, limits_min_uid=uid + 1), ps(child)) == []
    assert len(find_candidates(settings(max_runtime=0.3, limits_min_uid=uid), ps(child))) == 1


def test_init_and_the_agent_itself_are_never_candidates() -> None:
    # Dry run and only a decision: a limit of 0 s would select every process.
    everything = settings(max_runtime=0.0, dry_run=True)
    assert find_candidates(everything, [psutil.Process(1), psutil.Process(os.getpid())]) == []
    assert is_protected(psutil.Process(1))
    assert is_protected(psutil.Process(os.getpid()))


def test_exited_process_is_skipped(children: Children) -> None:
    child = children.start(SLEEP, "0")
    proc = psutil.Process(child.pid)
    child.wait()
    assert enforce(settings(max_runtime=0.0), [proc]) == []


def test_whole_host_scan_finds_our_child_in_dry_run(children: Children) -> None:
    # Dry run: the scan covers every process on the host, so nothing may be signalled.
    child = children.start(SLEEP, "30")
    time.sleep(0.5)
    records = enforce(settings(max_runtime=0.3, dry_run=True))
    mine = [r for r in records if r["pid"] == child.pid]
    assert [(r["decision"], r["dry_run"]) for r in mine] == [("kill:runtime", True)]
    assert all(r["dry_run"] for r in records)
    assert all(r["pid"] not in (1, os.getpid()) for r in records)
    assert child.poll() is None


def test_long_prohibited_name_is_found_despite_the_kernels_15_characters(
    children: Children, tmp_path: Path
) -> None:
    miner = tmp_path / "ethminer-cuda-edition"
    miner.symlink_to(SLEEP)
    child = children.start(str(miner), "30")
    time.sleep(0.1)
    records = enforce(settings(prohibited=frozenset({"ethminer-cuda-edition"}), dry_run=True))
    assert [(r["name"], r["decision"]) for r in records if r["pid"] == child.pid] == [
        ("ethminer-cuda-edition", "kill:prohibited")
    ]
    assert child.poll() is None
