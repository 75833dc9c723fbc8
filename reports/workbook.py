"""The report as an Excel workbook, for the auditor who wants to filter, sort and tick off.

Rendered from the report document (reports/document.py) and nothing else: no verdict is
recomputed here. Sheets: a summary with the cover facts; per control a sheet with every
item that is not a plain pass (and the population it was drawn from) and a sheet with
every tested item, one row per subject-date with the attributes the test used, its
outcome and evidence ids, so the auditor can filter, reperform and tick off; then the
exceptions, samples (each drawn item with its outcome, attributes and evidence), evidence
references and collection runs. Dates and moments are real Excel dates (UTC, as in the
document), except the moments among a tested item's attributes: those stay the text the
evidence gives (with its offset, or none when the source gives none), so they compare
with the raw evidence. Every table has a frozen header and a filter.
Its words are the report's (reports/i18n.py), so a label reads the same here as in the HTML and PDF.

Texts coming from evidence (firewall descriptions, commands, register cells) are written
as text, never as formulas, so a cell beginning with "=" cannot run anything.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from auditpack.atomic import atomic_path

from .document import run_timestamp_state
from .html import (
    attributes_text,
    coverage_text,
    format_value,
    missing_from,
    responses_intro,
    signoff_statement,
    source_name,
    tested_sheet_name,
)
from .i18n import (
    COMPLETENESS_LABELS,
    FREQUENCY_LABELS,
    ITEM_RESULT_LABELS,
    LANGS,
    STATE_LABELS,
    STRINGS,
    TIMESTAMP_LABELS,
    TIMESTAMP_REASONS,
    WORKBOOK_STRINGS,
)

DATE_FORMAT = "yyyy-mm-dd"
MOMENT_FORMAT = "yyyy-mm-dd hh:mm:ss"
LINE_HEIGHT = 15  # points per line of 11 pt text
EXCEL_CELL_LIMIT = 32767
SHEET_NAME_LIMIT = 31

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
TITLE_FONT = Font(bold=True, size=14)
BLOCK_FONT = Font(bold=True, size=12)
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
LINK_FONT = Font(color="0563C1", underline="single")

# Column width caps (characters): long texts wrap instead of pushing the rest off screen.
NARROW, MEDIUM, WIDE, TEXT = 14, 32, 48, 70
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# -- values -----------------------------------------------------------------------------------


def _day(text: str | None) -> date | str | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text  # not a date after all: shown as it is rather than lost


def _moment(text: str | None) -> datetime | str | None:
    """A document moment (UTC, 'Z') as a naive UTC datetime: Excel has no time zones; headers say UTC."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _attribute(value: Any, t: dict[str, str]) -> Any:
    """A tested item's attribute as a cell: an ISO date a real date, yes/no in words, several values joined."""
    if isinstance(value, bool):
        return t["yes"] if value else t["no"]
    if isinstance(value, str) and _ISO_DAY.match(value):
        return _day(value)
    if isinstance(value, list):
        return ", ".join("—" if v is None else str(_attribute(v, t)) for v in value)
    return value


def _clean_text(text: str) -> str:
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    if len(text) > EXCEL_CELL_LIMIT:
        text = text[: EXCEL_CELL_LIMIT - 1] + "…"
    return text


def _display_len(value: Any) -> int:
    if isinstance(value, datetime):
        return 20
    if isinstance(value, date):
        return 12
    if value is None:
        return 0
    return max((len(line) for line in str(value).splitlines()), default=0)


