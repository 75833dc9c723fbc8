"""The yearly audit as one job: evaluate the period, write every report format, build the signed pack.

Each format renders the same report document (reports/document.py), so the
HTML, PDF, workbook, JSON, OSCAL and OCSF cannot disagree. A pseudonymised pack is
made from a pseudonymised document, so every format in it is pseudonymised too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from auditpack.controls.evaluate import evaluate_controls
from auditpack.controls.exceptions import ExceptionEntry
from auditpack.controls.model import Control, load_catalogue
from auditpack.controls.profiles import DEFAULT_PROFILE, Profile
from auditpack.controls.result import ControlResult
from auditpack.periods import Period
from auditpack.reports.document import build_document, evidence_item_ids
from auditpack.reports.formats import FORMAT_NAMES, formats_named

from .jobs import run_rows
from .pack import PackSummary, build_pack
from .private import make_private_dirs
from .pseudonymise import Pseudonymiser, names_in_store
from .responses import responses_in
from .sampling import samples_for
from .scope import supplied_files
from .store import EvidenceStore

Progress = Callable[[str], None]  # told each step as it begins ("writing PDF"), for a command to show


def no_progress(step: str) -> None:
    """A library caller that shows nothing."""


@dataclass
class AnnualReport:
    document: dict[str, Any]
    results: list[ControlResult]
    files: dict[str, Path]  # format -> file


def make_document(
    store: EvidenceStore,
    period: Period,
    lang: str = "nl",
    profile: Profile = DEFAULT_PROFILE,
    exceptions: Sequence[ExceptionEntry] = (),
    control_ids: Sequence[str] | None = None,
    signing_fingerprint: str | None = None,
    pseudonymiser: Pseudonymiser | None = None,
    catalogue: dict[str, Control] | None = None,
    today: date | None = None,
    progress: Progress = no_progress,
) -> tuple[dict[str, Any], list[ControlResult]]:
    catalogue = catalogue or load_catalogue()
    progress(f"evaluating {len(control_ids) if control_ids else len(catalogue)} controls over {period.label}")
    results = evaluate_controls(store, period, catalogue, profile, exceptions, control_ids=control_ids, today=today)
    document = build_document(
        results,
        catalogue,
        period,
        run_rows(store, period),
        lang,
        profile,
        signing_fingerprint,
        samples_for(store, period),
        responses=responses_in(store),
        supplied=supplied_files(store, period),
    )
    return (pseudonymiser.data(document) if pseudonymiser else document), results


def report_name(document: dict[str, Any]) -> str:
    period = document["period"]
    return f"report-{period['start'].replace('-', '')}-{period['end'].replace('-', '')}-{document['lang']}"


def write_formats(
    document: dict[str, Any], out_dir: Path, formats: Sequence[str] = FORMAT_NAMES, progress: Progress = no_progress
) -> dict[str, Path]:
    """Every requested format of one document into out_dir, in the registry's order.

    Returns {name: path} for every file written: a format's main file under the format's name, the files
    it writes beside it under "<format>-<part>" ("oscal-plan", …), so the pack carries them all.
    """
    chosen = formats_named(formats)
    make_private_dirs(out_dir)
    base = out_dir / report_name(document)
    files: dict[str, Path] = {}
    for report_format in chosen:
        progress(f"writing {report_format.name.upper()}")
        written = report_format.files(base)
        report_format.write(document, written[report_format.name])
        files.update(written)
    return files


def pseudonymiser_for(store: EvidenceStore, key: bytes) -> Pseudonymiser:
    return Pseudonymiser(key, names_in_store(store))


def annual_pack(
    store: EvidenceStore,
    period: Period,
    out_dir: Path,
    signing_key: Any,
    *,
    lang: str = "nl",
    profile: Profile = DEFAULT_PROFILE,
    exceptions: Sequence[ExceptionEntry] = (),
    pseudonym_key: bytes | None = None,
    today: date | None = None,
    progress: Progress = no_progress,
) -> tuple[AnnualReport, PackSummary]:
    """The report in every format and the signed pack holding it and the evidence it cites."""
    from .signing import fingerprint

    pseudo = pseudonymiser_for(store, pseudonym_key) if pseudonym_key else None
    document, results = make_document(
        store,
        period,
        lang,
        profile,
        exceptions,
        signing_fingerprint=fingerprint(signing_key),
        pseudonymiser=pseudo,
        today=today,
        progress=progress,
    )
    suffix = "-pseudonymised" if pseudo else ""
    files = write_formats(document, out_dir / f"{report_name(document)}{suffix}", progress=progress)
    progress(f"packing {len(evidence_item_ids(document))} evidence items and signing")
    pack_path = out_dir / f"auditpack-{report_name(document).removeprefix('report-')}{suffix}.zip"
    summary = build_pack(
        store,
        document,
        {p.name: p for p in files.values()},
        pack_path,
        signing_key,
        blob_transform=pseudo.blob if pseudo else None,
        meta_transform=pseudo.data if pseudo else None,
    )
    return AnnualReport(document, results, files), summary
