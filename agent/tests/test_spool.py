"""The report queue on disk: order, atomicity, bounds, rejected/, restarts."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from leitstand_agent import spool as spool_module
from leitstand_agent.spool import Spool


def test_oldest_first_by_number_not_by_text(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 100, 10**6)
    for seq in (10, 9, 100, 1):
        spool.put(seq, f'{{"seq": {seq}}}'.encode())
    assert [r.seq for r in spool.pending()] == [1, 9, 10, 100]
    assert spool.pending()[0].path.name == "000000000001.json"
    assert spool.pending()[0].body() == b'{"seq": 1}'


def test_files_are_private(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 100, 10**6)
    spool.put(1, b"{}")
    assert stat.S_IMODE(os.stat(tmp_path / "000000000001.json").st_mode) == 0o600


def test_bound_on_count_drops_oldest_and_counts(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 3, 10**6)
    dropped = [spool.put(seq, b"{}") for seq in range(1, 6)]
    assert dropped == [0, 0, 0, 1, 1]
    assert [r.seq for r in spool.pending()] == [3, 4, 5]


def test_bound_on_bytes_keeps_at_least_the_newest(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 100, 250)
    spool.put(1, b"x" * 100)
    spool.put(2, b"x" * 100)
    assert spool.put(3, b"x" * 100) == 1
    assert [r.seq for r in spool.pending()] == [2, 3]
    assert spool.put(4, b"x" * 1000) == 2  # larger than the bound alone: still kept
    assert [r.seq for r in spool.pending()] == [4]


def test_survives_restart_and_ignores_leftovers(tmp_path: Path) -> None:
    Spool(tmp_path, 100, 10**6).put(7, b"{}")
    (tmp_path / ".tmp-000000000008.json").write_bytes(b'{"half')  # crash during a write
    (tmp_path / "notes.txt").write_text("not a report")
    spool = Spool(tmp_path, 100, 10**6)
    assert [r.seq for r in spool.pending()] == [7]
    assert not (tmp_path / ".tmp-000000000008.json").exists()


def test_accepted_leaves_the_queue(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 100, 10**6)
    spool.put(1, b"{}")
    spool.put(2, b"{}")
    spool.accepted(spool.pending()[0])
    assert [r.seq for r in spool.pending()] == [2]


def test_rejected_kept_aside_with_reason(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 100, 10**6)
    spool.put(1, b"{bad")
    spool.reject(spool.pending()[0], "seq missing")
    assert spool.pending() == []
    assert [p.name for p in spool.rejected()] == ["000000000001.json"]
    assert (tmp_path / "rejected" / "000000000001.json").read_bytes() == b"{bad"
    assert (tmp_path / "rejected" / "000000000001.reason").read_text() == "seq missing"


def test_rejected_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert spool_module.MAX_REJECTED == 100
    monkeypatch.setattr(spool_module, "MAX_REJECTED", 3)
    spool = Spool(tmp_path, 1000, 10**8)
    for seq in range(1, 6):
        spool.put(seq, b"{}")
        spool.reject(spool.pending()[0], "bad")
    kept = spool.rejected()
    assert [p.name for p in kept] == ["000000000003.json", "000000000004.json", "000000000005.json"]
    assert not (tmp_path / "rejected" / "000000000001.reason").exists()