class _Sheet:
    """A worksheet written row by row, remembering how wide each column wants to be."""

    def __init__(self, ws: Worksheet, caps: list[int]):
        self.ws = ws
        self.caps = caps
        self.widths = [0] * len(caps)
        self.row = 0
        self.wrapped: list[tuple[int, int, str]] = []

    def put(
        self, row: int, col: int, value: Any, *, bold: bool = False, wrap: bool = False, top: bool = True, measure: bool = True
    ):
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        if isinstance(value, str):
            value = _clean_text(value)
        cell = self.ws.cell(row=row, column=col, value=value)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # text from evidence, never a formula
        if isinstance(value, datetime):
            cell.number_format = MOMENT_FORMAT
        elif isinstance(value, date):
            cell.number_format = DATE_FORMAT
        if bold:
            cell.font = HEADER_FONT
        if wrap:
            cell.alignment = WRAP
        elif top:
            cell.alignment = TOP
        if wrap and value is not None:
            self.wrapped.append((row, col, str(value)))
        if measure and col <= len(self.widths):
            self.widths[col - 1] = max(self.widths[col - 1], _display_len(value))
        return cell

    def append(self, values: list[Any], wrap_cols: frozenset[int] = frozenset()) -> int:
        self.row += 1
        for col, value in enumerate(values, start=1):
            # top-aligned only beside wrapped text; styling every cell of a long table costs seconds
            self.put(self.row, col, value, wrap=col in wrap_cols, top=bool(wrap_cols))
        return self.row

    def header(self, names: list[str]) -> int:
        self.row += 1
        for col, name in enumerate(names, start=1):
            cell = self.put(self.row, col, name)
            cell.font = HEADER_FONT
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="bottom")
            self.wrapped.append((self.row, col, name))
        return self.row

    def note(self, text: str, font: Font | None = None) -> int:
        """A line of text outside any table; not measured, so it does not widen column A."""
        self.row += 1
        cell = self.put(self.row, 1, text, measure=False)
        if font is not None:
            cell.font = font
        return self.row

    def table(self, header_row: int, last_row: int, ncols: int, freeze: bool = True) -> None:
        last = get_column_letter(ncols)
        self.ws.auto_filter.ref = f"A{header_row}:{last}{max(last_row, header_row)}"
        if freeze:
            self.ws.freeze_panes = f"A{header_row + 1}"
        self.ws.print_title_rows = f"{header_row}:{header_row}"

    def end_table(self, header_row: int, ncols: int, when_empty: str) -> None:
        """Filter and freeze the table; an empty one gets WHEN_EMPTY said below it."""
        self.table(header_row, self.row, ncols)
        if self.row == header_row:
            self.row += 1  # a blank line: the note is not a row of the table
            self.note(when_empty)

    def finish(self) -> None:
        for i, (width, cap) in enumerate(zip(self.widths, self.caps, strict=False), start=1):
            self.ws.column_dimensions[get_column_letter(i)].width = max(8, min(width + 2, cap))
        # Row heights for wrapped text: not every reader sizes rows itself (LibreOffice keeps the default).
        lines: dict[int, int] = {}
        for row, col, text in self.wrapped:
            width = self.ws.column_dimensions[get_column_letter(col)].width or 8.43
            per_line = max(1, int(width) - 1)
            needed = sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))
            lines[row] = max(lines.get(row, 1), needed)
        for row, count in lines.items():
            if count > 1:
                self.ws.row_dimensions[row].height = LINE_HEIGHT * count
        setup = self.ws.page_setup
        setup.orientation = "landscape"
        setup.paperSize = self.ws.PAPERSIZE_A4
        setup.fitToWidth = 1
        setup.fitToHeight = 0
        self.ws.sheet_properties.pageSetUpPr.fitToPage = True


def catalogue_line(catalogue: dict[str, Any], w: dict[str, str]) -> str:
    """The catalogue version that judged the report, as one cell: version, digest, and what differs."""
    parts = [f"{catalogue['version']}, SHA-256 {catalogue['digest']}"]
    if catalogue["modified"]:
        parts.append(f"({w['catalogue_modified']})")
    parts += [
        w["catalogue_other_runs"].format(version=o["version"], runs=", ".join(map(str, o["runs"])))
        for o in catalogue["runs_under_other_versions"]
    ]
    return "; ".join(parts)


def _sheet_name(name: str, taken: set[str]) -> str:
    """A legal, unique sheet name (Excel compares them case-insensitively)."""
    base = _BAD_SHEET_CHARS.sub("_", name).strip("'")[:SHEET_NAME_LIMIT] or "_"
    candidate, n = base, 1
    while candidate.casefold() in taken:
        n += 1
        suffix = f" ({n})"
        candidate = base[: SHEET_NAME_LIMIT - len(suffix)] + suffix
    taken.add(candidate.casefold())
    return candidate


