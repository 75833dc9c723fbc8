"""`auditpack sample`: reproducible draws from what a control tested, each item with its result, attributes and
evidence, stored as evidence with who drew it, for the report."""

from __future__ import annotations

import json
import random
import subprocess
from datetime import date, timedelta

import pytest

from auditpack.controls.result import ControlResult, ItemResult, Status, TestedItem
from auditpack.periods import period_from_options, year_period
from auditpack.reports.document import sample_section
from auditpack.sampling import draw_sample, samples_for, sampling_units
from conftest import auditpack_bin
from evidence_factory import evaluate, item
from year_store import FAILED_BACKUP, build_year

YEAR = year_period(2026)
Q1 = period_from_options(None, date(2026, 1, 1), date(2026, 3, 31), 2026)
SERVERS = ("fs01", "dc01")


def q1_backups(today: date = date(2026, 4, 10)) -> ControlResult:
    """T-BAK-1 over the first quarter: both servers back up every night, fs01's backup of 10 March fails."""
    nights = [date(2026, 1, 1) + timedelta(days=n) for n in range(90)]
    runs = [
        {
            "server": server,
            "job": "nightly",
            "target": "local",
            "started": f"{night}T01:00:00Z",
            "ended": f"{night}T01:40:00Z",
            "result": "failure" if (server, night.isoformat()) == FAILED_BACKUP else "success",
        }
        for server in SERVERS
        for night in nights
    ]
    listing = item("backup.runs", {"runs": runs}, host="backup01", day="2026-04-01")
    return evaluate("T-BAK-1", [listing], period=Q1, today=today)


def test_the_units_are_the_tested_subject_dates_with_their_results():
    result = q1_backups()
    units = sampling_units(result)
    assert len(units) == 2 * 90 and units[0].key() == "dc01 2026-01-01" and units[-1].key() == "fs01 2026-03-31"
    failed = next(u for u in units if u.key() == "fs01 2026-03-10")
    assert failed.result == ItemResult.DEVIATION and failed.codes == ["bak1.failed"]
    assert failed.attributes["backup_result"] == "failure" and failed.attributes["next_success"] == "2026-03-11"


def test_a_daily_control_draws_the_same_subject_days_as_before_units_were_tested_items():
    """An auditor's seed from an earlier year still names the same server-days: each server on each day, in order."""
    result = q1_backups()
    days = [(date(2026, 1, 1) + timedelta(days=n)).isoformat() for n in range(90)]
    before = sorted(random.Random(2026).sample([f"{s} {d}" for s in sorted(SERVERS) for d in days], 25))
    assert draw_sample(result, "daily", Q1, 25, seed=2026, drawn_by="auditor")["drawn"] == before


def test_same_seed_same_sample_other_seed_other_sample_each_item_with_result_attributes_and_evidence():
    result = q1_backups()
    first = draw_sample(result, "daily", Q1, 30, seed=7, drawn_by="J. Jansen (auditor)")
    again = draw_sample(result, "daily", Q1, 30, seed=7, drawn_by="someone else")
    other = draw_sample(result, "daily", Q1, 30, seed=8, drawn_by="J. Jansen (auditor)")
    assert first["drawn"] == again["drawn"] and first["drawn"] != other["drawn"]
    assert first["drawn_by"] == "J. Jansen (auditor)" and first["unit"] == "subject-day" and first["population_size"] == 180
    listing_id = result.evidence[0].item_id
    for drawn in first["items"]:
        assert f"{drawn['subject']} {drawn['date']}" in first["drawn"]
        assert drawn["evidence"] == [listing_id]  # the listing that holds the night's run
        assert drawn["attributes"]["backup_started"] == f"{drawn['date']}T01:00:00+00:00"
        assert drawn["result"] == ("deviation" if (drawn["subject"], drawn["date"]) == FAILED_BACKUP else "passed")


def test_a_sample_larger_than_the_population_is_refused():
    with pytest.raises(ValueError, match="has 180 items; a sample of 181 cannot be drawn"):
        draw_sample(q1_backups(), "daily", Q1, 181, seed=1, drawn_by="auditor")


def test_days_that_have_not_come_are_never_drawn():
    units = sampling_units(q1_backups(today=date(2026, 2, 28)))
    assert len(units) == 2 * 59 and max(u.date for u in units) == "2026-02-28"  # 1 January to today, not to 31 March


def test_a_sample_of_subjects_stored_before_units_were_tested_items_lists_each_date_the_report_tested():
    tested = [
        TestedItem("ws-1", "2026-03-02", ItemResult.PASSED, [], {"signature_age_days": 1}, ["a" * 16]),
        TestedItem("ws-1", "2026-03-09", ItemResult.DEVIATION, ["av.signatures_old"], {"signature_age_days": 9}, ["b" * 16]),
        TestedItem("ws-2", "2026-03-02", ItemResult.PASSED, [], {"signature_age_days": 0}, ["c" * 16]),
    ]
    result = ControlResult("T-AV", Status.NOT_EFFECTIVE, "", "", ["ws-1", "ws-2"], 3, tested_items=tested)
    old = {"control": "T-AV", "unit": "subject", "drawn": ["ws-1", "ws-9"]}
    items = sample_section(old, result)["items"]
    assert [(i["unit"], i["date"], i["result"]) for i in items] == [
        ("ws-1", "2026-03-02", "passed"),
        ("ws-1", "2026-03-09", "deviation"),
        ("ws-9", None, None),  # not among what this report tested: said so, never dropped
    ]


def test_cli_sample_lists_each_item_with_its_outcome_and_evidence_and_records_who_drew_it(tmp_path, cli_env):
    year = build_year(tmp_path / "ev")

    def sample(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [auditpack_bin(), "sample", "T-BAK-1", "--store", "ev", "--period", "2026", *args],
            cwd=tmp_path,
            env=env or cli_env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    shown = sample("--size", "5", "--seed", "11", "--lang", "en")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "seed 11, drawn by test-operator" in lines[0]  # AUDITPACK_OPERATOR, as every command records it
    drawn = [line.strip() for line in lines if line.startswith("  ") and not line.startswith("    ")]
    assert len(drawn) == 5 and all(d.split()[0] in ("fs01", "dc01") for d in drawn)
    outcomes = [line.strip() for line in lines if line.startswith("    outcome: ")]
    assert len(outcomes) == 5 and all(o.startswith("outcome: Passed · evidence: ") for o in outcomes)
    assert sum("Backup result: success" in line for line in lines) == 5

    as_json = sample("--size", "5", "--seed", "11", "--json", "--operator", "J. Jansen (auditor)")
    assert as_json.returncode == 0, as_json.stderr
    printed = json.loads(as_json.stdout)
    assert printed["drawn"] == drawn and printed["drawn_by"] == "J. Jansen (auditor)"
    stored_ids = {i.id for i in year.store.items()}
    assert all(i["evidence"] and set(i["evidence"]) <= stored_ids for i in printed["items"])  # evidence that exists

    [stored] = samples_for(year.store, year.period)  # the same draw twice is one sample, the newest
    assert stored["drawn"] == drawn and stored["seed"] == 11 and stored["drawn_by"] == "J. Jansen (auditor)"
    assert stored["items"] == printed["items"]
    too_big = sample("--size", "100000", "--seed", "1")
    assert too_big.returncode == 2 and "cannot be drawn" in too_big.stderr
