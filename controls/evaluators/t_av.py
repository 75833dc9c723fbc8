"""T-AV: every workstation has centrally managed, current anti-virus; detections are resolved."""

from __future__ import annotations

from datetime import date

from ..evidence_view import EvidenceView
from ..framework import EvaluationContext, Findings, parse_day, parse_moment
from ._per_run import imported_days
from ._population import reconcile_population, short_name

CONTROL_ID = "T-AV"


def _console_entry(snapshot: EvidenceView | None, host: str) -> dict | None:
    if snapshot is None:
        return None
    return next((s for s in snapshot.normalized["systems"] if short_name(s["name"]) == short_name(host)), None)


def _host_problems(
    ctx: EvaluationContext, day: date, console: dict | None, status: EvidenceView | None
) -> list[tuple[str, dict]]:
    limit = ctx.params["max_signature_age_days"]
    problems = []
    if console is not None:
        contact = parse_moment(console.get("last_contact"))
        silent = (day - contact.date()).days if contact else None
        if silent is None or silent > ctx.params["max_silent_days"]:
            problems.append(
                ("av.silent", {"last_contact": console.get("last_contact") or "-", "days": silent if silent is not None else "?"})
            )
    # a host may not know its own definitions' date (McAfee reports it only to the console): then the console's counts
    signature = parse_day(status.normalized.get("signature_date")) if status else None
    signature = signature or parse_day((console or {}).get("content_date"))
    if signature is None:
        problems.append(("av.signatures_unknown", {}))
    elif (day - signature).days > limit:
        problems.append(
            ("av.signatures_old", {"signature_date": signature.isoformat(), "days": (day - signature).days, "limit": limit})
        )
    if status is not None and status.normalized.get("realtime") is False:
        problems.append(("av.realtime_off", {"product": status.normalized.get("product") or "?"}))
    return problems


def _detections(ctx: EvaluationContext, findings: Findings) -> None:
    seen = set()
    for item in ctx.items("av.detections"):
        for det in item.normalized["detections"]:
            moment = parse_moment(det["time"])
            key = (det["host"], det["time"], det.get("threat"))
            if key in seen or not ctx.in_period(moment):
                continue
            seen.add(key)
            subject = f"{det['host']} · {det.get('threat') or '?'}"
            findings.use([item])  # the pack must carry the detection a finding rests on
            if det.get("resolved"):
                findings.passed(subject)
            else:
                findings.deviation(
                    subject,
                    moment.date(),
                    "av.unresolved",
                    [item.item_id],
                    threat=det.get("threat") or "?",
                    host=det["host"],
                    time=det["time"],
                    action=det.get("action") or "none",
                )


def _judge(
    ctx: EvaluationContext,
    findings: Findings,
    host: str,
    day: date,
    ids: list[str],
    entry: dict | None,
    status: EvidenceView | None,
) -> None:
    problems = _host_problems(ctx, day, entry, status)
    if status is not None and status.normalized.get("realtime") is None:
        # a health report whose real-time state could not be read shows nothing about it: not a pass
        findings.gap(host, day, "evidence.missing", ids, why="real-time protection state not readable")
    for code, facts in problems:
        findings.deviation(host, day, code, ids, **facts)
    if not problems and (status is None or status.normalized.get("realtime") is not None):
        findings.passed(host, day)


def _imported(ctx: EvaluationContext, findings: Findings) -> None:
    """Health reports read from an exported Defender log (1151): the host as it reported itself that day."""
    for run, host, items in imported_days(ctx, ("av.host_status",)):
        usable = [i for i in items if i.usable]
        ids = findings.use(items)
        if not usable:
            findings.gap(host, run.date, "evidence.missing", ids, why="; ".join(e for i in items for e in i.errors) or "-")
            continue
        _judge(ctx, findings, host, date.fromisoformat(run.date), ids, None, usable[-1])


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    for run in ctx.runs:
        day = date.fromisoformat(run.date)
        consoles = [i for i in ctx.items("epo.systems") if i.run_seq == run.seq]
        console = consoles[-1] if consoles else None
        for host in run.hosts_with_roles(ctx.control.applies_to_roles):
            statuses = [i for i in ctx.items("av.host_status") if i.run_seq == run.seq and i.host == host and i.as_of is None]
            status = statuses[-1] if statuses else None
            entry = _console_entry(console, host)
            ids = findings.use([x for x in (console, status) if x is not None])
            if console is None and status is None:
                findings.gap(host, day, "evidence.missing", why="neither the console nor the host was read")
                continue
            if console is not None and entry is None:
                findings.deviation(host, day, "av.not_in_console", ids)
            _judge(ctx, findings, host, day, ids, entry, status)
    _imported(ctx, findings)
    _detections(ctx, findings)
    reconcile_population(ctx, findings)
    return findings