def _link(cell, sheet: str) -> None:
    quoted = sheet.replace("'", "''")
    cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"'{quoted}'!A1", display=str(cell.value))
    cell.font = LINK_FONT


# -- sheets -----------------------------------------------------------------------------------


def _summary(
    ws: Worksheet,
    doc: dict[str, Any],
    w: dict[str, str],
    lang: str,
    control_sheets: dict[str, str],
    tested_sheets: dict[str, str],
) -> None:
    s = _Sheet(ws, [44, WIDE, MEDIUM, NARROW + 4, NARROW, NARROW, NARROW, NARROW, NARROW, NARROW])
    s.note(w["workbook_title"], TITLE_FONT)
    profile, tool = doc["profile"], doc["tool"]
    signing = doc.get("signing_key")
    labels = {c["status"]: c["status_label"] for c in doc["controls"]}
    results = "; ".join(f"{labels.get(status, status)}: {count}" for status, count in doc["summary"].items() if count)
    facts: list[tuple[str, Any]] = [
        (w["processor"], profile["processor"] or "—"),
        (w["customer"], profile["customer"] or "—"),
        (w["agreement"], profile["agreement"] or "—"),
        (w["period_start"], _day(doc["period"]["start"])),
        (w["period_end"], _day(doc["period"]["end"])),
        (w["profile"], profile["name"]),
        (w["generated"], _moment(doc["generated_at"])),
        (w["tool"], f"{tool['name']} {tool['version']}"),
        (w["catalogue_version"], catalogue_line(doc["catalogue"], w)),
        (
            f"{w['signing_key']} ({w['fingerprint']})",
            f"{signing['algorithm']} {signing['fingerprint']}" if signing else w["not_signed"],
        ),
        (w["chain_head"], doc["evidence_store"]["chain_head"] or "—"),
        (w["runs_in_period"], len(doc["evidence_store"]["runs"])),
        (w["results"], results or "—"),
    ]
    for label, value in facts:
        s.row += 1
        s.put(s.row, 1, label, bold=True)
        cell = s.put(s.row, 2, value, measure=False)
        cell.alignment = Alignment(horizontal="left", vertical="top")
    s.row += 1  # a blank line between the cover and the table
    header = s.header(
        [
            w["control"],
            w["control_title"],
            w["status"],
            w["frequency"],
            w["population"],
            w["tested"],
            w["deviations"],
            w["gaps"],
            w["excepted"],
            w["observations"],
        ]
    )
    for control in doc["controls"]:
        row = s.append(
            [
                control["id"],
                control["title"],
                control["status_label"],
                FREQUENCY_LABELS[lang].get(control["frequency"], control["frequency"]),
                control["population"]["size"],
                control["tested"],
                len(control["deviations"]),
                len(control["gaps"]),
                len(control["excepted"]),
                len(control["observations"]),
            ],
            wrap_cols=frozenset({2}),
        )
        if control["id"] in control_sheets:
            _link(ws.cell(row=row, column=1), control_sheets[control["id"]])
            _link(ws.cell(row=row, column=6), tested_sheets[control["id"]])  # the count leads to the items counted
    s.table(header, s.row, 10)
    s.finish()


