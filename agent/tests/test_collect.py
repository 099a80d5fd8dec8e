"""The collector: parts put together, failing sources noted in errors, never a crash."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from leitstand_agent import cmd
from leitstand_agent.collect import Collector
from leitstand_agent.config import LicenceSettings

DPKG_OUT = "ii \tbash\t5.2.15-2+b2\n"
APT_OUT = "Inst bash [5.2.15-2+b2] (5.2.15-2+b3 Debian:12/stable [amd64])\n"
SMART_OUT = json.dumps(
    {"device": {"name": "/dev/sda"}, "model_name": "Disk", "smart_status": {"passed": True}}
)
FAILED_OUT = json.dumps([{"unit": "nginx.service"}])
POSTQUEUE_OUT = '{"queue_id": "A"}\n{"queue_id": "B"}\n'


class FakeTools:
    """Stands in for installed programs: which() finds them, run() prints their output."""

    def __init__(self, outputs: dict[str, tuple[int, str] | Exception]) -> None:
        self.outputs = outputs
        self.calls: list[list[str]] = []

    def which(self, program: str) -> str | None:
        return f"/usr/bin/{program}" if program in self.outputs else None

    def run(self, argv: Sequence[str], **kwargs: Any) -> cmd.CommandResult:
        self.calls.append(list(argv))
        output = self.outputs[argv[0].rsplit("/", 1)[1]]
        if isinstance(output, Exception):
            raise output
        code, text = output
        return cmd.CommandResult(
            tuple(argv), code, text.encode(), b"boom\n" if code else b"", False
        )


def collector(tmp_path: Path, tools: FakeTools) -> Collector:
    (tmp_path / "block").mkdir()
    for disk in ("sda", "loop0", "dm-0", "md0"):
        (tmp_path / "block" / disk).mkdir()
    (tmp_path / "mdstat").write_text(
        "md0 : active raid1 sdb1[1] sda1[0]\n      1 blocks [2/1] [U_]\n"
    )
    return Collector(
        mdstat_path=tmp_path / "mdstat",
        sys_block=tmp_path / "block",
        run=tools.run,
        which=tools.which,
    )


def test_all_parts_present(tmp_path: Path) -> None:
    tools = FakeTools(
        {
            "dpkg-query": (0, DPKG_OUT),
            "apt-get": (0, APT_OUT),
            "smartctl": (0, SMART_OUT),
            "systemctl": (0, FAILED_OUT),
            "postqueue": (0, POSTQUEUE_OUT),
        }
    )
    report = collector(tmp_path, tools).collect()
    assert report["errors"] == []
    assert report["metrics"]["mail_queue"] == 2
    assert report["metrics"]["mem_total"] > 0
    assert {"cpu_percent", "load1", "uptime_s", "swap_percent"} <= set(report["metrics"])
    assert report["raid"] == [
        {
            "device": "md0",
            "level": "raid1",
            "state": "active",
            "disks": 2,
            "active": 1,
            "degraded": True,
        }
    ]
    assert report["smart"] == [{"device": "/dev/sda", "passed": True, "model": "Disk"}]
    # Only real disks are asked, not loop, device-mapper or md devices.
    assert [c[-1] for c in tools.calls if c[0].endswith("smartctl")] == ["/dev/sda"]
    assert report["failed_units"] == ["nginx.service"]
    assert report["packages"] == {
        "manager": "dpkg",
        "installed": [["bash", "5.2.15-2+b2"]],
        "pending": [["bash", "5.2.15-2+b2", "5.2.15-2+b3"]],
    }
    assert 0 < len(report["processes"]) <= 40
    assert {"pid", "name", "user", "cpu_percent", "rss", "runtime_s"} == set(report["processes"][0])
    assert report["filesystems"]
    json.dumps(report)  # the report is JSON as it stands


def test_failing_sources_are_noted_not_fatal(tmp_path: Path) -> None:
    tools = FakeTools(
        {
            "dpkg-query": cmd.CommandError("dpkg-query: no answer within 60 s"),
            "smartctl": (4, '{"smartctl": {"exit_status": 4}, "device": {"name": "/dev/sda"}}'),
            "systemctl": (1, ""),
            "postqueue": (69, ""),
        }
    )
    report = collector(tmp_path, tools).collect()
    assert "packages" not in report
    assert report["smart"] == []
    assert "failed_units" not in report
    assert report["errors"] == [
        "mail_queue: postqueue -j exited with 69",
        "smart: /dev/sda: no SMART health status",
        "failed_units: systemctl --failed exited with 1: boom",
        "packages: dpkg-query: no answer within 60 s",
    ]
    assert "metrics" in report  # the rest of the report is still there
    assert "mail_queue" not in report["metrics"]


def test_absent_tools_are_not_errors(tmp_path: Path) -> None:
    tools = FakeTools({"dpkg-query": (0, DPKG_OUT)})
    c = collector(tmp_path, tools)
    (tmp_path / "mdstat").unlink()
    report = c.collect()
    assert report["errors"] == []
    assert report["raid"] == []
    assert report["smart"] == []
    assert report["failed_units"] == []
    assert report["packages"]["pending"] == []
    assert "mail_queue" not in report["metrics"]


def test_slow_sources_are_cached(tmp_path: Path) -> None:
    tools = FakeTools({"dpkg-query": (0, DPKG_OUT), "smartctl": (0, SMART_OUT)})
    c = collector(tmp_path, tools)
    first = c.collect()
    tools.calls.clear()
    second = c.collect()
    assert "packages" in first
    # The inventory goes only with the report that refreshed it; SMART is repeated from cache.
    assert "packages" not in second
    assert second["smart"] == first["smart"]
    assert tools.calls == []


def test_real_collection_is_json() -> None:
    report = Collector(next_packages=float("inf")).collect()  # packages: see test_cli
    json.dumps(report)
    assert "metrics" in report
    assert isinstance(report["errors"], list)


def test_backup_age_is_the_age_of_the_stamp(tmp_path: Path) -> None:
    stamp = tmp_path / "backup-ok"
    stamp.touch()
    finished = time.time() - 30 * 3600  # the last good backup ended 30 h ago
    os.utime(stamp, (finished, finished))
    c = collector(tmp_path, FakeTools({}))
    c.backup_stamp = stamp
    report = c.collect()
    assert 30 * 3600 <= report["metrics"]["backup_age_s"] <= 30 * 3600 + 60
    assert not [e for e in report["errors"] if e.startswith("backup")]


def test_no_backup_yet_is_said_not_guessed(tmp_path: Path) -> None:
    c = collector(tmp_path, FakeTools({}))
    c.backup_stamp = tmp_path / "never-written"
    report = c.collect()
    assert "backup_age_s" not in report["metrics"]
    assert (
        f"backup_age_s: no successful backup yet ({tmp_path / 'never-written'} missing)"
        in (report["errors"])
    )


def test_a_host_without_backups_reports_no_backup_age(tmp_path: Path) -> None:
    report = collector(tmp_path, FakeTools({})).collect()
    assert "backup_age_s" not in report["metrics"]


def test_licence_counts_from_passwd_and_a_command(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    passwd.write_text(
        "root:x:0:0:root:/root:/bin/bash\n"
        "anna:x:1000:1000::/home/anna:/bin/bash\n"
        "jonas:x:1001:1001::/home/jonas:/bin/bash\n"
        "svc:x:1002:1002::/srv:/usr/sbin/nologin\n"
    )
    tools = FakeTools({"count-mailboxes": (0, "23\n")})
    c = collector(tmp_path, tools)
    c.passwd_path = passwd
    c.licence_settings = LicenceSettings(
        user_accounts="passwd", concurrent_users=("/usr/bin/count-mailboxes",)
    )
    report = c.collect()
    assert report["licences"] == {"user_accounts": 2, "concurrent_users": 23}
    assert ["/usr/bin/count-mailboxes"] in tools.calls


def test_a_failing_licence_count_is_noted_and_the_other_still_sent(tmp_path: Path) -> None:
    tools = FakeTools({"count-users": (0, "about twelve\n")})
    c = collector(tmp_path, tools)
    c.licence_settings = LicenceSettings(
        user_accounts=("/usr/bin/count-users",), concurrent_users="sessions"
    )
    report = c.collect()
    assert set(report["licences"]) == {"concurrent_users"}  # from utmp, may well be 0 here
    assert (
        "licences.user_accounts: expected one whole number, got 'about twelve'"
        in (report["errors"])
    )


def test_no_licence_source_sends_no_licences(tmp_path: Path) -> None:
    assert "licences" not in collector(tmp_path, FakeTools({})).collect()
