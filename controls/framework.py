"""What every evaluator gets (EvaluationContext) and gives back (Findings).

An evaluator is a pure function ``evaluate(ctx) -> Findings``: it lists the
population, what it tested, what deviated and which subject-dates had no usable
evidence; with every pass, deviation and gap it gives the attributes the test used
and the evidence ids they came from, so each tested subject-date can be
reperformed (controls/result.py TestedItem). The verdict, exceptions and status
are applied afterwards, the same way for every control (controls/evaluate.py),
so no evaluator can pass something silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from auditpack.periods import Period

from .evidence_view import EvidenceView, RunView
from .model import Control
from .result import Deviation, EvidenceRef


@dataclass(frozen=True)
class EvaluationContext:
    control: Control
    params: dict[str, Any]
    period: Period
    runs: list[RunView]  # collection runs inside the period
    evidence: list[EvidenceView]  # the control's evidence kinds: runs in the period, registers from any time
    today: date
    collection_unit: str = "week"  # how often a per-collection control is expected to be tested (the profile's)
    minimum_coverage: float = 0.9  # below this share of expected test dates the control is not evidenced

    def items(self, *kinds: str, usable_only: bool = True) -> list[EvidenceView]:
        """Evidence of these kinds, oldest first; by default only items collected and parsed without error."""
        return [e for e in self.evidence if e.kind in kinds and (not usable_only or e.usable)]

    def latest(self, kind: str) -> EvidenceView | None:
        """The newest usable item of a kind, e.g. the register as last imported."""
        found = self.items(kind)
        return found[-1] if found else None

    def days(self) -> list[date]:
        """Every calendar day of the period that has begun (a period reaching into the future stops today)."""
        first = self.period.start.date()
        last = min(self.period.last_day.date(), self.today)
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def in_period(self, moment: date | datetime) -> bool:
        day = moment.date() if isinstance(moment, datetime) else moment
        return self.period.start.date() <= day <= self.period.last_day.date()

    def hosts_with_roles(self, roles: Iterable[str]) -> set[str]:
        return {h for run in self.runs for h in run.hosts_with_roles(list(roles))}


Attributes = dict[str, Any]  # what a test read about one subject-date, by attribute key (see the catalogue)


@dataclass
class Reading:
    """What the test of one subject-date used: the attributes it read and the evidence items they came from."""

    attributes: Attributes
    evidence: list[str]
    rank: int  # whose attributes lead when several calls record one subject-date: see Findings._read

    def add(self, attributes: Attributes | None, evidence: Iterable[str], rank: int) -> None:
        self.evidence.extend(e for e in evidence if e not in self.evidence)
        for key, value in (attributes or {}).items():
            if rank > self.rank or key not in self.attributes:
                self.attributes[key] = value
        self.rank = max(self.rank, rank)


# A deviation's attributes show what deviated, so they win over a pass's of the same day (another read), and a
# pass's over a gap's; at the same rank the first read stays, as the first test of a day is the one counted.
GAP_RANK, PASS_RANK, DEVIATION_RANK = 0, 1, 2


@dataclass
class Findings:
    population: set[str] = field(default_factory=set)
    tested: int = 0
    deviations: list[Deviation] = field(default_factory=list)
    gaps: list[Deviation] = field(default_factory=list)
    observations: list[Deviation] = field(default_factory=list)  # listed for the auditor, not deviations
    used: dict[str, EvidenceRef] = field(default_factory=dict)
    completeness: dict[str, Any] | None = None
    readings: dict[tuple[str, str], Reading] = field(default_factory=dict)  # (subject, day) -> what its test used
    _tested_days: set[tuple[str, str]] = field(default_factory=set, repr=False)
    _recorded: dict[str, Deviation] = field(default_factory=dict, repr=False)

    def tested_days(self) -> set[date]:
        """The days on which some subject was tested (passed or deviated): what coverage counts."""
        return {date.fromisoformat(day[:10]) for _, day in self._tested_days}

    def was_tested(self, subject: str, day: str) -> bool:
        return (subject, day) in self._tested_days

    def use(self, items: Iterable[EvidenceView]) -> list[str]:
        """Record evidence as used; returns the ids to cite in a deviation."""
        ids = []
        for item in items:
            self.used[item.item_id] = item.ref()
            ids.append(item.item_id)
        return ids

    def _read(self, subject: str, day: str, attributes: Attributes | None, evidence: list[str] | None, rank: int) -> None:
        reading = self.readings.setdefault((subject, day), Reading({}, [], rank))
        reading.add(attributes, evidence or [], rank)

    def read(self, subject: str, day: date | str, evidence: list[str]) -> None:
        """More evidence the test of a subject-date used than its deviations cite (what a pass would cite)."""
        self._read(subject, str(day), None, evidence, GAP_RANK)

    def passed(
        self, subject: str, day: date | str, *, attributes: Attributes | None = None, evidence: list[str] | None = None
    ) -> None:
        """A tested subject-date without deviation, with the attributes the test used and their evidence ids;
        a later deviation on that day is not counted twice."""
        self.population.add(subject)
        self._read(subject, str(day), attributes, evidence, PASS_RANK)
        if (subject, str(day)) in self._tested_days:
            return  # two collections on one day test the same subject-date once
        self._tested_days.add((subject, str(day)))
        self.tested += 1

    def deviation(
        self,
        subject: str,
        day: date | str,
        code: str,
        evidence: list[str] | None = None,
        *,
        attributes: Attributes | None = None,
        **facts: Any,
    ) -> None:
        """A subject-date that failed; several reasons for the same subject-date count as one tested instance."""
        self.population.add(subject)
        self._read(subject, str(day), attributes, evidence, DEVIATION_RANK)
        if (subject, str(day)) not in self._tested_days:
            self._tested_days.add((subject, str(day)))
            self.tested += 1
        found = Deviation(subject, str(day), code, facts, evidence or [])
        twin = self._recorded.setdefault(found.key(), found)
        if twin is found:
            self.deviations.append(found)
        else:  # the same finding read twice (two items of one day): one finding, citing both
            twin.evidence.extend(e for e in found.evidence if e not in twin.evidence)

    def gap(
        self,
        subject: str,
        day: date | str,
        code: str,
        evidence: list[str] | None = None,
        *,
        attributes: Attributes | None = None,
        **facts: Any,
    ) -> None:
        self.population.add(subject)
        self._read(subject, str(day), attributes, evidence, GAP_RANK)
        self.gaps.append(Deviation(subject, str(day), code, facts, evidence or []))

    def observe(self, subject: str, day: date | str, code: str, evidence: list[str] | None = None, **facts: Any) -> None:
        """Something the auditor must see (a log clear, a rule change) that is not by itself a deviation."""
        self.observations.append(Deviation(subject, str(day), code, facts, evidence or []))


def parse_day(value: Any) -> date | None:
    """A date from a register cell or normalised evidence: ISO text, datetime or date; None when empty."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def parse_moment(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
