"""O-NDA: everyone with an enabled account signed a confidentiality agreement when hired."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..framework import EvaluationContext, Findings, parse_day
from ._common import Outcome, Row, record, require, rows, snapshot_day
from ._people import PersonRows, matches_any
from ._register_fields import readable

CONTROL_ID = "O-NDA"
NDA = "register.nda"
USERS = "ad.users"


def first_signature(nda_rows: PersonRows, user: Row) -> date | None:
    """The earliest signing date among the register rows for this user."""
    signed = [d for r in nda_rows.of(user.get("account"), user.get("name")) if (d := readable(r.get("signed_on")))]
    return min(signed, default=None)


def nda_outcomes(user: Row, nda_rows: PersonRows, allowed: int, ids: list[str]) -> list[Outcome]:
    created = parse_day(user.get("created"))  # account creation stands in for the hiring date
    created_text = created.isoformat() if created else None
    signed_on = first_signature(nda_rows, user)
    if signed_on is None:
        return [Outcome("nda.missing", ids, {"created": created_text})]
    if created and (signed_on - created).days > allowed:
        return [
            Outcome(
                "nda.late",
                ids,
                {
                    "signed_on": signed_on.isoformat(),
                    "created": created_text,
                    "days": (signed_on - created).days,
                    "allowed": allowed,
                },
            )
        ]
    return []


def nda_attributes(user: Row, nda_rows: PersonRows) -> dict[str, Any]:
    """The hiring date the test took (account creation) and the first signing date it found."""
    created, signed_on = parse_day(user.get("created")), first_signature(nda_rows, user)
    return {
        "name": user.get("name"),
        "created": created.isoformat() if created else None,
        "signed_on": signed_on.isoformat() if signed_on else None,
        "days_to_sign": (signed_on - created).days if created and signed_on else None,
    }


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    found = require(ctx, findings, NDA, USERS)
    if found is None:
        return findings
    ids = findings.use([found[NDA], found[USERS]])
    nda_rows, day, allowed = PersonRows(rows(found[NDA]), "name"), snapshot_day(found[USERS]), ctx.params["max_days_after_hire"]
    for user in found[USERS].normalized.get("users", []):
        if user.get("enabled") and not matches_any(user.get("account"), ctx.params["excluded_accounts"]):
            outcomes = nda_outcomes(user, nda_rows, allowed, ids)
            record(findings, user.get("account"), day, outcomes, nda_attributes(user, nda_rows), ids)
    return findings
