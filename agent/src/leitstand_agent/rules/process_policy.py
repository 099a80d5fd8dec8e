"""Process monitoring: which processes are ended, and why.

Seed 000 §IX: "process monitoring is conducted that terminates any process
exhibiting excessive runtime and/or RAM consumption. Exceptions may be
authorised by system administration."
Seed 003 §9: "Prozesse, die eine übermäßige Laufzeit oder RAM-Nutzung
aufweisen, werden automatisch beendet. Ausnahmen können von der
Systemadministration konfiguriert werden."
Seed 003 §13: "ausdrücklich untersagt ...: Der Betrieb von Anwendungen zum
Kryptowährungs-Mining".

The agent enforces this rule on every managed server, so the module lives in the
agent package and depends on the standard library only; the server imports the
same module as :mod:`leitstand.operations.process_policy` (catalog, scenarios,
portal), so there is exactly one rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import PurePosixPath


def base_name(command: str) -> str:
    """The program's base name: ``/usr/bin/xmrig`` and ``xmrig`` are the same program."""
    return PurePosixPath(command.strip()).name


@dataclass(frozen=True)
class ProcessException:
    """An approved exception that replaces the limits it names for one command.

    Seed 003 §9 "Ausnahmen können von der Systemadministration konfiguriert
    werden"; seed 000 §IX "Exceptions may be authorised by system
    administration". A limit the exception does not name stays as the policy
    sets it.
    """

    command: str
    max_runtime: timedelta | None = None
    max_rss: int | None = None

    def __post_init__(self) -> None:
        if not base_name(self.command):
            raise ValueError("a process exception needs a command")
        if self.max_runtime is None and self.max_rss is None:
            raise ValueError(f"the exception for {self.command!r} names no limit")
        _check_limits(self.max_runtime, self.max_rss, f"the exception for {self.command!r}")


def _check_limits(max_runtime: timedelta | None, max_rss: int | None, what: str) -> None:
    if max_runtime is not None and max_runtime < timedelta(0):
        raise ValueError(f"{what}: max_runtime must not be negative, not {max_runtime}")
    if max_rss is not None and max_rss < 0:
        raise ValueError(f"{what}: max_rss must not be negative, not {max_rss}")


@dataclass(frozen=True)
class ProcessPolicy:
    """Limits for every process on a managed server, exceptions, forbidden programs.

    Seed 003 §9 "Prozesse, die eine übermäßige Laufzeit oder RAM-Nutzung
    aufweisen, werden automatisch beendet" (``max_runtime``, ``max_rss``;
    ``None`` means no limit), §13 "Der Betrieb von Anwendungen zum
    Kryptowährungs-Mining" is forbidden (``prohibited``, by base name).
    """

    max_runtime: timedelta | None
    max_rss: int | None
    exceptions: tuple[ProcessException, ...] = ()
    prohibited: frozenset[str] = frozenset()
    _by_command: dict[str, ProcessException] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        _check_limits(self.max_runtime, self.max_rss, "the process policy")
        by_command: dict[str, ProcessException] = {}
        prohibited = {base_name(name) for name in self.prohibited}
        for exception in self.exceptions:
            name = base_name(exception.command)
            if name in by_command:
                raise ValueError(f"two exceptions for the command {name!r}")
            if name in prohibited:
                # An approved exception for a forbidden program is a
                # contradiction the administrator should see, not a silent kill.
                raise ValueError(f"the command {name!r} is both prohibited and excepted")
            by_command[name] = exception
        object.__setattr__(self, "_by_command", by_command)
        object.__setattr__(self, "prohibited", frozenset(prohibited))

    def limits_for(self, command: str) -> tuple[timedelta | None, int | None]:
        """The (max_runtime, max_rss) that apply to ``command`` after exceptions."""
        exception = self._by_command.get(base_name(command))
        if exception is None:
            return self.max_runtime, self.max_rss
        return (
            self.max_runtime if exception.max_runtime is None else exception.max_runtime,
            self.max_rss if exception.max_rss is None else exception.max_rss,
        )


@dataclass(frozen=True)
class ProcessInfo:
    """One running process as the agent sees it: command, runtime, resident memory in bytes."""

    command: str
    runtime: timedelta
    rss: int

    def __post_init__(self) -> None:
        if self.runtime < timedelta(0):
            raise ValueError(f"runtime must not be negative, not {self.runtime}")
        if self.rss < 0:
            raise ValueError(f"rss must not be negative, not {self.rss}")


class ProcessDecision(StrEnum):
    """What happens to a process, as the scenario files print it."""

    KEEP = "keep"
    KILL_PROHIBITED = "kill:prohibited"
    KILL_RUNTIME = "kill:runtime"
    KILL_RSS = "kill:rss"


def decide_process(policy: ProcessPolicy, process: ProcessInfo) -> ProcessDecision:
    """Keep ``process`` or end it, and why.

    Seed 003 §13 forbids "Anwendungen zum Kryptowährungs-Mining"; seed 003 §9
    "Prozesse, die eine übermäßige Laufzeit oder RAM-Nutzung aufweisen, werden
    automatisch beendet. Ausnahmen können von der Systemadministration
    konfiguriert werden." Checked in the order prohibited, runtime, memory; a
    limit is exceeded only when the value is strictly greater than it.
    """
    name = base_name(process.command)
    if name in policy.prohibited:
        return ProcessDecision.KILL_PROHIBITED
    max_runtime, max_rss = policy.limits_for(name)
    if max_runtime is not None and process.runtime > max_runtime:
        return ProcessDecision.KILL_RUNTIME
    if max_rss is not None and process.rss > max_rss:
        return ProcessDecision.KILL_RSS
    return ProcessDecision.KEEP
