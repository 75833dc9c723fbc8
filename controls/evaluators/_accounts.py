"""Helpers shared by evaluators: the newest usable evidence or a gap, register rows and
one outcome per subject-date (used by many controls), plus the AD snapshot, account
and name matching and badges (the account and badge controls O-*).

This module has no CONTROL_ID, so the evaluator registry imports it without
registering it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from fnmatch import fnmatchcase
from typing import Any

from ..evidence_view import EvidenceView
from ..framework import EvaluationContext, Findings

Row = dict[str, Any]
RegisterCheck = Callable[[EvaluationContext, Findings, EvidenceView, list[str]], None]
REGISTER_PREFIX = "register."


def closing_day(ctx: EvaluationContext) -> date:
    """The date of a finding about the period as a whole: its last day, or today while the period runs."""
    return max(ctx.period.start.date(), min(ctx.period.last_day.date(), ctx.today))


def evidence_or_gap(ctx: EvaluationContext, findings: Findings, kind: str) -> EvidenceView | None:
    """The newest usable item of a kind; when there is none, a gap naming the kind (and any collection errors)."""
    item = ctx.latest(kind)
    if item is not None:
        return item
    unusable = ctx.items(kind, usable_only=False)
    ids = findings.use(unusable)
    if kind.startswith(REGISTER_PREFIX):
        findings.gap(kind, closing_day(ctx), "evidence.no_register", ids, register=kind.removeprefix(REGISTER_PREFIX))
    else:
        errors = "; ".join(e for i in unusable for e in i.errors)
        findings.gap(kind, closing_day(ctx), "evidence.missing", ids, why=f"{kind}: {errors}" if errors else kind)
    return None


def on_register(kind: str) -> Callable[[RegisterCheck], Callable[[EvaluationContext], Findings]]:
    """Turn check(ctx, findings, register, ids) into evaluate(ctx): without the register the control is a gap."""
    def wrap(check: RegisterCheck) -> Callable[[EvaluationContext], Findings]:
        def evaluate(ctx: EvaluationContext) -> Findings:
            findings = Findings()
            register = evidence_or_gap(ctx, findings, kind)
            if register is not None:
                check(ctx, findings, register, findings.use([register]))
            return findings
        evaluate.__doc__ = check.__doc__
        return evaluate
    return wrap


def require(ctx: EvaluationContext, findings: Findings, *kinds: str) -> dict[str, EvidenceView] | None:
    """The newest usable item of every kind, or None (with a gap per missing kind).

    A control that lacks one of these inputs tests nothing, so it ends as not
    evidenced instead of giving a verdict on half of the evidence.
    """
    found = {kind: evidence_or_gap(ctx, findings, kind) for kind in kinds}
    if any(item is None for item in found.values()):
        return None
    return found  # type: ignore[return-value]


@dataclass(frozen=True)
class Outcome:
    """One reason a subject-date did not pass: a deviation or, with gap=True, something that could not be shown."""

    code: str
    evidence: list[str]
    facts: dict[str, Any] = field(default_factory=dict)
    gap: bool = False


def record(findings: Findings, subject: str, day: date, outcomes: list[Outcome]) -> None:
    """One tested instance per subject-date: a pass when nothing went wrong, else every deviation and gap found."""
    if not outcomes:
        findings.passed(subject, day)
    for outcome in outcomes:
        report = findings.gap if outcome.gap else findings.deviation
        report(subject, day, outcome.code, outcome.evidence, **outcome.facts)


def rows(register: EvidenceView) -> list[Row]:
    return list(register.normalized.get("rows", []))


def snapshot_day(item: EvidenceView) -> date:
    return date.fromisoformat(item.day)


def account_key(value: Any) -> str:
    """An account name as compared: case-insensitive, without a DOMAIN\\ prefix or an @domain suffix."""
    text = str(value or "").strip().lower()
    return text.rsplit("\\", 1)[-1].split("@", 1)[0]


def name_key(value: Any) -> str:
    """A person's name as compared: case- and whitespace-insensitive."""
    return " ".join(str(value or "").lower().split())


def first_match(value: Any, patterns: Iterable[str]) -> str | None:
    """The first glob pattern that matches the value, case-insensitively."""
    text = name_key(value)
    return next((p for p in patterns if fnmatchcase(text, name_key(p))), None)


def matches_any(value: Any, patterns: Iterable[str]) -> bool:
    return first_match(value, patterns) is not None


def users_by_account(snapshot: EvidenceView) -> dict[str, Row]:
    return {account_key(u.get("account")): u for u in snapshot.normalized.get("users", [])}


def find_user(users: dict[str, Row], account: Any, name: Any) -> Row | None:
    """The AD user for a register row: by account, or by display name when the row names no account."""
    if account_key(account):
        return users.get(account_key(account))
    wanted = name_key(name)
    return next((u for u in users.values() if wanted and name_key(u.get("name")) == wanted), None)


class PersonRows:
    """Register rows indexed by person, so matching thousands of accounts stays linear.

    A person's rows are those with their account; failing that, rows without an
    account that carry their name. Rows that name another account never match
    by name, so two people with the same name are not mixed up.
    """

    def __init__(self, register_rows: list[Row], name_field: str):
        self.by_account: dict[str, list[Row]] = {}
        self.by_name: dict[str, list[Row]] = {}
        for row in register_rows:
            if key := account_key(row.get("account")):
                self.by_account.setdefault(key, []).append(row)
            elif name := name_key(row.get(name_field)):
                self.by_name.setdefault(name, []).append(row)

    def of(self, account: Any, name: Any) -> list[Row]:
        key = account_key(account)
        if key and key in self.by_account:
            return self.by_account[key]
        return self.by_name.get(name_key(name), []) if name_key(name) else []


def badges_in_use(ctx: EvaluationContext, badge_rows: list[Row]) -> list[Row]:
    """Badges that could open a door during the period: those not blocked before it began.

    An unreadable blocking date counts as not blocked, so such a badge is tested rather than left out.
    """
    from ._register_fields import readable  # imported here: _register_fields itself builds on this module

    start = ctx.period.start.date()
    return [b for b in badge_rows if not ((blocked := readable(b.get("blocked_on"))) and blocked < start)]
