"""The answer of ePO's Web API call core.executeQuery (`:output=json`) as systems. Pure: bytes in, records out.

ePO answers a status line ("OK:", or "Error N:" and a message) and then, for JSON
output, a list of rows keyed by Table.Column of the select.
"""

from __future__ import annotations

import json
from typing import Any

COLUMNS = {
    "name": "EPOLeafNode.NodeName",
    "last_contact": "EPOLeafNode.LastUpdate",
    "content_date": "EPOProdPropsView_VIRUSCAN.datdate",
}


def parse_epo_systems(data: bytes) -> dict[str, Any]:
    """One system per row, sorted by name; anything but "OK:" and a list of rows that name their system is refused."""
    text = data.decode("utf-8", errors="strict").lstrip()
    status, _, body = text.partition("\n")
    if not status.startswith("OK:"):
        raise ValueError(f"ePO did not answer OK: {status.strip()[:200]}")
    try:
        rows = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"ePO answer is not JSON: {exc}") from None
    if not isinstance(rows, list):
        raise ValueError("ePO answer is not a list of systems")
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
