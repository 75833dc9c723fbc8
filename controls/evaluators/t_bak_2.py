"""T-BAK-2: backups are checked by a restore test at least every two months (default: 62 days apart)."""

from __future__ import annotations

from datetime import date

from ..evidence_view import EvidenceView
from ..framework import EvaluationContext, Findings
from ._common import closing_day, on_register
from ._register_fields import dated_rows, label, succeeded

CONTROL_ID = "T-BAK-2"
REGISTER = "register.restore_tests"


def intervals(ctx: EvaluationContext, success_days: list[date]) -> list[tuple[date, date]]:
    """Period start -> each successful test -> the last day evaluated; empty stretches (a test on an edge) drop out."""
    edges = [ctx.period.start.date(), *sorted(set(success_days)), closing_day(ctx)]
    return [(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]


@on_register(REGISTER)
def evaluate(ctx: EvaluationContext, findings: Findings, register: EvidenceView, ids: list[str]) -> None:
    tests = [
        (row, day)
        for row, day in dated_rows(ctx, findings, register, "tested_on")
        if ctx.period.start.date() <= day <= closing_day(ctx)
    ]
    successes = [day for row, day in tests if succeeded(row)]
    limit = ctx.params["max_interval_days"]
    for start, end in intervals(ctx, successes):
        days = (end - start).days
        attributes = {"interval_from": start.isoformat(), "interval_to": end.isoformat(), "interval_days": days}
        if days > limit:
            findings.deviation(
                f"{start}/{end}",
                end,
                "bak2.interval",
                ids,
                attributes=attributes,
                days=days,
                max_interval_days=limit,
                **{"from": start.isoformat(), "to": end.isoformat()},
            )
        else:
            findings.passed(f"{start}/{end}", end, attributes=attributes, evidence=ids)
    for row, day in tests:
        if not succeeded(row):
            findings.deviation(
                label(row, "server"),
                day,
                "bak2.failed",
                ids,
                attributes={"row": row.get("row"), "test_result": row.get("result"), "performed_by": row.get("performed_by")},
                server=row.get("server"),
                result=row.get("result"),
                notes=row.get("notes"),
            )
