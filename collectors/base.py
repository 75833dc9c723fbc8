"""The collector interface: what every evidence source implements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from auditpack.evidence import Observation
from auditpack.inventory import Host


@dataclass(frozen=True)
class CollectContext:
    """What a collector may know about the run; deadline is time.monotonic() seconds."""

    deadline: float
    operator: str


class Collector(Protocol):
    name: str
    # How it reaches the host: "local", "ssh", "winrm", "ldap", or "probe" (the reachability check).
    # When the host's own connection is unreachable, collectors over that transport are skipped.
    transport: str
    # Every command or query this collector may send, so an auditor (and a test) can
    # see that it is read-only. Nothing outside this list is ever sent.
    allowed_commands: tuple[str, ...]

    def applies_to(self, host: Host) -> bool: ...

    def collect(self, host: Host, ctx: CollectContext) -> Iterator[Observation]: ...
