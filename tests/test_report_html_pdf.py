"""The HTML and PDF report, rendered from the report document of a synthetic year (tests/year_store.py).

The year's known facts are read back from the HTML, from the PDF's text (pdftotext) and from a
headless Chromium's screenshot of the HTML, in Dutch and in English.
"""

from __future__ import annotations

import base64
import copy
import random
import re
import shutil
import subprocess
import time
from datetime import date, timedelta

import pytest
from markupsafe import escape

from auditpack import __version__
from auditpack.annual import make_document, write_formats
from auditpack.controls.evaluate import evaluate_controls
from auditpack.controls.model import load_catalogue
from auditpack.controls.profiles import Profile
from auditpack.jobs import run_rows
from auditpack.reports import charts
from auditpack.reports.document import build_document
from auditpack.reports.grouped import ITEMS_LISTED, group_findings
from auditpack.reports.html import render_report_html
from auditpack.reports.pdf import write_pdf
from year_store import EXCEPTED_BACKUP, FAILED_BACKUP, MISSING_BACKUP, build_year

TODAY = date(2027, 1, 20)
FINGERPRINT = "SHA256:q2Jm0c4vX1b9Zt7LwPe8RkYdNf3HsAu6GiVx5oTlBQE"
PROFILE = Profile(
    name="Klant A — zorgverzekeraar",
    processor="Voorbeeld ICT B.V.",
    customer="Zorgverzekeraar A",
    agreement="Verwerkersovereenkomst VWO-2025-017",
)
SAMPLE = {
    "control": "T-BAK-1",
    "size": 1,
    "seed": "restore-2026-a1",
    "population_size": 2,
    "drawn": ["fs01"],
    "drawn_at": "2027-01-20T09:00:00Z",
}
GENERATED = "2027-01-20T10:15:00Z"
PDFTOTEXT = shutil.which("pdftotext")
CHROMIUM = shutil.which("chromium")


# -- one year, evaluated once; documents and HTML in both languages, the PDF rendered once ---------------


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    return build_year(tmp_path_factory.mktemp("year") / "ev")


@pytest.fixture(scope="module")
def documents(year):
    results = evaluate_controls(year.store, year.period, exceptions=year.exceptions, today=TODAY)
    catalogue, runs = load_catalogue(), run_rows(year.store, year.period)
    return {
        "nl": build_document(
            results,
            catalogue,
            year.period,
            runs,
            "nl",
            PROFILE,
            signing_fingerprint=FINGERPRINT,
            samples=[SAMPLE],
            generated_at=GENERATED,
        ),
        "en": build_document(results, catalogue, year.period, runs, "en", generated_at=GENERATED),
    }


@pytest.fixture(scope="module")
def html(documents):
    return {lang: render_report_html(doc) for lang, doc in documents.items()}


@pytest.fixture(scope="module")
def pdf(html, tmp_path_factory):
    started = time.perf_counter()
    path = write_pdf(html["nl"], tmp_path_factory.mktemp("pdf") / "report-nl.pdf")
    print(f"\nPDF of the synthetic year rendered in {time.perf_counter() - started:.1f} s")
    return path


@pytest.fixture(scope="module")
def pdf_pages(pdf):
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (Debian package poppler-utils) is not installed")
    text = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


def section(page: str, control_id: str) -> str:
    start = page.index(f'<section class="control" id="{control_id}">')
    return page[start : page.index("</section>", start)]


def rows(fragment: str) -> list[str]:
    return re.findall(r"<tr[^>]*>.*?</tr>", fragment, flags=re.S)


def cover(page: str) -> str:
    return page[page.index('<section class="cover"') : page.index('<section class="summary"')]


# -- the HTML ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_failed_and_the_missed_backup_appear_with_their_dates(html, lang):
    bak = section(html[lang], "T-BAK-1")
    assert '<table class="gaps">' not in bak  # every night of the year is covered by a listing
    deviations = bak[bak.index('<table class="deviations">') : bak.index('<table class="excepted">')]
    failed, missed = rows(deviations)[1:]
    assert f'<td>{FAILED_BACKUP[0]}</td><td class="date">{FAILED_BACKUP[1]}</td>' in failed
    assert {"nl": "geen geslaagde back-up", "en": "no successful backup"}[lang] in failed
    assert f'<td>{MISSING_BACKUP[0]}</td><td class="date">{MISSING_BACKUP[1]}</td>' in missed
    assert {"nl": "die nacht is geen back-up gemaakt", "en": "no backup ran that night"}[lang] in missed


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_excepted_backup_names_its_exception_owner_and_expiry(html, lang):
    bak = section(html[lang], "T-BAK-1")
    [excepted] = rows(bak[bak.index('<table class="excepted">') : bak.index('<table class="exceptions">')])[1:]
    assert f'<td>{EXCEPTED_BACKUP[0]}</td><td class="date">{EXCEPTED_BACKUP[1]}</td>' in excepted
    assert "<td>ICT manager</td>" in excepted and '<td class="date">2027-03-31</td>' in excepted
    [exception] = rows(bak[bak.index('<table class="exceptions">') :])[1:2]
    assert "backup disk replaced that night" in exception and "<td>Director</td>" in exception
    assert {"nl": "<td>actief</td>", "en": "<td>active</td>"}[lang] in exception


