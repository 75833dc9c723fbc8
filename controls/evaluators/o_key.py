"""O-KEY: every key (badge) is personal, and the badge log records entries and exits all period long."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from ..evidence_view import EvidenceView
from ..framework import EvaluationContext, Findings, parse_moment
from ._common import Outcome, Row, closing_day, record, require, rows
from ._people import badges_in_use, first_match
from ._register_fields import dated_rows

CONTROL_ID = "O-KEY"
BADGES = "register.badges"
LOG = "register.badge_log"
LOG_SUBJECT = "badge log"


def log_stretches(event_days: Iterable[date], first: date, last: date) -> list[tuple[date, date]]:
    """The stretches between the period start, each day with records, and the last day seen.

    The period start and the last day counted (period end or today) act as
    fixed points, so a log that starts late or stops early shows as a gap too.
    """
    points = [first, *sorted(d for d in set(event_days) if first <= d <= last), last]
    return list(zip(points, points[1:], strict=False))


def log_gaps(event_days: set[date], first: date, last: date, max_gap: int) -> list[tuple[date, date]]:
    """Stretches longer than max_gap days (see log_stretches)."""
    return [(a, b) for a, b in log_stretches(event_days, first, last) if (b - a).days > max_gap]


def holder_outcomes(badge: Row, patterns: list[str], ids: list[str]) -> list[Outcome]:
    holder = str(badge.get("holder") or "").strip()
    if holder and not first_match(holder, patterns):
        return []
    return [Outcome("key.generic_holder", ids, {"badge_id": str(badge.get("badge_id")), "holder": holder or None})]


def check_holders(ctx: EvaluationContext, findings: Findings, badges: EvidenceView) -> None:
    ids = findings.use([badges])
    for badge in badges_in_use(ctx, rows(badges)):
        outcomes = holder_outcomes(badge, ctx.params["generic_holder_patterns"], ids)
        attributes = {
            "holder": str(badge.get("holder") or "").strip() or None,
            "role": badge.get("role"),
            "row": badge.get("row"),
        }
        record(findings, str(badge.get("badge_id")), closing_day(ctx), outcomes, attributes, ids)


def check_log_coverage(ctx: EvaluationContext, findings: Findings, log: EvidenceView) -> None:
    ids = findings.use([log])
    max_gap = ctx.params["max_gap_days"]
    # the day in the offset the badge system wrote, i.e. its local calendar day
    event_days = {moment.date() for _, moment in dated_rows(ctx, findings, log, "timestamp", parse_moment)}
    first, last = ctx.period.start.date(), closing_day(ctx)
    gaps = log_gaps(event_days, first, last, max_gap)
    for start, end in gaps:
        findings.deviation(
            LOG_SUBJECT,
            start,
            "key.log_gap",
            ids,
            attributes={"gap_from": start.isoformat(), "gap_to": end.isoformat(), "gap_days": (end - start).days},
            days=(end - start).days,
            allowed=max_gap,
            **{"from": start.isoformat(), "to": end.isoformat()},
        )
    if not gaps:
        days_with_records = sum(1 for d in event_days if first <= d <= last)
        longest = max((b - a).days for a, b in log_stretches(event_days, first, last))
        attributes = {"days_with_records": days_with_records, "longest_gap_days": longest}
        findings.passed(LOG_SUBJECT, last, attributes=attributes, evidence=ids)


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    # Without the log the promise "every entry and exit is logged" cannot be tested, so nothing is judged.
    found = require(ctx, findings, BADGES, LOG)
    if found is None:
        return findings
    check_holders(ctx, findings, found[BADGES])
    check_log_coverage(ctx, findings, found[LOG])
    return findings
