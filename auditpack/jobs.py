"""The main jobs the CLI offers, as functions: collect, evaluate, report, verify."""

from __future__ import annotations

import os
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from collections.abc import Sequence

from auditpack.controls.evaluate import evaluate_controls
from auditpack.controls.exceptions import ExceptionEntry
from auditpack.controls.profiles import DEFAULT_PROFILE, Profile
from auditpack.controls.evidence_view import Period
from auditpack.controls.model import Control, load_catalogue
from auditpack.controls.result import ControlResult
from auditpack.reports.document import build_document
from auditpack.reports.html import render_report_html

from .canonical import parse_iso
from .inventory import Inventory, load_inventory, parse_inventory
from .store import EvidenceStore

DEFAULT_INVENTORY_NAME = "inventory.yaml"


def builtin_inventory() -> Inventory:
    data = resources.files("auditpack").joinpath("default_inventory.yaml").read_bytes()
    return parse_inventory(data, "<built-in inventory>")


def find_inventory(path: str | None) -> Inventory:
    """The inventory named, else ./inventory.yaml, else the built-in one (this machine only)."""
    if path:
        return load_inventory(path)
    if Path(DEFAULT_INVENTORY_NAME).exists():
        return load_inventory(DEFAULT_INVENTORY_NAME)
    return builtin_inventory()


def run_rows(store: EvidenceStore, period: Period) -> list[dict[str, Any]]:
    rows = []
    for ref in store.manifest_refs():
        body = store.load_manifest(ref)
        if period.start <= parse_iso(body["started"]) < period.end:
            rows.append({"seq": ref.seq, "sha256": ref.sha256, "run_id": body["run_id"], "started": body["started"],
                         "operator": body["operator"], "status": body["status"], "hosts": body["hosts"]})
    return rows


def latest_run_year(store: EvidenceStore) -> int | None:
    refs = store.manifest_refs()
    if not refs:
        return None
    return parse_iso(store.load_manifest(refs[-1])["started"]).year


def write_report(store: EvidenceStore, period: Period, out_dir: Path, lang: str = "nl",
                 catalogue: dict[str, Control] | None = None, profile: Profile = DEFAULT_PROFILE,
                 exceptions: Sequence[ExceptionEntry] = (), control_ids: Sequence[str] | None = None, *,
                 pdf: bool = False, signing_fingerprint: str | None = None,
                 samples: list[dict[str, Any]] | None = None, today: date | None = None) -> tuple[Path, list[ControlResult]]:
    """Evaluate, build the report document once, and write the HTML report (and with `pdf`, the PDF beside it).

    Returns the HTML report's path and the results.
    """
    catalogue = catalogue or load_catalogue()
    results = evaluate_controls(store, period, catalogue, profile, exceptions, control_ids=control_ids, today=today)
    document = build_document(results, catalogue, period, run_rows(store, period), lang, profile,
                              signing_fingerprint=signing_fingerprint, samples=samples)
    html = render_report_html(document)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"report-{period.start:%Y%m%d}-{period.end:%Y%m%d}-{lang}.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)
    if pdf:
        from auditpack.reports.pdf import write_pdf

        write_pdf(html, path.with_suffix(".pdf"))
    return path, results
