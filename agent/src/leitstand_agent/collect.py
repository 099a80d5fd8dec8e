"""One collection: the body of a ``POST report`` (docs/agent-protocol.md, "Reports").

What the reports serve: seed 001 §3.2 "Laufende Überwachung der VM
(Monitoring)", "Alarmierung per E-Mail und/oder SMS (CPU-Load, RAM,
File-System-Auslastung, Host-Down)" (metrics, filesystems), "Aktive
Überwachung des Update-Status" and seed 000 §III "Continuous monitoring of all
deployed software for updates" (packages); seed 004 "Überprüfen auf
Ressourcenmangel" (processes, RAID, SMART, mail queue).

Parsers of program output are pure functions over text (``parse_mdstat``,
``parse_smartctl``, ...), tested with tables of real output; :class:`Collector`
runs the programs and puts the parts together. A part whose source fails is
left out (or empty) and the failure noted in ``errors``: one broken
``smartctl`` must not cost the metrics of the whole host.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from leitstand_agent import cmd
from leitstand_agent.config import LicenceSettings

TOP_PROCESSES = 20

# Not filesystems a customer fills: read-only images and pseudo filesystems.
_SKIP_FSTYPES = frozenset({"squashfs", "iso9660", "udf", "overlay", "tmpfs", "devtmpfs"})
# Block devices without SMART: loop, RAM disks, device mapper, md, optical, zram.
_NO_SMART = re.compile(r"^(loop|ram|dm-|md|sr|zram|nbd|fd)")


# --- /proc/mdstat -------------------------------------------------------------

_MD_HEAD = re.compile(r"^(md\S*)\s*:\s*(\S+)(.*)$")
_MD_COUNT = re.compile(r"\[(\d+)/(\d+)\]\s*\[([U_]+)\]")
_MD_SYNC = re.compile(r"\b(resync|recovery|check|reshape|repair)\s*=\s*([\d.]+)%")
_MD_SYNC_PENDING = re.compile(r"\b(resync|recovery|check|reshape)\s*=\s*(PENDING|DELAYED)")


def parse_mdstat(text: str) -> list[dict[str, Any]]:
    """The software RAID arrays in ``/proc/mdstat``.

    ``state`` is ``active``/``inactive`` from the head line, replaced by the
    running operation (``resync``, ``recovery``, ``check``, ``reshape``) while
    one runs; ``degraded`` is true when fewer members are up than the array has
    (``[2/1] [U_]``), so a rebuilding array counts as degraded until it is done.
    """
    arrays: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for line in text.splitlines():
        head = _MD_HEAD.match(line)
        if head:
            device, state, rest = head.groups()
            words = rest.split()
            # "active (auto-read-only) raid1 ..." and "active raid1 ...".
            while words and words[0].startswith("("):
                words.pop(0)
            level = words[0] if words and words[0].startswith(("raid", "linear")) else ""
            members = [w for w in words if "[" in w]
            current = {
                "device": device,
                "level": level,
                "state": state,
                "disks": len(members),
                "active": len([m for m in members if not m.endswith(("(F)", "(S)"))]),
                "degraded": False,
            }
            arrays.append(current)
            continue
        if current is None:
            continue
        count = _MD_COUNT.search(line)
        if count:
            current["disks"] = int(count.group(1))
            current["active"] = count.group(3).count("U")
            current["degraded"] = current["active"] < current["disks"]
        sync = _MD_SYNC.search(line) or _MD_SYNC_PENDING.search(line)
        if sync:
            current["state"] = sync.group(1)
    return arrays


# --- smartctl -j -H -i --------------------------------------------------------


# smartctl exit status bit 1: "Device open failed, device did not return an
# IDENTIFY DEVICE structure, or device is in a low-power mode".
_SMART_OPEN_FAILED = 2


def parse_smartctl(text: str) -> dict[str, Any] | None:
    """``{"device", "passed", "model"}`` from ``smartctl -j -H -i`` output.

    ``None`` for a device without SMART (a virtual disk: ``/dev/vda`` on most
    managed VMs), so that the report does not carry the same note every hour;
    ``ValueError`` when the output is not JSON or a SMART disk gives no verdict.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"smartctl output is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("smartctl output is not a JSON object")
    device = data.get("device", {}).get("name", "")
    exit_status = data.get("smartctl", {}).get("exit_status", 0)
    support = data.get("smart_support", {})
    if (isinstance(exit_status, int) and exit_status & _SMART_OPEN_FAILED) or (
        isinstance(support, dict) and support.get("available") is False
    ):
        return None
    status = data.get("smart_status")
    if not isinstance(status, dict) or not isinstance(status.get("passed"), bool):
        messages = data.get("smartctl", {}).get("messages", [])
        why = "; ".join(str(m.get("string", "")) for m in messages if isinstance(m, dict))
        raise ValueError(
            f"{device or 'disk'}: no SMART health status" + (f" ({why})" if why else "")
        )
    return {"device": device, "passed": status["passed"], "model": data.get("model_name", "")}


