"""Coverage: the test dates a control expects in a period, and how many of them the evidence covers.

A daily control expects every day, a weekly one every week, a monthly one every month; a control tested on
each collection expects the profile's collection frequency (weekly unless the profile says otherwise). A unit
is evidenced when at least one subject was tested (passed or deviated) on a day inside it. Units that have not
begun (a period reaching past today) are not expected. Yearly and per-event controls test subjects, not dates:
they get no coverage by dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

# The catalogue's frequencies and the unit each one expects; None: tested per subject, not per date.
UNIT_OF_FREQUENCY: dict[str, str | None] = {
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "yearly": None,
    "per_event": None,
    "per_collection": "collection",  # resolved to the profile's collection frequency
}
# The profile's collection_frequency and the unit a per-collection control is then expected in.
COLLECTION_UNIT_OF_FREQUENCY = {"daily": "day", "weekly": "week", "monthly": "month"}


@dataclass(frozen=True)
class Coverage:
    unit: str  # day | week | month
    expected: int
    evidenced: int
    missing: list[list[str]]  # [first day, last day] of each run of expected units without evidence
    minimum: float

    @property
    def ratio(self) -> float:
        return self.evidenced / self.expected if self.expected else 0.0

    @property
    def sufficient(self) -> bool:
        return self.expected > 0 and self.ratio >= self.minimum

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "expected": self.expected,
            "evidenced": self.evidenced,
            "missing": self.missing,
            "minimum": self.minimum,
        }


def _unit_start(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    if unit == "month":
        return day.replace(day=1)
    return day


def _next_start(start: date, unit: str) -> date:
    if unit == "week":
        return start + timedelta(days=7)
    if unit == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def expected_units(first: date, last: date, unit: str) -> list[tuple[date, date]]:
    """Each unit overlapping [first, last], clipped to it, as (first day, last day)."""
    units, start = [], _unit_start(first, unit)
    while start <= last:
        end = _next_start(start, unit) - timedelta(days=1)
        units.append((max(start, first), min(end, last)))
        start = end + timedelta(days=1)
    return units


def measure(first: date, last: date, unit: str, tested_days: set[date], minimum: float) -> Coverage:
    """Coverage of [first, last] (last: the period's last day, or today when the period has not ended)."""
    units = expected_units(first, last, unit) if first <= last else []
    covered = [any(a <= d <= b for d in tested_days) for a, b in units]
    missing: list[list[str]] = []
    for (a, b), ok in zip(units, covered, strict=True):
        if ok:
            continue
        if missing and date.fromisoformat(missing[-1][1]) + timedelta(days=1) == a:
            missing[-1][1] = b.isoformat()  # consecutive missing units make one range
        else:
            missing.append([a.isoformat(), b.isoformat()])
    return Coverage(unit, len(units), sum(covered), missing, minimum)


def unit_for(frequency: str, collection_unit: str) -> str | None:
    unit = UNIT_OF_FREQUENCY[frequency]
    return collection_unit if unit == "collection" else unit
