"""The report's auditor formats: the Excel workbook, the JSON with its schema, OSCAL and OCSF.

One synthetic year (tests/year_store.py) is built once for the module; its known facts are
looked for in every format: fs01's failed backup on 2026-03-10 (a deviation of T-BAK-1),
fs01's missed backup on 2026-07-01 (a deviation too: the listings cover that night and show no
run), and dc01's failure on 2026-11-02 covered by the exception of the "ICT manager" until 2027-03-31.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jsonschema import Draft202012Validator
from openpyxl import load_workbook
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from trestle.oscal import OSCAL_VERSION
from trestle.oscal.assessment_results import AssessmentResults

from auditpack.annual import write_formats
from auditpack.controls.evaluate import evaluate_controls
from auditpack.controls.model import load_catalogue
from auditpack.controls.profiles import Profile
from auditpack.jobs import run_rows
from auditpack.reports.document import build_document
from auditpack.reports.formats import FORMAT_NAMES, REPORT_FORMATS
from auditpack.reports.i18n import EXPORT_STRINGS, LANGS, STRINGS, WORKBOOK_STRINGS
from auditpack.reports.identifiers import NAMESPACE
from auditpack.reports.json_export import DocumentInvalid, load_schema, validate_document, write_json
from auditpack.reports.ocsf import to_ocsf, write_ocsf
from auditpack.reports.oscal import to_oscal, write_oscal
from auditpack.reports.oscal_plan import build_catalogue, build_plan, parameter_id
from auditpack.reports.workbook import write_workbook
from auditpack.sampling import draw_sample
from auditpack.signing import fingerprint
from oscal_chain import load_chain, resolved_catalogue, unresolved
from year_store import EXCEPTED_BACKUP, FAILED_BACKUP, MISSING_BACKUP, STALE_AV, build_year

GENERATED = "2027-01-20T09:30:00.000000Z"
PROFILE = Profile(name="zorg-2026", processor="Beheer & Co B.V.", customer="Zorggroep Noord", agreement="VWO-2024-17")


@pytest.fixture(scope="module")
def year_docs(tmp_path_factory):
    """The Dutch document as the defaults make it; the English one signed, with a profile and a sample."""
    year = build_year(tmp_path_factory.mktemp("year") / "ev")
    results = evaluate_controls(year.store, year.period, exceptions=year.exceptions, today=date(2027, 1, 20))
    catalogue = load_catalogue()
    runs = run_rows(year.store, year.period)
    bak1 = next(r for r in results if r.control_id == "T-BAK-1")
    sample = draw_sample(bak1, "daily", year.period, size=5, seed=2026, drawn_by="A. Auditor")
    nl = build_document(results, catalogue, year.period, runs, "nl", generated_at=GENERATED)
    en = build_document(
        results,
        catalogue,
        year.period,
        runs,
        "en",
        profile=PROFILE,
        signing_fingerprint=fingerprint(Ed25519PrivateKey.generate()),
        samples=[sample],
        generated_at=GENERATED,
    )
    return {"nl": nl, "en": en, "sample": sample, "year": year}


@pytest.fixture(scope="module")
def workbooks(year_docs, tmp_path_factory):
    out = tmp_path_factory.mktemp("workbooks")
    return {lang: write_workbook(year_docs[lang], out / f"report-{lang}.xlsx") for lang in ("nl", "en")}


@pytest.fixture(scope="module")
def wb_nl(workbooks):
    return load_workbook(workbooks["nl"])


@pytest.fixture(scope="module")
def wb_en(workbooks):
    return load_workbook(workbooks["en"])


@pytest.fixture
def small_doc(year_docs):
    """Two controls of the Dutch document (one with findings, one not applicable), still consistent: fast to validate."""
    doc = copy.deepcopy({k: v for k, v in year_docs["nl"].items() if k != "controls"})
    doc["controls"] = copy.deepcopy([c for c in year_docs["nl"]["controls"] if c["id"] in ("T-BAK-1", "T-TLS")])
    counted = Counter(c["status"] for c in doc["controls"])
    doc["summary"] = {status: counted.get(status, 0) for status in doc["summary"]}
    validate_document(doc)
    return doc


def control(doc: dict, control_id: str) -> dict:
    return next(c for c in doc["controls"] if c["id"] == control_id)


def table(ws, header_row: int) -> list[dict]:
    """The rows under a header row as dicts, up to the first empty row."""
    names = [c.value for c in ws[header_row]]
    rows = []
    for values in ws.iter_rows(min_row=header_row + 1, values_only=True):
        if all(v is None for v in values):
            break
        rows.append(dict(zip(names, values, strict=False)))
    return rows


def header_row(ws) -> int:
    """The header of a sheet's table is the row just above the frozen pane."""
    return ws[ws.freeze_panes].row - 1


# -- workbook ---------------------------------------------------------------------------------


