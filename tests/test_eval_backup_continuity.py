"""Evaluators of T-BAK-1, T-BAK-2, T-BAK-3, T-BAK-4, T-CON-1 and T-CON-2 over a period."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from auditpack.collectors.parsers.borg import parse_borg_list
from auditpack.controls.evaluators._backup_days import collect_runs
from auditpack.controls.exceptions import ExceptionEntry
from auditpack.controls.result import Status
from auditpack.periods import period_from_options
from conftest import corpus_file
from evidence_factory import evaluate, item, register, run


def period(first: str, last: str):
    return period_from_options(None, date.fromisoformat(first), date.fromisoformat(last), 2026)


def days(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def backup(
    server: str, day: date | str, result: str = "success", target: str = "local", job: str = "nightly", hour: int = 22
) -> dict:
    return {
        "server": server,
        "job": job,
        "target": target,
        "started": f"{day}T{hour:02d}:00:00+01:00",
        "ended": f"{day}T{hour:02d}:40:00+01:00",
        "result": result,
    }


def backups(runs: list[dict], day: str = "2026-06-01", seq: int = 1):
    return item("backup.runs", {"runs": runs}, host="backup01", day=day, seq=seq)


def dates(findings) -> list[str]:
    return [f.date for f in findings]


# -- T-BAK-1: a year of daily backups for two servers -----------------------------------------------

SERVERS = {"srv-a": ["file_server"], "srv-b": ["server"]}
MISSING_B = {date(2026, 2, 14), date(2026, 7, 1), date(2026, 12, 31)}
FAILED_B = {date(2026, 3, 10), date(2026, 6, 30)}  # 30 June is followed by the missing 1 July: repaired on 2 July


def year_of_backups() -> list:
    """One collection a month, each repeating the last day of the month before (so runs overlap)."""
    collected = []
    for month in range(1, 13):
        first = date(2026, month, 1)
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        runs = []
        for day in days(str(first - timedelta(days=1)), str(last)):
            runs.append(backup("srv-a", day))
            if day not in MISSING_B:
                runs.append(backup("srv-b", day, "failure" if day in FAILED_B else "success"))
        collected.append(backups(runs, day=str(last), seq=month))
    return collected


def test_t_bak_1_year_of_two_servers_counts_every_server_day():
    collected = year_of_backups()
    r = evaluate("T-BAK-1", collected, [run(1, "2026-01-15", SERVERS)])
    assert r.population == ["srv-a", "srv-b"]
    assert r.tested == 2 * 365 - 1
    assert [(d.subject, d.date, d.code) for d in r.deviations] == [
        ("srv-b", "2026-02-14", "bak1.missed"),  # inside February's listing (31 January to 27 February): missed
        ("srv-b", "2026-03-10", "bak1.failed"),
        ("srv-b", "2026-06-30", "bak1.not_repaired"),
        ("srv-b", "2026-07-01", "bak1.missed"),
    ]
    # December's listing was read on 31 December: that night was not over, so it is not evidenced
    assert [(g.subject, g.date, g.code) for g in r.gaps] == [("srv-b", "2026-12-31", "evidence.no_day")]
    assert r.status == Status.EFFECTIVE_WITH_DEVIATIONS  # 5 of 730 server-days
    february, march, june, july = r.deviations
    assert february.evidence == [collected[1].item_id] and july.evidence == [collected[6].item_id]
    assert february.facts == {"since": "2026-01-31", "collected": "2026-02-28"}
    assert february.text("en") == (
        "no backup ran that night: the backup listing read on 2026-02-28 shows this server's backups from 2026-01-31 on, "
        "but no run at all that night"
    )
    march, june = march.facts, june.facts
    assert (march["next_success"], march["repair_days"], march["results"]) == ("2026-03-11", 1, ["failure"])
    assert (june["next_success"], june["repair_days"], june["max_repair_days"]) == ("2026-07-02", 2, 1)
    assert r.deviations[2].text("en") == (
        "no successful backup: the runs of that day failed (job nightly); not repaired within 1 day "
        "(next successful backup: 2026-07-02)"
    )
    assert r.completeness["in_inventory_without_runs"] == [] and r.completeness["with_runs_not_in_inventory"] == []


def test_t_bak_1_exception_moves_the_failed_day_to_excepted():
    waiver = ExceptionEntry(
        control="T-BAK-1",
        scope="SRV-B",
        justification="storage migration, backup paused by plan",
        owner="ICT manager",
        approver="director",
        starts=date(2026, 3, 10),
        expires=date(2026, 3, 10),
    )
    r = evaluate("T-BAK-1", year_of_backups(), [run(1, "2026-01-15", SERVERS)], exceptions=[waiver])
    assert [(e.deviation.subject, e.deviation.date, e.owner) for e in r.excepted] == [("srv-b", "2026-03-10", "ICT manager")]
    assert dates(r.deviations) == ["2026-02-14", "2026-06-30", "2026-07-01"]
    assert r.exceptions[0].matched == 1


def test_t_bak_1_overlapping_collections_count_each_run_once():
    run_a = backup("srv-a", "2026-05-01")
    first = backups([run_a, backup("srv-a", "2026-05-02", "warning")], seq=1)
    second = backups([run_a, backup("srv-a", "2026-05-02", "success")], seq=2)  # the newer collection wins
    runs = collect_runs([first, second])
    assert [(r.day.isoformat(), r.result, r.item_id) for r in runs] == [
        ("2026-05-01", "success", second.item_id),
        ("2026-05-02", "success", second.item_id),
    ]


def test_t_bak_1_warning_counts_as_success_unless_the_profile_says_otherwise():
    evidence = [backups([backup("srv-a", "2026-05-01", "warning"), backup("srv-a", "2026-05-02")])]
    window = period("2026-05-01", "2026-05-02")
    assert evaluate("T-BAK-1", evidence, period=window).status == Status.EFFECTIVE
    strict = evaluate("T-BAK-1", evidence, period=window, warning_counts_as_success=False)
    [dev] = strict.deviations
    assert (dev.date, dev.code, dev.facts["results"], dev.facts["repair_days"]) == ("2026-05-01", "bak1.failed", ["warning"], 1)


@pytest.mark.parametrize("max_repair_days,code", [(2, "bak1.failed"), (1, "bak1.not_repaired")])
def test_t_bak_1_repair_exactly_at_the_limit_is_in_time(max_repair_days, code):
    evidence = [backups([backup("srv-a", "2026-05-01", "failure"), backup("srv-a", "2026-05-03")])]
    r = evaluate("T-BAK-1", evidence, period=period("2026-05-01", "2026-05-03"), max_repair_days=max_repair_days)
    dev, missed = r.deviations
    assert (dev.date, dev.code, dev.facts["repair_days"]) == ("2026-05-01", code, 2)
    assert (missed.date, missed.code) == ("2026-05-02", "bak1.missed")  # the listing read on 1 June covers 2 May
    assert r.gaps == [] and r.tested == 3


def test_t_bak_1_failure_never_repaired_names_no_next_success():
    r = evaluate(
        "T-BAK-1",
        [backups([backup("srv-a", "2026-05-01"), backup("srv-a", "2026-05-02", "failure")])],
        period=period("2026-05-01", "2026-05-02"),
    )
    [dev] = r.deviations
    assert (dev.code, dev.facts["next_success"], dev.facts["repair_days"]) == ("bak1.not_repaired", "—", None)
    assert r.status == Status.NOT_EFFECTIVE  # 1 of 2 days


def test_t_bak_1_inventoried_server_without_runs_is_not_evidenced():
    r = evaluate(
        "T-BAK-1",
        [],
        [run(1, "2026-05-01", {"dc01": ["domain_controller"], "ws01": ["workstation"]})],
        period=period("2026-05-01", "2026-05-03"),
    )
    assert r.status == Status.NOT_EVIDENCED and r.population == ["dc01"] and r.tested == 0
    assert dates(r.gaps) == ["2026-05-01", "2026-05-02", "2026-05-03"]
    assert r.completeness["in_inventory_without_runs"] == ["dc01"]


def test_t_bak_1_without_servers_or_runs_is_not_evidenced():
    r = evaluate("T-BAK-1", [])
    assert r.status == Status.NOT_EVIDENCED
    assert [(g.subject, g.date, g.code) for g in r.gaps] == [("backup.runs", "2026-12-31", "bak1.no_servers")]


def test_t_bak_1_on_borg_archives_from_the_corpus():
    listing = parse_borg_list(corpus_file("backup/borgbase__vorta/list_stdout.json").read_bytes(), server="nyx2.local")
    evidence = [item("backup.runs", listing, host="nyx2.local", day="2018-11-06")]
    r = evaluate("T-BAK-1", evidence, period=period("2018-11-02", "2018-11-07"), today=date(2018, 11, 7))
    # archives exist on 4, 5 (three of them) and 6 November 2018; the days around them have none
    assert r.population == ["nyx2.local"] and r.tested == 3 and r.deviations == []
    assert dates(r.gaps) == ["2018-11-02", "2018-11-03", "2018-11-07"]
    assert r.status == Status.NOT_EFFECTIVE  # 3 unevidenced days of 6
    assert r.completeness["with_runs_not_in_inventory"] == ["nyx2.local"]


# -- T-BAK-4: the AD server's daily cloud backup ------------------------------------------------------

DC = {"dc01": ["domain_controller"], "fs01": ["file_server"]}


def test_t_bak_4_daily_cloud_backups_of_the_dc_pass():
    runs = [backup("dc01", d, target="cloud") for d in days("2026-05-01", "2026-05-07")]
    r = evaluate(
        "T-BAK-4",
        [backups(runs + [backup("fs01", "2026-05-01", "failure", "cloud")])],
        [run(1, "2026-05-01", DC)],
        period=period("2026-05-01", "2026-05-07"),
    )
    assert r.status == Status.EFFECTIVE and r.population == ["dc01"] and r.tested == 7


def test_t_bak_4_local_backups_do_not_count_and_failures_are_timed():
    runs = [
        backup("dc01", "2026-05-01", target="cloud"),
        backup("dc01", "2026-05-02", target="local"),
        backup("dc01", "2026-05-03", "failure", "cloud"),
        backup("dc01", "2026-05-04", target="cloud"),
        backup("dc01", "2026-05-05", "failure", "cloud"),
        backup("dc01", "2026-05-07", target="cloud"),
    ]
    r = evaluate("T-BAK-4", [backups(runs)], [run(1, "2026-05-01", DC)], period=period("2026-05-01", "2026-05-07"))
    assert [(d.date, d.code, d.facts["repair_days"]) for d in r.deviations] == [
        ("2026-05-03", "bak4.failed", 1),
        ("2026-05-05", "bak4.not_repaired", 2),
    ]
    assert dates(r.gaps) == ["2026-05-02", "2026-05-06"]
    assert r.tested == 5 and r.status == Status.NOT_EFFECTIVE


def test_t_bak_4_without_a_domain_controller_is_not_evidenced():
    runs = [backup("fs01", "2026-05-01", target="cloud")]
    r = evaluate(
        "T-BAK-4", [backups(runs)], [run(1, "2026-05-01", {"fs01": ["file_server"]})], period=period("2026-05-01", "2026-05-01")
    )
    assert r.status == Status.NOT_EVIDENCED
    assert [(g.subject, g.code) for g in r.gaps] == [("domain_controller", "bak4.no_dc")]


def test_t_bak_4_dc_without_cloud_runs_is_not_evidenced():
    r = evaluate(
        "T-BAK-4",
        [backups([backup("dc01", "2026-05-01")])],
        [run(1, "2026-05-01", DC)],
        period=period("2026-05-01", "2026-05-02"),
    )
    assert r.status == Status.NOT_EVIDENCED and dates(r.gaps) == ["2026-05-01", "2026-05-02"]


# -- T-BAK-2: restore tests at most 62 days apart ------------------------------------------------------


def restore(tested_on: str, result: str = "success", server: str = "fs01") -> dict:
    return {"tested_on": tested_on, "server": server, "result": result, "performed_by": "ICT"}


def test_t_bak_2_tests_every_sixty_days_pass():
    tested = ["2026-03-01", "2026-04-30", "2026-06-29", "2026-08-28", "2026-10-27", "2026-12-26"]
    r = evaluate("T-BAK-2", [register("restore_tests", [restore(d) for d in tested])])
    assert r.status == Status.EFFECTIVE and r.tested == 7
    assert r.population[0] == "2026-01-01/2026-03-01" and "2026-12-26/2026-12-31" in r.population


@pytest.mark.parametrize("first_test,ok", [("2026-03-04", True), ("2026-03-05", False)])
def test_t_bak_2_exactly_62_days_passes(first_test, ok):
    r = evaluate("T-BAK-2", [register("restore_tests", [restore(first_test)])], period=period("2026-01-01", "2026-04-30"))
    first = date.fromisoformat(first_test)
    assert r.tested == 2
    if ok:
        assert r.status == Status.EFFECTIVE
    else:
        [dev] = r.deviations
        assert (dev.subject, dev.date, dev.code) == (f"2026-01-01/{first}", first_test, "bak2.interval")
        assert dev.facts == {"from": "2026-01-01", "to": first_test, "days": 63, "max_interval_days": 62}


def test_t_bak_2_long_pause_and_failed_test_are_deviations():
    rows = [
        restore("2026-02-01"),
        restore("2026-03-15", "failure", "dc01"),
        restore("2026-05-13"),
        restore("2026-07-01"),
        restore("2026-08-30"),
        restore("2026-10-29"),
        restore("2026-12-20"),
        restore("2027-01-05"),
    ]  # after the period: ignored
    r = evaluate("T-BAK-2", [register("restore_tests", rows)])
    assert [(d.subject, d.date, d.code) for d in r.deviations] == [
        ("dc01", "2026-03-15", "bak2.failed"),
        ("2026-02-01/2026-05-13", "2026-05-13", "bak2.interval"),
    ]
    assert r.deviations[0].text("nl") == "hersteltest van dc01 mislukt"
    assert r.deviations[1].facts["days"] == 101
    assert r.status == Status.NOT_EFFECTIVE


def test_t_bak_2_empty_register_is_one_long_interval_and_a_running_period_stops_today():
    running = evaluate("T-BAK-2", [register("restore_tests", [], day="2026-02-01")], today=date(2026, 2, 1))
    assert running.population == ["2026-01-01/2026-02-01"] and running.status == Status.EFFECTIVE  # 31 days so far
    r = evaluate("T-BAK-2", [register("restore_tests", [])])
    [dev] = r.deviations
    assert (dev.subject, dev.facts["days"], r.status) == ("2026-01-01/2026-12-31", 364, Status.NOT_EFFECTIVE)


def test_t_bak_2_missing_register_is_not_evidenced():
    r = evaluate("T-BAK-2", [])
    assert r.status == Status.NOT_EVIDENCED
    assert [(g.subject, g.date, g.code) for g in r.gaps] == [("register.restore_tests", "2026-12-31", "evidence.no_register")]


def test_t_bak_2_row_without_a_date_is_a_gap_not_a_silent_skip():
    r = evaluate(
        "T-BAK-2", [register("restore_tests", [restore("2026-02-01"), restore("")])], period=period("2026-01-01", "2026-03-01")
    )
    assert [(g.subject, g.code) for g in r.gaps] == [("register.restore_tests row 3", "evidence.missing")]


# -- T-BAK-3: a backup report every week ---------------------------------------------------------------


def mondays(first: str, last: str) -> list[str]:
    return [d.isoformat() for d in days(first, last) if d.weekday() == 0]


def test_t_bak_3_a_report_every_week_passes_all_53_weeks_of_2026():
    rows = [{"sent_on": d, "recipient": "customer"} for d in mondays("2025-12-29", "2026-12-28")]
    r = evaluate("T-BAK-3", [register("backup_reports", rows)])
    assert r.status == Status.EFFECTIVE and r.tested == 53
    assert r.population[0] == "2026-W01" and r.population[-1] == "2026-W53"


@pytest.mark.parametrize(
    "dropped,status",
    [
        (("2026-02-09", "2026-07-20"), Status.EFFECTIVE_WITH_DEVIATIONS),
        (("2026-02-09", "2026-07-20", "2026-12-28"), Status.NOT_EFFECTIVE),
    ],
)
def test_t_bak_3_weeks_without_report_are_deviations(dropped, status):
    rows = [{"sent_on": d} for d in mondays("2025-12-29", "2026-12-28") if d not in dropped]
    r = evaluate("T-BAK-3", [register("backup_reports", rows)])
    expected = [("2026-W07", "2026-02-15"), ("2026-W30", "2026-07-26"), ("2026-W53", "2026-12-31")][: len(dropped)]
    assert [(d.subject, d.date) for d in r.deviations] == expected
    assert r.deviations[0].facts == {"week": "2026-W07", "from": "2026-02-09", "to": "2026-02-15"}
    assert r.status == status  # 2 of 53 weeks is within 5 %, 3 is not


def test_t_bak_3_week_edges():
    # Sunday 4 January closes 2026-W01; Monday 29 December 2025 already belongs to it, Sunday 28 December 2025 not
    window = period("2026-01-01", "2026-01-11")
    only_sunday = evaluate(
        "T-BAK-3", [register("backup_reports", [{"sent_on": "2026-01-04"}, {"sent_on": "2026-01-11"}])], period=window
    )
    assert only_sunday.status == Status.EFFECTIVE and only_sunday.population == ["2026-W01", "2026-W02"]
    early = evaluate(
        "T-BAK-3", [register("backup_reports", [{"sent_on": "2025-12-28"}, {"sent_on": "2026-01-05"}])], period=window
    )
    assert [(d.subject, d.date) for d in early.deviations] == [("2026-W01", "2026-01-04")]


def test_t_bak_3_a_running_period_stops_at_the_current_week():
    rows = [{"sent_on": d} for d in mondays("2025-12-29", "2026-02-02")]
    r = evaluate("T-BAK-3", [register("backup_reports", rows, day="2026-02-11")], today=date(2026, 2, 11))
    assert r.tested == 7 and [(d.subject, d.date) for d in r.deviations] == [("2026-W07", "2026-02-11")]


def test_t_bak_3_missing_register_is_not_evidenced():
    r = evaluate("T-BAK-3", [])
    assert r.status == Status.NOT_EVIDENCED and r.gaps[0].facts == {"register": "backup_reports"}


# -- T-CON-1: emergency generator tests ----------------------------------------------------------------


def test_t_con_1_one_successful_test_passes():
    r = evaluate("T-CON-1", [register("generator_tests", [{"tested_on": "2026-04-02", "result": "success"}])])
    assert r.status == Status.EFFECTIVE and r.population == ["generator"] and r.tested == 1


def test_t_con_1_only_a_failed_test_is_two_deviations():
    rows = [
        {"tested_on": "2026-04-02", "result": "failure", "notes": "did not start"},
        {"tested_on": "2025-11-02", "result": "success"},
    ]  # before the period
    r = evaluate("T-CON-1", [register("generator_tests", rows)])
    assert [(d.date, d.code) for d in r.deviations] == [("2026-04-02", "con1.failed"), ("2026-12-31", "con1.too_few")]
    assert r.deviations[1].facts == {"successful": 0, "required": 1}
    assert r.status == Status.NOT_EFFECTIVE


@pytest.mark.parametrize("required,ok", [(2, True), (3, False)])
def test_t_con_1_minimum_number_of_tests_boundary(required, ok):
    rows = [
        {"tested_on": "2026-01-01", "result": "success"},
        {"tested_on": "2026-12-31", "result": "success"},
        {"tested_on": "2027-01-01", "result": "success"},
    ]
    r = evaluate("T-CON-1", [register("generator_tests", rows)], min_tests_per_period=required)
    assert (r.status == Status.EFFECTIVE) is ok
    if not ok:
        assert [d.facts for d in r.deviations] == [{"successful": 2, "required": 3}]


def test_t_con_1_missing_register_is_not_evidenced():
    assert evaluate("T-CON-1", []).status == Status.NOT_EVIDENCED


# -- T-CON-2: yearly external continuity review --------------------------------------------------------


def attachment(control: str, day: str) -> object:
    return item(
        "manual.evidence",
        {
            "control": control,
            "date": day,
            "note": "external review",
            "filename": "review.pdf",
            "media_type": "application/pdf",
            "size": 12345,
        },
        day="2027-01-12",
        seq=998,
    )


def test_t_con_2_review_in_the_register_passes():
    rows = [{"reviewed_on": "2026-05-12", "reviewer": "J. Jansen", "organisation": "Beheer BV"}]
    r = evaluate("T-CON-2", [register("continuity_reviews", rows)])
    assert r.status == Status.EFFECTIVE and r.population == ["continuity_review"]


def test_t_con_2_attached_report_alone_passes_but_only_for_this_control():
    assert evaluate("T-CON-2", [attachment("T-CON-2", "2026-09-30")]).status == Status.EFFECTIVE
    other = evaluate("T-CON-2", [attachment("T-CON-1", "2026-09-30")])
    assert other.status == Status.NOT_EVIDENCED and other.gaps[0].code == "con2.no_evidence"


@pytest.mark.parametrize("reviewed_on,ok", [("2025-12-31", True), ("2025-12-30", False)])
def test_t_con_2_review_exactly_365_days_before_the_last_day_passes(reviewed_on, ok):
    r = evaluate("T-CON-2", [register("continuity_reviews", [{"reviewed_on": reviewed_on, "reviewer": "ext"}])])
    assert (r.status == Status.EFFECTIVE) is ok
    if not ok:
        [dev] = r.deviations
        assert (dev.date, dev.code) == ("2026-12-31", "con2.too_old")
        assert dev.facts == {"latest": "2025-12-30", "age_days": 366, "as_of": "2026-12-31", "max_age_days": 365}


def test_t_con_2_review_after_the_period_does_not_count():
    r = evaluate("T-CON-2", [register("continuity_reviews", [{"reviewed_on": "2027-01-05", "reviewer": "ext"}])])
    assert r.status == Status.NOT_EFFECTIVE and r.deviations[0].code == "con2.none"


def test_t_con_2_neither_register_nor_attachment_is_not_evidenced():
    r = evaluate("T-CON-2", [])
    assert r.status == Status.NOT_EVIDENCED and [(g.subject, g.date) for g in r.gaps] == [
        ("register.continuity_reviews", "2026-12-31")
    ]
