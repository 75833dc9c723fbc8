"""Parse an HR or management register (CSV or XLSX) into the rows of EVIDENCE.md. Pure: bytes in, dict out.

Registers are kept by people in Excel, so the parser takes what Dutch Excel
produces (';' delimiters, Windows-1252, dd-mm-yyyy, Dutch headers and words)
and reports every problem in the file at once, as file:row N: column: message,
so the whole file can be fixed in one go. Row numbers are the ones a
spreadsheet shows: the header is row 1 when it is the first line.

Times without an offset are Dutch wall-clock time (Europe/Amsterdam):
- a time the clocks skip (last Sunday of March, 02:00-03:00) never happened
  and is refused: only whoever wrote it knows what was meant;
- a time that happens twice (last Sunday of October, 02:00-03:00) is taken as
  its first occurrence, summer time +02:00 (Python's fold=0); write the offset
  (+01:00) to mean the second one.

A bool column in which some cell is "x" is a column of tick boxes: there an
empty cell means no. Elsewhere an empty bool cell is empty like any other.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any, Literal

import pycountry

from auditpack.errors import AuditpackError

AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")

Kind = Literal["text", "date", "moment", "bool", "country", "enum"]

# --- the schema, as data -----------------------------------------------------


def normalise_header(header: str) -> str:
    """'Klant geïnformeerd-op ' -> 'klant_geinformeerd_op'."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", header) if not unicodedata.combining(c))
    return re.sub(r"[\s\-_]+", "_", plain.strip().lower()).strip("_")


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind = "text"
    required: bool = True  # the column must be there and each of its cells filled
    default: Any = None  # for an optional field whose cell is empty or column absent
    aliases: tuple[str, ...] = ()  # other headers people write, mostly Dutch
    choices: Mapping[str, str] = field(default_factory=dict)  # enum: accepted word -> value


RowCheck = Callable[[dict[str, Any]], list[tuple[str, str]]]  # a typed row -> (field, problem) pairs


@dataclass(frozen=True)
class RegisterSchema:
    name: str
    fields: tuple[Field, ...]
    check: RowCheck | None = None  # what a row's cells must say together (a range that ends before it begins)

    def header_lookup(self) -> dict[str, Field]:
        """Normalised header -> field, for the field's own name and every alias."""
        return {normalise_header(h): f for f in self.fields for h in (f.name, *f.aliases)}


RESULT = {
    "success": "success",
    "geslaagd": "success",
    "ok": "success",
    "failure": "failure",
    "mislukt": "failure",
    "fout": "failure",
}
DIRECTION = {"in": "in", "out": "out", "uit": "out"}


def _response_row(row: dict[str, Any]) -> list[tuple[str, str]]:
    """A response's range must not end before it begins, and a retest result needs the retest's date."""
    problems = []
    if row.get("until") and row.get("date") and row["until"] < row["date"]:
        problems.append(("until", f"{row['until']} lies before the first day answered ({row['date']})"))
    if row.get("retest_result") and not row.get("retest_on"):
        problems.append(("retest_result", "a retest result needs the retest's date (retest_on)"))
    return problems


NAME = ("naam", "medewerker")
ACCOUNT = ("gebruikersnaam", "accountnaam", "inlognaam", "gebruiker")
BADGE_ID = ("pasnummer", "pas_id", "pasid", "badgenummer", "badge", "pas")
NOTES = ("opmerkingen", "opmerking", "notities", "toelichting")
COUNTRY = ("land", "locatie", "locatie_land", "country")
RESULT_HEADERS = ("resultaat", "uitkomst")
REVIEWER = ("beoordelaar", "beoordeeld_door")


def _registers(*schemas: RegisterSchema) -> dict[str, RegisterSchema]:
    for schema in schemas:  # one header must never mean two fields
        headers = [normalise_header(h) for f in schema.fields for h in (f.name, *f.aliases)]
        if len(headers) != len(set(headers)):
            raise ValueError(f"register {schema.name}: a header is the name or alias of two fields")
    return {s.name: s for s in schemas}