def test_known_deviations_are_on_the_control_sheet_with_real_dates(wb_nl):
    ws = wb_nl["T-BAK-1"]
    rows = table(ws, header_row(ws))
    deviation = [r for r in rows if r["Soort"] == "Afwijking"]
    assert [(r["Object"], r["Datum"]) for r in deviation] == [
        (FAILED_BACKUP[0], datetime(2026, 3, 10)),
        (MISSING_BACKUP[0], datetime(2026, 7, 1)),
    ]
    assert deviation[0]["Code"] == "bak1.failed" and "hersteld" in deviation[0]["Bevinding"]
    assert deviation[1]["Code"] == "bak1.missed" and "geen back-up gemaakt" in deviation[1]["Bevinding"]
    assert deviation[0]["Bewijsstukken"] and deviation[1]["Bewijsstukken"]  # the item ids behind them
    assert [r for r in rows if r["Soort"] == "Niet aangetoond"] == []  # every night of the year is covered
    cell = next(c for c in ws["C"] if c.value == datetime(2026, 3, 10))
    assert cell.is_date and cell.number_format == "yyyy-mm-dd"  # a date Excel can sort, not text


def test_excepted_item_shows_exception_owner_and_expiry(wb_nl):
    ws = wb_nl["T-BAK-1"]
    [row] = [r for r in table(ws, header_row(ws)) if r["Soort"] == "Uitgezonderd"]
    assert (row["Object"], row["Datum"]) == (EXCEPTED_BACKUP[0], datetime(2026, 11, 2))
    assert row["Uitzondering (reikwijdte)"] == "dc01"
    assert row["Eigenaar"] == "ICT manager"
    assert row["Vervalt"] == datetime(2027, 3, 31)
    ws = wb_nl["Uitzonderingen"]
    exceptions = table(ws, header_row(ws))
    [bak] = [r for r in exceptions if r["Maatregel"] == "T-BAK-1"]
    assert (bak["Reikwijdte"], bak["Eigenaar"], bak["Goedgekeurd door"]) == ("dc01", "ICT manager", "Director")
    assert bak["Vervalt"] == datetime(2027, 3, 31) and bak["Stand"] == "actief" and bak["Toegepast"] == 1
    [av] = [r for r in exceptions if r["Maatregel"] == "T-AV"]
    assert av["Stand"] == "verlopen"


def test_control_sheet_lists_population_and_completeness(wb_nl):
    ws = wb_nl["T-BAK-1"]
    col_a = [c.value for c in ws["A"]]
    start = col_a.index("Populatie (2)") + 1
    assert [ws.cell(row=start + i + 1, column=2).value for i in range(2)] == ["dc01", "fs01"]
    assert "Volledigheid van de populatie" in col_a
    assert "Servers in de inventaris" in col_a


def test_every_sheet_has_a_frozen_header_and_a_filter(wb_nl, year_docs):
    for ws in wb_nl.worksheets:
        assert ws.freeze_panes, ws.title
        assert ws.auto_filter.ref, ws.title
        first_filter_cell = ws.auto_filter.ref.split(":")[0]
        assert ws[first_filter_cell].row == header_row(ws), ws.title
        assert ws[first_filter_cell].value, ws.title  # the filter sits on the header
    summary = wb_nl["Samenvatting"]
    ref_end = summary.auto_filter.ref.split(":")[1]
    assert summary[ref_end].row - header_row(summary) == len(year_docs["nl"]["controls"])


def test_summary_has_every_control_with_its_counts_and_the_cover(wb_en, year_docs):
    doc = year_docs["en"]
    ws = wb_en["Summary"]
    rows = {r["Control"]: r for r in table(ws, header_row(ws))}
    assert list(rows) == [c["id"] for c in doc["controls"]]
    bak = rows["T-BAK-1"]
    assert bak["Result"] == "Effective with deviations"
    assert (bak["Population"], bak["Tested"], bak["Deviations"], bak["Not evidenced"], bak["Excepted"]) == (2, 730, 2, 0, 1)
    link = ws.cell(row=header_row(ws) + 1 + list(rows).index("T-BAK-1"), column=1).hyperlink
    assert link is not None and link.location == "'T-BAK-1'!A1"
    cover = {ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value for r in range(1, header_row(ws))}
    assert cover["Processor"] == "Beheer & Co B.V." and cover["Controller"] == "Zorggroep Noord"
    assert cover["Agreement"] == "VWO-2024-17" and cover["Profile"] == "zorg-2026"
    assert cover["Period from"] == datetime(2026, 1, 1) and cover["Period to (inclusive)"] == datetime(2026, 12, 31)
    assert cover["Generated at (UTC)"] == datetime(2027, 1, 20, 9, 30)
    assert cover["Tool"] == f"auditpack {doc['tool']['version']}"
    assert cover["Signing key (fingerprint)"] == f"Ed25519 {doc['signing_key']['fingerprint']}"
    assert cover["Collection runs in the period"] == len(doc["evidence_store"]["runs"])


def test_evidence_sheet_has_every_reference_with_moments_and_hashes(wb_nl, year_docs):
    doc = year_docs["nl"]
    ws = wb_nl["Bewijs"]
    rows = table(ws, header_row(ws))
    assert len(rows) == sum(len(c["evidence"]) for c in doc["controls"])
    [cited] = control(doc, "T-BAK-1")["deviations"][0]["evidence"]
    ref = next(e for e in control(doc, "T-BAK-1")["evidence"] if e["item_id"] == cited)
    [row] = [r for r in rows if r["Bewijsstuk"] == cited and r["Maatregel"] == "T-BAK-1"]
    assert row["SHA-256 ruwe uitvoer"] == ref["raw_sha256"] and row["Host"] == "fs01"
    assert row["Opdracht of query"] == ref["command"] and row["Status"] == "ok"
    assert isinstance(row["Verzameld (UTC)"], datetime)
    assert row["Verzameld (UTC)"].strftime("%Y-%m-%dT%H:%M:%S") == ref["collected"][:19]


