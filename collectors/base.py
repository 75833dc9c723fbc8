"""The collector interface: what every evidence source implements."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from auditpack.evidence import Observation
from auditpack.inventory import Host

from .guard import CommandGuard, Declaring


@dataclass(frozen=True)
class CollectContext:
    """What a collector may know about the run; deadline is time.monotonic() seconds."""

    deadline: float
    operator: str
    # Built by the runner from the collector's declaration, so it can record what was refused.
    guard: CommandGuard | None = None

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
