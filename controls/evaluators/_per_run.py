"""Shared by controls tested host by host on every collection: who is in scope on which day, with which evidence.

A host is tested once per day, on every usable answer of that day: two collections on one day are one test,
a deviation either of them saw is one finding (Findings folds the same finding read twice), and a host that a
partial run did not reach is judged on another run of the same day when one read it, and is otherwise
"not evidenced" that day, never a deviation.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from ..evidence_view import EvidenceView, RunView
from ..framework import EvaluationContext, Findings


def host_items_per_day(ctx: EvaluationContext, kinds: tuple[str, ...]) -> Iterator[tuple[str, RunView, str, list[EvidenceView]]]:
    """Each (day, run, in-scope host, that host's items of these kinds): per day and host every run that read
    something usable of these kinds, else only the latest run that tried (its items say why nothing is usable).

    An export imported for a host (`auditpack import evtx/auditpol`, items with `as_of`) speaks for its own day,
    whatever the import run's date and roles: it counts as a collection of that host on that day.
    """
    by_run_host: dict[tuple[int, str], list[EvidenceView]] = {}
    imported: dict[tuple[str, str], list[EvidenceView]] = {}
    for item in ctx.items(*kinds, usable_only=False):
        if item.as_of is None:
            by_run_host.setdefault((item.run_seq, item.host), []).append(item)
        elif ctx.in_period(date.fromisoformat(item.day)):  # an export of a day outside the period tests nothing in it
            imported.setdefault((item.day, item.host), []).append(item)
    attempts: dict[tuple[str, str], list[tuple[RunView, list[EvidenceView]]]] = {}
    for run in ctx.runs:
        for host in run.hosts_with_roles(ctx.control.applies_to_roles):
            if run.hosts[host].get("connection") == "file":
                continue  # an import's own run: what it brought is tested on the day it speaks for (below)
            attempts.setdefault((run.date, host), []).append((run, by_run_host.get((run.seq, host), [])))
    for (day, host), items in imported.items():
        info = {"status": "ok", "errors": [], "roles": [], "connection": "file"}
        attempts.setdefault((day, host), []).append((RunView(items[-1].run_seq, f"import of {day}", day, {host: info}), items))
    for (day, host), tried in sorted(attempts.items()):
        usable = [(run, items) for run, items in tried if any(i.usable for i in items)]
        for run, items in usable or tried[-1:]:
            yield day, run, host, items


def usable_or_gap(findings: Findings, run: RunView, host: str, items: list[EvidenceView], day: str) -> list[EvidenceView]:
    """The usable items; when there are none, record why as a gap for that host and day."""
    findings.use(items)
    usable = [i for i in items if i.usable]
    if not usable:
        host_errors = run.hosts[host].get("errors") or []
        why = "; ".join(host_errors) if host_errors and not items else "; ".join(e for i in items for e in i.errors)
        findings.gap(host, day, "evidence.missing", [i.item_id for i in items], why=why or "nothing_collected")
    return usable
