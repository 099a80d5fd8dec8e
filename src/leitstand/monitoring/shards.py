"""Which monitor shard runs which check: ``hash(check id) mod N``, as Prometheus
shards scrape targets. CRC-32 keeps the hash stable across processes and
Python versions (``hash()`` of a string is salted per process).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

_SHARD = re.compile(r"^(\d+)/(\d+)$")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based)."""

    index: int = 0
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"0/1"``, ``"2/4"``; raises ValueError with a clear message."""
        match = _SHARD.match(text.strip())
        if not match:
            raise ValueError(f"bad shard {text!r}: expected I/N, e.g. 0/2")
        index, count = int(match.group(1)), int(match.group(2))
        if count < 1 or not 0 <= index < count:
            raise ValueError(f"bad shard {text!r}: need 0 <= I < N")
        return cls(index, count)

    def owns(self, check_id: int) -> bool:
        """True when this shard runs the check."""
        return zlib.crc32(str(check_id).encode()) % self.count == self.index
