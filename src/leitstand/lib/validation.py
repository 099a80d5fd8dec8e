"""Reading untrusted nested data (YAML documents) with errors that name the place.

Every problem is reported as ``<path>: <problem>``, the path written the way a
person finds it in the document: ``catalog.rate_cards.webosa.rates.it_support``.
No Django imports.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

T = TypeVar("T")


class ValidationError(ValueError):
    """A problem at one place of a document."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class Node:
    """A value in a document together with its path."""

    __slots__ = ("path", "value")

    def __init__(self, value: Any, path: str) -> None:
        self.value = value
        self.path = path

    def error(self, problem: str) -> ValidationError:
        """An error at this node."""
        return ValidationError(self.path, problem)

    def child_path(self, key: object) -> str:
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else str(key)

    # -- mappings -----------------------------------------------------------

    def mapping(
        self, *, allowed: Collection[str] | None = None, required: Collection[str] = ()
    ) -> Node:
        """Assert a mapping with string keys, only ``allowed`` keys and all ``required`` ones."""
        if not isinstance(self.value, Mapping):
            raise self.error(f"expected a mapping, got {_describe(self.value)}")
        for key in self.value:
            if not isinstance(key, str):
                raise self.error(f"keys must be text, got {_describe(key)}")
            if allowed is not None and key not in allowed:
                raise ValidationError(
                    self.child_path(key),
                    f"unknown field '{key}' (expected one of: {', '.join(sorted(allowed))})",
                )
        for key in sorted(required):
            if key not in self.value:
                raise self.error(f"missing field '{key}'")
        return self

    def has(self, key: str) -> bool:
        return isinstance(self.value, Mapping) and key in self.value and self.value[key] is not None

    def __getitem__(self, key: str) -> Node:
        if not isinstance(self.value, Mapping) or key not in self.value:
            raise self.error(f"missing field '{key}'")
        return Node(self.value[key], self.child_path(key))

    def get(self, key: str) -> Node | None:
        """The child node, or None when absent or null."""
        return self[key] if self.has(key) else None

    def items(self) -> Iterator[tuple[str, Node]]:
        """Key and child node of a mapping (call :meth:`mapping` first)."""
        self.mapping()
        for key, value in self.value.items():
            yield key, Node(value, self.child_path(key))

    def sequence(self) -> list[Node]:
        """The items of a list."""
        if not isinstance(self.value, list):
            raise self.error(f"expected a list, got {_describe(self.value)}")
        return [Node(v, self.child_path(i)) for i, v in enumerate(self.value)]

    # -- scalars ------------------------------------------------------------

    def text(self) -> str:
        """A string. Numbers, booleans and dates are refused, not coerced: YAML turns
        ``NO`` into false and ``01:00`` into 60, and a contract must not change meaning
        silently."""
        if not isinstance(self.value, str):
            raise self.error(f"expected text, got {_describe(self.value)} (put it in quotes)")
        return self.value

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.error(f"expected true or false, got {_describe(self.value)}")
        return self.value

    def integer(self, *, minimum: int | None = None) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.error(f"expected a whole number, got {_describe(self.value)}")
        if minimum is not None and self.value < minimum:
            raise self.error(f"must be at least {minimum}, got {self.value}")
        return int(self.value)

    def date(self) -> date:
        """A date, quoted (``"2026-12-14"``) or as YAML wrote it."""
        if isinstance(self.value, date) and not isinstance(self.value, datetime):
            return self.value
        text = self.text()
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self.error(f"bad date {text!r}: expected YYYY-MM-DD") from None

    def instant(self) -> datetime:
        """An ISO 8601 instant with offset; a time without offset is refused."""
        if isinstance(self.value, datetime):
            moment = self.value
        else:
            text = self.text()
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise self.error(
                    f"bad instant {text!r}: expected e.g. 2026-11-20T16:30:00+01:00"
                ) from None
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise self.error(f"instant {self.value!s} has no UTC offset")
        return moment

    def parse(self, parser: Callable[[str], T]) -> T:
        """Apply a text parser; its ValueError becomes an error at this node."""
        raw = self.text()
        try:
            return parser(raw)
        except ValidationError:
            raise
        except ValueError as exc:
            raise self.error(str(exc)) from None

    def check(self, func: Callable[[], T]) -> T:
        """Run ``func``; its ValueError becomes an error at this node."""
        try:
            return func()
        except ValidationError:
            raise
        except ValueError as exc:
            raise self.error(str(exc)) from None


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"