# --- systemctl --failed --output=json -----------------------------------------


def parse_failed_units(text: str) -> list[str]:
    """Unit names from ``systemctl --failed --output=json``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"systemctl output is not JSON: {exc}") from None
    if not isinstance(data, list):
        raise ValueError("systemctl output is not a JSON list")
    return sorted(str(u["unit"]) for u in data if isinstance(u, dict) and "unit" in u)


# --- packages -----------------------------------------------------------------

# dpkg-query and rpm expand the escapes themselves.
DPKG_FORMAT = "${db:Status-Abbrev}\\t${Package}\\t${Version}\\n"
RPM_FORMAT = "%{NAME}\\t%{EPOCH}\\t%{VERSION}-%{RELEASE}\\n"
_APT_INST = re.compile(r"^Inst (\S+)(?: \[([^\]]+)\])? \((\S+)")


def parse_dpkg_query(text: str) -> list[list[str]]:
    """``[name, version]`` of installed packages from ``dpkg-query -W -f DPKG_FORMAT``.

    Only status ``ii`` (installed, no error): removed packages whose
    configuration files remain (``rc``) are not installed software.
    """
    seen: set[tuple[str, str]] = set()
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0].strip() == "ii":
            seen.add((parts[1], parts[2]))
    return [list(p) for p in sorted(seen)]


def parse_apt_simulation(text: str) -> list[list[str]]:
    """``[name, installed, candidate]`` from ``apt-get -s upgrade``; installed ``""`` if new."""
    pending = []
    for line in text.splitlines():
        match = _APT_INST.match(line)
        if match:
            pending.append([match.group(1), match.group(2) or "", match.group(3)])
    return sorted(pending)


def parse_rpm_query(text: str) -> list[list[str]]:
    """``[name, [epoch:]version-release]`` from ``rpm -qa --queryformat RPM_FORMAT``."""
    seen: set[tuple[str, str]] = set()
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or not parts[0]:
            continue
        name, epoch, version = parts
        if epoch not in ("(none)", "0", ""):
            version = f"{epoch}:{version}"
        seen.add((name, version))
    return [list(p) for p in sorted(seen)]


def parse_dnf_check_update(text: str, installed: list[list[str]]) -> list[list[str]]:
    """``[name, installed, candidate]`` from ``dnf -q check-update`` (exit status 100)."""
    current = {row[0]: row[1] for row in installed}
    pending = []
    for line in text.splitlines():
        if line.startswith("Obsoleting"):
            break  # what follows repeats packages with the obsoleted ones indented
        parts = line.split()
        if len(parts) != 3 or line.startswith(" ") or "." not in parts[0]:
            continue
        name = parts[0].rsplit(".", 1)[0]
        pending.append([name, current.get(name, ""), parts[1]])
    return sorted(pending)


# --- /proc/<pid>/stat --------------------------------------------------------

_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class ProcStat:
    """The fields of ``/proc/<pid>/stat`` the report needs (times in clock ticks)."""

    pid: int
    name: str
    ppid: int
    cpu_ticks: int
    start_ticks: int
    rss_pages: int


def parse_proc_stat(text: str) -> ProcStat:
    """Parse one ``/proc/<pid>/stat`` line (proc(5)).

    The command name is in parentheses and may itself contain spaces and
    parentheses, so it ends at the *last* ``)``.
    """
    head, paren, tail = text.rpartition(")")
    pid_text, _, name = head.partition(" (")
    fields = tail.split()
    if not paren or len(fields) < 22:
        raise ValueError(f"not a /proc/<pid>/stat line: {text[:80]!r}")
    return ProcStat(
        pid=int(pid_text),
        name=name,
        ppid=int(fields[1]),
        cpu_ticks=int(fields[11]) + int(fields[12]),  # utime + stime
        start_ticks=int(fields[19]),
        rss_pages=int(fields[21]),
    )


def scan_proc(proc_root: Path = Path("/proc")) -> tuple[float, list[ProcStat]]:
    """System uptime in seconds and every process's stat line, one file read each."""
    uptime = float((proc_root / "uptime").read_text().split()[0])
    rows: list[ProcStat] = []
    for entry in os.scandir(proc_root):
        if not entry.name.isdigit():
            continue
        try:
            with open(os.path.join(entry.path, "stat"), "rb") as stat_file:
                rows.append(parse_proc_stat(stat_file.read().decode("utf-8", "replace")))
        except (OSError, ValueError):
            continue  # exited between listing and reading
    return uptime, rows