def test_the_expired_antivirus_exception_is_shown_as_expired(html):
    av = section(html["en"], "T-AV")
    exceptions = av[av.index('<table class="exceptions">') :]
    assert "<td>Service desk</td>" in exceptions and "<td>expired</td><td>21</td>" in exceptions
    start = av.index('<table class="deviations">')
    deviations = av[start : av.index("</table>", start)]
    # one row for ws-023's weekly findings, from the day after the exception expired
    assert re.search(r'<td>ws-023</td><td class="dates">2026-06-01, 2026-06-08, .*\(\d+ dates, the last 2026-12-28', deviations)
    assert "<td>ws-017</td><td class=\"date\">2026-09-14</td>" in deviations


def test_the_cover_page_states_who_what_when_and_the_signing_key(html, documents):
    nl = cover(html["nl"])
    for fact in (
        "Klant A — zorgverzekeraar",
        "Voorbeeld ICT B.V.",
        "Zorgverzekeraar A",
        "Verwerkersovereenkomst VWO-2025-017",
        "2026-01-01 – 2026-12-31",
        GENERATED,
        f"auditpack {__version__}",
        FINGERPRINT,
        "Ed25519",
        documents["nl"]["evidence_store"]["chain_head"],
        f"<dd>{len(documents['nl']['evidence_store']['runs'])}</dd>",
    ):
        assert fact in nl, fact
    assert "niet ondertekend" not in nl
    en = cover(html["en"])
    assert "not signed" in en and "default (catalogue defaults)" in en and "2026-01-01 – 2026-12-31" in en
    assert en.count("not stated") == 3  # processor, controller and agreement of the default profile


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_management_summary_lists_every_control_with_its_result(html, documents, lang):
    page = html[lang]
    start = page.index('<section class="summary"')
    summary = page[start : page.index("<section", start + 1)]
    for control in documents[lang]["controls"]:
        [row] = [r for r in rows(summary) if f'href="#{control["id"]}"' in r]
        assert f'<span class="status {control["status"]}">{control["status_label"]}</span>' in row
        assert f"<td>{control['tested']}</td><td>{len(control['deviations'])}</td><td>{len(control['gaps'])}</td>" in row
    assert page.count('<section class="control"') == len(documents[lang]["controls"])


WORDS = {  # a few words per language that must not leak into the other language's report
    "nl": [
        "Managementsamenvatting",
        "Toezegging",
        "Hoe is getoetst",
        "Toetsing van de opzet",
        "Afwijkingen (1)",
        "Uitgezonderd (1)",
        "Populatie",
        "Bewijs (",
        "Back-upresultaat per server per dag",
        "Werkzaam met afwijkingen",
        "Per soort bewijs",
        "Bewijsstukken",
        "Bewijs bij de bevindingen",
        "de laatste 2026-12-28; het werkboek noemt ze alle",
    ],
    "en": [
        "Management summary",
        "Promise",
        "How it was tested",
        "Test of design",
        "Deviations (1)",
        "Excepted (1)",
        "Population",
        "Evidence (",
        "Backup result per server per day",
        "Effective with deviations",
        "Per kind of evidence",
        "Items",
        "Evidence cited by the findings",
        "the last 2026-12-28; the workbook lists them all",
    ],
}


@pytest.mark.parametrize("lang,other", [("nl", "en"), ("en", "nl")])
def test_the_wording_is_in_the_reports_language_only(html, lang, other):
    page = html[lang]
    assert f'<html lang="{lang}">' in page
    for word in WORDS[lang]:
        assert word in page, word
    for word in WORDS[other]:
        if word not in WORDS[lang]:
            assert word not in page, word
    bak = section(page, "T-BAK-1")
    assert {"nl": "dagelijks", "en": "daily"}[lang] in bak  # the frequency in words


