"""T-BAK-1: every server is backed up every day; a failed backup is repaired quickly.

Per server and night: a successful run passes; only failed runs deviate (repaired in time or not); no run at all
inside the nights a complete backup listing covers (from the server's first run it lists up to the night before it
was collected) is a missed backup, a deviation citing the listing; a night no complete listing covers (before
its first run, the collection day and after, or a listing garbled or read with errors) is not evidenced.
"""

from __future__ import annotations

from ..framework import EvaluationContext, Findings
from ._backup_days import KIND, DailyRule, collect_runs, completeness, judge_days, ok_results
from ._common import closing_day

CONTROL_ID = "T-BAK-1"


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    items = ctx.items(KIND)
    findings.use(items)
    runs = collect_runs(items)
    inventory = ctx.hosts_with_roles(ctx.control.applies_to_roles)
    with_runs = {r.server for r in runs}
    if not inventory | with_runs:
        findings.gap(KIND, closing_day(ctx), "bak1.no_servers")
        return findings
    # servers that only the backup tool knows are tested too: a backup of an unlisted server is still a server
    findings.completeness = completeness(inventory, with_runs)
    rule = DailyRule(
        "bak1.failed", "bak1.not_repaired", ok_results(ctx.params), ctx.params["max_repair_days"], missed_code="bak1.missed"
    )
    # a night a complete listing covers but shows no run of is a missed backup (see _backup_days: what a listing covers)
    judge_days(ctx, findings, inventory | with_runs, runs, rule, ctx.items(KIND, usable_only=False))
    return findings
