"""T-BAK-3: every week a report tells whether the backups succeeded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from ..evidence_view import EvidenceView
from ..framework import EvaluationContext, Findings
from ._common import closing_day, on_register, one_or_all
from ._register_fields import dated_rows

CONTROL_ID = "T-BAK-3"
REGISTER = "register.backup_reports"


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def weeks(ctx: EvaluationContext) -> Iterator[date]:
    """The Monday of every ISO week that overlaps the period and has begun."""
    start = ctx.period.start.date()
    monday = start - timedelta(days=start.weekday())
    while monday <= closing_day(ctx):
        yield monday
        monday += timedelta(days=7)


@on_register(REGISTER)
def evaluate(ctx: EvaluationContext, findings: Findings, register: EvidenceView, ids: list[str]) -> None:
    # a report counts for its own ISO week, even when that week begins before the period does
    reported: dict[str, list[str]] = {}
    for _, day in dated_rows(ctx, findings, register, "sent_on"):
        reported.setdefault(week_label(day), []).append(day.isoformat())
    for monday in weeks(ctx):
        label, sunday = week_label(monday), monday + timedelta(days=6)
        day = min(sunday, closing_day(ctx))
        attributes = {
            "week_from": monday.isoformat(),
            "week_to": sunday.isoformat(),
            "sent_on": one_or_all(sorted(reported.get(label, []))),
        }
        if label in reported:
            findings.passed(label, day, attributes=attributes, evidence=ids)
        else:
            findings.deviation(
                label,
                day,
                "bak3.no_report",
                ids,
                attributes=attributes,
                week=label,
                **{"from": monday.isoformat(), "to": sunday.isoformat()},
            )
