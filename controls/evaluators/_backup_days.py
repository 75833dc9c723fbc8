"""Shared by the daily backup controls (T-BAK-1, T-BAK-4): backup runs per server per day, judged day by day.

No CONTROL_ID here, so the evaluator registry imports this module without registering it.

A server-day passes with at least one successful run (a warning counts when the
profile says so) and deviates when it only has failed runs. A day without any
run is judged by what the listings cover (`covering`), when the control asks for
it (`DailyRule.missed_code`); otherwise it is not evidenced.

What a listing covers. A backup listing (one usable `backup.runs` item, read
without errors) covers a server's nights from the first night it lists a run of
that server (the oldest archive or report line it still holds) up to and
including the night before the day it was collected: those nights were over when
the listing was read, so a night among them without any run had no backup. Not
covered, so not evidenced: nights before that first run (the listing cannot say
what came before its oldest archive), the collection day itself and later (the
night may still come), servers the listing names no run of, and every night of a
listing that is garbled or was read with errors (an incomplete listing can miss
a run). A repository pruned to fewer archives than nights thins its own history:
its listing is taken as complete from its oldest archive on, so it must keep
every night it lists back to then (borg `--keep-daily` covers that). A listing asked only for the runs since a
day (`listed_from`: the Windows collector's incremental reads) covers a server it lists a run of from that day on.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..evidence_view import EvidenceView
from ..framework import EvaluationContext, Findings, parse_moment

KIND = "backup.runs"
NONE = "—"  # shown for "no later success"; the same in both languages


@dataclass(frozen=True)
class BackupRun:
    server: str
    job: str
    target: str | None
    started: datetime
    result: str
    item_id: str  # the (newest) evidence item that reported the run

    @property
    def day(self) -> date:
        """The day on the clock of the source: a backup started at 23:30 belongs to that evening."""
        return self.started.date()


@dataclass(frozen=True)
class DailyRule:
    failed_code: str  # the control's message code for a failed day repaired in time
    not_repaired_code: str  # ... and for one not repaired in time (written out, so the codes can be found)
    ok_results: frozenset[str]  # results that make a day pass
    max_repair_days: int
    missed_code: str | None = None  # a night without any run inside a listing; None: such a night is not evidenced


@dataclass(frozen=True)
class Cover:
    """The nights one listing covers for one server: FIRST to the night before COLLECTED, both dates inclusive."""

    first: date
    collected: date
    item_id: str

    def holds(self, day: date) -> bool:
        return self.first <= day < self.collected


def collect_runs(items: Iterable[EvidenceView]) -> list[BackupRun]:
    """Every run once, oldest collection first.

    Collections overlap (a listing repeats older backups), so a run is keyed by
    (server, job, started); the newest collection's version wins because it may
    carry the final result of a run that was still busy before.
    """
    runs: dict[tuple[str, str, datetime], BackupRun] = {}
    for item in items:
        for raw in item.normalized.get("runs", []):
            run = BackupRun(
                raw["server"], raw.get("job") or "", raw.get("target"), parse_moment(raw["started"]), raw["result"], item.item_id
            )
            runs[(run.server, run.job, run.started)] = run
    return list(runs.values())


def covering(items: Iterable[EvidenceView]) -> dict[str, list[Cover]]:
    """Per server, the nights each complete listing covers (see the module's docstring)."""
    covers: dict[str, list[Cover]] = {}
    for item in items:
        if not item.usable or item.errors:
            continue  # garbled or read in part: a night it does not list may still have had a run
        first: dict[str, date] = {}
        for raw in item.normalized.get("runs", []):
            night = parse_moment(raw["started"]).date()
            first[raw["server"]] = min(first.get(raw["server"], night), night)
        if item.normalized.get("listed_from"):  # a listing of every run since that day (an incremental read)
            since = date.fromisoformat(item.normalized["listed_from"])
            first = {server: min(night, since) for server, night in first.items()}
        for server, night in first.items():
            covers.setdefault(server, []).append(Cover(night, date.fromisoformat(item.day), item.item_id))
    return covers


def ok_results(params: dict[str, Any]) -> frozenset[str]:
    return frozenset({"success", "warning"} if params["warning_counts_as_success"] else {"success"})


def runs_per_server_day(runs: Iterable[BackupRun]) -> dict[str, dict[date, list[BackupRun]]]:
    per: dict[str, dict[date, list[BackupRun]]] = {}
    for run in runs:
        per.setdefault(run.server, {}).setdefault(run.day, []).append(run)
    return per


def completeness(inventory: set[str], with_runs: set[str]) -> dict[str, list[str]]:
    """How the tested population was put together, so an auditor can see a server that was never backed up."""
    return {
        "servers_in_inventory": sorted(inventory),
        "servers_with_backup_runs": sorted(with_runs),
        "in_inventory_without_runs": sorted(inventory - with_runs),
        "with_runs_not_in_inventory": sorted(with_runs - inventory),
    }


def judge_days(
    ctx: EvaluationContext,
    findings: Findings,
    servers: Iterable[str],
    runs: list[BackupRun],
    rule: DailyRule,
    listings: Iterable[EvidenceView] = (),
) -> None:
    """One finding per server per day of the period; LISTINGS say which nights without a run were missed."""
    per_server = runs_per_server_day(runs)
    covers = covering(listings) if rule.missed_code else {}
    for server in sorted(servers):
        days = per_server.get(server, {})
        # success days outside the period count too: a failure on 31 December may be repaired on 1 January
        success_days = sorted(d for d, day_runs in days.items() if _has_success(day_runs, rule))
        for day in ctx.days():
            if not days.get(day) and rule.missed_code:
                held = [c for c in covers.get(server, []) if c.holds(day)]
                if held:
                    _missed(findings, server, day, held, rule.missed_code)
                    continue
            _judge_day(findings, server, day, days.get(day, []), success_days, rule)


def _missed(findings: Findings, server: str, day: date, held: list[Cover], code: str) -> None:
    newest = max(held, key=lambda c: (c.collected, c.first))
    since, collected = min(c.first for c in held).isoformat(), newest.collected.isoformat()
    attributes = {"backup_runs": 0, "listing_since": since, "listing_collected": collected}
    findings.deviation(
        server, day, code, sorted({c.item_id for c in held}), attributes=attributes, since=since, collected=collected
    )


def _has_success(runs: list[BackupRun], rule: DailyRule) -> bool:
    return any(r.result in rule.ok_results for r in runs)


def _deciding_run(runs: list[BackupRun], rule: DailyRule) -> BackupRun:
    """The run a server-day's result rests on: its first successful run, else its last run. Runs are ordered on
    the source's clock, as their day is (sources differ in whether they give an offset)."""
    in_order = sorted(runs, key=lambda r: r.started.replace(tzinfo=None))
    ok = [r for r in in_order if r.result in rule.ok_results]
    return ok[0] if ok else in_order[-1]


def _day_attributes(runs: list[BackupRun], rule: DailyRule) -> dict[str, Any]:
    """What the test of one server-day read: the result and its source run (job, start, target), and how many ran."""
    run = _deciding_run(runs, rule)
    return {
        "backup_result": run.result,
        "backup_job": run.job,
        "backup_started": run.started.isoformat(),
        "backup_target": run.target,
        "backup_runs": len(runs),
    }


def _judge_day(
    findings: Findings, server: str, day: date, runs: list[BackupRun], success_days: list[date], rule: DailyRule
) -> None:
    if not runs:
        findings.gap(server, day, "evidence.no_day", attributes={"backup_runs": 0})
        return
    attributes, ids = _day_attributes(runs, rule), sorted({r.item_id for r in runs})
    if _has_success(runs, rule):
        findings.passed(server, day, attributes=attributes, evidence=ids)
        return
    later = success_days[bisect_right(success_days, day) :]
    repair_days = (later[0] - day).days if later else None
    repaired = repair_days is not None and repair_days <= rule.max_repair_days
    findings.deviation(
        server,
        day,
        rule.failed_code if repaired else rule.not_repaired_code,
        ids,
        attributes=attributes | {"next_success": later[0].isoformat() if later else None, "repair_days": repair_days},
        results=sorted({r.result for r in runs}),
        jobs=sorted({r.job for r in runs}),
        next_success=later[0].isoformat() if later else NONE,
        repair_days=repair_days,
        max_repair_days=rule.max_repair_days,
    )
