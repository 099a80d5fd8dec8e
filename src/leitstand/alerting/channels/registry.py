"""The channel kinds, filled by :func:`register` as each module is imported."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from leitstand.alerting.channels.base import Channel, ConfigError

_KINDS: dict[str, type[Channel]] = {}

C = TypeVar("C", bound=type[Channel])


def register(cls: C) -> C:
    """Class decorator: make a channel kind known under its ``kind``."""
    if cls.kind in _KINDS and _KINDS[cls.kind] is not cls:
        raise ValueError(f"channel kind {cls.kind!r} registered twice")
    _KINDS[cls.kind] = cls
    return cls


def get(kind: str) -> type[Channel]:
    """The class of a kind; :class:`ConfigError` if no module registered it."""
    try:
        return _KINDS[kind]
    except KeyError:
        raise ConfigError(f"unknown channel kind {kind!r}") from None


def kinds() -> list[str]:
    """All registered kinds, sorted."""
    return sorted(_KINDS)


def build(kind: str, config: Mapping[str, Any]) -> Channel:
    """A ready channel of ``kind`` from its stored config."""
    return get(kind).from_config(config)
