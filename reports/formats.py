"""The report formats, in one registry: name, file suffix and `write(document, path)`, in a fixed order.

Adding a format is one entry here; the annual job writes what is listed and the command
line offers FORMAT_NAMES. A format may write files beside its main one (`parts`: OSCAL's
assessment results import the plan, SSP, profile and catalogue written next to them); they
are named here, once, by `beside`. This module stays light to import (the command line
reads it for --help): each writer imports its renderer (openpyxl, WeasyPrint, jsonschema,
trestle, py-ocsf-models, matplotlib) only when it is called.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditpack.atomic import write_atomic

Document = dict[str, Any]


# the OSCAL files written beside the assessment results: each imports the next (results -> plan -> ... -> catalogue)
OSCAL_PARTS = ("plan", "ssp", "profile", "catalogue")


def beside(path: Path, part: str) -> Path:
    """The file PART written beside a format's main file PATH: report-…-oscal.json -> report-…-oscal-plan.json."""
    return path.with_name(f"{path.name.removesuffix('.json')}-{part}.json")


@dataclass(frozen=True)
class ReportFormat:
    name: str
    suffix: str  # appended to the report's base name: ".html", or "-oscal.json" so it cannot clash with the JSON
    write: Callable[[Document, Path], None]  # writes the main file and its parts
    parts: tuple[str, ...] = ()  # files the writer puts beside the main one (see `beside`)

    def path(self, base: Path) -> Path:
        """Where this format of the report named BASE (a path without suffix) is written."""
        return base.with_name(base.name + self.suffix)

    def files(self, base: Path) -> dict[str, Path]:
        """Every file this format writes for BASE: {name: path}, the main file first, then "<name>-<part>"."""
        main = self.path(base)
        return {self.name: main, **{f"{self.name}-{part}": beside(main, part) for part in self.parts}}


_last_html: tuple[str, str] = ("", "")  # (digest of the document, its HTML): the PDF prints the HTML just written


def report_html(document: Document) -> str:
    """The report's HTML, rendered once per document content: writing HTML and PDF draws the charts once."""
    global _last_html
    digest = hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()
    if _last_html[0] != digest:
        from .html import render_report_html

        _last_html = (digest, render_report_html(document))
    return _last_html[1]


def write_html(document: Document, path: Path) -> None:
    write_atomic(path, report_html(document))


def write_pdf(document: Document, path: Path) -> None:
    from .pdf import write_pdf as print_html

    print_html(report_html(document), path)


def write_xlsx(document: Document, path: Path) -> None:
    from .workbook import write_workbook

    write_workbook(document, path)


def write_json(document: Document, path: Path) -> None:
    from .json_export import write_json as write_validated_json

    write_validated_json(document, path)


def write_oscal(document: Document, path: Path) -> None:
    from .oscal import write_oscal as write_oscal_files

    write_oscal_files(document, path)


def write_ocsf(document: Document, path: Path) -> None:
    from .ocsf import write_ocsf as write_compliance_findings

    write_compliance_findings(document, path)


REPORT_FORMATS: tuple[ReportFormat, ...] = (
    ReportFormat("html", ".html", write_html),
    ReportFormat("pdf", ".pdf", write_pdf),
    ReportFormat("xlsx", ".xlsx", write_xlsx),
    ReportFormat("json", ".json", write_json),
    ReportFormat("oscal", "-oscal.json", write_oscal, OSCAL_PARTS),
    ReportFormat("ocsf", "-ocsf.json", write_ocsf),
)
FORMAT_NAMES: tuple[str, ...] = tuple(f.name for f in REPORT_FORMATS)


def formats_named(names: Sequence[str]) -> list[ReportFormat]:
    """The formats called NAMES, in the registry's order; ValueError naming any unknown one and the choices."""
    unknown = set(names) - set(FORMAT_NAMES)
    if unknown:
        raise ValueError(f"unknown report format(s) {', '.join(sorted(unknown))}; choose from {', '.join(FORMAT_NAMES)}")
    return [f for f in REPORT_FORMATS if f.name in names]
