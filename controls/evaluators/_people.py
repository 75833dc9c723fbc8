"""Matching people: account and display names as compared, glob patterns, the AD users of a
snapshot, register rows per person, and the badges in use (the account and badge controls O-*).

No CONTROL_ID here, so the evaluator registry imports this module without registering it.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Any

from ..evidence_view import EvidenceView
from ..framework import EvaluationContext
from ._common import Row
from ._register_fields import readable


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
    start = ctx.period.start.date()
    return [b for b in badge_rows if not ((blocked := readable(b.get("blocked_on"))) and blocked < start)]
