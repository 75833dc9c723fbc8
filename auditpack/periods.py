"""Reporting periods: a calendar year, or explicit dates (UTC, end exclusive)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from .errors import AuditpackError


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime  # exclusive

    @property
    def last_day(self) -> datetime:
        return self.end - timedelta(microseconds=1)

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} – {self.last_day:%Y-%m-%d}"


class PeriodError(AuditpackError, ValueError):
    """Period options that do not make a period."""


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def year_period(year: int) -> Period:
    return Period(_midnight(date(year, 1, 1)), _midnight(date(year + 1, 1, 1)))


def period_from_options(year: int | None, start: date | None, end: date | None, fallback_year: int) -> Period:
    """--period YEAR, or --from/--to (inclusive dates); otherwise the fallback year."""
    if year is not None and (start or end):
        raise PeriodError("give either --period or --from/--to, not both")
    if start or end:
        if not (start and end):
            raise PeriodError("--from and --to go together")
        if end < start:
            raise PeriodError(f"--to {end} lies before --from {start}")
        return Period(_midnight(start), _midnight(end) + timedelta(days=1))
    return year_period(year if year is not None else fallback_year)
