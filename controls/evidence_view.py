"""What evaluators see: stored evidence as plain data, with no way to reach a host or the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .result import EvidenceRef


@dataclass(frozen=True)
class RunView:
    seq: int
    run_id: str
    started: str
    hosts: dict[str, dict[str, Any]]  # name -> {status, roles, errors, connection, …}

    @property
    def date(self) -> str:
        return self.started[:10]

    def hosts_with_roles(self, roles: list[str]) -> list[str]:
        return sorted(name for name, info in self.hosts.items() if set(roles) & set(info.get("roles", [])))


@dataclass(frozen=True)
class EvidenceView:
    item_id: str
    run_seq: int
    host: str
    kind: str
    command: str
    started: str
    status: str
    raw_sha256: str
    errors: tuple[str, ...]
    normalized: Any
    as_of: str | None = None  # the day it speaks for, when not the day it was collected (an imported backup)

    @property
    def usable(self) -> bool:
        return self.status == "ok" and self.normalized is not None

    @property
    def day(self) -> str:
        return self.as_of or self.started[:10]

    def ref(self) -> EvidenceRef:
        return EvidenceRef(self.item_id, self.host, self.kind, self.started, self.command, self.raw_sha256, self.status)