def _control(ws: Worksheet, control: dict[str, Any], w: dict[str, str], lang: str, tested_sheet: str) -> None:
    s = _Sheet(ws, [36, MEDIUM, NARROW, 22, TEXT, MEDIUM, MEDIUM, MEDIUM, NARROW])
    s.note(f"{control['id']} — {control['title']} — {control['status_label']}", BLOCK_FONT)
    t = STRINGS[lang]
    if control["reason"]:
        s.note(f"{t['why']}: {control['reason']['text']}")
    if control["coverage"]:
        s.note(coverage_text(control["coverage"], lang))
    s.note(t["tested_items_note"].format(count=len(control["tested_items"]), sheet=tested_sheet))
    _link(ws.cell(row=s.row, column=1), tested_sheet)
    header = s.header(
        [
            w["type"],
            w["subject"],
            w["date"],
            w["code"],
            w["finding"],
            w["evidence_items"],
            w["exception_scope"],
            w["owner"],
            w["expires"],
        ]
    )
    rows = (
        [("type_deviation", f, None) for f in control["deviations"]]
        + [("gaps", f, None) for f in control["gaps"]]
        + [("excepted", f, f) for f in control["excepted"]]
        + [("type_observation", f, None) for f in control["observations"]]
    )
    rows.sort(key=lambda r: (r[1]["date"], r[1]["subject"]))  # one year, in the order it happened
    for kind, finding, exc in rows:
        s.append(
            [
                w[kind],
                finding["subject"],
                _day(finding["date"]),
                finding["code"],
                finding["text"],
                finding["evidence"],
                exc["scope"] if exc else None,
                exc["owner"] if exc else None,
                _day(exc["expires"]) if exc else None,
            ],
            wrap_cols=frozenset({5}),
        )
    s.end_table(header, 9, w["no_findings"])

    population = control["population"]
    s.row += 1
    s.note(f"{w['population']} ({population['size']})", BLOCK_FONT)
    for subject in population["subjects"]:
        s.row += 1
        s.put(s.row, 2, subject)
    completeness = population.get("completeness")
    if completeness:
        labels = COMPLETENESS_LABELS[lang]
        s.row += 1
        s.note(w["completeness"], BLOCK_FONT)
        for key, value in completeness.items():
            if key == "sources" and isinstance(value, dict):
                for source, hosts in value.items():
                    s.row += 1
                    s.put(s.row, 1, f"{w['source']}: {source_name(source, lang)}")
                    s.put(s.row, 2, hosts, measure=False)  # overflows into the empty cells to its right
                continue
            if key == "missing" and isinstance(value, list):
                value = [f"{m.get('host')} ({missing_from(m, lang)})" if isinstance(m, dict) else str(m) for m in value]
            elif key == "not_provided" and isinstance(value, list):
                value = [source_name(source, lang) for source in value]
            s.row += 1
            s.put(s.row, 1, labels.get(key, key))
            s.put(s.row, 2, value if value else "—", measure=False)
    if control["parameters"]:
        s.row += 1
        s.note(w["parameters"], BLOCK_FONT)
        for name, value in control["parameters"].items():
            s.row += 1
            s.put(s.row, 1, name)
            # numbers stay numbers; a yes/no, list or mapping in the report's words, as the HTML shows it
            plain = isinstance(value, (str, int, float)) and not isinstance(value, bool)
            shown = value if plain else format_value(value, w)
            s.put(s.row, 2, shown, measure=False).alignment = Alignment(horizontal="left", vertical="top")
    s.finish()


def _tested(ws: Worksheet, control: dict[str, Any], w: dict[str, str], lang: str, control_sheet: str) -> None:
    """Every tested subject-date of one control: the attribute columns are the control's own (from the document)."""
    columns = control["tested_attributes"]
    s = _Sheet(ws, [MEDIUM, NARROW, NARROW + 4, 22, *[MEDIUM for _ in columns], WIDE])
    s.note(f"{control['id']} — {control['title']} — {control['status_label']}", BLOCK_FONT)
    _link(ws.cell(row=s.row, column=1), control_sheet)
    t, results = STRINGS[lang], ITEM_RESULT_LABELS[lang]
    names = [w["subject"], w["date"], w["item_result"], w["codes"], *[c["label"] for c in columns], w["evidence_items"]]
    header = s.header(names)
    for item in control["tested_items"]:
        attributes = item["attributes"]
        s.append(
            [
                item["subject"],
                _day(item["date"]),
                results[item["result"]],
                item["codes"] or None,
                *[_attribute(attributes.get(c["key"]), t) for c in columns],
                item["evidence"],
            ]
        )
    s.end_table(header, len(names), w["no_tested_items"])
    s.finish()


