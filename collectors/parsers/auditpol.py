"""Parse `auditpol` output into the windows.audit_policy shape, keyed on subcategory GUIDs.

Three inputs, one parser:
- `auditpol /backup` CSV (Machine Name, Policy Target, Subcategory, Subcategory GUID, Inclusion Setting,
  Exclusion Setting, Setting Value): the numeric Setting Value (0-3) is read, whatever the language;
- `auditpol /get /category:* /r` CSV (the same first six columns): the Inclusion Setting text is read
  through a table of the display languages auditpack knows (English, Dutch, German, French);
- the plain `/get` text a person may have saved, which names subcategories in the display language
  only; that form is read for English output, by a name table.

Exports saved from a console start with a code-page line ("Active code page: 437", localised) and come as
UTF-16LE (with or without BOM) or UTF-8 (with or without BOM); rows are found by their GUID column, so the
header's wording and any line before it do not matter.
"""

from __future__ import annotations

import csv
import io
import re
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
# The Inclusion Setting of a /r export, in the display languages auditpack knows; compared case-insensitively.
LOCALISED_SETTINGS = {
    **{k.casefold(): v for k, v in TEXT_SETTINGS.items()},
    # Dutch
    "geen controle": (False, False),
    "geslaagd": (True, False),
    "mislukt": (False, True),
    "geslaagd en mislukt": (True, True),
    # German
    "keine überwachung": (False, False),
    "erfolg": (True, False),
    "fehler": (False, True),
    "erfolg und fehler": (True, True),
    # French
    "pas d'audit": (False, False),
    "succès": (True, False),
    "échec": (False, True),
    "succès et échec": (True, True),
}
BACKUP_VALUES = {"0": (False, False), "1": (True, False), "2": (False, True), "3": (True, True)}
GUID = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")
HEADER_COLUMNS = ("machine name", "policy target", "subcategory", "subcategory guid")


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    sample = data[:200]
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4:  # ASCII-range text as UTF-16LE, without BOM
        try:
            return data.decode("utf-16-le")
        except UnicodeDecodeError as exc:
            raise ValueError(f"neither UTF-16 nor UTF-8: {exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"neither UTF-16 nor UTF-8: {exc}") from None


def _entry(name: str, success: bool, failure: bool) -> dict[str, Any]:
    return {"name": name, "success": success, "failure": failure}


def _setting(row: list[str], number: int) -> tuple[tuple[bool, bool], str]:
    """(success, failure) and which column said so: /backup's number, else the /r Inclusion Setting text."""
    if len(row) >= 7 and row[6].strip() in BACKUP_VALUES:
        return BACKUP_VALUES[row[6].strip()], "backup"
    text = row[4].strip().replace("\u2019", "'").casefold()
    if text in LOCALISED_SETTINGS:
        return LOCALISED_SETTINGS[text], "r"
    raise ValueError(
        f"row {number}: setting {row[4]!r} cannot be read without the numeric /backup column "
        f"(known languages: English, Dutch, German, French)"
    )


def is_auditpol_csv(data: bytes) -> bool:
    """Whether a file looks like an auditpol /r or /backup export (by its header or a row with a subcategory GUID)."""
    try:
        text = _decode(data[:65536])
    except ValueError:
        return False
    for row in csv.reader(io.StringIO(text)):
        cells = [c.strip().casefold() for c in row]
        if tuple(cells[:4]) == HEADER_COLUMNS or (len(row) >= 6 and GUID.match(row[3].strip())):
            return True
    return False


def parse_auditpol_csv(data: bytes) -> dict[str, Any]:
    """`auditpol /get /category:* /r` or `/backup` CSV, with or without a code-page line before it."""
    rows = list(csv.reader(io.StringIO(_decode(data))))
    subcategories: dict[str, Any] = {}
    forms, machines, seen_header = set(), set(), False
    for number, row in enumerate(rows, 1):
        if not any(cell.strip() for cell in row):
            continue
        if tuple(c.strip().casefold() for c in row[:4]) == HEADER_COLUMNS or (
            len(row) >= 6 and not subcategories and not GUID.match(row[3].strip())
        ):
            seen_header = True  # the header, English or localised: the rows below it carry the GUID
            continue
        if len(row) < 6 or not GUID.match(row[3].strip()):
            if not seen_header:
                continue  # a code-page line ("Active code page: 437") or other console text before the export
            raise ValueError(f"row {number}: no subcategory GUID in column 4")
        (success, failure), form = _setting(row, number)
        forms.add(form)
        machines.add(row[0].strip())
        subcategories[row[3].strip().strip("{}").lower()] = _entry(row[2].strip(), success, failure)
    if not seen_header and not subcategories:
        raise ValueError("not auditpol CSV: no header with Subcategory GUID and no row with a subcategory GUID")
    form = "backup" if forms == {"backup"} else "r" if forms == {"r"} else "csv"
    return {"subcategories": subcategories, "source": "csv", "form": form, "machines": sorted(machines - {""})}


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
