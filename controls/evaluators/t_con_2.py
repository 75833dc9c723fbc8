"""T-CON-2: once a year an external system administrator reviews all ICT systems for continuity."""

from __future__ import annotations

from datetime import date

from ..evidence_view import EvidenceView
from ..framework import EvaluationContext, Findings
from ._common import closing_day
from ._register_fields import dated_rows, readable

CONTROL_ID = "T-CON-2"
REGISTER = "register.continuity_reviews"
ATTACHMENT = "manual.evidence"
SUBJECT = "continuity_review"


def review_dates(ctx: EvaluationContext, findings: Findings) -> tuple[list[date], list[EvidenceView]]:
    """Review dates from the register and from documents attached to this control, with the items they came from."""
    dates: list[date] = []
    sources: list[EvidenceView] = []
    register = ctx.latest(REGISTER)
    if register is not None:
        sources.append(register)
        dates += [day for _, day in dated_rows(ctx, findings, register, "reviewed_on")]
    for item in ctx.items(ATTACHMENT):
        if item.normalized.get("control") == CONTROL_ID:
            sources.append(item)
            day = readable(item.normalized.get("date"))
            dates += [day] if day else []
    return dates, sources


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    dates, sources = review_dates(ctx, findings)
    last = closing_day(ctx)
    if not sources:
        findings.gap(REGISTER, last, "con2.no_evidence")
        return findings
    ids = findings.use(sources)
    earlier = [d for d in dates if d <= last]  # a review after the period cannot vouch for it
    if not earlier:
        findings.deviation(SUBJECT, last, "con2.none", ids, as_of=last.isoformat())
        return findings
    latest = max(earlier)
    age = (last - latest).days
    attributes = {"latest_review": latest.isoformat(), "review_age_days": age}
    if ctx.in_period(latest) or age <= ctx.params["max_age_days"]:
        findings.passed(SUBJECT, last, attributes=attributes, evidence=ids)
    else:
        findings.deviation(
            SUBJECT,
            last,
            "con2.too_old",
            ids,
            attributes=attributes,
            latest=latest.isoformat(),
            age_days=age,
            as_of=last.isoformat(),
            max_age_days=ctx.params["max_age_days"],
        )
    return findings
