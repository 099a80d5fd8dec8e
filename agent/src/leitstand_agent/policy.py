"""The contract's policies as the server hands them out (``GET policy``).

Seed 000 IX / 003 §9: exceptions to the process limits "können von der
Systemadministration konfiguriert werden" -- in Leitstand, per contract. The
server's policy replaces the configuration file's; an answer that does not
parse is refused as a whole (the agent keeps what it has), never half-applied.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from leitstand_agent.rules.process_policy import ProcessException, ProcessPolicy
from leitstand_agent.rules.restart_policy import RestartPolicy


class PolicyError(ValueError):
    """The server's policy answer is malformed."""


def _seconds(value: Any, where: str) -> timedelta | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PolicyError(f"{where}: expected a positive whole number of seconds, got {value!r}")
    return timedelta(seconds=value)


def _bytes(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PolicyError(f"{where}: expected a positive whole number of bytes, got {value!r}")
    return int(value)


def parse_policy(data: Any) -> tuple[ProcessPolicy | None, RestartPolicy | None]:
    """The process and restart policy of an answer; None where the contract has none."""
    if not isinstance(data, dict):
        raise PolicyError("policy: expected a JSON object")
    process = restart = None
    raw = data.get("process_policy")
    if raw is not None:
        if not isinstance(raw, dict):
            raise PolicyError("process_policy: expected an object")
        exceptions = []
        for i, item in enumerate(raw.get("exceptions") or []):
            if not isinstance(item, dict) or not isinstance(item.get("command"), str):
                raise PolicyError(
                    f"process_policy.exceptions[{i}]: expected an object with a command"
                )
            exceptions.append(
                ProcessException(
                    command=item["command"],
                    max_runtime=_seconds(
                        item.get("max_runtime_s"), f"exceptions[{i}].max_runtime_s"
                    ),
                    max_rss=_bytes(item.get("max_rss"), f"exceptions[{i}].max_rss"),
                )
            )
        prohibited = raw.get("prohibited") or []
        if not isinstance(prohibited, list) or not all(isinstance(p, str) for p in prohibited):
            raise PolicyError("process_policy.prohibited: expected a list of names")
        try:
            process = ProcessPolicy(
                max_runtime=_seconds(raw.get("max_runtime_s"), "process_policy.max_runtime_s"),
                max_rss=_bytes(raw.get("max_rss"), "process_policy.max_rss"),
                exceptions=tuple(exceptions),
                prohibited=frozenset(prohibited),
            )
        except ValueError as exc:
            raise PolicyError(f"process_policy: {exc}") from None
    raw = data.get("restart_policy")
    if raw is not None:
        if not isinstance(raw, dict):
            raise PolicyError("restart_policy: expected an object")
        silence = _seconds(raw.get("silence_s"), "restart_policy.silence_s")
        count = raw.get("max_consecutive")
        if silence is None or isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise PolicyError("restart_policy: needs silence_s and max_consecutive")
        restart = RestartPolicy(silence=silence, max_consecutive=count)
    return process, restart
