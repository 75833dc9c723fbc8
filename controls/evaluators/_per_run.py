"""Shared by controls tested host by host on every collection: who is in scope on which day, with which evidence.

A host is tested once per day, on every usable answer of that day: two collections on one day are one test,
a deviation either of them saw is one finding (Findings folds the same finding read twice), and a host that a
partial run did not reach is judged on another run of the same day when one read it, and is otherwise
"not evidenced" that day, never a deviation.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..evidence_view import EvidenceView, RunView
from ..framework import EvaluationContext, Findings


def _day_of(run: RunView, items: list[EvidenceView]) -> str:
    """The day a run's items of one host speak for: an import of an earlier day's export speaks for that day."""
    days = {i.as_of for i in items}
    return days.pop() if len(days) == 1 and None not in days else run.date


def host_items_per_day(ctx: EvaluationContext, kinds: tuple[str, ...]) -> Iterator[tuple[str, RunView, str, list[EvidenceView]]]:
    """Each (day, run, in-scope host, that host's items of these kinds): per day and host every run that read
    something usable of these kinds, else only the latest run that tried (its items say why nothing is usable)."""
    by_run_host: dict[tuple[int, str], list[EvidenceView]] = {}
    for item in ctx.items(*kinds, usable_only=False):
        by_run_host.setdefault((item.run_seq, item.host), []).append(item)
    attempts: dict[tuple[str, str], list[tuple[RunView, list[EvidenceView]]]] = {}
    for run in ctx.runs:
        for host in run.hosts_with_roles(ctx.control.applies_to_roles):
            items = by_run_host.get((run.seq, host), [])
            attempts.setdefault((_day_of(run, items), host), []).append((run, items))
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
        findings.gap(host, day, "evidence.missing", [i.item_id for i in items], why=why or "nothing collected")
    return usable
