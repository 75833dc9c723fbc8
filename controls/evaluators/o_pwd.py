"""O-PWD: personal logins, with passwords that expire and meet the rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from ..evidence_view import EvidenceView
from ..framework import EvaluationContext, Findings
from ._common import Outcome, Row, record, require, snapshot_day
from ._people import first_match, matches_any

CONTROL_ID = "O-PWD"
POLICY = "ad.password_policy"
FINE_GRAINED = "ad.fine_grained_policies"
USERS = "ad.users"
KINDS = (POLICY, FINE_GRAINED, USERS)

Failure = tuple[str, dict[str, Any]] | None


def min_length_rule(policy: Row, params: dict[str, Any]) -> Failure:
    value, required = policy.get("min_length") or 0, params["min_length"]
    return None if value >= required else ("pwd.min_length", {"value": value, "required": required})


def complexity_rule(policy: Row, params: dict[str, Any]) -> Failure:
    return None if policy.get("complexity") else ("pwd.complexity", {})


def max_age_rule(policy: Row, params: dict[str, Any]) -> Failure:
    value, required = policy.get("max_age_days"), params["max_age_days"]
    if not value or value < 0:  # null, 0 and -1 all mean that passwords never expire
        return "pwd.max_age_never", {"required": required}
    return None if value <= required else ("pwd.max_age", {"value": value, "required": required})


def lockout_rule(policy: Row, params: dict[str, Any]) -> Failure:
    value, required = policy.get("lockout_threshold") or 0, params["max_lockout_threshold"]
    if value < 1:
        return "pwd.lockout_off", {"required": required}
    return None if value <= required else ("pwd.lockout_high", {"value": value, "required": required})


# Subject suffix (the policy key) -> rule; complexity is skipped when the profile does not require it.
RULES: dict[str, Callable[[Row, dict[str, Any]], Failure]] = {
    "min_length": min_length_rule,
    "complexity": complexity_rule,
    "max_age_days": max_age_rule,
    "lockout_threshold": lockout_rule,
}


def check_policy(ctx: EvaluationContext, findings: Findings, label: str, policy: Row, day: date, ids: list[str]) -> None:
    for key, rule in RULES.items():
        if key == "complexity" and not ctx.params["require_complexity"]:
            continue
        failure = rule(policy, ctx.params)
        outcomes = [Outcome(failure[0], ids, failure[1])] if failure else []
        record(findings, f"{label}: {key}", day, outcomes, {"setting": key, "value": policy.get(key)}, ids)


def account_outcomes(user: Row, params: dict[str, Any], ids: list[str]) -> list[Outcome]:
    account = user.get("account")
    outcomes = []
    if user.get("password_never_expires") and not matches_any(account, params["never_expires_allowed"]):
        outcomes.append(Outcome("pwd.never_expires", ids))
    if user.get("password_not_required"):
        outcomes.append(Outcome("pwd.not_required", ids))
    if pattern := first_match(account, params["generic_account_patterns"]):
        outcomes.append(Outcome("pwd.generic", ids, {"pattern": pattern}))
    return outcomes


def directory_per_day(ctx: EvaluationContext, findings: Findings) -> dict[str, dict[str, EvidenceView]]:
    """Per day the directory was read: the day's latest usable item of every kind. A day that lacks one of them
    is a gap that day (naming the kind and why), not a verdict on half of the directory."""
    by_day: dict[str, dict[str, list[EvidenceView]]] = {}
    for item in ctx.items(*KINDS, usable_only=False):
        by_day.setdefault(item.day, {}).setdefault(item.kind, []).append(item)
    complete: dict[str, dict[str, EvidenceView]] = {}
    for day, kinds in sorted(by_day.items()):
        latest = {kind: usable[-1] for kind in KINDS if (usable := [i for i in kinds.get(kind, []) if i.usable])}
        if len(latest) == len(KINDS):
            complete[day] = latest
            continue
        for kind in KINDS:
            if kind not in latest:
                tried = kinds.get(kind, [])
                errors = "; ".join(e for i in tried for e in i.errors)
                findings.gap(kind, date.fromisoformat(day), "evidence.missing", findings.use(tried),
                             why=f"{kind}: {errors}" if errors else kind)  # fmt: skip
    return complete


def evaluate(ctx: EvaluationContext) -> Findings:
    """Tested on every day the directory was read (frequency per_collection): two reads of one day are one test."""
    findings = Findings()
    if not ctx.items(*KINDS, usable_only=False):
        require(ctx, findings, *KINDS)  # nothing read at all: one gap per kind, with the reason
        return findings
    for found in directory_per_day(ctx, findings).values():
        policy, fine_grained, users = found[POLICY], found[FINE_GRAINED], found[USERS]
        check_policy(ctx, findings, "domain policy", policy.normalized, snapshot_day(policy), findings.use([policy]))
        fgp_ids = findings.use([fine_grained])
        for fgp in fine_grained.normalized.get("policies", []):
            check_policy(ctx, findings, f"fine-grained policy {fgp.get('name')}", fgp, snapshot_day(fine_grained), fgp_ids)
        user_ids, day = findings.use([users]), snapshot_day(users)
        for user in users.normalized.get("users", []):
            if user.get("enabled"):
                attributes = {
                    "password_never_expires": bool(user.get("password_never_expires")),
                    "password_not_required": bool(user.get("password_not_required")),
                    "generic_pattern": first_match(user.get("account"), ctx.params["generic_account_patterns"]),
                }
                record(findings, user.get("account"), day, account_outcomes(user, ctx.params, user_ids), attributes, user_ids)
    return findings
