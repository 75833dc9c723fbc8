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
            counted = item.normalized.get("limit_days") == limit  # the collector's count only holds for the same limit
            attributes = {
                "files": loc.get("file_count"),
                "oldest_file": oldest.isoformat() if oldest else None,
                "oldest_age_days": age if oldest else None,
                "older_than_limit": loc.get("older_than_limit") if counted else None,
            }
            if age > limit:
                facts = {"oldest": oldest.date().isoformat(), "days": age, "limit": limit}
                if counted:
                    findings.deviation(
                        subject, day, "ret.too_old_counted", ids, attributes=attributes, files=loc["older_than_limit"], **facts
                    )
                else:
                    findings.deviation(subject, day, "ret.too_old", ids, attributes=attributes, **facts)
            else:
                findings.passed(subject, day, attributes=attributes, evidence=ids)
    if not ctx.items("retention.files") and ctx.runs:
        for host in sorted(ctx.hosts_with_roles(ctx.control.applies_to_roles)):
            findings.gap(host, ctx.runs[-1].date, "evidence.missing", why="no_data_locations")
    return findings
