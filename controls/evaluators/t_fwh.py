"""T-FWH: a host firewall refuses unsolicited inbound traffic on every workstation."""

from __future__ import annotations

from ..evidence_view import EvidenceView
from ..framework import EvaluationContext, Findings
from ._common import logged_events
from ._per_run import host_items_per_day, usable_or_gap
from ._population import reconcile_population

CONTROL_ID = "T-FWH"
FAMILIES = ("ipv4", "ipv6")
LINUX_KINDS = ("host_firewall.nftables", "host_firewall.iptables", "host_firewall.ip6tables")
WINDOWS_KIND = "windows.firewall_profiles"
WINDOWS_PROFILES = ("domain", "private", "public")
EVENTS = "windows.firewall_events"  # from exported Windows Firewall / Security logs (auditpack import evtx)


def inbound_defaults(items: list[EvidenceView]) -> dict[str, str]:
    """Default inbound verdict per address family over every firewall backend read on the host."""
    verdict = {fam: "accept" for fam in FAMILIES}
    for item in items:
        for fam in FAMILIES:
            if item.normalized["defaults"]["input"].get(fam) == "drop":
                verdict[fam] = "drop"  # in netfilter a drop in any base chain is final
    return verdict


def _windows_attributes(item: EvidenceView) -> dict[str, object]:
    """Per profile what the test read: on or off, and the default for unsolicited inbound traffic."""
    profiles = item.normalized["profiles"]
    found: dict[str, object] = {"backend": "windows"}
    for name in WINDOWS_PROFILES:
        found[f"{name}_enabled"] = profiles.get(name, {}).get("enabled")
        found[f"{name}_inbound"] = profiles.get(name, {}).get("default_inbound")
    return found


def _weak_windows_profiles(item: EvidenceView) -> list[str]:
    profiles = item.normalized["profiles"]
    return [
        p
        for p in WINDOWS_PROFILES
        if not profiles.get(p, {}).get("enabled") or profiles.get(p, {}).get("default_inbound") != "block"
    ]


def _events(ctx: EvaluationContext, findings: Findings) -> None:
    """Firewall changes logged on the host: a profile turned off is a deviation that day, the rest is listed."""
    for item, event, moment in logged_events(ctx, EVENTS, lambda e: (e.get("setting"), e.get("rule"))):
        ids = findings.use([item])
        facts = {"time": event["time"], "by": event.get("by"), "profiles": event.get("profiles") or None}
        if event.get("setting") == "enable_firewall" and event.get("value") == 0:
            findings.deviation(item.host, moment.date(), "fw.windows_turned_off", ids, **facts)
        elif "setting" in event:
            setting, value = event.get("setting"), event.get("value")
            findings.observe(item.host, moment.date(), "fw.windows_setting_changed", ids, setting=setting, value=value, **facts)
        else:
            what, rule = event.get("what"), event.get("rule")
            findings.observe(item.host, moment.date(), "fw.windows_rule_changed", ids, what=what, rule=rule, **facts)


def evaluate(ctx: EvaluationContext) -> Findings:
    families = FAMILIES if ctx.params["require_ipv6"] else ("ipv4",)
    findings = Findings()
    for day, run, host, items in host_items_per_day(ctx, (*LINUX_KINDS, WINDOWS_KIND)):
        usable = usable_or_gap(findings, run, host, items, day)
        if not usable:
            continue
        ids = [i.item_id for i in items]
        windows = [i for i in usable if i.kind == WINDOWS_KIND]
        if windows:
            weak, attributes = _weak_windows_profiles(windows[-1]), _windows_attributes(windows[-1])
            if weak:
                findings.deviation(host, day, "fw.windows_profile", ids, attributes=attributes, profiles=weak)
            else:
                findings.passed(host, day, attributes=attributes, evidence=ids)
            continue
        verdict = inbound_defaults(usable)
        open_families = [f for f in families if verdict[f] != "drop"]
        backends = ", ".join(sorted({i.normalized["backend"] for i in usable}))
        attributes = {"backend": backends, **{f"inbound_{fam}": verdict[fam] for fam in families}}
        if open_families:
            findings.deviation(
                host, day, "fw.inbound_open", ids, attributes=attributes, families=open_families, backends=backends
            )
        else:
            findings.passed(host, day, attributes=attributes, evidence=ids)
    _events(ctx, findings)
    reconcile_population(ctx, findings, required=("inventory",))  # an untested workstation; the rest is T-AV's
    return findings