def page_size() -> int:
    return _PAGE_SIZE


def clock_ticks() -> int:
    return _CLK_TCK


# --- postqueue -j -------------------------------------------------------------


def parse_postqueue(text: str) -> int:
    """Messages in the Postfix queue: ``postqueue -j`` prints one JSON object per message."""
    count = 0
    for line in text.splitlines():
        if line.strip():
            json.loads(line)  # a JSONDecodeError is a ValueError: the caller notes it
            count += 1
    return count


# --- account licences (seed 000 VI) -----------------------------------------------

_NO_LOGIN_SHELLS = ("nologin", "false", "sync", "halt", "shutdown")
_NOBODY = 65534
_COUNT = re.compile(r"^\s*(\d{1,9})\s*$")


def count_accounts(passwd: str, min_uid: int) -> int:
    """Login accounts in /etc/passwd text: uid at least ``min_uid`` (not nobody)
    and a shell one can log in with. System users of daemons do not count."""
    count = 0
    for line in passwd.splitlines():
        fields = line.split(":")
        if len(fields) < 7 or not fields[2].isdigit():
            continue
        uid, shell = int(fields[2]), fields[6].strip()
        if uid < min_uid or uid == _NOBODY or not shell:
            continue
        if shell.rsplit("/", 1)[-1] in _NO_LOGIN_SHELLS:
            continue
        count += 1
    return count


def parse_count(text: str) -> int:
    """The one whole number a counting command prints."""
    match = _COUNT.match(text)
    if match is None:
        shown = text.strip()[:40]
        raise ValueError(f"expected one whole number, got {shown!r}")
    return int(match.group(1))


# --- the collector ------------------------------------------------------------

Runner = Callable[..., cmd.CommandResult]


