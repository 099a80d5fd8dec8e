"""Remote actions: verify exactly per the protocol, then run without a shell.

Protocol, "Remote actions": the agent refuses "an action whose signature is
wrong, whose ``expires_at`` is past or more than 5 minutes ahead, whose nonce
it has seen before, or whose type or parameters are not allowed on this host.
Types (deny by default; the host's config enables each)". "No action runs a
shell; commands are argument lists."

What the actions are for: seed 004, on-call duty, "Überprüfen auf
Ressourcenmangel, ggfs. Löschen alter Logfiles" (``clean_logs``), "Sichern und
Auswerten der Logfiles" (``collect_logs``), "Überprüfung auf
»hängengebliebene Prozesse«, ggfs. manuelles Beenden dieser Prozesse"
(``kill_pid``), "Kontrollierter Neustart von Webserver, Applikationsserver und
Datenbankserver" (``restart_unit``).

Each type is one executor registered with :func:`executor`: ``prepare`` checks
the parameters against the configuration (and refuses) before anything runs,
the returned callable runs it (and fails).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import re
import signal
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

from leitstand_agent import cmd
from leitstand_agent.config import ActionSettings
from leitstand_agent.processes import is_protected
from leitstand_agent.state import State

MAX_AHEAD = timedelta(minutes=5)
MAX_OUTPUT = 64 * 1024
_NONCE = re.compile(r"^[A-Za-z0-9_-]{22,128}$")
_SNAPSHOT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$")
# Signals on-call staff need for a hung process; not STOP/CONT games or RT signals.
ALLOWED_SIGNALS = frozenset(
    {
        signal.SIGTERM,
        signal.SIGKILL,
        signal.SIGHUP,
        signal.SIGINT,
        signal.SIGQUIT,
        signal.SIGUSR1,
        signal.SIGUSR2,
    }
)


class Rejected(Exception):
    """The action is refused before anything runs; the message is the reason."""


class Failed(Exception):
    """The action ran and did not succeed; the message is its output."""


@dataclass(frozen=True)
class Context:
    """What an executor may use: the host's allow-lists and the command runner."""

    settings: ActionSettings
    run: Callable[..., cmd.CommandResult] = cmd.run
    which: Callable[[str], str | None] = cmd.which


Prepared = Callable[[], str]
Prepare = Callable[[dict[str, Any], Context], Prepared]
_EXECUTORS: dict[str, Prepare] = {}


def executor(action_type: str) -> Callable[[Prepare], Prepare]:
    """Register the ``prepare`` function of one action type."""

    def register(prepare: Prepare) -> Prepare:
        _EXECUTORS[action_type] = prepare
        return prepare

    return register