def test_a_control_section_explains_the_promise_references_test_and_population(html, documents):
    bak = section(html["en"], "T-BAK-1")
    control = next(c for c in documents["en"]["controls"] if c["id"] == "T-BAK-1")
    for text in (
        control["promise"],
        control["annex_section"],
        control["test_procedure"]["design"],
        control["test_procedure"]["operation"],
    ):
        assert str(escape(text)) in bak, text
    for html_text in (
        "art. 32(1)(b), art. 32(1)(c)",
        "A.8.13",
        "<code>max_repair_days</code> = 1",
        "<code>warning_counts_as_success</code> = yes",
        "Size: 2",
        "dc01, fs01",
        "Servers in the inventory (2):</strong> dc01, fs01",
        f"Tested with usable evidence: {control['tested']} subject-dates",
    ):
        assert html_text in bak, html_text


@pytest.mark.parametrize("lang,sheet", [("nl", "T-BAK-1 getoetst"), ("en", "T-BAK-1 tested")])
def test_the_tested_items_are_one_sentence_pointing_to_their_workbook_sheet(html, lang, sheet):
    """The report names where the tested items are and carries none of them: the PDF must stay short."""
    bak = section(html[lang], "T-BAK-1")
    assert bak.count(sheet) == 1
    assert {"nl": "Alle 730 getoetste object-datums", "en": "All 730 tested subject-dates"}[lang] in bak
    for attribute in ("Back-up gestart", "Backup started", "Laatste werkdag", "Last working day", "Age of the signatures"):
        assert attribute not in html[lang]  # no tested item's attribute, of any control


def test_samples_drawn_are_listed_with_their_seed(html):
    bak = section(html["nl"], "T-BAK-1")
    [row] = rows(bak[bak.index('<table class="samples">') :])[1:2]
    assert "<code>restore-2026-a1</code>" in row and "<td>fs01</td>" in row and "2027-01-20T09:00:00Z" in row
    assert '<table class="samples">' not in section(html["en"], "T-BAK-1")  # no samples: no table


def test_evidence_is_shown_per_kind_with_its_command_once_and_the_cited_items_linked(html, documents):
    bak = section(html["en"], "T-BAK-1")
    control = next(c for c in documents["en"]["controls"] if c["id"] == "T-BAK-1")
    total = len(control["evidence"])
    assert f"Evidence ({total})" in bak and f"sheet Evidence lists all {total} items with their hashes" in bak
    kinds = rows(bak[bak.index('<table class="evidence-kinds">') : bak.index("</table>", bak.index('"evidence-kinds"'))])
    [kind, commands] = kinds[1:]  # one kind, its row and its command's row
    hosts = {e["host"] for e in control["evidence"]}
    assert f"<td><code>backup.runs</code></td><td class=\"num\">{total}</td><td class=\"num\">{len(hosts)}</td>" in kind
    assert commands.count('<pre class="command">borg list --json /backup</pre>') == 1
    shown = re.findall(r'<tr id="ev-T-BAK-1-([0-9a-f]+)">', bak)
    cited = {i for key in ("deviations", "excepted") for f in control[key] for i in f["evidence"]}
    assert shown and set(shown) <= cited and len(shown) <= ITEMS_LISTED
    first = next(e for e in control["evidence"] if e["item_id"] == shown[0])
    row = rows(bak[bak.index(f'<tr id="ev-T-BAK-1-{shown[0]}">') :])[0]
    for value in (first["host"], first["collected"][:19], first["raw_sha256"]):
        assert value in row
    assert f'<a href="#ev-T-BAK-1-{shown[0]}">' in bak  # the deviation links to its evidence

    av = section(html["en"], "T-AV")  # one PowerShell script for every workstation, each over its own endpoint
    assert av.count("<pre class=\"command\">powershell (WinRM ‹the host&#39;s address›): $a = @(Get-CimInstance") == 1

    few = copy.deepcopy(documents["en"])  # a control with a few items (a register, a document) lists each with its hash
    few["controls"] = [c for c in few["controls"] if c["id"] == "T-BAK-1"]
    few["controls"][0]["evidence"] = few["controls"][0]["evidence"][:3]
    small = render_report_html(few, charts=False)
    assert "Every evidence item (3)" in small and small.count('<tr id="ev-T-BAK-1-') == 3
    assert all(e["raw_sha256"] in small for e in few["controls"][0]["evidence"])


