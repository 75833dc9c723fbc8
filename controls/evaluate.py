"""Evaluate the catalogue over a period, from the evidence store only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from auditpack.periods import Period
from auditpack.store import EvidenceStore

from .coverage import COLLECTION_UNIT_OF_FREQUENCY, Coverage, measure, unit_for
from .evaluators import EVALUATORS
from .evidence_view import EvidenceView, RunView
from .exceptions import ExceptionEntry
from .framework import EvaluationContext, Findings
from .model import Control, load_catalogue
from .profiles import DEFAULT_PROFILE, Profile
from .result import (
    DEFAULT_TOLERANCE,
    ControlResult,
    Deviation,
    Excepted,
    ExceptionUse,
    ItemResult,
    Reason,
    Status,
    TestedItem,
    overall_status,
)

# Registers, attached documents and kinds whose records carry their own dates
# (event counts per day, backup runs, detections) describe the period whenever
# they were collected (often after the year ends), so they are not limited to
# the period's runs; the evaluators look at the dates inside.
TIMELESS_PREFIXES = ("register.", "manual.")
DATED_KINDS = {
    "windows.security_events_daily",
    "ad.account_disabled_events",
    "av.detections",
    "backup.runs",
    "windows.account_changes",
    "windows.firewall_events",
}


def describes_history(kind: str) -> bool:
    return kind.startswith(TIMELESS_PREFIXES) or kind in DATED_KINDS


def runs_in_period(
    store: EvidenceStore, period: Period, only_seq: int | None = None, hosts: Sequence[str] | None = None
) -> list[RunView]:
    views = []
    for ref, body in store.manifests_started(period.start, period.end, only_seq):
        run_hosts = {h: info for h, info in body["hosts"].items() if not hosts or h in hosts}
        views.append(RunView(ref.seq, body["run_id"], body["started"], run_hosts))
    return views


def evidence_for(
    store: EvidenceStore,
    kinds: list[str],
    runs: list[RunView],
    hosts: Sequence[str] | None = None,
    collected_before: datetime | None = None,
) -> list[EvidenceView]:
    seqs = {r.seq for r in runs}
    views = []
    # COLLECTED_BEFORE: what was known at that moment only (the alerts of a past day are not judged on later reads)
    for rec in store.items(kinds=kinds, end=collected_before):
        # an item that says which day it speaks for (an imported export) is passed on whenever it was imported;
        # the evaluators test it on that day, when the day lies in the period (_per_run.host_items_per_day)
        if describes_history(rec.kind) or rec.as_of:
            if hosts and rec.host not in hosts and not rec.kind.startswith(TIMELESS_PREFIXES):
                continue
        elif rec.run_seq not in seqs or (hosts and rec.host not in hosts):
            continue
        normalized = store.read_json(rec.normalized_sha256) if rec.normalized_sha256 else None
        views.append(
            EvidenceView(
                rec.id,
                rec.run_seq,
                rec.host,
                rec.kind,
                rec.command,
                rec.started,
                rec.status,
                rec.raw_sha256,
                rec.errors,
                normalized,
                rec.as_of,
            )
        )
    return views


def finalize(ctx: EvaluationContext, findings: Findings, exceptions: Sequence[ExceptionEntry]) -> ControlResult:
    """Apply exceptions and the status rule the same way for every control."""
    own = [e for e in exceptions if e.control == ctx.control.id]
    matched = {id(e): 0 for e in own}
    kept = {"deviations": [], "gaps": []}
    excepted = []
    for bucket in ("deviations", "gaps"):
        for dev in sorted(getattr(findings, bucket), key=lambda d: (d.date, d.subject, d.code)):
            day = date.fromisoformat(dev.date[:10])
            cover = next((e for e in own if e.covers(ctx.control.id, dev.subject, day)), None)
            if cover is None:
                kept[bucket].append(dev)
            else:
                matched[id(cover)] += 1
                excepted.append(Excepted(dev, cover.scope, cover.owner, cover.expires.isoformat()))
    # a subject-date tested on some evidence is evidenced, whatever another item of that day lacked
    kept["gaps"] = [g for g in kept["gaps"] if not findings.was_tested(g.subject, g.date)]
    tolerance = ctx.params.get("tolerated_deviation_rate", DEFAULT_TOLERANCE)
    failed = len({(d.subject, d.date) for d in kept["deviations"]})
    gaps = len({(d.subject, d.date) for d in kept["gaps"]})
    status = overall_status(len(findings.population), findings.tested, failed, gaps, tolerance)
    coverage = _coverage(ctx, findings)
    thin = coverage is not None and not coverage.sufficient
    if thin and status in (Status.EFFECTIVE, Status.EFFECTIVE_WITH_DEVIATIONS):
        status = Status.NOT_EVIDENCED  # a verdict over the period needs evidence over the period
    return ControlResult(
        control_id=ctx.control.id,
        status=status,
        period_start=ctx.period.start.isoformat(),
        period_end=ctx.period.end.isoformat(),
        population=sorted(findings.population),
        tested=findings.tested,
        deviations=kept["deviations"],
        gaps=kept["gaps"],
        excepted=excepted,
        observations=sorted(findings.observations, key=lambda d: (d.date, d.subject, d.code)),
        exceptions=[
            ExceptionUse(
                e.scope,
                e.justification,
                e.owner,
                e.approver,
                e.expires.isoformat(),
                e.state(ctx.today, matched[id(e)] > 0),
                matched[id(e)],
            )
            for e in own
        ],
        evidence=sorted(findings.used.values(), key=lambda r: (r.collected, r.host, r.kind)),
        parameters=ctx.params,
        completeness=findings.completeness,
        coverage=coverage.to_dict() if coverage else None,
        reason=_reason(ctx, status, findings, kept["gaps"], coverage if thin else None),
        tested_items=tested_items(findings, kept["deviations"], kept["gaps"], [e.deviation for e in excepted]),
    )


def tested_items(
    findings: Findings, deviations: list[Deviation], gaps: list[Deviation], excepted: list[Deviation]
) -> list[TestedItem]:
    """Every subject-date the evaluator recorded, with its result after exceptions: a deviation left standing
    decides, then one covered by an exception, then a test without deviation; otherwise it was not evidenced."""
    codes: dict[ItemResult, dict[tuple[str, str], list[str]]] = {}
    for result, found in ((ItemResult.DEVIATION, deviations), (ItemResult.EXCEPTED, excepted), (ItemResult.NOT_EVIDENCED, gaps)):
        per_item = codes.setdefault(result, {})
        for d in found:
            item_codes = per_item.setdefault((d.subject, d.date), [])
            item_codes += [d.code] if d.code not in item_codes else []
    items = []
    for (subject, day), reading in sorted(findings.readings.items()):
        key = (subject, day)
        if key in codes[ItemResult.DEVIATION]:
            result = ItemResult.DEVIATION
        elif key in codes[ItemResult.EXCEPTED]:
            result = ItemResult.EXCEPTED
        elif findings.was_tested(subject, day):
            result = ItemResult.PASSED
        else:
            result = ItemResult.NOT_EVIDENCED
        found = codes.get(result, {}).get(key, [])
        items.append(TestedItem(subject, day, result, list(found), dict(reading.attributes), list(reading.evidence)))
    return items


def _coverage(ctx: EvaluationContext, findings: Findings) -> Coverage | None:
    """Coverage by dates, for controls tested on collected evidence; a register or document covers its own period
    (its evaluator judges the intervals between its dated rows), so it has none."""
    unit = unit_for(ctx.control.frequency, ctx.collection_unit)
    if unit is None or all(kind.startswith(TIMELESS_PREFIXES) for kind in ctx.control.evidence_kinds):
        return None
    last = min(ctx.period.last_day.date(), ctx.today)
    return measure(ctx.period.start.date(), last, unit, findings.tested_days(), ctx.minimum_coverage)


def _reason(
    ctx: EvaluationContext, status: Status, findings: Findings, gaps: list[Deviation], thin: Coverage | None
) -> Reason | None:
    """Why the control is not applicable or not evidenced, in words the report can say in either language."""
    if status == Status.NOT_APPLICABLE:
        if not ctx.runs and not ctx.evidence:
            return Reason("reason.no_runs")
        return Reason("reason.no_subject", {"kinds": ", ".join(ctx.control.evidence_kinds)})
    if status != Status.NOT_EVIDENCED:
        return None
    if thin is not None and findings.tested:
        return Reason(
            "reason.thin_coverage",
            {
                "evidenced": thin.evidenced,
                "expected": thin.expected,
                "unit": thin.unit,
                "percent": round(100 * thin.ratio),
                "minimum": round(100 * thin.minimum),
            },
        )
    first = gaps[0] if gaps else None
    return Reason(
        "reason.no_usable_evidence",
        {"gaps": len({(g.subject, g.date) for g in gaps}), "first": f"{first.subject} {first.date}" if first else None},
    )


def context_for(
    control: Control, profile: Profile, period: Period, runs: list[RunView], evidence: list[EvidenceView], today: date
) -> EvaluationContext:
    """What one control's evaluator sees, with the profile's parameters and coverage settings applied."""
    params = control.parameter_values(profile.parameters.get(control.id))
    return EvaluationContext(
        control,
        params,
        period,
        runs,
        evidence,
        today,
        COLLECTION_UNIT_OF_FREQUENCY[profile.collection_frequency],
        profile.minimum_coverage,
    )


def evaluate_controls(
    store: EvidenceStore,
    period: Period,
    catalogue: dict[str, Control] | None = None,
    profile: Profile = DEFAULT_PROFILE,
    exceptions: Sequence[ExceptionEntry] = (),
    only_seq: int | None = None,
    control_ids: Sequence[str] | None = None,
    hosts: Sequence[str] | None = None,
    today: date | None = None,
    collected_before: datetime | None = None,
) -> list[ControlResult]:
    catalogue = catalogue or load_catalogue()
    today = today or date.today()
    runs = runs_in_period(store, period, only_seq, hosts)
    results = []
    for control_id, control in sorted(catalogue.items()):
        if control_ids and control_id not in control_ids:
            continue
        evidence = evidence_for(store, control.evidence_kinds, runs, hosts, collected_before)
        ctx = context_for(control, profile, period, runs, evidence, today)
        results.append(finalize(ctx, EVALUATORS[control_id](ctx), exceptions))
    return results