def canonical(action: dict[str, Any], host_id: int) -> bytes:
    """The signed bytes: canonical JSON of host_id, id, type, params, nonce, expires_at."""
    signed = {
        "host_id": host_id,
        "id": action.get("id"),
        "type": action.get("type"),
        "params": action.get("params"),
        "nonce": action.get("nonce"),
        "expires_at": action.get("expires_at"),
    }
    return json.dumps(signed, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(action: dict[str, Any], host_id: int, action_key: str) -> str:
    """Hex HMAC-SHA256 with ``action_key`` (its UTF-8 bytes) over :func:`canonical`."""
    return hmac.new(
        action_key.encode("utf-8"), canonical(action, host_id), hashlib.sha256
    ).hexdigest()


def _instant(value: Any) -> datetime:
    if not isinstance(value, str):
        raise Rejected("expires_at is not a string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Rejected(f"expires_at is not an ISO 8601 instant: {value!r}") from None
    if moment.utcoffset() is None:
        raise Rejected(f"expires_at carries no UTC offset: {value!r}")
    return moment


def verify(
    action: dict[str, Any], *, host_id: int, action_key: str, state: State, now: datetime
) -> None:
    """Raise :class:`Rejected` unless the action is authentic, current and new.

    Order: shape, signature, expiry, nonce. The nonce is remembered only for
    authentic, current actions, so forged ones cannot fill the store.
    """
    if not isinstance(action.get("id"), int) or isinstance(action.get("id"), bool):
        raise Rejected("id is not an integer")
    if not isinstance(action.get("type"), str):
        raise Rejected("type is not a string")
    if not isinstance(action.get("params"), dict):
        raise Rejected("params is not an object")
    nonce = action.get("nonce")
    if not isinstance(nonce, str) or not _NONCE.match(nonce):
        raise Rejected("nonce is not 22+ characters of base64url")
    signature = action.get("signature")
    if not isinstance(signature, str):
        raise Rejected("signature missing")
    if not action_key:
        raise Rejected("this agent holds no action key (not enrolled)")
    expected = sign(action, host_id, action_key)
    if not hmac.compare_digest(expected, signature.lower()):
        raise Rejected("signature is wrong")
    expires = _instant(action.get("expires_at"))
    if expires <= now:
        raise Rejected(f"expired at {action['expires_at']}")
    if expires - now > MAX_AHEAD:
        raise Rejected(f"expires_at {action['expires_at']} is more than 5 minutes ahead")
    if state.seen_nonce(nonce, expires.timestamp(), now.timestamp()):
        raise Rejected("nonce seen before (replay)")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def handle(
    action: dict[str, Any],
    *,
    host_id: int,
    action_key: str,
    state: State,
    context: Context,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """Verify and run one action; the body of ``POST actions/{id}/result``."""
    started = now()
    try:
        verify(action, host_id=host_id, action_key=action_key, state=state, now=started)
        action_type = action["type"]
        prepare = _EXECUTORS.get(action_type)
        if prepare is None:
            raise Rejected(f"unknown action type {action_type!r}")
        if action_type not in context.settings.enabled:
            raise Rejected(f"action type {action_type!r} is not enabled on this host")
        run = prepare(action["params"], context)
    except Rejected as exc:
        return {
            "status": "rejected",
            "output": str(exc),
            "started_at": _stamp(started),
            "finished_at": _stamp(now()),
        }
    started = now()
    try:
        output, status = run(), "done"
    except Failed as exc:
        output, status = str(exc), "failed"
    except (OSError, cmd.CommandError, psutil.Error) as exc:
        output, status = f"{type(exc).__name__}: {exc}", "failed"
    return {
        "status": status,
        "output": _cap(output),
        "started_at": _stamp(started),
        "finished_at": _stamp(now()),
    }


def _cap(text: str) -> str:
    # The end of a command's output says why it failed; keep that part.
    if len(text) <= MAX_OUTPUT:
        return text
    return "[...]\n" + text[-MAX_OUTPUT:]


# --- parameter checks ---------------------------------------------------------


def _keys(params: dict[str, Any], *names: str) -> None:
    extra = sorted(set(params) - set(names))
    if extra:
        raise Rejected(f"unexpected parameter(s): {', '.join(extra)}")
    missing = [n for n in names if n not in params]
    if missing:
        raise Rejected(f"missing parameter(s): {', '.join(missing)}")


def _integer(params: dict[str, Any], name: str) -> int:
    value = params[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise Rejected(f"{name} is not an integer")
    return int(value)


def contained_path(raw: Any, roots: tuple[Path, ...], what: str) -> Path:
    """``raw`` resolved, if it lies in (or is) one of ``roots``; else :class:`Rejected`.

    ``..`` is refused outright and symlinks are resolved before the check, so
    neither ``/var/log/../../etc`` nor a link in a log dir pointing at ``/etc``
    escapes.
    """
    if not isinstance(raw, str) or not raw.startswith("/"):
        raise Rejected(f"{what} must be an absolute path")
    if ".." in Path(raw).parts or "\x00" in raw:
        raise Rejected(f"{what} {raw!r} contains '..'")
    if not roots:
        raise Rejected(f"no {what} is configured on this host")
    resolved = Path(os.path.realpath(raw))
    for root in roots:
        real_root = Path(os.path.realpath(root))
        if resolved == real_root or resolved.is_relative_to(real_root):
            return resolved
    raise Rejected(f"{what} {raw!r} is not under a configured directory")


def _command_output(result: cmd.CommandResult) -> str:
    text = result.text + result.stderr.decode("utf-8", errors="replace")
    if result.returncode != 0:
        raise Failed(f"{' '.join(result.argv)} exited with {result.returncode}\n{text}")
    return text


# --- executors ----------------------------------------------------------------


@executor("restart_unit")
def _restart_unit(params: dict[str, Any], context: Context) -> Prepared:
    _keys(params, "unit")
    unit = params["unit"]
    if not isinstance(unit, str) or unit not in context.settings.units:
        raise Rejected(f"unit {unit!r} is not in this host's allow-list")
    systemctl = context.which("systemctl")
    if systemctl is None:
        raise Rejected("systemctl is not installed")

    def run() -> str:
        return _command_output(context.run([systemctl, "restart", "--", unit], timeout=300.0))

    return run


@executor("clean_logs")
def _clean_logs(params: dict[str, Any], context: Context) -> Prepared:
    _keys(params, "directory", "older_than_days")
    directory = contained_path(params["directory"], context.settings.log_dirs, "directory")
    days = _integer(params, "older_than_days")
    if days < 1:
        raise Rejected("older_than_days must be at least 1")

    def run() -> str:
        return clean_logs(directory, time.time() - days * 86400)

    return run


def clean_logs(directory: Path, cutoff: float) -> str:
    """Delete regular files under ``directory`` last modified before ``cutoff``.

    ``os.fwalk`` with directory descriptors and no symlink following: a link
    planted in a log directory leads nowhere, and a directory swapped for a
    link between check and delete is not followed either.
    """
    removed = freed = 0
    for _root, _dirs, files, root_fd in os.fwalk(directory, follow_symlinks=False):
        for name in files:
            try:
                info = os.stat(name, dir_fd=root_fd, follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                    os.unlink(name, dir_fd=root_fd)
                    removed += 1
                    freed += info.st_size
            except FileNotFoundError:
                continue  # rotated away meanwhile
    return f"removed {removed} file(s), {freed} bytes, from {directory}"


@executor("collect_logs")
def _collect_logs(params: dict[str, Any], context: Context) -> Prepared:
    _keys(params, "paths")
    raw = params["paths"]
    if not isinstance(raw, list) or not raw:
        raise Rejected("paths must be a non-empty list")
    paths = [contained_path(p, context.settings.collect_paths, "path") for p in raw]
    cap = context.settings.collect_max_bytes

    def run() -> str:
        return collect_logs(paths, cap)

    return run


def collect_logs(paths: list[Path], max_bytes: int) -> str:
    """A base64 tar.gz of ``paths``; :class:`Failed` if larger than ``max_bytes``.

    Symlinks are stored as links, never followed. Logs compress about tenfold,
    so input beyond 20 x the cap is refused before compressing gigabytes.
    """
    total = 0
    for path in paths:
        for root, _dirs, files in (
            os.walk(path) if path.is_dir() else [(str(path.parent), [], [path.name])]
        ):
            for name in files:
                info = os.lstat(os.path.join(root, name))
                if stat.S_ISREG(info.st_mode):
                    total += info.st_size
    if total > 20 * max_bytes:
        raise Failed(f"{total} bytes of logs: more than 20 x the cap of {max_bytes} bytes")
    # Imported here: tarfile and its compressors cost the resident agent ~2 MB.
    import tarfile  # noqa: PLC0415

    buffer = io.BytesIO()
    try:
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for path in paths:
                archive.add(path, arcname=str(path).lstrip("/"), recursive=True)
    except tarfile.TarError as exc:
        raise Failed(f"cannot archive: {exc}") from None
    if buffer.tell() > max_bytes:
        raise Failed(f"the archive has {buffer.tell()} bytes, more than the cap of {max_bytes}")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def parse_signal(value: Any) -> signal.Signals:
    """``"SIGTERM"``, ``"TERM"`` or ``15`` -> ``signal.SIGTERM``, if allowed."""
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            sig = signal.Signals(value)
        elif isinstance(value, str):
            name = value.upper()
            sig = signal.Signals[name if name.startswith("SIG") else f"SIG{name}"]
        else:
            raise Rejected(f"signal {value!r} is neither a name nor a number")
    except (KeyError, ValueError):
        raise Rejected(f"unknown signal {value!r}") from None
    if sig not in ALLOWED_SIGNALS:
        raise Rejected(f"signal {sig.name} is not allowed")
    return sig


@executor("kill_pid")
def _kill_pid(params: dict[str, Any], context: Context) -> Prepared:
    del context
    _keys(params, "pid", "signal")
    pid = _integer(params, "pid")
    sig = parse_signal(params["signal"])
    try:
        proc = psutil.Process(pid)
        name = proc.name()
    except psutil.NoSuchProcess:
        raise Rejected(f"no process {pid}") from None
    except psutil.Error as exc:
        raise Rejected(f"process {pid}: {exc}") from None
    if is_protected(proc):
        raise Rejected(f"process {pid} ({name}) is protected: init, a kernel thread or the agent")

    def run() -> str:
        try:
            proc.send_signal(sig)  # psutil refuses a PID reused since we looked
        except psutil.NoSuchProcess:
            raise Failed(f"process {pid} ({name}) has exited") from None
        return f"sent {sig.name} to {pid} ({name})"

    return run


def _no_params(params: dict[str, Any]) -> None:
    if params:
        raise Rejected(f"unexpected parameter(s): {', '.join(sorted(params))}")


def _run_all(
    context: Context, commands: list[tuple[str, ...]], env: dict[str, str] | None = None
) -> str:
    outputs = []
    for argv in commands:
        result = context.run(list(argv), timeout=context.settings.timeout, env=env)
        outputs.append(_command_output(result))
    return "\n".join(outputs)


@executor("run_updates")
def _run_updates(params: dict[str, Any], context: Context) -> Prepared:
    _no_params(params)
    commands = list(context.settings.update_commands)
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    if not commands:
        apt_get, dnf = context.which("apt-get"), context.which("dnf")
        if apt_get:
            commands = [
                (apt_get, "-q", "update"),
                (apt_get, "-q", "-y", "-o", "Dpkg::Options::=--force-confold", "upgrade"),
            ]
        elif dnf:
            commands = [(dnf, "-q", "-y", "upgrade")]
        else:
            raise Rejected("no update command configured and neither apt-get nor dnf found")

    def run() -> str:
        return _run_all(context, commands, env)

    return run


@executor("run_backup")
def _run_backup(params: dict[str, Any], context: Context) -> Prepared:
    _no_params(params)
    command = context.settings.backup_command
    if not command:
        raise Rejected("no backup_command is configured on this host")

    stamp = context.settings.backup_stamp

    def run() -> str:
        output = _run_all(context, [command])  # raises Failed unless the command succeeded
        if stamp is not None:
            # The end of a good backup; its age is the report's backup_age_s.
            # The backup is done either way: a stamp that cannot be written is
            # said in the output, and the age then grows until someone looks.
            try:
                stamp.parent.mkdir(parents=True, exist_ok=True)
                stamp.touch()
            except OSError as exc:
                output += f"\nthe backup stamp {stamp} could not be written: {exc}"
        return output

    return run


@executor("run_restore")
def _run_restore(params: dict[str, Any], context: Context) -> Prepared:
    _keys(params, "snapshot", "target")
    snapshot = params["snapshot"]
    if not isinstance(snapshot, str) or not _SNAPSHOT.match(snapshot):
        raise Rejected(f"snapshot {snapshot!r} is not a snapshot name")
    target = contained_path(params["target"], context.settings.restore_targets, "target")
    template = context.settings.restore_command
    if not template:
        raise Rejected("no restore_command is configured on this host")
    # Placeholders are replaced inside single arguments: no shell, no splitting.
    argv = tuple(
        arg.replace("{snapshot}", snapshot).replace("{target}", str(target)) for arg in template
    )

    def run() -> str:
        return _run_all(context, [argv])

    return run
