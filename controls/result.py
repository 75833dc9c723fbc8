"""The outcome of testing one control over one period."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from .messages import render


class Status(StrEnum):
    EFFECTIVE = "effective"
    EFFECTIVE_WITH_DEVIATIONS = "effective_with_deviations"
    NOT_EFFECTIVE = "not_effective"
    NOT_EVIDENCED = "not_evidenced"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class EvidenceRef:
    item_id: str
    host: str
    kind: str
    collected: str
    command: str
    raw_sha256: str
    status: str


@dataclass
class Deviation:
    subject: str          # a host, an account, a backup job…
    date: str             # collection date (YYYY-MM-DD) the deviation was seen on
    code: str             # message code in controls/messages.py
    facts: dict[str, Any] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)  # item ids

    def text(self, lang: str) -> str:
        return render(self.code, self.facts, lang)


@dataclass
class ControlResult:
    control_id: str
    status: Status
    period_start: str
    period_end: str
    population: list[str]
    tested: int                                   # subject-dates with usable evidence
    deviations: list[Deviation] = field(default_factory=list)
    gaps: list[Deviation] = field(default_factory=list)   # subject-dates without usable evidence
    evidence: list[EvidenceRef] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def overall_status(population: int, tested: int, failed: int, gaps: int, tolerance: float) -> Status:
    """A verdict an auditor recognises: no evidence is never a pass, and deviations are never hidden."""
    if population == 0:
        return Status.NOT_APPLICABLE
    if tested == 0:
        return Status.NOT_EVIDENCED
    if failed == 0 and gaps == 0:
        return Status.EFFECTIVE
    if (failed + gaps) / (tested + gaps) <= tolerance:
        return Status.EFFECTIVE_WITH_DEVIATIONS
    return Status.NOT_EFFECTIVE
