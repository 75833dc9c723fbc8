"""The HTML report: one self-contained file (CSS and charts inline), rendered from the report document.

`render_report_html(document)` reads nothing but the document built by
`reports/document.py::build_document`; it never recomputes a verdict or opens the
evidence store. The same HTML is printed to PDF by `reports/pdf.py` (A4, a page
per control, page numbers), so the print rules live in the same stylesheet.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from .i18n import (
    COMPLETENESS_LABELS,
    FREQUENCY_LABELS,
    ITEM_RESULT_LABELS,
    LANGS,
    SOURCE_LABELS,
    STATE_LABELS,
    STATUS_LABELS,
    STRINGS,
)

TEMPLATES = Path(__file__).parent / "templates"
EVIDENCE_SHOWN = 50  # evidence references listed per control; the workbook carries all of them
SUBJECTS_SHOWN = 200  # population subjects named per control
GAP_RANGES_SHOWN = 20  # date ranges named per row of days not evidenced


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("auditpack.reports", "templates"),
        autoescape=select_autoescape(["j2", "html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


# -- views on the document that only change how it is shown -------------------------------------


def date_ranges(days: list[str]) -> list[str]:
    """ISO dates as runs of consecutive days: '2026-01-01 – 2026-01-31', '2026-03-10'."""
    out: list[list[str]] = []
    for day in sorted(set(days)):
        if out and _next_day(out[-1][1]) == day:
            out[-1][1] = day
        else:
            out.append([day, day])
    return [first if first == last else f"{first} – {last}" for first, last in out]


def group_findings(findings: list[dict[str, Any]], max_ranges: int | None = None) -> list[dict[str, Any]]:
    """Findings of one subject with the same explanation as one row, with every date (as ranges of days).

    A firewall rule without a reason, found on 52 Mondays, is one row with 52 dates rather than 52 rows;
    findings whose explanation names something of the day (an age, a count) stay rows of their own.
    With `max_ranges`, a row names that many date ranges and counts the rest.
    """
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for f in findings:
        row = groups.setdefault(
            (f["subject"], f["text"]), {"subject": f["subject"], "text": f["text"], "dates": [], "evidence": []}
        )
        row["dates"].append(f["date"])
        row["evidence"] += [e for e in f["evidence"] if e not in row["evidence"]]
    rows = []
    for row in groups.values():
        ranges = date_ranges(row["dates"])
        shown = ranges if max_ranges is None else ranges[:max_ranges]
        rows.append(
            {
                **row,
                "count": len(set(row["dates"])),
                "first": min(row["dates"]),
                "ranges": shown,
                "more_ranges": len(ranges) - len(shown),
            }
        )
    return sorted(rows, key=lambda r: (r["first"], r["subject"]))


def _next_day(day: str) -> str | None:
    try:
        return (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    except ValueError:
        return None


def run_months(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The collection runs per calendar month: how many, which sequence numbers, states, operators, last manifest."""
    months: dict[str, dict[str, Any]] = {}
    for run in runs:
        m = months.setdefault(
            run["started"][:7],
            {
                "month": run["started"][:7],
                "runs": 0,
                "first_seq": run["seq"],
                "last_seq": run["seq"],
                "statuses": {},
                "operators": [],
                "last_manifest": run["manifest_sha256"],
            },
        )
        m["runs"] += 1
        m["first_seq"], m["last_seq"] = min(m["first_seq"], run["seq"]), max(m["last_seq"], run["seq"])
        m["statuses"][run["status"]] = m["statuses"].get(run["status"], 0) + 1
        if run["operator"] not in m["operators"]:
            m["operators"].append(run["operator"])
        if run["seq"] == m["last_seq"]:
            m["last_manifest"] = run["manifest_sha256"]
    return list(months.values())


def evidence_shown(control: dict[str, Any], limit: int = EVIDENCE_SHOWN) -> list[dict[str, Any]]:
    """At most `limit` evidence references: those a finding cites first, then the rest, each in document order."""
    cited = {i for key in ("deviations", "gaps", "excepted", "observations") for f in control[key] for i in f["evidence"]}
    first = [e for e in control["evidence"] if e["item_id"] in cited]
    rest = [e for e in control["evidence"] if e["item_id"] not in cited]
    return (first + rest)[:limit]