def test_findings_of_one_subject_with_the_same_explanation_share_one_row(html, documents):
    fwp = section(html["en"], "T-FWP")
    deviation_rows = rows(
        fwp[fwp.index('<table class="deviations">') : fwp.index("</table>", fwp.index('<table class="deviations">'))]
    )[1:]
    assert len(deviation_rows) == 2  # tcp/25 on every Monday, tcp/8443 from 1 June
    [smtp] = [r for r in deviation_rows if "tcp/25" in r]
    assert "2026-01-05, 2026-01-12" in smtp and "(52 dates, the last 2026-12-28; the workbook lists them all)" in smtp
    assert "Deviations (83)" in fwp
    log = section(html["en"], "T-LOG-2")
    log_control = next(c for c in documents["en"]["controls"] if c["id"] == "T-LOG-2")
    assert f"Not evidenced ({len(log_control['gaps'])})" in log
    # no Security log read in the year: the servers share one row
    servers = ", ".join(sorted(log_control["population"]["subjects"]))
    assert f'<td>{servers}</td><td class="dates">2026-01-01 – 2026-12-31 (365 dates)</td>' in log
    assert group_findings([]) == []


def test_the_report_is_one_self_contained_file(html):
    for page in html.values():
        assert "<link" not in page and "<script" not in page and "@import" not in page
        assert not re.search(r"""(src|href)=["'](?!data:|#)""", page)
        assert page.count("<style>") == 1 and page.count("</style>") == 1


def test_texts_from_a_profile_are_escaped_in_the_page_and_in_the_print_css(year):
    profile = Profile(name="<script>alert(1)</script>", customer='Klant "B" </style><b>', processor="A & B")
    document = build_document([], load_catalogue(), year.period, [], "en", profile)
    page = render_report_html(document)
    assert "<script" not in page and page.count("</style>") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "A &amp; B" in page
    assert "No controls with an evaluation yet." in page and "No collection runs in this period" in page


# -- the charts ----------------------------------------------------------------------------------------


def test_the_backup_calendar_derives_each_day_from_the_findings(documents):
    bak = next(c for c in documents["en"]["controls"] if c["id"] == "T-BAK-1")
    days = charts.period_days(documents["en"])
    subjects, grid = charts.day_states(bak, days)
    assert subjects == ["dc01", "fs01"] and grid.shape == (2, 365)
    at = {d.isoformat(): i for i, d in enumerate(days)}
    assert grid[1, at[FAILED_BACKUP[1]]] == charts.DEVIATION
    assert grid[1, at[MISSING_BACKUP[1]]] == charts.DEVIATION  # a missed backup, no longer a day without evidence
    assert grid[0, at[EXCEPTED_BACKUP[1]]] == charts.EXCEPTED
    assert (grid == charts.OK).sum() == 2 * 365 - 3  # every other day of a population subject: success
    assert (grid == charts.NO_EVIDENCE).sum() == 0


def test_weekly_coverage_counts_the_population_without_a_deviation(documents):
    av = next(c for c in documents["en"]["controls"] if c["id"] == "T-AV")
    weeks, counts, tested = charts.week_states(av, charts.period_days(documents["en"]))
    week = weeks.index(date(2026, 9, 14))
    assert list(counts[:, week]) == [1, 0, 0, 2]  # ws-031 fine; ws-017 stale that week, ws-023 stale since June
    january = weeks.index(date(2026, 1, 5))
    assert list(counts[:, january]) == [2, 1, 0, 0]  # ws-023 still excepted
    assert not tested[0] and tested[1:].all()  # 1-4 January: no collection of workstations at all


def test_charts_are_inline_svg_images_with_a_text_alternative(html):
    bak = section(html["en"], "T-BAK-1")
    figure = bak[bak.index('<figure class="chart" id="chart-T-BAK-1-backup_calendar">') : bak.index("</figure>")]
    data = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="([^"]+)">', figure)
    svg = base64.b64decode(data.group(1))
    assert b"<svg" in svg and b"<image" in svg  # the day grid is one raster inside the SVG
    assert "Backup result per day for 2 servers over 365 days: 727 server-days succeeded, 2 failed" in data.group(2)
    assert "fs01: 2 failed (2026-03-10, 2026-07-01), 0 without evidence, 0 excepted" in figure
    assert "dc01: 0 failed, 0 without evidence, 1 excepted (2026-11-02)" in figure
    for control_id, key in (("T-AV", "coverage"), ("T-FWH", "coverage"), ("T-LOG-2", "logging_continuity")):
        assert f'id="chart-{control_id}-{key}"' in section(html["en"], control_id)
    assert "fs01: 0 days with evidence (0 with a deviation), 365 without evidence (2026-01-01 – 2026-12-31)" in section(
        html["en"], "T-LOG-2"
    )
    assert "Dekking per week: T-AV" in section(html["nl"], "T-AV")
    assert "<figure" not in section(html["en"], "T-FWP")


