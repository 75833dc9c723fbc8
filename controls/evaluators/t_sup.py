"""T-SUP: a processor agreement exists with every sub-processor in use, and the register is kept up to date."""

from __future__ import annotations

from ..evidence_view import EvidenceView
from ..framework import EvaluationContext, Findings
from ._common import closing_day, on_register, rows
from ._register_fields import label, readable, subprocessors_in_use

CONTROL_ID = "T-SUP"
REGISTER = "register.subprocessors"
REGISTER_SUBJECT = "register"


def _test_agreements(ctx: EvaluationContext, findings: Findings, register: EvidenceView, ids: list[str]) -> None:
    last = closing_day(ctx)
    for row in subprocessors_in_use(register):
        name, service = label(row, "name"), row.get("service")
        signed = readable(row.get("agreement_signed_on"))
        attributes = {
            "row": row.get("row"),
            "service": row.get("service"),
            "agreement_signed_on": signed.isoformat() if signed else None,
        }
        if signed is None:
            findings.deviation(name, last, "sup.no_agreement", ids, attributes=attributes, name=name, service=service)
        elif signed > last:
            findings.deviation(
                name,
                last,
                "sup.signed_late",
                ids,
                attributes=attributes,
                name=name,
                service=service,
                signed_on=signed.isoformat(),
                as_of=last.isoformat(),
            )
        else:
            findings.passed(name, last, attributes=attributes, evidence=ids)


def _test_review(ctx: EvaluationContext, findings: Findings, register: EvidenceView, ids: list[str]) -> None:
    last = closing_day(ctx)
    reviews = [d for r in rows(register) if (d := readable(r.get("last_reviewed_on"))) and d <= last]
    limit = ctx.params["review_max_age_days"]
    if not reviews:
        findings.deviation(REGISTER_SUBJECT, last, "sup.never_reviewed", ids, as_of=last.isoformat())
        return
    newest = max(reviews)
    age = (last - newest).days
    attributes = {"last_reviewed_on": newest.isoformat(), "review_age_days": age}
    if age > limit:
        findings.deviation(
            REGISTER_SUBJECT,
            last,
            "sup.review_overdue",
            ids,
            attributes=attributes,
            last_reviewed=newest.isoformat(),
            age_days=age,
            as_of=last.isoformat(),
            max_age_days=limit,
        )
    else:
        findings.passed(REGISTER_SUBJECT, last, attributes=attributes, evidence=ids)


@on_register(REGISTER)
def evaluate(ctx: EvaluationContext, findings: Findings, register: EvidenceView, ids: list[str]) -> None:
    _test_agreements(ctx, findings, register, ids)
    _test_review(ctx, findings, register, ids)
