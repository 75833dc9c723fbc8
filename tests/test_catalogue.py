"""The whole control catalogue: every promise covered, both languages, references, parameters, evaluators."""

from __future__ import annotations

import re

import pytest

from auditpack.controls.evaluate import finalize
from auditpack.controls.evaluators import EVALUATORS
from auditpack.controls.messages import JOINERS, all_messages
from auditpack.controls.model import load_catalogue
from auditpack.wording import fields
from conftest import SHARED
from evidence_factory import context, run

# The rows of MEASURES.md (technical and organisational measures).
PROMISES = [
    "T-LOG",
    "T-SUP",
    "T-FWP",
    "T-FWH",
    "T-AV",
    "T-BAK",
    "T-CON",
    "T-TLS",
    "O-NTK",
    "O-NDA",
    "O-SRV",
    "O-KEY",
    "O-PWD",
    "O-LVR",
    "O-BRE",
    "O-RET",
    "O-EEA",
]
GDPR = re.compile(r"^art\. \d+(\(\d\))?(\([a-h]\))?(-\([a-h]\))?$")
ISO = re.compile(r"^A\.[5-8]\.\d{1,2}$")
CATALOGUE = load_catalogue()


def test_promise_list_matches_measures_md():
    measures = SHARED / "MEASURES.md"
    if not measures.exists():
        pytest.skip(f"{measures} not available")
    rows = re.findall(r"^\| ([TO]-[A-Z]{2,3}) \|", measures.read_text(), re.M)
    assert rows == PROMISES


@pytest.mark.parametrize("promise", PROMISES)
def test_every_promise_has_a_control(promise):
    assert [cid for cid in CATALOGUE if cid == promise or cid.startswith(promise + "-")]


@pytest.mark.parametrize("control_id", sorted(CATALOGUE))
def test_control_is_complete_and_bilingual(control_id):
    c = CATALOGUE[control_id]
    assert re.fullmatch(r"[TO]-[A-Z]{2,3}(-\d)?", c.id)
    assert c.annex_section.nl.startswith(("Bijlage 2 · Technische maatregelen", "Bijlage 2 · Organisatorische maatregelen"))
    assert c.annex_section.en.startswith(("Annex 2 · Technical measures", "Annex 2 · Organisational measures"))
    assert (c.id[0] == "T") == ("Technische" in c.annex_section.nl) == ("Technical" in c.annex_section.en)
    for text in (c.title, c.description, c.test_procedure.design, c.test_procedure.operation):
        assert len(text.nl) > 20 and len(text.en) > 20 and text.nl != text.en
    assert c.references.gdpr and all(GDPR.match(ref) for ref in c.references.gdpr), c.references.gdpr
    assert c.references.iso27001_2022 and all(ISO.match(ref) for ref in c.references.iso27001_2022), c.references.iso27001_2022
    assert c.evidence_kinds
    assert "tolerated_deviation_rate" in c.parameters
    for name, param in c.parameters.items():
        assert param.description.nl and param.description.en, name
    assert 0 <= c.parameters["tolerated_deviation_rate"].default <= 1


def test_every_control_has_exactly_one_evaluator():
    assert set(EVALUATORS) == set(CATALOGUE)


@pytest.mark.parametrize("control_id", sorted(CATALOGUE))
def test_evaluator_runs_on_no_evidence_and_never_passes(control_id):
    ctx = context(
        control_id,
        [],
        [
            run(
                1,
                "2026-05-01",
                {"h1": ["workstation", "server", "domain_controller", "firewall", "file_server", "backup_server"]},
            )
        ],
    )
    result = finalize(ctx, EVALUATORS[control_id](ctx), [])
    assert result.status in ("not_evidenced", "not_applicable"), (control_id, result.status)


def test_every_message_exists_in_both_languages_with_the_same_placeholders():
    for code, texts in all_messages().items():
        assert set(texts) == set(JOINERS), code
        placeholders = {lang: {name for name, _ in fields(text)} for lang, text in texts.items()}
        assert placeholders["nl"] == placeholders["en"], code
