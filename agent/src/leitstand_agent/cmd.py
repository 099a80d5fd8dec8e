"""Running external programs: argument lists, a deadline and an output cap.

The agent runs as root on customers' servers, so no command ever goes through
a shell, no command may hang the agent, and no command may fill its memory.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_BYTES = 8 * 1024 * 1024


class CommandError(Exception):
    """The program is missing, did not finish in time, or could not be started."""


@dataclass(frozen=True)
class CommandResult:
    """What a finished program left: exit status, output, and whether output was cut."""

    argv: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes
    truncated: bool

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")


def which(program: str) -> str | None:
    """The program's path if installed; system directories first, whatever PATH says."""
    path = os.pathsep.join(
        [
            "/usr/local/sbin",
            "/usr/local/bin",
            "/usr/sbin",
            "/usr/bin",
            "/sbin",
            "/bin",
            os.environ.get("PATH", ""),
        ]
    )
    return shutil.which(program, path=path)


def run(
    argv: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    env: Mapping[str, str] | None = None,
) -> CommandResult:
    """Run ``argv`` (no shell) and collect at most ``max_bytes`` of stdout and stderr each.

    A program that prints more is killed and the result marked truncated: the
    caller decides whether a cut output is still of use. A program still running
    at ``timeout`` is killed and :class:`CommandError` raised.
    """
    if not argv:
        raise CommandError("empty command")
    # C locale: parsers read English, dot-decimal output.
    full_env = {"LC_ALL": "C", "LANG": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    full_env.update(env or {})
    try:
        proc = subprocess.Popen(  # noqa: S603 - an argument list, never a shell
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=full_env,
            close_fds=True,
            start_new_session=True,
        )
    except OSError as exc:
        raise CommandError(f"{argv[0]}: cannot start: {exc.strerror or exc}") from None
    assert proc.stdout is not None
    assert proc.stderr is not None
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    buffers = {out_fd: bytearray(), err_fd: bytearray()}
    truncated = False
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        selector.register(proc.stderr, selectors.EVENT_READ)
        try:
            while selector.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    _kill(proc)
                    raise CommandError(f"{argv[0]}: no answer within {timeout:g} s")
                for key, _ in selector.select(remaining):
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        selector.unregister(key.fileobj)
                        continue
                    buffer = buffers[key.fd]
                    buffer += chunk
                    if len(buffer) > max_bytes:
                        del buffer[max_bytes:]
                        truncated = True
                if truncated:
                    _kill(proc)
                    break
            returncode = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill(proc)
            raise CommandError(f"{argv[0]}: did not exit within {timeout:g} s") from None
        finally:
            proc.stdout.close()
            proc.stderr.close()
    return CommandResult(
        tuple(argv),
        returncode,
        bytes(buffers[out_fd]),
        bytes(buffers[err_fd]),
        truncated,
    )


def _kill(proc: subprocess.Popen[bytes]) -> None:
    # The whole session: a program's own children must not outlive the deadline.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
