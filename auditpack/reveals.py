"""A record of every use of `auditpack reveal`: who looked behind which pseudonyms, when, and why.

Revealing undoes the pseudonymisation an auditor was given, so each use is kept as evidence of its own (an
`audit.reveal` item in a run of its own, chained and timestamped like any run) before any name is shown. The
record holds the pseudonyms asked for and whether each was found, never the names behind them: it must not
become the key's other half.
"""

from __future__ import annotations

from typing import Any

from .canonical import canonical_json, iso, utcnow
from .store import EvidenceStore

REVEAL_KIND = "audit.reveal"
SOURCE = "auditor"  # as samples: what the audit itself adds, not evidence from a host


def record_reveal(store: EvidenceStore, operator: str, found: dict[str, bool], reason: str | None) -> tuple[int, dict[str, Any]]:
    """Store the use (FOUND: each pseudonym asked for, and whether a name was behind it); returns run seq and item."""
    from .imports import store_one

    record = {
        "revealed_by": operator,
        "at": iso(utcnow()),
        "pseudonyms": [{"pseudonym": p, "found": f} for p, f in found.items()],
        "reason": reason.strip() if reason and reason.strip() else None,
    }
    command = "auditpack reveal " + " ".join(found)
    ref, meta = store_one(
        store,
        operator,
        REVEAL_KIND,
        command,
        canonical_json(record),
        record,
        source=SOURCE,
        collector="reveal",
        connection="auditor",
    )
    return ref.seq, meta


def reveals_in(store: EvidenceStore) -> list[dict[str, Any]]:
    """Every recorded use, oldest first, with its run and item."""
    uses = []
    for item in store.items(kinds=[REVEAL_KIND]):
        if item.normalized_sha256:
            uses.append({**store.read_json(item.normalized_sha256), "run": item.run_seq, "item": item.id})
    return sorted(uses, key=lambda u: u["at"])
