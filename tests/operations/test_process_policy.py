"""Process monitoring decisions (operations/process_policy.py)."""

from __future__ import annotations

import ast
import sys
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.lib.durations import parse_size, parse_timedelta
from leitstand.operations.process_policy import (
    ProcessDecision,
    ProcessException,
    ProcessInfo,
    ProcessPolicy,
    decide_process,
)
from leitstand_agent.rules import process_policy as agent_process_policy
from leitstand_agent.rules import restart_policy as agent_restart_policy

GIB = 1024**3
MIB = 1024**2
# cloudflux.yaml: seed 003 §9 (runaway processes, approved exceptions), §13 (no mining).
MANAGED_SERVER = ProcessPolicy(
    max_runtime=timedelta(hours=2),
    max_rss=2 * GIB,
    exceptions=(ProcessException("pg_dump", max_runtime=timedelta(hours=6)),),
    prohibited=frozenset({"xmrig", "minerd"}),
)


@pytest.mark.parametrize(
    ("command", "runtime", "rss", "expected"),
    [
        # cloudflux.yaml
        ("php", "2h1m", "300MiB", "kill:runtime"),
        ("pg_dump", "5h", "1GiB", "keep"),
        ("pg_dump", "6h30m", "1GiB", "kill:runtime"),
        ("java", "10m", "3GiB", "kill:rss"),
        ("xmrig", "1m", "50MiB", "kill:prohibited"),
    ],
)
def test_scenario_processes(command: str, runtime: str, rss: str, expected: str) -> None:
    process = ProcessInfo(command, parse_timedelta(runtime), parse_size(rss))
    assert str(decide_process(MANAGED_SERVER, process)) == expected


@pytest.mark.parametrize(
    ("command", "runtime", "rss", "expected"),
    [
        # A limit is exceeded only when the value is greater than it.
        ("php", timedelta(hours=2), 2 * GIB, ProcessDecision.KEEP),
        ("php", timedelta(hours=2, microseconds=1), 2 * GIB, ProcessDecision.KILL_RUNTIME),
        ("php", timedelta(hours=2), 2 * GIB + 1, ProcessDecision.KILL_RSS),
        ("pg_dump", timedelta(hours=6), GIB, ProcessDecision.KEEP),
        ("pg_dump", timedelta(hours=6, seconds=1), GIB, ProcessDecision.KILL_RUNTIME),
        # The exception names only the runtime: the memory limit still holds.
        ("pg_dump", timedelta(hours=5), 3 * GIB, ProcessDecision.KILL_RSS),
        # Order: prohibited before runtime before memory.
        ("xmrig", timedelta(hours=9), 9 * GIB, ProcessDecision.KILL_PROHIBITED),
        ("php", timedelta(hours=3), 3 * GIB, ProcessDecision.KILL_RUNTIME),
        # Commands match by base name.
        ("/usr/bin/xmrig", timedelta(minutes=1), 50 * MIB, ProcessDecision.KILL_PROHIBITED),
        ("/tmp/.x/minerd", timedelta(minutes=1), 50 * MIB, ProcessDecision.KILL_PROHIBITED),
        ("/usr/lib/postgresql/16/bin/pg_dump", timedelta(hours=5), GIB, ProcessDecision.KEEP),
        # ... but only whole names: no prefix or substring matches.
        ("xmrig-helper", timedelta(minutes=1), 50 * MIB, ProcessDecision.KEEP),
        ("pg_dumpall", timedelta(hours=5), GIB, ProcessDecision.KILL_RUNTIME),
        ("/opt/xmrig/bin/php", timedelta(minutes=1), 50 * MIB, ProcessDecision.KEEP),
    ],
)
def test_edge_processes(
    command: str, runtime: timedelta, rss: int, expected: ProcessDecision
) -> None:
    assert decide_process(MANAGED_SERVER, ProcessInfo(command, runtime, rss)) is expected


