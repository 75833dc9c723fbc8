"""What the report rests on that the processor supplied: each register as last imported and each attached
document of the period, with where it came from as the processor said at import (--source, --exported).

The report's scope section lists them, so a reader sees which verdicts rest on the processor's own files.
"""

from __future__ import annotations

from typing import Any

from .periods import Period
from .store import EvidenceStore

REGISTER_PREFIX = "register."
DOCUMENT_KIND = "manual.evidence"


def supplied_files(store: EvidenceStore, period: Period) -> list[dict[str, Any]]:
    """The registers (newest of each) and the period's attached documents, in kind order."""
    newest: dict[str, Any] = {}
    documents = []
    for item in store.items():
        if item.status != "ok" or not item.normalized_sha256:
            continue
        if item.kind.startswith(REGISTER_PREFIX):
            if item.kind not in newest or (item.started, item.id) > (newest[item.kind].started, newest[item.kind].id):
                newest[item.kind] = item
        elif item.kind == DOCUMENT_KIND:
            documents.append(item)
    found = []
    for item in [*sorted(newest.values(), key=lambda i: i.kind), *sorted(documents, key=lambda i: i.started)]:
        normalized = store.read_json(item.normalized_sha256)
        if (
            item.kind == DOCUMENT_KIND
            and not period.start.date().isoformat() <= normalized["date"] <= period.last_day.date().isoformat()
        ):
            continue
        provenance = normalized.get("provenance") or {"supplied_by": "processor", "source": None, "exported": None}
        found.append(
            {
                "kind": item.kind,
                "item_id": item.id,
                "file": normalized.get("file") or normalized.get("filename") or item.command,
                "imported": item.started,
                **provenance,
            }
        )
    return found
