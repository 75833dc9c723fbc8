"""The HTML report: one self-contained file (CSS and charts inline), rendered from the report document.

`render_report_html(document)` reads nothing but the document built by
`reports/document.py::build_document`; it never recomputes a verdict or opens the
evidence store. The same HTML is printed to PDF by `reports/pdf.py` (A4, a page
per control, page numbers), so the print rules live in the same stylesheet. Findings
and evidence are printed grouped and counted (`reports/grouped.py`), so the report's
length follows its controls; the workbook keeps every item.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from auditpack.controls.messages import term

from .document import run_timestamp_state
from .grouped import ROWS_SHOWN, evidence_kinds, group_findings, listed_evidence, to_the_second
from .i18n import (
    COMPLETENESS_LABELS,
    FREQUENCY_LABELS,
    ITEM_RESULT_LABELS,
    LANGS,
    STATE_LABELS,
    STATUS_LABELS,
    STRINGS,
    TIMESTAMP_LABELS,
    TIMESTAMP_REASONS,
)

TEMPLATES = Path(__file__).parent / "templates"
SUBJECTS_SHOWN = 200  # population subjects named per control


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


def response_line(response: dict[str, Any] | None, t: dict[str, str]) -> str:
    """Management's response in one line: cause, action, owner, fixed, retest; or that it is open."""
    if response is None:
        return t["response_open"]
    fixed = t["fixed_on"].format(day=response["fixed_on"]) if response["fixed_on"] else t["not_fixed"]
    retest = (
        t["retest"].format(day=response["retest_on"], result=t[f"retest_{response['retest_result']}"])
        if response["retest_on"] and response["retest_result"]
        else t["retest_pending"]
    )
    return (
        f"{t['cause']}: {response['cause']}. {t['corrective_action']}: {response['corrective_action']} "
        f"({t['owner'].lower()}: {response['owner']}; {fixed}; {retest})."
    )


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
                "timestamps": {},
            },
        )
        m["runs"] += 1
        if (state := run_timestamp_state(run)) is not None:
            m["timestamps"][state] = m["timestamps"].get(state, 0) + 1
        m["first_seq"], m["last_seq"] = min(m["first_seq"], run["seq"]), max(m["last_seq"], run["seq"])
        m["statuses"][run["status"]] = m["statuses"].get(run["status"], 0) + 1
        if run["operator"] not in m["operators"]:
            m["operators"].append(run["operator"])
        if run["seq"] == m["last_seq"]:
            m["last_manifest"] = run["manifest_sha256"]
    return list(months.values())


