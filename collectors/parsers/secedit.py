"""Parse a `secedit /export` security template into the ad.password_policy shape. Pure: bytes in, dict out.

The template is INI-like and, as Windows writes it, UTF-16 LE with a BOM and
CRLF line ends; UTF-8 (with or without BOM) is accepted as well. Only the
[System Access] section is read. Other sections are skipped unread, because
some of them ([Registry Keys], [File Security]) hold lines without "=".
"""

from __future__ import annotations

import codecs
from typing import Any

SECTION = "system access"
NEVER_EXPIRES = (-1, 0)  # MaximumPasswordAge: -1 (as exported) or 0 (as set in the GUI) mean "never"

# secedit key -> ad.password_policy key; every one of these is always in a system export.
REQUIRED = {
    "MinimumPasswordLength": "min_length",
    "PasswordComplexity": "complexity",
    "MaximumPasswordAge": "max_age_days",
    "MinimumPasswordAge": "min_age_days",
    "PasswordHistorySize": "history_length",
    "LockoutBadCount": "lockout_threshold",
}
LOCKOUT_DURATION = "LockoutDuration"  # only written while lockout is on; -1 = locked until an administrator unlocks


def _decode(data: bytes) -> str:
    try:
        if data.startswith(codecs.BOM_UTF16_LE):
            return data[len(codecs.BOM_UTF16_LE) :].decode("utf-16-le")
        if data.startswith(codecs.BOM_UTF16_BE):
            return data[len(codecs.BOM_UTF16_BE) :].decode("utf-16-be")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not a text security template: {exc}") from None


def _system_access(text: str) -> dict[str, str] | None:
    """The key = value lines of [System Access], with keys as written; None when there is no such section."""
    section: str | None = None
    values: dict[str, str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
            if section == SECTION and values is None:
                values = {}
            continue
        if section is None:
            raise ValueError(f"line {number}: text before the first [section]: {line[:60]!r}")
        if section != SECTION or values is None:
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"line {number}: not 'Key = value' in [System Access]: {line[:60]!r}")
        if key in values:
            raise ValueError(f"line {number}: {key} given twice in [System Access]")
        values[key] = value.strip()
    if section is None:
        raise ValueError("no [section] at all: not a secedit security template")
    return values


def _integer(values: dict[str, str], key: str) -> int:
    try:
        return int(values[key], 10)
    except ValueError:
        raise ValueError(f"[System Access] {key} is not a whole number: {values[key][:40]!r}") from None


def parse_secedit(data: bytes) -> dict[str, Any]:
    values = _system_access(_decode(data))
    if values is None:
        raise ValueError("no [System Access] section: the export holds no password policy")
    missing = [key for key in REQUIRED if key not in values]
    if missing:
        raise ValueError(f"[System Access] lacks {', '.join(missing)}")
    numbers = {key: _integer(values, key) for key in REQUIRED}
    if numbers["PasswordComplexity"] not in (0, 1):
        raise ValueError(f"PasswordComplexity must be 0 or 1, not {numbers['PasswordComplexity']}")
    negative = [
        k for k in ("MinimumPasswordLength", "MinimumPasswordAge", "PasswordHistorySize", "LockoutBadCount") if numbers[k] < 0
    ]
    if negative or numbers["MaximumPasswordAge"] < -1:
        raise ValueError(f"[System Access] negative value for {', '.join(negative) or 'MaximumPasswordAge'}")
    policy = {field: numbers[key] for key, field in REQUIRED.items()}
    policy["complexity"] = numbers["PasswordComplexity"] == 1
    if numbers["MaximumPasswordAge"] in NEVER_EXPIRES:
        policy["max_age_days"] = None
    policy["lockout_duration_minutes"] = _integer(values, LOCKOUT_DURATION) if LOCKOUT_DURATION in values else None
    return policy
