"""What the machine-readable exports (OSCAL, OCSF) share: auditpack's namespace, UUIDs and the moments of a report day.

Identifiers are UUIDv5 under the auditpack namespace, made from what they name (the control, the
period, the finding), so two exports of one document are byte for byte the same, and the OCSF
finding of a deviation carries the UUID of the OSCAL observation of the same deviation.
Light to import: no OSCAL or OCSF library is loaded here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any

from auditpack.canonical import parse_iso

# auditpack's own namespace for its OSCAL properties and the root of its UUIDs: a URN, because the project
# publishes no web address of its own that could stand for it (an identifier, never fetched)
NAMESPACE = "urn:auditpack:oscal"
_UUID_ROOT = uuid.uuid5(uuid.NAMESPACE_URL, NAMESPACE)


def export_uuid(*parts: str) -> str:
    """The same UUID for the same parts, in every export."""
    return str(uuid.uuid5(_UUID_ROOT, "|".join(parts)))


def period_key(document: dict[str, Any]) -> str:
    return f"{document['period']['start']}/{document['period']['end']}"


def control_result_uuid(document: dict[str, Any], control_id: str) -> str:
    """A control's result over the report's period: the OSCAL finding, the OCSF finding of the control."""
    return export_uuid("finding", control_id, period_key(document))


def finding_uuid(document: dict[str, Any], control_id: str, kind: str, index: int, finding: dict[str, Any]) -> str:
    """One deviation, gap, excepted item or observation: the OSCAL observation, the OCSF finding."""
    return export_uuid(
        "observation", control_id, period_key(document), kind, str(index), finding["subject"], finding["date"], finding["code"]
    )


def moment(text: str) -> datetime:
    """A moment of the document (ISO 8601, "Z" or an offset) as an aware datetime."""
    parsed = parse_iso(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def day_bounds(day: str) -> tuple[datetime, datetime]:
    """The first and the last second of a report day, in UTC, as the period's bounds are stated."""
    start = date.fromisoformat(day)
    return datetime.combine(start, time(0, 0), tzinfo=UTC), datetime.combine(start, time(23, 59, 59), tzinfo=UTC)