def test_a_chart_is_skipped_when_its_control_is_absent_or_has_no_population(documents):
    document = copy.deepcopy(documents["en"])
    document["controls"] = [c for c in document["controls"] if c["id"] not in ("T-BAK-1", "T-LOG-2")]
    av = next(c for c in document["controls"] if c["id"] == "T-AV")
    av["population"].update(size=0, subjects=[])
    assert charts.backup_calendar(document) is None and charts.logging_continuity(document) is None
    assert charts.coverage(document, "T-AV") is None
    assert set(charts.report_charts(document)) == {"T-FWH"}
    page = render_report_html(document)
    assert "<figure" not in section(page, "T-AV") and 'id="chart-T-FWH-coverage"' in page


def _finding(subject: str, day: date, code: str = "x.failed") -> dict:
    return {"subject": subject, "date": day.isoformat(), "code": code, "text": "-", "evidence": []}


def big_document(servers: int = 300) -> dict:
    """A year of 300 servers and 300 workstations with scattered findings: only what the charts read."""
    rng = random.Random(2026)
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]
    mondays = [d for d in days if d.weekday() == 0]
    hosts = [f"srv{n:03d}" for n in range(servers)]
    workstations = [f"ws-{n:03d}" for n in range(servers)]

    def control(cid, subjects, deviations=(), gaps=(), excepted=()):
        return {
            "id": cid,
            "title": cid,
            "population": {"size": len(subjects), "subjects": subjects, "completeness": None},
            "deviations": list(deviations),
            "gaps": list(gaps),
            "excepted": list(excepted),
            "evidence": [],
        }

    return {
        "lang": "en",
        "period": {"start": "2026-01-01", "end": "2026-12-31"},
        "controls": [
            control(
                "T-BAK-1",
                hosts,
                [_finding(h, rng.choice(days)) for h in hosts for _ in range(5)],
                [_finding(h, rng.choice(days), "evidence.no_day") for h in hosts for _ in range(5)],
                [{**_finding(h, rng.choice(days)), "scope": h, "owner": "o", "expires": "2027-01-01"} for h in hosts[::7]],
            ),
            control("T-LOG-2", hosts, gaps=[_finding(h, d, "evidence.no_day") for h in hosts[::10] for d in days[100:130]]),
            control("T-AV", workstations, [_finding(w, d) for w in workstations[::10] for d in mondays]),
            control("T-FWH", workstations, [_finding(w, d) for w in workstations[::3] for d in mondays]),
        ],
    }


def test_charts_of_a_year_of_300_servers_render_in_seconds():
    document = big_document()
    started = time.perf_counter()
    drawn = charts.report_charts(document)
    elapsed = time.perf_counter() - started
    assert set(drawn) == {"T-BAK-1", "T-LOG-2", "T-AV", "T-FWH"}
    [bak] = drawn["T-BAK-1"]
    assert (
        "for 300 servers over 365 days" in bak.summary
        and len(bak.lines) == charts.MAX_LINES
        and bak.more == 300 - charts.MAX_LINES
    )
    assert elapsed < 15, f"charts took {elapsed:.1f} s"  # about 3 s on a busy two-core machine


# -- the PDF -------------------------------------------------------------------------------------------


def test_the_pdf_carries_the_deviation_the_exception_and_the_cover_facts(pdf_pages):
    text = "\f".join(pdf_pages)
    # the explanation wraps in its column, beside management's response
    assert re.search(rf"\b{FAILED_BACKUP[0]}\s+{FAILED_BACKUP[1]}\s+geen\s+geslaagde", text)
    assert re.search(rf"\b{EXCEPTED_BACKUP[0]}\s+{EXCEPTED_BACKUP[1]}\s+.*\bICT manager\s+2027-03-31", text)
    first = pdf_pages[0]
    for fact in (
        "Klant A — zorgverzekeraar",
        "Zorgverzekeraar A",
        "Verwerkersovereenkomst VWO-2025-017",
        "2026-01-01 – 2026-12-31",
        f"auditpack {__version__}",
    ):
        assert fact in first, fact
    assert FINGERPRINT in re.sub(r"\s+", "", first)  # a long value may wrap