@dataclass
class Collector:
    """Collects reports; keeps what slow sources returned until they are due again.

    Package inventory and SMART change slowly and cost a lot (``apt-get -s``,
    disk queries): they are refreshed every ``packages_interval`` and
    ``smart_interval`` seconds. The package inventory is sent only in the report
    that refreshed it, because the installed list is large and sending it every
    minute would be most of the agent's traffic.
    """

    packages_interval: float = 6 * 3600.0
    smart_interval: float = 3600.0
    mdstat_path: Path = Path("/proc/mdstat")
    sys_block: Path = Path("/sys/block")
    run: Runner = cmd.run
    which: Callable[[str], str | None] = cmd.which
    # Monotonic instants when the slow sources are due next.
    next_packages: float = 0.0
    next_smart: float = 0.0
    _smart: list[dict[str, Any]] = field(default_factory=list)
    _smart_errors: list[str] = field(default_factory=list)
    proc_root: Path = Path("/proc")
    _users: dict[int, str] = field(default_factory=dict)
    _cpu_ticks: dict[int, tuple[int, int]] = field(default_factory=dict)
    _last_scan: float = 0.0
    # See ActionSettings.backup_stamp: None when the host has no backup to watch.
    backup_stamp: Path | None = None
    licence_settings: LicenceSettings = field(default_factory=LicenceSettings)
    passwd_path: Path = Path("/etc/passwd")

    def collect(self) -> dict[str, Any]:
        """Everything of the report except ``seq`` and the agent's own action records."""
        errors: list[str] = []
        report: dict[str, Any] = {}
        now = time.monotonic()
        parts: list[tuple[str, Callable[[list[str]], Any]]] = [
            ("metrics", self.metrics),
            ("filesystems", lambda _errors: self.filesystems()),
            ("raid", lambda _errors: self.raid()),
            ("smart", lambda errs: self.smart(errs, now)),
            ("processes", lambda _errors: self.processes()),
            ("failed_units", lambda _errors: self.failed_units()),
            ("licences", self.licences),
        ]
        if now >= self.next_packages:
            parts.append(("packages", lambda _errors: self.packages()))
        for name, part in parts:
            try:
                value = part(errors)
            except (ValueError, OSError, cmd.CommandError, psutil.Error) as exc:
                errors.append(f"{name}: {exc}")
                continue
            if value is not None:
                report[name] = value
        if "packages" in report or any(e.startswith("packages:") for e in errors):
            self.next_packages = now + self.packages_interval
        report["errors"] = errors
        return report

    def metrics(self, errors: list[str]) -> dict[str, Any]:
        memory = psutil.virtual_memory()
        swap = psutil.swap_memory()
        load1, load5, load15 = os.getloadavg()
        metrics: dict[str, Any] = {
            "cpu_percent": psutil.cpu_percent(interval=None),
            "load1": load1,
            "load5": load5,
            "load15": load15,
            "mem_total": memory.total,
            "mem_used": memory.total - memory.available,
            "mem_percent": memory.percent,
            "swap_total": swap.total,
            "swap_used": swap.used,
            "swap_percent": swap.percent,
            "uptime_s": int(time.time() - psutil.boot_time()),
        }
        disk = psutil.disk_io_counters(perdisk=False)
        if disk is not None:
            metrics["disk_read_bytes"] = disk.read_bytes
            metrics["disk_write_bytes"] = disk.write_bytes
        net = psutil.net_io_counters(pernic=False)
        if net is not None:
            metrics["net_recv_bytes"] = net.bytes_recv
            metrics["net_sent_bytes"] = net.bytes_sent
        try:
            queue = self.mail_queue()
        except (ValueError, OSError, cmd.CommandError) as exc:
            errors.append(f"mail_queue: {exc}")
        else:
            if queue is not None:
                metrics["mail_queue"] = queue
        if self.backup_stamp is not None:
            try:
                finished = self.backup_stamp.stat().st_mtime
            except FileNotFoundError:
                missing = f"no successful backup yet ({self.backup_stamp} missing)"
                errors.append(f"backup_age_s: {missing}")
            except OSError as exc:
                errors.append(f"backup_age_s: {exc}")
            else:
                metrics["backup_age_s"] = max(0, int(time.time() - finished))
        return metrics

    def licences(self, errors: list[str]) -> dict[str, int] | None:
        """The counts the plan's account licences limit, as far as configured."""
        settings = self.licence_settings
        counts: dict[str, int] = {}
        for name, source in (
            ("user_accounts", settings.user_accounts),
            ("concurrent_users", settings.concurrent_users),
        ):
            if source is None:
                continue
            try:
                counts[name] = self.count(source, settings.min_uid)
            except (ValueError, OSError, cmd.CommandError, psutil.Error) as exc:
                errors.append(f"licences.{name}: {exc}")
        return counts or None

    def count(self, source: str | tuple[str, ...], min_uid: int) -> int:
        if source == "passwd":
            return count_accounts(self.passwd_path.read_text(encoding="utf-8"), min_uid)
        if source == "sessions":
            # Connected users, not sessions: one person with three terminals is one.
            return len({user.name for user in psutil.users()})
        argv = list(source)
        result = self.run(argv, timeout=20.0)
        if result.returncode != 0:
            raise ValueError(f"{argv[0]} exited with {result.returncode}")
        return parse_count(result.text)

    def mail_queue(self) -> int | None:
        postqueue = self.which("postqueue")
        if postqueue is None:
            return None  # no Postfix on this host: nothing to report, nothing wrong
        result = self.run([postqueue, "-j"], timeout=20.0)
        if result.returncode != 0:
            raise ValueError(f"postqueue -j exited with {result.returncode}")
        if result.truncated:
            raise ValueError("postqueue -j output too large")
        return parse_postqueue(result.text)

    def filesystems(self) -> list[dict[str, Any]]:
        filesystems = []
        seen: set[str] = set()
        # all=False: only filesystems on devices, so no hanging network mounts.
        for part in psutil.disk_partitions(all=False):
            if part.fstype in _SKIP_FSTYPES or part.mountpoint in seen:
                continue
            seen.add(part.mountpoint)
            try:
                usage = psutil.disk_usage(part.mountpoint)
            except OSError:
                continue  # unmounted between the two calls
            filesystems.append(
                {
                    "mount": part.mountpoint,
                    "device": part.device,
                    "fstype": part.fstype,
                    "total": usage.total,
                    "used": usage.used,
                    "percent": usage.percent,
                }
            )
        return filesystems

    def raid(self) -> list[dict[str, Any]]:
        try:
            text = self.mdstat_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []  # no md driver loaded: no software RAID
        return parse_mdstat(text)

    def disks(self) -> list[str]:
        try:
            names = sorted(os.listdir(self.sys_block))
        except OSError:
            return []
        return [f"/dev/{name}" for name in names if not _NO_SMART.match(name)]

    def smart(self, errors: list[str], now: float) -> list[dict[str, Any]]:
        if now < self.next_smart:
            errors.extend(self._smart_errors)
            return self._smart
        self.next_smart = now + self.smart_interval
        self._smart, self._smart_errors = [], []
        smartctl = self.which("smartctl")
        if smartctl is None:
            return self._smart
        for disk in self.disks():
            try:
                result = self.run([smartctl, "-j", "-H", "-i", disk], timeout=30.0)
                disk_status = parse_smartctl(result.text)
                if disk_status is not None:
                    self._smart.append(disk_status)
            except (ValueError, cmd.CommandError) as exc:
                self._smart_errors.append(f"smart: {exc}")
        errors.extend(self._smart_errors)
        return self._smart

    def user(self, uid: int) -> str:
        name = self._users.get(uid)
        if name is None:
            try:
                name = pwd.getpwuid(uid).pw_name
            except KeyError:
                name = str(uid)
            self._users[uid] = name
        return name

    def processes(self) -> list[dict[str, Any]]:
        """The top processes by CPU and by resident memory, at most 2 x 20.

        Reads ``/proc/<pid>/stat`` directly, one file per process: psutil
        reads two or three and costs about 90 µs a process, which on a host
        with 400 processes was most of the collection's CPU budget.
        """
        now = time.monotonic()
        uptime, rows = scan_proc(self.proc_root)
        elapsed = now - self._last_scan if self._last_scan else 0.0
        previous = self._cpu_ticks
        self._cpu_ticks = {row.pid: (row.start_ticks, row.cpu_ticks) for row in rows}
        self._last_scan = now

        def cpu_percent(row: ProcStat) -> float:
            before = previous.get(row.pid)
            # A different start time: the PID was reused, the old ticks are another process's.
            if not elapsed or before is None or before[0] != row.start_ticks:
                return 0.0
            return round((row.cpu_ticks - before[1]) / _CLK_TCK / elapsed * 100, 1)

        by_cpu = sorted(rows, key=cpu_percent, reverse=True)[:TOP_PROCESSES]
        by_rss = sorted(rows, key=lambda r: r.rss_pages, reverse=True)[:TOP_PROCESSES]
        result: dict[int, dict[str, Any]] = {}
        for row in by_cpu + by_rss:
            if row.pid in result:
                continue
            try:
                uid = os.stat(self.proc_root / str(row.pid)).st_uid
            except OSError:
                continue
            result[row.pid] = {
                "pid": row.pid,
                "name": row.name,
                "user": self.user(uid),
                "cpu_percent": cpu_percent(row),
                "rss": row.rss_pages * _PAGE_SIZE,
                "runtime_s": max(0, int(uptime - row.start_ticks / _CLK_TCK)),
            }
        return sorted(result.values(), key=lambda r: (-r["cpu_percent"], -r["rss"]))

    def failed_units(self) -> list[str]:
        systemctl = self.which("systemctl")
        if systemctl is None:
            return []
        result = self.run(
            [systemctl, "--failed", "--output=json", "--no-pager", "--plain"], timeout=20.0
        )
        if result.returncode != 0:
            message = result.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ValueError(
                f"systemctl --failed exited with {result.returncode}"
                + (f": {message[0]}" if message else "")
            )
        return parse_failed_units(result.text)

    def packages(self) -> dict[str, Any] | None:
        dpkg_query = self.which("dpkg-query")
        if dpkg_query is not None:
            installed = self.run([dpkg_query, "-W", "-f", DPKG_FORMAT], timeout=60.0)
            if installed.returncode != 0 or installed.truncated:
                raise ValueError(f"dpkg-query -W exited with {installed.returncode}")
            packages: dict[str, Any] = {
                "manager": "dpkg",
                "installed": parse_dpkg_query(installed.text),
                "pending": [],
            }
            apt_get = self.which("apt-get")
            if apt_get is not None:
                simulation = self.run([apt_get, "-s", "-q", "upgrade"], timeout=120.0)
                if simulation.returncode != 0 or simulation.truncated:
                    raise ValueError(f"apt-get -s upgrade exited with {simulation.returncode}")
                packages["pending"] = parse_apt_simulation(simulation.text)
            return packages
        rpm = self.which("rpm")
        if rpm is not None:
            installed = self.run([rpm, "-qa", "--queryformat", RPM_FORMAT], timeout=60.0)
            if installed.returncode != 0 or installed.truncated:
                raise ValueError(f"rpm -qa exited with {installed.returncode}")
            rpm_packages: dict[str, Any] = {
                "manager": "rpm",
                "installed": parse_rpm_query(installed.text),
                "pending": [],
            }
            dnf = self.which("dnf")
            if dnf is not None:
                check = self.run([dnf, "-q", "check-update"], timeout=120.0)
                # 100: updates available; 0: none; anything else is an error.
                if check.returncode not in (0, 100) or check.truncated:
                    raise ValueError(f"dnf check-update exited with {check.returncode}")
                rpm_packages["pending"] = parse_dnf_check_update(
                    check.text, rpm_packages["installed"]
                )
            return rpm_packages
        raise ValueError("neither dpkg-query nor rpm found")
