"""Running verified actions: allow-lists, path containment, no shell, results.

Seed 004 (on-call duty): "ggfs. Löschen alter Logfiles", "Sichern und Auswerten
der Logfiles", "ggfs. manuelles Beenden dieser Prozesse", "Kontrollierter
Neustart von Webserver, Applikationsserver und Datenbankserver".
"""

from __future__ import annotations

import base64
import io
import os
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from leitstand_agent import cmd
from leitstand_agent.actions import Context, handle, sign
from leitstand_agent.config import ACTION_TYPES, ActionSettings
from leitstand_agent.state import State

HOST_ID = 17
KEY = "K" * 43
DAY = 86400


def execute(
    action_type: str,
    params: dict[str, Any],
    settings: ActionSettings,
    tmp_path: Path,
    **context: Any,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    action: dict[str, Any] = {
        "id": 1,
        "type": action_type,
        "params": params,
        "nonce": base64.urlsafe_b64encode(os.urandom(18)).decode(),
        "expires_at": (now + timedelta(minutes=1)).isoformat(),
    }
    action["signature"] = sign(action, HOST_ID, KEY)
    state = State(tmp_path / "state.json")
    return handle(
        action, host_id=HOST_ID, action_key=KEY, state=state, context=Context(settings, **context)
    )


def allow(**kwargs: Any) -> ActionSettings:
    return ActionSettings(enabled=ACTION_TYPES, **kwargs)


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """A log dir with old and new files, a subdir, and links pointing outside it."""
    root = tmp_path / "var-log"
    (root / "nginx").mkdir(parents=True)
    outside = tmp_path / "etc"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0\n")
    os.utime(outside / "passwd", (time.time() - 100 * DAY,) * 2)
    old = time.time() - 30 * DAY
    for name in ("nginx/access.log.5.gz", "nginx/error.log.4.gz", "app.log.1"):
        (root / name).write_text("old\n")
        os.utime(root / name, (old, old))
    (root / "nginx/access.log").write_text("new\n")
    (root / "nginx/passwd-link").symlink_to(outside / "passwd")
    (root / "etc-link").symlink_to(outside)
    return root


def test_clean_logs_deletes_old_regular_files_only(tmp_path: Path, logs: Path) -> None:
    result = execute(
        "clean_logs",
        {"directory": str(logs), "older_than_days": 7},
        allow(log_dirs=(logs,)),
        tmp_path,
    )
    assert result["status"] == "done"
    assert result["output"] == f"removed 3 file(s), 12 bytes, from {logs}"
    left = sorted(str(p.relative_to(logs)) for p in logs.rglob("*"))
    assert left == ["etc-link", "nginx", "nginx/access.log", "nginx/passwd-link"]
    assert (
        tmp_path / "etc" / "passwd"
    ).exists()  # not through the file link, not through the dir link


def test_clean_logs_in_a_subdirectory(tmp_path: Path, logs: Path) -> None:
    result = execute(
        "clean_logs",
        {"directory": str(logs / "nginx"), "older_than_days": 7},
        allow(log_dirs=(logs,)),
        tmp_path,
    )
    assert result["output"] == f"removed 2 file(s), 8 bytes, from {logs / 'nginx'}"
    assert (logs / "app.log.1").exists()


@pytest.mark.parametrize(
    ("directory", "reason"),
    [
        pytest.param("{logs}/../etc", "contains '..'", id="dotdot"),
        pytest.param("{logs}/nginx/../../etc", "contains '..'", id="dotdot-deep"),
        pytest.param("{logs}/etc-link", "is not under a configured directory", id="symlink-escape"),
        pytest.param("{tmp}/etc", "is not under a configured directory", id="outside"),
        pytest.param(
            "{logs}-other", "is not under a configured directory", id="prefix-is-not-containment"
        ),
        pytest.param("var-log", "must be an absolute path", id="relative"),
    ],
)
def test_clean_logs_refuses_directories_outside(
    tmp_path: Path, logs: Path, directory: str, reason: str
) -> None:
    (tmp_path / "var-log-other").mkdir()
    directory = directory.format(logs=logs, tmp=tmp_path)
    result = execute(
        "clean_logs",
        {"directory": directory, "older_than_days": 1},
        allow(log_dirs=(logs,)),
        tmp_path,
    )
    assert (result["status"], reason in result["output"]) == ("rejected", True), result["output"]
    assert (tmp_path / "etc" / "passwd").exists()


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"directory": "/x", "older_than_days": 0}, "no directory is configured"),
        ({"directory": "/x"}, "missing parameter(s): older_than_days"),
    ],
)
def test_clean_logs_without_configured_dirs(
    tmp_path: Path, params: dict[str, Any], reason: str
) -> None:
    result = execute("clean_logs", params, allow(), tmp_path)
    assert result["status"] == "rejected"
    assert reason in result["output"]


