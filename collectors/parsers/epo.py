"""The answer of ePO's Web API call core.executeQuery (`:output=json`) as systems or detections. Pure: bytes in, records out.

ePO answers a status line ("OK:", or "Error N:" and a message) and then, for JSON
output, a list of rows keyed by Table.Column of the select.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

COLUMNS = {
    "name": "EPOLeafNode.NodeName",
    "last_contact": "EPOLeafNode.LastUpdate",
    "content_date": "EPOProdPropsView_VIRUSCAN.datdate",
}


def _rows(data: bytes, what: str) -> list[Any]:
    """The rows of an answer; anything but "OK:" and a JSON list is refused."""
    text = data.decode("utf-8", errors="strict").lstrip()
    status, _, body = text.partition("\n")
    if not status.startswith("OK:"):
        raise ValueError(f"ePO did not answer OK: {status.strip()[:200]}")
    try:
        rows = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"ePO answer is not JSON: {exc}") from None
    if not isinstance(rows, list):
        raise ValueError(f"ePO answer is not a list of {what}")
    return rows


def parse_epo_systems(data: bytes) -> dict[str, Any]:
    """One system per row, sorted by name; anything but "OK:" and a list of rows that name their system is refused."""
    rows = _rows(data, "systems")
    systems = []
    for row in rows:
        if not isinstance(row, dict) or COLUMNS["name"] not in row:
            raise ValueError(f"row without {COLUMNS['name']}: {str(row)[:80]}")
        content = row.get(COLUMNS["content_date"])
        systems.append(
            {
                "name": row[COLUMNS["name"]],
                "last_contact": row.get(COLUMNS["last_contact"]),
                "content_date": str(content)[:10] if content else None,
                "product_enabled": None,
            }
        )
    return {"systems": sorted(systems, key=lambda s: s["name"].lower())}


DETECTION_COLUMNS = {
    "host": "EPOEvents.TargetHostName",
    "time": "EPOEvents.DetectedUTC",
    "threat": "EPOEvents.ThreatName",
    "action": "EPOEvents.ThreatActionTaken",
    "handled": "EPOEvents.ThreatHandled",
}


def parse_epo_detections(data: bytes, listed_from: date | None = None) -> dict[str, Any]:
    """av.detections from an EPOEvents query, oldest first; LISTED_FROM is the day the query asked from (None: all).

    ePO says whether the product handled the threat (ThreatHandled), not when: resolved_at stays null."""
    detections = []
    for row in _rows(data, "detections"):
        if not isinstance(row, dict) or not row.get(DETECTION_COLUMNS["host"]) or not row.get(DETECTION_COLUMNS["time"]):
            raise ValueError(f"detection without {DETECTION_COLUMNS['host']} or {DETECTION_COLUMNS['time']}: {str(row)[:80]}")
        handled = row.get(DETECTION_COLUMNS["handled"])
        detections.append(
            {
                "host": str(row[DETECTION_COLUMNS["host"]]),
                "time": str(row[DETECTION_COLUMNS["time"]]),
                "threat": row.get(DETECTION_COLUMNS["threat"]),
                "action": row.get(DETECTION_COLUMNS["action"]),
                "resolved": handled in (True, 1, "1", "true", "True"),
                "resolved_at": None,
            }
        )
    found: dict[str, Any] = {"detections": sorted(detections, key=lambda d: (d["time"], d["host"].lower()))}
    if listed_from is not None:
        found["listed_from"] = listed_from.isoformat()
    return found