def test_samples_sheet_lists_every_drawn_item_with_its_outcome_attributes_and_evidence(wb_en, wb_nl, year_docs):
    sample = year_docs["sample"]
    ws = wb_en["Samples"]
    rows = table(ws, header_row(ws))
    assert [r["Subjects drawn"] for r in rows] == sample["drawn"]
    assert {(r["Control"], r["Seed"], r["Size"], r["Unit"], r["Drawn by"]) for r in rows} == {
        ("T-BAK-1", 2026, 5, "subject-day", "A. Auditor")
    }
    assert all(isinstance(r["Drawn at (UTC)"], datetime) for r in rows)
    tested = {(t["subject"], t["date"]): t for t in control(year_docs["en"], "T-BAK-1")["tested_items"]}
    for row, drawn in zip(rows, sample["items"], strict=True):
        item = tested[(drawn["subject"], drawn["date"])]  # the report's own test of the drawn day
        assert row["Date"] == datetime.fromisoformat(item["date"]) and row["Outcome"] == item["result"].capitalize()
        assert row["Evidence items"] == ", ".join(item["evidence"]) and item["evidence"]
        assert f"Backup result: {item['attributes']['backup_result']}" in row["Attributes"]
    ws = wb_nl["Steekproeven"]
    assert table(ws, header_row(ws)) == []  # the Dutch document has no samples, and says so below the table
    assert ws.cell(row=header_row(ws) + 2, column=1).value == "Er zijn geen steekproeven getrokken."


def test_the_tested_items_sheet_holds_every_leaver_with_the_attributes_the_test_used(wb_nl, year_docs):
    ws = wb_nl["O-LVR getoetst"]
    rows = {r["Object"]: r for r in table(ws, header_row(ws))}
    # the two leavers, and the badge register the year lacks (so the control is not evidenced on its keys)
    assert list(rows) == ["KCDEMO\\jdevries", "KCDEMO\\pjansen", "register.badges"]
    late, in_time = rows["KCDEMO\\jdevries"], rows["KCDEMO\\pjansen"]
    assert (late["Datum"], late["Uitkomst"], late["Bevindingcodes"]) == (datetime(2026, 4, 30), "Afwijking", "lvr.disabled_late")
    assert late["Naam"] == "Jan de Vries" and late["Laatste werkdag"] == datetime(2026, 4, 30)
    assert late["Uiterste blokkeerdatum"] == datetime(2026, 5, 1) and late["AD-momentopname van"] == datetime(2026, 12, 31)
    assert (late["Account in AD"], late["Account staat aan"]) == ("ja", "nee")
    disable_source = "Bron van het uitschakelmoment (4725, of whenChanged: de laatste wijziging van het account)"
    assert (late["Uitgeschakeld op"], late[disable_source]) == ("2026-05-06T09:12:00+00:00", "4725")
    assert late["Laatste aanmelding"] == "2026-04-29T08:00:00+00:00"  # the day before the last working day
    assert late["Bron van de laatste aanmelding"].startswith("lastLogonTimestamp")
    assert (in_time["Uitkomst"], in_time["Bevindingcodes"], in_time["Uitgeschakeld op"]) == (
        "Voldoet",
        None,
        "2026-08-31T16:00:00+00:00",
    )
    assert rows["register.badges"]["Uitkomst"] == "Niet aangetoond"
    # every evidence id is an item of the store, and the disable time's event item holds that leaver's 4725
    store = {i.id: i for i in year_docs["year"].store.items()}
    ids = late["Bewijsstukken"].split(", ")
    assert set(ids) <= set(store)
    assert {store[i].kind for i in ids} == {"register.hr_leavers", "ad.users", "ad.account_disabled_events"}
    hr, users, event_item = ids  # the register row, the newest snapshot, the 4725 behind the late disabling: no more
    assert (store[hr].kind, store[users].kind, store[users].started[:10]) == ("register.hr_leavers", "ad.users", "2026-12-31")
    events = year_docs["year"].store.read_json(store[event_item].normalized_sha256)["events"]
    assert {"account": "KCDEMO\\jdevries", "time": "2026-05-06T09:12:00Z"}.items() <= next(
        e for e in events if e["account"] == "KCDEMO\\jdevries"
    ).items()