@pytest.mark.parametrize("days", [0, -1, True, "7"])
def test_clean_logs_refuses_bad_age(tmp_path: Path, logs: Path, days: Any) -> None:
    result = execute(
        "clean_logs",
        {"directory": str(logs), "older_than_days": days},
        allow(log_dirs=(logs,)),
        tmp_path,
    )
    assert result["status"] == "rejected"
    assert len(list(logs.rglob("*"))) == 7


def test_collect_logs_returns_a_tar_gz(tmp_path: Path, logs: Path) -> None:
    settings = allow(collect_paths=(logs / "nginx", logs / "app.log.1"))
    result = execute(
        "collect_logs",
        {"paths": [str(logs / "nginx"), str(logs / "app.log.1")]},
        settings,
        tmp_path,
    )
    assert result["status"] == "done"
    with tarfile.open(
        fileobj=io.BytesIO(base64.b64decode(result["output"])), mode="r:gz"
    ) as archive:
        members = {
            m.name.removeprefix(str(logs).lstrip("/") + "/"): m for m in archive.getmembers()
        }
        assert archive.extractfile(members["nginx/access.log"]).read() == b"new\n"  # type: ignore[union-attr]
    assert members["nginx/passwd-link"].issym()  # stored as a link, /etc/passwd not read
    assert "app.log.1" in members


def test_collect_logs_refuses_unconfigured_paths(tmp_path: Path, logs: Path) -> None:
    settings = allow(collect_paths=(logs / "nginx",))
    for path in (
        str(logs / "app.log.1"),
        str(logs / "nginx" / "passwd-link"),
        f"{logs}/nginx/../app.log.1",
    ):
        result = execute("collect_logs", {"paths": [path]}, settings, tmp_path)
        assert result["status"] == "rejected", path


def test_collect_logs_cap(tmp_path: Path) -> None:
    big = tmp_path / "big.log"
    big.write_bytes(os.urandom(200_000))  # random bytes do not compress
    result = execute(
        "collect_logs",
        {"paths": [str(big)]},
        allow(collect_paths=(big,), collect_max_bytes=100_000),
        tmp_path,
    )
    assert result["status"] == "failed"
    assert "more than the cap of 100000" in result["output"]


@pytest.fixture
def child() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "30"])
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_kill_pid_on_own_child(tmp_path: Path, child: subprocess.Popen[bytes]) -> None:
    result = execute("kill_pid", {"pid": child.pid, "signal": "TERM"}, allow(), tmp_path)
    assert (result["status"], result["output"]) == ("done", f"sent SIGTERM to {child.pid} (sleep)")
    assert child.wait(timeout=5) == -signal.SIGTERM


