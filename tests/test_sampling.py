"""`auditpack sample`: reproducible draws from a control's population, stored as evidence for the report."""

from __future__ import annotations

import subprocess
from datetime import date

import pytest

from auditpack.controls.result import ControlResult, Status
from auditpack.periods import year_period
from auditpack.sampling import draw_sample, samples_for, sampling_units
from conftest import auditpack_bin
from year_store import build_year

YEAR = year_period(2026)
AFTER_YEAR = date(2027, 1, 20)  # the sample is drawn after the year, so every day of it can be drawn


def result(*subjects: str) -> ControlResult:
    return ControlResult("T-BAK-1", Status.EFFECTIVE, "2026-01-01", "2026-12-31", list(subjects), tested=10)


def test_daily_controls_sample_subject_days_and_others_subjects():
    assert len(sampling_units(result("fs01", "dc01"), "daily", YEAR, AFTER_YEAR)) == 730
    assert sampling_units(result("fs01", "dc01"), "daily", YEAR, AFTER_YEAR)[0] == "dc01 2026-01-01"
    assert sampling_units(result("ws-2", "ws-1"), "per_collection", YEAR, AFTER_YEAR) == ["ws-1", "ws-2"]


def test_same_seed_same_sample_other_seed_other_sample():
    first = draw_sample(result("fs01", "dc01"), "daily", YEAR, 25, seed=2026, today=AFTER_YEAR)
    again = draw_sample(
        result("dc01", "fs01"), "daily", YEAR, 25, seed=2026, today=AFTER_YEAR
    )  # population order does not matter
    other = draw_sample(result("fs01", "dc01"), "daily", YEAR, 25, seed=2027, today=AFTER_YEAR)
    assert first["drawn"] == again["drawn"] and first["drawn"] != other["drawn"]
    assert len(set(first["drawn"])) == 25 and first["population_size"] == 730 and first["unit"] == "subject-day"


def test_a_sample_larger_than_the_population_is_refused():
    with pytest.raises(ValueError, match="has 2 items; a sample of 3 cannot be drawn"):
        draw_sample(result("ws-1", "ws-2"), "per_collection", YEAR, 3, seed=1, today=AFTER_YEAR)


def test_cli_sample_is_stored_and_found_for_the_report(tmp_path, cli_env):
    year = build_year(tmp_path / "ev")

    def sample(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [auditpack_bin(), "sample", "T-BAK-1", "--store", "ev", "--period", "2026", *args],
            cwd=tmp_path,
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    first, second = sample("--size", "5", "--seed", "11"), sample("--size", "5", "--seed", "11")
    assert first.returncode == 0, first.stderr
    drawn = [line.strip() for line in first.stdout.splitlines() if line.startswith("  ")]
    assert len(drawn) == 5 and all(d.split()[0] in ("fs01", "dc01") for d in drawn)
    assert drawn == [line.strip() for line in second.stdout.splitlines() if line.startswith("  ")]
    [stored] = samples_for(year.store, year.period)  # the same draw twice is one sample
    assert stored["drawn"] == drawn and stored["seed"] == 11
    too_big = sample("--size", "100000", "--seed", "1")
    assert too_big.returncode == 2 and "cannot be drawn" in too_big.stderr


def test_days_that_have_not_come_are_never_drawn():
    from datetime import date

    result = ControlResult("T-BAK-1", Status.EFFECTIVE, "", "", ["fs01"], 1)
    units = sampling_units(result, "daily", year_period(2026), today=date(2026, 3, 31))
    assert len(units) == 90 and units[-1] == "fs01 2026-03-31"  # 1 January to today, not to 31 December