REGISTERS: dict[str, RegisterSchema] = _registers(
    RegisterSchema(
        "hr_leavers",
        (
            Field("name", aliases=NAME),
            Field("account", aliases=ACCOUNT),
            Field("last_working_day", "date", aliases=("laatste_werkdag", "uit_dienst", "uitdienstdatum", "datum_uit_dienst")),
            Field("department", required=False, aliases=("afdeling",)),
        ),
    ),
    RegisterSchema(
        "nda",
        (
            Field("name", aliases=NAME),
            Field("account", aliases=ACCOUNT),
            Field("signed_on", "date", aliases=("getekend_op", "ondertekend_op", "datum")),
        ),
    ),
    RegisterSchema(
        "badges",
        (
            Field("badge_id", aliases=BADGE_ID),
            Field("holder", aliases=("houder", "pashouder", "naam", "medewerker")),
            Field("account", required=False, aliases=ACCOUNT),
            Field("role", aliases=("rol", "functie")),
            Field("server_room_access", "bool", aliases=("toegang_serverruimte", "serverruimte", "serverruimte_toegang")),
            Field("blocked_on", "date", required=False, aliases=("geblokkeerd_op", "geblokkeerd")),
            Field("returned_on", "date", required=False, aliases=("ingeleverd_op", "ingeleverd", "teruggegeven_op")),
        ),
    ),
    RegisterSchema(
        "badge_log",
        (
            Field("timestamp", "moment", aliases=("tijdstip", "datum_tijd", "datumtijd", "tijd", "moment")),
            Field("badge_id", aliases=BADGE_ID),
            Field("door", aliases=("deur",)),
            Field("direction", "enum", aliases=("richting",), choices=DIRECTION),
        ),
    ),
    RegisterSchema(
        "breaches",
        (
            Field("breach_id", aliases=("incident_id", "datalek_id", "incidentnummer", "nummer", "id")),
            Field("detected_at", "moment", aliases=("ontdekt_op", "geconstateerd_op", "vastgesteld_op")),
            Field(
                "customer_notified_at",
                "moment",
                required=False,
                aliases=("klant_geinformeerd_op", "klant_gemeld_op", "gemeld_aan_klant_op"),
            ),
            Field(
                "reported_to_authority",
                "bool",
                aliases=("gemeld_bij_ap", "gemeld_aan_ap", "gemeld_bij_autoriteit_persoonsgegevens", "gemeld_aan_autoriteit"),
            ),
            Field("description", required=False, aliases=("omschrijving", "beschrijving")),
        ),
    ),
    RegisterSchema(
        "subprocessors",
        (
            Field("name", aliases=("naam", "subverwerker")),
            Field("service", aliases=("dienst", "dienstverlening")),
            Field(
                "agreement_signed_on",
                "date",
                required=False,
                aliases=("getekend_op", "overeenkomst_getekend_op", "verwerkersovereenkomst_getekend_op"),
            ),
            Field("location_country", "country", aliases=COUNTRY),
            Field("in_use", "bool", required=False, default=True, aliases=("in_gebruik", "actief")),
            Field("last_reviewed_on", "date", required=False, aliases=("laatst_beoordeeld_op", "laatste_beoordeling")),
        ),
    ),
    RegisterSchema(
        "processing_locations",
        (
            Field("system", aliases=("systeem", "applicatie")),
            Field("location_country", "country", aliases=COUNTRY),
            Field("notes", required=False, aliases=NOTES),
        ),
    ),
    RegisterSchema(
        "restore_tests",
        (
            Field("tested_on", "date", aliases=("getest_op", "testdatum", "datum")),
            Field("server", aliases=("servernaam",)),
            Field("result", "enum", aliases=RESULT_HEADERS, choices=RESULT),
            Field("performed_by", required=False, aliases=("uitgevoerd_door", "tester")),
            Field("notes", required=False, aliases=NOTES),
        ),
    ),
    RegisterSchema(
        "backup_reports",
        (
            Field("sent_on", "date", aliases=("verzonden_op", "verstuurd_op", "datum")),
            Field("recipient", required=False, aliases=("ontvanger",)),
            Field("all_succeeded", "bool", required=False, aliases=("alles_geslaagd", "alle_geslaagd", "allemaal_geslaagd")),
        ),
    ),
    RegisterSchema(
        "continuity_reviews",
        (
            Field("reviewed_on", "date", aliases=("beoordeeld_op", "reviewdatum", "datum")),
            Field("reviewer", aliases=REVIEWER),
            Field("organisation", required=False, aliases=("organisatie", "organization")),
            Field("result", required=False, aliases=(*RESULT_HEADERS, "conclusie")),
        ),
    ),
    RegisterSchema(
        "generator_tests",
        (
            Field("tested_on", "date", aliases=("getest_op", "testdatum", "datum")),
            Field("result", "enum", aliases=RESULT_HEADERS, choices=RESULT),
            Field("notes", required=False, aliases=NOTES),
        ),
    ),
    RegisterSchema(  # management's answer to a deviation (or to each day of a date range of one subject's)
        "management_responses",
        (
            Field("control", aliases=("maatregel", "beheersmaatregel", "control_id")),
            Field("subject", aliases=("onderwerp", "betreft")),
            Field("date", "date", aliases=("datum", "van", "vanaf", "datum_afwijking")),
            Field("until", "date", required=False, aliases=("tot_en_met", "t/m", "tm", "einddatum")),
            Field("cause", aliases=("oorzaak",)),
            Field("corrective_action", aliases=("corrigerende_maatregel", "herstelactie", "actie")),
            Field("owner", aliases=("eigenaar", "verantwoordelijke")),
            Field("fixed_on", "date", required=False, aliases=("opgelost_op", "hersteld_op")),
            Field("retest_on", "date", required=False, aliases=("hertest_op", "hertestdatum")),
            Field("retest_result", "enum", required=False, aliases=("hertest_resultaat", "resultaat_hertest"), choices=RESULT),
        ),
        check=_response_row,
    ),
    RegisterSchema(
        "access_reviews",
        (
            Field("group", aliases=("groep", "groepsnaam")),
            Field("reviewed_on", "date", aliases=("beoordeeld_op", "reviewdatum", "datum")),
            Field("reviewer", aliases=REVIEWER),
        ),
    ),
)