def test_exception_for_memory_only() -> None:
    policy = ProcessPolicy(
        max_runtime=timedelta(hours=2),
        max_rss=2 * GIB,
        exceptions=(ProcessException("/usr/bin/java", max_rss=8 * GIB),),
    )
    assert decide_process(policy, ProcessInfo("java", timedelta(hours=1), 6 * GIB)) is (
        ProcessDecision.KEEP
    )
    assert decide_process(policy, ProcessInfo("java", timedelta(hours=3), 6 * GIB)) is (
        ProcessDecision.KILL_RUNTIME
    )
    assert decide_process(policy, ProcessInfo("java", timedelta(hours=1), 9 * GIB)) is (
        ProcessDecision.KILL_RSS
    )
    assert policy.limits_for("/usr/bin/java") == (timedelta(hours=2), 8 * GIB)
    assert policy.limits_for("python3") == (timedelta(hours=2), 2 * GIB)


def test_no_limits_keeps_everything_but_prohibited() -> None:
    policy = ProcessPolicy(max_runtime=None, max_rss=None, prohibited=frozenset({"/usr/bin/xmrig"}))
    huge = ProcessInfo("php", timedelta(days=365), 1024 * GIB)
    assert decide_process(policy, huge) is ProcessDecision.KEEP
    assert decide_process(policy, ProcessInfo("xmrig", timedelta(0), 0)) is (
        ProcessDecision.KILL_PROHIBITED
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ProcessException("pg_dump"), "names no limit"),
        (lambda: ProcessException("", max_rss=1), "needs a command"),
        (lambda: ProcessException("pg_dump", max_rss=-1), "max_rss must not be negative"),
        (
            lambda: ProcessPolicy(
                max_runtime=timedelta(hours=2),
                max_rss=None,
                exceptions=(
                    ProcessException("pg_dump", max_runtime=timedelta(hours=6)),
                    ProcessException("/usr/bin/pg_dump", max_runtime=timedelta(hours=8)),
                ),
            ),
            "two exceptions for the command 'pg_dump'",
        ),
        (
            lambda: ProcessPolicy(
                max_runtime=None,
                max_rss=None,
                exceptions=(ProcessException("xmrig", max_rss=GIB),),
                prohibited=frozenset({"xmrig"}),
            ),
            "both prohibited and excepted",
        ),
        (lambda: ProcessPolicy(max_runtime=timedelta(hours=-1), max_rss=None), "max_runtime"),
        (lambda: ProcessInfo("php", timedelta(seconds=-1), 0), "runtime must not be negative"),
        (lambda: ProcessInfo("php", timedelta(0), -1), "rss must not be negative"),
    ],
)
def test_bad_configuration(build: object, message: str) -> None:
    assert callable(build)
    with pytest.raises(ValueError, match=message):
        build()


def test_decisions_print_as_the_scenario_files_do() -> None:
    assert [str(d) for d in ProcessDecision] == [
        "keep",
        "kill:prohibited",
        "kill:runtime",
        "kill:rss",
    ]


@pytest.mark.parametrize("module", [agent_process_policy, agent_restart_policy])
def test_agent_rules_need_only_the_standard_library(module: ModuleType) -> None:
    # The agent runs these on customers' servers without Django or the rest of Leitstand.
    tree = ast.parse(Path(str(module.__file__)).read_text())
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported - {"__future__"} <= sys.stdlib_module_names


runtimes = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=12))
sizes = st.integers(min_value=0, max_value=8 * GIB)
commands = st.sampled_from(["php", "pg_dump", "java", "/usr/bin/pg_dump", "xmrig"])


@given(commands, runtimes, sizes, runtimes, sizes)
def test_less_of_everything_is_never_worse(
    command: str, runtime: timedelta, rss: int, less_runtime: timedelta, less_rss: int
) -> None:
    # A process that uses no more time and memory than a kept one is kept.
    smaller = ProcessInfo(command, min(runtime, less_runtime), min(rss, less_rss))
    if decide_process(MANAGED_SERVER, ProcessInfo(command, runtime, rss)) is ProcessDecision.KEEP:
        assert decide_process(MANAGED_SERVER, smaller) is ProcessDecision.KEEP
