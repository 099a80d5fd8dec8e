"""The on-disk queue of reports not yet accepted by the server.

Protocol, "Reports": "The agent keeps unsent reports on disk (one file per
report, bounded: at least 24 h at the default interval, oldest dropped first
beyond the bound) and sends them oldest first". One file per report named by
its zero-padded ``seq``, so the name order is the send order; written
atomically, so a crash leaves either no file or a whole one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from leitstand_agent.fsutil import fsync_dir, write_atomic

_NAME = re.compile(r"^(\d{12})\.json$")
# Rejected reports are kept for a person to inspect, not forever.
MAX_REJECTED = 100


@dataclass(frozen=True)
class SpooledReport:
    """One queued report: its sequence number and file."""

    seq: int
    path: Path

    def body(self) -> bytes:
        return self.path.read_bytes()


class Spool:
    """Reports waiting to be sent, oldest first, bounded in count and bytes."""

    def __init__(self, directory: Path, max_reports: int, max_bytes: int) -> None:
        self.directory = directory
        self.rejected_dir = directory / "rejected"
        self.max_reports = max_reports
        self.max_bytes = max_bytes
        self.rejected_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # A crash between create and rename leaves a temporary file: never a report.
        for leftover in self.directory.glob(".tmp-*"):
            leftover.unlink(missing_ok=True)

    @staticmethod
    def name(seq: int) -> str:
        return f"{seq:012d}.json"

    def pending(self) -> list[SpooledReport]:
        """The queued reports, oldest first."""
        reports = []
        for entry in os.scandir(self.directory):
            match = _NAME.match(entry.name)
            if match and entry.is_file(follow_symlinks=False):
                reports.append(SpooledReport(int(match.group(1)), Path(entry.path)))
        return sorted(reports, key=lambda r: r.seq)

    def put(self, seq: int, body: bytes) -> int:
        """Queue one report; return how many of the oldest were dropped to stay in bounds."""
        write_atomic(self.directory / self.name(seq), body, mode=0o600)
        return self.enforce_bounds()

    def enforce_bounds(self) -> int:
        reports = self.pending()
        sizes = []
        for report in reports:
            try:
                sizes.append(report.path.stat().st_size)
            except FileNotFoundError:
                sizes.append(0)
        total = sum(sizes)
        dropped = 0
        # Never the newest: it is what the host looks like now.
        while len(reports) - dropped > 1 and (
            len(reports) - dropped > self.max_reports or total > self.max_bytes
        ):
            reports[dropped].path.unlink(missing_ok=True)
            total -= sizes[dropped]
            dropped += 1
        if dropped:
            fsync_dir(self.directory)
        return dropped

    def accepted(self, report: SpooledReport) -> None:
        """The server has the report: it leaves the queue."""
        report.path.unlink(missing_ok=True)
        fsync_dir(self.directory)

    def reject(self, report: SpooledReport, reason: str) -> None:
        """The server refused the report as malformed: keep it aside with the reason."""
        target = self.rejected_dir / report.path.name
        os.replace(report.path, target)
        write_atomic(target.with_suffix(".reason"), reason.encode("utf-8"), mode=0o600)
        fsync_dir(self.directory)
        kept = sorted(p for p in self.rejected_dir.iterdir() if _NAME.match(p.name))
        for old in kept[:-MAX_REJECTED]:
            old.unlink(missing_ok=True)
            old.with_suffix(".reason").unlink(missing_ok=True)

    def rejected(self) -> list[Path]:
        return sorted(p for p in self.rejected_dir.iterdir() if _NAME.match(p.name))
