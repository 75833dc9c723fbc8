"""O-EEA: personal data is processed only inside the European Economic Area."""

from __future__ import annotations

from ..evidence_view import EvidenceView
from ..framework import EvaluationContext, Findings
from ._common import closing_day, evidence_or_gap, rows
from ._register_fields import label, subprocessors_in_use

CONTROL_ID = "O-EEA"
SUBPROCESSORS = "register.subprocessors"
LOCATIONS = "register.processing_locations"


def _judge(
    ctx: EvaluationContext,
    findings: Findings,
    register: EvidenceView,
    row: dict,
    subject: str,
    outside_code: str,
    **facts: str,
) -> None:
    """An unrecorded country is a deviation, not a gap: the processor must know where the data goes."""
    allowed = {c.strip().upper() for c in ctx.params["eea_countries"]}
    country, day, ids = _country(row), closing_day(ctx), [register.item_id]
    attributes = {"register": register.kind.removeprefix("register."), "row": row.get("row"), "country": country or None}
    if not country:
        findings.deviation(subject, day, "eea.no_country", ids, attributes=attributes, what=subject)
    elif country not in allowed:
        findings.deviation(subject, day, outside_code, ids, attributes=attributes, country=country, **facts)
    else:
        findings.passed(subject, day, attributes=attributes, evidence=ids)


def _country(row: dict) -> str:
    return str(row.get("location_country") or "").strip().upper()


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    # each register is tested on its own; a missing one is a gap, so the control cannot pass on half the picture
    subprocessors = evidence_or_gap(ctx, findings, SUBPROCESSORS)
    if subprocessors is not None:
        findings.use([subprocessors])
        for row in subprocessors_in_use(subprocessors):
            name = label(row, "name")
            _judge(
                ctx,
                findings,
                subprocessors,
                row,
                name,
                "eea.subprocessor_outside",
                name=name,
                service=row.get("service"),
            )
    locations = evidence_or_gap(ctx, findings, LOCATIONS)
    if locations is not None:
        findings.use([locations])
        for row in rows(locations):
            system = label(row, "system")
            _judge(ctx, findings, locations, row, system, "eea.location_outside", system=system)
    return findings
