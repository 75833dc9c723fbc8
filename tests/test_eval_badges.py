"""Badge controls: O-SRV (server-room access by role) and O-KEY (personal keys, a complete badge log)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from auditpack.controls.result import Status
from evidence_factory import evaluate, register


def badge(
    badge_id: str, holder: str, role: str = "callcenter", server_room_access: bool = False, blocked_on: str | None = None
) -> dict[str, Any]:
    return {
        "badge_id": badge_id,
        "holder": holder,
        "account": holder.lower().replace(" ", "."),
        "role": role,
        "server_room_access": server_room_access,
        "blocked_on": blocked_on,
        "returned_on": None,
    }


def devs(result) -> list[tuple[str, str, str, dict[str, Any]]]:
    return [(d.subject, d.date, d.code, d.facts) for d in result.deviations]


# --- O-SRV -----------------------------------------------------------------


def test_srv_only_management_and_ict_open_the_server_room():
    badges = [
        badge("B-1", "Els Directeur", "Management", True),
        badge("B-2", "Piet Beheer", "ICT", True),
        badge("B-3", "Sanne Agent", "callcenter", False),
    ]
    result = evaluate("O-SRV", [register("badges", badges)])
    assert result.status == Status.EFFECTIVE
    assert result.population == ["B-1", "B-2"] and result.tested == 2


def test_srv_other_role_with_access_deviates():
    badges = [badge("B-1", "Els Directeur", "management", True), badge("B-4", "Tom Teamleider", "Teamleider", "ja")]
    result = evaluate("O-SRV", [register("badges", badges)])
    assert result.status == Status.NOT_EFFECTIVE
    assert devs(result) == [
        (
            "B-4",
            "2026-12-31",
            "srv.role",
            {"badge_id": "B-4", "holder": "Tom Teamleider", "role": "Teamleider", "allowed": ["management", "ict"]},
        )
    ]
    assert "management en ict" in result.deviations[0].text("nl")


def test_srv_badge_blocked_before_the_period_is_out_but_blocked_on_its_first_day_is_in():
    badges = [
        badge("B-5", "Oud Lid", "schoonmaak", True, blocked_on="2025-12-31"),
        badge("B-6", "Net Weg", "schoonmaak", True, blocked_on="2026-01-01"),
    ]
    result = evaluate("O-SRV", [register("badges", badges)])
    assert result.population == ["B-6"]
    assert [d.subject for d in result.deviations] == ["B-6"]
    assert evaluate("O-SRV", [register("badges", badges)], allowed_roles=["SCHOONMAAK"]).status == Status.EFFECTIVE


def test_srv_missing_badge_register_is_not_evidenced():
    result = evaluate("O-SRV", [])
    assert result.status == Status.NOT_EVIDENCED
    assert [(g.subject, g.date, g.code) for g in result.gaps] == [("register.badges", "2026-12-31", "evidence.no_register")]


# --- O-KEY -----------------------------------------------------------------

YEAR_START = date(2026, 1, 1)


def log_rows(days: list[date]) -> list[dict[str, Any]]:
    return [
        {"timestamp": f"{d.isoformat()}T08:0{i % 2}:00+01:00", "badge_id": "B-1", "door": "hoofdingang", "direction": direction}
        for d in days
        for i, direction in enumerate(("in", "out"))
    ]


def every(step: int, first: date = YEAR_START, last: date = date(2026, 12, 31)) -> list[date]:
    return [first + timedelta(days=n) for n in range(0, (last - first).days + 1, step)]


PERSONAL = [badge("B-1", "Els Directeur"), badge("B-2", "Sanne Agent")]


def test_key_personal_badges_and_a_daily_log_pass():
    result = evaluate("O-KEY", [register("badges", PERSONAL), register("badge_log", log_rows(every(1)))])
    assert result.status == Status.EFFECTIVE
    assert result.population == ["B-1", "B-2", "badge log"] and result.tested == 3


def test_key_records_exactly_max_gap_days_apart_pass_and_one_less_allowed_fails():
    days = every(4)  # 1 January, 5 January, … 31 December: every interval is exactly 4 days
    assert days[-1] == date(2026, 12, 31)
    evidence = [register("badges", PERSONAL), register("badge_log", log_rows(days))]
    assert evaluate("O-KEY", evidence).status == Status.EFFECTIVE
    result = evaluate("O-KEY", evidence, max_gap_days=3)
    assert len(result.deviations) == 91
    assert devs(result)[0] == (
        "badge log",
        "2026-01-01",
        "key.log_gap",
        {"from": "2026-01-01", "to": "2026-01-05", "days": 4, "allowed": 3},
    )


def test_key_generic_holders_and_a_gap_in_the_log():
    days = every(1, last=date(2026, 3, 1)) + every(1, first=date(2026, 3, 11))
    badges = PERSONAL + [
        badge("B-90", "Reserve 3"),
        badge("B-91", "  "),
        badge("B-92", "BEZOEKER balie"),
        badge("B-93", "Spare old", blocked_on="2025-06-01"),
    ]
    result = evaluate("O-KEY", [register("badges", badges), register("badge_log", log_rows(days))])
    assert devs(result) == [
        ("badge log", "2026-03-01", "key.log_gap", {"from": "2026-03-01", "to": "2026-03-11", "days": 10, "allowed": 4}),
        ("B-90", "2026-12-31", "key.generic_holder", {"badge_id": "B-90", "holder": "Reserve 3"}),
        ("B-91", "2026-12-31", "key.generic_holder", {"badge_id": "B-91", "holder": None}),
        ("B-92", "2026-12-31", "key.generic_holder", {"badge_id": "B-92", "holder": "BEZOEKER balie"}),
    ]
    assert "B-93" not in result.population  # blocked before the period
    assert result.tested == 6 and result.status == Status.NOT_EFFECTIVE
    assert "geen registraties tussen 2026-03-01 en 2026-03-11 (10 dagen" in result.deviations[0].text("nl")


def test_key_log_starting_late_and_stopping_before_today():
    # the period is still running: the log is measured up to today
    days = every(1, first=date(2026, 1, 6), last=date(2026, 6, 10))
    result = evaluate(
        "O-KEY",
        [register("badges", PERSONAL, day="2026-06-15"), register("badge_log", log_rows(days), day="2026-06-15")],
        today=date(2026, 6, 15),
    )
    assert [(d.facts["from"], d.facts["to"], d.facts["days"]) for d in result.deviations] == [
        ("2026-01-01", "2026-01-06", 5),
        ("2026-06-10", "2026-06-15", 5),
    ]
    on_time = every(1, first=date(2026, 1, 5), last=date(2026, 6, 11))
    assert (
        evaluate(
            "O-KEY", [register("badges", PERSONAL), register("badge_log", log_rows(on_time))], today=date(2026, 6, 15)
        ).status
        == Status.EFFECTIVE
    )


def test_key_unreadable_log_timestamp_is_a_gap_not_a_silent_skip():
    rows = log_rows(every(1)) + [{"timestamp": "gisteren", "badge_id": "B-1", "door": "achter", "direction": "in"}]
    result = evaluate("O-KEY", [register("badges", PERSONAL), register("badge_log", rows)])
    assert [(g.subject, g.code) for g in result.gaps] == [(f"register.badge_log row {len(rows) + 1}", "evidence.missing")]


def test_key_missing_badge_log_is_not_evidenced():
    result = evaluate("O-KEY", [register("badges", PERSONAL + [badge("B-90", "Reserve 3")])])
    assert result.status == Status.NOT_EVIDENCED
    assert result.tested == 0 and not result.deviations  # nothing judged without the log
    assert [(g.subject, g.code, g.facts) for g in result.gaps] == [
        ("register.badge_log", "evidence.no_register", {"register": "badge_log"})
    ]
