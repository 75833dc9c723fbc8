"""Register imports (CSV/XLSX kept by HR and management) into the rows of controls/EVIDENCE.md."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditpack.collectors.parsers.registers import (
    REGISTERS,
    RegisterError,
    RegisterProblem,
    country_codes,
    normalise_header,
    parse_register,
)

TODAY = date(2026, 6, 1)  # "a year from today" is 2027-06-01 in every test
EVIDENCE_MD = Path(__file__).resolve().parent.parent / "controls" / "EVIDENCE.md"


def parse(name: str, data: bytes | str, filename: str = "register.csv") -> dict:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return parse_register(name, raw, filename, today=TODAY)


def problems(name: str, data: bytes | str, filename: str = "register.csv") -> list[RegisterProblem]:
    with pytest.raises(RegisterError) as caught:
        parse(name, data, filename)
    return caught.value.problems


def only_problem(name: str, data: bytes | str, filename: str = "register.csv") -> RegisterProblem:
    found = problems(name, data, filename)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- the contract --------------------------------------------------------------


def evidence_md_registers() -> dict[str, list[tuple[str, bool, str]]]:
    """register -> [(field, optional, type text)] from the Registers table of EVIDENCE.md."""
    table = {}
    for name, cells in re.findall(r"^\| `register\.(\w+)` \| (.+) \|$", EVIDENCE_MD.read_text(), re.M):
        table[name] = [
            (f, bool(q), t)
            for f, q, t in re.findall(r"`(\w+)(\??)`(?: \(([^)]*)\))?", cells)
            if f not in ("in", "out", "success", "failure")
        ]
    return table


def test_schema_matches_evidence_md():
    documented = evidence_md_registers()
    assert sorted(documented) == sorted(REGISTERS)
    for name, fields in documented.items():
        schema = REGISTERS[name].fields
        assert [f.name for f in schema] == [f for f, _, _ in fields], name
        for fld, (_, optional, kind_text) in zip(schema, fields, strict=False):
            assert (not fld.required and fld.default is None) == optional, (name, fld.name)
            expected = (
                "date"
                if kind_text == "date"
                else "moment"
                if kind_text == "moment"
                else "bool"
                if kind_text.startswith("bool")
                else "country"
                if "alpha-2" in kind_text
                else "enum"
                if kind_text.startswith("`")
                else "text"
            )
            assert fld.kind == expected, (name, fld.name, kind_text)
    assert REGISTERS["subprocessors"].fields[4].default is True  # in_use: "bool, default true"


def test_country_codes_come_from_a_maintained_list():
    codes = country_codes()
    assert {"NL", "DE", "IE", "GB", "US", "BE"} <= codes
    assert "UK" not in codes and "EU" not in codes
    assert len(codes) >= 245


def test_header_normalisation():
    assert normalise_header("  Laatste-Werkdag ") == "laatste_werkdag"
    assert normalise_header("Klant geïnformeerd op") == "klant_geinformeerd_op"
    assert normalise_header("badge  _ ID") == "badge_id"


# --- every register from a CSV ---------------------------------------------------

CASES: dict[str, tuple[str, list[dict]]] = {
    "hr_leavers": (
        "name,account,last_working_day,department\n"
        "Piet de Vries,pdevries,2026-04-30,Klantenservice\n"
        "Anna Bakker,abakker,15-05-2026,\n",
        [
            {
                "name": "Piet de Vries",
                "account": "pdevries",
                "last_working_day": "2026-04-30",
                "department": "Klantenservice",
                "row": 2,
            },
            {"name": "Anna Bakker", "account": "abakker", "last_working_day": "2026-05-15", "department": None, "row": 3},
        ],
    ),
    "nda": (
        "name,account,signed_on\nPiet de Vries,pdevries,2024-01-15\nAnna Bakker,abakker,1/2/2025\n",
        [
            {"name": "Piet de Vries", "account": "pdevries", "signed_on": "2024-01-15", "row": 2},
            {"name": "Anna Bakker", "account": "abakker", "signed_on": "2025-02-01", "row": 3},
        ],
    ),
    "badges": (
        "badge_id,holder,account,role,server_room_access,blocked_on,returned_on\n"
        "1001,Piet de Vries,pdevries,ICT-beheer,ja,2026-04-30,02-05-2026\n"
        "1002,Anna Bakker,,agent,Nee,,\n",
        [
            {
                "badge_id": "1001",
                "holder": "Piet de Vries",
                "account": "pdevries",
                "role": "ICT-beheer",
                "server_room_access": True,
                "blocked_on": "2026-04-30",
                "returned_on": "2026-05-02",
                "row": 2,
            },
            {
                "badge_id": "1002",
                "holder": "Anna Bakker",
                "account": None,
                "role": "agent",
                "server_room_access": False,
                "blocked_on": None,
                "returned_on": None,
                "row": 3,
            },
        ],
    ),
    "badge_log": (
        "timestamp,badge_id,door,direction\n"
        "2026-05-04 08:59,1001,serverruimte,in\n"
        "2026-05-04T09:30:00Z,1001,serverruimte,UIT\n"
        "04-01-2026 17:05,1002,hoofdingang,out\n",
        [
            {"timestamp": "2026-05-04T08:59:00+02:00", "badge_id": "1001", "door": "serverruimte", "direction": "in", "row": 2},
            {"timestamp": "2026-05-04T09:30:00Z", "badge_id": "1001", "door": "serverruimte", "direction": "out", "row": 3},
            {"timestamp": "2026-01-04T17:05:00+01:00", "badge_id": "1002", "door": "hoofdingang", "direction": "out", "row": 4},
        ],
    ),
    "breaches": (
        "breach_id,detected_at,customer_notified_at,reported_to_authority,description\n"
        "DL-2026-01,2026-02-10 14:00,11-02-2026 09:15,yes,Mail naar verkeerde klant\n"
        "DL-2026-02,2026-05-20T10:00:00+02:00,,no,\n",
        [
            {
                "breach_id": "DL-2026-01",
                "detected_at": "2026-02-10T14:00:00+01:00",
                "customer_notified_at": "2026-02-11T09:15:00+01:00",
                "reported_to_authority": True,
                "description": "Mail naar verkeerde klant",
                "row": 2,
            },
            {
                "breach_id": "DL-2026-02",
                "detected_at": "2026-05-20T10:00:00+02:00",
                "customer_notified_at": None,
                "reported_to_authority": False,
                "description": None,
                "row": 3,
            },
        ],
    ),
    "subprocessors": (
        "name,service,agreement_signed_on,location_country,in_use,last_reviewed_on\n"
        "Telco BV,telefonie,2023-03-01,nl,,2026-01-10\n"
        "CloudCo,opslag,,IE,false,\n",
        [
            {
                "name": "Telco BV",
                "service": "telefonie",
                "agreement_signed_on": "2023-03-01",
                "location_country": "NL",
                "in_use": True,
                "last_reviewed_on": "2026-01-10",
                "row": 2,
            },
            {
                "name": "CloudCo",
                "service": "opslag",
                "agreement_signed_on": None,
                "location_country": "IE",
                "in_use": False,
                "last_reviewed_on": None,
                "row": 3,
            },
        ],
    ),
    "processing_locations": (
        "system,location_country,notes\nCRM,NL,\nBackup,de,tweede locatie\n",
        [
            {"system": "CRM", "location_country": "NL", "notes": None, "row": 2},
            {"system": "Backup", "location_country": "DE", "notes": "tweede locatie", "row": 3},
        ],
    ),
    "restore_tests": (
        "tested_on,server,result,performed_by,notes\n2026-03-15,srv-db01,geslaagd,Jan,\n2026-04-15,srv-fs01,FOUT,,schijf vol\n",
        [
            {
                "tested_on": "2026-03-15",
                "server": "srv-db01",
                "result": "success",
                "performed_by": "Jan",
                "notes": None,
                "row": 2,
            },
            {
                "tested_on": "2026-04-15",
                "server": "srv-fs01",
                "result": "failure",
                "performed_by": None,
                "notes": "schijf vol",
                "row": 3,
            },
        ],
    ),
    "backup_reports": (
        "sent_on,recipient,all_succeeded\n2026-05-01,directie@example.nl,waar\n2026-05-08,,\n",
        [
            {"sent_on": "2026-05-01", "recipient": "directie@example.nl", "all_succeeded": True, "row": 2},
            {"sent_on": "2026-05-08", "recipient": None, "all_succeeded": None, "row": 3},
        ],
    ),
    "continuity_reviews": (
        "reviewed_on,reviewer,organisation,result\n2026-02-01,M. de Boer,Contactcenter BV,akkoord\n2026-05-01,K. Smit,,\n",
        [
            {
                "reviewed_on": "2026-02-01",
                "reviewer": "M. de Boer",
                "organisation": "Contactcenter BV",
                "result": "akkoord",
                "row": 2,
            },
            {"reviewed_on": "2026-05-01", "reviewer": "K. Smit", "organisation": None, "result": None, "row": 3},
        ],
    ),
    "generator_tests": (
        "tested_on,result,notes\n2026-01-20,ok,30 min op vol vermogen\n2026-04-20,mislukt,startaccu leeg\n",
        [
            {"tested_on": "2026-01-20", "result": "success", "notes": "30 min op vol vermogen", "row": 2},
            {"tested_on": "2026-04-20", "result": "failure", "notes": "startaccu leeg", "row": 3},
        ],
    ),
    "access_reviews": (
        "group,reviewed_on,reviewer\nGG-Klantdata,2026-03-31,M. de Boer\n",
        [{"group": "GG-Klantdata", "reviewed_on": "2026-03-31", "reviewer": "M. de Boer", "row": 2}],
    ),
    "management_responses": (
        "Maatregel;Onderwerp;Datum;t/m;Oorzaak;Actie;Eigenaar;Hersteld op;Hertestdatum;Resultaat hertest\n"
        "T-BAK-1;fs01;10-03-2026;12-03-2026;schijf vol;opgeschoond;ICT;13-03-2026;20-03-2026;ok\n",
        [
            {
                "control": "T-BAK-1", "subject": "fs01", "date": "2026-03-10", "until": "2026-03-12", "cause": "schijf vol",
                "corrective_action": "opgeschoond", "owner": "ICT", "fixed_on": "2026-03-13", "retest_on": "2026-03-20",
                "retest_result": "success", "row": 2,
            }
        ],
    ),
}  # fmt: skip


def test_every_register_has_a_case():
    assert sorted(CASES) == sorted(REGISTERS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_register_parses_from_csv(name, tmp_path):
    text, expected = CASES[name]
    path = tmp_path / f"{name}.csv"
    path.write_text(text, encoding="utf-8")
    result = parse(name, path.read_bytes(), path.name)
    assert result == {"register": name, "file": f"{name}.csv", "rows": expected, "ignored_columns": []}


@pytest.mark.parametrize("name", sorted(CASES))
def test_register_with_only_a_header_has_no_rows(name):
    header = CASES[name][0].splitlines()[0]
    assert parse(name, header + "\n")["rows"] == []


def test_unknown_columns_are_listed_not_parsed():
    result = parse("nda", "Naam,Opmerking,account,signed_on,,Paraaf\nPiet,nieuw,pdevries,2024-01-15,,PdV\n")
    assert result["ignored_columns"] == ["Opmerking", "Paraaf"]
    assert result["rows"] == [{"name": "Piet", "account": "pdevries", "signed_on": "2024-01-15", "row": 2}]


def test_empty_rows_are_skipped_and_numbers_stay_as_the_file_shows():
    result = parse("access_reviews", "\ngroup,reviewed_on,reviewer\n\nGG-A,2026-03-31,Jan\n , , \nGG-B,2026-04-30,Jan\n")
    assert [(r["group"], r["row"]) for r in result["rows"]] == [("GG-A", 4), ("GG-B", 6)]


def test_quoted_value_with_newline_counts_as_one_row():
    result = parse("processing_locations", 'system,location_country,notes\nCRM,NL,"twee\nregels"\nERP,BE,\n')
    assert [(r["system"], r["notes"], r["row"]) for r in result["rows"]] == [("CRM", "twee\nregels", 2), ("ERP", None, 3)]


def test_utf8_with_bom_and_crlf():
    data = "\ufeffname,account,signed_on\r\nJosé Müller,jmuller,2024-01-15\r\n".encode("utf-8")
    assert parse("nda", data)["rows"] == [{"name": "José Müller", "account": "jmuller", "signed_on": "2024-01-15", "row": 2}]


def test_dutch_excel_csv_semicolons_cp1252_and_dd_mm_yyyy():
    text = (
        "Naam;Gebruikersnaam;Laatste werkdag;Afdeling\r\n"
        "Jansen-Müller;jmuller;30-04-2026;Beëindigd – Klantenservice\r\n"
        '"de Vries; P.";pdevries;1-5-2026;"Planning, roosters"\r\n'
        ";;;\r\n"
    )
    result = parse("hr_leavers", text.encode("cp1252"), "uitdienst.csv")
    assert result["rows"] == [
        {
            "name": "Jansen-Müller",
            "account": "jmuller",
            "last_working_day": "2026-04-30",
            "department": "Beëindigd – Klantenservice",
            "row": 2,
        },
        {
            "name": "de Vries; P.",
            "account": "pdevries",
            "last_working_day": "2026-05-01",
            "department": "Planning, roosters",
            "row": 3,
        },
    ]


def test_tab_separated_export():
    assert parse("nda", "name\taccount\tsigned_on\nPiet\tpdevries\t15/01/2024\n")["rows"][0]["signed_on"] == "2024-01-15"


def test_dutch_headers_everywhere():
    text = (
        "Incident-ID;Ontdekt op;Klant geïnformeerd op;Gemeld bij AP;Omschrijving\n"
        "DL-7;12-03-2026 16:45;13-03-2026 10:00;Nee;USB-stick kwijt\n"
    )
    row = parse("breaches", text)["rows"][0]
    assert row == {
        "breach_id": "DL-7",
        "detected_at": "2026-03-12T16:45:00+01:00",
        "customer_notified_at": "2026-03-13T10:00:00+01:00",
        "reported_to_authority": False,
        "description": "USB-stick kwijt",
        "row": 2,
    }


# --- XLSX ----------------------------------------------------------------------


def test_xlsx_with_real_dates_and_dutch_headers():
    data = xlsx(
        [
            [
                "Pasnummer",
                "Pashouder",
                "Gebruikersnaam",
                "Rol",
                "Toegang serverruimte",
                "Geblokkeerd op",
                "Ingeleverd op",
                "Opmerking",
            ],
            [1001, "Jansen-Müller", "jmuller", "ICT-beheer", True, datetime(2026, 4, 30), date(2026, 5, 2), "sleutel ook"],
            [],
            [1002.0, "Bakker", None, "agent", "nee", None, "03-05-2026", None],
        ]
    )
    result = parse("badges", data, "passen.xlsx")
    assert result["ignored_columns"] == ["Opmerking"]
    assert result["rows"] == [
        {
            "badge_id": "1001",
            "holder": "Jansen-Müller",
            "account": "jmuller",
            "role": "ICT-beheer",
            "server_room_access": True,
            "blocked_on": "2026-04-30",
            "returned_on": "2026-05-02",
            "row": 2,
        },
        {
            "badge_id": "1002",
            "holder": "Bakker",
            "account": None,
            "role": "agent",
            "server_room_access": False,
            "blocked_on": None,
            "returned_on": "2026-05-03",
            "row": 4,
        },
    ]


def test_xlsx_moments_are_dutch_local_time():
    data = xlsx(
        [
            ["Tijdstip", "Pasnummer", "Deur", "Richting"],
            [datetime(2026, 7, 1, 8, 0), "1001", "serverruimte", "in"],
            [datetime(2026, 1, 15, 17, 30), "1001", "serverruimte", "uit"],
        ]
    )
    assert [r["timestamp"] for r in parse("badge_log", data, "log.xlsx")["rows"]] == [
        "2026-07-01T08:00:00+02:00",
        "2026-01-15T17:30:00+01:00",
    ]


def test_xlsx_found_by_its_zip_signature_whatever_the_name():
    data = xlsx([["group", "reviewed_on", "reviewer"], ["GG-A", datetime(2026, 3, 31), "Jan"]])
    assert parse("access_reviews", data, "export")["rows"][0]["reviewed_on"] == "2026-03-31"


def test_xlsx_problems_name_rows_and_columns():
    data = xlsx([["Groep", "Datum", "Beoordelaar"], ["GG-A", "31-02-2026", "Jan"], ["GG-B", datetime(2026, 3, 1), None]])
    assert [str(p) for p in problems("access_reviews", data, "reviews.xlsx")] == [
        "reviews.xlsx:row 2: Datum: '31-02-2026' is not a date on the calendar",
        "reviews.xlsx:row 3: Beoordelaar: empty: a value is required",
    ]


# --- moments and summer time -------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-07-01 12:00", "2026-07-01T12:00:00+02:00"),  # summer time
        ("2026-01-15 12:00", "2026-01-15T12:00:00+01:00"),  # winter time
        ("01-07-2026 12:00:30", "2026-07-01T12:00:30+02:00"),
        ("15/01/2026 9:05", "2026-01-15T09:05:00+01:00"),
        ("2026-07-01T12:00:00+00:00", "2026-07-01T12:00:00Z"),
        ("2026-07-01T12:00:00-04:00", "2026-07-01T12:00:00-04:00"),  # an offset the source gives is kept
        ("2026-03-29 01:59", "2026-03-29T01:59:00+01:00"),  # just before the clocks go forward
        ("2026-03-29 03:00", "2026-03-29T03:00:00+02:00"),
        ("2026-10-25 02:30", "2026-10-25T02:30:00+02:00"),  # happens twice: the first occurrence, still summer time
        ("2026-10-25 02:30+01:00", "2026-10-25T02:30:00+01:00"),  # the second one, when the offset says so
        ("2026-10-25 03:00", "2026-10-25T03:00:00+01:00"),
    ],
)
def test_moments(written, expected):
    row = parse("badge_log", f"timestamp,badge_id,door,direction\n{written},1,d,in\n")["rows"][0]
    assert row["timestamp"] == expected


@pytest.mark.parametrize("written", ["2026-03-29 02:30", "29-03-2026 02:00", "2026-03-29T02:59:59"])
def test_time_skipped_by_summer_time_is_refused(written):
    found = only_problem("badge_log", f"timestamp,badge_id,door,direction\n{written},1,d,in\n")
    assert (found.row, found.column) == (2, "timestamp")
    assert found.message.startswith(f"'{written}' does not exist in Dutch time")


# --- bools ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("yes", True),
        ("No", False),
        ("JA", True),
        ("nee", False),
        ("true", True),
        ("FALSE", False),
        ("Waar", True),
        ("onwaar", False),
        ("1", True),
        ("0", False),
        ("x", True),
        ("X", True),
    ],
)
def test_bool_words(word, value):
    assert parse("backup_reports", f"sent_on,all_succeeded\n2026-05-01,{word}\n")["rows"][0]["all_succeeded"] is value


def test_tick_box_column_empty_means_no():
    rows = parse("badges", "badge_id,holder,role,server_room_access\n1,A,ict,x\n2,B,agent,\n")["rows"]
    assert [r["server_room_access"] for r in rows] == [True, False]


def test_in_use_defaults_to_true_unless_ticked_elsewhere():
    missing = parse("subprocessors", "name,service,location_country\nTelco,telefonie,NL\n")["rows"][0]
    assert missing["in_use"] is True
    ticks = parse("subprocessors", "name,service,location_country,in gebruik\nA,x,NL,x\nB,y,NL,\n")["rows"]
    assert [r["in_use"] for r in ticks] == [True, False]


# --- mistakes in rows ----------------------------------------------------------------

LEAVERS = "naam,account,laatste werkdag\nGoed,goed,2026-04-30\n"
BADGES = "badge_id,holder,role,server_room_access\n1,Goed,agent,ja\n"
LOG = "timestamp,badge_id,door,direction\n2026-05-04 09:00,1,deur,in\n"
PLACES = "system,land\nCRM,NL\n"
RESTORES = "tested_on,server,result\n2026-03-01,srv,ok\n"

MISTAKES = [
    # (register, file text, row, column, message fragment)
    ("hr_leavers", LEAVERS + "Piet,,2026-04-30\n", 3, "account", "empty: a value is required"),
    (
        "hr_leavers",
        LEAVERS + "Piet,p,gisteren\n",
        3,
        "laatste werkdag",
        "'gisteren' is not a date: write YYYY-MM-DD or dd-mm-yyyy",
    ),
    ("hr_leavers", LEAVERS + "\nPiet,p,31-02-2026\n", 4, "laatste werkdag", "'31-02-2026' is not a date on the calendar"),
    ("hr_leavers", LEAVERS + "Piet,p,30-04-26\n", 3, "laatste werkdag", "'30-04-26' is not a date"),
    (
        "hr_leavers",
        LEAVERS + "Piet,p,30-04-2062\n",
        3,
        "laatste werkdag",
        "'30-04-2062' is more than a year from today: a typo in the year?",
    ),
    (
        "hr_leavers",
        LEAVERS + "Piet,p,2026-04-30,Sales\n",
        3,
        "column D",
        "'Sales' is in a column without a header; does a value in this row contain ',' without quotes around it?",
    ),
    ("badge_log", LOG + "morgen om 9,1,deur,in\n", 3, "timestamp", "'morgen om 9' is not a date with a time"),
    ("badge_log", LOG + "2026-05-04,1,deur,in\n", 3, "timestamp", "'2026-05-04' is not a date with a time"),
    ("badge_log", LOG + "2026-03-29 02:15,1,deur,in\n", 3, "timestamp", "'2026-03-29 02:15' does not exist in Dutch time"),
    ("badge_log", LOG + "2028-05-04 09:00,1,deur,in\n", 3, "timestamp", "is more than a year from today"),
    (
        "badge_log",
        LOG + "2026-05-04 10:00,1,deur,rond\n",
        3,
        "direction",
        "'rond' is not an accepted value: write in or out (uit)",
    ),
    ("badges", BADGES + "2,Piet,ict,misschien\n", 3, "server_room_access", "'misschien' is not yes or no"),
    (
        "processing_locations",
        PLACES + "ERP,XX\n",
        3,
        "land",
        "'XX' is not an ISO 3166-1 two-letter country code (e.g. NL, DE, IE)",
    ),
    (
        "processing_locations",
        PLACES + "ERP,UK\n",
        3,
        "land",
        "'UK' is not an ISO 3166-1 two-letter country code; did you mean GB?",
    ),
    ("processing_locations", PLACES + "ERP,Nederland\n", 3, "land", "'Nederland' is not an ISO 3166-1 two-letter country code"),
    (
        "restore_tests",
        RESTORES + "2026-04-01,srv,half\n",
        3,
        "result",
        "'half' is not an accepted value: write success (geslaagd, ok) or failure (mislukt, fout)",
    ),
]


@pytest.mark.parametrize(("name", "text", "row", "column", "fragment"), MISTAKES)
def test_row_mistake(name, text, row, column, fragment):
    found = only_problem(name, text, "reg.csv")
    assert (found.file, found.row, found.column) == ("reg.csv", row, column)
    assert fragment in found.message


def test_long_cell_values_are_shortened_in_messages():
    found = only_problem("processing_locations", PLACES + "ERP," + "N" * 500 + "\n")
    assert len(found.message) < 150 and "NNN...'" in found.message


def test_all_mistakes_in_a_file_are_reported_together():
    text = (
        "Naam;Gebruikersnaam;Laatste werkdag;Afdeling\n"
        "Goed;goed;30-04-2026;\n"
        ";leeg;30-04-2026;\n"
        "Piet;piet;30-13-2026;\n"
        "\n"
        "Anna;;2062-01-01;Sales;extra\n"
    )
    found = problems("hr_leavers", text.encode("cp1252"), "leavers.csv")
    assert [str(p) for p in found] == [
        "leavers.csv:row 3: Naam: empty: a value is required",
        "leavers.csv:row 4: Laatste werkdag: '30-13-2026' is not a date on the calendar",
        "leavers.csv:row 6: Gebruikersnaam: empty: a value is required",
        "leavers.csv:row 6: Laatste werkdag: '2062-01-01' is more than a year from today: a typo in the year?",
        "leavers.csv:row 6: column E: 'extra' is in a column without a header;"
        " does a value in this row contain ';' without quotes around it?",
    ]


def test_header_and_row_mistakes_together():
    found = problems("breaches", "id,naam,ontdekt op,omschrijving,Omschrijving\nDL-1,x,gisteren,a,b\n")
    assert [(p.row, p.column) for p in found] == [(1, "description"), (1, "reported_to_authority"), (2, "ontdekt op")]
    assert found[0].message == "column appears twice: 'omschrijving' (column D) and 'Omschrijving' (column E)"


# --- mistakes in the file as a whole -------------------------------------------------------


def test_missing_required_column_names_it_and_what_was_found():
    found = only_problem("hr_leavers", "naam;gebruikersnaam;datum\nPiet;p;2026-04-30\n", "l.csv")
    assert (found.row, found.column) == (1, "last_working_day")
    assert found.message == (
        "required column is missing (also accepted: laatste_werkdag, uit_dienst, uitdienstdatum, datum_uit_dienst);"
        " columns found: 'naam', 'gebruikersnaam', 'datum'"
    )


def test_duplicate_column():
    found = only_problem("nda", "naam,name,account,signed_on\nA,B,a,2024-01-01\n")
    assert (found.row, found.column) == (1, "name")
    assert found.message == "column appears twice: 'naam' (column A) and 'name' (column B)"


def test_unknown_register_lists_the_known_ones():
    found = only_problem("leavers", "name\n", "x.csv")
    assert found.row is None
    assert str(found).startswith(
        "x.csv: -: unknown register 'leavers'; known registers: access_reviews, backup_reports, badge_log,"
    )


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", b";;;\n;;\n", "\ufeff".encode("utf-8")])
def test_empty_file(data):
    assert str(only_problem("nda", data, "e.csv")) == "e.csv: -: the file is empty: expected a header row and one row per entry"


def test_empty_xlsx():
    found = only_problem("nda", xlsx([]), "e.xlsx")
    assert "the file is empty" in found.message


@pytest.mark.parametrize("data", [b"name,account\n", b"PK\x03\x04 not really a zip", b""])
def test_unreadable_xlsx(data):
    found = only_problem("nda", data, "broken.xlsx")
    assert found.row is None and found.message.startswith("not a readable XLSX workbook")


def test_zip_without_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert only_problem("nda", buffer.getvalue(), "x.xlsx").message.startswith("not a readable XLSX workbook")


def test_old_xls_is_named():
    found = only_problem("nda", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "oud.xls")
    assert found.message == "the old Excel .xls format is not supported: save it as .xlsx or CSV"


def test_not_text():
    found = only_problem("nda", b"name,account\n\x81\x8d\x8f\x90\x9d\n")  # bytes neither UTF-8 nor Windows-1252 has
    assert found.message.startswith("not a text file")


def test_problem_text():
    assert str(RegisterProblem("r.csv", 7, "Naam", "empty")) == "r.csv:row 7: Naam: empty"
    assert str(RegisterProblem("r.csv", None, "-", "the file is empty")) == "r.csv: -: the file is empty"
    error = RegisterError([RegisterProblem("r.csv", 7, "b", "m2"), RegisterProblem("r.csv", 2, "a", "m1")])
    assert str(error) == "r.csv:row 2: a: m1\nr.csv:row 7: b: m2"


# --- fuzz ------------------------------------------------------------------------------------

NAMES = st.sampled_from(sorted(REGISTERS))


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=3000), filename=st.sampled_from(["r.csv", "r.xlsx", "r", "r.xls"]), name=NAMES)
def test_fuzz_arbitrary_bytes_raise_only_register_error(data, filename, name):
    try:
        result = parse_register(name, data, filename, today=TODAY)
    except RegisterError as exc:
        assert exc.problems and all(isinstance(p, RegisterProblem) for p in exc.problems)
    else:
        assert set(result) == {"register", "file", "rows", "ignored_columns"}


CELL = st.one_of(
    st.sampled_from(
        [
            "",
            "x",
            "ja",
            "nee",
            "NL",
            "uk",
            "in",
            "uit",
            "ok",
            "fout",
            "2026-05-01",
            "31-02-2026",
            "2026-03-29 02:30",
            "2026-10-25 02:30",
            "2026-07-01T10:00Z",
            "9999-12-31 23:59",
            "0001-01-01 00:00",
            "01-01-0001 00:30",
            '"',
            '";"',
            "\r",
            "\x00",
        ]
    ),
    st.text(max_size=12),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=NAMES,
    rows=st.lists(st.lists(CELL, max_size=8), max_size=6),
    delimiter=st.sampled_from([",", ";"]),
    encoding=st.sampled_from(["utf-8", "cp1252"]),
)
def test_fuzz_register_shaped_csv(name, rows, delimiter, encoding):
    header = delimiter.join(f.name for f in REGISTERS[name].fields)
    text = "\n".join([header, *(delimiter.join(row) for row in rows)])
    try:
        result = parse_register(name, text.encode(encoding, errors="replace"), "r.csv", today=TODAY)
    except RegisterError as exc:
        assert all(isinstance(p, RegisterProblem) for p in exc.problems)
    else:
        for row in result["rows"]:
            assert set(row) == {f.name for f in REGISTERS[name].fields} | {"row"}


GOOD_XLSX = xlsx([["group", "reviewed_on", "reviewer"], ["GG-A", datetime(2026, 3, 31), "Jan"]])


@settings(max_examples=100, deadline=None)
@given(flips=st.lists(st.tuples(st.integers(0, len(GOOD_XLSX) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_fuzz_damaged_xlsx(flips):
    data = bytearray(GOOD_XLSX)
    for position, value in flips:
        data[position] = value
    try:
        parse_register("access_reviews", bytes(data), "r.xlsx", today=TODAY)
    except RegisterError:
        pass
