"""leitstand-agent: the Leitstand agent on every managed server."""

__version__ = "0.1.0"
