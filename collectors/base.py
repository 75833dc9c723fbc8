"""The collector interface: what every evidence source implements."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from auditpack.canonical import utcnow
from auditpack.evidence import Observation
from auditpack.inventory import Host

from .guard import CommandGuard, Declaring


class CollectionHistory(Protocol):
    """What earlier collections read, as far as a collector needs it to ask only for what is new."""

    def last_collected(self, host: str, collector: str, kind: str) -> date | None:
        """The UTC day of the newest run in which COLLECTOR read KIND from HOST without an error; None: never."""
        ...


OVERLAP = timedelta(days=1)  # an incremental read starts a day before the last day read: that day was read in part


@dataclass(frozen=True)
class CollectContext:
    """What a collector may know about the run; deadline is time.monotonic() seconds."""

    deadline: float
    operator: str
    # Built by the runner from the collector's declaration, so it can record what was refused.
    guard: CommandGuard | None = None
    # The store's record of earlier collections (the runner gives it); None: read everything, as the first time.
    history: CollectionHistory | None = None

    def since(self, host: str, collector: str, kind: str) -> date | None:
        """The first day an incremental read of KIND asks for: the last day read, less OVERLAP; None: read all."""
        last = self.history.last_collected(host, collector, kind) if self.history is not None else None
        if last is None or last > utcnow().date():
            return None  # never read, or read "later" than now (the clock went back): read it all, leave out nothing
        return last - OVERLAP

    def guard_for(self, collector: Declaring) -> CommandGuard:
        """The run's guard; a collector called directly (a test, a benchmark) gets one from its own declaration."""
        return self.guard if self.guard is not None else CommandGuard.for_collector(collector)


class Collector(Protocol):
    name: str
    # How it reaches the host: "local", "ssh", "winrm", "ldap", or "probe" (the reachability check).
    # When the host's own connection is unreachable, collectors over that transport are skipped.
    transport: str
    # Every command or query this collector may send, so an auditor (and a test) can
    # see that it is read-only. Nothing outside this list is ever sent: the transports
    # check each command against it (guard.py) before sending.
    allowed_commands: tuple[str, ...]
    # Markers in allowed_commands for values filled in per host -> the regular expression such a value matches.
    command_placeholders: Mapping[str, str]

    def applies_to(self, host: Host) -> bool: ...

    def collect(self, host: Host, ctx: CollectContext) -> Iterator[Observation]: ...
