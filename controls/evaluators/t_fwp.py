"""T-FWP: the perimeter firewall denies by default in both directions and every allow rule is justified.

Tested on every collection of a firewall, and on every backup imported for one (`auditpack import firewall`):
a backup counts as a collection of that device on the day it was made, held against the egress register as
imported by that day.
"""

from __future__ import annotations

from ..evidence_view import EvidenceView
from ..firewall_rules import EgressRegister, diff_rulesets, justify
from ..framework import EvaluationContext, Findings
from ._per_run import host_items_per_day, usable_or_gap

CONTROL_ID = "T-FWP"
RULESET = "firewall.ruleset"
EGRESS = "register.egress"
LINUX_KINDS = ("host_firewall.nftables", "host_firewall.iptables", "host_firewall.ip6tables")


def _summary(rule: dict) -> str:
    return f"{rule.get('action')} {rule.get('source')} -> {rule.get('destination')} {rule.get('service')}"


def _ruleset_problems(ruleset: dict) -> list[tuple[str, dict]]:
    problems = []
    for direction in ("inbound", "outbound"):
        if ruleset[f"default_{direction}"] != "drop":
            problems.append(("fwp.default_open", {"direction": direction, "detail": ruleset[f"default_{direction}"]}))
    rules = {r["id"]: r for r in ruleset["rules"]}
    problems += [("fwp.any_to_any", {"rule": rid}) for rid in ruleset["any_to_any"]]
    problems += [("fwp.unjustified", {"rule": rid, "summary": _summary(rules.get(rid, {}))}) for rid in ruleset["unjustified"]]
    return problems


def _netfilter_problems(items: list[EvidenceView], families: tuple[str, ...]) -> list[tuple[str, dict]]:
    """A Linux gateway: transit traffic meets the forward hook, the firewall's own traffic input and output."""
    problems = []
    for direction, hooks in (("inbound", ("forward", "input")), ("outbound", ("forward", "output"))):
        open_at = [
            f"{hook} {fam}"
            for hook in hooks
            for fam in families
            if not any(i.normalized["defaults"][hook].get(fam) == "drop" for i in items)
        ]
        if open_at:
            problems.append(("fwp.default_open", {"direction": direction, "detail": ", ".join(open_at)}))
    return problems


def _rule_changes(findings: Findings, host: str, day: str, before: dict | None, after: dict, ids: list[str]) -> None:
    if before is None:
        return
    diff = diff_rulesets(before, after)
    for rule in diff["added"]:
        findings.observe(host, day, "fwp.rule_added", ids, rule=rule["id"], summary=_summary(rule))
    for rule in diff["removed"]:
        findings.observe(host, day, "fwp.rule_removed", ids, rule=rule["id"], summary=_summary(rule))
    for change in diff["changed"]:
        findings.observe(
            host,
            day,
            "fwp.rule_changed",
            ids,
            rule=change["id"],
            fields=change["fields"],
            summary=_summary(change["after"]),
        )


def _ruleset_attributes(ruleset: dict, register: EvidenceView | None) -> dict[str, object]:
    """What the test read from a ruleset: both defaults, how many rules, which allow any to any or lack a reason."""
    return {
        "default_inbound": ruleset["default_inbound"],
        "default_outbound": ruleset["default_outbound"],
        "rules": len(ruleset["rules"]),
        "any_to_any": ruleset["any_to_any"],
        "unjustified": ruleset["unjustified"],
        "egress_register": register.item_id if register else None,
    }


def _netfilter_attributes(items: list[EvidenceView], families: tuple[str, ...]) -> dict[str, object]:
    """The default verdict of every hook the test read, per address family ("drop" in any backend counts)."""
    return {
        f"{hook}_{fam}": "drop" if any(i.normalized["defaults"][hook].get(fam) == "drop" for i in items) else "accept"
        for hook in ("input", "forward", "output")
        for fam in families
    }


def _register_on(registers: list[EvidenceView], day: str) -> EvidenceView | None:
    """The egress register as last imported on or before a collection day: the reasons in force then."""
    known = [r for r in registers if r.day <= day]
    return known[-1] if known else None


def evaluate(ctx: EvaluationContext) -> Findings:
    families = ("ipv4", "ipv6") if ctx.params["require_ipv6"] else ("ipv4",)
    findings = Findings()
    previous: dict[str, dict] = {}
    registers = ctx.items(EGRESS)
    reasons = {r.item_id: EgressRegister.model_validate(r.normalized) for r in registers}  # read once, used per run
    for day, run, host, items in host_items_per_day(ctx, (RULESET, *LINUX_KINDS)):
        usable = usable_or_gap(findings, run, host, items, day)
        if not usable:
            continue
        ids = [i.item_id for i in items]
        rulesets = [i for i in usable if i.kind == RULESET]
        if rulesets:
            register = _register_on(registers, day)
            # without a register no outbound allow rule has a reason: each one is reported
            ruleset = justify(rulesets[-1].normalized, reasons[register.item_id] if register else EgressRegister(entries=[]))
            ids += findings.use([register]) if register else []
            problems, attributes = _ruleset_problems(ruleset), _ruleset_attributes(ruleset, register)
            _rule_changes(findings, host, day, previous.get(host), ruleset, ids)
            previous[host] = ruleset
        else:
            problems, attributes = _netfilter_problems(usable, families), _netfilter_attributes(usable, families)
        for code, facts in problems:
            findings.deviation(host, day, code, ids, attributes=attributes, **facts)
        if not problems:
            findings.passed(host, day, attributes=attributes, evidence=ids)
    return findings
