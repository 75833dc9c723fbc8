"""A readable printed report: the PDF of a busy year, its charts and the workbook's print setup.

One busy synthetic year (tests/year_store.py with many_findings: 40 workstations, weekly deviations, a leaver whose
account name is longer than a table column, the Windows collector's long PowerShell commands), judged over the
demo's period (5 December to 4 December, so the charts' months cross a new year), rendered to PDF once and read
back with pdftotext -layout.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest

from auditpack.controls.evaluate import evaluate_controls
from auditpack.controls.model import load_catalogue
from auditpack.jobs import run_rows
from auditpack.periods import period_from_options
from auditpack.reports import charts
from auditpack.reports.document import build_document
from auditpack.reports.html import render_report_html
from auditpack.reports.i18n import STRINGS
from auditpack.reports.pdf import lay_out, write_layout
from auditpack.reports.workbook import build_workbook
from year_store import AV_SCRIPT, EVENTS_SCRIPT, LONG_LEAVER, build_year

TODAY = date(2027, 1, 20)
GENERATED = "2027-01-20T10:15:00Z"
WORKSTATIONS = 40
PAGES_PER_CONTROL = 2.5  # a control's text, its chart and its tables; the detail is in the workbook
PAGES_AROUND = 4  # cover, summary (two pages) and the collection runs
PDFTOTEXT = shutil.which("pdftotext")
# Runs of a command's words that must stand on one printed line (a command wrapped one token per line breaks them).
COMMAND_PHRASES = {
    AV_SCRIPT: "Get-CimInstance -Namespace root/SecurityCenter2 -ClassName AntiVirusProduct",
    EVENTS_SCRIPT: "$R = 'System.Diagnostics.Eventing.Reader'",
}


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> dict:
    year = build_year(tmp_path_factory.mktemp("busy") / "ev", workstations=WORKSTATIONS, many_findings=True)
    period = period_from_options(None, date(2025, 12, 5), date(2026, 12, 4), fallback_year=2026)
    results = evaluate_controls(year.store, period, exceptions=year.exceptions, today=TODAY)
    runs = run_rows(year.store, period)
    return build_document(results, load_catalogue(), period, runs, "nl", generated_at=GENERATED)


@pytest.fixture(scope="module")
def html(document) -> str:
    return render_report_html(document)


@pytest.fixture(scope="module")
def layout(html):
    """The pages as WeasyPrint laid them out: measured here, and written to the PDF below."""
    return lay_out(html)


@pytest.fixture(scope="module")
def pdf(layout, tmp_path_factory) -> Path:
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (Debian package poppler-utils) is not installed")
    return write_layout(layout, tmp_path_factory.mktemp("pdf") / "busy-nl.pdf")


def pdf_text(pdf: Path, *options: str) -> str:
    return subprocess.run([PDFTOTEXT, *options, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def pdf_pages(pdf) -> list[str]:
    """The PDF's text as laid out on each page."""
    return [page for page in pdf_text(pdf, "-layout").split("\f") if page.strip()]


def control(document: dict, control_id: str) -> dict:
    return next(c for c in document["controls"] if c["id"] == control_id)


def control_pages(pages: list[str], control_id: str) -> str:
    """The text of a control's pages: from its heading up to the next section (a control or the runs)."""
    starts = [i for i, p in enumerate(pages) if re.match(rf"\s*([A-Z]+-[A-Z0-9-]+ · |{STRINGS['nl']['runs']} \()", p)]
    start = next(i for i in starts if pages[i].lstrip().startswith(f"{control_id} · "))
    return "\f".join(pages[start : next((i for i in starts if i > start), None)])


# -- the PDF -------------------------------------------------------------------------------------------


def test_the_pdf_grows_with_the_controls_not_with_the_hosts_or_the_collections(document, pdf_pages):
    items = sum(len(c["evidence"]) for c in document["controls"])
    findings = sum(len(c[k]) for c in document["controls"] for k in ("deviations", "gaps", "excepted", "observations"))
    assert len(document["evidence_store"]["runs"]) > 300 and items > 3000 and findings > 1000  # a busy year indeed
    bound = PAGES_PER_CONTROL * len(document["controls"]) + PAGES_AROUND
    assert len(pdf_pages) <= bound, f"{len(pdf_pages)} pages for {len(document['controls'])} controls"


def _overflowing(box, cell=None):
    """(cell, text) for each run of text that reaches past the right edge of the table cell it sits in."""
    from weasyprint.formatting_structure import boxes

    if isinstance(box, boxes.TableCellBox):
        cell = box
    if isinstance(box, boxes.TextBox) and cell is not None:
        if box.position_x + box.width > cell.content_box_x() + cell.width + 0.5:  # half a point: rounding
            yield cell, box.text
    for child in getattr(box, "children", ()):
        yield from _overflowing(child, cell)


def test_no_text_reaches_past_its_table_cell(layout):
    over = [(n, text) for n, page in enumerate(layout.pages, 1) for _, text in _overflowing(page._page_box)]
    assert over == []  # (page, text): a word too long for its column breaks inside it


