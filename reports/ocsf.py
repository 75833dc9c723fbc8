"""The report's results as OCSF Compliance Findings (class 2003), built with py-ocsf-models, for GRC tools that import OCSF.

One JSON array, as OCSF producers write it: per control, first the finding of its result over
the period, then one finding per deviation, not-evidenced gap and excepted item. Observations
are not findings of non-compliance and are left to the OSCAL results. Every object is built
through the library's pydantic models, so a value the models refuse raises instead of being written.

Mapping:
- compliance.control = the control id; compliance.status_id from the verdict (effective and
  effective with deviations: Pass; not effective: Fail; not evidenced: Warning, "no result
  for lack of information"; not applicable: Other) or the item (deviation and excepted: Fail;
  gap: Warning); the annex, GDPR and ISO 27001 references as standards and requirements;
  the item's message code as the check;
- status_id (the finding's workflow): Suppressed for an item an exception covers; for a deviation New, In Progress once
  management answered it (the responses register), Resolved once its retest passed;
- severity_id follows the control's verdict (auditpack grades effectiveness, not severity):
  Informational when effective or not applicable, Low with deviations within tolerance,
  Medium when not evidenced, High when not effective; an excepted item is Informational;
- the subject is the resource; the day the item concerns is start_time..end_time (UTC, as
  the OSCAL results state days); every cited evidence item, with its id and the SHA-256 of
  its raw output, is an evidence artifact; auditpack's own values (kind, date, code, status,
  counts, exception) travel in `unmapped.auditpack`;
- finding_info.uid is the UUID of the same item in the OSCAL results (identifiers.py), and
  metadata.correlation_uid ties each item to its control's result.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from py_ocsf_models.events.findings.activity_id import ActivityID
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.events.findings.compliance_finding_type_id import ComplianceFindingTypeID
from py_ocsf_models.events.findings.severity_id import SeverityID
from py_ocsf_models.events.findings.status_id import StatusID
from py_ocsf_models.objects.check import Check
from py_ocsf_models.objects.compliance import Compliance
from py_ocsf_models.objects.compliance_status import StatusID as ComplianceStatusID
from py_ocsf_models.objects.evidence_artifacts import EvidenceArtifacts
from py_ocsf_models.objects.finding_info import FindingInformation
from py_ocsf_models.objects.metadata import Metadata
from py_ocsf_models.objects.product import Product
from py_ocsf_models.objects.resource_details import ResourceDetails

from auditpack.atomic import write_atomic

from .document import FINDING_KINDS, control_counts
from .i18n import EXPORT_STRINGS, STRINGS
from .identifiers import control_result_uuid, day_bounds, finding_uuid, moment
from .json_export import validate_document

VERDICT_STATUS = {
    "effective": ComplianceStatusID.Pass,
    "effective_with_deviations": ComplianceStatusID.Pass,
    "not_effective": ComplianceStatusID.Fail,
    "not_evidenced": ComplianceStatusID.Warning,
    "not_applicable": ComplianceStatusID.Other,
}
ITEM_STATUS = {"deviation": ComplianceStatusID.Fail, "gap": ComplianceStatusID.Warning, "excepted": ComplianceStatusID.Fail}
SEVERITY = {
    "effective": SeverityID.Informational,
    "effective_with_deviations": SeverityID.Low,
    "not_effective": SeverityID.High,
    "not_evidenced": SeverityID.Medium,
    "not_applicable": SeverityID.Informational,
}
ITEM_KINDS = tuple(k for k in FINDING_KINDS if k[0] != "observation")  # the findings exported one by one
TYPE_NAME = "Compliance Finding: Create"


def _ms(when: datetime) -> int:
    """OCSF times are milliseconds since 1970 (UTC)."""
    return int(when.timestamp() * 1000)


def _compliance(control: dict[str, Any], lang: str, status: ComplianceStatusID, checks: list[Check] | None) -> Compliance:
    words, refs = STRINGS[lang], control["references"]
    return Compliance(
        control=control["id"],
        desc=control["promise"],
        category=control["annex_section"],
        standards=[
            words["subtitle"],
            *([words["gdpr"]] if refs["gdpr"] else []),
            *([words["iso"]] if refs["iso27001_2022"] else []),
        ],
        requirements=[f"{words['gdpr']} {r}" for r in refs["gdpr"]] + [f"{words['iso']} {r}" for r in refs["iso27001_2022"]]
        or None,
        status_id=status,
        checks=checks,
    )


def _evidence(item_id: str, ref: dict[str, Any] | None) -> EvidenceArtifacts:
    if ref is None:  # cited but not listed (an item that failed to collect): the id is all there is
        return EvidenceArtifacts(name=item_id, data={"item_id": item_id})
    keys = ("item_id", "host", "kind", "collected", "command", "raw_sha256", "status")
    return EvidenceArtifacts(name=item_id, data={key: ref[key] for key in keys})


def _event(
    document: dict[str, Any],
    control: dict[str, Any],
    *,
    uid: str,
    title: str,
    message: str,
    span: tuple[datetime, datetime],
    compliance: Compliance,
    severity: SeverityID,
    status: StatusID,
    kind: str,
    evidence: list[str],
    auditpack: dict[str, Any],
    resources: list[ResourceDetails] | None = None,
) -> ComplianceFinding:
    generated = moment(document["generated_at"])
    refs = {e["item_id"]: e for e in control["evidence"]}
    cited = [refs.get(item) for item in evidence]
    seen = sorted(moment(r["collected"]) for r in cited if r is not None)
    tool = document["tool"]
    return ComplianceFinding(
        activity_id=ActivityID.Create,
        activity_name=ActivityID.Create.name,
        type_uid=ComplianceFindingTypeID.Create,
        type_name=TYPE_NAME,
        severity_id=severity,
        severity=severity.name,
        status_id=status,
        status=status.name,
        status_detail=control["status_label"],
        message=message,
        time=_ms(generated),
        time_dt=generated,
        timezone_offset=0,
        start_time=_ms(span[0]),
        start_time_dt=span[0],
        end_time=_ms(span[1]),
        end_time_dt=span[1],
        metadata=Metadata(
            product=Product(name=tool["name"], vendor_name=tool["name"], version=tool["version"], lang=document["lang"]),
            uid=uid,
            correlation_uid=control_result_uuid(document, control["id"]),
            profiles=["datetime"],
        ),
        finding_info=FindingInformation(
            uid=uid,
            title=title,
            desc=message,
            types=[kind],
            created_time=_ms(generated),
            created_time_dt=generated,
            first_seen_time=_ms(seen[0]) if seen else None,
            first_seen_time_dt=seen[0] if seen else None,
            last_seen_time=_ms(seen[-1]) if seen else None,
            last_seen_time_dt=seen[-1] if seen else None,
            data_sources=sorted({r["kind"] for r in cited if r is not None}) or None,
        ),
        compliance=compliance,
        resources=resources,
        evidences=[_evidence(item, ref) for item, ref in zip(evidence, cited, strict=True)] or None,
        unmapped={"auditpack": auditpack},
    )


def _control_finding(document: dict[str, Any], control: dict[str, Any]) -> ComplianceFinding:
    lang, status = document["lang"], control["status"]
    counts = control_counts(control)
    period = document["period"]
    return _event(
        document,
        control,
        uid=control_result_uuid(document, control["id"]),
        title=f"{control['id']} {control['title']}: {control['status_label']}",
        message=control["reason"]["text"] if control["reason"] else EXPORT_STRINGS[lang]["counts"].format(**counts),
        span=(day_bounds(period["start"])[0], day_bounds(period["end"])[1]),
        compliance=_compliance(control, lang, VERDICT_STATUS[status], None),
        severity=SEVERITY[status],
        status=StatusID.New,
        kind="control-result",
        evidence=[],
        auditpack={"status": status, "period": period, "counts": counts, "coverage": control["coverage"]},
    )


def _item_finding(
    document: dict[str, Any], control: dict[str, Any], kind: str, index: int, item: dict[str, Any]
) -> ComplianceFinding:
    lang, words = document["lang"], EXPORT_STRINGS[document["lang"]]
    check = Check(uid=item["code"], name=control["title"], status_id=ITEM_STATUS[kind])  # its text is the message
    facts = {
        "kind": kind,
        "control_status": control["status"],
        "subject": item["subject"],
        "date": item["date"],
        "code": item["code"],
    }
    if kind == "excepted":
        facts["exception"] = {key: item[key] for key in ("scope", "owner", "expires")}
    if kind == "deviation":
        facts["response"] = item.get("response")
    return _event(
        document,
        control,
        uid=finding_uuid(document, control["id"], kind, index, item),
        title=f"{control['id']} {words[kind]}: {item['subject']} {words['on']} {item['date']}",
        message=item["text"],
        span=day_bounds(item["date"]),
        compliance=_compliance(control, lang, ITEM_STATUS[kind], [check]),
        severity=SeverityID.Informational if kind == "excepted" else SEVERITY[control["status"]],
        status=_workflow(kind, item),
        kind=kind,
        evidence=item["evidence"],
        auditpack=facts,
        resources=[ResourceDetails(name=item["subject"], uid=item["subject"])],
    )


def _workflow(kind: str, item: dict[str, Any]) -> StatusID:
    """The finding's workflow: an excepted item is suppressed; a deviation management answered is in progress,
    resolved once a retest passed; anything else is new."""
    if kind == "excepted":
        return StatusID.Suppressed
    response = item.get("response") if kind == "deviation" else None
    if response is None:
        return StatusID.New
    return StatusID.Resolved if response["retest_result"] == "success" else StatusID.InProgress


def build_findings(document: dict[str, Any]) -> list[ComplianceFinding]:
    """Every finding of the document as the library's models; raises (pydantic's ValidationError) on a refused value."""
    findings = []
    for control in document["controls"]:
        findings.append(_control_finding(document, control))
        for kind, key in ITEM_KINDS:
            findings.extend(_item_finding(document, control, kind, i, item) for i, item in enumerate(control[key]))
    return findings


def to_ocsf(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings as OCSF JSON objects (unset attributes left out)."""
    return [finding.model_dump(mode="json", exclude_none=True) for finding in build_findings(document)]


def write_ocsf(document: dict[str, Any], path: Path) -> Path:
    """Check the document against its schema, build the findings and write them; nothing is written on an error."""
    validate_document(document)
    data = json.dumps(to_ocsf(document), ensure_ascii=False, indent=2) + "\n"
    return write_atomic(Path(path), data.encode("utf-8"))
