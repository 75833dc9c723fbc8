"""Management's responses to deviations: the register `management_responses`, matched to the report's findings.

A response answers one subject's deviations of one control on a day or a date range (`date` .. `until`):
the cause, the corrective action, its owner, when it was fixed and how a retest went. The report shows it
beside each deviation it answers; a deviation without one is open. A response that answers no deviation of
the period is listed too, so a typo in a subject cannot hide a deviation as answered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .store import EvidenceStore, ItemRecord

REGISTER = "management_responses"
KIND = f"register.{REGISTER}"
FIELDS = ("cause", "corrective_action", "owner", "fixed_on", "retest_on", "retest_result")


# DOMAIN\\account: a bare domain name before the backslash (not a path such as fs01:D:\\Opnames)
_DOMAIN_ACCOUNT = re.compile(r"[\w.-]+\\(?P<account>[^\\]+)")


def _as_compared(subject: str) -> str:
    found = _DOMAIN_ACCOUNT.fullmatch(subject)
    return (found["account"] if found else subject).casefold()


def same_subject(a: str, b: str) -> bool:
    """A finding's subject as the response writes it: case-blind, and an account with or without its domain
    (HR writes KCDEMO\\p.jansen, ICT often p.jansen); a path is compared whole."""
    return _as_compared(a) == _as_compared(b)


@dataclass(frozen=True)
class Responses:
    item: ItemRecord  # the register as last imported: the evidence the responses rest on
    rows: list[dict[str, Any]]

    @staticmethod
    def covers(row: dict[str, Any], control: str, subject: str, day: str) -> bool:
        return (
            row["control"] == control
            and same_subject(row["subject"], subject)
            and row["date"] <= day <= (row["until"] or row["date"])
        )

    def answer(self, control: str, subject: str, day: str) -> dict[str, Any] | None:
        """The response to CONTROL's deviation of SUBJECT on DAY (YYYY-MM-DD), or None: open. The last row wins."""
        found = None
        for row in self.rows:
            if self.covers(row, control, subject, day):
                found = row
        return None if found is None else {**{f: found[f] for f in FIELDS}, "row": found["row"], "evidence": self.item.id}


def responses_in(store: EvidenceStore) -> Responses | None:
    """The responses register as last imported (any time: management answers after the period), or None."""
    usable = [i for i in store.items(kinds=[KIND]) if i.status == "ok" and i.normalized_sha256]
    if not usable:
        return None
    latest = max(usable, key=lambda i: (i.started, i.id))
    return Responses(latest, store.read_json(latest.normalized_sha256)["rows"])


def control_check(known: set[str]) -> Callable[[dict[str, Any]], list[tuple[str, str]]]:
    """A row check for the register parser: the row's control must be one of the catalogue (any case)."""
    upper = {c.upper() for c in known}

    def check(row: dict[str, Any]) -> list[tuple[str, str]]:
        control = row.get("control")
        return [] if not control or control.upper() in upper else [("control", f"'{control}' is not a control of the catalogue")]

    return check


def with_catalogue_ids(normalized: dict[str, Any], known: set[str]) -> dict[str, Any]:
    """The register with each control id as the catalogue writes it (t-av -> T-AV)."""
    by_upper = {c.upper(): c for c in known}
    return {**normalized, "rows": [{**row, "control": by_upper[row["control"].upper()]} for row in normalized["rows"]]}
