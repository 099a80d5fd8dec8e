"""Top processes from /proc/<pid>/stat: the parser, and CPU shares on real children."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from leitstand_agent.collect import Collector, ProcStat, parse_proc_stat

# Fields 3.. as the kernel prints them; utime 1500, stime 500, starttime 98765, rss 2048 pages.
TAIL = "S 1 4711 4711 0 -1 4194560 100 0 0 0 1500 500 0 0 20 0 1 0 98765 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0"


@pytest.mark.parametrize(
    ("line", "pid", "name"),
    [
        pytest.param(f"4712 (nginx) {TAIL}\n", 4712, "nginx", id="plain"),
        pytest.param(f"4712 (Web Content) {TAIL}\n", 4712, "Web Content", id="space-in-name"),
        pytest.param(
            f"4712 (evil) S 1 2 (x)) {TAIL}\n", 4712, "evil) S 1 2 (x)", id="parens-in-name"
        ),
        pytest.param(f"4712 () {TAIL}\n", 4712, "", id="empty-name"),
    ],
)
def test_parse_proc_stat(line: str, pid: int, name: str) -> None:
    assert parse_proc_stat(line) == ProcStat(pid, name, 1, 2000, 98765, 2048)


@pytest.mark.parametrize("line", ["", "4712 (nginx) S 1 2 3", "garbage"])
def test_parse_proc_stat_refuses(line: str) -> None:
    with pytest.raises(ValueError, match="proc"):
        parse_proc_stat(line)


@pytest.fixture
def busy() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    yield proc
    proc.kill()
    proc.wait()


def test_cpu_share_between_two_scans(busy: subprocess.Popen[bytes]) -> None:
    collector = Collector()
    first = {p["pid"]: p for p in collector.processes()}
    assert first.get(busy.pid, {"cpu_percent": 0.0})["cpu_percent"] == 0.0  # no previous scan
    time.sleep(0.5)
    second = {p["pid"]: p for p in collector.processes()}
    # A busy loop takes a whole CPU; > 10 % leaves room for a loaded test machine.
    assert second[busy.pid]["cpu_percent"] > 10.0
    assert second[busy.pid]["user"] == pwd.getpwuid(os.getuid()).pw_name
    assert second[busy.pid]["rss"] > 1024 * 1024
