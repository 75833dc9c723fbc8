"""T-AV: every workstation has centrally managed, current anti-virus; detections are resolved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..evidence_view import EvidenceView
from ..framework import Attributes, EvaluationContext, Findings, parse_day, parse_moment
from ._per_run import host_items_per_day
from ._population import reconcile_population, short_name

CONTROL_ID = "T-AV"


@dataclass(frozen=True)
class HostDay:
    """What one workstation showed on one collection day: from its own status and the console's entry for it."""

    day: date
    status: EvidenceView | None
    console_read: bool  # the console's list of systems was read that day
    console: dict | None  # the console's entry for the host, None when unknown to it or the console was not read
    signature: date | None  # the definitions' date: the host's, else the console's (McAfee reports it only there)

    @property
    def signature_source(self) -> str | None:
        if self.status is not None and parse_day(self.status.normalized.get("signature_date")):
            return "host"
        return "console" if self.signature else None

    @property
    def silent_days(self) -> int | None:
        contact = parse_moment(self.console.get("last_contact")) if self.console else None
        return (self.day - contact.date()).days if contact else None

    def attributes(self) -> Attributes:
        """The attributes the test used: product, definitions' date and age, real-time state, console contact."""
        status = self.status.normalized if self.status else {}
        return {
            "product": status.get("product"),
            "signature_date": self.signature.isoformat() if self.signature else None,
            "signature_age_days": (self.day - self.signature).days if self.signature else None,
            "signature_source": self.signature_source,
            "realtime": status.get("realtime"),
            "in_console": self.console is not None if self.console_read else None,
            "last_contact": (self.console or {}).get("last_contact"),
            "silent_days": self.silent_days,
        }


def _console_entry(snapshot: EvidenceView | None, host: str) -> dict | None:
    if snapshot is None:
        return None
    return next((s for s in snapshot.normalized["systems"] if short_name(s["name"]) == short_name(host)), None)


def _host_day(day: date, console_read: bool, console: dict | None, status: EvidenceView | None) -> HostDay:
    signature = parse_day(status.normalized.get("signature_date")) if status else None
    return HostDay(day, status, console_read, console, signature or parse_day((console or {}).get("content_date")))


def _host_problems(ctx: EvaluationContext, seen: HostDay) -> tuple[list[tuple[str, dict]], str | None]:
    """The deviations of one workstation on one day, and what could not be shown (None when everything could)."""
    limit = ctx.params["max_signature_age_days"]
    problems = []
    if seen.console is not None:
        silent = seen.silent_days
        if silent is None:
            problems.append(("av.no_contact", {}))
        elif silent > ctx.params["max_silent_days"]:
            problems.append(("av.silent", {"last_contact": seen.console["last_contact"], "days": silent}))
    unshown = None
    if seen.signature is None and not seen.console_read:
        unshown = "signature_date_unreported"
    elif seen.signature is None:
        if seen.console is not None or seen.status is not None:  # unknown to the console and not read: av.not_in_console
            problems.append(("av.signatures_unknown", {}))
    elif (seen.day - seen.signature).days > limit:
        age = (seen.day - seen.signature).days
        problems.append(("av.signatures_old", {"signature_date": seen.signature.isoformat(), "days": age, "limit": limit}))
    if seen.status is not None and seen.status.normalized.get("realtime") is False:
        problems.append(("av.realtime_off", {"product": seen.status.normalized.get("product")}))
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
            ids = findings.use([item])  # the pack must carry the detection a finding rests on
            attributes = {
                "host": det["host"],
                "threat": det.get("threat"),
                "time": det["time"],
                "action": det.get("action"),
                "resolved": bool(det.get("resolved")),
                "resolved_at": det.get("resolved_at"),
            }
            if det.get("resolved"):
                findings.passed(subject, moment.date(), attributes=attributes, evidence=ids)
            else:
                findings.deviation(
                    subject,
                    moment.date(),
                    "av.unresolved",
                    ids,
                    attributes=attributes,
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
        seen = _host_day(date.fromisoformat(day), console is not None, entry, status)
        attributes = seen.attributes()
        problems = [] if console is None or entry else [("av.not_in_console", {})]
        if _unprotected(status):
            found, unshown = [("av.no_product", {})], None
        else:
            found, unshown = _host_problems(ctx, seen)
        problems += found
        if status is not None and status.normalized.get("realtime") is None:
            # a health report whose real-time state could not be read shows nothing about it: not a pass
            unshown = unshown or "realtime_unreadable"
        for code, facts in problems:
            findings.deviation(host, day, code, ids, attributes=attributes, **facts)
        if unshown and not problems:
            findings.gap(host, day, "evidence.missing", ids, attributes=attributes, why=unshown)
        elif not problems:
            findings.passed(host, day, attributes=attributes, evidence=ids)
    _detections(ctx, findings)
    reconcile_population(ctx, findings, required=("inventory", "ad"))  # the console: av.not_in_console, per day
    return findings
