"""Build evaluator inputs directly: evaluators are pure functions over evidence, so their tests need no store."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from auditpack.controls.evaluate import context_for, finalize
from auditpack.controls.evaluators import EVALUATORS
from auditpack.controls.evidence_view import EvidenceView, RunView
from auditpack.controls.exceptions import ExceptionEntry
from auditpack.controls.framework import EvaluationContext
from auditpack.controls.model import load_catalogue
from auditpack.controls.profiles import DEFAULT_PROFILE, Profile
from auditpack.controls.result import ControlResult
from auditpack.periods import Period, year_period

_ids = itertools.count(1)
YEAR_2026 = year_period(2026)
AFTER_2026 = date(2027, 1, 20)
# For tests of what one collection shows: how much of the year the evidence covers is not what they test.
SNAPSHOT = DEFAULT_PROFILE.model_copy(update={"minimum_coverage": 0.0})  # the audit is prepared after the year ends


def item(
    kind: str,
    normalized: Any,
    host: str = "registers",
    day: str = "2026-06-01",
    seq: int = 1,
    status: str = "ok",
    errors: tuple[str, ...] = (),
    as_of: str | None = None,
) -> EvidenceView:
    n = next(_ids)
    return EvidenceView(
        item_id=f"item{n:012d}",
        run_seq=seq,
        host=host,
        kind=kind,
        command=f"test {kind}",
        started=f"{day}T08:00:00.000000Z",
        status=status,
        raw_sha256=f"{n:064x}",
        errors=errors,
        normalized=normalized if status == "ok" else None,
        as_of=as_of,
    )


def register(name: str, rows: list[dict[str, Any]], day: str = "2027-01-10") -> EvidenceView:
    numbered = [dict(row, row=i + 2) for i, row in enumerate(rows)]
    return item(f"register.{name}", {"register": name, "file": f"{name}.csv", "rows": numbered}, day=day, seq=999)


def run(seq: int, day: str, hosts: dict[str, list[str]], status: dict[str, str] | None = None) -> RunView:
    status = status or {}
    return RunView(
        seq,
        f"run{seq}",
        f"{day}T08:00:00.000000Z",
        {h: {"roles": roles, "status": status.get(h, "ok"), "errors": []} for h, roles in hosts.items()},
    )


def context(
    control_id: str,
    evidence: list[EvidenceView] = (),
    runs: list[RunView] = (),
    period: Period = YEAR_2026,
    today: date = AFTER_2026,
    profile: Profile = DEFAULT_PROFILE,
    **params: Any,
) -> EvaluationContext:
    control = load_catalogue()[control_id]
    unknown = set(params) - set(control.parameters)
    assert not unknown, f"{control_id} has no parameter(s) {unknown}"
    profile = profile.model_copy(update={"parameters": {control_id: params}})
    return context_for(control, profile, period, list(runs), list(evidence), today)


def evaluate(
    control_id: str,
    evidence: list[EvidenceView] = (),
    runs: list[RunView] = (),
    exceptions: list[ExceptionEntry] = (),
    **kwargs: Any,
) -> ControlResult:
    ctx = context(control_id, evidence, runs, **kwargs)
    return finalize(ctx, EVALUATORS[control_id](ctx), exceptions)


def evaluate_snapshot(*args: Any, **kwargs: Any) -> ControlResult:
    """evaluate() where only the logic on the collections given matters, not how much of the year they cover."""
    return evaluate(*args, profile=SNAPSHOT, **kwargs)
