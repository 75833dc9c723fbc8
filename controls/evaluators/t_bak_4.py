"""T-BAK-4: the Active Directory server is backed up to the cloud every day; a failure is repaired at once."""

from __future__ import annotations

from ..framework import EvaluationContext, Findings
from ._common import closing_day
from ._backup_days import KIND, DailyRule, collect_runs, completeness, judge_days, ok_results

CONTROL_ID = "T-BAK-4"
CLOUD = "cloud"

MESSAGES = {
    "bak4.failed": {
        "nl": "geen geslaagde cloudback-up, alleen {results} (job {jobs}); hersteld op {next_success}, "
              "{repair_days} dag(en) later",
        "en": "no successful cloud backup, only {results} (job {jobs}); repaired on {next_success}, "
              "{repair_days} day(s) later",
    },
    "bak4.not_repaired": {
        "nl": "geen geslaagde cloudback-up, alleen {results} (job {jobs}), en niet binnen {max_repair_days} "
              "dag(en) hersteld (eerstvolgende geslaagde cloudback-up: {next_success})",
        "en": "no successful cloud backup, only {results} (job {jobs}), and not repaired within "
              "{max_repair_days} day(s) (next successful cloud backup: {next_success})",
    },
    "bak4.no_dc": {
        "nl": "geen host met de rol domain_controller in de verzamelrondes van de periode: de AD-server is onbekend",
        "en": "no host with the role domain_controller in the collection runs of the period: the AD server is unknown",
    },
}


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
    rule = DailyRule("bak4", ok_results(ctx.params), ctx.params["max_repair_days"])
    judge_days(ctx, findings, controllers, runs, rule)
    return findings
