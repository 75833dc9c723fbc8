"""O-RET: no file in the designated personal-data locations is older than the retention limit."""

from __future__ import annotations

from datetime import date

from ..framework import EvaluationContext, Findings, parse_moment

CONTROL_ID = "O-RET"


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    limit = ctx.params["max_age_days"]
    for item in ctx.items("retention.files"):
        ids = findings.use([item])
        day = date.fromisoformat(item.day)
        for loc in item.normalized["locations"]:
            subject = f"{item.host}:{loc['path']}"
            oldest = parse_moment(loc.get("oldest_mtime"))
            age = (day - oldest.date()).days if oldest else 0
            if age > limit:
                facts = {"oldest": oldest.date().isoformat(), "days": age, "limit": limit}
                if item.normalized.get("limit_days") == limit:  # the collector's count only holds for the same limit
                    findings.deviation(subject, day, "ret.too_old_counted", ids, files=loc["older_than_limit"], **facts)
                else:
                    findings.deviation(subject, day, "ret.too_old", ids, **facts)
            else:
                findings.passed(subject, day)
    if not ctx.items("retention.files") and ctx.runs:
        for host in sorted(ctx.hosts_with_roles(ctx.control.applies_to_roles)):
            findings.gap(host, ctx.runs[-1].date, "evidence.missing", why="no_data_locations")
    return findings
