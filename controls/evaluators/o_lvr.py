"""O-LVR: a leaver's account is blocked right after the last working day; the badge is blocked and handed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ..evidence_view import EvidenceView
from ..framework import Attributes, EvaluationContext, Findings, parse_moment
from ._common import Outcome, Row, evidence_or_gap, one_or_all, record, require, rows, snapshot_day
from ._people import PersonRows, account_key, find_user, users_by_account
from ._register_fields import dated_rows, readable

CONTROL_ID = "O-LVR"
HR = "register.hr_leavers"
USERS = "ad.users"
DISABLED = "ad.account_disabled_events"
BADGES = "register.badges"
# ad.users collected before last_logon_source existed held lastLogonTimestamp alone
OLDER_SOURCE = "lastLogonTimestamp"
EVENT_SOURCE, CHANGED_SOURCE = "4725", "whenChanged"  # where a leaver's disable time was read


@dataclass(frozen=True)
class Leaver:
    subject: str
    account: str
    name: str
    last_day: date


@dataclass(frozen=True)
class Sources:
    """What every leaver is tested against, with the evidence ids to cite."""

    snapshot: date
    users: dict[str, Row]
    disabled: dict[str, tuple[datetime, str]]  # account key -> (newest 4725, the item it was read from)
    badge_rows: PersonRows | None
    ids: dict[str, list[str]]
    allowed: int
    per_dc: list[tuple[str, dict[str, Row]]]  # (item id, users) of every DC's newest snapshot: lastLogon is per DC

    def cite(self, *kinds: str) -> list[str]:
        return [i for kind in kinds for i in self.ids.get(kind, [])]


def leavers(ctx: EvaluationContext, findings: Findings, register: EvidenceView) -> list[Leaver]:
    """Leavers whose last working day lies in the period and has already passed (unreadable dates are gaps)."""
    found = []
    for row, last_day in dated_rows(ctx, findings, register, "last_working_day"):
        if ctx.in_period(last_day) and last_day <= ctx.today:
            account, name = str(row.get("account") or "").strip(), str(row.get("name") or "").strip()
            found.append(Leaver(account or name, account, name, last_day))
    return found


def newest_disable_events(items: list[EvidenceView]) -> dict[str, tuple[datetime, str]]:
    """Per account, its newest 4725 event and the item holding it (an earlier disabling may have been undone)."""
    newest: dict[str, tuple[datetime, str]] = {}
    for item in items:
        for event in item.normalized.get("events", []):
            key, moment = account_key(event.get("account")), parse_moment(event.get("time"))
            if key and moment and (key not in newest or moment > newest[key][0]):
                newest[key] = (moment, item.item_id)
    return newest


def disable_day(user: Row, src: Sources) -> date | None:
    event = src.disabled.get(account_key(user.get("account")))
    return event[0].date() if event else None


def disable_item(user: Row, src: Sources) -> list[str]:
    """The item holding the account's newest 4725: what a late disabling rests on (its absence rests on them all)."""
    event = src.disabled.get(account_key(user.get("account")))
    return [event[1]] if event else []


def account_outcomes(leaver: Leaver, user: Row | None, src: Sources) -> list[Outcome]:
    if user is None:
        return []  # the account was removed from AD altogether
    cite, last_day = src.cite(HR, USERS), leaver.last_day.isoformat()
    deadline = leaver.last_day + timedelta(days=src.allowed)
    disabled_on = disable_day(user, src)
    if user.get("enabled") and not (disabled_on and disabled_on > src.snapshot):
        if src.snapshot > deadline:
            return [
                Outcome(
                    "lvr.enabled",
                    cite,
                    {"days": (src.snapshot - leaver.last_day).days, "last_day": last_day, "snapshot": src.snapshot.isoformat()},
                )
            ]
        # an older snapshot shows the account before it had to be blocked
        return [
            Outcome("lvr.state_unknown", cite, {"snapshot": src.snapshot.isoformat(), "deadline": deadline.isoformat()}, gap=True)
        ]
    if disabled_on is None:
        if src.snapshot <= deadline:
            return []  # already disabled in a snapshot taken before the deadline
        return [Outcome("lvr.disabled_date_unknown", cite + src.cite(DISABLED), gap=True)]
    delay = (disabled_on - leaver.last_day).days
    if delay > src.allowed:
        return [
            Outcome(
                "lvr.disabled_late",
                cite + disable_item(user, src),
                {"disabled_on": disabled_on.isoformat(), "delay": delay, "allowed": src.allowed, "last_day": last_day},
            )
        ]
    return []


def newest_per_dc(items: list[EvidenceView]) -> list[EvidenceView]:
    """Each DC's newest usable snapshot in the period (items come oldest first, so the last one per host stays)."""
    return list({item.host: item for item in items}.values())


def logon_moment(user: Row | None) -> datetime | None:
    """A user's last_logon as an aware moment, so values from several DCs compare (a bare date counts as UTC)."""
    moment = parse_moment(user.get("last_logon")) if user else None
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def logon_attribute(source: str) -> str:
    """The AD attribute a last logon was read from, as a finding names it: "lastLogonTimestamp", "lastLogon (dc01)".

    The collector describes the source in English ("lastLogon on dc01", "lastLogonTimestamp (replicated, may lag
    up to 14 days)"); the finding's text says in the report's language what each attribute can and cannot show.
    """
    attribute, _, rest = source.partition(" ")
    return f"{attribute} ({rest.removeprefix('on ')})" if rest.startswith("on ") else attribute


