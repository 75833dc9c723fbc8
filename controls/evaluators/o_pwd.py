"""O-PWD: personal logins, with passwords that expire and meet the rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from ..framework import EvaluationContext, Findings
from ._common import Outcome, Row, record, require, snapshot_day
from ._people import first_match, matches_any

CONTROL_ID = "O-PWD"
POLICY = "ad.password_policy"
FINE_GRAINED = "ad.fine_grained_policies"
USERS = "ad.users"

MESSAGES = {
    "pwd.min_length": {
        "nl": "minimale wachtwoordlengte is {value}, vereist is ten minste {required}",
        "en": "minimum password length is {value}, at least {required} is required",
    },
    "pwd.complexity": {
        "nl": "de complexiteitseisen voor wachtwoorden staan uit",
        "en": "password complexity requirements are switched off",
    },
    "pwd.max_age_never": {
        "nl": "wachtwoorden verlopen nooit (geen maximale leeftijd ingesteld); vereist is wijzigen binnen {required} dagen",
        "en": "passwords never expire (no maximum age set); a change within {required} days is required",
    },
    "pwd.max_age": {
        "nl": "maximale wachtwoordleeftijd is {value} dagen, vereist is ten hoogste {required}",
        "en": "maximum password age is {value} days, at most {required} is required",
    },
    "pwd.lockout_off": {
        "nl": "accountvergrendeling staat uit (drempel 0), zodat wachtwoorden onbeperkt geraden kunnen worden; "
              "vereist is vergrendelen na ten hoogste {required} mislukte pogingen",
        "en": "account lockout is off (threshold 0), so passwords can be guessed without limit; "
              "locking after at most {required} failed attempts is required",
    },
    "pwd.lockout_high": {
        "nl": "account wordt pas na {value} mislukte pogingen vergrendeld, vereist is ten hoogste {required}",
        "en": "account locks only after {value} failed attempts, at most {required} is required",
    },
    "pwd.never_expires": {
        "nl": "het wachtwoord van dit ingeschakelde account verloopt nooit en het account valt onder geen toegestaan patroon",
        "en": "the password of this enabled account never expires and the account matches no allowed pattern",
    },
    "pwd.not_required": {
        "nl": "dit ingeschakelde account mag zonder wachtwoord bestaan (PASSWD_NOTREQD)",
        "en": "this enabled account may exist without a password (PASSWD_NOTREQD)",
    },
    "pwd.generic": {
        "nl": "ingeschakeld account met een algemene naam (patroon {pattern}): geen persoonlijke inlog",
        "en": "enabled account with a generic name (pattern {pattern}): not a personal login",
    },
}

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
        record(findings, f"{label}: {key}", day, [Outcome(failure[0], ids, failure[1])] if failure else [])


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


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    found = require(ctx, findings, POLICY, FINE_GRAINED, USERS)
    if found is None:
        return findings
    policy, fine_grained, users = found[POLICY], found[FINE_GRAINED], found[USERS]
    check_policy(ctx, findings, "domain policy", policy.normalized, snapshot_day(policy), findings.use([policy]))
    fgp_ids = findings.use([fine_grained])
    for fgp in fine_grained.normalized.get("policies", []):
        check_policy(ctx, findings, f"fine-grained policy {fgp.get('name')}", fgp, snapshot_day(fine_grained), fgp_ids)
    user_ids, day = findings.use([users]), snapshot_day(users)
    for user in users.normalized.get("users", []):
        if user.get("enabled"):
            record(findings, user.get("account"), day, account_outcomes(user, ctx.params, user_ids))
    return findings
