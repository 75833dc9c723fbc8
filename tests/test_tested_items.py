"""Every tested subject-date carries the attributes its test used and the evidence they came from (issue 15, item 4):
per leaver, per server-day, per workstation collection and per breach, the exact items an auditor reperforms."""

from __future__ import annotations

from datetime import date

from auditpack.controls.exceptions import ExceptionEntry
from auditpack.controls.result import ItemResult, TestedItem
from auditpack.periods import period_from_options
from evidence_factory import evaluate, evaluate_snapshot, item, register, run

OLDER_SOURCE = "lastLogonTimestamp (replicated, may lag up to 14 days)"


def items_of(result) -> list[tuple]:
    return [(t.subject, t.date, t.result, t.codes, t.attributes, t.evidence) for t in result.tested_items]


# -- O-LVR: per leaver the last working day, the disable time and its source, the last logon, the keys -----------


def ad_user(account: str, enabled: bool = False, last_logon: str | None = None, source: str | None = None, **extra) -> dict:
    return {
        "account": account,
        "name": account.title(),
        "enabled": enabled,
        "last_logon": last_logon,
        "last_logon_source": source,
        "changed": "2026-01-06T09:00:00Z",
        **extra,
    }


def test_o_lvr_items_carry_disable_time_and_source_last_logon_over_every_dc_and_the_keys():
    hr = register(
        "hr_leavers",
        [
            {"name": "A de Jong", "account": "adejong", "last_working_day": "2026-05-15"},
            {"name": "B Visser", "account": "bvisser", "last_working_day": "2026-06-30"},
            {"name": "C Gone", "account": "cgone", "last_working_day": "2026-07-31"},
        ],
    )
    dc01 = item(
        "ad.users",
        {
            "users": [
                ad_user("adejong", last_logon="2026-05-14T16:00:00Z", source="lastLogon on dc01"),
                ad_user("bvisser", last_logon="2026-06-30T15:45:00Z", source="lastLogon on dc01"),
            ]
        },
        host="dc01",
        day="2026-11-30",
    )
    dc02 = item(  # the newest snapshot: the account states come from it; adejong's latest logon too
        "ad.users",
        {
            "users": [
                ad_user("adejong", last_logon="2026-05-15T17:10:00Z", source="lastLogon on dc02"),
                ad_user("bvisser", changed="2026-07-01T10:00:00Z"),  # disabled, but no 4725 for it
            ]
        },
        host="dc02",
        day="2026-11-30",
    )
    events = item(
        "ad.account_disabled_events",
        {"events": [{"account": "KCDEMO\\adejong", "time": "2026-05-16T07:30:00Z", "by": "ict"}]},
        host="dc01",
        day="2026-11-30",
    )
    badges = register(
        "badges",
        [
            {"badge_id": "B-7", "holder": "A de Jong", "account": "adejong", "role": "x", "blocked_on": "2026-05-16",
             "returned_on": "2026-05-18"},
            {"badge_id": "B-8", "holder": "B Visser", "account": "bvisser", "role": "x", "blocked_on": "2026-06-30",
             "returned_on": "2026-06-30"},
            {"badge_id": "B-9", "holder": "B Visser", "account": "bvisser", "role": "x"},
            {"badge_id": "B-10", "holder": "C Gone", "account": "cgone", "role": "x", "blocked_on": "2026-07-31",
             "returned_on": "2026-08-01"},
        ],
    )  # fmt: skip
    result = evaluate("O-LVR", [hr, dc01, dc02, events, badges])
    common = {"snapshot": "2026-11-30", "account_found": True, "account_enabled": False}
    assert items_of(result) == [
        (
            "adejong",
            "2026-05-15",
            ItemResult.PASSED,
            [],
            {
                "name": "A de Jong",
                "last_working_day": "2026-05-15",
                "deadline": "2026-05-16",
                **common,
                "disabled_at": "2026-05-16T07:30:00+00:00",
                "disabled_source": "4725",
                "last_logon": "2026-05-15T17:10:00+00:00",  # dc02's lastLogon, later than dc01's
                "last_logon_source": "lastLogon (dc02)",
                "badge_id": "B-7",
                "badge_blocked_on": "2026-05-16",
                "badge_returned_on": "2026-05-18",
            },
            [hr.item_id, dc02.item_id, events.item_id, badges.item_id],
        ),
        (
            "bvisser",
            "2026-06-30",
            ItemResult.DEVIATION,
            ["lvr.badge_not_blocked", "lvr.badge_not_returned"],  # the unknown disable date is a gap of a deviating day
            {
                "name": "B Visser",
                "last_working_day": "2026-06-30",
                "deadline": "2026-07-01",
                **common,
                "disabled_at": "2026-07-01T10:00:00+00:00",  # no 4725: the account's last change, shown as such
                "disabled_source": "whenChanged",
                "last_logon": "2026-06-30T15:45:00+00:00",
                "last_logon_source": "lastLogon (dc01)",
                "badge_id": ["B-8", "B-9"],
                "badge_blocked_on": ["2026-06-30", None],
                "badge_returned_on": ["2026-06-30", None],
            },
            [hr.item_id, dc02.item_id, dc01.item_id, badges.item_id, events.item_id],
        ),
        (
            "cgone",
            "2026-07-31",
            ItemResult.PASSED,
            [],
            {
                "name": "C Gone",
                "last_working_day": "2026-07-31",
                "deadline": "2026-08-01",
                "snapshot": "2026-11-30",
                "account_found": False,  # removed from AD: passes
                "account_enabled": None,
                "disabled_at": None,
                "disabled_source": None,
                "last_logon": None,
                "last_logon_source": None,
                "badge_id": "B-10",
                "badge_blocked_on": "2026-07-31",
                "badge_returned_on": "2026-08-01",
            },
            [hr.item_id, dc02.item_id, badges.item_id],
        ),
    ]
    assert [g.code for g in result.gaps] == []  # bvisser's gap falls away: the day was tested and deviated


