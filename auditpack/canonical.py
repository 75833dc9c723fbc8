"""Canonical JSON and hashing: the same data always gives the same bytes and hash."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, date, datetime
from typing import Any

from .errors import AuditpackError


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)


def document_moment() -> datetime:
    """When a report or pack is made: now, or the moment SOURCE_DATE_EPOCH names (seconds since 1970, the
    reproducible-builds.org convention), so the same evidence reported twice gives byte-identical documents."""
    fixed = os.environ.get("SOURCE_DATE_EPOCH")
    if fixed is None:
        return utcnow()
    if not fixed.strip().isdigit():
        raise AuditpackError(f"SOURCE_DATE_EPOCH={fixed!r} is not a whole number of seconds since 1970-01-01 (UTC)")
    return datetime.fromtimestamp(int(fixed), UTC)


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with microseconds and a Z, so strings sort in time order."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
