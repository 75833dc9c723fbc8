"""T-LOG-2: the Security log on DCs and file servers has logon events every day and covers the retention."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from ..framework import EvaluationContext, Findings, parse_moment

CONTROL_ID = "T-LOG-2"
DAILY = "windows.security_events_daily"
LOG = "windows.security_log"
OTHER_LOG_CLEARED = 104  # Microsoft-Windows-Eventlog: System (or another log than Security) cleared
# The catalogue promises logon *and logoff* events every day: the Logon/Logoff audit events the probe and the
# EVTX summary count. A day of thousands of failed logons (4625) shows the log was recording, so it is logged.
# 4648 and 4672 are not read: each comes with the 4624 of the same logon, so they could not add a logged day.
LOGON_EVENTS = ("4624", "4625", "4634", "4647")


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)  # days are UTC days, as the daily counts are


@dataclass(frozen=True)
class Read:
    """One read of a host's log: the moments its records span, the day it asked from (None: all the log held)."""

    first: datetime
    last: datetime
    asked_from: datetime | None
    item_id: str


@dataclass(frozen=True)
class Rollover:
    """Records lost between two reads: the log, read again, began (at OLDEST) after the earlier read had ended."""

    read_to: datetime
    oldest: datetime
    ids: tuple[str, str]

    def touches(self, day: date) -> bool:
        return _start(day) < self.oldest and _start(day + timedelta(days=1)) > self.read_to


@dataclass
class LogReads:
    """What a host's log reads show: logon events per day (and the read that counted them), the reads with the
    moments they spanned (oldest record to read or newest record), and every read's item id."""

    logons: dict[date, tuple[int, str]] = field(default_factory=dict)
    reads: list[Read] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    @property
    def spans(self) -> list[tuple[datetime, datetime]]:
        return [(r.first, r.last) for r in self.reads]

    def rollovers(self) -> list[Rollover]:
        """The holes between reads that the log itself made: a read that asked from a moment the reads before it
        had reached (or asked for everything), yet began later than they ended. A hole the collector made by not
        asking (an incremental read that started after the last one ended) is no rollover, only a missing day."""
        found, reach, reached_by = [], None, ""
        for read in sorted(self.reads, key=lambda r: (r.first, r.last)):
            if reach is not None and read.first > reach and (read.asked_from is None or read.asked_from <= reach):
                found.append(Rollover(reach, read.first, (reached_by, read.item_id)))
            if reach is None or read.last > reach:
                reach, reached_by = read.last, read.item_id
        return found

    def count(self, day: date) -> int:
        return self.logons[day][0] if day in self.logons else 0

    def counted_by(self, day: date) -> list[str]:
        """The read whose count is taken for the day; every read when none counted it."""
        return [self.logons[day][1]] if day in self.logons else self.ids


def _coverage(ctx: EvaluationContext, host: str) -> LogReads:
    reads = LogReads()
    for item in ctx.items(DAILY):
        if item.host != host:
            continue
        reads.ids.append(item.item_id)
        if not item.normalized.get("covered_from"):
            continue  # a System log read for its clears (104) says nothing about the Security log's days
        asked = item.normalized.get("requested_from")
        reads.reads.append(
            Read(
                parse_moment(item.normalized["covered_from"]),
                parse_moment(item.normalized["covered_to"]),
                _start(date.fromisoformat(asked)) if asked else None,
                item.item_id,
            )
        )
        for day, counts in item.normalized["days"].items():
            key = date.fromisoformat(day)
            count = sum(int(counts.get(event, 0)) for event in LOGON_EVENTS)
            if key not in reads.logons or count > reads.logons[key][0]:  # overlapping reads: same events
                reads.logons[key] = (count, item.item_id)
    return reads


def covers(spans: list[tuple[datetime, datetime]], day: date, running: bool = False) -> bool:
    """A day is evidenced only when the reads' records span the whole of it, from 00:00 to 24:00 UTC.

    So the first day of a log is covered only if its oldest record is at or before that day's start, and
    the last only if the log was read (live) or its newest record lies (export) at or after the day's end:
    a log that begins at 10:00 says nothing of the night before, one read at 14:00 nothing of the evening.
    The one exception is a day still RUNNING (the audit's today): it cannot be over yet, so a span from its
    start into it covers it as far as it has come. Reads that overlap or touch are joined, so daily reads of a
    live log cover every day between them.
    """
    start, end = _start(day), _start(day + timedelta(days=1))
    reach = None  # the end of the joined span that began at or before the day's start
    for first, last in sorted(spans):
        if first <= start:
            reach = last if reach is None else max(reach, last)
        elif reach is not None and first <= reach:
            reach = max(reach, last)
        else:
            break
    return reach is not None and (reach >= end or (running and reach > start))


