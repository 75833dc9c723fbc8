"""The report as one JSON-able document: every output format (HTML, PDF, workbook, JSON, OSCAL) renders this.

Built once from the evaluation results; no renderer recomputes a verdict or
reads the evidence store. Texts are in the document's language; ids, codes,
dates and hashes are language-neutral. The shape is `reports/schema/report.schema.json`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any

from auditpack import __version__
from auditpack.canonical import document_moment, iso
from auditpack.controls.model import Control, attribute_labels, load_scope_limits
from auditpack.controls.profiles import DEFAULT_PROFILE, Profile
from auditpack.controls.result import ControlResult, Deviation, EvidenceRef, Status, TestedItem
from auditpack.controls.version import catalogue_version
from auditpack.periods import Period
from auditpack.responses import Responses

from .i18n import LANGS, STATUS_LABELS, STRINGS

SCHEMA_ID = "urn:auditpack:schema:report:1"  # an identifier, not fetched
STATUS_ORDER = [s.value for s in Status]


def _finding(d: Deviation, lang: str) -> dict[str, Any]:
    return {"subject": d.subject, "date": d.date, "code": d.code, "text": d.text(lang), "evidence": list(d.evidence)}


def tested_attributes(result: ControlResult, control: Control, lang: str) -> list[dict[str, str]]:
    """The attributes the control's tested items carry, in the catalogue's order, with their label: the columns of
    the workbook's tested items. A key the catalogue has no words for is an error, as an unknown message code is."""
    used = {key for item in result.tested_items for key in item.attributes}
    labels = attribute_labels(control)
    unknown = used - set(labels)
    if unknown:
        raise KeyError(f"{control.id} records attributes without a label in its catalogue file: {', '.join(sorted(unknown))}")
    return [{"key": key, "label": label.in_(lang)} for key, label in labels.items() if key in used]


def sample_section(sample: dict[str, Any], result: ControlResult) -> dict[str, Any]:
    """A stored sample with each drawn unit as this report tested it, so the samples agree with the tested items;
    a unit this report has no test of (other evidence, a later day) is listed with result null."""
    by_key = {item.key(): item for item in result.tested_items}
    by_subject: dict[str, list[TestedItem]] = {}
    for item in result.tested_items:
        by_subject.setdefault(item.subject, []).append(item)
    items = []
    for unit in sample["drawn"]:
        # a sample stored before units were subject-dates drew subjects: each is every date it was tested on
        found = [by_key[unit]] if unit in by_key else by_subject.get(unit, [])
        items += [{"unit": unit, **item.to_dict()} for item in found] or [
            {"unit": unit, "subject": unit, "date": None, "result": None, "codes": [], "attributes": {}, "evidence": []}
        ]
    return {**{k: v for k, v in sample.items() if k != "items"}, "items": items}


def _responded(findings: list[dict[str, Any]], control_id: str, responses: Responses | None) -> list[dict[str, Any]]:
    """Each deviation with management's response to it, or None: open."""
    return [{**f, "response": responses.answer(control_id, f["subject"], f["date"]) if responses else None} for f in findings]


def _register_ref(responses: Responses) -> EvidenceRef:
    item = responses.item
    return EvidenceRef(item.id, item.host, item.kind, item.started, item.command, item.raw_sha256, item.status)