def _exceptions(ws: Worksheet, doc: dict[str, Any], w: dict[str, str]) -> None:
    s = _Sheet(ws, [NARROW, MEDIUM, TEXT, MEDIUM, MEDIUM, NARROW, 26, NARROW])
    header = s.header(
        [
            w["control"],
            w["scope"],
            w["justification"],
            w["owner"],
            w["approver"],
            w["expires"],
            w["exception_state"],
            w["matched"],
        ]
    )
    for control in doc["controls"]:
        for e in control["exceptions"]:
            s.append(
                [
                    control["id"],
                    e["scope"],
                    e["justification"],
                    e["owner"],
                    e["approver"],
                    _day(e["expires"]),
                    w.get(f"state_{e['state']}", e["state"]),
                    e["matched"],
                ],
                wrap_cols=frozenset({3}),
            )
    s.end_table(header, 8, w["no_exceptions"])
    s.finish()


def _responses(ws: Worksheet, doc: dict[str, Any], w: dict[str, str]) -> None:
    """Every deviation with management's response, or open; then the responses that answer none."""
    s = _Sheet(ws, [NARROW, 30, NARROW, TEXT, 16, TEXT, TEXT, MEDIUM, NARROW, NARROW, NARROW, 8, 20])
    s.note(responses_intro(doc, w))
    header = s.header(
        [
            w["control"], w["subject"], w["date"], w["finding"], w["response"], w["cause"], w["corrective_action"],
            w["owner"], w["col_fixed_on"], w["col_retest_on"], w["col_retest_result"],
            w["register_row"], w["evidence_items"],
        ]
    )  # fmt: skip
    for control in doc["controls"]:
        for d in control["deviations"]:
            r = d["response"] or {}
            s.append(
                [
                    control["id"], d["subject"], _day(d["date"]), d["text"],
                    w["responses_answered"] if r else w["responses_open_count"],
                    r.get("cause"), r.get("corrective_action"), r.get("owner"), _day(r.get("fixed_on")),
                    _day(r.get("retest_on")), w[f"retest_{r['retest_result']}"] if r.get("retest_result") else None,
                    r.get("row"), r.get("evidence"),
                ],
                wrap_cols=frozenset({3, 5, 6}),
            )  # fmt: skip
    s.end_table(header, 13, w["no_deviations"])
    if doc["responses"]["unmatched"]:
        s.row += 1
        s.note(w["responses_unmatched"], BLOCK_FONT)
        for r in doc["responses"]["unmatched"]:
            s.row += 1
            s.note(
                f"{w['register_row']} {r['row']}: {r['control']} · {r['subject']} · {r['date']}"
                + (f" – {r['until']}" if r["until"] else "")
            )
    s.finish()


def _scope(ws: Worksheet, doc: dict[str, Any], w: dict[str, str]) -> None:
    """One table an auditor filters by its first column: what is not tested and why, the controls resting on
    the processor's files, the controls without a verdict, the runs that missed hosts, the supplied files."""
    scope = doc["scope"]
    s = _Sheet(ws, [30, 34, TEXT])
    header = s.header([w["scope_title"], w["subject"], w["finding"]])
    rows: list[list[Any]] = [
        [w["scope_not_tested"], ", ".join(limit["controls"]), f"{limit['what']} {w['scope_why']}: {limit['why']}"]
        for limit in scope["not_tested"]
    ]
    rows += [[w["scope_document_based"], d["control"], w["scope_document_based_note"]] for d in scope["document_based"]]
    rows += [[w["scope_without_verdict"], x["control"], x["reason"]] for x in scope["without_verdict"]]
    rows += [
        [w["scope_incomplete_runs"], f"{w['run']} {r['seq']} ({r['started'][:16].replace('T', ' ')})",
         ", ".join(f"{h['host']} ({h['status']})" for h in r["hosts"])]
        for r in scope["incomplete_runs"]
    ]  # fmt: skip
    rows += [
        [w["scope_supplied"], f"{f['file']} ({w['supplied_by_processor']})",
         f"{w['source_system']}: {f['source'] or w['not_given']}; {w['exported_on']}: {f['exported'] or w['not_given']}; "
         f"{w['imported_on']}: {f['imported'][:10]}; {w['item_id']}: {f['item_id']}"]
        for f in scope["supplied"]
    ]  # fmt: skip
    for row in rows:
        s.append(row, wrap_cols=frozenset({2}))
    s.end_table(header, 3, w["none"])
    s.finish()


