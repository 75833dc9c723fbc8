"""Reproducible samples for the auditor: the same control, period, size, seed and evidence always draw the same items.

The units are what the control tested: each subject on each date it was tested
(a server's backup day, a workstation's collection, a leaver's last working day),
including those found not evidenced, so the auditor can reperform each one from
its attributes and evidence. For a daily control these are the subject-days of
the period, as before units were tested items. A drawn sample is stored as
evidence (`audit.sample`) with each item's result, attributes and evidence ids
and who drew it, so the report and the workbook show it and a later report can be
checked against it.
"""

from __future__ import annotations

import random
from typing import Any

from .canonical import iso, utcnow
from .controls.result import ControlResult, TestedItem
from .imports import store_one
from .periods import Period
from .store import EvidenceStore

SAMPLE_KIND = "audit.sample"
SOURCE = "auditor"  # the manifest's name for what the audit itself adds


def sampling_units(result: ControlResult) -> list[TestedItem]:
    """The items a sample is drawn from, by subject and date; days that have not come yet are never among them,
    as the evaluation stops today."""
    return sorted(result.tested_items, key=lambda t: (t.subject, t.date))


def draw_sample(result: ControlResult, frequency: str, period: Period, size: int, seed: int, drawn_by: str) -> dict[str, Any]:
    """Raises ValueError when the sample would be larger than the population."""
    units = sampling_units(result)
    if size < 1:
        raise ValueError("a sample needs at least one item")
    if size > len(units):
        raise ValueError(
            f"the population of {result.control_id} over {period.label} has {len(units)} items; "
            f"a sample of {size} cannot be drawn from it"
        )
    # in subject-date order: easier to work through, the same set either way
    drawn = sorted(random.Random(seed).sample(units, size), key=lambda t: (t.subject, t.date))
    return {
        "control": result.control_id,
        "size": size,
        "seed": seed,
        "population_size": len(units),
        "period": {"start": period.start.date().isoformat(), "end": period.last_day.date().isoformat()},
        "unit": "subject-day" if frequency == "daily" else "subject-date",
        "drawn": [t.key() for t in drawn],
        "items": [t.to_dict() for t in drawn],
        "drawn_at": iso(utcnow()),
        "drawn_by": drawn_by,
    }


def store_sample(store: EvidenceStore, sample: dict[str, Any]) -> dict[str, Any]:
    """The sample as evidence, in a run of its own by the one who drew it."""
    command = f"auditpack sample {sample['control']} --size {sample['size']} --seed {sample['seed']}"
    _, meta = store_one(
        store, sample["drawn_by"], SAMPLE_KIND, command, b"", sample, source=SOURCE, collector="sample", connection="auditor"
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
