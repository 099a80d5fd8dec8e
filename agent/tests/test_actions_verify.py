"""Remote actions are verified exactly per the protocol before anything runs.

Protocol: the agent refuses "an action whose signature is wrong, whose
``expires_at`` is past or more than 5 minutes ahead, whose nonce it has seen
before, or whose type or parameters are not allowed on this host".
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from leitstand_agent.actions import Context, canonical, handle, sign
from leitstand_agent.config import ActionSettings
from leitstand_agent.state import State

HOST_ID = 17
KEY = "K" * 43
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def make_action(
    action_type: str = "kill_pid",
    params: dict[str, Any] | None = None,
    *,
    action_id: int = 55,
    nonce: str = "n" * 22,
    expires_at: datetime | str = NOW + timedelta(minutes=4),
    key: str = KEY,
    host_id: int = HOST_ID,
) -> dict[str, Any]:
    action: dict[str, Any] = {
        "id": action_id,
        "type": action_type,
        "params": {"pid": 999_999_999, "signal": "SIGTERM"} if params is None else params,
        "nonce": nonce,
        "expires_at": expires_at if isinstance(expires_at, str) else expires_at.isoformat(),
    }
    action["signature"] = sign(action, host_id, key)
    return action


def run(
    action: dict[str, Any], state: State, settings: ActionSettings | None = None
) -> dict[str, Any]:
    settings = settings or ActionSettings(
        enabled=frozenset({"kill_pid", "restart_unit"}), units=("nginx.service",)
    )
    return handle(
        action,
        host_id=HOST_ID,
        action_key=KEY,
        state=state,
        context=Context(settings),
        now=lambda: NOW,
    )


@pytest.fixture
def state(tmp_path: Path) -> State:
    return State(tmp_path / "state.json", host_id=HOST_ID, secret="s", action_key=KEY)


def test_canonical_form_is_the_protocols() -> None:
    action = make_action()
    expected = json.dumps(
        {
            "host_id": HOST_ID,
            "id": 55,
            "type": "kill_pid",
            "params": {"pid": 999_999_999, "signal": "SIGTERM"},
            "nonce": "n" * 22,
            "expires_at": "2026-11-22T10:04:00+00:00",
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    assert canonical(action, HOST_ID) == expected
    assert action["signature"] == hmac.new(KEY.encode(), expected, hashlib.sha256).hexdigest()


def test_valid_action_passes_verification(state: State) -> None:
    # The pid does not exist: verification passed, the parameter check refuses.
    result = run(make_action(), state)
    assert result == {
        "status": "rejected",
        "output": "no process 999999999",
        "started_at": "2026-11-22T10:00:00+00:00",
        "finished_at": "2026-11-22T10:00:00+00:00",
    }


def tamper(action: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**action, **changes}


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        pytest.param(make_action(key="L" * 43), "signature is wrong", id="other-key"),
        pytest.param(make_action(host_id=18), "signature is wrong", id="other-host"),
        pytest.param(
            tamper(make_action(), params={"pid": 1, "signal": "SIGKILL"}),
            "signature is wrong",
            id="params-changed",
        ),
        pytest.param(
            tamper(make_action(), type="restart_unit"), "signature is wrong", id="type-changed"
        ),
        pytest.param(tamper(make_action(), id=56), "signature is wrong", id="id-changed"),
        pytest.param(
            tamper(make_action(), expires_at="2026-11-22T10:04:59+00:00"),
            "signature is wrong",
            id="expiry-changed",
        ),
        pytest.param(
            tamper(make_action(), signature=""), "signature is wrong", id="empty-signature"
        ),
        pytest.param(
            {k: v for k, v in make_action().items() if k != "signature"},
            "signature missing",
            id="no-signature",
        ),
        pytest.param(
            make_action(expires_at=NOW - timedelta(seconds=1)),
            "expired at 2026-11-22T09:59:59+00:00",
            id="expired",
        ),
        pytest.param(make_action(expires_at=NOW), "expired at", id="expires-now"),
        pytest.param(
            make_action(expires_at=NOW + timedelta(minutes=5, seconds=1)),
            "more than 5 minutes ahead",
            id="too-far-ahead",
        ),
        pytest.param(
            make_action(expires_at="2026-11-22T10:04:00"),
            "carries no UTC offset",
            id="naive-expiry",
        ),
        pytest.param(
            make_action(expires_at="tomorrow"), "not an ISO 8601 instant", id="garbage-expiry"
        ),
        pytest.param(make_action(nonce="short"), "nonce is not 22+ characters", id="short-nonce"),
        pytest.param(
            make_action(nonce="n" * 21 + "/"),
            "nonce is not 22+ characters",
            id="nonce-not-base64url",
        ),
        pytest.param(
            make_action("format_disk", {}), "unknown action type 'format_disk'", id="unknown-type"
        ),
        pytest.param(
            make_action("run_backup", {}),
            "action type 'run_backup' is not enabled",
            id="type-not-enabled",
        ),
        pytest.param(
            make_action("restart_unit", {"unit": "sshd.service"}),
            "unit 'sshd.service' is not in this host's allow-list",
            id="unit-not-allowed",
        ),
        pytest.param(
            make_action("restart_unit", {"unit": "nginx.service", "now": True}),
            "unexpected parameter(s): now",
            id="extra-param",
        ),
        pytest.param(
            make_action("restart_unit", {}), "missing parameter(s): unit", id="missing-param"
        ),
        pytest.param(tamper(make_action(), id="55"), "id is not an integer", id="id-not-int"),
        pytest.param(
            tamper(make_action(), params=[]), "params is not an object", id="params-not-object"
        ),
    ],
)
def test_refused_with_reason(state: State, action: dict[str, Any], reason: str) -> None:
    result = run(action, state)
    assert result["status"] == "rejected"
    assert reason in result["output"]


def test_exactly_five_minutes_ahead_is_accepted(state: State) -> None:
    result = run(make_action(expires_at=NOW + timedelta(minutes=5)), state)
    assert result["output"] == "no process 999999999"


def test_replayed_nonce_is_refused(state: State) -> None:
    action = make_action()
    assert run(action, state)["output"] == "no process 999999999"
    assert run(action, state)["output"] == "nonce seen before (replay)"
    # Also after a restart of the agent.
    assert run(action, State.load(state.path))["output"] == "nonce seen before (replay)"


def test_forged_actions_do_not_fill_the_nonce_store(state: State) -> None:
    run(make_action(key="L" * 43, nonce="f" * 22), state)
    assert state.nonces == {}


def test_without_action_key_everything_is_refused(tmp_path: Path) -> None:
    state = State(tmp_path / "state.json")
    result = handle(
        make_action(),
        host_id=HOST_ID,
        action_key="",
        state=state,
        context=Context(ActionSettings()),
        now=lambda: NOW,
    )
    assert result["output"] == "this agent holds no action key (not enrolled)"