# -- T-BAK-1: per server-day the backup result and the run it rests on ---------------------------------------------


def backup_run(night: str, result: str, hour: int = 1) -> dict:
    return {
        "server": "fs01",
        "job": "nightly",
        "target": "local",
        "started": f"{night}T{hour:02d}:00:00+01:00",
        "ended": f"{night}T{hour:02d}:40:00+01:00",
        "result": result,
    }


def test_t_bak_1_items_carry_the_result_and_its_source_run_per_server_day():
    listing = item(
        "backup.runs",
        {
            "runs": [
                backup_run("2026-03-01", "failure", 1),
                backup_run("2026-03-01", "success", 5),  # a rerun that morning: the day passes on it
                backup_run("2026-03-02", "failure"),
                backup_run("2026-03-03", "success"),
                backup_run("2026-03-05", "success"),  # no run at all on the night of 4 March
            ]
        },
        host="backup01",
        day="2026-03-06",
    )
    week = period_from_options(None, date(2026, 3, 1), date(2026, 3, 5), 2026)
    result = evaluate("T-BAK-1", [listing], period=week, today=date(2026, 3, 20))
    run_of = {"backup_job": "nightly", "backup_target": "local", "backup_runs": 1}
    assert items_of(result) == [
        (
            "fs01",
            "2026-03-01",
            ItemResult.PASSED,
            [],
            {**run_of, "backup_result": "success", "backup_started": "2026-03-01T05:00:00+01:00", "backup_runs": 2},
            [listing.item_id],
        ),
        (
            "fs01",
            "2026-03-02",
            ItemResult.DEVIATION,
            ["bak1.failed"],
            {
                **run_of,
                "backup_result": "failure",
                "backup_started": "2026-03-02T01:00:00+01:00",
                "next_success": "2026-03-03",
                "repair_days": 1,
            },
            [listing.item_id],
        ),
        (
            "fs01",
            "2026-03-03",
            ItemResult.PASSED,
            [],
            {**run_of, "backup_result": "success", "backup_started": "2026-03-03T01:00:00+01:00"},
            [listing.item_id],
        ),
        (
            "fs01",
            "2026-03-04",
            ItemResult.DEVIATION,
            ["bak1.missed"],
            {"backup_runs": 0, "listing_since": "2026-03-01", "listing_collected": "2026-03-06"},
            [listing.item_id],
        ),
        (
            "fs01",
            "2026-03-05",
            ItemResult.PASSED,
            [],
            {**run_of, "backup_result": "success", "backup_started": "2026-03-05T01:00:00+01:00"},
            [listing.item_id],
        ),
    ]


