"""The process monitor: ends processes the process policy does not allow.

Seed 000 §IX: "process monitoring is conducted that terminates any process
exhibiting excessive runtime and/or RAM consumption. Exceptions may be
authorised by system administration." Seed 003 §9: "Prozesse, die eine
übermäßige Laufzeit oder RAM-Nutzung aufweisen, werden automatisch beendet";
§13 forbids "Anwendungen zum Kryptowährungs-Mining".

The decision is :func:`~leitstand_agent.rules.process_policy.decide_process`,
the one rule shared with the server; this module only looks at processes and
sends signals. SIGTERM first so a program can shut down cleanly, SIGKILL after
a grace period for one that does not.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psutil

from leitstand_agent.collect import clock_ticks, page_size, scan_proc
from leitstand_agent.config import ProcessSettings
from leitstand_agent.rules.process_policy import (
    ProcessDecision,
    ProcessInfo,
    ProcessPolicy,
    decide_process,
)

# TASK_COMM_LEN - 1: the longest name /proc/<pid>/stat shows.
COMM_LENGTH = 15


def is_protected(proc: psutil.Process) -> bool:
    """PID 1, kernel threads and the agent itself are never signalled.

    A kernel thread has no user address space (``vms`` 0) and is a child of
    kthreadd (PID 2); killing init would take the host down.
    """
    if proc.pid in (0, 1, 2) or proc.pid == os.getpid():
        return True
    try:
        if proc.ppid() == 2:
            return True
        return bool(proc.memory_info().vms == 0)
    except psutil.Error:
        return True  # gone or unreadable: nothing to decide about


@dataclass(frozen=True)
class Candidate:
    """A process the policy wants ended."""

    proc: psutil.Process
    name: str
    decision: ProcessDecision


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _gone(proc: psutil.Process) -> bool:
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def wait_gone(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait up to ``timeout`` for ``procs`` to end; those still alive.

    Polls instead of ``psutil.wait_procs``: that reaps children of the agent,
    and a zombie counts as ended (it holds no memory and runs no code).
    """
    deadline = time.monotonic() + timeout
    alive = [p for p in procs if not _gone(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        alive = [p for p in alive if not _gone(p)]
    return alive


def _record(candidate: Candidate, sig: signal.Signals, dry_run: bool) -> dict[str, Any]:
    return {
        "pid": candidate.proc.pid,
        "name": candidate.name,
        "decision": str(candidate.decision),
        "signal": sig.name,
        "at": _now(),
        "dry_run": dry_run,
    }


def find_candidates(
    settings: ProcessSettings, processes: Iterable[psutil.Process], now: float | None = None
) -> list[Candidate]:
    """The processes to end, with the reason, by ``decide_process``.

    Runtime and memory limits apply to accounts with a uid of at least
    ``limits_min_uid`` (customers, not system daemons that run for months by
    design); the prohibited list applies to every account.
    """
    now = time.time() if now is None else now
    prohibited_only = replace(settings.policy, max_runtime=None, max_rss=None, exceptions=())
    candidates = []
    for proc in processes:
        if is_protected(proc):
            continue
        try:
            with proc.oneshot():
                name = proc.name()
                runtime = max(0.0, now - proc.create_time())
                rss = proc.memory_info().rss
                uid = proc.uids().real
        except psutil.Error:
            continue  # exited meanwhile, or a zombie: nothing to end
        policy: ProcessPolicy = (
            settings.policy if uid >= settings.limits_min_uid else prohibited_only
        )
        decision = decide_process(policy, ProcessInfo(name, timedelta(seconds=runtime), rss))
        if decision is not ProcessDecision.KEEP:
            candidates.append(Candidate(proc, name, decision))
    return candidates


def suspects(settings: ProcessSettings) -> Iterator[psutil.Process]:
    """Processes that fail the policy at first sight, from one ``/proc`` read each.

    A cheap pre-filter: the monitor runs every 10 s on hosts with hundreds of
    processes, and asking psutil about each costs ~90 µs. Whatever passes the
    full policy here passes the prohibited-only one too (it has fewer rules),
    so nothing to end is missed; the suspects are then checked properly by
    :func:`find_candidates` (protection, uid, PID reuse).
    """
    uptime, rows = scan_proc()
    ticks, page = clock_ticks(), page_size()
    for row in rows:
        if row.pid <= 2 or row.ppid == 2:
            continue  # init, kthreadd and kernel threads: see is_protected
        runtime = timedelta(seconds=max(0.0, uptime - row.start_ticks / ticks))
        info = ProcessInfo(row.name, runtime, row.rss_pages * page)
        # The kernel cuts names to 15 characters; psutil finds the full name
        # (a prohibited "ethminer-cuda-x" must not pass as its first 15).
        truncated = len(row.name) >= COMM_LENGTH
        if not truncated and decide_process(settings.policy, info) is ProcessDecision.KEEP:
            continue
        try:
            yield psutil.Process(row.pid)
        except psutil.Error:
            continue


def enforce(
    settings: ProcessSettings,
    processes: Iterable[psutil.Process] | None = None,
) -> list[dict[str, Any]]:
    """One round of the monitor; the ``process_actions`` records of the report.

    ``processes`` defaults to every process on the host. In dry-run mode the
    decisions are recorded and nothing is signalled, so an administrator can
    see what a new policy would do before it does it.
    """
    procs = suspects(settings) if processes is None else processes
    candidates = find_candidates(settings, procs)
    records = []
    if settings.dry_run:
        return [_record(c, signal.SIGTERM, True) for c in candidates]
    terminated = []
    for candidate in candidates:
        try:
            # psutil checks that the PID still is the same process (start time)
            # before signalling, so a reused PID is never hit.
            candidate.proc.send_signal(signal.SIGTERM)
        except psutil.Error:
            continue  # exited meanwhile, or not ours to signal
        records.append(_record(candidate, signal.SIGTERM, False))
        terminated.append(candidate)
    if not terminated:
        return records
    alive = wait_gone([c.proc for c in terminated], settings.grace)
    for candidate in terminated:
        if candidate.proc not in alive:
            continue
        try:
            candidate.proc.send_signal(signal.SIGKILL)
        except psutil.Error:
            continue
        records.append(_record(candidate, signal.SIGKILL, False))
    return records