def test_the_pdf_is_a4_with_numbered_pages_and_each_control_on_a_new_page(pdf, pdf_pages, documents):
    pages = [p for p in pdf_pages if p.strip()]
    assert f"Pagina 2 van {len(pages)}" in pages[1]
    for control in documents["nl"]["controls"]:
        heading = f"{control['id']} · "
        assert any(p.lstrip().startswith(heading) for p in pages), control["id"]
    info = shutil.which("pdfinfo")
    if info:
        assert "(A4)" in subprocess.run([info, str(pdf)], capture_output=True, text=True, check=True).stdout


def test_a_population_of_hundreds_of_servers_still_prints(documents, tmp_path):
    """Long population lists and a tall day grid still print: the lists are capped and laid out as paragraphs
    (an unbreakable block taller than a page, such as a long CSS grid, makes WeasyPrint give up)."""
    document = copy.deepcopy(documents["en"])
    document["controls"] = [c for c in document["controls"] if c["id"] == "T-BAK-1"]
    bak = document["controls"][0]
    servers = ["dc01", "fs01"] + [f"srv{n:03d}" for n in range(398)]
    bak["population"].update(size=len(servers), subjects=servers)
    bak["population"]["completeness"].update(servers_in_inventory=servers, servers_with_backup_runs=servers)
    page = render_report_html(document)
    assert "Servers in the inventory (400):</strong>" in page and "and 200 more (see the workbook)" in page
    assert write_pdf(page, tmp_path / "big.pdf").read_bytes().startswith(b"%PDF")


def test_write_pdf_replaces_the_file_atomically(tmp_path, monkeypatch):
    target = tmp_path / "out" / "report.pdf"
    assert write_pdf("<p>één</p>", target) == target and target.read_bytes().startswith(b"%PDF")
    old = target.read_bytes()
    from weasyprint.document import Document

    def broken(*args, **kwargs):
        raise RuntimeError("printer on fire")

    monkeypatch.setattr(Document, "write_pdf", broken)
    with pytest.raises(RuntimeError):
        write_pdf("<p>twee</p>", target)
    assert target.read_bytes() == old and sorted(p.name for p in target.parent.iterdir()) == ["report.pdf"]


def test_the_pdf_fetches_nothing_outside_the_html(tmp_path):
    if shutil.which("pdfimages") is None:
        pytest.skip("pdfimages (Debian package poppler-utils) is not installed")
    import matplotlib.image
    import numpy as np

    picture = tmp_path / "outside.png"
    matplotlib.image.imsave(picture, np.array([[0.0, 1.0], [1.0, 0.0]]))
    inline = "data:image/png;base64," + base64.b64encode(picture.read_bytes()).decode()
    path = write_pdf(f'<img src="{picture.as_uri()}"><img src="{inline}">', tmp_path / "x.pdf")
    listed = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    kinds = [line.split()[2] for line in listed.strip().splitlines()[2:]]  # below the header and its rule
    assert kinds.count("image") == 1  # the inline picture only (with its transparency mask)


def test_the_annual_job_builds_the_document_and_writes_html_and_pdf(year, tmp_path):
    document, results = make_document(
        year.store,
        year.period,
        "en",
        exceptions=year.exceptions,
        control_ids=["T-BAK-1"],
        signing_fingerprint=FINGERPRINT,
        today=TODAY,
    )
    path = write_formats(document, tmp_path / "out", ["html", "pdf"])["html"]
    assert path.name == "report-20260101-20261231-en.html" and [r.control_id for r in results] == ["T-BAK-1"]
    page = path.read_text(encoding="utf-8")
    assert FINGERPRINT in page and f'<td>{FAILED_BACKUP[0]}</td><td class="date">{FAILED_BACKUP[1]}</td>' in page
    assert path.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in path.parent.iterdir()) == [path.with_suffix(".html").name, path.with_suffix(".pdf").name]


# -- the HTML in a browser -----------------------------------------------------------------------------


@pytest.mark.skipif(CHROMIUM is None, reason="chromium (Debian package chromium) is not installed")
def test_the_html_renders_in_headless_chromium_without_console_errors(html, tmp_path):
    page = tmp_path / "report-nl.html"
    page.write_text(html["nl"], encoding="utf-8")
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            f"--screenshot={shot}",
            "--window-size=1280,2000",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 20_000
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