def test_the_tested_items_sheet_has_a_row_per_server_day_with_the_backup_result_and_its_run(wb_nl, year_docs):
    ws = wb_nl["T-BAK-1 getoetst"]
    rows = {(r["Object"], r["Datum"].date().isoformat()): r for r in table(ws, header_row(ws))}
    assert len(rows) == 730 and len(control(year_docs["nl"], "T-BAK-1")["tested_items"]) == 730
    failed, missed = rows[FAILED_BACKUP], rows[MISSING_BACKUP]
    assert (failed["Uitkomst"], failed["Bevindingcodes"], failed["Resultaat van de back-up"]) == (
        "Afwijking",
        "bak1.failed",
        "failure",
    )
    assert failed["Back-uptaak"] == "nightly" and failed["Back-up gestart"] == "2026-03-10T01:00:00+00:00"
    assert failed["Volgende geslaagde back-up"] == datetime(2026, 3, 11) and failed["Dagen tot herstel"] == 1
    assert (missed["Bevindingcodes"], missed["Back-upruns die dag"], missed["Resultaat van de back-up"]) == (
        "bak1.missed",
        0,
        None,
    )
    assert missed["Overzicht verzameld op"] == datetime(2026, 7, 2)
    assert rows[EXCEPTED_BACKUP]["Uitkomst"] == "Uitgezonderd"
    passed = rows[("dc01", "2026-06-15")]
    assert (passed["Uitkomst"], passed["Resultaat van de back-up"], passed["Back-upruns die dag"]) == ("Voldoet", "success", 1)
    store = {i.id: i for i in year_docs["year"].store.items()}
    [listing] = passed["Bewijsstukken"].split(", ")  # the newest listing that reported the night's run
    assert store[listing].kind == "backup.runs" and store[listing].host == "dc01"
    assert all(set(r["Bewijsstukken"].split(", ")) <= set(store) for r in rows.values())


def test_the_tested_items_sheet_of_t_av_shows_the_definitions_date_and_age_per_collection(wb_en):
    ws = wb_en["T-AV tested"]
    rows = {(r["Subject"], r["Date"].date().isoformat()): r for r in table(ws, header_row(ws))}
    stale = rows[STALE_AV]
    assert (stale["Outcome"], stale["Finding codes"]) == ("Deviation", "av.signatures_old")
    assert stale["Signature date"] == datetime(2026, 8, 15) and stale["Age of the signatures (days)"] == 30
    assert (stale["Product"], stale["Real-time protection on"], stale["Date read from (host or console)"]) == (
        "Microsoft Defender Antivirus",
        "yes",
        "host",
    )
    assert stale["Known to the console"] is None  # the year has no console: not a no, unknown
    assert rows[("ws-017", "2026-09-07")]["Age of the signatures (days)"] == 1
    assert rows[("ws-017", "2026-09-07")]["Outcome"] == "Passed"


def test_each_control_sheet_and_the_summary_lead_to_the_tested_items(wb_nl):
    ws = wb_nl["T-BAK-1"]
    [note] = [c for c in ws["A"] if isinstance(c.value, str) and "getoetste object-datums" in c.value]
    assert "Alle 730 getoetste object-datums" in note.value and note.hyperlink.location == "'T-BAK-1 getoetst'!A1"
    summary = wb_nl["Samenvatting"]
    [count] = [c for c in summary["F"] if c.hyperlink is not None and c.hyperlink.location == "'T-BAK-1 getoetst'!A1"]
    assert count.value == 730


def test_sheet_names_and_headers_follow_the_language(wb_nl, wb_en, year_docs):
    ids = [c["id"] for c in year_docs["nl"]["controls"]]
    nl_controls = [name for cid in ids for name in (cid, f"{cid} getoetst")]  # each control, then its tested items
    assert wb_nl.sheetnames == [
        "Samenvatting",
        *nl_controls,
        "Reacties",
        "Reikwijdte",
        "Uitzonderingen",
        "Steekproeven",
        "Bewijs",
        "Verzamelrondes",
        "Ondertekening",
    ]
    en_controls = [name for cid in ids for name in (cid, f"{cid} tested")]
    assert wb_en.sheetnames == [
        "Summary",
        *en_controls,
        "Responses",
        "Scope",
        "Exceptions",
        "Samples",
        "Evidence",
        "Collection runs",
        "Sign-off",
    ]
    nl_header = [c.value for c in wb_nl["T-BAK-1"][header_row(wb_nl["T-BAK-1"])]]
    en_header = [c.value for c in wb_en["T-BAK-1"][header_row(wb_en["T-BAK-1"])]]
    assert nl_header[:3] == ["Soort", "Object", "Datum"] and en_header[:3] == ["Type", "Subject", "Date"]


def test_text_from_evidence_is_never_a_formula(small_doc, tmp_path):
    bak = control(small_doc, "T-BAK-1")
    bak["deviations"][0]["text"] = '=HYPERLINK("http://attacker.example","click")\x07'
    bak["evidence"][0]["command"] = "=1+1"
    ws = load_workbook(write_workbook(small_doc, tmp_path / "w.xlsx"))["T-BAK-1"]
    cell = next(c for c in ws["E"] if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    assert "\x07" not in cell.value  # a control character Excel refuses is replaced, not fatal


def test_workbook_replaces_the_old_file_whole_or_not_at_all(small_doc, tmp_path, monkeypatch):
    path = write_workbook(small_doc, tmp_path / "report.xlsx")
    before = path.read_bytes()

    def broken_save(self, filename):
        Path(filename).write_bytes(b"PK half a zip")
        raise OSError("disk full")

    monkeypatch.setattr("openpyxl.workbook.workbook.Workbook.save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        write_workbook(small_doc, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.xlsx"]  # no temporary file left behind


def test_workbook_opens_in_libreoffice(workbooks, tmp_path):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed; the workbook was not opened in a second spreadsheet program")
    out = tmp_path / "pdf"
    done = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(workbooks["nl"]),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    pdf = out / "report-nl.pdf"
    assert pdf.exists() and pdf.stat().st_size > 0, done.stdout + done.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, timeout=60).stdout
        assert "T-BAK-1" in text and "2026-03-10" in text


