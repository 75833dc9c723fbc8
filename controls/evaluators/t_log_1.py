"""T-LOG-1: the audit policy on DCs and file servers records logons and file access (design, per collection)."""

from __future__ import annotations

from ..framework import EvaluationContext, Findings
from ._per_run import host_items_per_day, usable_or_gap

CONTROL_ID = "T-LOG-1"
KINDS = ("windows.audit_policy", "windows.security_log")


def _missing(subcategories: dict, required: list[dict]) -> list[str]:
    missing = []
    for req in required:
        have = subcategories.get(req["guid"].lower().strip("{}"), {})
        for kind in ("success", "failure"):
            if req[kind] and not have.get(kind):
                missing.append(f"{req['name']} ({kind})")
    return missing


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    attempts = list(host_items_per_day(ctx, KINDS))
    # the day's Security log, whichever attempt read it: an imported policy (an account without admin rights
    # cannot run auditpol) is judged with the log its collection did read that day
    logs_of: dict[tuple[str, str], list] = {}
    for day, _, host, items in attempts:
        logs_of.setdefault((day, host), []).extend(i for i in items if i.usable and i.kind == "windows.security_log")
    for day, run, host, items in attempts:
        policies = [i for i in usable_or_gap(findings, run, host, items, day) if i.kind == "windows.audit_policy"]
        if not policies:
            if any(i.usable for i in items):  # only the log configuration was read
                findings.gap(host, day, "evidence.missing", [i.item_id for i in items], why="no_audit_policy")
            continue
        logs = [i for i in items if i.usable and i.kind == "windows.security_log"] or logs_of[(day, host)]
        ids = list(dict.fromkeys([i.item_id for i in items] + [i.item_id for i in logs]))
        problems = 0
        missing = _missing(policies[-1].normalized["subcategories"], ctx.params["required_subcategories"])
        size_mb = logs[-1].normalized["max_size_bytes"] // (1024 * 1024) if logs else None
        attributes = {"missing_subcategories": missing, "log_size_mb": size_mb}
        if missing:
            problems += 1
            findings.deviation(host, day, "log1.subcategory", ids, attributes=attributes, missing=missing)
        if size_mb is not None and size_mb < ctx.params["min_log_size_mb"]:
            problems += 1
            findings.deviation(
                host, day, "log1.log_size", ids, attributes=attributes, size_mb=size_mb, required_mb=ctx.params["min_log_size_mb"]
            )
        if not problems:
            findings.passed(host, day, attributes=attributes, evidence=ids)
    return findings
