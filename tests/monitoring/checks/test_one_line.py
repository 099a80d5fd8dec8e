"""``one_line``'s shortcut for summaries that are already one clean line gives
what the character-by-character way gives, for any text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.monitoring.checks.base import _flatten, one_line

# Spaces, tabs, line breaks, control characters and non-ASCII whitespace are
# where a shortcut would go wrong; mix them in generously.
tricky = st.text(
    alphabet=st.one_of(
        st.sampled_from(" \t\n\r\x0b\x0c\x00\x1b\x7f\x85\xa0\u2028\u3000é…"),
        st.characters(),
    ),
    max_size=260,
)


@given(tricky, st.integers(1, 300))
def test_the_shortcut_agrees_with_the_long_way(text: str, limit: int) -> None:
    assert one_line(text, limit) == _flatten(text, limit)


@given(st.text(max_size=300))
def test_any_text_with_the_default_limit(text: str) -> None:
    assert one_line(text) == _flatten(text, 200)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HTTP 200 in 3 ms", "HTTP 200 in 3 ms"),
        (" leading", "leading"),
        ("trailing ", "trailing"),
        ("two  spaces", "two spaces"),
        ("non\xa0breaking", "non breaking"),
        ("bell\x07", "bell\\x07"),
        ("x" * 201, "x" * 199 + "…"),
        ("x" * 200, "x" * 200),
        ("", ""),
    ],
)
def test_one_line(text: str, expected: str) -> None:
    assert one_line(text) == expected


def test_a_clean_line_comes_back_as_the_same_object() -> None:
    summary = "connected to 127.0.0.1:22 in 0 ms"
    assert one_line(summary) is summary
