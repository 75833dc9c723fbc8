"""The report document as OSCAL assessment results, built with compliance-trestle's models.

Every object is constructed through trestle's pydantic models, so a value OSCAL does
not allow (a bad UUID, a multi-line title, an unknown state) raises instead of being
written. Identifiers are UUIDv5 derived from the control, the period and the finding,
and every moment comes from the document itself, so two exports of one document are
byte for byte the same.

Mapping:
- one result for the period (start = first day 00:00 UTC, end = last day 23:59:59 UTC);
- one finding per control, target = the control id as an objective; the verdict maps to
  satisfied (effective, effective with deviations) or not-satisfied (not effective: reason
  fail; not evidenced: reason other). A control that is not applicable (empty population)
  carries implementation-status not-applicable and no objective status: it was neither
  met nor failed;
- one observation per deviation, gap, excepted item and observation, with the day it
  concerns, the subject and the message code as properties, and every cited evidence
  item (id, host, kind, moment, SHA-256 of the raw output) as relevant-evidence;
- the exact auditpack status, counts and references travel as properties in the
  auditpack namespace, so nothing the report says is lost in the translation.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from trestle.oscal import OSCAL_VERSION, common
from trestle.oscal.assessment_results import AssessmentResults, ImportAp, LocalDefinitions1, Result

from auditpack.atomic import write_atomic

from .json_export import validate_document

NAMESPACE = "https://auditpack.example/ns/oscal"
_UUID_ROOT = uuid.uuid5(uuid.NAMESPACE_URL, NAMESPACE)
DEFAULT_PLAN_HREF = "assessment-plan.json"  # the catalogue and profile play the plan; no separate plan is published

WORDS: dict[str, dict[str, str]] = {
    "nl": {
        "title": "Toetsing van de werking van de beveiligingsmaatregelen",
        "result": "Toetsing over de periode {start} tot en met {end}",
        "result_description": "Opzet en werking van de maatregelen uit bijlage 2 van de verwerkersovereenkomst, "
        "getoetst over de hele periode met het bewijs uit het bewijsarchief.",
        "controls": "De maatregelen uit de catalogus van auditpack.",
        "tool": "Verzamelt bewijs, toetst de maatregelen over de periode en stelt de rapportage op.",
        "deviation": "afwijking",
        "gap": "niet aangetoond",
        "excepted": "uitgezonderd",
        "observation": "waarneming",
        "counts": "Populatie {population}, getoetst {tested}, afwijkingen {deviations}, niet aangetoond {gaps}, "
        "uitgezonderd {excepted}, waarnemingen {observations}.",
        "within_tolerance": "Afwijkingen binnen de toegestane marge.",
        "not_applicable": "Niet van toepassing: de populatie is leeg.",
        "evidence": "{kind} van {host}, verzameld {collected}: {command}",
        "evidence_unknown": "bewijsstuk {item}",
        "on": "op",
    },
    "en": {
        "title": "Assessment of the operation of security measures",
        "result": "Assessment over the period {start} to {end}",
        "result_description": "Design and operation of the measures in annex 2 of the data processing agreement, "
        "tested over the whole period with the evidence in the evidence store.",
        "controls": "The controls of the auditpack catalogue.",
        "tool": "Collects evidence, tests the controls over the period and writes the report.",
        "deviation": "deviation",
        "gap": "not evidenced",
        "excepted": "excepted",
        "observation": "observation",
        "counts": "Population {population}, tested {tested}, deviations {deviations}, not evidenced {gaps}, "
        "excepted {excepted}, observations {observations}.",
        "within_tolerance": "Deviations within the tolerated rate.",
        "not_applicable": "Not applicable: the population is empty.",
        "evidence": "{kind} from {host}, collected {collected}: {command}",
        "evidence_unknown": "evidence item {item}",
        "on": "on",
    },
}

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
_KINDS = (("deviation", "deviations"), ("gap", "gaps"), ("excepted", "excepted"), ("observation", "observations"))
_SPACE = re.compile(r"\s+")


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_UUID_ROOT, "|".join(parts)))


def _line(text: Any) -> str:
    """One line without surrounding blanks: what OSCAL titles and property values require."""
    return _SPACE.sub(" ", str(text)).strip()


def _prop(name: str, value: Any) -> common.Property | None:
    if value is None or isinstance(value, (list, dict)):
        value = None if not value else json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = _line(value) if value is not None else ""
    return common.Property(name=name, value=text, ns=NAMESPACE) if text else None


def _props(*pairs: tuple[str, Any]) -> list[common.Property] | None:
    props = [p for p in (_prop(name, value) for name, value in pairs) if p is not None]
    return props or None


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _evidence(item_id: str, ref: dict[str, Any] | None, w: dict[str, str]) -> common.RelevantEvidence:
    if ref is None:  # cited but not listed (an item that failed to collect): the id is all there is
        return common.RelevantEvidence(description=w["evidence_unknown"].format(item=item_id), props=_props(("item-id", item_id)))
    return common.RelevantEvidence(
        description=w["evidence"].format(
            kind=ref["kind"], host=ref["host"], collected=ref["collected"], command=ref["command"] or "—"
        ),
        props=_props(
            ("item-id", item_id),
            ("raw-sha256", ref["raw_sha256"]),
            ("host", ref["host"]),
            ("evidence-kind", ref["kind"]),
            ("collected", ref["collected"]),
            ("item-status", ref["status"]),
        ),
    )


def _observation(
    control: dict[str, Any],
    kind: str,
    index: int,
    finding: dict[str, Any],
    period_key: str,
    refs: dict[str, dict[str, Any]],
    origin: common.Origin,
    generated: datetime,
    w: dict[str, str],
) -> common.Observation:
    cited = [refs.get(item) for item in finding["evidence"]]
    moments = [_moment(r["collected"]) for r in cited if r is not None]
    extra = []
    if kind == "excepted":
        extra = [
            ("exception-scope", finding["scope"]),
            ("exception-owner", finding["owner"]),
            ("exception-expires", finding["expires"]),
        ]
    return common.Observation(
        uuid=_uuid(
            "observation", control["id"], period_key, kind, str(index), finding["subject"], finding["date"], finding["code"]
        ),
        title=_line(f"{control['id']} {w[kind]}: {finding['subject']} {w['on']} {finding['date']}"),
        description=finding["text"],
        props=_props(
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
    )


def _finding(
    control: dict[str, Any], period_key: str, observations: list[common.Observation], origin: common.Origin, w: dict[str, str]
) -> common.Finding:
    status = control["status"]
    counts = {
        "population": control["population"]["size"],
        "tested": control["tested"],
        **{plural: len(control[plural]) for _, plural in _KINDS},
    }
    objective = OBJECTIVE[status]
    remarks = {"effective_with_deviations": w["within_tolerance"], "not_applicable": w["not_applicable"]}.get(status)
    if control["reason"]:  # why not applicable or not evidenced, in the report's words
        remarks = control["reason"]["text"]
    coverage = control["coverage"] or {}
    target = common.FindingTarget(
        type="objective-id",
        target_id=control["id"],
        title=_line(control["status_label"]),
        description=w["counts"].format(**counts),
        status=common.ObjectiveStatus(state=objective[0], reason=objective[1], remarks=remarks) if objective else None,
        implementation_status=common.ImplementationStatus(state="not-applicable", remarks=remarks) if objective is None else None,
    )
    refs = control["references"]
    return common.Finding(
        uuid=_uuid("finding", control["id"], period_key),
        title=_line(f"{control['id']} {control['title']}"),
        description=control["promise"],
        props=_props(
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
            *[("gdpr", ref) for ref in refs["gdpr"]],
            *[("iso27001-2022", ref) for ref in refs["iso27001_2022"]],
        ),
        origins=[origin],
        target=target,
        related_observations=[common.RelatedObservation(observation_uuid=o.uuid) for o in observations] or None,
    )


def build_assessment_results(document: dict[str, Any], plan_href: str = DEFAULT_PLAN_HREF) -> AssessmentResults:
    """The trestle model of the document; raises (pydantic's ValidationError, a ValueError) on anything OSCAL refuses."""
    lang = document["lang"]
    w = WORDS[lang]
    start_day, end_day = document["period"]["start"], document["period"]["end"]
    period_key = f"{start_day}/{end_day}"
    generated = _moment(document["generated_at"])
    tool = document["tool"]
    profile = document["profile"]

    tool_uuid = _uuid("tool", tool["name"])
    tool_component = common.SystemComponent(
        uuid=tool_uuid,
        type="software",
        title=f"{tool['name']} {tool['version']}",
        description=w["tool"],
        status=common.Status(state="operational"),
        props=_props(("version", tool["version"])),
    )
    origin = common.Origin(actors=[common.OriginActor(type="tool", actor_uuid=tool_uuid)])

    observations: list[common.Observation] = []
    findings: list[common.Finding] = []
    for control in document["controls"]:
        refs = {e["item_id"]: e for e in control["evidence"]}
        own = [
            _observation(control, kind, i, finding, period_key, refs, origin, generated, w)
            for kind, plural in _KINDS
            for i, finding in enumerate(control[plural])
        ]
        observations.extend(own)
        findings.append(_finding(control, period_key, own, origin, w))

    ids = [c["id"] for c in document["controls"]]
    selection = (
        common.ControlSelections(include_controls=[common.SelectControlById(control_id=i) for i in ids])
        if ids
        else common.ControlSelectionsAll(include_all=common.IncludeAll())
    )
    summary = document["summary"]
    signing = document["signing_key"]
    result = Result(
        uuid=_uuid("result", period_key, profile["name"]),
        title=w["result"].format(start=start_day, end=end_day),
        description=w["result_description"],
        start=datetime.combine(date.fromisoformat(start_day), time(0, 0), tzinfo=UTC),
        end=datetime.combine(date.fromisoformat(end_day), time(23, 59, 59), tzinfo=UTC),
        props=_props(
            *[(f"controls-{status.replace('_', '-')}", count) for status, count in summary.items()],
            ("evidence-chain-head", document["evidence_store"]["chain_head"]),
            ("collection-runs", len(document["evidence_store"]["runs"])),
        ),
        local_definitions=LocalDefinitions1(components=[tool_component]),
        reviewed_controls=common.ReviewedControls(description=w["controls"], control_selections=[selection]),
        observations=observations or None,
        findings=findings or None,
    )
    metadata = common.Metadata(
        title=w["title"],
        last_modified=generated,
        version=document["generated_at"],  # one revision of the report: the moment it was generated
        oscal_version=OSCAL_VERSION,
        props=_props(
            ("language", lang),
            ("profile", profile["name"]),
            ("processor", profile["processor"]),
            ("customer", profile["customer"]),
            ("agreement", profile["agreement"]),
            ("period-start", start_day),
            ("period-end", end_day),
            ("signing-algorithm", signing["algorithm"] if signing else None),
            ("signing-key-fingerprint", signing["fingerprint"] if signing else None),
            ("report-schema", document["$schema"]),
        ),
    )
    return AssessmentResults(
        uuid=_uuid("assessment-results", period_key, profile["name"], lang),
        metadata=metadata,
        import_ap=ImportAp(href=plan_href),
        results=[result],
    )


def to_oscal(document: dict[str, Any], plan_href: str = DEFAULT_PLAN_HREF) -> dict[str, Any]:
    """The OSCAL JSON object, wrapped as {"assessment-results": {...}}."""
    return build_assessment_results(document, plan_href).oscal_dict()


def write_oscal(document: dict[str, Any], path: Path, plan_href: str = DEFAULT_PLAN_HREF) -> Path:
    """Check the document against its schema, build the OSCAL and write it; nothing is written on an error."""
    validate_document(document)
    data = json.dumps(to_oscal(document, plan_href), ensure_ascii=False, indent=2) + "\n"
    return write_atomic(Path(path), data.encode("utf-8"))