@pytest.mark.parametrize(
    ("pid", "sig", "reason"),
    [
        (1, "SIGTERM", "process 1 "),
        ("self", "SIGTERM", "is protected"),
        ("child", "SIGSTOP", "signal SIGSTOP is not allowed"),
        ("child", "SIGNOPE", "unknown signal 'SIGNOPE'"),
        ("child", 9.0, "neither a name nor a number"),
        ("child", 64, "is not allowed"),
        ("5", "SIGTERM", "pid is not an integer"),
    ],
)
def test_kill_pid_refused(
    tmp_path: Path, child: subprocess.Popen[bytes], pid: Any, sig: Any, reason: str
) -> None:
    pid = {"self": os.getpid(), "child": child.pid}.get(pid, pid)
    result = execute("kill_pid", {"pid": pid, "signal": sig}, allow(), tmp_path)
    assert result["status"] == "rejected"
    assert reason in result["output"]
    assert child.poll() is None


def test_kill_pid_accepts_numbers(tmp_path: Path, child: subprocess.Popen[bytes]) -> None:
    result = execute("kill_pid", {"pid": child.pid, "signal": 9}, allow(), tmp_path)
    assert result["status"] == "done"
    assert child.wait(timeout=5) == -signal.SIGKILL


class Recorder:
    """Records the argument lists it is asked to run, and answers like a program would."""

    def __init__(self, returncode: int = 0, output: str = "ok\n") -> None:
        self.calls: list[tuple[list[str], dict[str, Any]]] = []
        self.returncode = returncode
        self.output = output

    def run(self, argv: Sequence[str], **kwargs: Any) -> cmd.CommandResult:
        self.calls.append((list(argv), kwargs))
        return cmd.CommandResult(tuple(argv), self.returncode, self.output.encode(), b"", False)


def test_restart_unit_runs_systemctl_with_an_argument_list(tmp_path: Path) -> None:
    recorder = Recorder()
    settings = allow(units=("nginx.service",))
    result = execute(
        "restart_unit",
        {"unit": "nginx.service"},
        settings,
        tmp_path,
        run=recorder.run,
        which=lambda p: f"/usr/bin/{p}",
    )
    assert result["status"] == "done"
    assert [c[0] for c in recorder.calls] == [
        ["/usr/bin/systemctl", "restart", "--", "nginx.service"]
    ]


def test_failing_command_is_failed_with_its_output(tmp_path: Path) -> None:
    recorder = Recorder(returncode=1, output="Job for nginx.service failed.\n")
    settings = allow(units=("nginx.service",))
    result = execute(
        "restart_unit",
        {"unit": "nginx.service"},
        settings,
        tmp_path,
        run=recorder.run,
        which=lambda p: f"/usr/bin/{p}",
    )
    assert result["status"] == "failed"
    assert "exited with 1" in result["output"]
    assert "Job for nginx.service failed." in result["output"]


def test_run_backup_runs_the_configured_command(tmp_path: Path) -> None:
    settings = allow(backup_command=(sys.executable, "-c", "print('backup done')"))
    result = execute("run_backup", {}, settings, tmp_path)
    assert (result["status"], result["output"]) == ("done", "backup done\n")


def test_a_successful_backup_touches_its_stamp(tmp_path: Path) -> None:
    stamp = tmp_path / "stamps" / "backup-ok"
    settings = allow(backup_command=(sys.executable, "-c", "print('ok')"), backup_stamp=stamp)
    before = time.time()
    assert execute("run_backup", {}, settings, tmp_path)["status"] == "done"
    assert stamp.stat().st_mtime >= before - 1
    # the next good run moves it on
    os.utime(stamp, (before - 2 * DAY, before - 2 * DAY))
    assert execute("run_backup", {}, settings, tmp_path)["status"] == "done"
    assert stamp.stat().st_mtime >= before - 1


def test_a_failed_backup_leaves_its_stamp_alone(tmp_path: Path) -> None:
    stamp = tmp_path / "backup-ok"
    stamp.touch()
    old = time.time() - 2 * DAY
    os.utime(stamp, (old, old))
    settings = allow(
        backup_command=(sys.executable, "-c", "raise SystemExit('repository locked')"),
        backup_stamp=stamp,
    )
    result = execute("run_backup", {}, settings, tmp_path)
    assert result["status"] == "failed"
    assert "repository locked" in result["output"]
    assert stamp.stat().st_mtime == pytest.approx(old)