def format_value(value: Any, t: dict[str, str]) -> str:
    """A parameter value in words: booleans translated, lists joined, mappings as key=value."""
    if isinstance(value, bool):
        return t["yes"] if value else t["no"]
    if isinstance(value, dict):
        return ", ".join(f"{k}={format_value(v, t)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        if any(isinstance(v, dict) for v in value):
            return "; ".join(format_value(v, t) for v in value)
        return ", ".join(format_value(v, t) for v in value)
    return str(value)


def drawn_units(sample: dict[str, Any], lang: str) -> list[str]:
    """A sample's drawn units, each with its outcome when it is one tested item (a subject drawn in an older sample
    stands for all its dates: those are in the workbook's Samples sheet)."""
    per_unit: dict[str, list[str | None]] = {}
    for item in sample["items"]:
        per_unit.setdefault(item["unit"], []).append(item["result"])
    labels = ITEM_RESULT_LABELS[lang]
    return [
        f"{unit} ({labels[results[0] or 'not_in_report']})" if len(results) == 1 else unit for unit, results in per_unit.items()
    ]


def tested_sheet_name(control_id: str, lang: str) -> str:
    """The workbook sheet with a control's tested items, as the report points to it."""
    return STRINGS[lang]["tested_sheet"].format(control=control_id)


def attributes_text(attributes: dict[str, Any], labels: dict[str, str], t: dict[str, str]) -> str:
    """A tested item's attributes on one line, 'label: value · label: value', in labels' order; unknown as a dash."""
    shown = [key for key in labels if key in attributes]
    return " · ".join(f"{labels[key]}: {'—' if attributes[key] is None else format_value(attributes[key], t)}" for key in shown)


def completeness_rows(completeness: dict[str, Any] | None, lang: str) -> list[tuple[str, str]]:
    """The population's completeness as (label, text) rows, whatever shape the evaluator recorded."""
    if not completeness:
        return []
    labels, sources, none = COMPLETENESS_LABELS[lang], SOURCE_LABELS[lang], STRINGS[lang]["none"]
    rows = []
    for key, value in completeness.items():
        label = labels.get(key, key)
        if key == "sources" and isinstance(value, dict):
            text = "; ".join(f"{sources.get(name, name)} ({len(members)})" for name, members in value.items())
        elif key == "not_provided" and isinstance(value, list):
            text = ", ".join(sources.get(name, name) for name in value)
        elif key == "missing" and isinstance(value, list):
            text = "; ".join(
                f"{m.get('host')}: {labels['missing_from']} {', '.join(sources.get(s, s) for s in m.get('missing_from', []))}"
                for m in value
            )
        elif isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
            label = f"{label} ({len(value)})"
            text = ", ".join(str(v) for v in value[:SUBJECTS_SHOWN])
            if len(value) > SUBJECTS_SHOWN:
                text += " " + STRINGS[lang]["more_subjects"].format(count=len(value) - SUBJECTS_SHOWN)
        else:
            text = format_value(value, STRINGS[lang])
        rows.append((label, text or none))
    return rows


def _css_string(text: str) -> str:
    """A CSS string literal that cannot end the string or the <style> element it sits in."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3C ")
    return f'"{escaped}"'


def page_css(document: dict[str, Any]) -> Markup:
    """The @page rules that carry words: the running footer and 'page n of m', in the document's language."""
    t = STRINGS[document["lang"]]
    period = f"{document['period']['start']} – {document['period']['end']}"
    who = document["profile"]["customer"] or document["profile"]["name"]
    footer = _css_string(f"{who} · {period}")
    page = f"{_css_string(t['page'] + ' ')} counter(page) {_css_string(' ' + t['page_of'] + ' ')} counter(pages)"
    ref = _css_string(f" · {t['page_abbr']} ")
    return Markup(
        f"@page {{ @bottom-left {{ content: {footer}; }} @bottom-right {{ content: {page}; }} }}\n"
        f"@page :first {{ @bottom-left {{ content: none; }} }}\n"
        f"@media print {{ table.summary a.ref::after {{ content: {ref} target-counter(attr(href), page); }} }}\n"
    )


def _control_view(control: dict[str, Any], lang: str, charts: list[dict[str, Any]]) -> dict[str, Any]:
    t = STRINGS[lang]
    shown = evidence_shown(control)
    total = len(control["evidence"])
    note = (
        t["evidence_all"].format(count=total)
        if len(shown) == total
        else t["evidence_first"].format(shown=len(shown), count=total)
    )
    subjects = control["population"]["subjects"]
    return {
        "c": control,
        "parameters": [(name, format_value(value, t)) for name, value in control["parameters"].items()],
        "subjects": subjects[:SUBJECTS_SHOWN],
        "subjects_more": max(0, len(subjects) - SUBJECTS_SHOWN),
        "completeness": completeness_rows(control["population"]["completeness"], lang),
        "deviation_rows": group_findings(control["deviations"]),
        "gap_rows": group_findings(control["gaps"], max_ranges=GAP_RANGES_SHOWN),
        "evidence": shown,
        "evidence_anchors": {e["item_id"] for e in shown},
        "evidence_note": note if total else "",
        "charts": charts,
        "frequency": FREQUENCY_LABELS[lang].get(control["frequency"], control["frequency"]),
        "coverage": coverage_text(control["coverage"], t),
        "samples": [{**s, "units": drawn_units(s, lang)} for s in control["samples"]],
        # the tested items are the workbook's: one sentence here, so the PDF stays short
        "tested_note": t["tested_items_note"].format(
            count=len(control["tested_items"]), sheet=tested_sheet_name(control["id"], lang)
        )
        if control["tested_items"]
        else "",
    }


COVERAGE_RANGES_SHOWN = 6


def coverage_text(coverage: dict[str, Any] | None, t: dict[str, str]) -> str:
    """One line: how many of the expected test dates the evidence covers, and the first stretches it does not."""
    if not coverage:
        return ""
    percent = round(100 * coverage["evidenced"] / coverage["expected"]) if coverage["expected"] else 0
    line = t["coverage_line"].format(
        evidenced=coverage["evidenced"],
        expected=coverage["expected"],
        unit=t[f"unit_{coverage['unit']}"],
        percent=percent,
        minimum=round(100 * coverage["minimum"]),
    )
    missing = coverage["missing"]
    if not missing:
        return line
    shown = ", ".join(a if a == b else f"{a} – {b}" for a, b in missing[:COVERAGE_RANGES_SHOWN])
    more = (
        f" {t['coverage_more'].format(count=len(missing) - COVERAGE_RANGES_SHOWN)}"
        if len(missing) > COVERAGE_RANGES_SHOWN
        else ""
    )
    return f"{line}; {t['coverage_missing']}: {shown}{more}"


def render_report_html(document: dict[str, Any], *, charts: bool = True) -> str:
    """The report as one HTML page: cover, management summary, a section per control, the collection runs."""
    lang = document["lang"]
    if lang not in LANGS:
        raise ValueError(f"language {lang!r} is not available; choose one of {', '.join(LANGS)}")
    by_control: dict[str, list[dict[str, Any]]] = {}
    if charts:
        from .charts import report_charts  # matplotlib is only imported when a report is drawn

        by_control = {cid: [c.as_dict() for c in cs] for cid, cs in report_charts(document).items()}
    t = STRINGS[lang]
    period = document["period"]
    template = _environment().get_template("report.html.j2")
    return template.render(
        doc=document,
        t=t,
        lang=lang,
        status_labels=STATUS_LABELS[lang],
        state_labels=STATE_LABELS[lang],
        period_label=f"{period['start']} – {period['end']}",
        summary_intro=t["summary_intro"].format(start=period["start"], end=period["end"]),
        run_months=run_months(document["evidence_store"]["runs"]),
        other_runs=[r for r in document["evidence_store"]["runs"] if r["status"] != "complete"],
        controls=[_control_view(c, lang, by_control.get(c["id"], [])) for c in document["controls"]],
        css=Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        page_css=page_css(document),
    )
