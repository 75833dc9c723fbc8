"""O-EEA: personal data is processed only inside the European Economic Area."""

from __future__ import annotations

from ..framework import EvaluationContext, Findings
from ._common import closing_day, evidence_or_gap, rows
from ._register_fields import label, subprocessors_in_use

CONTROL_ID = "O-EEA"
SUBPROCESSORS = "register.subprocessors"
LOCATIONS = "register.processing_locations"


def _judge(
    ctx: EvaluationContext, findings: Findings, subject: str, country: str, ids: list[str], outside_code: str, **facts: str
) -> None:
    """An unrecorded country is a deviation, not a gap: the processor must know where the data goes."""
    allowed = {c.strip().upper() for c in ctx.params["eea_countries"]}
    if not country:
        findings.deviation(subject, closing_day(ctx), "eea.no_country", ids, what=subject)
    elif country not in allowed:
        findings.deviation(subject, closing_day(ctx), outside_code, ids, country=country, **facts)
    else:
        findings.passed(subject)


def _country(row: dict) -> str:
    return str(row.get("location_country") or "").strip().upper()


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    # each register is tested on its own; a missing one is a gap, so the control cannot pass on half the picture
    subprocessors = evidence_or_gap(ctx, findings, SUBPROCESSORS)
    if subprocessors is not None:
        ids = findings.use([subprocessors])
        for row in subprocessors_in_use(subprocessors):
            name = label(row, "name")
            _judge(
                ctx,
                findings,
                name,
                _country(row),
                ids,
                "eea.subprocessor_outside",
                name=name,
                service=row.get("service"),
            )
    locations = evidence_or_gap(ctx, findings, LOCATIONS)
    if locations is not None:
        ids = findings.use([locations])
        for row in rows(locations):
            system = label(row, "system")
            _judge(ctx, findings, system, _country(row), ids, "eea.location_outside", system=system)
    return findings
