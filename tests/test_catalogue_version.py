"""The catalogue version: declared beside the controls, recorded in every run and report, compared by `diff`."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime

import pytest

from auditpack.controls import version as catalogue
from auditpack.controls.evaluate import evaluate_controls
from auditpack.controls.model import load_catalogue
from auditpack.jobs import run_rows
from auditpack.pack import build_pack
from auditpack.pack_diff import diff_packs, format_diff, has_changes
from auditpack.periods import Period
from auditpack.reports.document import build_document
from auditpack.reports.html import render_report_html
from auditpack.signing import fingerprint, load_or_create_key
from auditpack.store import EvidenceStore
from year_store import build_year

PERIOD = Period(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))


def test_the_declared_digest_is_that_of_the_controls_as_they_are():
    found = catalogue.catalogue_version()
    assert found.digest == found.declared_digest, (
        f"controls/ changed: set digest: \"{found.digest}\" in {catalogue.VERSION_FILE}, and raise version "
        f"(now {found.declared!r}) if the change can alter a verdict"
    )
    assert not found.modified and found.label == found.declared


def test_a_changed_control_or_evaluator_changes_the_digest(tmp_path):
    copy = tmp_path / "controls"
    shutil.copytree(catalogue.CONTROLS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = catalogue.digest_of(copy)
    assert before == catalogue.digest_of(catalogue.CONTROLS_DIR)
    evaluator = copy / "evaluators" / "t_av.py"
    evaluator.write_text(evaluator.read_text() + "\n# a local change\n")
    assert catalogue.digest_of(copy) != before
    (copy / "catalogue" / "_catalogue.yaml").write_text('version: "9"\ndigest: "x"\n')  # the version file is not judged
    assert catalogue.digest_of(copy) == catalogue.digest_of(copy)
    changed = catalogue.CatalogueVersion("2026.12", catalogue.digest_of(copy), before)
    assert changed.modified and changed.label == "2026.12+modified"


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    return build_year(tmp_path_factory.mktemp("cat") / "ev", servers=1, workstations=1)


def _document(store: EvidenceStore, lang: str = "en"):
    results = evaluate_controls(store, PERIOD, today=date(2026, 3, 2))
    return build_document(results, load_catalogue(), PERIOD, run_rows(store, PERIOD), lang, generated_at="2026-03-02T09:00:00Z")


def test_every_run_manifest_records_the_catalogue_in_force(year):
    current = catalogue.catalogue_version()
    refs = year.store.manifest_refs()
    assert refs
    for ref in refs:
        assert year.store.load_manifest(ref)["catalogue"] == {
            "version": current.label,
            "digest": current.digest,
            "modified": False,
        }


def test_the_report_names_the_version_that_judged_it_and_runs_collected_under_another(year, monkeypatch):
    current = catalogue.catalogue_version()
    document = _document(year.store)
    assert document["catalogue"] == {**current.record(), "runs_under_other_versions": []}
    assert all(r["catalogue"] == current.label for r in document["evidence_store"]["runs"])

    older = catalogue.CatalogueVersion("2025.06", "0" * 64, "0" * 64)
    monkeypatch.setattr("auditpack.store.catalogue_version", lambda: older)  # a run made before an upgrade
    run = year.store.begin_run("tester")
    run.started = datetime(2026, 2, 27, 6, tzinfo=UTC)
    run.close_source("registers", "ok", [])
    ref, _ = run.commit()
    monkeypatch.undo()
    document = _document(year.store)
    assert document["catalogue"]["version"] == current.label
    assert document["catalogue"]["runs_under_other_versions"] == [{"version": "2025.06", "runs": [ref.seq]}]
    html = render_report_html(document, charts=False)
    assert f"Catalogue version</dt><dd>{current.label}, SHA-256" in html
    assert f"collected while version 2025.06 was in force: {ref.seq}; judged by the version above" in html
    nl = render_report_html(_document(year.store, "nl"), charts=False)
    assert f"verzameld toen versie 2025.06 gold: {ref.seq}" in nl


def test_diff_says_when_two_packs_were_judged_by_different_catalogues(year, tmp_path, monkeypatch):
    key = load_or_create_key(tmp_path / "signing-key.pem")

    def pack(name: str):
        document = _document(year.store)
        document["signing_key"] = {"algorithm": "Ed25519", "fingerprint": fingerprint(key)}
        return build_pack(year.store, document, {}, tmp_path / name, key, created_at=datetime(2026, 3, 2, tzinfo=UTC)).path

    same_a, same_b = pack("a.zip"), pack("b.zip")
    assert not has_changes(diff_packs(same_a, same_b))
    newer = catalogue.CatalogueVersion("2027.01", "1" * 64, "1" * 64)
    monkeypatch.setattr("auditpack.reports.document.catalogue_version", lambda: newer)
    upgraded = pack("c.zip")
    diff = diff_packs(same_a, upgraded)
    assert (diff["old"]["catalogue"], diff["new"]["catalogue"]) == (catalogue.catalogue_version().label, "2027.01")
    assert has_changes(diff)
    assert f"Judged by another catalogue version ({catalogue.catalogue_version().label} → 2027.01)" in format_diff(diff, "en")
    assert "andere catalogusversie" in format_diff(diff, "nl")
    assert json.loads(json.dumps(diff))["new"]["catalogue"] == "2027.01"
