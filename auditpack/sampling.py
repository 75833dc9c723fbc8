"""Reproducible samples for the auditor: the same control, period, size and seed always draw the same items.

The units are what the control tests: for a daily control each subject on each
day of the period (backup days of a server), otherwise each subject (leavers,
workstations). A drawn sample is stored as evidence (`audit.sample`), so the
report and the workbook show it and a later report can be checked against it.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from .canonical import iso, utcnow
from .controls.result import ControlResult
from .imports import store_one
from .periods import Period
from .store import EvidenceStore

SAMPLE_KIND = "audit.sample"
SOURCE = "auditor"  # the manifest's name for what the audit itself adds


def sampling_units(result: ControlResult, frequency: str, period: Period, today: date | None = None) -> list[str]:
    """The items a sample is drawn from; days that have not come yet are never among them."""
    subjects = sorted(result.population)
    if frequency != "daily":
        return subjects
    first, last = period.start.date(), min(period.last_day.date(), today or date.today())
    days = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    return [f"{subject} {day}" for subject in subjects for day in days]


def draw_sample(
    result: ControlResult, frequency: str, period: Period, size: int, seed: int, today: date | None = None
) -> dict[str, Any]:
    """Raises ValueError when the sample would be larger than the population."""
    units = sampling_units(result, frequency, period, today)
    if size < 1:
        raise ValueError("a sample needs at least one item")
    if size > len(units):
        raise ValueError(
            f"the population of {result.control_id} over {period.label} has {len(units)} items; "
            f"a sample of {size} cannot be drawn from it"
        )
    drawn = sorted(random.Random(seed).sample(units, size))  # sorted: easier to work through, same set either way
    return {
        "control": result.control_id,
        "size": size,
        "seed": seed,
        "population_size": len(units),
        "period": {"start": period.start.date().isoformat(), "end": period.last_day.date().isoformat()},
        "unit": "subject-day" if frequency == "daily" else "subject",
        "drawn": drawn,
        "drawn_at": iso(utcnow()),
    }


def store_sample(store: EvidenceStore, sample: dict[str, Any], operator: str) -> dict[str, Any]:
    command = f"auditpack sample {sample['control']} --size {sample['size']} --seed {sample['seed']}"
    _, meta = store_one(
        store, operator, SAMPLE_KIND, command, b"", sample, source=SOURCE, collector="sample", connection="auditor"
    )
    return meta


def samples_for(store: EvidenceStore, period: Period) -> list[dict[str, Any]]:
    """The samples drawn for this period (any time), newest per control, size and seed."""
    found: dict[tuple[str, int, int], dict[str, Any]] = {}
    for item in sorted(store.items(kinds=[SAMPLE_KIND]), key=lambda i: i.started):
        if item.status != "ok" or not item.normalized_sha256:
            continue
        sample = store.read_json(item.normalized_sha256)
        if sample["period"] == {"start": period.start.date().isoformat(), "end": period.last_day.date().isoformat()}:
            found[(sample["control"], sample["size"], sample["seed"])] = {**sample, "item_id": item.id}
    return list(found.values())
