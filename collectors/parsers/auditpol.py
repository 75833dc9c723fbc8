"""Parse `auditpol` output into the windows.audit_policy shape, keyed on subcategory GUIDs.

Two inputs: the `/r` and `/backup` CSV exports (which carry the GUID; `/backup`
also carries a language-independent numeric setting), and the plain `/get`
text a person may have saved, which names subcategories in the display
language only; that form is read for English output, by a name table.
"""

from __future__ import annotations

import csv
import io
from typing import Any

SUFFIX = "-69ae-11d9-bed3-505054503030"
# English display names of the subcategories auditpack's controls look at, for the text form.
ENGLISH_NAMES = {
    "Logon": "0cce9215",
    "Logoff": "0cce9216",
    "Account Lockout": "0cce9217",
    "Special Logon": "0cce921b",
    "Other Logon/Logoff Events": "0cce921c",
    "Credential Validation": "0cce923f",
    "Kerberos Authentication Service": "0cce9242",
    "Kerberos Service Ticket Operations": "0cce9240",
    "Other Account Logon Events": "0cce9241",
    "File System": "0cce921d",
    "File Share": "0cce9224",
    "Detailed File Share": "0cce9244",
    "Audit Policy Change": "0cce922f",
    "User Account Management": "0cce9235",
    "Security Group Management": "0cce9237",
    "Computer Account Management": "0cce9236",
}
TEXT_SETTINGS = {
    "No Auditing": (False, False),
    "Success": (True, False),
    "Failure": (False, True),
    "Success and Failure": (True, True),
}
BACKUP_VALUES = {"0": (False, False), "1": (True, False), "2": (False, True), "3": (True, True)}


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"neither UTF-16 nor UTF-8: {exc}") from None


def _entry(name: str, success: bool, failure: bool) -> dict[str, Any]:
    return {"name": name, "success": success, "failure": failure}


def parse_auditpol_csv(data: bytes) -> dict[str, Any]:
    """`auditpol /get /category:* /r` or `/backup` CSV; only /backup's numeric column is language-proof."""
    rows = list(csv.reader(io.StringIO(_decode(data))))
    if not rows or len(rows[0]) < 6:
        raise ValueError("not auditpol CSV: expected at least 6 columns")
    subcategories = {}
    for number, row in enumerate(rows[1:], 2):
        if not any(row):
            continue
        if len(row) < 6 or not row[3].startswith("{"):
            raise ValueError(f"row {number}: no subcategory GUID in column 4")
        guid = row[3].strip("{}").lower()
        if len(row) >= 7 and row[6] in BACKUP_VALUES:
            success, failure = BACKUP_VALUES[row[6]]
        elif row[4] in TEXT_SETTINGS:  # /r output: only English wording can be read
            success, failure = TEXT_SETTINGS[row[4]]
        else:
            raise ValueError(f"row {number}: setting {row[4]!r} cannot be read without the numeric /backup column")
        subcategories[guid] = _entry(row[2], success, failure)
    return {"subcategories": subcategories, "source": "csv"}


def parse_auditpol_text(data: bytes) -> dict[str, Any]:
    """Saved `auditpol /get /category:*` text in English (the display form)."""
    text = _decode(data)
    if "Category/Subcategory" not in text:
        raise ValueError("not English auditpol /get output (no 'Category/Subcategory' header)")
    subcategories: dict[str, Any] = {}
    for line in text.splitlines():
        if not line.startswith("  ") or not line.strip():
            continue  # categories start in column 0; subcategories are indented
        stripped = line.strip()
        for setting in sorted(TEXT_SETTINGS, key=len, reverse=True):
            if stripped.endswith(setting):
                name = stripped[: -len(setting)].strip()
                guid = ENGLISH_NAMES.get(name)
                key = f"{guid}{SUFFIX}" if guid else f"name:{name}"
                subcategories[key] = _entry(name, *TEXT_SETTINGS[setting])
                break
        else:
            raise ValueError(f"unreadable setting in line {stripped[:60]!r}")
    if not subcategories:
        raise ValueError("no subcategories found")
    return {"subcategories": subcategories, "source": "text"}