# --- problems ----------------------------------------------------------------


@dataclass(frozen=True)
class RegisterProblem:
    file: str
    row: int | None  # None: the file as a whole
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:row {self.row}" if self.row is not None else self.file
        return f"{where}: {self.column}: {self.message}"


class RegisterError(AuditpackError):
    """A register that cannot be used; each problem names file, row and column."""

    def __init__(self, problems: list[RegisterProblem]):
        located = sorted(problems, key=lambda p: p.row or 0)  # stable: columns stay in file order
        files = sorted({p.file for p in located})
        super().__init__(", ".join(files) or "a register", located)


class _Bad(ValueError):
    """A cell that cannot be read; the message quotes it."""


def _quoted(text: str) -> str:
    return f"'{text[:57]}...'" if len(text) > 60 else f"'{text}'"


# --- cell text ----------------------------------------------------------------


def _text(value: Any) -> str:
    """A cell as the text a person sees; XLSX cells arrive as numbers, dates and bools."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a badge number 1234 is stored as 1234.0
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value).strip()


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- cell converters: raw cell -> normalised value, or _Bad ------------------


def _to_text(value: Any, fld: Field) -> str:
    return _text(value)


_ISO_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", re.ASCII)
_DUTCH_DATE = re.compile(r"(\d{1,2})[-/](\d{1,2})[-/](\d{4})", re.ASCII)
_DUTCH_MOMENT = re.compile(r"(\d{1,2})[-/](\d{1,2})[-/](\d{4})[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?", re.ASCII)


def _date_from_text(text: str) -> date:
    if m := _ISO_DATE.fullmatch(text):
        year, month, day = m.groups()
    elif m := _DUTCH_DATE.fullmatch(text):
        day, month, year = m.groups()  # Dutch order: a '05-04-2026' is 5 April
    else:
        raise _Bad(f"{_quoted(text)} is not a date: write YYYY-MM-DD or dd-mm-yyyy")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise _Bad(f"{_quoted(text)} is not a date on the calendar") from None


def _to_date(value: Any, fld: Field) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return _date_from_text(_text(value)).isoformat()


def _in_amsterdam(naive: datetime, shown: str) -> datetime:
    """Dutch wall-clock time -> aware; the first of a repeated October hour, no skipped March time."""
    aware = naive.replace(tzinfo=AMSTERDAM, fold=0)
    try:
        round_trip = aware.astimezone(UTC).astimezone(AMSTERDAM).replace(tzinfo=None)
    except OverflowError:  # year 1 or 9999
        raise _Bad(f"{shown} is outside the calendar that can be converted") from None
    if round_trip != naive:
        raise _Bad(
            f"{shown} does not exist in Dutch time: the clocks jump from 02:00 to 03:00 that night; write the offset, e.g. +01:00"
        )
    return aware


def _moment_from_text(text: str) -> datetime:
    if m := _DUTCH_MOMENT.fullmatch(text):
        day, month, year, hour, minute, second = m.groups()
        try:
            return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
        except ValueError:
            raise _Bad(f"{_quoted(text)} is not a time on the calendar") from None
    if not re.search(r"\d[T ]+\d", text):  # fromisoformat takes a bare date as midnight: a guess, not evidence
        raise _Bad(f"{_quoted(text)} is not a date with a time: write YYYY-MM-DD hh:mm or dd-mm-yyyy hh:mm")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise _Bad(f"{_quoted(text)} is not a date with a time: write YYYY-MM-DD hh:mm or dd-mm-yyyy hh:mm") from None


def _to_moment(value: Any, fld: Field) -> str:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        moment = _moment_from_text(_text(value))
    if moment.tzinfo is None:
        moment = _in_amsterdam(moment, _quoted(_text(value)))
    shown = moment.isoformat()
    return shown[:-6] + "Z" if moment.utcoffset() == timedelta(0) else shown


TRUE_WORDS = {"yes", "ja", "true", "waar", "1", "x"}
FALSE_WORDS = {"no", "nee", "false", "onwaar", "0"}


def _to_bool(value: Any, fld: Field) -> bool:
    if isinstance(value, bool):
        return value
    word = _text(value).lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise _Bad(f"{_quoted(_text(value))} is not yes or no: write ja/nee, yes/no, true/false, 1/0 or x")


# Codes people write that ISO 3166-1 does not have.
COUNTRY_HINTS = {"UK": "GB", "EL": "GR", "EN": "GB"}


@cache
@cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes, from pycountry (which tracks the ISO standard)."""
    return frozenset(country.alpha_2 for country in pycountry.countries)


