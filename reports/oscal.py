"""The report document as OSCAL assessment results, built with compliance-trestle's models.

Every object is constructed through trestle's pydantic models, so a value OSCAL does
not allow (a bad UUID, a multi-line title, an unknown state) raises instead of being
written. The results import the assessment plan written beside them, which imports the
system security plan, the profile and the catalogue in turn (reports/oscal_plan.py), so
every reference resolves inside the report's folder and inside the pack.

Mapping:
- one result for the period (start = first day 00:00 UTC, end = last day 23:59:59 UTC);
- one finding per control, target = the control's assessment objective in the catalogue
  (`<control>_obj`); the verdict maps to satisfied (effective, effective with deviations)
  or not-satisfied (not effective: reason fail; not evidenced: reason other). A control
  that is not applicable (empty population) carries implementation-status not-applicable
  and no objective status: it was neither met nor failed;
- one observation per deviation, gap, excepted item and observation, with the day it
  concerns, the subject and the message code as properties, and every cited evidence
  item (id, host, kind, moment, SHA-256 of the raw output) as relevant-evidence;
- the exact auditpack status, counts and references travel as properties in the
  auditpack namespace, so nothing the report says is lost in the translation.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from trestle.core.base_model import OscalBaseModel
from trestle.oscal import common
from trestle.oscal.assessment_results import AssessmentResults, ImportAp, Result

from auditpack.atomic import write_atomic

from .document import FINDING_KINDS, control_counts
from .formats import OSCAL_PARTS, beside
from .i18n import EXPORT_STRINGS
from .identifiers import control_result_uuid, day_bounds, export_uuid, finding_uuid, moment, period_key
from .json_export import validate_document
from .oscal_base import control_selection, metadata, objective_id, one_line, profile_props, props, reference_props, tool_uuid
from .oscal_plan import build_catalogue, build_plan, build_profile, build_ssp

# verdict -> (objective state, reason); None: no objective status (see the module docstring)
OBJECTIVE: dict[str, tuple[str, str] | None] = {
    "effective": ("satisfied", "pass"),
    "effective_with_deviations": ("satisfied", "pass"),
    "not_effective": ("not-satisfied", "fail"),
    "not_evidenced": ("not-satisfied", "other"),
    "not_applicable": None,
}
# finding kind -> OSCAL observation type
OBSERVATION_TYPE = {"deviation": "finding", "gap": "finding", "excepted": "finding", "observation": "discovery"}


def _evidence(item_id: str, ref: dict[str, Any] | None, w: dict[str, str]) -> common.RelevantEvidence:
    if ref is None:  # cited but not listed (an item that failed to collect): the id is all there is
        return common.RelevantEvidence(description=w["evidence_unknown"].format(item=item_id), props=props(("item-id", item_id)))
    return common.RelevantEvidence(
        description=w["evidence"].format(
            kind=ref["kind"], host=ref["host"], collected=ref["collected"], command=ref["command"] or "—"
        ),
        props=props(
            ("item-id", item_id),
            ("raw-sha256", ref["raw_sha256"]),
            ("host", ref["host"]),
            ("evidence-kind", ref["kind"]),
            ("collected", ref["collected"]),
            ("item-status", ref["status"]),
        ),
    )


def _observation(
    document: dict[str, Any],
    control: dict[str, Any],
    kind: str,
    index: int,
    finding: dict[str, Any],
    refs: dict[str, dict[str, Any]],
    origin: common.Origin,
    generated: datetime,
    w: dict[str, str],
) -> common.Observation:
    cited = [refs.get(item) for item in finding["evidence"]]
    moments = [moment(r["collected"]) for r in cited if r is not None]
    extra = []
    remarks = None
    if kind == "excepted":
        extra = [
            ("exception-scope", finding["scope"]),
            ("exception-owner", finding["owner"]),
            ("exception-expires", finding["expires"]),
        ]
    elif kind == "deviation":  # management's response, in its own words; "open" when there is none
        response = finding.get("response")
        extra = [("response", "answered" if response else "open")]
        if response:
            extra += [
                ("response-owner", response["owner"]),
                ("response-fixed-on", response["fixed_on"]),
                ("response-retest-on", response["retest_on"]),
                ("response-retest-result", response["retest_result"]),
            ]
            remarks = f"{response['cause']} — {response['corrective_action']}"
    return common.Observation(
        uuid=finding_uuid(document, control["id"], kind, index, finding),
        title=one_line(f"{control['id']} {w[kind]}: {finding['subject']} {w['on']} {finding['date']}"),
        description=finding["text"],
        props=props(
            ("control-id", control["id"]),
            ("finding-kind", kind),
            ("subject", finding["subject"]),
            ("date", finding["date"]),
            ("code", finding["code"]),
            *extra,
        ),
        methods=["TEST"],
        types=[OBSERVATION_TYPE[kind]],
        origins=[origin],
        relevant_evidence=[_evidence(item, ref, w) for item, ref in zip(finding["evidence"], cited, strict=False)] or None,
        # when the evidence behind it was collected; a gap has none, so it stands as of the report
        collected=min(moments) if moments else generated,
        remarks=remarks,
    )


def _finding(
    document: dict[str, Any],
    control: dict[str, Any],
    observations: list[common.Observation],
    origin: common.Origin,
    w: dict[str, str],
) -> common.Finding:
    status = control["status"]
    counts = control_counts(control)
    objective = OBJECTIVE[status]
    remarks = {"effective_with_deviations": w["within_tolerance"], "not_applicable": w["not_applicable"]}.get(status)
    if control["reason"]:  # why not applicable or not evidenced, in the report's words
        remarks = control["reason"]["text"]
    coverage = control["coverage"] or {}
    target = common.FindingTarget(
        type="objective-id",
        target_id=objective_id(control["id"]),
        title=one_line(control["status_label"]),
        description=w["counts"].format(**counts),
        status=common.ObjectiveStatus(state=objective[0], reason=objective[1], remarks=remarks) if objective else None,
        implementation_status=common.ImplementationStatus(state="not-applicable", remarks=remarks) if objective is None else None,
    )
    return common.Finding(
        uuid=control_result_uuid(document, control["id"]),
        title=one_line(f"{control['id']} {control['title']}"),
        description=control["promise"],
        props=props(
            ("control-id", control["id"]),
            ("status", status),
            ("status-label", control["status_label"]),
            ("frequency", control["frequency"]),
            ("annex-section", control["annex_section"]),
            ("population-size", counts["population"]),
            ("tested", counts["tested"]),
            ("deviations", counts["deviations"]),
            ("gaps", counts["gaps"]),
            ("excepted", counts["excepted"]),
            ("observations", counts["observations"]),
            ("coverage-unit", coverage.get("unit")),
            ("coverage-expected", coverage.get("expected")),
            ("coverage-evidenced", coverage.get("evidenced")),
            *reference_props(control),
        ),
        origins=[origin],
        target=target,
        related_observations=[common.RelatedObservation(observation_uuid=o.uuid) for o in observations] or None,
    )


def build_assessment_results(document: dict[str, Any], plan_href: str) -> AssessmentResults:
    """The trestle model of the document, importing the plan at PLAN_HREF; raises on anything OSCAL refuses."""
    lang = document["lang"]
    w = EXPORT_STRINGS[lang]
    start_day, end_day = document["period"]["start"], document["period"]["end"]
    period = period_key(document)
    generated = moment(document["generated_at"])
    profile = document["profile"]

    # the tool is defined once, in the plan's assessment assets, which the results import
    origin = common.Origin(actors=[common.OriginActor(type="tool", actor_uuid=tool_uuid(document))])

    observations: list[common.Observation] = []
    findings: list[common.Finding] = []
    for control in document["controls"]:
        refs = {e["item_id"]: e for e in control["evidence"]}
        own = [
            _observation(document, control, kind, i, finding, refs, origin, generated, w)
            for kind, plural in FINDING_KINDS
            for i, finding in enumerate(control[plural])
        ]
        observations.extend(own)
        findings.append(_finding(document, control, own, origin, w))

    summary = document["summary"]
    signing = document["signing_key"]
    result = Result(
        uuid=export_uuid("result", period, profile["name"]),
        title=w["result"].format(start=start_day, end=end_day),
        description=w["result_description"],
        start=day_bounds(start_day)[0],
        end=day_bounds(end_day)[1],
        props=props(
            *[(f"controls-{status.replace('_', '-')}", count) for status, count in summary.items()],
            ("evidence-chain-head", document["evidence_store"]["chain_head"]),
            ("collection-runs", len(document["evidence_store"]["runs"])),
        ),
        reviewed_controls=common.ReviewedControls(description=w["controls"], control_selections=[control_selection(document)]),
        observations=observations or None,
        findings=findings or None,
    )
    return AssessmentResults(
        uuid=export_uuid("assessment-results", period, profile["name"], lang),
        metadata=metadata(
            document,
            w["results_title"],
            document["generated_at"],  # one revision of the report: the moment it was generated
            *profile_props(document),
            ("period-start", start_day),
            ("period-end", end_day),
            ("signing-algorithm", signing["algorithm"] if signing else None),
            ("signing-key-fingerprint", signing["fingerprint"] if signing else None),
            ("report-schema", document["$schema"]),
        ),
        import_ap=ImportAp(href=plan_href),
        results=[result],
    )


def build_oscal_files(document: dict[str, Any], names: dict[str, str]) -> dict[str, OscalBaseModel]:
    """The five OSCAL files of a report, each importing the next by its file name in NAMES (part -> name)."""
    return {
        "results": build_assessment_results(document, names["plan"]),
        "plan": build_plan(document, names["ssp"]),
        "ssp": build_ssp(document, names["profile"]),
        "profile": build_profile(document, names["catalogue"]),
        "catalogue": build_catalogue(document),
    }


def to_oscal(document: dict[str, Any], plan_href: str) -> dict[str, Any]:
    """The assessment results as an OSCAL JSON object, wrapped as {"assessment-results": {...}}."""
    return build_assessment_results(document, plan_href).oscal_dict()


def write_oscal(document: dict[str, Any], path: Path) -> dict[str, Path]:
    """The assessment results at PATH and the plan, SSP, profile and catalogue they import beside it.

    The document is checked against its schema and all five are built before the first is
    written, so nothing is written on an error. Returns {part: path}, "results" first.
    """
    validate_document(document)
    path = Path(path)
    paths = {"results": path, **{part: beside(path, part) for part in OSCAL_PARTS}}
    models = build_oscal_files(document, {part: p.name for part, p in paths.items()})
    data = {part: json.dumps(model.oscal_dict(), ensure_ascii=False, indent=2) + "\n" for part, model in models.items()}
    return {part: write_atomic(paths[part], data[part].encode("utf-8")) for part in paths}
