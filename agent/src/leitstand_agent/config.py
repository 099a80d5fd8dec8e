"""The agent's configuration file (TOML), read once at start.

Everything the server will later push (the process policy) is read from the
file for now. A bad file stops the agent with one line naming the file, the key
and the problem, never a traceback: the person reading it is an administrator
at a console, not a Python developer.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from leitstand_agent.rules.process_policy import ProcessException, ProcessPolicy
from leitstand_agent.rules.restart_policy import RestartPolicy

DEFAULT_PATH = Path("/etc/leitstand-agent/agent.toml")
DEFAULT_STATE_DIR = Path("/var/lib/leitstand-agent")

# The action types of the protocol; each is off until the config enables it
# ("Types (deny by default; the host's config enables each)").
ACTION_TYPES = frozenset(
    {
        "restart_unit",
        "clean_logs",
        "collect_logs",
        "kill_pid",
        "run_updates",
        "run_backup",
        "run_restore",
    }
)


class ConfigError(Exception):
    """A problem with the configuration file, worded for an administrator."""

    def __init__(self, path: Path, key: str, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(where + problem)


@dataclass(frozen=True)
class ActionSettings:
    """Which remote actions may run on this host, and on what."""

    enabled: frozenset[str] = frozenset()
    units: tuple[str, ...] = ()
    log_dirs: tuple[Path, ...] = ()
    collect_paths: tuple[Path, ...] = ()
    collect_max_bytes: int = 5 * 1024 * 1024
    update_commands: tuple[tuple[str, ...], ...] = ()
    backup_command: tuple[str, ...] = ()
    # Its modification time is the end of the last successful backup: touched
    # after every successful run_backup, and by a backup run from cron if that
    # is configured to (``restic backup ... && touch STAMP``). Its age is the
    # report's ``backup_age_s``. None: this host has no backup to watch.
    backup_stamp: Path | None = None
    restore_command: tuple[str, ...] = ()
    restore_targets: tuple[Path, ...] = ()
    timeout: float = 1800.0
    poll_interval: float = 30.0


@dataclass(frozen=True)
class ProcessSettings:
    """The process policy and how the monitor applies it."""

    policy: ProcessPolicy = field(default_factory=lambda: ProcessPolicy(None, None))
    dry_run: bool = True
    # Runtime and memory limits apply to processes of accounts with at least
    # this uid: system daemons (sshd, databases) run for months by design. The
    # prohibited list applies to every account, because a miner typically runs
    # as the web server's system user.
    limits_min_uid: int = 1000
    grace: float = 10.0
    interval: float = 10.0


@dataclass(frozen=True)
class RestartSettings:
    """Units the agent restarts on its own when they stop (seed 001 §5.2)."""

    units: tuple[str, ...] = ()
    policy: RestartPolicy = field(default_factory=lambda: RestartPolicy(timedelta(seconds=120), 3))


# Where a licence count comes from: a built-in source, or a command (argument
# list) that prints one whole number.
BUILTIN_COUNTS = {
    "user_accounts": frozenset({"passwd"}),
    "concurrent_users": frozenset({"sessions"}),
}
CountSource = str | tuple[str, ...]


@dataclass(frozen=True)
class LicenceSettings:
    """How the agent counts what the plan's account licences limit (seed 000 VI).

    ``user_accounts``: ``"passwd"`` counts the login accounts in /etc/passwd
    (uid at least ``min_uid``, a real shell); ``concurrent_users``:
    ``"sessions"`` counts the logged-in sessions (utmp). For an application
    that keeps its own users (a mail server, a shop), a command that prints
    the number. Nothing configured: nothing counted, nothing sent.
    """

    user_accounts: CountSource | None = None
    concurrent_users: CountSource | None = None
    min_uid: int = 1000


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    path: Path
    server_url: str = ""
    ca_file: Path | None = None
    timeout: float = 30.0
    state_dir: Path = DEFAULT_STATE_DIR
    report_interval: float = 60.0
    # At least 24 h at the default interval (protocol: "bounded: at least 24 h").
    spool_max_reports: int = 1500
    spool_max_bytes: int = 200 * 1024 * 1024
    packages_interval: float = 6 * 3600.0
    smart_interval: float = 3600.0
    processes: ProcessSettings = field(default_factory=ProcessSettings)
    restart: RestartSettings = field(default_factory=RestartSettings)
    actions: ActionSettings = field(default_factory=ActionSettings)
    licences: LicenceSettings = field(default_factory=LicenceSettings)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB|kB|MB|GB|TB)?\s*$")
_SIZE_UNITS = {
    "B": 1,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
    "TiB": 1024**4,
    "kB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "TB": 1000**4,
}


def parse_duration(value: object) -> float:
    """Seconds from a number of seconds or a string such as ``"90s"``, ``"30m"``, ``"2h"``."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2) or "s"]
    else:
        raise ValueError(f"expected a duration such as 90, '90s', '30m', '2h', got {value!r}")
    if seconds < 0:
        raise ValueError(f"a duration must not be negative, got {value!r}")
    return seconds