def _signoff(ws: Worksheet, doc: dict[str, Any], w: dict[str, str]) -> None:
    """The processor's statement with room to sign, and the auditor's conclusion per control and overall."""
    s = _Sheet(ws, [30, MEDIUM, TEXT])
    s.note(w["signoff_title"], TITLE_FONT)
    s.note(signoff_statement(doc, w))
    signatory = doc["profile"]["signatory"]
    s.row += 1
    s.note(w["signoff_processor"], BLOCK_FONT)
    for label, value in ((w["signoff_name"], signatory["name"]), (w["signoff_role"], signatory["role"]),
                         (w["signoff_place"], signatory["place"]), (w["signoff_date"], ""), (w["signoff_signature"], "")):  # fmt: skip
        s.row += 1
        s.put(s.row, 1, label, bold=True)
        s.put(s.row, 2, value or None)
    s.row += 1
    s.note(w["signoff_auditor"], BLOCK_FONT)
    s.note(w["signoff_auditor_note"])
    header = s.header([w["control"], w["status"], w["signoff_conclusion"]])
    for control in doc["controls"]:
        s.append([control["id"], control["status_label"], None])
    s.append([w["signoff_overall"], None, None])
    s.table(header, s.row, 3)
    for label in (w["signoff_auditor_name"], w["signoff_date"], w["signoff_signature"]):
        s.row += 1
        s.put(s.row, 1, label, bold=True)
    s.finish()


def _samples(ws: Worksheet, doc: dict[str, Any], w: dict[str, str], lang: str) -> None:
    """One row per drawn item: the sample it belongs to, then the item as the report tested it."""
    s = _Sheet(ws, [NARROW, NARROW, NARROW, NARROW, NARROW, 20, MEDIUM, 8, MEDIUM, NARROW, NARROW + 4, 22, TEXT, WIDE, 20])
    header = s.header(
        [
            w["control"],
            w["sample_size"],
            w["seed"],
            w["sample_population"],
            w["unit"],
            w["drawn_at"],
            w["drawn_by"],
            w["number"],
            w["drawn"],
            w["date"],
            w["item_result"],
            w["codes"],
            w["attributes"],
            w["evidence_items"],
            w["sample_item"],
        ]
    )
    t, results = STRINGS[lang], ITEM_RESULT_LABELS[lang]
    for control in doc["controls"]:
        labels = {c["key"]: c["label"] for c in control["tested_attributes"]}
        for sample in control["samples"]:
            unit = sample.get("unit")
            for n, item in enumerate(sample["items"], start=1):
                s.append(
                    [
                        sample["control"],
                        sample["size"],
                        sample["seed"],
                        sample["population_size"],
                        w.get(f"unit_{unit}", unit) if unit else None,
                        _moment(sample["drawn_at"]),
                        sample.get("drawn_by"),
                        n,
                        item["unit"],
                        _day(item["date"]),
                        results[item["result"] or "not_in_report"],
                        item["codes"] or None,
                        attributes_text(item["attributes"], labels, t) or None,
                        item["evidence"],
                        sample.get("item_id"),
                    ],
                    wrap_cols=frozenset({13}),
                )
    s.end_table(header, 15, w["no_samples"])
    s.finish()


