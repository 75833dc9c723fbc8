"""Evaluators of T-SUP (sub-processor agreements), O-EEA (processing inside the EEA) and O-BRE (breaches)."""

from __future__ import annotations

from datetime import date

import pytest

from auditpack.controls.evaluators._register_fields import is_true
from auditpack.controls.model import load_catalogue
from auditpack.controls.result import Status
from evidence_factory import evaluate, register


def sub(
    name: str,
    country: str = "NL",
    signed: str | None = "2025-03-01",
    in_use: object = True,
    reviewed: str | None = None,
    service: str = "telephony",
) -> dict:
    return {
        "name": name,
        "service": service,
        "agreement_signed_on": signed,
        "location_country": country,
        "in_use": in_use,
        "last_reviewed_on": reviewed,
    }


def location(system: str, country: str) -> dict:
    return {"system": system, "location_country": country, "notes": None}


# -- T-SUP -------------------------------------------------------------------------------------------


def test_t_sup_agreements_and_a_recent_review_pass():
    rows = [sub("CallCloud", reviewed="2026-03-01"), sub("MailHost", "DE", service="e-mail")]
    r = evaluate("T-SUP", [register("subprocessors", rows)])
    assert r.status == Status.EFFECTIVE and r.population == ["CallCloud", "MailHost", "register"] and r.tested == 3


def test_t_sup_missing_or_late_agreement_is_a_deviation_unless_no_longer_in_use():
    rows = [
        sub("CallCloud", signed=None, reviewed="2026-03-01"),
        sub("MailHost", signed="2027-01-05"),
        sub("OldCRM", signed=None, in_use=False),
    ]
    r = evaluate("T-SUP", [register("subprocessors", rows)])
    assert [(d.subject, d.date, d.code) for d in r.deviations] == [
        ("CallCloud", "2026-12-31", "sup.no_agreement"),
        ("MailHost", "2026-12-31", "sup.signed_late"),
    ]
    assert r.deviations[1].facts == {"name": "MailHost", "service": "telephony", "signed_on": "2027-01-05", "as_of": "2026-12-31"}
    assert r.deviations[0].text("en") == "no signed processor agreement recorded with sub-processor CallCloud (telephony)"
    assert "OldCRM" not in r.population and r.status == Status.NOT_EFFECTIVE


@pytest.mark.parametrize(
    "signed,reviewed,codes",
    [
        ("2026-12-31", "2025-12-31", []),  # both exactly at the limit
        ("2026-12-31", "2025-12-30", ["sup.review_overdue"]),  # review 366 days old
        ("2027-01-01", "2025-12-31", ["sup.signed_late"]),  # signed the day after the period
    ],
)
def test_t_sup_boundaries(signed, reviewed, codes):
    r = evaluate("T-SUP", [register("subprocessors", [sub("CallCloud", signed=signed, reviewed=reviewed)])])
    assert [d.code for d in r.deviations] == codes
    if codes == ["sup.review_overdue"]:
        assert r.deviations[0].subject == "register"
        assert r.deviations[0].facts == {
            "last_reviewed": "2025-12-30",
            "age_days": 366,
            "as_of": "2026-12-31",
            "max_age_days": 365,
        }


def test_t_sup_register_never_reviewed_and_review_limit_from_the_profile():
    never = evaluate("T-SUP", [register("subprocessors", [sub("CallCloud")])])
    assert [(d.subject, d.code) for d in never.deviations] == [("register", "sup.never_reviewed")]
    strict = evaluate("T-SUP", [register("subprocessors", [sub("CallCloud", reviewed="2026-06-01")])], review_max_age_days=180)
    assert strict.deviations[0].facts["age_days"] == 213


def test_t_sup_missing_register_is_not_evidenced():
    r = evaluate("T-SUP", [])
    assert r.status == Status.NOT_EVIDENCED
    assert [(g.subject, g.date, g.code) for g in r.gaps] == [("register.subprocessors", "2026-12-31", "evidence.no_register")]


# -- O-EEA -------------------------------------------------------------------------------------------


def test_o_eea_everything_inside_the_eea_passes():
    r = evaluate(
        "O-EEA",
        [
            register("subprocessors", [sub("CallCloud", "NL"), sub("Backups", "IE")]),
            register("processing_locations", [location("crm", "NL"), location("dr-site", "de")]),
        ],
    )
    assert r.status == Status.EFFECTIVE and r.population == ["Backups", "CallCloud", "crm", "dr-site"]


def test_o_eea_processing_outside_the_eea_is_a_deviation():
    subs = [sub("CallCloud", "US"), sub("Archive", "US", in_use=False), sub("Unknown", "")]
    r = evaluate(
        "O-EEA",
        [register("subprocessors", subs), register("processing_locations", [location("crm", "NL"), location("support", "gb")])],
    )
    assert [(d.subject, d.code, d.facts.get("country")) for d in r.deviations] == [
        ("CallCloud", "eea.subprocessor_outside", "US"),
        ("Unknown", "eea.no_country", None),
        ("support", "eea.location_outside", "GB"),
    ]
    assert r.deviations[2].text("nl") == "systeem support verwerkt gegevens in GB, buiten de EER"
    assert "Archive" not in r.population and r.status == Status.NOT_EFFECTIVE


