"""Shared by controls tested host by host on every collection run: who is in scope, with which evidence."""

from __future__ import annotations

from collections.abc import Iterator

from ..evidence_view import EvidenceView, RunView
from ..framework import EvaluationContext, Findings


def imported_days(ctx: EvaluationContext, kinds: tuple[str, ...]) -> Iterator[tuple[RunView, str, list[EvidenceView]]]:
    """Each (day, host, items) of snapshots imported for an earlier day (as_of), as if collected on that day.

    An export imported for a host (`auditpack import evtx/auditpol`) puts that host in scope on that day:
    the import run knows no roles, and the operator named the host.
    """
    by_day_host: dict[tuple[str, str], list[EvidenceView]] = {}
    for item in ctx.items(*kinds, usable_only=False):
        if item.as_of is not None:
            by_day_host.setdefault((item.day, item.host), []).append(item)
    for (day, host), items in sorted(by_day_host.items()):
        info = {"status": "ok", "errors": [], "roles": [], "connection": "file"}
        yield RunView(items[-1].run_seq, f"import of {day}", day, {host: info}), host, items


def host_items_per_run(ctx: EvaluationContext, kinds: tuple[str, ...]) -> Iterator[tuple[RunView, str, list[EvidenceView]]]:
    """Each (run, in-scope host, that host's items of these kinds in that run), usable or not; then imported days."""
    by_run_host: dict[tuple[int, str], list[EvidenceView]] = {}
    for item in ctx.items(*kinds, usable_only=False):
        if item.as_of is None:  # an imported snapshot speaks for its own day, not for the day it was imported
            by_run_host.setdefault((item.run_seq, item.host), []).append(item)
    for run in ctx.runs:
        for host in run.hosts_with_roles(ctx.control.applies_to_roles):
            yield run, host, by_run_host.get((run.seq, host), [])
    yield from imported_days(ctx, kinds)


def usable_or_gap(findings: Findings, run: RunView, host: str, items: list[EvidenceView]) -> list[EvidenceView]:
    """The usable items; when there are none, record why as a gap for that host and date."""
    findings.use(items)
    usable = [i for i in items if i.usable]
    if not usable:
        host_errors = run.hosts[host].get("errors") or []
        why = "; ".join(host_errors) if host_errors and not items else "; ".join(e for i in items for e in i.errors)
        findings.gap(host, run.date, "evidence.missing", [i.item_id for i in items], why=why or "nothing collected")
    return usable