def test_the_workbook_reads_its_words_from_the_report_vocabulary():
    """Only the workbook's own words live apart, under keys the report's strings do not use, in every language."""
    for lang in LANGS:
        assert not set(WORKBOOK_STRINGS[lang]) & set(STRINGS[lang]), lang
        assert set(WORKBOOK_STRINGS[lang]) == set(WORKBOOK_STRINGS[LANGS[0]]), lang


# -- the registry of formats ------------------------------------------------------------------


def test_every_registered_format_writes_a_file_with_its_suffix(small_doc, tmp_path):
    assert FORMAT_NAMES == ("html", "pdf", "xlsx", "json", "oscal", "ocsf")
    for report_format in REPORT_FORMATS:
        directory = tmp_path / report_format.name
        path = report_format.path(directory / "report")
        assert report_format.write(small_doc, path) is None
        assert path.name == "report" + report_format.suffix and path.stat().st_size > 0, report_format.name
        assert sorted(p.name for p in directory.iterdir()) == sorted(
            p.name for p in report_format.files(directory / "report").values()
        )
    starts = {"html": b"<!DOCTYPE html>", "pdf": b"%PDF", "xlsx": b"PK", "json": b"{", "ocsf": b"["}
    files = write_formats(small_doc, tmp_path / "all")
    oscal_parts = ["oscal", "oscal-plan", "oscal-ssp", "oscal-profile", "oscal-catalogue"]
    assert list(files) == ["html", "pdf", "xlsx", "json", *oscal_parts, "ocsf"]
    assert sorted(files.values()) == sorted((tmp_path / "all").iterdir())  # every file written is named, so the pack takes it
    for name, path in files.items():
        assert path.read_bytes().startswith(starts.get(name, b"{")), name
    assert json.loads(files["json"].read_text(encoding="utf-8")) == small_doc
    assert "assessment-results" in json.loads(files["oscal"].read_text(encoding="utf-8"))
    assert files["oscal-catalogue"].name == files["oscal"].name.removesuffix(".json") + "-catalogue.json"
    with pytest.raises(ValueError, match="unknown report format.*docx.*choose from html, pdf, xlsx, json, oscal, ocsf"):
        write_formats(small_doc, tmp_path / "none", ["docx"])


def test_the_format_registry_imports_no_heavy_library():
    """The command line imports the registry for --help; the renderers' libraries load only when a format is written."""
    heavy = ("openpyxl", "numpy", "pandas", "weasyprint", "matplotlib", "jsonschema", "trestle", "py_ocsf_models")
    probe = (
        f"import sys; import auditpack.reports.formats as f; print(','.join(f.FORMAT_NAMES)); "
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    names, loaded = done.stdout.splitlines()
    assert names == "html,pdf,xlsx,json,oscal,ocsf" and loaded == ""


# -- JSON and its schema ----------------------------------------------------------------------


def test_json_export_is_valid_against_the_published_schema(year_docs, tmp_path):
    path = write_json(year_docs["nl"], tmp_path / "report.json")
    loaded = json.loads(path.read_text(encoding="utf-8"))
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(loaded)  # the file as published
    bak = control(loaded, "T-BAK-1")
    assert [(d["subject"], d["date"], d["code"]) for d in bak["deviations"]] == [
        (*FAILED_BACKUP, "bak1.failed"),
        (*MISSING_BACKUP, "bak1.missed"),
    ]
    assert [(e["subject"], e["date"], e["owner"], e["expires"]) for e in bak["excepted"]] == [
        (*EXCEPTED_BACKUP, "ICT manager", "2027-03-31")
    ]
    assert loaded == year_docs["nl"]


def test_signed_document_with_profile_and_sample_is_valid(year_docs):
    validate_document(year_docs["en"])


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [
        (lambda d: control(d, "T-BAK-1").update(status="great"), "$.controls[0].status", "'great' is not one of"),
        (
            lambda d: control(d, "T-BAK-1")["deviations"][0].update(date="2026-02-30"),
            "$.controls[0].deviations[0].date",
            "is not a 'date'",
        ),
        (
            lambda d: control(d, "T-BAK-1")["evidence"][0].update(raw_sha256="abc"),
            "$.controls[0].evidence[0].raw_sha256",
            "does not match",
        ),
        (lambda d: control(d, "T-BAK-1")["excepted"][0].pop("owner"), "$.controls[0].excepted[0]", "'owner' is a required"),
        (lambda d: d.update(verdict="fine"), "$", "'verdict' was unexpected"),
        (lambda d: d["summary"].update(effective=5), "$.summary.effective", "the controls say 0"),
        (lambda d: control(d, "T-BAK-1")["population"].update(size=7), "$.controls[0].population.size", "2 subjects"),
        (
            lambda d: control(d, "T-BAK-1")["tested_items"][0].update(result="fine"),
            "$.controls[0].tested_items[0].result",
            "'fine' is not one of",
        ),
        (
            lambda d: control(d, "T-BAK-1")["tested_items"][0]["attributes"].update(surprise=1),
            "$.controls[0].tested_items[0].attributes",
            "surprise not among the control's tested_attributes",
        ),
        (
            lambda d: control(d, "T-BAK-1")["tested_items"][0].update(evidence=["0123456789abcdef"]),
            "$.controls[0].tested_items[0].evidence",
            "0123456789abcdef not among the control's evidence",
        ),
    ],
)
def test_broken_documents_are_refused_naming_the_path(small_doc, tmp_path, mutate, path, words):
    mutate(small_doc)
    with pytest.raises(ValueError) as refused:
        write_json(small_doc, tmp_path / "report.json")
    assert any(p.startswith(f"{path}:") and words in p for p in refused.value.problems), refused.value.problems
    assert not (tmp_path / "report.json").exists()