@pytest.mark.parametrize("country,ok", [("IS", True), ("LI", True), ("NO", True), ("HR", True), ("CH", False), ("GB", False)])
def test_o_eea_edge_of_the_eea(country, ok):
    r = evaluate("O-EEA", [register("subprocessors", [sub("Host", country)]), register("processing_locations", [])])
    assert (r.status == Status.EFFECTIVE) is ok


def test_o_eea_countries_come_from_the_profile():
    evidence = [register("subprocessors", [sub("Host", "CH")]), register("processing_locations", [])]
    extended = [*load_catalogue()["O-EEA"].parameters["eea_countries"].default, "CH"]
    assert evaluate("O-EEA", evidence, eea_countries=extended).status == Status.EFFECTIVE


def test_o_eea_missing_registers():
    none = evaluate("O-EEA", [])
    assert none.status == Status.NOT_EVIDENCED
    assert [g.subject for g in none.gaps] == ["register.processing_locations", "register.subprocessors"]
    half = evaluate("O-EEA", [register("subprocessors", [sub("CallCloud", "NL")])])
    assert [g.subject for g in half.gaps] == ["register.processing_locations"]
    assert half.status == Status.NOT_EFFECTIVE  # one register tested, the other missing: never a pass


def test_register_flags_read_like_a_person_wrote_them():
    assert [is_true(v, default=True) for v in (None, "", "nee", "No", "ja", 0, 1, False, "?")] == [
        True,
        True,
        False,
        False,
        True,
        False,
        True,
        False,
        True,
    ]


# -- O-BRE -------------------------------------------------------------------------------------------


def breach(breach_id: str, detected: str, notified: str | None, reported: bool = False) -> dict:
    return {
        "breach_id": breach_id,
        "detected_at": detected,
        "customer_notified_at": notified,
        "reported_to_authority": reported,
        "description": "test",
    }


def test_o_bre_prompt_notification_passes():
    r = evaluate("O-BRE", [register("breaches", [breach("DL-1", "2026-03-02T09:00:00Z", "2026-03-02T12:00:00Z")])])
    assert r.status == Status.EFFECTIVE and r.population == ["DL-1"] and r.tested == 1


@pytest.mark.parametrize("notified,ok", [("2026-03-03T09:00:00Z", True), ("2026-03-03T09:01:00Z", False)])
def test_o_bre_exactly_24_hours_passes(notified, ok):
    r = evaluate("O-BRE", [register("breaches", [breach("DL-1", "2026-03-02T09:00:00Z", notified)])])
    assert (r.status == Status.EFFECTIVE) is ok
    if not ok:
        [dev] = r.deviations
        assert (dev.date, dev.code, dev.facts["hours"], dev.facts["max_hours"]) == ("2026-03-02", "bre.late", 24.02, 24)


def test_o_bre_hours_are_counted_across_time_zones_and_summer_time():
    # 29 March 2026 23:30 CET to 30 March 23:00 CEST is 22.5 hours, not 23.5
    r = evaluate("O-BRE", [register("breaches", [breach("DL-1", "2026-03-29T23:30:00+01:00", "2026-03-30T23:00:00+02:00")])])
    assert r.status == Status.EFFECTIVE
    late = evaluate(
        "O-BRE",
        [register("breaches", [breach("DL-1", "2026-03-29T23:30:00+01:00", "2026-03-31T05:30:00Z")])],
        max_notification_hours=12,
    )
    assert late.deviations[0].facts["hours"] == 31.0


def test_o_bre_late_unnotified_and_impossible_notifications_are_deviations():
    rows = [
        breach("DL-1", "2026-05-01T08:00:00Z", "2026-05-02T14:00:00Z", reported=True),
        breach("DL-2", "2026-06-10T08:00:00Z", None),
        breach("DL-3", "2026-07-01T08:00:00Z", "2026-06-30T08:00:00Z"),
        breach("DL-0", "2025-12-31T22:00:00Z", None),
    ]  # detected before the period: another year's
    r = evaluate("O-BRE", [register("breaches", rows)])
    assert [(d.subject, d.date, d.code) for d in r.deviations] == [
        ("DL-1", "2026-05-01", "bre.late"),
        ("DL-2", "2026-06-10", "bre.not_notified"),
        ("DL-3", "2026-07-01", "bre.before_detection"),
    ]
    assert r.deviations[0].facts["hours"] == 30.0
    assert r.deviations[1].text("en") == "customer not told about breach DL-2 (detected 2026-06-10T08:00:00+00:00)"
    assert r.population == ["DL-1", "DL-2", "DL-3"] and r.status == Status.NOT_EFFECTIVE


def test_o_bre_no_breach_in_the_period_is_not_applicable():
    r = evaluate("O-BRE", [register("breaches", [breach("DL-0", "2025-11-01T08:00:00Z", "2025-11-01T09:00:00Z")])])
    assert r.status == Status.NOT_APPLICABLE and r.population == []


def test_o_bre_missing_register_is_not_evidenced():
    r = evaluate("O-BRE", [], today=date(2026, 8, 1))
    assert r.status == Status.NOT_EVIDENCED
    assert [(g.subject, g.date, g.code) for g in r.gaps] == [("register.breaches", "2026-08-01", "evidence.no_register")]
