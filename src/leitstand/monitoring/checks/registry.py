"""The registry of check types, filled by ``@register("kind")``.

A new check type is one module in this package with one decorator; nothing
else in the code base enumerates the kinds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from leitstand.monitoring.checks.base import CheckType, ParamsError, Result, State, one_line

_TYPES: dict[str, type[CheckType[Any, Any]]] = {}

C = TypeVar("C", bound=type[CheckType[Any, Any]])


def register(kind: str) -> Callable[[C], C]:
    """Class decorator: make ``cls`` the check type for ``kind``."""

    def decorate(cls: C) -> C:
        if kind in _TYPES and _TYPES[kind] is not cls:
            raise ValueError(f"check type {kind!r} is already registered")
        cls.kind = kind
        _TYPES[kind] = cls
        return cls

    return decorate


Lifespan = Callable[[], AbstractAsyncContextManager[None]]
_LIFESPANS: list[Lifespan] = []


def lifespan(factory: Lifespan) -> Lifespan:
    """Register ``factory``: an async context manager holding what a check type
    shares between runs (a connection pool) while an engine runs; see :func:`running`.
    """
    if factory not in _LIFESPANS:
        _LIFESPANS.append(factory)
    return factory


@contextlib.asynccontextmanager
async def running() -> AsyncIterator[None]:
    """Open the check types' shared resources for the current event loop, close
    them at the end. Checks run outside (a single ``run_check``) make their own.
    """
    _load()
    async with contextlib.AsyncExitStack() as stack:
        for factory in list(_LIFESPANS):
            await stack.enter_async_context(factory())
        yield


def get(kind: str) -> type[CheckType[Any, Any]]:
    """The check type registered for ``kind``; KeyError when there is none."""
    _load()
    try:
        return _TYPES[kind]
    except KeyError:
        raise KeyError(f"unknown check type {kind!r}") from None


def kinds() -> list[str]:
    """All registered kinds, sorted."""
    _load()
    return sorted(_TYPES)


def validate(kind: str, raw_params: Mapping[str, Any]) -> None:
    """Raise ``ParamsError`` when ``kind`` is unknown or its params are invalid
    (for forms and the API that store a ``Check``).
    """
    _load()
    if kind not in _TYPES:
        raise ParamsError(f"unknown check type {kind!r}")
    _TYPES[kind].parse_params(raw_params)


@dataclass(frozen=True)
class Prepared:
    """A check ready to run: its type's instance and parsed parameters, or the
    reason it cannot run. The engine prepares each check once per change of its
    configuration instead of parsing the parameters on every run."""

    check: CheckType[Any, Any] | None
    params: Any
    invalid: Result | None = None


def prepare(kind: str, raw_params: Mapping[str, Any]) -> Prepared:
    """Look up the type and parse the parameters; never raises."""
    try:
        check_type = get(kind)
        params = check_type.parse_params(raw_params)
    except (KeyError, ParamsError) as exc:
        return Prepared(
            None, None, Result(State.UNKNOWN, one_line(f"invalid check: {exc.args[0]}"))
        )
    return Prepared(check_type(), params)


async def run_check(kind: str, raw_params: Mapping[str, Any], timeout: float) -> Result:
    """Parse, probe under a hard timeout, evaluate. Never raises: bad params
    give UNKNOWN, a target that accepts and never answers costs one timeout and
    gives CRITICAL, a bug in a check type gives UNKNOWN with its message.
    """
    return await run_prepared(prepare(kind, raw_params), timeout)


async def run_prepared(prepared: Prepared, timeout: float) -> Result:
    """Probe and evaluate a prepared check (see :func:`run_check`)."""
    if prepared.invalid is not None or prepared.check is None:
        return prepared.invalid or Result(State.UNKNOWN, "invalid check")
    check, params = prepared.check, prepared.params
    try:
        async with asyncio.timeout(timeout):
            raw = await check.probe(params, timeout)
    except TimeoutError:
        return Result(State.CRITICAL, f"no answer within {timeout:g} s")
    except Exception as exc:  # a failing check must not stop the engine
        return Result(State.UNKNOWN, one_line(f"check failed: {type(exc).__name__}: {exc}"))
    try:
        result = check.evaluate(params, raw)
    except Exception as exc:
        return Result(State.UNKNOWN, one_line(f"check failed: {type(exc).__name__}: {exc}"))
    # Whatever a check type wrote, the summary stays one printable line.
    summary = one_line(result.summary)
    return result if summary == result.summary else replace(result, summary=summary)


def _load() -> None:
    # Importing the package imports every check-type module, which registers it.
    import leitstand.monitoring.checks  # noqa: F401, PLC0415
