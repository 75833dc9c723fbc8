"""T-LOG-2: the Security log on DCs and file servers has logon events every day and covers the retention."""

from __future__ import annotations

from datetime import date

from ..framework import EvaluationContext, Findings, parse_moment

CONTROL_ID = "T-LOG-2"
DAILY = "windows.security_events_daily"
LOG = "windows.security_log"
OTHER_LOG_CLEARED = 104  # Microsoft-Windows-Eventlog: System (or another log than Security) cleared


def _coverage(ctx: EvaluationContext, host: str) -> tuple[dict[date, int], list[tuple[date, date]], list[str]]:
    """Logons per day, the spans the log reads covered, and the item ids, over every read of this host."""
    logons: dict[date, int] = {}
    spans, ids = [], []
    for item in ctx.items(DAILY):
        if item.host != host:
            continue
        ids.append(item.item_id)
        if not item.normalized.get("covered_from"):
            continue  # a System log read for its clears (104) says nothing about the Security log's days
        spans.append((parse_moment(item.normalized["covered_from"]).date(), parse_moment(item.normalized["covered_to"]).date()))
        for day, counts in item.normalized["days"].items():
            key = date.fromisoformat(day)
            logons[key] = max(logons.get(key, 0), int(counts.get("4624", 0)))  # overlapping reads: same events
    return logons, spans, ids


def _notable(ctx: EvaluationContext, findings: Findings, host: str) -> None:
    seen = set()
    for item in ctx.items(DAILY):
        if item.host != host:
            continue
        for event in item.normalized.get("notable", []):
            # 4719s of one second differ by subcategory: each is a change of its own
            key = (event["event_id"], event["time"], event.get("subcategory_guid"), event.get("log"))
            moment = parse_moment(event["time"])
            if key in seen or not ctx.in_period(moment):
                continue
            seen.add(key)
            findings.use([item])
            facts = {"time": event["time"], "by": event.get("by") or "?"}
            if int(event["event_id"]) == 1102:
                findings.deviation(host, moment.date(), "log2.cleared", [item.item_id], **facts)
            elif int(event["event_id"]) == OTHER_LOG_CLEARED:
                findings.deviation(
                    host, moment.date(), "log2.other_log_cleared", [item.item_id], log=event.get("log") or "?", **facts
                )
            elif event.get("subcategory_guid"):  # read from an exported log: which subcategory, and how
                changes = ", ".join(event.get("changes") or []) or "?"
                findings.observe(
                    host,
                    moment.date(),
                    "log2.subcategory_changed",
                    [item.item_id],
                    subcategory=event["subcategory_guid"],
                    changes=changes,
                    **facts,
                )
            else:
                findings.observe(host, moment.date(), "log2.policy_changed", [item.item_id], **facts)


def _retention(ctx: EvaluationContext, findings: Findings, host: str) -> None:
    for item in ctx.items(LOG):
        if item.host != host or not item.normalized.get("oldest_record"):
            continue
        collected = date.fromisoformat(item.day)
        age = (collected - parse_moment(item.normalized["oldest_record"]).date()).days
        if age < ctx.params["retention_days"]:
            findings.deviation(host, collected, "log2.retention", [item.item_id], days=age, required=ctx.params["retention_days"])


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    hosts = ctx.hosts_with_roles(ctx.control.applies_to_roles) | {i.host for i in ctx.items(DAILY)}
    for host in sorted(hosts):
        logons, spans, ids = _coverage(ctx, host)
        findings.use(i for i in ctx.evidence if i.host == host)
        for day in ctx.days():
            if not any(start <= day <= end for start, end in spans):
                findings.gap(host, day, "evidence.no_day", ids)
            elif logons.get(day, 0) < ctx.params["min_daily_logons"]:
                findings.deviation(host, day, "log2.no_logons", ids, count=logons.get(day, 0))
            else:
                findings.passed(host, day)
        _notable(ctx, findings, host)
        _retention(ctx, findings, host)
    return findings
