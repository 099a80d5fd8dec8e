"""The automatic-restart rule (seed 001 §5.2).

The rule lives in the agent package, which decides restarts on the managed
server; the server uses the very same module through this name.
"""

from __future__ import annotations

from leitstand_agent.rules.restart_policy import RestartDecision, RestartPolicy, decide_restart

__all__ = ["RestartDecision", "RestartPolicy", "decide_restart"]
