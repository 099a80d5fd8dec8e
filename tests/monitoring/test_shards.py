"""Shards: ``hash(check id) mod N``, every check in exactly one shard."""

from __future__ import annotations

import pytest

from leitstand.monitoring.shards import Shard


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0/1", Shard(0, 1)), ("1/4", Shard(1, 4)), (" 3/4 ", Shard(3, 4))],
)
def test_parse(text: str, expected: Shard) -> None:
    assert Shard.parse(text) == expected


@pytest.mark.parametrize("text", ["", "1", "4/4", "-1/2", "0/0", "a/b", "1/2/3"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="bad shard"):
        Shard.parse(text)


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_every_check_has_exactly_one_shard(count: int) -> None:
    shards = [Shard(i, count) for i in range(count)]
    sizes = [0] * count
    for check_id in range(1, 10_001):
        owners = [s.index for s in shards if s.owns(check_id)]
        assert len(owners) == 1
        sizes[owners[0]] += 1
    # Spread evenly enough that no shard carries a third more than its share.
    assert max(sizes) < 10_000 / count * 1.34
