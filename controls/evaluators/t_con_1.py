"""T-CON-1: the emergency generator that bridges power failures is tested, and the tests succeed."""

from __future__ import annotations

from ..evidence_view import EvidenceView
from ..framework import EvaluationContext, Findings
from ._common import closing_day, on_register
from ._register_fields import dated_rows, succeeded

CONTROL_ID = "T-CON-1"
REGISTER = "register.generator_tests"
SUBJECT = "generator"


@on_register(REGISTER)
def evaluate(ctx: EvaluationContext, findings: Findings, register: EvidenceView, ids: list[str]) -> None:
    successful = 0
    for row, day in dated_rows(ctx, findings, register, "tested_on"):
        if not ctx.in_period(day):
            continue
        attributes = {"row": row.get("row"), "test_result": row.get("result"), "notes": row.get("notes")}
        if succeeded(row):
            successful += 1
            findings.passed(SUBJECT, day, attributes=attributes, evidence=ids)
        else:
            findings.deviation(
                SUBJECT, day, "con1.failed", ids, attributes=attributes, result=row.get("result"), notes=row.get("notes")
            )
    required = ctx.params["min_tests_per_period"]
    if successful < required:
        findings.deviation(
            SUBJECT,
            closing_day(ctx),
            "con1.too_few",
            ids,
            attributes={"successful_tests": successful},
            successful=successful,
            required=required,
        )