def test_every_schema_error_is_listed(small_doc):
    bak = control(small_doc, "T-BAK-1")
    bak["status"] = "great"
    bak["deviations"][1]["code"] = "Not A Code"
    small_doc["signing_key"] = {"algorithm": "RSA", "fingerprint": "SHA256:short"}
    with pytest.raises(DocumentInvalid) as refused:
        validate_document(small_doc)
    message = str(refused.value)
    for where in ("$.controls[0].status:", "$.controls[0].deviations[1].code:", "$.signing_key"):
        assert where in message
    assert "fingerprint" in message  # the nearest shape of signing_key is named, not just "no shape matched"


# -- OSCAL ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def oscal_nl(year_docs):
    return to_oscal(year_docs["nl"], "report-oscal-plan.json")


def _props(node: dict) -> dict[str, str]:
    return {p["name"]: p["value"] for p in node.get("props", [])}


def test_oscal_is_valid_assessment_results(oscal_nl, year_docs):
    model = AssessmentResults.model_validate(oscal_nl["assessment-results"])  # raises on anything OSCAL refuses
    assert model.uuid == oscal_nl["assessment-results"]["uuid"]
    assert oscal_nl["assessment-results"]["metadata"]["oscal-version"] == OSCAL_VERSION
    [result] = oscal_nl["assessment-results"]["results"]
    assert result["start"].startswith("2026-01-01T00:00:00") and result["end"].startswith("2026-12-31T23:59:59")
    assert oscal_nl["assessment-results"]["import-ap"]["href"] == "report-oscal-plan.json"
    targets = [(f["target"]["type"], f["target"]["target-id"]) for f in result["findings"]]
    assert targets == [("objective-id", f"{c['id']}_obj") for c in year_docs["nl"]["controls"]]  # the catalogue's objectives
    assert {p["ns"] for o in result["observations"] for p in o["props"]} == {NAMESPACE}


def test_oscal_observation_of_the_failed_backup_carries_date_and_evidence_hash(oscal_nl, year_docs):
    [result] = oscal_nl["assessment-results"]["results"]
    observations = {o["uuid"]: o for o in result["observations"]}
    finding = next(f for f in result["findings"] if f["target"]["target-id"] == "T-BAK-1_obj")
    assert finding["target"]["status"]["state"] == "satisfied"  # effective with deviations, within tolerance
    assert _props(finding)["status"] == "effective_with_deviations"
    related = [observations[r["observation-uuid"]] for r in finding["related-observations"]]
    failed, missed = [o for o in related if _props(o)["finding-kind"] == "deviation"]
    assert (_props(failed)["subject"], _props(failed)["date"]) == FAILED_BACKUP
    assert "2026-03-10" in failed["title"] and failed["types"] == ["finding"]
    doc_bak = control(year_docs["nl"], "T-BAK-1")
    [cited] = doc_bak["deviations"][0]["evidence"]
    ref = next(e for e in doc_bak["evidence"] if e["item_id"] == cited)
    [evidence] = failed["relevant-evidence"]
    assert _props(evidence)["item-id"] == cited and _props(evidence)["raw-sha256"] == ref["raw_sha256"]
    assert failed["collected"].startswith(ref["collected"][:19])
    assert (_props(missed)["subject"], _props(missed)["date"]) == MISSING_BACKUP
    assert [o for o in related if _props(o)["finding-kind"] == "gap"] == []
    [excepted] = [o for o in related if _props(o)["finding-kind"] == "excepted"]
    assert _props(excepted)["exception-owner"] == "ICT manager" and _props(excepted)["exception-expires"] == "2027-03-31"


def test_oscal_verdicts_map_to_objective_states(oscal_nl):
    [result] = oscal_nl["assessment-results"]["results"]
    by_id = {_props(f)["control-id"]: f["target"] for f in result["findings"]}
    assert by_id["T-FWP"]["status"] == {"state": "not-satisfied", "reason": "fail"}
    assert by_id["O-BRE"]["status"]["state"] == "not-satisfied" and by_id["O-BRE"]["status"]["reason"] == "other"
    assert "status" not in by_id["T-TLS"] and by_id["T-TLS"]["implementation-status"]["state"] == "not-applicable"


def test_oscal_export_is_deterministic(oscal_nl, year_docs, small_doc, tmp_path):
    assert to_oscal(year_docs["nl"], "report-oscal-plan.json") == oscal_nl
    [result] = oscal_nl["assessment-results"]["results"]
    uuids = [o["uuid"] for o in result["observations"]] + [f["uuid"] for f in result["findings"]]
    assert len(uuids) == len(set(uuids))
    first = write_oscal(small_doc, tmp_path / "a" / "report-oscal.json")
    again = write_oscal(copy.deepcopy(small_doc), tmp_path / "b" / "report-oscal.json")
    assert list(first) == ["results", "plan", "ssp", "profile", "catalogue"]
    assert {part: p.read_bytes() for part, p in again.items()} == {part: p.read_bytes() for part, p in first.items()}
    other_period = copy.deepcopy(small_doc)
    other_period["period"]["end"] = "2026-06-30"
    moved = to_oscal(other_period, "plan.json")["assessment-results"]["results"][0]["findings"][0]["uuid"]
    assert moved != json.loads(first["results"].read_bytes())["assessment-results"]["results"][0]["findings"][0]["uuid"]