def control_section(
    result: ControlResult, control: Control, lang: str, samples: list[dict[str, Any]], responses: Responses | None = None
) -> dict[str, Any]:
    deviations = _responded([_finding(d, lang) for d in result.deviations], control.id, responses)
    answered = sum(1 for d in deviations if d["response"])
    evidence = [asdict(r) for r in result.evidence]
    if answered and responses:  # the pack carries the register the responses rest on
        evidence.append(asdict(_register_ref(responses)))
    return {
        "id": control.id,
        "title": control.title.in_(lang),
        "promise": control.description.in_(lang),
        "annex_section": control.annex_section.in_(lang),
        "references": {"gdpr": list(control.references.gdpr), "iso27001_2022": list(control.references.iso27001_2022)},
        "frequency": control.frequency,
        "test_procedure": {
            "design": control.test_procedure.design.in_(lang),
            "operation": control.test_procedure.operation.in_(lang),
        },
        "parameters": dict(result.parameters),
        "status": result.status.value,
        "status_label": STATUS_LABELS[lang][result.status.value],
        "population": {"size": len(result.population), "subjects": list(result.population), "completeness": result.completeness},
        "tested": result.tested,
        "coverage": result.coverage,
        "reason": {"code": result.reason.code, "text": result.reason.text(lang)} if result.reason else None,
        "deviations": deviations,
        "responses": {"answered": answered, "open": len(deviations) - answered},
        "gaps": [_finding(d, lang) for d in result.gaps],
        "observations": [_finding(d, lang) for d in result.observations],
        "excepted": [
            {**_finding(e.deviation, lang), "scope": e.scope, "owner": e.owner, "expires": e.expires} for e in result.excepted
        ],
        "exceptions": [
            {
                "scope": e.scope,
                "justification": e.justification,
                "owner": e.owner,
                "approver": e.approver,
                "expires": e.expires,
                "state": e.state,
                "matched": e.matched,
            }
            for e in result.exceptions
        ],
        "evidence": evidence,
        "samples": [sample_section(s, result) for s in samples if s["control"] == control.id],
        "tested_attributes": tested_attributes(result, control, lang),
        "tested_items": [item.to_dict() for item in result.tested_items],
    }


