"""A report is wholly in one language: the synthetic year rendered in Dutch and in English carries no word of the other.

The year (tests/year_store.py) records what used to slip through untranslated: failed backups, a workstation
missing from AD and one unknown to the anti-virus console, registers that were never imported, facts the
evidence did not name, counts of one. It is evaluated and rendered once for the module; the HTML (charts
included), the workbook's cells and the JSON's own texts are scanned for the other language's words
(tests/language_scan.py), after what the processor and the evidence said is taken out.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from language_scan import (
    LANGS,
    data_strings,
    foreign_words,
    html_text,
    human_texts,
    language_texts,
    own_words,
    without,
    words,
)

from auditpack.controls.evaluate import evaluate_controls
from auditpack.controls.model import load_catalogue
from auditpack.jobs import run_rows
from auditpack.reports.document import build_document
from auditpack.reports.html import render_report_html
from auditpack.reports.i18n import GLOSSARY
from auditpack.reports.workbook import build_workbook
from year_store import build_year

TODAY = date(2027, 1, 20)
GENERATED = "2027-01-20T09:30:00.000000Z"
# What the year's evidence says in its own words and a finding quotes: the firewall rules' and backup jobs' syntax.
EVIDENCE_PHRASES = ("allow 10.0.0.0/16 -> any", "nightly")
# A count said in neither number ("1 dag(en)", "2 server(s)", "periode(n)", "week/weken"), and a value left unsaid.
HALF_PLURAL = re.compile(r"\w\((?:s|en|n)\)|\b([^\W\d_]+)/\1[^\W\d_]*\b")
UNSAID = re.compile(r"(?<![\w?])\?(?![\w?])")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Per language: the document, its HTML page and its workbook's text, for the year and the default profile."""
    year = build_year(tmp_path_factory.mktemp("year") / "ev")
    results = evaluate_controls(year.store, year.period, exceptions=year.exceptions, today=TODAY)
    catalogue, runs = load_catalogue(), run_rows(year.store, year.period)
    out = {}
    for lang in LANGS:
        document = build_document(results, catalogue, year.period, runs, lang, generated_at=GENERATED)
        workbook = build_workbook(document)
        cells = [ws.title for ws in workbook.worksheets] + [
            str(cell.value) for ws in workbook.worksheets for row in ws.iter_rows() for cell in row if cell.value is not None
        ]
        kinds = {kind for control in catalogue.values() for kind in control.evidence_kinds}
        quoted = data_strings(document) | kinds | set(EVIDENCE_PHRASES)
        out[lang] = {
            "document": document,
            "html": html_text(render_report_html(document)),
            "workbook": "\n".join(cells),
            "json": "\n".join(human_texts(document)),
            "quoted": quoted,
        }
    return out


@pytest.mark.parametrize("part", ["html", "workbook", "json"])
@pytest.mark.parametrize("lang", LANGS)
def test_the_report_carries_no_word_of_the_other_language(rendered, lang, part):
    found = foreign_words(rendered[lang][part], lang, rendered[lang]["quoted"])
    assert found == {}, f"{part} in {lang}: " + "; ".join(f"{word!r} in {line!r}" for word, line in found.items())


def test_the_scan_knows_each_language_and_finds_the_other(rendered):
    """The vocabulary is large enough to mean something, and a Dutch sentence in the English report is found."""
    assert all(len(own_words()[lang]) > 300 for lang in LANGS)
    assert {"afwijking", "maatregel", "geslaagd"} <= own_words()["nl"] and {"deviation", "control"} <= own_words()["en"]
    assert set(foreign_words("geen bewijs voor deze dag", "en")) == {"geen", "bewijs", "voor", "deze", "dag"}
    assert set(foreign_words("no evidence for this day", "nl")) == words("no evidence for this day")


def test_what_the_processor_said_is_quoted_not_scanned(rendered):
    """The year's exceptions are justified in English: the Dutch report quotes them and the scan leaves them alone."""
    nl = rendered["nl"]
    assert "backup disk replaced that night" in nl["html"] and "backup disk replaced that night" in nl["quoted"]
    assert "night" in foreign_words("backup disk replaced that night", "nl")
    assert foreign_words("backup disk replaced that night", "nl", nl["quoted"]) == {}


def words_as_written(text: str) -> set[str]:
    return set(re.findall(r"\w+", text))


@pytest.mark.parametrize("part", ["html", "workbook", "json"])
@pytest.mark.parametrize("lang", LANGS)
def test_counts_are_singular_or_plural_and_unknown_values_are_words(rendered, lang, part):
    text = rendered[lang][part]
    assert [m.group(0) for m in HALF_PLURAL.finditer(text)] == []
    assert [text[max(0, m.start() - 60) : m.end() + 20] for m in UNSAID.finditer(text)] == []
    assert "None" not in words_as_written(rendered[lang]["json"])  # Python's None, written into a finding


def test_the_year_says_what_used_to_slip_through_in_words(rendered):
    """The cases tests/year_store.py holds for this test, as the Dutch report now says them."""
    nl, en = rendered["nl"]["json"], rendered["en"]["json"]
    assert "de runs van die dag zijn mislukt (job nightly)" in nl and "1 dag later" in nl
    assert "werkplek ontbreekt in: Active Directory (wel aanwezig in: inventaris en antivirusconsole)" in nl
    assert "het datalekregister is niet aangeleverd" in nl and "the breach register was not provided" in en
    assert "Windows Firewall-regel onbekend: onbekend (profielen onbekend)" in nl
    assert "geen contact met de antivirusconsole vastgelegd" in nl
    assert "standaard (waarden uit de catalogus)" in nl and "default (catalogue defaults)" in en
    assert "Annex 2 · Technical measures · Backup" in en and "Bijlage 2 · Technische maatregelen · Back-up" in nl


@pytest.mark.parametrize("lang", LANGS)
def test_each_concept_has_one_term_in_every_text_and_report(rendered, lang):
    """GLOSSARY (reports/i18n.py): every text of a language uses the term, never a variant; and so does its report."""
    variants = {concept: [v.lower() for v in terms[lang][1:]] for concept, terms in GLOSSARY.items()}
    everywhere = [v for vs in variants.values() for v in vs]
    quoted = [q for q in rendered[lang]["quoted"] if any(v in q.lower() for v in everywhere)]  # only those can hide one
    texts = {
        "vocabulary": "\n".join(language_texts(lang)).lower(),
        "report": without("\n".join(rendered[lang][part] for part in ("html", "workbook")), quoted).lower(),
    }
    for name, text in texts.items():
        used = {concept: [v for v in vs if v in text] for concept, vs in variants.items()}
        assert {concept: vs for concept, vs in used.items() if vs} == {}, name
    assert [concept for concept, terms in GLOSSARY.items() if terms[lang][0].lower() not in texts["vocabulary"]] == []
