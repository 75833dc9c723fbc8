"""The demo company's registers and exceptions file, read back by auditpack's own importer and evaluators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from auditpack.collectors.parsers.registers import REGISTERS, parse_register
from auditpack.controls.evaluate import evaluate_controls
from auditpack.controls.evaluators._people import account_key
from auditpack.controls.evaluators.o_ntk import last_review, review_outcomes
from auditpack.controls.exceptions import load_exceptions
from auditpack.controls.framework import parse_moment
from auditpack.controls.model import load_catalogue
from auditpack.controls.result import Status
from auditpack.imports import import_register
from auditpack.periods import period_from_options
from auditpack.store import EvidenceStore
from auditpack_lab.company import DATA_ACCESS_GROUPS, Company, build_company
from auditpack_lab.registers import open_days, write_exceptions, write_registers

CLEAN_CONTROLS = ("O-BRE", "O-EEA", "O-KEY", "O-SRV", "T-SUP", "T-BAK-2", "T-BAK-3", "T-CON-1", "T-CON-2")
# when the lab is built: now (the demo), on Easter Monday before the office opens, and after a year in which
# Christmas fell on a Friday (the longest closure, 4 days) and Bevrijdingsdag was a holiday
BUILT = {
    "now": None,
    "easter-monday": datetime(2026, 4, 6, 5, 0, tzinfo=UTC),
    "christmas-friday": datetime(2021, 1, 10, 12, 0, tzinfo=UTC),
}


@dataclass
class Lab:
    company: Company
    files: dict[str, Path]
    store: EvidenceStore
    rows: dict[str, list[dict]]


@pytest.fixture(scope="module", params=list(BUILT))
def lab(request, tmp_path_factory) -> Lab:
    company = build_company(built=BUILT[request.param])
    root = tmp_path_factory.mktemp(f"registers-{request.param}")
    files = write_registers(company, root / "registers")
    store = EvidenceStore(root / "evidence")
    rows = {}
    for name, path in files.items():
        _, _, normalized = import_register(store, name, path, "lab")  # what `auditpack import register` calls
        rows[name] = normalized["rows"]
    return Lab(company, files, store, rows)


def test_every_register_is_written_and_imported_without_problems(lab):
    assert sorted(lab.files) == sorted(REGISTERS)
    assert {name: len(lab.store.items(kinds=[f"register.{name}"])) for name in REGISTERS} == dict.fromkeys(REGISTERS, 1)
    suffixes = {path.suffix for path in lab.files.values()}
    assert suffixes == {".csv", ".xlsx"} and lab.files["hr_leavers"].suffix == ".xlsx"
    for name, path in lab.files.items():  # what the importer took: nothing left over, and every row there
        parsed = parse_register(name, path.read_bytes(), path.name, today=lab.company.today)
        assert parsed["ignored_columns"] == [], name
        assert len(parsed["rows"]) == len(lab.rows[name]) > 0, name


def test_people_registers_follow_the_company(lab):
    company = lab.company
    leavers = {account_key(r["account"]): r for r in lab.rows["hr_leavers"]}
    assert leavers.keys() == {p.account for p in company.leavers}
    for person in company.leavers:
        assert leavers[person.account]["last_working_day"] == person.last_day.isoformat()
    nda = {r["account"]: r["signed_on"] for r in lab.rows["nda"]}
    assert nda == {p.account: p.nda_signed.isoformat() for p in company.staff}
    badges = {r["badge_id"]: r for r in lab.rows["badges"]}
    assert badges.keys() == {p.badge_id for p in company.staff}
    for person in company.staff:
        badge = badges[person.badge_id]
        assert (badge["holder"], badge["account"], badge["role"]) == (person.name, person.account, person.badge_role)
        assert badge["server_room_access"] is (person.badge_role in ("ict", "management"))
        assert badge["blocked_on"] == (person.badge_blocked.isoformat() if person.badge_blocked else None)
        assert badge["returned_on"] == (person.badge_returned.isoformat() if person.badge_returned else None)


def test_the_badge_log_is_plausible(lab):
    company = lab.company
    people = {p.badge_id: p for p in company.staff}
    days_seen = set()
    for row in lab.rows["badge_log"]:
        moment, person = parse_moment(row["timestamp"]), people[row["badge_id"]]
        assert moment <= company.built and person.hired <= moment.date() <= (person.last_day or company.today)
        assert row["door"] != "Serverruimte" or person.badge_role == "ict"
        days_seen.add(moment.date())
    open_until_built = {d for d in open_days(company) if d < company.today}
    assert open_until_built <= days_seen <= set(open_days(company))  # every day the office was open, and only then
    directions = [r["direction"] for r in lab.rows["badge_log"]]
    assert directions.count("in") == directions.count("out") or company.today in days_seen  # today may be half-way


def _dates(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


EVENT_DATES = {
    "breaches": ("detected_at", "customer_notified_at"),
    "subprocessors": ("last_reviewed_on",),
    "restore_tests": ("tested_on",),
    "backup_reports": ("sent_on",),
    "continuity_reviews": ("reviewed_on",),
    "generator_tests": ("tested_on",),
    "access_reviews": ("reviewed_on",),
    "badge_log": ("timestamp",),
    "hr_leavers": ("last_working_day",),
    "badges": ("blocked_on", "returned_on"),
}


def test_events_lie_in_the_year_and_nothing_after_the_build(lab):
    company = lab.company
    for name, fields in EVENT_DATES.items():
        for row in lab.rows[name]:
            for field in fields:
                day = _dates(row[field])
                assert day is None or company.first_day <= day <= company.today, (name, field, row)
    for row in lab.rows["breaches"]:
        assert parse_moment(row["customer_notified_at"]) <= company.built
    history = [r["signed_on"] for r in lab.rows["nda"]] + [r["agreement_signed_on"] for r in lab.rows["subprocessors"]]
    assert max(_dates(d) for d in history) <= company.today


def test_backup_reports_tell_of_the_known_failures(lab):
    company = lab.company
    bad_nights = {d for days in (*company.known.backup_failures.values(), *company.known.backup_missed.values()) for d in days}
    reported_bad = {_dates(r["sent_on"]) for r in lab.rows["backup_reports"] if r["all_succeeded"] is False}
    expected = {
        max(company.first_day, night + timedelta(days=7 - night.weekday()))
        for night in bad_nights
        if night + timedelta(days=7 - night.weekday()) <= company.today
    }
    assert reported_bad == expected and expected


def _period(company: Company):
    return period_from_options(None, company.first_day, company.today, company.today.year)


def test_the_organisational_controls_are_clean(lab):
    results = evaluate_controls(
        lab.store, _period(lab.company), load_catalogue(), control_ids=CLEAN_CONTROLS, today=lab.company.today
    )
    assert sorted(r.control_id for r in results) == sorted(CLEAN_CONTROLS)
    for result in results:
        assert (result.status, result.deviations, result.gaps) == (Status.EFFECTIVE, [], []), result.control_id
        assert result.tested > 0, result.control_id
    by_id = {r.control_id: r for r in results}
    assert by_id["O-BRE"].tested == 2 and by_id["T-CON-2"].tested == 1


def test_every_data_access_group_was_reviewed_within_the_year(lab):
    """O-NTK also needs ad.groups from the directory, so its rule is applied to the register rows here."""
    company = lab.company
    reviews = [(row, date.fromisoformat(row["reviewed_on"])) for row in lab.rows["access_reviews"]]
    allowed = load_catalogue()["O-NTK"].parameter_values(None)["review_max_age_days"]
    for group in DATA_ACCESS_GROUPS:
        reviewed = last_review(reviews, group, company.today)
        assert reviewed is not None and company.first_day <= reviewed <= company.today
        assert review_outcomes({"name": group, "members": []}, reviewed, company.today, allowed, []) == []
    assert {row["group"] for row, _ in reviews} == set(DATA_ACCESS_GROUPS)


def test_one_exception_is_in_force_and_one_has_expired(lab, tmp_path):
    company = lab.company
    path = write_exceptions(company, tmp_path / "exceptions.yaml")
    entries = {e.control: e for e in load_exceptions(path)}
    assert sorted(entries) == ["T-AV", "T-BAK-1"]
    active, expired = entries["T-AV"], entries["T-BAK-1"]
    workstation = company.known.excepted_workstation
    assert active.covers("T-AV", workstation.lower(), company.today)
    assert not active.covers("T-AV", company.known.without_antivirus, company.today)
    assert active.state(company.today, used=True) == "active"
    assert expired.state(company.today, used=False) == "expired"
    assert 30 <= (company.today - expired.expires).days <= 90  # a couple of months ago
    assert not any(expired.covers("T-BAK-1", server, company.today) for server in company.backups)
