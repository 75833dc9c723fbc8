"""T-BAK-1: every server is backed up every day; a failed backup is repaired quickly."""

from __future__ import annotations

from ..framework import EvaluationContext, Findings
from ._common import closing_day
from ._backup_days import KIND, DailyRule, collect_runs, completeness, judge_days, ok_results

CONTROL_ID = "T-BAK-1"

MESSAGES = {
    "bak1.failed": {
        "nl": "geen geslaagde back-up, alleen {results} (job {jobs}); hersteld door een geslaagde back-up "
              "op {next_success}, {repair_days} dag(en) later",
        "en": "no successful backup, only {results} (job {jobs}); repaired by a successful backup "
              "on {next_success}, {repair_days} day(s) later",
    },
    "bak1.not_repaired": {
        "nl": "geen geslaagde back-up, alleen {results} (job {jobs}), en niet binnen {max_repair_days} dag(en) "
              "hersteld (eerstvolgende geslaagde back-up: {next_success})",
        "en": "no successful backup, only {results} (job {jobs}), and not repaired within {max_repair_days} "
              "day(s) (next successful backup: {next_success})",
    },
    "bak1.no_servers": {
        "nl": "geen back-upruns verzameld en geen server in de inventaris: de populatie is onbekend",
        "en": "no backup runs collected and no server in the inventory: the population is unknown",
    },
}


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
    rule = DailyRule("bak1", ok_results(ctx.params), ctx.params["max_repair_days"])
    judge_days(ctx, findings, inventory | with_runs, runs, rule)
    return findings
