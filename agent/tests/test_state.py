"""The state file: 0600, atomic, seq survives restarts, nonces bounded and expiring."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from leitstand_agent import state as state_module
from leitstand_agent.state import State, StateError


def test_fresh_state_without_file(tmp_path: Path) -> None:
    state = State.load(tmp_path / "state.json")
    assert (state.seq, state.enrolled) == (0, False)


def test_round_trip_and_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "state.json"
    state = State(path, host_id=17, secret="s", action_key="k", server_url="https://x")
    state.save()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = State.load(path)
    assert (loaded.host_id, loaded.secret, loaded.action_key, loaded.enrolled) == (
        17,
        "s",
        "k",
        True,
    )
    assert not list(path.parent.glob(".tmp-*"))


def test_seq_survives_restarts(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = State.load(path)
    assert [state.next_seq(), state.next_seq()] == [1, 2]
    assert State.load(path).next_seq() == 3


def test_existing_file_with_wrong_mode_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_text("{}")
    os.chmod(path, 0o644)
    State.load(path).save()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize("text", ["{not json", "[]", '{"seq": "many"}'])
def test_broken_state_file_is_an_error_not_a_reset(tmp_path: Path, text: str) -> None:
    # A silently reset state would reuse seq numbers and forget the secret.
    path = tmp_path / "state.json"
    path.write_text(text)
    with pytest.raises(StateError, match=r"state\.json"):
        State.load(path)


def test_nonces_are_remembered_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state = State.load(path)
    assert state.seen_nonce("a" * 22, expires_at=1000.0, now=900.0) is False
    assert state.seen_nonce("a" * 22, expires_at=1000.0, now=950.0) is True
    assert State.load(path).seen_nonce("a" * 22, expires_at=1000.0, now=960.0) is True


def test_expired_nonces_are_forgotten(tmp_path: Path) -> None:
    state = State(tmp_path / "state.json")
    state.seen_nonce("a" * 22, expires_at=1000.0, now=900.0)
    state.seen_nonce("b" * 22, expires_at=2000.0, now=1001.0)
    assert set(state.nonces) == {"b" * 22}


def test_nonce_store_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state_module, "MAX_NONCES", 3)
    state = State(tmp_path / "state.json")
    for i in range(5):
        state.seen_nonce(f"nonce-{i:016d}", expires_at=1000.0 + i, now=0.0)
    assert sorted(state.nonces) == [f"nonce-{i:016d}" for i in (2, 3, 4)]
