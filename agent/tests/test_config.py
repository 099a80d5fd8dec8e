"""The configuration file: a full example, defaults, and clear errors for bad files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from leitstand_agent.config import ConfigError, load, parse, parse_duration, parse_size
from leitstand_agent.rules.process_policy import ProcessException

EXAMPLE = Path(__file__).parent.parent / "packaging" / "agent.toml.example"

FULL = """
[server]
url = "https://leitstand.example.net/"
ca_file = "/etc/leitstand-agent/ca.pem"
timeout = "20s"

[agent]
state_dir = "/tmp/agent-state"
report_interval = 60
spool_max_reports = 2000
spool_max_bytes = "100MiB"

[process_policy]
max_runtime = "2h"
max_rss = "2GiB"
dry_run = false
prohibited = ["xmrig", "/usr/bin/minerd"]
limits_min_uid = 1000
grace = 5

[[process_policy.exceptions]]
command = "backup.sh"
max_runtime = "12h"

[restart]
units = ["nginx.service"]
silence = "120s"
max_consecutive = 3

[actions]
enabled = ["restart_unit", "clean_logs"]
units = ["nginx.service", "php8.2-fpm.service"]
log_dirs = ["/var/log/nginx"]
collect_paths = ["/var/log/nginx", "/var/log/syslog"]
backup_command = ["/usr/local/bin/backup", "--now"]
"""


def test_full_file() -> None:
    config = parse(FULL, Path("agent.toml"))
    assert config.server_url == "https://leitstand.example.net"
    assert config.ca_file == Path("/etc/leitstand-agent/ca.pem")
    assert config.timeout == 20.0
    assert config.state_dir == Path("/tmp/agent-state")
    assert config.spool_max_bytes == 100 * 1024**2
    policy = config.processes.policy
    assert policy.max_runtime == timedelta(hours=2)
    assert policy.max_rss == 2 * 1024**3
    assert policy.prohibited == frozenset({"xmrig", "minerd"})
    assert policy.exceptions == (ProcessException("backup.sh", timedelta(hours=12), None),)
    assert config.processes.dry_run is False
    assert config.processes.grace == 5.0
    assert config.restart.units == ("nginx.service",)
    assert config.restart.policy.max_consecutive == 3
    assert config.actions.enabled == frozenset({"restart_unit", "clean_logs"})
    assert config.actions.log_dirs == (Path("/var/log/nginx"),)
    assert config.actions.backup_command == ("/usr/local/bin/backup", "--now")


def test_empty_file_is_safe_defaults() -> None:
    config = parse("", Path("agent.toml"))
    assert config.processes.dry_run is True  # nothing is killed until someone decides so
    assert config.processes.policy.max_runtime is None
    assert config.actions.enabled == frozenset()  # deny by default
    assert config.spool_max_reports * config.report_interval >= 24 * 3600


def test_the_shipped_example_loads() -> None:
    config = load(EXAMPLE)
    assert config.server_url.startswith("https://")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("[server\nurl=1", "agent.toml: not valid TOML", id="syntax"),
        pytest.param(
            '[server]\nurl = "ftp://x"',
            "agent.toml: server.url: expected an https:// URL",
            id="scheme",
        ),
        pytest.param(
            "[server]\nurle = 'https://x'",
            "agent.toml: server.urle: unknown key",
            id="misspelt-key",
        ),
        pytest.param("[serve]\n", "agent.toml: serve: unknown key", id="misspelt-table"),
        pytest.param(
            "[process_policy]\nmax_rss = '2 gigs'",
            "process_policy.max_rss: expected a size",
            id="bad-size",
        ),
        pytest.param(
            "[process_policy]\nmax_runtime = -5",
            "process_policy.max_runtime: a duration must not be negative",
            id="negative",
        ),
        pytest.param(
            "[process_policy]\ndry_run = 'no'",
            "process_policy.dry_run: expected true or false",
            id="bad-bool",
        ),
        pytest.param(
            "[process_policy]\nprohibited = ['xmrig']\n[[process_policy.exceptions]]\ncommand = 'xmrig'\nmax_rss = 1",
            "process_policy: the command 'xmrig' is both prohibited and excepted",
            id="excepted-and-prohibited",
        ),
        pytest.param(
            "[[process_policy.exceptions]]\ncommand = 'x'\n",
            "process_policy.exceptions[0]: the exception for 'x' names no limit",
            id="exception-without-limit",
        ),
        pytest.param(
            "[[process_policy.exceptions]]\ncommand = 'x'\nmax_rss = 1\nmax_cpu = 1\n",
            "process_policy.exceptions[0].max_cpu: unknown key",
            id="exception-unknown-key",
        ),
        pytest.param(
            "[actions]\nenabled = ['format_disk']",
            "actions.enabled: unknown action type 'format_disk'",
            id="unknown-action",
        ),
        pytest.param(
            "[actions]\nbackup_command = ['backup']",
            "actions.backup_command: the program must be an absolute path",
            id="relative-program",
        ),
        pytest.param(
            "[licences]\nuser_accounts = 'ldap'",
            "licences.user_accounts: expected 'passwd' or a command as an argument list",
            id="unknown-licence-source",
        ),
        pytest.param(
            "[licences]\nconcurrent_users = ['who']",
            "licences.concurrent_users: the program must be an absolute path",
            id="relative-licence-command",
        ),
        pytest.param(
            "[licences]\nseats = 'passwd'",
            "licences.seats: unknown key",
            id="unknown-licence-key",
        ),
        pytest.param(
            "[actions]\nbackup_stamp = 'backup-ok'",
            "actions.backup_stamp: expected an absolute path, got 'backup-ok'",
            id="relative-backup-stamp",
        ),
        pytest.param(
            "[actions]\nlog_dirs = ['var/log']",
            "actions.log_dirs: expected absolute paths",
            id="relative-log-dir",
        ),
        pytest.param(
            "[actions]\nunits = 'nginx'",
            "actions.units: expected a list of non-empty strings",
            id="units-not-list",
        ),
        pytest.param(
            "[agent]\nspool_max_reports = 0",
            "agent.spool_max_reports: must be at least 1",
            id="zero-spool",
        ),
        pytest.param("agent = 3", "agent: expected a table", id="table-not-table"),
    ],
)
def test_bad_file_names_file_key_and_problem(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(text, Path("agent.toml"))
    assert message in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.toml: file not found"):
        load(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (90, 90.0),
        ("90", 90.0),
        ("90s", 90.0),
        ("30m", 1800.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("500ms", 0.5),
        (1.5, 1.5),
    ],
)
def test_parse_duration(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    ("value", "size"),
    [(1024, 1024), ("512MiB", 512 * 1024**2), ("2GiB", 2 * 1024**3), ("1GB", 10**9), ("100", 100)],
)
def test_parse_size(value: object, size: int) -> None:
    assert parse_size(value) == size


@pytest.mark.parametrize("value", [True, "fast", "-1s", None])
def test_parse_duration_refuses(value: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(value)


@pytest.mark.parametrize(
    ("actions", "stamp"),
    [
        pytest.param("", None, id="no-backup-nothing-to-watch"),
        pytest.param(
            "backup_command = ['/usr/local/bin/backup']",
            Path("/tmp/agent-state/backup-ok"),
            id="run-by-the-agent",
        ),
        pytest.param(
            "backup_stamp = '/var/lib/backup/last-ok'",
            Path("/var/lib/backup/last-ok"),
            id="run-by-cron",
        ),
        pytest.param(
            "backup_command = ['/usr/local/bin/backup']\nbackup_stamp = '/srv/ok'",
            Path("/srv/ok"),
            id="both",
        ),
    ],
)
def test_backup_stamp(actions: str, stamp: Path | None) -> None:
    text = f"[agent]\nstate_dir = '/tmp/agent-state'\n[actions]\n{actions}\n"
    assert parse(text, Path("agent.toml")).actions.backup_stamp == stamp


def test_licence_sources() -> None:
    text = (
        "[licences]\nuser_accounts = ['/usr/local/bin/count-mailboxes', '--active']\n"
        "concurrent_users = 'sessions'\nmin_uid = 500\n"
    )
    licences = parse(text, Path("agent.toml")).licences
    assert licences.user_accounts == ("/usr/local/bin/count-mailboxes", "--active")
    assert licences.concurrent_users == "sessions"
    assert licences.min_uid == 500
    defaults = parse("", Path("agent.toml")).licences
    assert (defaults.user_accounts, defaults.concurrent_users) == (None, None)