def latest_logon(leaver: Leaver, src: Sources) -> tuple[datetime, str, str] | None:
    """(moment, source, item id) of the leaver's latest logon across every DC; on a tie the first DC read."""
    latest = None
    for item_id, users in src.per_dc:
        user = find_user(users, leaver.account, leaver.name)
        moment = logon_moment(user)
        if user and moment and (latest is None or moment > latest[0]):
            latest = (moment, logon_attribute(str(user.get("last_logon_source") or OLDER_SOURCE)), item_id)
    return latest


def logon_outcomes(leaver: Leaver, user: Row | None, src: Sources) -> list[Outcome]:
    if user is None:
        return []
    latest = latest_logon(leaver, src)
    if latest and latest[0].date() > leaver.last_day:
        moment, source, item_id = latest
        return [
            Outcome(
                "lvr.logon_after",
                src.cite(HR) + list(dict.fromkeys([*src.cite(USERS), item_id])),
                {"last_logon": moment.date().isoformat(), "last_day": leaver.last_day.isoformat(), "last_logon_source": source},
            )
        ]
    return []


def badge_outcomes(leaver: Leaver, src: Sources) -> list[Outcome]:
    cite = src.cite(HR, BADGES)
    badges = src.badge_rows.of(leaver.account, leaver.name) if src.badge_rows else []
    if not badges:
        return [Outcome("lvr.no_badge", cite)]
    outcomes = []
    for badge in badges:
        badge_id = badge.get("badge_id")
        blocked_on = readable(badge.get("blocked_on"))
        if blocked_on is None:
            outcomes.append(Outcome("lvr.badge_not_blocked", cite, {"badge_id": badge_id}))
        elif (delay := (blocked_on - leaver.last_day).days) > src.allowed:
            outcomes.append(
                Outcome(
                    "lvr.badge_blocked_late",
                    cite,
                    {
                        "badge_id": badge_id,
                        "blocked_on": blocked_on.isoformat(),
                        "delay": delay,
                        "allowed": src.allowed,
                        "last_day": leaver.last_day.isoformat(),
                    },
                )
            )
        if readable(badge.get("returned_on")) is None:
            outcomes.append(Outcome("lvr.badge_not_returned", cite, {"badge_id": badge_id}))
    return outcomes


def leaver_attributes(leaver: Leaver, user: Row | None, src: Sources) -> tuple[Attributes, list[str]]:
    """What the test of one leaver read, and the items it came from: the disable time from the newest 4725, or
    else the account's whenChanged (its last change: disabled no later than that), the latest logon over every DC,
    the badges' blocking and return dates."""
    evidence = src.cite(HR, USERS)
    event = src.disabled.get(account_key(user.get("account"))) if user else None
    disabled_at, source = (event[0], EVENT_SOURCE) if event else (None, None)
    if event is None and user is not None and not user.get("enabled") and parse_moment(user.get("changed")):
        disabled_at, source = parse_moment(user.get("changed")), CHANGED_SOURCE
    evidence += disable_item(user, src) if user else []
    latest = latest_logon(leaver, src) if user else None
    evidence += [latest[2]] if latest else []
    attributes: Attributes = {
        "name": leaver.name or None,
        "last_working_day": leaver.last_day.isoformat(),
        "deadline": (leaver.last_day + timedelta(days=src.allowed)).isoformat(),
        "snapshot": src.snapshot.isoformat(),
        "account_found": user is not None,
        "account_enabled": bool(user.get("enabled")) if user else None,
        "disabled_at": disabled_at.isoformat() if disabled_at else None,
        "disabled_source": source,
        "last_logon": latest[0].isoformat() if latest else None,
        "last_logon_source": latest[1] if latest else None,
    }
    if src.badge_rows is not None:
        badges = src.badge_rows.of(leaver.account, leaver.name)
        attributes |= {
            "badge_id": one_or_all([str(b.get("badge_id")) for b in badges]),
            "badge_blocked_on": one_or_all([_day_text(b.get("blocked_on")) for b in badges]),
            "badge_returned_on": one_or_all([_day_text(b.get("returned_on")) for b in badges]),
        }
        evidence += src.cite(BADGES)
    return attributes, list(dict.fromkeys(evidence))


def _day_text(value: object) -> str | None:
    day = readable(value)
    return day.isoformat() if day else None


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    found = require(ctx, findings, HR, USERS)
    if found is None:
        return findings
    # Without the badge register the accounts can still be tested; its gap keeps the control from passing.
    badges = evidence_or_gap(ctx, findings, BADGES) if ctx.params["check_badges"] else None
    events = ctx.items(DISABLED)
    per_dc = newest_per_dc(ctx.items(USERS))
    src = Sources(
        snapshot=snapshot_day(found[USERS]),
        users=users_by_account(found[USERS]),
        disabled=newest_disable_events(events),
        badge_rows=PersonRows(rows(badges), "holder") if badges else None,
        allowed=ctx.params["max_days_after_last_day"],
        per_dc=[(item.item_id, users_by_account(item)) for item in per_dc],
        ids={
            HR: findings.use([found[HR]]),
            USERS: findings.use([found[USERS]]),
            DISABLED: findings.use(events),
            BADGES: findings.use([badges] if badges else []),
        },
    )
    findings.use(per_dc)  # every DC's newest snapshot is read for the last logon
    for leaver in leavers(ctx, findings, found[HR]):
        user = find_user(src.users, leaver.account, leaver.name)
        outcomes = account_outcomes(leaver, user, src) + logon_outcomes(leaver, user, src)
        if src.badge_rows is not None:
            outcomes += badge_outcomes(leaver, src)
        attributes, evidence = leaver_attributes(leaver, user, src)
        record(findings, leaver.subject, leaver.last_day, outcomes, attributes, evidence)
    return findings
