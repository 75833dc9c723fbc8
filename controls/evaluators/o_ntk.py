"""O-NTK: membership of every data-access group was reviewed recently enough (need to know)."""

from __future__ import annotations

from datetime import date

from ..framework import EvaluationContext, Findings
from ._common import Outcome, Row, logged_events, record, require, snapshot_day
from ._people import name_key
from ._register_fields import dated_rows

CONTROL_ID = "O-NTK"
GROUPS = "ad.groups"
REVIEWS = "register.access_reviews"
ACCOUNT_CHANGES = "windows.account_changes"  # 4720/4726/4728/4732/4756 read from exported Security logs
CHANGE_CODES = {4720: "ntk.account_created", 4726: "ntk.account_deleted"}  # the group events: ntk.member_added


def last_review(reviews: list[tuple[Row, date]], group: str, until: date) -> date | None:
    """The newest review of the group on or before the given day; later reviews cannot evidence the period."""
    return max((day for row, day in reviews if name_key(row.get("group")) == name_key(group) and day <= until), default=None)


def review_outcomes(group: Row, reviewed: date | None, until: date, allowed: int, ids: list[str]) -> list[Outcome]:
    facts = {
        "members": len(group.get("members") or []),
        "until": until.isoformat(),
        "last_review": reviewed.isoformat() if reviewed else None,
    }
    if reviewed is None:
        return [Outcome("ntk.never_reviewed", ids, facts)]
    if (until - reviewed).days > allowed:
        return [Outcome("ntk.review_stale", ids, facts | {"age": (until - reviewed).days, "allowed": allowed})]
    return []


def account_changes(ctx: EvaluationContext, findings: Findings) -> None:
    """Accounts created or deleted and members added to security groups in the period: listed for the reviewer."""
    for item, event, moment in logged_events(ctx, ACCOUNT_CHANGES, lambda e: (e.get("sid"), e.get("group_sid"))):
        code = CHANGE_CODES.get(int(event["event_id"]), "ntk.member_added")
        facts = {"account": event.get("account"), "time": event["time"], "by": event.get("by")}
        if code == "ntk.member_added":
            facts["group"] = event.get("group")
        subject = event.get("account") or "?"  # a subject is named even when the event does not name the account
        findings.observe(subject, moment.date(), code, findings.use([item]), host=item.host, **facts)


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    account_changes(ctx, findings)
    found = require(ctx, findings, GROUPS, REVIEWS)
    if found is None:
        return findings
    ids = findings.use([found[GROUPS], found[REVIEWS]])
    reviews = dated_rows(ctx, findings, found[REVIEWS], "reviewed_on")
    day, until, allowed = snapshot_day(found[GROUPS]), ctx.period.last_day.date(), ctx.params["review_max_age_days"]
    for group in found[GROUPS].normalized.get("groups", []):
        reviewed = last_review(reviews, group.get("name"), until)
        attributes = {
            "members": len(group.get("members") or []),
            "last_review": reviewed.isoformat() if reviewed else None,
            "review_age_days": (until - reviewed).days if reviewed else None,
        }
        record(findings, group.get("name"), day, review_outcomes(group, reviewed, until, allowed, ids), attributes, ids)
    return findings