def parse_size(value: object) -> int:
    """Bytes from a number of bytes or a string such as ``"512MiB"``, ``"2GiB"``."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size, got {value!r}")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str) and (match := _SIZE.match(value)):
        size = int(float(match.group(1)) * _SIZE_UNITS[match.group(2) or "B"])
    else:
        raise ValueError(f"expected a size such as 1048576, '512MiB', '2GiB', got {value!r}")
    if size < 0:
        raise ValueError(f"a size must not be negative, got {value!r}")
    return size


class _Section:
    """One TOML table with typed getters that name the full key in errors."""

    def __init__(self, path: Path, prefix: str, data: dict[str, Any]) -> None:
        self.path = path
        self.prefix = prefix
        self.data = data
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def error(self, name: str, problem: str) -> ConfigError:
        return ConfigError(self.path, self.key(name), problem)

    def raw(self, name: str) -> Any:
        self.used.add(name)
        return self.data.get(name)

    def string(self, name: str, default: str) -> str:
        value = self.raw(name)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.error(name, f"expected a string, got {value!r}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(name, f"expected true or false, got {value!r}")
        return value

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, f"expected a whole number, got {value!r}")
        if value < minimum:
            raise self.error(name, f"must be at least {minimum}, got {value}")
        return int(value)

    def duration(self, name: str, default: float | None, minimum: float = 0.0) -> float | None:
        value = self.raw(name)
        if value is None:
            return default
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise self.error(name, str(exc)) from None
        if seconds < minimum:
            raise self.error(name, f"must be at least {minimum:g} s, got {value!r}")
        return seconds

    def required_duration(self, name: str, default: float, minimum: float = 0.0) -> float:
        seconds = self.duration(name, default, minimum)
        assert seconds is not None  # a default was given
        return seconds

    def size(self, name: str, default: int | None) -> int | None:
        value = self.raw(name)
        if value is None:
            return default
        try:
            return parse_size(value)
        except ValueError as exc:
            raise self.error(name, str(exc)) from None

    def strings(self, name: str) -> tuple[str, ...]:
        value = self.raw(name)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(name, f"expected a list of non-empty strings, got {value!r}")
        return tuple(value)

    def paths(self, name: str) -> tuple[Path, ...]:
        values = self.strings(name)
        for value in values:
            if not value.startswith("/"):
                raise self.error(name, f"expected absolute paths, got {value!r}")
        return tuple(Path(v) for v in values)

    def absolute_path(self, name: str) -> Path | None:
        value = self.string(name, "")
        if not value:
            return None
        if not value.startswith("/"):
            raise self.error(name, f"expected an absolute path, got {value!r}")
        return Path(value)

    def argv(self, name: str) -> tuple[str, ...]:
        """A command as an argument list: no shell ever parses it."""
        value = self.strings(name)
        if value and not value[0].startswith("/"):
            # An absolute program path: PATH of a root daemon is not the place to look.
            raise self.error(name, f"the program must be an absolute path, got {value[0]!r}")
        return value

    def table(self, name: str) -> _Section:
        value = self.raw(name)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.error(name, f"expected a table [{self.key(name)}], got {value!r}")
        return _Section(self.path, self.key(name), value)

    def check_unknown(self) -> None:
        # A misspelt key silently ignored is a limit silently not applied.
        for name in self.data:
            if name not in self.used:
                raise self.error(name, "unknown key")


def load(path: Path = DEFAULT_PATH) -> Config:
    """Read and check the configuration file at ``path``; raise :class:`ConfigError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"cannot read: {exc}") from None
    return parse(text, path)


def parse(text: str, path: Path) -> Config:
    """Check ``text`` (the file's content) and build a :class:`Config`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "", f"not valid TOML: {exc}") from None
    root = _Section(path, "", data)
    server = root.table("server")
    agent = root.table("agent")
    procs = root.table("process_policy")
    restart = root.table("restart")
    licences = root.table("licences")
    actions = root.table("actions")

    url = server.string("url", "")
    if url and not url.startswith(("https://", "http://")):
        raise server.error("url", f"expected an https:// URL, got {url!r}")
    ca = server.string("ca_file", "")
    state_dir = Path(agent.string("state_dir", str(DEFAULT_STATE_DIR)))
    config = Config(
        path=path,
        server_url=url.rstrip("/"),
        ca_file=Path(ca) if ca else None,
        timeout=server.required_duration("timeout", 30.0, minimum=1.0),
        state_dir=state_dir,
        report_interval=agent.required_duration("report_interval", 60.0, minimum=5.0),
        spool_max_reports=agent.integer("spool_max_reports", 1500, minimum=1),
        spool_max_bytes=agent.size("spool_max_bytes", 200 * 1024 * 1024) or 1,
        packages_interval=agent.required_duration("packages_interval", 6 * 3600.0, minimum=60.0),
        smart_interval=agent.required_duration("smart_interval", 3600.0, minimum=60.0),
        processes=_process_settings(procs),
        restart=_restart_settings(restart),
        actions=_action_settings(actions, state_dir),
        licences=_licence_settings(licences),
    )
    for section in (server, agent, procs, restart, actions, licences, root):
        section.check_unknown()
    return config


def _process_settings(section: _Section) -> ProcessSettings:
    max_runtime = section.duration("max_runtime", None)
    max_rss = section.size("max_rss", None)
    exceptions = []
    raw = section.raw("exceptions")
    if raw is not None and not isinstance(raw, list):
        raise section.error("exceptions", "expected [[process_policy.exceptions]] tables")
    for index, item in enumerate(raw or []):
        if not isinstance(item, dict):
            raise section.error(f"exceptions[{index}]", "expected a table")
        entry = _Section(section.path, section.key(f"exceptions[{index}]"), item)
        command = entry.string("command", "")
        runtime = entry.duration("max_runtime", None)
        rss = entry.size("max_rss", None)
        entry.check_unknown()
        try:
            exceptions.append(
                ProcessException(
                    command,
                    None if runtime is None else timedelta(seconds=runtime),
                    rss,
                )
            )
        except ValueError as exc:
            raise section.error(f"exceptions[{index}]", str(exc)) from None
    prohibited = section.strings("prohibited")
    try:
        policy = ProcessPolicy(
            None if max_runtime is None else timedelta(seconds=max_runtime),
            max_rss,
            tuple(exceptions),
            frozenset(prohibited),
        )
    except ValueError as exc:
        raise ConfigError(section.path, section.prefix, str(exc)) from None
    return ProcessSettings(
        policy=policy,
        dry_run=section.boolean("dry_run", True),
        limits_min_uid=section.integer("limits_min_uid", 1000),
        grace=section.required_duration("grace", 10.0),
        interval=section.required_duration("interval", 10.0, minimum=1.0),
    )


def _licence_settings(section: _Section) -> LicenceSettings:
    sources: dict[str, CountSource | None] = {}
    for name, builtins in BUILTIN_COUNTS.items():
        value = section.raw(name)
        if value is None or (isinstance(value, str) and value in builtins):
            sources[name] = value
        elif isinstance(value, list):
            sources[name] = section.argv(name)
        else:
            known = ", ".join(repr(b) for b in sorted(builtins))
            raise section.error(
                name, f"expected {known} or a command as an argument list, got {value!r}"
            )
    return LicenceSettings(
        user_accounts=sources["user_accounts"],
        concurrent_users=sources["concurrent_users"],
        min_uid=section.integer("min_uid", 1000),
    )


def _restart_settings(section: _Section) -> RestartSettings:
    units = section.strings("units")
    silence = section.required_duration("silence", 120.0)
    max_consecutive = section.integer("max_consecutive", 3)
    return RestartSettings(units, RestartPolicy(timedelta(seconds=silence), max_consecutive))


def _action_settings(section: _Section, state_dir: Path) -> ActionSettings:
    enabled = section.strings("enabled")
    for name in enabled:
        if name not in ACTION_TYPES:
            raise section.error(
                "enabled", f"unknown action type {name!r}; known: {', '.join(sorted(ACTION_TYPES))}"
            )
    raw_updates = section.raw("update_commands")
    updates: list[tuple[str, ...]] = []
    if raw_updates is not None:
        if not isinstance(raw_updates, list):
            raise section.error("update_commands", "expected a list of argument lists")
        for index, argv in enumerate(raw_updates):
            if (
                not isinstance(argv, list)
                or not argv
                or not all(isinstance(a, str) and a for a in argv)
                or not argv[0].startswith("/")
            ):
                raise section.error(
                    f"update_commands[{index}]",
                    f"expected an argument list starting with an absolute path, got {argv!r}",
                )
            updates.append(tuple(argv))
    restore = section.argv("restore_command")
    backup = section.argv("backup_command")
    stamp = section.absolute_path("backup_stamp") or (state_dir / "backup-ok" if backup else None)
    return ActionSettings(
        enabled=frozenset(enabled),
        units=section.strings("units"),
        log_dirs=section.paths("log_dirs"),
        collect_paths=section.paths("collect_paths"),
        collect_max_bytes=section.size("collect_max_bytes", 5 * 1024 * 1024) or 0,
        update_commands=tuple(updates),
        backup_command=backup,
        backup_stamp=stamp,
        restore_command=restore,
        restore_targets=section.paths("restore_targets"),
        timeout=section.required_duration("timeout", 1800.0, minimum=1.0),
        poll_interval=section.required_duration("poll_interval", 30.0, minimum=1.0),
    )