def test_invalid_oscal_raises_and_writes_nothing(small_doc, tmp_path):
    control(small_doc, "T-BAK-1")["id"] = "T BAK 1"  # not an OSCAL token
    with pytest.raises(ValueError):
        to_oscal(small_doc, "plan.json")
    with pytest.raises(ValueError):
        write_oscal(small_doc, tmp_path / "oscal.json")
    assert list(tmp_path.iterdir()) == []  # neither the results nor any file they import


def test_oscal_results_resolve_through_plan_ssp_and_profile_to_the_catalogue(year_docs, tmp_path):
    doc = year_docs["en"]
    files = write_formats(doc, tmp_path, ["oscal"])
    assert list(files) == ["oscal", "oscal-plan", "oscal-ssp", "oscal-profile", "oscal-catalogue"]
    assert unresolved(files["oscal"]) == []
    models, missing = load_chain(files["oscal"])
    assert missing == [] and models["results"].import_ap.href == files["oscal-plan"].name
    bak = control(doc, "T-BAK-1")
    # the profile, resolved by trestle, sets every parameter to the value the evaluation used
    resolved = {c.id: c for g in resolved_catalogue(files["oscal-profile"]).groups for c in g.controls}
    assert sorted(resolved) == sorted(c["id"] for c in doc["controls"])
    params = {p.id: p.values for p in resolved["T-BAK-1"].params}
    assert params[parameter_id("T-BAK-1", "max_repair_days")] == [str(bak["parameters"]["max_repair_days"])]
    assert params[parameter_id("T-BAK-1", "warning_counts_as_success")] == ["true"]
    parts = {p.name: p for p in resolved["T-BAK-1"].parts}
    assert parts["statement"].prose == bak["promise"] and parts["assessment-objective"].id == "T-BAK-1_obj"
    [requirement] = [r for r in models["ssp"].control_implementation.implemented_requirements if r.control_id == "T-BAK-1"]
    assert requirement.by_components[0].description == bak["promise"]
    [activity] = [a for a in models["plan"].local_definitions.activities if a.title.startswith("T-BAK-1 ")]
    assert [s.description for s in activity.steps] == [bak["test_procedure"]["design"], bak["test_procedure"]["operation"]]
    [task] = models["plan"].tasks
    assert task.timing.within_date_range.start.isoformat().startswith(doc["period"]["start"])
    for path in files.values():  # auditpack's own namespace, nowhere an example one
        text = path.read_text(encoding="utf-8")
        assert NAMESPACE in text and ".example" not in text, path.name


def _rewrite(path, change):
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(
    ("part", "change", "named"),
    [
        ("", lambda d: d["assessment-results"]["import-ap"].update(href="assessment-plan.json"), "assessment-plan.json"),
        ("", lambda d: d["assessment-results"]["results"][0]["observations"][0].update(uuid=str(uuid4())), "observation-uuid"),
        ("", lambda d: d["assessment-results"]["results"][0]["findings"][0]["target"].update({"target-id": "T-TLS_obj"}), "targets"),
        ("-plan", lambda d: d["assessment-plan"]["tasks"][0]["associated-activities"][0].update({"activity-uuid": str(uuid4())}), "activity-uuid"),
        ("-ssp", lambda d: d["system-security-plan"]["control-implementation"]["implemented-requirements"][0].update({"control-id": "T-NOPE"}), "T-NOPE"),
        ("-profile", lambda d: d["profile"]["modify"]["set-parameters"][0].update({"param-id": "T-BAK-1_prm_nope"}), "T-BAK-1_prm_nope"),
        ("-catalogue", lambda d: d["catalog"]["groups"][0]["controls"][0].update(id="T-GONE"), "T-BAK-1"),
    ],
)  # fmt: skip
def test_a_reference_that_does_not_resolve_is_named(small_doc, tmp_path, part, change, named):
    results = write_oscal(small_doc, tmp_path / "report-oscal.json")["results"]
    assert unresolved(results) == []
    _rewrite(tmp_path / f"report-oscal{part}.json", change)
    problems = unresolved(results)
    assert problems and any(named in p for p in problems), problems


def test_oscal_plan_and_catalogue_speak_the_reports_language(year_docs):
    for lang, plan_title, method in (
        ("nl", "Toetsingsplan over de periode", "Toetsing van de werking"),
        ("en", "Assessment plan for", "Test of operating effectiveness"),
    ):
        doc = year_docs[lang]
        assert build_plan(doc, "ssp.json").metadata.title.startswith(plan_title)
        catalogue = build_catalogue(doc)
        assert catalogue.metadata.title == EXPORT_STRINGS[lang]["catalogue_title"]
        [bak] = [c for g in catalogue.groups for c in g.controls if c.id == "T-BAK-1"]
        assert bak.title == control(doc, "T-BAK-1")["title"]
        assert [p.title for p in bak.parts if p.name == "assessment-method"][-1] == method


