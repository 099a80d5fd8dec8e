"""What the agent must remember across restarts, in one 0600 JSON file.

Protocol: "``seq`` increases by one per collection and survives restarts
(state file)"; the secret and ``action_key`` from enrollment are stored "in its
state file (mode 0600)"; a nonce seen before is refused. Written atomically, so
a crash leaves the old or the new state, never half of one.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leitstand_agent.fsutil import write_atomic

# Nonces are kept until their action has expired (after that the expiry check
# refuses a replay anyway), and never more than this many.
MAX_NONCES = 10_000


class StateError(Exception):
    """The state file exists but cannot be used."""


@dataclass
class State:
    """The agent's persistent state."""

    path: Path
    seq: int = 0
    host_id: int | None = None
    secret: str = ""
    action_key: str = ""
    server_url: str = ""
    report_interval: float | None = None
    dropped_reports: int = 0
    # nonce -> expiry (Unix time) of the action that carried it
    nonces: dict[str, float] = field(default_factory=dict)

    @property
    def enrolled(self) -> bool:
        return self.host_id is not None and bool(self.secret)

    @classmethod
    def load(cls, path: Path) -> State:
        """The state at ``path``; a fresh state if there is no file yet."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as exc:
            raise StateError(f"{path}: cannot read the state file: {exc}") from None
        if not isinstance(data, dict):
            raise StateError(f"{path}: the state file is not a JSON object")
        try:
            return cls(
                path=path,
                seq=int(data.get("seq", 0)),
                host_id=None if data.get("host_id") is None else int(data["host_id"]),
                secret=str(data.get("secret", "")),
                action_key=str(data.get("action_key", "")),
                server_url=str(data.get("server_url", "")),
                report_interval=(
                    None if data.get("report_interval") is None else float(data["report_interval"])
                ),
                dropped_reports=int(data.get("dropped_reports", 0)),
                nonces={str(k): float(v) for k, v in dict(data.get("nonces", {})).items()},
            )
        except (TypeError, ValueError) as exc:
            raise StateError(f"{path}: the state file holds a bad value: {exc}") from None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "host_id": self.host_id,
            "secret": self.secret,
            "action_key": self.action_key,
            "server_url": self.server_url,
            "report_interval": self.report_interval,
            "dropped_reports": self.dropped_reports,
            "nonces": self.nonces,
        }

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_atomic(self.path, json.dumps(self.to_json(), indent=1).encode("utf-8"), mode=0o600)

    def next_seq(self) -> int:
        """The next report's ``seq``, saved before it is used.

        Saved first: after a crash a number may be skipped, never reused, and
        a reused ``seq`` would make the server drop a new report as a duplicate.
        """
        self.seq += 1
        self.save()
        return self.seq

    def seen_nonce(self, nonce: str, expires_at: float, now: float | None = None) -> bool:
        """Whether ``nonce`` was seen before; remember it (and save) if not."""
        now = time.time() if now is None else now
        self.nonces = {n: exp for n, exp in self.nonces.items() if exp >= now}
        if nonce in self.nonces:
            return True
        self.nonces[nonce] = expires_at
        if len(self.nonces) > MAX_NONCES:
            keep = sorted(self.nonces.items(), key=lambda item: item[1])[-MAX_NONCES:]
            self.nonces = dict(keep)
        self.save()
        return False
