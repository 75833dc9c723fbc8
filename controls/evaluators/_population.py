"""Completeness of the workstation population: AD computer objects, the anti-virus console and the inventory.

A workstation missing from any of the lists that were provided is a finding:
it may be unmanaged, unprotected or forgotten. A list that was not provided
is named as missing, so a partial reconciliation is never presented as whole.
"""

from __future__ import annotations

from ..framework import EvaluationContext, Findings

SOURCES = ("inventory", "ad", "console")  # their words: the population_source terms (catalogue/_terms.yaml)


def short_name(name: str) -> str:
    """Compare hosts by their first DNS label, case-insensitively: ws-017.corp.local == WS-017."""
    return name.split(".")[0].lower()


def _ad_workstations(ctx: EvaluationContext) -> set[str] | None:
    snapshot = ctx.latest("ad.computers")
    if snapshot is None:
        return None
    return {
        short_name(c["name"])
        for c in snapshot.normalized["computers"]
        if c.get("enabled") and "server" not in (c.get("os") or "").lower()
    }


def _console_systems(ctx: EvaluationContext) -> set[str] | None:
    snapshot = ctx.latest("epo.systems")
    return None if snapshot is None else {short_name(s["name"]) for s in snapshot.normalized["systems"]}


def reconcile_population(ctx: EvaluationContext, findings: Findings, required: tuple[str, ...] = SOURCES) -> None:
    """List every workstation missing from a provided list; a deviation when it is missing from a REQUIRED one
    (the lists this control's test depends on: T-FWH tests the inventory's workstations, so a workstation
    unknown to the anti-virus console says nothing about host firewalls)."""
    lists = {
        "inventory": {short_name(h) for h in ctx.hosts_with_roles(["workstation"])},
        "ad": _ad_workstations(ctx),
        "console": _console_systems(ctx),
    }
    provided = {k: v for k, v in lists.items() if v is not None}
    findings.completeness = {
        "sources": {k: sorted(v) for k, v in provided.items()},
        "not_provided": [k for k, v in lists.items() if v is None],
        "missing": [],
    }
    if len(provided) < 2:
        return  # nothing to reconcile against
    day = min(ctx.period.last_day.date(), ctx.today)
    # a finding names the host as the inventory does, so it joins that host's other findings in the population
    inventory_names = {short_name(h): h for h in ctx.hosts_with_roles(["workstation"])}
    for host in sorted(set().union(*provided.values())):
        missing = [k for k, v in provided.items() if host not in v]
        if missing:
            present = [k for k in provided if k not in missing]
            findings.completeness["missing"].append({"host": host, "missing_from": missing})
            if not set(missing) & set(required):
                continue
            findings.deviation(
                inventory_names.get(host, host),
                day,
                "pop.missing",
                missing_from=missing,
                present_in=present,
            )
