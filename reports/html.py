"""The HTML report: one self-contained file, rendered from results; it never recomputes a verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from auditpack import __version__
from auditpack.canonical import iso, utcnow
from auditpack.controls.evidence_view import Period
from auditpack.controls.model import Control
from auditpack.controls.profiles import DEFAULT_PROFILE, Profile
from auditpack.controls.result import ControlResult

from .i18n import LANGS, STATE_LABELS, STATUS_LABELS, STRINGS

TEMPLATES = Path(__file__).parent / "templates"


def render_html(results: list[ControlResult], catalogue: dict[str, Control], period: Period, runs: list[dict[str, Any]],
                store_path: str, lang: str = "nl", profile: Profile = DEFAULT_PROFILE) -> str:
    if lang not in LANGS:
        raise ValueError(f"language {lang!r} is not available; choose one of {', '.join(LANGS)}")
    env = Environment(loader=PackageLoader("auditpack.reports", "templates"), autoescape=select_autoescape(["j2", "html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    template = env.get_template("report.html.j2")
    return template.render(
        lang=lang, t=STRINGS[lang], status_label=STATUS_LABELS[lang], state=STATE_LABELS[lang], css=(TEMPLATES / "report.css").read_text(),
        results=results, catalogue=catalogue, period=period, runs=runs, store_path=store_path, profile=profile,
        chain_head=runs[-1]["sha256"] if runs else None, generated=iso(utcnow()), version=__version__,
    )
