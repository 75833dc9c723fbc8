"""Evaluate the catalogue over a period, from the evidence store only."""

from __future__ import annotations

from typing import Any

from auditpack.canonical import parse_iso
from auditpack.store import EvidenceStore

from .evaluators import EVALUATORS
from .evidence_view import EvidenceView, Period, RunView
from .model import Control, load_catalogue
from .result import ControlResult


def runs_in_period(store: EvidenceStore, period: Period, only_seq: int | None = None) -> list[RunView]:
    views = []
    for ref in store.manifest_refs():
        if only_seq is not None and ref.seq != only_seq:
            continue
        body = store.load_manifest(ref)
        if period.start <= parse_iso(body["started"]) < period.end:
            views.append(RunView(ref.seq, body["run_id"], body["started"], body["hosts"]))
    return views


def evidence_for(store: EvidenceStore, kinds: list[str], runs: list[RunView]) -> list[EvidenceView]:
    seqs = {r.seq for r in runs}
    views = []
    for rec in store.items(kinds=kinds):
        if rec.run_seq not in seqs:
            continue
        normalized = store.read_json(rec.normalized_sha256) if rec.normalized_sha256 else None
        views.append(EvidenceView(rec.id, rec.run_seq, rec.host, rec.kind, rec.command, rec.started, rec.status,
                                  rec.raw_sha256, rec.errors, normalized))
    return views


def evaluate_controls(store: EvidenceStore, period: Period, catalogue: dict[str, Control] | None = None,
                      overrides: dict[str, dict[str, Any]] | None = None, only_seq: int | None = None) -> list[ControlResult]:
    catalogue = catalogue or load_catalogue()
    runs = runs_in_period(store, period, only_seq)
    results = []
    for control_id, control in sorted(catalogue.items()):
        evaluator = EVALUATORS.get(control_id)
        if evaluator is None:
            continue
        params = control.parameter_values((overrides or {}).get(control_id))
        results.append(evaluator(control, params, period, runs, evidence_for(store, control.evidence_kinds, runs)))
    return results
