"""T-AV: every workstation has centrally managed, current anti-virus; detections are resolved."""

from __future__ import annotations

from datetime import date

from ..evidence_view import EvidenceView
from ..framework import EvaluationContext, Findings, parse_day, parse_moment
from ._per_run import host_items_per_day
from ._population import reconcile_population, short_name

CONTROL_ID = "T-AV"


def _console_entry(snapshot: EvidenceView | None, host: str) -> dict | None:
    if snapshot is None:
        return None
    return next((s for s in snapshot.normalized["systems"] if short_name(s["name"]) == short_name(host)), None)


def _host_problems(
    ctx: EvaluationContext, day: date, console: dict | None, status: EvidenceView | None, console_read: bool
) -> tuple[list[tuple[str, dict]], str | None]:
    """The deviations of one workstation on one day, and what could not be shown (None when everything could)."""
    limit = ctx.params["max_signature_age_days"]
    problems = []
    if console is not None:
        contact = parse_moment(console.get("last_contact"))
        silent = (day - contact.date()).days if contact else None
        if silent is None:
            problems.append(("av.no_contact", {}))
        elif silent > ctx.params["max_silent_days"]:
            problems.append(("av.silent", {"last_contact": console["last_contact"], "days": silent}))
    # a host may not know its own definitions' date (McAfee reports it only to the console): then the console's counts
    signature = parse_day(status.normalized.get("signature_date")) if status else None
    signature = signature or parse_day((console or {}).get("content_date"))
    unshown = None
    if signature is None and not console_read:
        unshown = "signature_date_unreported"
    elif signature is None:
        if console is not None or status is not None:  # unknown to the console and not read: av.not_in_console
            problems.append(("av.signatures_unknown", {}))
    elif (day - signature).days > limit:
        problems.append(
            ("av.signatures_old", {"signature_date": signature.isoformat(), "days": (day - signature).days, "limit": limit})
        )
    if status is not None and status.normalized.get("realtime") is False:
        problems.append(("av.realtime_off", {"product": status.normalized.get("product")}))
    return problems, unshown


def _unprotected(status: EvidenceView | None) -> bool:
    """The host reports no anti-virus product at all: one finding, not one per thing a product would report."""
    return status is not None and status.normalized.get("product") is None and status.normalized.get("realtime") is False


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
                    threat=det.get("threat"),
                    host=det["host"],
                    time=det["time"],
                    action=det.get("action"),
                )


def _consoles_per_day(ctx: EvaluationContext) -> dict[str, EvidenceView]:
    """The console's list of systems as last read on each day (any run of that day)."""
    latest: dict[str, EvidenceView] = {}
    for item in ctx.items("epo.systems"):
        latest[item.day] = item
    return latest


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    consoles = _consoles_per_day(ctx)
    for day, _run, host, items in host_items_per_day(ctx, ("av.host_status",)):
        usable = [i for i in items if i.usable]
        status = usable[-1] if usable else None
        console = consoles.get(day)
        entry = _console_entry(console, host)
        ids = findings.use([x for x in (console, *items) if x is not None])
        if console is None and status is None:
            findings.gap(host, day, "evidence.missing", ids, why="neither_read")
            continue
        problems = [] if console is None or entry else [("av.not_in_console", {})]
        if _unprotected(status):
            found, unshown = [("av.no_product", {})], None
        else:
            found, unshown = _host_problems(ctx, date.fromisoformat(day), entry, status, console is not None)
        problems += found
        if status is not None and status.normalized.get("realtime") is None:
            # a health report whose real-time state could not be read shows nothing about it: not a pass
            unshown = unshown or "realtime_unreadable"
        for code, facts in problems:
            findings.deviation(host, day, code, ids, **facts)
        if unshown and not problems:
            findings.gap(host, day, "evidence.missing", ids, why=unshown)
        elif not problems:
            findings.passed(host, day)
    _detections(ctx, findings)
    reconcile_population(ctx, findings, required=("inventory", "ad"))  # the console: av.not_in_console, per day
    return findings