def _notable(ctx: EvaluationContext, findings: Findings, host: str) -> None:
    seen = set()
    for item in ctx.items(DAILY):
        if item.host != host:
            continue
        for event in item.normalized.get("notable", []):
            # 4719s of one second differ by subcategory: each is a change of its own
            key = (event["event_id"], event["time"], event.get("subcategory_guid"), event.get("log"))
            moment = parse_moment(event["time"])
            if key in seen or not ctx.in_period(moment):
                continue
            seen.add(key)
            findings.use([item])
            facts = {"time": event["time"], "by": event.get("by")}
            cleared = {"cleared_at": event["time"], "cleared_by": event.get("by"), "cleared_log": event.get("log") or "Security"}
            if int(event["event_id"]) == 1102:
                findings.deviation(host, moment.date(), "log2.cleared", [item.item_id], attributes=cleared, **facts)
            elif int(event["event_id"]) == OTHER_LOG_CLEARED:
                findings.deviation(
                    host,
                    moment.date(),
                    "log2.other_log_cleared",
                    [item.item_id],
                    attributes=cleared,
                    log=event.get("log"),
                    **facts,
                )
            elif event.get("subcategory_guid"):  # read from an exported log: which subcategory, and how
                changes = event.get("changes") or None
                findings.observe(
                    host,
                    moment.date(),
                    "log2.subcategory_changed",
                    [item.item_id],
                    subcategory=event["subcategory_guid"],
                    changes=changes,
                    **facts,
                )
            else:
                findings.observe(host, moment.date(), "log2.policy_changed", [item.item_id], **facts)


def _retention(ctx: EvaluationContext, findings: Findings, host: str) -> None:
    for item in ctx.items(LOG):
        if item.host != host or not item.normalized.get("oldest_record"):
            continue
        collected = date.fromisoformat(item.day)
        age = (collected - parse_moment(item.normalized["oldest_record"]).date()).days
        if age < ctx.params["retention_days"]:
            attributes = {"oldest_record": item.normalized["oldest_record"], "oldest_record_age_days": age}
            findings.deviation(
                host,
                collected,
                "log2.retention",
                [item.item_id],
                attributes=attributes,
                days=age,
                required=ctx.params["retention_days"],
            )


def _gap(findings: Findings, host: str, day: date, reads: LogReads, rollovers: list[Rollover]) -> None:
    """A day no read covers: lost to a rollover between two collections (with its dates), else simply unread."""
    rolled = next((r for r in rollovers if r.touches(day)), None)
    if rolled is None:
        findings.gap(host, day, "evidence.no_day", reads.ids)
        return
    read_to, oldest = rolled.read_to.isoformat(), rolled.oldest.isoformat()
    findings.gap(
        host,
        day,
        "log2.rolled_over",
        list(rolled.ids),
        attributes={"read_until": read_to, "oldest_record": oldest},
        read_until=read_to,
        oldest_record=oldest,
    )


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    hosts = ctx.hosts_with_roles(ctx.control.applies_to_roles) | {i.host for i in ctx.items(DAILY)}
    for host in sorted(hosts):
        reads = _coverage(ctx, host)
        spans, rollovers = reads.spans, reads.rollovers()
        findings.use(i for i in ctx.evidence if i.host == host)
        for day in ctx.days():
            if not covers(spans, day, running=day == ctx.today):
                _gap(findings, host, day, reads, rollovers)
                continue
            count = reads.count(day)
            if count < ctx.params["min_daily_logons"]:
                findings.deviation(host, day, "log2.no_logons", reads.ids, attributes={"logon_events": count}, count=count)
            else:
                findings.passed(host, day, attributes={"logon_events": count}, evidence=reads.counted_by(day))
        _notable(ctx, findings, host)
        _retention(ctx, findings, host)
    return findings