def _evidence(ws: Worksheet, doc: dict[str, Any], w: dict[str, str]) -> None:
    states = STATE_LABELS[doc["lang"]]
    s = _Sheet(ws, [NARROW, 20, 22, 26, 20, WIDE, 66, NARROW])
    header = s.header(
        [w["control"], w["item_id"], w["host"], w["kind"], w["collected"], w["command"], w["hash"], w["item_status"]]
    )
    for control in doc["controls"]:
        for e in control["evidence"]:
            s.append(
                [
                    control["id"],
                    e["item_id"],
                    e["host"],
                    e["kind"],
                    _moment(e["collected"]),
                    e["command"],
                    e["raw_sha256"],
                    states.get(e["status"], e["status"]),
                ]
            )
    s.table(header, s.row, 8)
    s.finish()


def _runs(ws: Worksheet, doc: dict[str, Any], w: dict[str, str]) -> None:
    s = _Sheet(ws, [NARROW, 20, MEDIUM, NARROW, NARROW, 66, 20, MEDIUM, MEDIUM])
    header = s.header(
        [w["run"], w["started"], w["operator"], w["run_status"], w["hosts"], w["manifest"]]
        + [w["timestamp"], w["timestamp_state"], w["timestamp_reason"]]
    )
    lang = doc.get("lang", "nl")
    for run in doc["evidence_store"]["runs"]:
        state, stamp = run_timestamp_state(run), run.get("timestamp") or {}
        status = STATE_LABELS[lang].get(run["status"], run["status"])
        s.append(
            [run["seq"], _moment(run["started"]), run["operator"], status, run["hosts"], run["manifest_sha256"]]
            + [
                _moment(stamp.get("time")),
                TIMESTAMP_LABELS[lang][state] if state else None,
                TIMESTAMP_REASONS[lang].get(stamp.get("reason") or "") if state and state != "at_commit" else None,
            ]
        )
    s.table(header, s.row, 9)
    s.finish()


def build_workbook(document: dict[str, Any]) -> Workbook:
    lang = document.get("lang", "nl")
    if lang not in LANGS:
        raise ValueError(f"no workbook wording for language {lang!r}; available: {', '.join(LANGS)}")
    w = {**STRINGS[lang], **WORKBOOK_STRINGS[lang]}  # one table: the two share no key (tests/test_report_formats.py)
    wb = Workbook()
    taken: set[str] = set()
    summary = wb.active
    summary.title = _sheet_name(w["sheet_summary"], taken)
    fixed = {key: _sheet_name(w[key], taken) for key in ("exceptions", "samples", "evidence", "runs")}
    control_sheets = {c["id"]: _sheet_name(c["id"], taken) for c in document["controls"]}
    tested_sheets = {c["id"]: _sheet_name(tested_sheet_name(c["id"], lang), taken) for c in document["controls"]}
    for control in document["controls"]:
        cid = control["id"]
        _control(wb.create_sheet(control_sheets[cid]), control, w, lang, tested_sheets[cid])
        _tested(wb.create_sheet(tested_sheets[cid]), control, w, lang, control_sheets[cid])
    _responses(wb.create_sheet(_sheet_name(w["sheet_responses"], taken)), document, w)
    _scope(wb.create_sheet(_sheet_name(w["sheet_scope"], taken)), document, w)
    _exceptions(wb.create_sheet(fixed["exceptions"]), document, w)
    _samples(wb.create_sheet(fixed["samples"]), document, w, lang)
    _evidence(wb.create_sheet(fixed["evidence"]), document, w)
    _runs(wb.create_sheet(fixed["runs"]), document, w)
    _signoff(wb.create_sheet(_sheet_name(w["sheet_signoff"], taken)), document, w)
    _summary(summary, document, w, lang, control_sheets, tested_sheets)
    # Printed, each page says which sheet and which page it is: a stack of printed sheets can be put back in order.
    footer = f"&A · {w['page']} &P {w['page_of']} &N"  # Excel's codes: sheet name, page, pages
    for ws in wb.worksheets:
        ws.oddFooter.center.text = footer
    wb.properties.title = w["workbook_title"]
    wb.properties.creator = f"{document['tool']['name']} {document['tool']['version']}"
    wb.properties.language = lang
    return wb


def write_workbook(document: dict[str, Any], path: Path) -> Path:
    """Write the workbook to `path` through a temporary file in the same directory."""
    path = Path(path)
    wb = build_workbook(document)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path
