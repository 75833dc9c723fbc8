"""A firewall's rules at two moments, from the evidence store: what changed over a year, or since last month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from auditpack.controls.firewall_rules import diff_rulesets

from .store import EvidenceStore, ItemRecord


@dataclass(frozen=True)
class RulesetAt:
    item: ItemRecord
    ruleset: dict[str, Any]


def ruleset_on(store: EvidenceStore, host: str, day: date) -> RulesetAt | None:
    """The last usable ruleset of HOST of a day on or before DAY: an imported backup counts on the day it was made."""
    found = [
        i
        for i in store.items(kinds=["firewall.ruleset"], host=host)
        if i.status == "ok" and i.normalized_sha256 and i.day <= day.isoformat()
    ]
    if not found:
        return None
    latest = max(found, key=lambda i: (i.day, i.started, i.run_seq))
    return RulesetAt(latest, store.read_json(latest.normalized_sha256))


def rules_diff(store: EvidenceStore, host: str, old_day: date, new_day: date) -> tuple[RulesetAt, RulesetAt, dict[str, Any]]:
    """Both rulesets and what changed between them; ValueError when either moment has no ruleset."""
    old, new = ruleset_on(store, host, old_day), ruleset_on(store, host, new_day)
    for moment, found in ((old_day, old), (new_day, new)):
        if found is None:
            raise ValueError(f"no readable firewall.ruleset of {host} collected on or before {moment}")
    assert old is not None and new is not None
    return old, new, diff_rulesets(old.ruleset, new.ruleset)
