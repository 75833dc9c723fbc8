"""O-BRE: every data breach is recorded and the customer is told without delay (default: within 24 hours)."""

from __future__ import annotations

from datetime import UTC, datetime

from ..evidence_view import EvidenceView
from ..framework import EvaluationContext, Findings, parse_moment
from ._common import on_register
from ._register_fields import dated_rows, label, readable

CONTROL_ID = "O-BRE"
REGISTER = "register.breaches"


def hours_between(start: datetime, end: datetime) -> float:
    """Hours from start to end; a moment without an offset is read as UTC, as the evidence contract prescribes."""
    if (start.tzinfo is None) != (end.tzinfo is None):
        start, end = (m if m.tzinfo else m.replace(tzinfo=UTC) for m in (start, end))
    return (end - start).total_seconds() / 3600


@on_register(REGISTER)
def evaluate(ctx: EvaluationContext, findings: Findings, register: EvidenceView, ids: list[str]) -> None:
    limit = ctx.params["max_notification_hours"]
    for row, detected in dated_rows(ctx, findings, register, "detected_at", parse_moment):
        if not ctx.in_period(detected):
            continue
        breach = label(row, "breach_id")
        notified = readable(row.get("customer_notified_at"), parse_moment)
        facts = {"breach_id": breach, "detected_at": detected.isoformat()}
        hours = hours_between(detected, notified) if notified else None
        attributes = {
            "detected_at": detected.isoformat(),
            "notified_at": notified.isoformat() if notified else None,
            "delay_hours": round(hours, 2) if hours is not None else None,
            "row": row.get("row"),
        }
        day = detected.date()
        if notified is None or hours is None:
            findings.deviation(breach, day, "bre.not_notified", ids, attributes=attributes, **facts)
        elif hours < 0:
            findings.deviation(
                breach, day, "bre.before_detection", ids, attributes=attributes, notified_at=notified.isoformat(), **facts
            )
        elif hours > limit:
            findings.deviation(
                breach,
                day,
                "bre.late",
                ids,
                attributes=attributes,
                hours=round(hours, 2),
                max_hours=limit,
                notified_at=notified.isoformat(),
                **facts,
            )
        else:
            findings.passed(breach, day, attributes=attributes, evidence=ids)