def _to_country(value: Any, fld: Field) -> str:
    text = _text(value)
    code = text.upper()
    if code in country_codes():
        return code
    hint = f"; did you mean {COUNTRY_HINTS[code]}?" if code in COUNTRY_HINTS else " (e.g. NL, DE, IE)"
    raise _Bad(f"{_quoted(text)} is not an ISO 3166-1 two-letter country code{hint}")


def _accepted(choices: Mapping[str, str]) -> str:
    """'success (geslaagd, ok) or failure (mislukt, fout)'."""
    words: dict[str, list[str]] = {}
    for word, value in choices.items():
        words.setdefault(value, []).extend([word] if word != value else [])
    return " or ".join(f"{value} ({', '.join(other)})" if other else value for value, other in words.items())


def _to_enum(value: Any, fld: Field) -> str:
    text = _text(value)
    if text.lower() in fld.choices:
        return fld.choices[text.lower()]
    raise _Bad(f"{_quoted(text)} is not an accepted value: write {_accepted(fld.choices)}")


CONVERTERS: dict[Kind, Callable[[Any, Field], Any]] = {
    "text": _to_text,
    "date": _to_date,
    "moment": _to_moment,
    "bool": _to_bool,
    "country": _to_country,
    "enum": _to_enum,
}

# --- reading the file into records -------------------------------------------