def test_a_long_account_name_never_runs_into_the_date_beside_it(document, pdf, pdf_pages):
    # A name wider than its column is printed over the date: read in order it is "KCDEMO\p.vandermee2026-04-20",
    # laid out it stands alone on its line and pushes the date to the next.
    assert re.findall(r"KCDEMO\\[\w.\-]*\d{4}-\d{2}-\d{2}", pdf_text(pdf)) == []
    assert re.findall(r"KCDEMO\\[\w.\-]+\n\s+\d{4}-\d{2}-\d{2}", "\f".join(pdf_pages)) == []
    [late] = [d for d in control(document, "O-LVR")["deviations"] if d["subject"] == LONG_LEAVER["account"]]
    lvr = control_pages(pdf_pages, "O-LVR")
    # the name breaks inside its own column, the date stands apart in the next one
    assert re.search(r"KCDEMO\\adm\.p\.\S*\s+" + re.escape(late["date"]) + r"\s", lvr), lvr


def test_a_long_command_is_printed_once_per_evidence_kind_in_whole_lines(document, pdf_pages):
    text = "\f".join(pdf_pages)
    for script, phrase in COMMAND_PHRASES.items():
        kinds = {(c["id"], e["kind"]) for c in document["controls"] for e in c["evidence"] if script in e["command"]}
        assert kinds, phrase
        assert text.count(phrase) == len(kinds), (phrase, sorted(kinds))


def test_evidence_is_summarised_per_kind_with_counts_and_the_workbook_sheet(document, pdf_pages):
    av = control_pages(pdf_pages, "T-AV")
    items = [e for e in control(document, "T-AV")["evidence"] if e["kind"] == "av.host_status"]
    assert len({e["host"] for e in items}) == WORKSTATIONS
    assert re.search(rf"av\.host_status\s+{len(items)}\s+{WORKSTATIONS}\s", av), av  # kind, items, hosts
    sheet = STRINGS["nl"]["evidence"]
    assert f"werkblad {sheet}" in av and sheet in build_workbook(document).sheetnames


def test_findings_of_one_subject_are_one_row_with_their_dates(document, html):
    av = html[html.index('<section class="control" id="T-AV">') :]
    table = av[av.index('<table class="deviations">') : av.index("</table>", av.index('<table class="deviations">'))]
    rows = re.findall(r"<tr>.*?</tr>", table, flags=re.S)[1:]
    deviations = control(document, "T-AV")["deviations"]
    subjects = {d["subject"] for d in deviations}
    assert len(deviations) > 3 * len(subjects)
    for subject in subjects:  # each subject in one row (subjects with the very same findings may share it)
        assert sum(re.search(rf"\b{subject}\b", r) is not None for r in rows) == 1, subject
    assert len(rows) <= len(subjects)
    dates = sorted(d["date"] for d in deviations if d["subject"] == "ws-100")
    [row] = [r for r in rows if re.search(r"\bws-100\b", r)]
    assert f"({len(dates)} datums" in row and dates[0] in row and dates[-1] in row


# -- the charts ----------------------------------------------------------------------------------------


def _label_boxes(figure, axis: str) -> list:
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    boxes = []
    for ax in figure.axes:
        labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
        boxes += [label.get_window_extent(renderer) for label in labels if label.get_visible() and label.get_text()]
    return boxes


def test_chart_month_labels_stand_apart_and_name_the_year(document):
    drawn = [chart for cs in charts.report_charts(document).values() for chart in cs]
    assert {c.key for c in drawn} == {"backup_calendar", "coverage", "logging_continuity"}
    for chart in drawn:
        months = sorted(_label_boxes(chart.figure, "x"), key=lambda b: b.x0)
        assert len(months) >= 12, chart.key
        for left, right in pairwise(months):
            assert left.x1 < right.x0, (chart.control, chart.key, left, right)
        rows = sorted(_label_boxes(chart.figure, "y"), key=lambda b: b.y0)
        for below, above in pairwise(rows):
            assert below.y1 <= above.y0, (chart.control, chart.key)
        texts = [t.get_text() for ax in chart.figure.axes for t in ax.get_xticklabels()]
        assert any("2026" in t for t in texts), texts  # the year is still said, where it begins


# -- the workbook --------------------------------------------------------------------------------------


def test_every_sheet_prints_landscape_fitted_to_width_with_its_header_on_every_page(document):
    workbook = build_workbook(document)
    t = STRINGS["nl"]
    for ws in workbook.worksheets:
        setup = ws.page_setup
        assert ws.print_title_rows, ws.title
        assert setup.orientation == "landscape" and str(setup.paperSize) == ws.PAPERSIZE_A4, ws.title
        assert setup.fitToWidth == 1 and setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        # a printed page says which sheet it is and where it sits
        assert ws.oddFooter.center.text == f"&A · {t['page']} &P {t['page_of']} &N", ws.title