def test_an_excepted_server_day_keeps_its_attributes_with_the_outcome_excepted():
    listing = item("backup.runs", {"runs": [backup_run("2026-03-02", "failure")]}, host="backup01", day="2026-03-03")
    day = period_from_options(None, date(2026, 3, 2), date(2026, 3, 2), 2026)
    cover = ExceptionEntry(
        control="T-BAK-1",
        scope="fs01",
        justification="backup disk replaced",
        owner="ICT",
        approver="Director",
        expires=date(2027, 1, 1),
    )
    [tested] = evaluate("T-BAK-1", [listing], exceptions=[cover], period=day, today=date(2026, 3, 20)).tested_items
    assert (tested.result, tested.codes, tested.attributes["backup_result"]) == (
        ItemResult.EXCEPTED,
        ["bak1.not_repaired"],
        "failure",
    )


# -- T-AV: per workstation per collection the product, definitions' date and age, real-time state ----------------


def host_status(host: str, day: str, product: str, realtime: bool, signature_date: str | None):
    status = {"product": product, "realtime": realtime, "signature_date": signature_date, "engine_version": "1"}
    return item("av.host_status", status, host=host, day=day, seq={"2026-03-02": 1, "2026-03-09": 2}[day])


def console(day: str, seq: int, content_dates: dict[str, str]):
    systems = [
        {"name": f"{host}.corp.local", "last_contact": f"{day}T06:00:00+01:00", "content_date": content, "product_enabled": True}
        for host, content in content_dates.items()
    ]
    return item("epo.systems", {"systems": systems}, host="epo01", day=day, seq=seq)


def test_t_av_items_carry_product_definitions_date_and_age_and_real_time_state_per_collection():
    hosts = {"ws-1": ["workstation"], "ws-2": ["workstation"]}
    runs = [run(1, "2026-03-02", hosts), run(2, "2026-03-09", hosts)]
    evidence = [
        console("2026-03-02", 1, {"ws-1": "2026-02-27", "ws-2": "2026-03-01"}),
        host_status("ws-1", "2026-03-02", "Microsoft Defender Antivirus", True, "2026-03-01"),
        host_status("ws-2", "2026-03-02", "McAfee Endpoint Security", True, None),  # its date only in the console
        console("2026-03-09", 2, {"ws-1": "2026-03-08", "ws-2": "2026-02-27"}),
        host_status("ws-1", "2026-03-09", "Microsoft Defender Antivirus", False, "2026-03-08"),
        host_status("ws-2", "2026-03-09", "McAfee Endpoint Security", True, None),
        item(
            "av.detections",
            {"detections": [{"host": "ws-1", "time": "2026-03-05T10:00:00Z", "threat": "EICAR", "action": "quarantined",
                             "resolved": True, "resolved_at": "2026-03-05T10:01:00Z"}]},
            host="ws-1",
            day="2026-03-09",
        ),
    ]  # fmt: skip
    result = evaluate_snapshot("T-AV", evidence, runs)
    by_key = {t.key(): t for t in result.tested_items}
    assert list(by_key) == ["ws-1 2026-03-02", "ws-1 2026-03-09", "ws-1 · EICAR 2026-03-05", "ws-2 2026-03-02", "ws-2 2026-03-09"]
    contact = {"in_console": True, "silent_days": 0}
    assert by_key["ws-1 2026-03-02"].attributes == {
        "product": "Microsoft Defender Antivirus",
        "signature_date": "2026-03-01",  # the host's own date wins over the console's older one
        "signature_age_days": 1,
        "signature_source": "host",
        "realtime": True,
        "last_contact": "2026-03-02T06:00:00+01:00",
        **contact,
    }
    off = by_key["ws-1 2026-03-09"]
    assert (off.result, off.codes) == (ItemResult.DEVIATION, ["av.realtime_off"])
    assert (off.attributes["realtime"], off.attributes["signature_age_days"]) == (False, 1)
    mcafee = by_key["ws-2 2026-03-09"]
    assert (mcafee.result, mcafee.codes) == (ItemResult.DEVIATION, ["av.signatures_old"])
    assert mcafee.attributes == {
        "product": "McAfee Endpoint Security",
        "signature_date": "2026-02-27",
        "signature_age_days": 10,
        "signature_source": "console",
        "realtime": True,
        "last_contact": "2026-03-09T06:00:00+01:00",
        **contact,
    }
    assert mcafee.evidence == [evidence[3].item_id, evidence[5].item_id]  # that day's console list and host status
    detection = by_key["ws-1 · EICAR 2026-03-05"]
    assert (detection.result, detection.evidence) == (ItemResult.PASSED, [evidence[6].item_id])
    assert detection.attributes == {
        "host": "ws-1",
        "threat": "EICAR",
        "time": "2026-03-05T10:00:00Z",
        "action": "quarantined",
        "resolved": True,
        "resolved_at": "2026-03-05T10:01:00Z",
    }


