"""The outcome of testing one control over one period."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from .messages import render

DEFAULT_TOLERANCE = 0.05


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
    subject: str  # a host, an account, a backup job…
    date: str  # the day (YYYY-MM-DD) the deviation or gap concerns
    code: str  # message code; its texts are in the catalogue, see controls/messages.py
    facts: dict[str, Any] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)  # item ids

    def text(self, lang: str) -> str:
        return render(self.code, self.facts, lang)

    def key(self) -> str:
        """What makes two findings the same one: subject, date, code and facts (not the evidence cited)."""
        return json.dumps([self.subject, self.date, self.code, self.facts], sort_keys=True, default=str)


class ItemResult(StrEnum):
    """What the test of one subject-date came to, after exceptions (controls/evaluate.py finalize)."""

    PASSED = "passed"
    DEVIATION = "deviation"
    EXCEPTED = "excepted"  # every deviation or gap of the subject-date is covered by an exception
    NOT_EVIDENCED = "not_evidenced"


@dataclass
class TestedItem:
    """One subject tested on one date, with what an auditor needs to reperform the test: the attributes it used
    (a last working day, a definition date and its age, a backup result...) and the evidence items they came from."""

    __test__ = False  # a name pytest would otherwise try to collect from the tests that import it

    subject: str
    date: str  # YYYY-MM-DD
    result: ItemResult
    codes: list[str]  # the message codes of its deviations or gaps, as recorded; none for a pass
    attributes: dict[str, Any] = field(default_factory=dict)  # key -> value; labels in the catalogue's `attributes:`
    evidence: list[str] = field(default_factory=list)  # item ids

    def key(self) -> str:
        """How a sample names the item: subject and date, as `auditpack sample` prints it."""
        return f"{self.subject} {self.date}"

    def to_dict(self) -> dict[str, Any]:
        """As the report document and a stored sample carry it (reports/schema: tested_item)."""
        return {
            "subject": self.subject,
            "date": self.date,
            "result": self.result.value,
            "codes": list(self.codes),
            "attributes": dict(self.attributes),
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class Reason:
    """Why a control is not applicable or not evidenced: a message code and its facts, said in the report's language."""

    code: str
    facts: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        return render(self.code, self.facts, lang)


@dataclass
class ExceptionUse:
    """An exception as it stood for this control and period."""

    scope: str
    justification: str
    owner: str
    approver: str
    expires: str
    state: str  # active | expiring_soon | expired | unused
    matched: int  # deviations and gaps it covered in the period


@dataclass
class Excepted:
    deviation: Deviation
    scope: str  # the exception that covered it
    owner: str
    expires: str


@dataclass
class ControlResult:
    control_id: str
    status: Status
    period_start: str
    period_end: str
    population: list[str]
    tested: int  # subject-dates (or subjects) with usable evidence
    deviations: list[Deviation] = field(default_factory=list)
    gaps: list[Deviation] = field(default_factory=list)  # subject-dates without usable evidence
    excepted: list[Excepted] = field(default_factory=list)
    observations: list[Deviation] = field(default_factory=list)
    exceptions: list[ExceptionUse] = field(default_factory=list)
    evidence: list[EvidenceRef] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    completeness: dict[str, Any] | None = None
    coverage: dict[str, Any] | None = None  # controls/coverage.py: unit, expected, evidenced, missing, minimum
    reason: Reason | None = None  # why not applicable or not evidenced
    tested_items: list[TestedItem] = field(default_factory=list)  # every subject-date recorded, by subject and date

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
