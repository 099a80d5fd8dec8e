"""Parsing and comparing versions (lib/versions.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leitstand.lib.versions import Version


@pytest.mark.parametrize(
    ("text", "epoch", "release", "suffix"),
    [
        ("5.2.7", 0, (5, 2, 7), ""),
        ("6.0", 0, (6, 0), ""),
        ("20", 0, (20,), ""),
        ("v1.2.3", 0, (1, 2, 3), ""),
        ("V20", 0, (20,), ""),
        (" 5.2.7 ", 0, (5, 2, 7), ""),
        ("1:2.3.4-1+deb12u1", 1, (2, 3, 4), "-1+deb12u1"),
        ("2:9.0.1378-2+deb12u2", 2, (9, 0, 1378), "-2+deb12u2"),
        ("6.0rc1", 0, (6, 0), "rc1"),
        ("2.0.0-beta.2", 0, (2, 0, 0), "-beta.2"),
        ("2.3.4~rc1-1", 0, (2, 3, 4), "~rc1-1"),
        ("1.1.1w", 0, (1, 1, 1), "w"),
        ("5.2.post1", 0, (5, 2), ".post1"),
        ("1.2.3.4", 0, (1, 2, 3, 4), ""),
    ],
)
def test_parse(text: str, epoch: int, release: tuple[int, ...], suffix: str) -> None:
    version = Version.parse(text)
    assert (version.epoch, version.release, version.suffix) == (epoch, release, suffix)


@pytest.mark.parametrize(
    "text", ["", "   ", "abc", "v", "1:", "5..2", "5.2.7.", ".5", "5.2 7", "5,2", "-1", "1.2/3"]
)
def test_parse_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"bad version .*such as '5\.2\.7'"):
        Version.parse(text)


def test_parse_refuses_non_text() -> None:
    with pytest.raises(ValueError, match="bad version 5"):
        Version.parse(5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("5.2.3", "5.2.7"),
        ("5.2.7", "6.0"),
        ("5.2.9", "5.2.10"),  # numbers, not text
        ("19.2.0", "20"),
        ("5.2.7", "5.2.7.1"),
        ("5.2", "5.2.0.1"),
        # Pre-releases come before their release, dev before alpha before beta before rc.
        ("6.0rc1", "6.0"),
        ("6.0rc1", "6.0rc2"),
        ("6.0rc9", "6.0rc10"),
        ("6.0a1", "6.0b1"),
        ("6.0b1", "6.0rc1"),
        ("6.0.dev1", "6.0a1"),
        ("6.0-alpha", "6.0-beta"),
        ("6.0-beta.2", "6.0-rc.1"),
        ("5.2.7", "6.0rc1"),
        # Debian: ``~`` sorts before everything, revisions after the release.
        ("2.3.4~rc1-1", "2.3.4-1"),
        ("2.3.4", "2.3.4-1"),
        ("2.3.4-1", "2.3.4-1+deb12u1"),
        ("1:2.3.4-1+deb12u1", "1:2.3.4-1+deb12u2"),
        ("2.3.4-9", "2.3.4-10"),
        ("9.9.9", "1:0.1"),  # the epoch wins
        # OpenSSL's letter releases come after the plain one.
        ("1.1.1", "1.1.1a"),
        ("1.1.1a", "1.1.1w"),
        ("5.2", "5.2.post1"),
    ],
)
def test_order(older: str, newer: str) -> None:
    old, new = Version.parse(older), Version.parse(newer)
    assert old < new
    assert new > old
    assert old != new
    assert old.compare(new) == -1
    assert new.compare(old) == 1


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("6.0", "6.0.0"),
        ("20", "v20.0.0"),
        ("0:1.2", "1.2"),
        ("6.0rc1", "6.0-rc1"),
        ("6.0rc1", "6.0.RC1"),
        ("1.2.3", "1.2.3.0"),
    ],
)
def test_equal_spellings(left: str, right: str) -> None:
    assert Version.parse(left) == Version.parse(right)
    assert hash(Version.parse(left)) == hash(Version.parse(right))
    assert Version.parse(left) <= Version.parse(right) <= Version.parse(left)


@pytest.mark.parametrize(
    ("text", "printed"),
    [("v5.2", "5.2"), ("1:2.3.4-1+deb12u1", "1:2.3.4-1+deb12u1"), ("0:6.0rc1", "6.0rc1")],
)
def test_str(text: str, printed: str) -> None:
    assert str(Version.parse(text)) == printed


def test_part_counts_missing_parts_as_zero() -> None:
    version = Version.parse("20")
    assert (version.part(0), version.part(1), version.part(2)) == (20, 0, 0)


def test_not_equal_to_other_types() -> None:
    assert Version.parse("1.0") != "1.0"


suffixes = st.sampled_from(
    ["", "rc1", "rc2", "-1", "-1+deb12u1", "~rc1", "a1", "b2", ".post1", "w", "-beta.2", ".dev3"]
)
versions = st.builds(
    lambda epoch, release, suffix: Version.parse(
        (f"{epoch}:" if epoch else "") + ".".join(map(str, release)) + suffix
    ),
    st.integers(min_value=0, max_value=2),
    st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=4),
    suffixes,
)


@given(versions)
def test_printing_round_trips(version: Version) -> None:
    assert Version.parse(str(version)) == version


@given(versions, versions)
def test_comparison_is_antisymmetric(left: Version, right: Version) -> None:
    assert left.compare(right) == -right.compare(left)
    assert (left == right) is (left.compare(right) == 0)
    if left == right:
        assert hash(left) == hash(right)


@given(versions, versions, versions)
def test_comparison_is_transitive(first: Version, second: Version, third: Version) -> None:
    low, middle, high = sorted((first, second, third))
    assert low <= middle <= high
    assert low <= high