def _timestamp_views(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The runs not timestamped at commit, one by one, unless no run has a timestamp at all (then one sentence)."""
    states = [(run, run_timestamp_state(run)) for run in runs]
    known = [(run, state) for run, state in states if state is not None]
    none_at_all = bool(known) and all(state == "none" for _, state in known)
    late = [dict(run, timestamp_state=state) for run, state in known if state != "at_commit"]
    return {"timestamps_shown": bool(known), "timestamp_none_at_all": none_at_all, "timestamp_runs": [] if none_at_all else late}


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
    labels, none = COMPLETENESS_LABELS[lang], STRINGS[lang]["none"]
    rows = []
    for key, value in completeness.items():
        label = labels.get(key, key)
        if key == "sources" and isinstance(value, dict):
            text = "; ".join(f"{source_name(name, lang)} ({len(members)})" for name, members in value.items())
        elif key == "not_provided" and isinstance(value, list):
            text = ", ".join(source_name(name, lang) for name in value)
        elif key == "missing" and isinstance(value, list):
            text = "; ".join(f"{m.get('host')}: {missing_from(m, lang)}" for m in value)
        elif isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
            label = f"{label} ({len(value)})"
            text = ", ".join(str(v) for v in value[:SUBJECTS_SHOWN])
            if len(value) > SUBJECTS_SHOWN:
                text += " " + STRINGS[lang]["more_subjects"].format(count=len(value) - SUBJECTS_SHOWN)
        else:
            text = format_value(value, STRINGS[lang])
        rows.append((label, text or none))
    return rows


def source_name(source: str, lang: str) -> str:
    """A population source (inventory, ad, console) in words."""
    return term("population_source", source, lang)


def missing_from(entry: dict[str, Any], lang: str) -> str:
    """'missing from console, ad' of one host of a population's completeness, in words."""
    sources = ", ".join(source_name(s, lang) for s in entry.get("missing_from", []))
    return f"{COMPLETENESS_LABELS[lang]['missing_from']} {sources}"


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


def _findings_table(findings: list[dict[str, Any]], same: tuple[str, ...] = ()) -> dict[str, Any]:
    """A table of findings as the report prints it: grouped rows, the first ROWS_SHOWN of them."""
    rows = group_findings(findings, same=same)
    return {"rows": rows[:ROWS_SHOWN], "total": len(rows), "grouped": len(rows) < len(findings)}


def _control_view(control: dict[str, Any], lang: str, charts: list[dict[str, Any]]) -> dict[str, Any]:
    t = STRINGS[lang]
    tables = {
        "deviations": _findings_table(
            [{**d, "response_text": response_line(d.get("response"), t)} for d in control["deviations"]], same=("response_text",)
        ),
        "gaps": _findings_table(control["gaps"]),
        "excepted": _findings_table(control["excepted"], same=("scope", "owner", "expires")),
        "observations": _findings_table(control["observations"]),
    }
    listed = listed_evidence(control, [table["rows"] for table in tables.values()])
    subjects = control["population"]["subjects"]
    return {
        "c": control,
        "parameters": [(name, format_value(value, t)) for name, value in control["parameters"].items()],
        "subjects": subjects[:SUBJECTS_SHOWN],
        "subjects_more": max(0, len(subjects) - SUBJECTS_SHOWN),
        "completeness": completeness_rows(control["population"]["completeness"], lang),
        **tables,
        "evidence_kinds": evidence_kinds(control["evidence"], t["endpoint_per_host"]),
        "listed": listed,
        "evidence_anchors": {e["item_id"] for e in listed["rows"]},
        "charts": charts,
        "frequency": FREQUENCY_LABELS[lang].get(control["frequency"], control["frequency"]),
        "coverage": coverage_text(control["coverage"], lang),
        "samples": [{**s, "units": drawn_units(s, lang)} for s in control["samples"]],
        # the tested items are the workbook's: one sentence here, so the PDF stays short
        "tested_note": t["tested_items_note"].format(
            count=len(control["tested_items"]), sheet=tested_sheet_name(control["id"], lang)
        )
        if control["tested_items"]
        else "",
    }


COVERAGE_RANGES_SHOWN = 6


def signoff_statement(document: dict[str, Any], t: dict[str, str]) -> str:
    profile, period = document["profile"], document["period"]
    return t["signoff_statement"].format(
        processor=profile["processor"] or t["not_stated"],
        agreement=profile["agreement"] or t["not_stated"],
        period=f"{period['start']} – {period['end']}",
    )


def responses_intro(document: dict[str, Any], t: dict[str, str]) -> str:
    total = sum(len(c["deviations"]) for c in document["controls"])
    register = document["responses"]["register"]
    if register is None:
        return t["responses_none"].format(total=total)
    still_open = sum(c["responses"]["open"] for c in document["controls"])
    return t["responses_intro"].format(imported=register["imported"][:10], total=total, open=still_open)


def coverage_text(coverage: dict[str, Any] | None, lang: str) -> str:
    """One line: how many of the expected test dates the evidence covers, and the first stretches it does not."""
    if not coverage:
        return ""
    t = STRINGS[lang]
    percent = round(100 * coverage["evidenced"] / coverage["expected"]) if coverage["expected"] else 0
    line = t["coverage_line"].format(
        evidenced=coverage["evidenced"],
        expected=coverage["expected"],
        unit=term("coverage_unit", coverage["unit"], lang),
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
        timestamp_labels=TIMESTAMP_LABELS[lang],
        timestamp_reasons=TIMESTAMP_REASONS[lang],
        **_timestamp_views(document["evidence_store"]["runs"]),
        controls=[_control_view(c, lang, by_control.get(c["id"], [])) for c in document["controls"]],
        responses_intro=responses_intro(document, t),
        signoff_statement=signoff_statement(document, t),
        css=Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
        page_css=page_css(document),
        to_the_second=to_the_second,
    )