def test_the_exports_words_are_in_both_languages_with_the_same_placeholders():
    placeholders = {lang: {k: set(re.findall(r"{(\w+)}", v)) for k, v in EXPORT_STRINGS[lang].items()} for lang in LANGS}
    assert placeholders["nl"] == placeholders["en"]
    assert EXPORT_STRINGS["nl"]["deviation"] != EXPORT_STRINGS["en"]["deviation"]


# -- OCSF -------------------------------------------------------------------------------------


def _ocsf_item(findings: list[dict], control_id: str, kind: str, subject_date: tuple[str, str]) -> dict:
    [found] = [
        f
        for f in findings
        if f["compliance"]["control"] == control_id
        and f["unmapped"]["auditpack"].get("kind") == kind
        and (f["unmapped"]["auditpack"]["subject"], f["unmapped"]["auditpack"]["date"]) == subject_date
    ]
    return found


def test_ocsf_compliance_findings_are_valid_and_carry_the_known_deviation(year_docs, oscal_nl, tmp_path):
    doc = year_docs["nl"]
    findings = json.loads(write_ocsf(doc, tmp_path / "report-ocsf.json").read_text(encoding="utf-8"))
    for finding in findings:  # the library's own model reads each back to exactly what was written
        assert ComplianceFinding.model_validate(finding).model_dump(mode="json", exclude_none=True) == finding
    assert {(f["class_uid"], f["category_uid"], f["type_uid"]) for f in findings} == {(2003, 2, 200301)}
    for c in doc["controls"]:  # the control's result, then each deviation, gap and excepted item
        own = [f for f in findings if f["compliance"]["control"] == c["id"]]
        assert len(own) == 1 + len(c["deviations"]) + len(c["gaps"]) + len(c["excepted"]), c["id"]

    failed = _ocsf_item(findings, "T-BAK-1", "deviation", FAILED_BACKUP)
    assert failed["finding_info"]["title"] == f"T-BAK-1 afwijking: {FAILED_BACKUP[0]} op {FAILED_BACKUP[1]}"
    assert failed["resources"] == [{"name": FAILED_BACKUP[0], "uid": FAILED_BACKUP[0]}]
    assert failed["start_time_dt"].startswith(FAILED_BACKUP[1]) and failed["end_time_dt"].startswith(FAILED_BACKUP[1])
    assert failed["compliance"]["status_id"] == 3 and failed["compliance"]["checks"][0]["uid"] == "bak1.failed"  # Fail
    assert (failed["status"], failed["severity"], failed["status_detail"]) == ("New", "Low", "Werkzaam met afwijkingen")
    bak = control(doc, "T-BAK-1")
    [cited] = bak["deviations"][0]["evidence"]
    ref = next(e for e in bak["evidence"] if e["item_id"] == cited)
    [evidence] = failed["evidences"]
    assert (evidence["name"], evidence["data"]["raw_sha256"]) == (cited, ref["raw_sha256"])
    assert failed["finding_info"]["first_seen_time_dt"].startswith(ref["collected"][:19])
    [observation] = [
        o
        for o in oscal_nl["assessment-results"]["results"][0]["observations"]
        if (_props(o).get("subject"), _props(o).get("date"), _props(o)["finding-kind"]) == (*FAILED_BACKUP, "deviation")
    ]
    assert failed["finding_info"]["uid"] == observation["uuid"]  # the same item in OSCAL and OCSF

    excepted = _ocsf_item(findings, "T-BAK-1", "excepted", EXCEPTED_BACKUP)
    assert (excepted["status"], excepted["severity"]) == ("Suppressed", "Informational")
    assert excepted["unmapped"]["auditpack"]["exception"] == {"scope": "dc01", "owner": "ICT manager", "expires": "2027-03-31"}
    results = {f["compliance"]["control"]: f for f in findings if f["finding_info"]["types"] == ["control-result"]}
    assert (
        results["T-BAK-1"]["compliance"]["status_id"] == 1
        and results["T-BAK-1"]["metadata"]["uid"] == failed["metadata"]["correlation_uid"]
    )
    assert (results["T-FWP"]["compliance"]["status_id"], results["T-FWP"]["severity"]) == (3, "High")  # not effective
    assert results["O-BRE"]["compliance"]["status_id"] == 2  # not evidenced: Warning, no result for lack of information
    assert results["T-TLS"]["compliance"]["status_id"] == 99 and results["T-TLS"]["status_detail"] == "Niet van toepassing"


def test_ocsf_in_english_and_nothing_written_from_a_broken_document(year_docs, small_doc, tmp_path):
    findings = to_ocsf(year_docs["en"])
    failed = _ocsf_item(findings, "T-BAK-1", "deviation", FAILED_BACKUP)
    assert failed["finding_info"]["title"] == f"T-BAK-1 deviation: {FAILED_BACKUP[0]} on {FAILED_BACKUP[1]}"
    assert failed["status_detail"] == "Effective with deviations" and failed["metadata"]["product"]["lang"] == "en"
    assert failed["compliance"]["standards"][0] == STRINGS["en"]["subtitle"]
    control(small_doc, "T-BAK-1")["deviations"][0]["date"] = "2026-02-30"
    with pytest.raises(ValueError):
        write_ocsf(small_doc, tmp_path / "report-ocsf.json")
    assert list(tmp_path.iterdir()) == []
