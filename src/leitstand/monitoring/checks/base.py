"""The check-type contract: parse parameters, probe the target, evaluate.

As in Checkmk's check plugins, the network I/O (``probe``) is separate from the
decision (``evaluate``): ``probe`` returns a plain typed observation and never
raises for network trouble, ``evaluate`` is a pure function of parameters and
observation, tested with tables of observations.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, lru_cache
from typing import Any, ClassVar, Generic, TypeVar

# Hostile targets: never read more than this from a peer, so one that sends
# gigabytes costs a bounded amount of memory and time.
MAX_BODY_BYTES = 1024 * 1024
MAX_BANNER_BYTES = 4096


class State(StrEnum):
    """Outcome of one check run (the Nagios/Checkmk states)."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Result:
    """What a check run found: a state, one line of English and numbers."""

    state: State
    summary: str
    metrics: dict[str, float] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)


class ParamsError(ValueError):
    """A check's stored parameters are invalid; the message names the field."""


P = TypeVar("P")
R = TypeVar("R")


class CheckType(ABC, Generic[P, R]):
    """One kind of check. Subclasses define ``Params`` (a frozen dataclass),
    ``parse_params``, ``probe`` and ``evaluate`` and register with
    ``@register("kind")``.
    """

    kind: ClassVar[str] = ""
    Params: ClassVar[type[Any]]

    @classmethod
    @abstractmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> P:
        """Validate the JSON stored on a ``Check``; raise ``ParamsError``."""

    @abstractmethod
    async def probe(self, params: P, timeout: float) -> R:
        """Talk to the target; network failures become part of the result."""

    @abstractmethod
    def evaluate(self, params: P, raw: R) -> Result:
        """Pure: turn an observation into a state and a summary."""


def describe_error(exc: BaseException) -> str:
    """One line of English for a network failure, e.g. for a summary."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or exc.reason or str(exc)
        return f"certificate verify failed: {reason}"
    if isinstance(exc, ssl.SSLError):
        # OpenSSL reasons read "WRONG_VERSION_NUMBER"; summaries are English.
        return f"TLS error: {(exc.reason or str(exc)).replace('_', ' ').lower()}"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host name: {exc.strerror or exc}"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by peer"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "connection closed by peer"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    text = str(exc).splitlines()[0].strip() if str(exc).strip() else ""
    return text or type(exc).__name__


@cache
def _system_context() -> ssl.SSLContext:
    # Loading the system trust store takes milliseconds; do it once.
    return ssl.create_default_context()


def client_ssl_context(*, verify: bool, ca_certificate: str | None) -> ssl.SSLContext:
    """A client TLS context: the system CAs, only ``ca_certificate`` (PEM) when
    given (a customer's private CA), or no verification at all.

    One context per distinct setting, shared by every run (nothing changes a
    context once made): building one, and parsing a CA's PEM for it, on every
    run cost more than the HTTP request over plain TCP.
    """
    return _client_ssl_context(verify, ca_certificate)


@lru_cache(maxsize=1024)
def _client_ssl_context(verify: bool, ca_certificate: str | None) -> ssl.SSLContext:
    if not verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if ca_certificate is not None:
        return ssl.create_default_context(cadata=ca_certificate)
    return _system_context()


def one_line(text: str, limit: int = 200) -> str:
    """Collapse whitespace, escape control characters (a peer's bytes end up
    in summaries) and cut: summaries are one short line.
    """
    if (
        text.isprintable()  # no control characters and no whitespace but " "
        and "  " not in text
        and text[:1] != " "
        and text[-1:] != " "
        and len(text) <= limit
    ):
        # Already one clean short line (nearly every summary): the same text,
        # without walking it character by character (~30 us per result).
        return text
    return _flatten(text, limit)


def _flatten(text: str, limit: int) -> str:
    """:func:`one_line` the long way, for any text."""
    flat = "".join(
        char if char.isprintable() else repr(char)[1:-1] for char in " ".join(text.split())
    )
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def grade_latency(latency_s: float, warning_s: float | None, critical_s: float | None) -> State:
    """OK, or WARNING/CRITICAL once a latency threshold is reached."""
    if critical_s is not None and latency_s >= critical_s:
        return State.CRITICAL
    if warning_s is not None and latency_s >= warning_s:
        return State.WARNING
    return State.OK


async def close_quietly(writer: asyncio.StreamWriter) -> None:
    """Close a connection without waiting long on a peer that will not answer,
    and without waiting at all once the deadline has cancelled the probe.
    """
    writer.close()
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        return
    with contextlib.suppress(OSError, TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), 0.5)


async def read_until(
    reader: asyncio.StreamReader,
    done: Callable[[bytes], bool],
    limit: int = MAX_BANNER_BYTES,
) -> bytes:
    """Read until ``done(data)``, end of stream or ``limit`` bytes, whichever
    comes first: a peer that sends an endless line costs at most ``limit``.
    """
    data = b""
    while len(data) < limit and not done(data):
        chunk = await reader.read(limit - len(data))
        if not chunk:
            break
        data += chunk
    return data


def printable(data: bytes, limit: int = 40) -> str:
    """The start of what a peer sent, safe for a summary: ``'220 mail\\r\\n'``."""
    shown = repr(data[:limit])[1:]  # b'...' -> '...'
    return shown + ("…" if len(data) > limit else "")


def latency_note(state: State, warning_s: float | None, critical_s: float | None) -> str:
    """`` (warning at 1 s)`` after a latency that reached a threshold."""
    if state is State.CRITICAL:
        return f" (critical at {critical_s:g} s)"
    if state is State.WARNING:
        return f" (warning at {warning_s:g} s)"
    return ""


def explain(received: bytes, error: str | None, silence: str) -> str:
    """Why no proper answer came: the error, what came instead, or silence."""
    if error is not None:
        return error
    if received:
        return f"got {printable(received)}"
    return silence
