"""Reading register cells the same way in every control: dates that must be there, and yes/no flags.

No CONTROL_ID here, so the evaluator registry imports this module without registering it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ..evidence_view import EvidenceView
from ..framework import EvaluationContext, Findings, parse_day
from ._common import Row, closing_day, rows

T = TypeVar("T")
TRUE_WORDS = {"true", "yes", "ja", "y", "j", "1", "waar", "x"}
FALSE_WORDS = {"false", "no", "nee", "n", "0", "onwaar"}


def readable(value: Any, parse: Callable[[Any], T | None] = parse_day) -> T | None:
    """The parsed cell, or None when it is empty or not a date/moment at all."""
    try:
        return parse(value)
    except (ValueError, TypeError):
        return None


def dated_rows(
    ctx: EvaluationContext, findings: Findings, register: EvidenceView, field: str, parse: Callable[[Any], T | None] = parse_day
) -> list[tuple[Row, T]]:
    """Rows with a readable FIELD; a row without one is a gap, so no row is ever skipped silently."""
    dated = []
    for row in rows(register):
        value = readable(row.get(field), parse)
        if value is None:
            findings.gap(
                f"{register.kind} row {row.get('row', '?')}",
                closing_day(ctx),
                "evidence.missing",
                [register.item_id],
                why=f"{field}: {row.get(field)!r}",
            )
        else:
            dated.append((row, value))
    return dated


def is_true(value: Any, default: bool) -> bool:
    """A yes/no cell as imported from CSV or a spreadsheet; an empty or unknown cell takes the register's default."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    word = str(value or "").strip().lower()
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else default


def subprocessors_in_use(register: EvidenceView) -> list[Row]:
    """Sub-processors that handle data now (in_use defaults to true, as the register contract says)."""
    return [r for r in rows(register) if is_true(r.get("in_use"), default=True)]


def succeeded(row: Row) -> bool:
    """A test register row (`result` success/failure) that records a success; anything else is not one."""
    return str(row.get("result") or "").strip().lower() == "success"


def label(row: Row, field: str) -> str:
    """What a row is about (a name, a system, a breach id); the row number when that cell is empty."""
    value = row.get(field)
    return str(value).strip() if value not in (None, "") else f"row {row.get('row', '?')}"