# -- O-BRE: per breach the detection, the notification and the delay -----------------------------------------------


def test_o_bre_items_carry_detection_notification_and_delay():
    breaches = register(
        "breaches",
        [
            {"breach_id": "DL-1", "detected_at": "2026-04-02T13:27:00+02:00", "customer_notified_at": "2026-04-02T18:50:00+02:00"},
            {"breach_id": "DL-2", "detected_at": "2026-05-10T22:00:00+02:00", "customer_notified_at": "2026-05-12T04:00:00Z"},
            {"breach_id": "DL-3", "detected_at": "2026-06-01T09:00:00Z", "customer_notified_at": None},
        ],
    )  # fmt: skip
    result = evaluate("O-BRE", [breaches])
    ids = [breaches.item_id]
    assert items_of(result) == [
        (
            "DL-1",
            "2026-04-02",
            ItemResult.PASSED,
            [],
            {
                "detected_at": "2026-04-02T13:27:00+02:00",
                "notified_at": "2026-04-02T18:50:00+02:00",
                "delay_hours": 5.38,
                "row": 2,
            },
            ids,
        ),
        (
            "DL-2",
            "2026-05-10",
            ItemResult.DEVIATION,
            ["bre.late"],
            # 22:00 at +02:00 is 20:00 UTC: 32 hours to 04:00 UTC two days on
            {
                "detected_at": "2026-05-10T22:00:00+02:00",
                "notified_at": "2026-05-12T04:00:00+00:00",
                "delay_hours": 32.0,
                "row": 3,
            },
            ids,
        ),
        (
            "DL-3",
            "2026-06-01",
            ItemResult.DEVIATION,
            ["bre.not_notified"],
            {"detected_at": "2026-06-01T09:00:00+00:00", "notified_at": None, "delay_hours": None, "row": 4},
            ids,
        ),
    ]


def test_tested_items_are_the_subject_dates_tested_each_once_however_often_read():
    """Two reads of one day (two collections) are one tested item, citing both, as they are one tested instance."""
    hosts = {"ws-1": ["workstation"]}
    first = host_status("ws-1", "2026-03-02", "Microsoft Defender Antivirus", True, "2026-03-01")
    again = item("av.host_status", first.normalized, host="ws-1", day="2026-03-02", seq=3)
    result = evaluate_snapshot("T-AV", [first, again], [run(1, "2026-03-02", hosts), run(3, "2026-03-02", hosts)])
    [tested] = result.tested_items
    assert isinstance(tested, TestedItem) and result.tested == 1
    assert (tested.key(), tested.result, tested.evidence) == (
        "ws-1 2026-03-02",
        ItemResult.PASSED,
        [first.item_id, again.item_id],
    )