def catalogue_section(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The catalogue version that judged this report, and the runs collected while another one was in force."""
    judged_by = catalogue_version().record()
    others: dict[str, list[int]] = {}
    for r in runs:
        if r.get("catalogue") and r["catalogue"] != judged_by["version"]:
            others.setdefault(r["catalogue"], []).append(r["seq"])
    return {**judged_by, "runs_under_other_versions": [{"version": v, "runs": seqs} for v, seqs in sorted(others.items())]}


def build_document(
    results: list[ControlResult],
    catalogue: dict[str, Control],
    period: Period,
    runs: list[dict[str, Any]],
    lang: str = "nl",
    profile: Profile = DEFAULT_PROFILE,
    signing_fingerprint: str | None = None,
    samples: list[dict[str, Any]] | None = None,
    generated_at: str | None = None,
    responses: Responses | None = None,
    supplied: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The report document. `runs` are the collection runs in the period (jobs.run_rows)."""
    if lang not in LANGS:
        raise ValueError(f"language {lang!r} is not available; choose one of {', '.join(LANGS)}")
    counts = Counter(r.status.value for r in results)
    controls = [control_section(r, catalogue[r.control_id], lang, samples or [], responses) for r in results]
    generated_at = generated_at or iso(document_moment())
    return {
        "$schema": SCHEMA_ID,
        "lang": lang,
        "generated_at": generated_at,
        "tool": {"name": "auditpack", "version": __version__},
        "catalogue": catalogue_section(runs),
        "profile": {
            "name": STRINGS[lang]["profile_default"] if profile.name == DEFAULT_PROFILE.name else profile.name,
            "processor": profile.processor,
            "customer": profile.customer,
            "agreement": profile.agreement,
            "signatory": profile.signatory.model_dump(),
        },
        "period": {
            "start": period.start.date().isoformat(),
            "end": period.last_day.date().isoformat(),
            "ended": period.last_day.date().isoformat() < generated_at[:10],  # else judged only up to that day
        },
        "signing_key": {"algorithm": "Ed25519", "fingerprint": signing_fingerprint} if signing_fingerprint else None,
        "evidence_store": {
            "chain_head": runs[-1]["sha256"] if runs else None,
            "runs": [
                {
                    "seq": r["seq"],
                    "manifest_sha256": r["sha256"],
                    "started": r["started"],
                    "operator": r["operator"],
                    "status": r["status"],
                    "hosts": len(r["hosts"]),
                    "timestamp": r.get("timestamp"),
                    "catalogue": r.get("catalogue"),
                }
                for r in runs
            ],
        },
        "summary": {status: counts.get(status, 0) for status in STATUS_ORDER},
        "controls": controls,
        "responses": _responses_section(responses, controls),
        "scope": scope_section(controls, catalogue, runs, supplied or [], lang),
    }


DOCUMENT_KINDS = ("register.", "manual.")


def scope_section(
    controls: list[dict[str, Any]],
    catalogue: dict[str, Control],
    runs: list[dict[str, Any]],
    supplied: list[dict[str, Any]],
    lang: str,
) -> dict[str, Any]:
    """What the verdicts cover and what they do not: promises not (fully) tested, controls tested only from the
    processor's own files, every control without a verdict and why, runs that did not reach every host, and
    where each supplied file came from."""
    reported = {c["id"] for c in controls}
    return {
        "not_tested": [
            {"measure": limit.measure, "controls": limit.controls, "what": limit.what.in_(lang), "why": limit.why.in_(lang)}
            for limit in load_scope_limits()
            if reported & set(limit.controls)
        ],
        "document_based": [
            {"control": c.id, "kinds": list(c.evidence_kinds)}
            for c in catalogue.values()
            if c.id in reported and all(k.startswith(DOCUMENT_KINDS) for k in c.evidence_kinds)
        ],
        "without_verdict": [
            {"control": c["id"], "status": c["status"], "reason": c["reason"]["text"] if c["reason"] else c["status_label"]}
            for c in controls
            if c["status"] in ("not_applicable", "not_evidenced")
        ],
        "incomplete_runs": [
            {
                "seq": r["seq"],
                "started": r["started"],
                "status": r["status"],
                "hosts": [
                    {"host": h, "status": info["status"], "errors": list(info.get("errors") or [])}
                    for h, info in sorted(r["hosts"].items())
                    if info["status"] != "ok"
                ],
            }
            for r in runs
            if r["status"] != "complete"
        ],
        "supplied": supplied,
    }


def _responses_section(responses: Responses | None, controls: list[dict[str, Any]]) -> dict[str, Any]:
    """The register the responses come from, and its rows that answer no deviation of the report (a typo in a
    subject or date would otherwise leave a deviation open without anyone noticing)."""
    if responses is None:
        return {"register": None, "unmatched": []}
    findings = [(c["id"], d["subject"], d["date"]) for c in controls for d in c["deviations"]]
    unmatched = [
        {"row": r["row"], "control": r["control"], "subject": r["subject"], "date": r["date"], "until": r["until"]}
        for r in responses.rows
        if not any(responses.covers(r, *finding) for finding in findings)
    ]
    item = responses.item
    return {"register": {"item_id": item.id, "imported": item.started, "command": item.command}, "unmatched": unmatched}


def run_timestamp_state(run: dict[str, Any]) -> str | None:
    """at_commit, late or none (TIMESTAMP_LABELS); None for a document made before runs carried timestamps."""
    stamp = run.get("timestamp")
    if not stamp:
        return None
    return "none" if stamp["time"] is None else ("late" if stamp["late"] else "at_commit")


def evidence_citations(document: dict[str, Any]) -> dict[str, list[str]]:
    """Every evidence item the report cites, with the controls that cite it (in document order)."""
    cited: dict[str, list[str]] = {}
    for control in document["controls"]:
        for ref in control["evidence"]:
            citing = cited.setdefault(ref["item_id"], [])
            if control["id"] not in citing:
                citing.append(control["id"])
    return cited


def evidence_item_ids(document: dict[str, Any]) -> set[str]:
    """Every evidence item the report cites: what an evidence pack must carry."""
    return set(evidence_citations(document))


# (kind, the control section's key): the four kinds of finding a control section lists
FINDING_KINDS = (("deviation", "deviations"), ("gap", "gaps"), ("excepted", "excepted"), ("observation", "observations"))


def control_counts(control: dict[str, Any]) -> dict[str, int]:
    """A control section's population, tested subject-dates and findings of each kind, counted."""
    return {
        "population": control["population"]["size"],
        "tested": control["tested"],
        **{key: len(control[key]) for _, key in FINDING_KINDS},
    }
