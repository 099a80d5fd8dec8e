"""The process-limit rule (seed 000 IX, seed 003 §9 and §13).

The rule lives in the agent package, which enforces it on every managed server
with nothing but the standard library; the server (catalog, scenarios, portal)
uses the very same module through this name.
"""

from __future__ import annotations

from leitstand_agent.rules.process_policy import (
    ProcessDecision,
    ProcessException,
    ProcessInfo,
    ProcessPolicy,
    base_name,
    decide_process,
)

__all__ = [
    "ProcessDecision",
    "ProcessException",
    "ProcessInfo",
    "ProcessPolicy",
    "base_name",
    "decide_process",
]
