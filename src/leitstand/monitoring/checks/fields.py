"""Readers for the JSON parameters stored on a ``Check``.

Each reader takes the raw mapping and a field name and returns a typed value or
raises ``ParamsError`` naming the field, so an operator who mistypes a
parameter learns which one, when the check is saved rather than at 3 a.m.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Mapping
from typing import Any

from leitstand.monitoring.checks.base import ParamsError


def only(raw: Mapping[str, Any], allowed: Iterable[str]) -> Mapping[str, Any]:
    """Reject anything that is not a JSON object or that has unknown keys
    (a typo such as ``"warn_days"`` must not silently fall back to a default).
    """
    if not isinstance(raw, Mapping):
        raise ParamsError("parameters must be a JSON object")
    names = sorted(allowed)
    unknown = sorted(str(key) for key in raw if key not in names)
    if unknown:
        raise ParamsError(f"unknown parameter {unknown[0]!r}; expected some of: {', '.join(names)}")
    return raw


def text(raw: Mapping[str, Any], name: str) -> str:
    """A required non-empty string."""
    value = optional_text(raw, name)
    if value is None:
        raise ParamsError(f"{name}: required")
    return value


def optional_text(raw: Mapping[str, Any], name: str, default: str | None = None) -> str | None:
    """A non-empty string, or ``default`` when absent or null."""
    value = raw.get(name)
    if value is None:
        return default
    if not isinstance(value, str) or not value.strip():
        raise ParamsError(f"{name}: must be a non-empty string")
    return value


def host(raw: Mapping[str, Any], name: str = "host") -> str:
    """A required host name or IP address."""
    value = optional_host(raw, name)
    if value is None:
        raise ParamsError(f"{name}: required")
    return value


def optional_host(raw: Mapping[str, Any], name: str) -> str | None:
    """A host name or IP address, or None when absent. No whitespace: a name
    such as ``helo_name`` goes into a protocol line, where CR LF would start a
    command of its own.
    """
    value = optional_text(raw, name)
    if value is None:
        return None
    value = value.strip()
    if any(char.isspace() or char in "/@?#" or not char.isprintable() for char in value):
        raise ParamsError(f"{name}: {value!r} is not a host name or IP address")
    return value


def integer(raw: Mapping[str, Any], name: str, default: int, *, minimum: int, maximum: int) -> int:
    """An integer within ``[minimum, maximum]``."""
    value = raw.get(name)
    if value is None:
        return default
    # bool is an int in Python but ``true`` is never a sensible number here.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParamsError(f"{name}: must be an integer")
    number: int = value
    if not minimum <= number <= maximum:
        raise ParamsError(f"{name}: must be between {minimum} and {maximum}, got {number}")
    return number


def port(raw: Mapping[str, Any], default: int | None, name: str = "port") -> int:
    """A TCP port; required when there is no ``default``."""
    if default is None and raw.get(name) is None:
        raise ParamsError(f"{name}: required")
    return integer(raw, name, default or 0, minimum=1, maximum=65535)


def optional_seconds(raw: Mapping[str, Any], name: str) -> float | None:
    """A positive number of seconds, or None when absent."""
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParamsError(f"{name}: must be a number of seconds")
    if not value > 0:
        raise ParamsError(f"{name}: must be greater than 0, got {value}")
    return float(value)


def boolean(raw: Mapping[str, Any], name: str, default: bool) -> bool:
    """``true`` or ``false``."""
    value = raw.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ParamsError(f"{name}: must be true or false")
    return value


def latency_thresholds(raw: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """``latency_warning_s`` and ``latency_critical_s``; warning below critical."""
    warning = optional_seconds(raw, "latency_warning_s")
    critical = optional_seconds(raw, "latency_critical_s")
    if warning is not None and critical is not None and warning > critical:
        raise ParamsError("latency_warning_s: must not be greater than latency_critical_s")
    return warning, critical


def ca_certificate(raw: Mapping[str, Any], name: str = "ca_certificate") -> str | None:
    """PEM of a private CA (a customer's internal one) to trust instead of the
    system's CAs; loaded once here so that a broken one is refused on save.
    """
    value = optional_text(raw, name)
    if value is None:
        return None
    if "-----BEGIN CERTIFICATE-----" not in value:
        raise ParamsError(f"{name}: must be a PEM certificate (-----BEGIN CERTIFICATE-----)")
    try:
        ssl.create_default_context(cadata=value)
    except ssl.SSLError:
        raise ParamsError(f"{name}: not a valid PEM certificate") from None
    return value


def login(raw: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``user`` and ``password`` for a protocol login (IMAP, POP3, FTP): both
    or neither. Printable ASCII only: both go into a command line, where CR LF
    would start a command of its own and a quote would end an IMAP string.
    """
    user = optional_text(raw, "user")
    password = raw.get("password")
    if password is not None and not isinstance(password, str):
        raise ParamsError("password: must be a string")
    if user is None and password is None:
        return None, None
    if user is None:
        raise ParamsError("user: required with password")
    if password is None:
        raise ParamsError("password: required with user")
    for name, value in (("user", user), ("password", password)):
        if not all(" " <= char <= "~" for char in value):
            raise ParamsError(f"{name}: only printable ASCII characters are allowed")
    if " " in user:
        raise ParamsError("user: must not contain spaces")
    return user, password