def test_a_stamp_that_cannot_be_written_does_not_undo_the_backup(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the stamp's directory should be")
    settings = allow(
        backup_command=(sys.executable, "-c", "print('snapshot 3355b3ac saved')"),
        backup_stamp=blocker / "backup-ok",
    )
    result = execute("run_backup", {}, settings, tmp_path)
    assert result["status"] == "done"
    assert result["output"].startswith("snapshot 3355b3ac saved\n")
    assert f"the backup stamp {blocker / 'backup-ok'} could not be written" in result["output"]


def test_run_backup_needs_a_command(tmp_path: Path) -> None:
    assert (
        execute("run_backup", {}, allow(), tmp_path)["output"]
        == "no backup_command is configured on this host"
    )
    assert (
        "unexpected parameter"
        in execute("run_backup", {"x": 1}, allow(backup_command=("/bin/true",)), tmp_path)["output"]
    )


def test_run_restore_substitutes_inside_arguments(tmp_path: Path) -> None:
    target = tmp_path / "www"
    target.mkdir()
    settings = allow(
        restore_command=(
            sys.executable,
            "-c",
            "import sys; print(sys.argv[1:])",
            "--snapshot={snapshot}",
            "{target}",
        ),
        restore_targets=(target,),
    )
    result = execute(
        "run_restore",
        {"snapshot": "2026-11-21T03:00:00", "target": str(target / "site")},
        settings,
        tmp_path,
    )
    assert result["status"] == "done"
    assert result["output"] == f"['--snapshot=2026-11-21T03:00:00', '{target / 'site'}']\n"


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"snapshot": "x; rm -rf /", "target": "{target}"}, "is not a snapshot name"),
        ({"snapshot": "-rf", "target": "{target}"}, "is not a snapshot name"),
        ({"snapshot": "snap1", "target": "/etc"}, "is not under a configured directory"),
        ({"snapshot": "snap1"}, "missing parameter(s): target"),
    ],
)
def test_run_restore_refused(tmp_path: Path, params: dict[str, Any], reason: str) -> None:
    target = tmp_path / "www"
    target.mkdir()
    params = {k: v.format(target=target) for k, v in params.items()}
    settings = allow(
        restore_command=("/bin/echo", "{snapshot}", "{target}"), restore_targets=(target,)
    )
    result = execute("run_restore", params, settings, tmp_path)
    assert result["status"] == "rejected"
    assert reason in result["output"]


def test_run_updates_runs_configured_commands_in_order(tmp_path: Path) -> None:
    recorder = Recorder()
    settings = allow(
        update_commands=(("/usr/bin/apt-get", "update"), ("/usr/bin/apt-get", "-y", "upgrade"))
    )
    result = execute("run_updates", {}, settings, tmp_path, run=recorder.run)
    assert result["status"] == "done"
    assert [c[0] for c in recorder.calls] == [
        ["/usr/bin/apt-get", "update"],
        ["/usr/bin/apt-get", "-y", "upgrade"],
    ]
    assert recorder.calls[0][1]["env"] == {"DEBIAN_FRONTEND": "noninteractive"}


def test_run_updates_default_uses_the_package_manager(tmp_path: Path) -> None:
    recorder = Recorder()
    result = execute(
        "run_updates",
        {},
        allow(),
        tmp_path,
        run=recorder.run,
        which=lambda p: "/usr/bin/dnf" if p == "dnf" else None,
    )
    assert result["status"] == "done"
    assert [c[0] for c in recorder.calls] == [["/usr/bin/dnf", "-q", "-y", "upgrade"]]


def test_output_is_capped_to_its_end(tmp_path: Path) -> None:
    settings = allow(backup_command=(sys.executable, "-c", "print('a' * 200000 + 'END')"))
    result = execute("run_backup", {}, settings, tmp_path)
    assert result["output"].startswith("[...]\n")
    assert result["output"].endswith("END\n")
    assert len(result["output"]) <= 64 * 1024 + 10
