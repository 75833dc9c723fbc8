"""T-BAK-4: the Active Directory server is backed up to the cloud every day; a failure is repaired at once."""

from __future__ import annotations

from ..framework import EvaluationContext, Findings
from ._backup_days import KIND, DailyRule, collect_runs, completeness, judge_days, ok_results
from ._common import closing_day

CONTROL_ID = "T-BAK-4"
CLOUD = "cloud"


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    items = ctx.items(KIND)
    findings.use(items)
    controllers = ctx.hosts_with_roles(ctx.control.applies_to_roles)
    if not controllers:
        # a cloud backup of some other server says nothing about the AD server
        findings.gap("domain_controller", closing_day(ctx), "bak4.no_dc")
        return findings
    runs = [r for r in collect_runs(items) if r.target == CLOUD and r.server in controllers]
    findings.completeness = completeness(controllers, {r.server for r in runs})
    rule = DailyRule("bak4.failed", "bak4.not_repaired", ok_results(ctx.params), ctx.params["max_repair_days"])
    judge_days(ctx, findings, controllers, runs, rule)
    return findings
