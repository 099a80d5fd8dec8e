"""Rules the agent enforces locally, shared with the Leitstand server (standard library only)."""
