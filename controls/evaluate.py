"""Evaluate the catalogue over a period, from the evidence store only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from auditpack.periods import Period
from auditpack.store import EvidenceStore

from .evaluators import EVALUATORS
from .evidence_view import EvidenceView, RunView
from .exceptions import ExceptionEntry
from .framework import EvaluationContext, Findings
from .model import Control, load_catalogue
from .profiles import DEFAULT_PROFILE, Profile
from .result import DEFAULT_TOLERANCE, ControlResult, Excepted, ExceptionUse, overall_status

# Registers, attached documents and kinds whose records carry their own dates
# (event counts per day, backup runs, detections) describe the period whenever
# they were collected (often after the year ends), so they are not limited to
# the period's runs; the evaluators look at the dates inside.
TIMELESS_PREFIXES = ("register.", "manual.")
DATED_KINDS = {"windows.security_events_daily", "ad.account_disabled_events", "av.detections", "backup.runs"}


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
    store: EvidenceStore, kinds: list[str], runs: list[RunView], hosts: Sequence[str] | None = None
) -> list[EvidenceView]:
    seqs = {r.seq for r in runs}
    views = []
    for rec in store.items(kinds=kinds):
        # an item that says which day it speaks for (an imported backup) counts for that day, whenever it was imported
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
    tolerance = ctx.params.get("tolerated_deviation_rate", DEFAULT_TOLERANCE)
    failed = len({(d.subject, d.date) for d in kept["deviations"]})
    gaps = len({(d.subject, d.date) for d in kept["gaps"]})
    status = overall_status(len(findings.population), findings.tested, failed, gaps, tolerance)
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
) -> list[ControlResult]:
    catalogue = catalogue or load_catalogue()
    today = today or date.today()
    runs = runs_in_period(store, period, only_seq, hosts)
    results = []
    for control_id, control in sorted(catalogue.items()):
        if control_ids and control_id not in control_ids:
            continue
        params = control.parameter_values(profile.parameters.get(control_id))
        ctx = EvaluationContext(control, params, period, runs, evidence_for(store, control.evidence_kinds, runs, hosts), today)
        results.append(finalize(ctx, EVALUATORS[control_id](ctx), exceptions))
    return results