Record = tuple[int, list[Any]]  # (row number as a spreadsheet shows it, cells)


@dataclass(frozen=True)
class _Table:
    records: list[Record]  # non-empty rows; the first is the header
    delimiter: str | None  # CSV only, to explain a value that spilled into the next column


def _is_blank(value: Any) -> bool:
    return _text(value) == ""


def _non_empty(rows: list[list[Any]]) -> list[Record]:
    return [(number, row) for number, row in enumerate(rows, 1) if not all(_is_blank(c) for c in row)]


def _file_error(file: str, message: str) -> RegisterError:
    return RegisterError([RegisterProblem(file, None, "-", message)])


def _decode(data: bytes, file: str) -> str:
    for encoding in ("utf-8-sig", "cp1252"):  # cp1252: what Dutch Excel writes for "CSV (gescheiden door lijstscheidingsteken)"
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _file_error(file, "not a text file: neither UTF-8 nor Windows-1252 (save it as CSV UTF-8 or XLSX)")


def _delimiter(text: str) -> str:
    """The delimiter that splits the header into the most columns; header names rarely hold ',' or ';'."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    return max(",;\t", key=lambda d: len(next(csv.reader([header], delimiter=d), [])))


def _read_csv(data: bytes, file: str) -> _Table:
    text = _decode(data, file)
    delimiter = _delimiter(text)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise _file_error(file, f"not readable as CSV: {exc}") from None
    return _Table(_non_empty(rows), delimiter)


def _read_xlsx(data: bytes, file: str) -> _Table:
    import openpyxl  # here, not at import: the command line starts without it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()  # some writers store a wrong size; read what is really there
            rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        finally:
            workbook.close()
    except Exception as exc:  # openpyxl raises zip, XML, key and value errors alike for a damaged file
        raise _file_error(file, f"not a readable XLSX workbook ({type(exc).__name__}: {str(exc)[:120]})") from None
    return _Table(_non_empty(rows), None)


def _read_table(data: bytes, file: str) -> _Table:
    if data[:4] == b"\xd0\xcf\x11\xe0" or file.lower().endswith(".xls"):
        raise _file_error(file, "the old Excel .xls format is not supported: save it as .xlsx or CSV")
    is_xlsx = file.lower().endswith((".xlsx", ".xlsm")) or data[:4] == b"PK\x03\x04"
    table = _read_xlsx(data, file) if is_xlsx else _read_csv(data, file)
    if not table.records:
        raise _file_error(file, "the file is empty: expected a header row and one row per entry")
    return table


# --- columns ------------------------------------------------------------------


@dataclass(frozen=True)
class _Columns:
    by_field: dict[str, int]  # field name -> cell index
    headers: list[str]  # header text as in the file, for messages
    ignored: list[str]


def _bind_columns(
    schema: RegisterSchema, header_row: int, header: list[Any], file: str, problems: list[RegisterProblem]
) -> _Columns:
    lookup = schema.header_lookup()
    headers = [_text(h) for h in header]
    by_field: dict[str, int] = {}
    ignored: list[str] = []
    for index, text in enumerate(headers):
        fld = lookup.get(normalise_header(text))
        if fld is None:
            if text:
                ignored.append(text)
        elif fld.name in by_field:
            first = by_field[fld.name]
            problems.append(
                RegisterProblem(
                    file,
                    header_row,
                    fld.name,
                    f"column appears twice: '{headers[first]}' (column {_column_letter(first)})"
                    f" and '{text}' (column {_column_letter(index)})",
                )
            )
        else:
            by_field[fld.name] = index
    found = ", ".join(_quoted(h) for h in headers[:30] if h) or "none"
    for fld in schema.fields:
        if fld.required and fld.name not in by_field:
            also = f" (also accepted: {', '.join(fld.aliases)})" if fld.aliases else ""
            problems.append(
                RegisterProblem(file, header_row, fld.name, f"required column is missing{also}; columns found: {found}")
            )
    return _Columns(by_field, headers, ignored)


def _tick_box_columns(schema: RegisterSchema, columns: _Columns, records: list[Record]) -> set[str]:
    """Bool columns filled in with 'x': there an empty cell means no."""
    ticked = set()
    for fld in schema.fields:
        index = columns.by_field.get(fld.name)
        if fld.kind == "bool" and index is not None:
            if any(index < len(cells) and _text(cells[index]).lower() == "x" for _, cells in records):
                ticked.add(fld.name)
    return ticked


# --- rows ---------------------------------------------------------------------


def _one_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


@dataclass
class _RowReader:
    file: str
    schema: RegisterSchema
    columns: _Columns
    tick_boxes: set[str]
    latest: date  # later dates are taken for typos
    delimiter: str | None
    problems: list[RegisterProblem] = field(default_factory=list)
    also_check: RowCheck | None = None

    def problem(self, row: int, column: str, message: str) -> None:
        self.problems.append(RegisterProblem(self.file, row, column, message))

    def row(self, number: int, cells: list[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for fld in self.schema.fields:
            index = self.columns.by_field.get(fld.name)
            if index is None:
                out[fld.name] = fld.default  # a missing required column is reported once, at the header
                continue
            raw = cells[index] if index < len(cells) else None
            out[fld.name] = self.cell(number, self.columns.headers[index], fld, raw)
        self.check_unheaded(number, cells)
        for check in (self.schema.check, self.also_check):
            for name, message in check(out) if check else ():
                self.problem(number, self._header_of(name), message)
        out["row"] = number
        return out

    def _header_of(self, name: str) -> str:
        index = self.columns.by_field.get(name)
        return self.columns.headers[index] if index is not None else name

    def cell(self, number: int, header: str, fld: Field, raw: Any) -> Any:
        if _is_blank(raw):
            if fld.name in self.tick_boxes:
                return False
            if fld.required:
                self.problem(number, header, "empty: a value is required")
            return fld.default
        try:
            value = CONVERTERS[fld.kind](raw, fld)
        except _Bad as bad:
            self.problem(number, header, str(bad))
            return None
        if fld.kind in ("date", "moment") and date.fromisoformat(value[:10]) > self.latest:
            self.problem(number, header, f"{_quoted(_text(raw))} is more than a year from today: a typo in the year?")
        return value

    def check_unheaded(self, number: int, cells: list[Any]) -> None:
        """A value with no header over it: in a CSV mostly a delimiter inside an unquoted value."""
        for index, value in enumerate(cells):
            if _is_blank(value) or (index < len(self.columns.headers) and self.columns.headers[index]):
                continue
            hint = f"; does a value in this row contain '{self.delimiter}' without quotes around it?" if self.delimiter else ""
            self.problem(
                number, f"column {_column_letter(index)}", f"{_quoted(_text(value))} is in a column without a header{hint}"
            )


def parse_register(
    name: str, data: bytes, filename: str, *, today: date | None = None, also_check: RowCheck | None = None
) -> dict[str, Any]:
    """The register's rows, typed; raises RegisterError with every problem in the file. ALSO_CHECK: what the
    caller knows and the parser does not (the catalogue's control ids), reported with the rest."""
    schema = REGISTERS.get(name)
    if schema is None:
        raise _file_error(filename, f"unknown register '{name}'; known registers: {', '.join(sorted(REGISTERS))}")
    table = _read_table(data, filename)
    (header_row, header), records = table.records[0], table.records[1:]
    problems: list[RegisterProblem] = []
    columns = _bind_columns(schema, header_row, header, filename, problems)
    today = today or datetime.now(AMSTERDAM).date()
    reader = _RowReader(
        filename, schema, columns, _tick_box_columns(schema, columns, records), _one_year_after(today), table.delimiter, problems,
        also_check,
    )  # fmt: skip
    rows = [reader.row(number, cells) for number, cells in records]
    if problems:
        raise RegisterError(problems)
    return {"register": name, "file": filename, "rows": rows, "ignored_columns": columns.ignored}
