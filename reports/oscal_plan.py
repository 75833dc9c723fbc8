"""What the OSCAL assessment results stand on, from the same report document: plan, SSP, profile and catalogue.

OSCAL chains its models by import: the results import an assessment plan, the plan a
system security plan (SSP), the SSP a profile and the profile a catalogue. Each is built
here with compliance-trestle's models and names the next by its file name (the files lie
side by side, in the report's folder and in the pack's report/), so every href, control id
and UUID the results use resolves to a file shipped with them.

- catalogue: the controls the report covers, grouped by annex section: the promise as the
  statement, an assessment objective (what a finding targets), the design and operation
  tests as assessment methods, the GDPR and ISO 27001 references and the parameters;
- profile: the report's profile, selecting those controls and setting every parameter to
  the value the evaluation used;
- SSP: the processor's systems as one component, with the promise of each control as its
  implementation statement (a claim; the results say whether it held);
- plan: the period, the controls reviewed, the test of each control as an activity, one
  task over the period, and auditpack as the assessment platform.
"""

from __future__ import annotations

import json
import re
from typing import Any

from trestle.oscal import catalog, common, profile, ssp
from trestle.oscal.assessment_plan import AssessmentPlan, LocalDefinitions

from .i18n import EXPORT_STRINGS, STRINGS
from .identifiers import NAMESPACE, day_bounds, export_uuid, period_key
from .oscal_base import control_selection, metadata, objective_id, one_line, profile_props, props, reference_props, tool_component

TESTS = (("design", "EXAMINE"), ("operation", "TEST"))  # a control's two tests (test_procedure) and their OSCAL method
_NOT_IN_TOKEN = re.compile(r"[^\w.-]+")  # what an OSCAL token may not hold (\w: any letter or digit, and "_")


def parameter_id(control_id: str, name: str) -> str:
    """A parameter's id in the catalogue: parameter names repeat across controls, ids may not."""
    return f"{control_id}_prm_{name}"


def group_id(section: str) -> str:
    """A catalogue group's id from its annex section: "Bijlage 2 · Technische maatregelen · Back-up" -> "Bijlage-2-…-Back-up"."""
    return _NOT_IN_TOKEN.sub("-", section).strip("-")


def parameter_values(value: Any) -> list[str] | None:
    """A parameter's value as OSCAL values: one per list item, JSON for anything but text (true, 24, {…})."""
    items = value if isinstance(value, list) else [value]
    values = [item if isinstance(item, str) else json.dumps(item, ensure_ascii=False, sort_keys=True) for item in items]
    return [one_line(v) for v in values if one_line(v)] or None


def _control(control: dict[str, Any], lang: str) -> catalog.Control:
    cid, procedure = control["id"], control["test_procedure"]
    return catalog.Control(
        id=cid,
        title=one_line(control["title"]),
        params=[common.Parameter1(id=parameter_id(cid, name), label=name) for name in control["parameters"]] or None,
        props=props(("frequency", control["frequency"]), ("annex-section", control["annex_section"]), *reference_props(control)),
        parts=[
            common.Part(id=f"{cid}_smt", name="statement", prose=control["promise"]),
            common.Part(id=objective_id(cid), name="assessment-objective", prose=EXPORT_STRINGS[lang]["objective"]),
            *[
                common.Part(
                    id=f"{cid}_{test}",
                    name="assessment-method",
                    title=STRINGS[lang][test],
                    props=props(("method", method)),
                    prose=procedure[test],
                )
                for test, method in TESTS
            ],
        ],
    )


def build_catalogue(document: dict[str, Any]) -> catalog.Catalog:
    """The controls of the report as an OSCAL catalogue, one group per annex section in the report's order."""
    lang = document["lang"]
    sections: dict[str, list[catalog.Control]] = {}
    for control in document["controls"]:
        sections.setdefault(control["annex_section"], []).append(_control(control, lang))
    tool = document["tool"]
    return catalog.Catalog(
        uuid=export_uuid("catalogue", tool["name"], lang),
        metadata=metadata(document, EXPORT_STRINGS[lang]["catalogue_title"], tool["version"], ("tool", tool["name"])),
        groups=[
            catalog.Group2(id=group_id(title), title=one_line(title), controls=controls) for title, controls in sections.items()
        ]
        or None,
    )


def build_profile(document: dict[str, Any], catalogue_href: str) -> profile.Profile:
    """The report's profile: the controls it covers from the catalogue, each parameter set to the value used."""
    ids = [c["id"] for c in document["controls"]]
    selected = (
        profile.Import2(href=catalogue_href, include_controls=[profile.SelectControl(with_ids=ids)])
        if ids
        else profile.Import1(href=catalogue_href, include_all=common.IncludeAll())
    )
    settings = [
        profile.SetParameters(param_id=parameter_id(c["id"], name), values=parameter_values(value))
        for c in document["controls"]
        for name, value in c["parameters"].items()
    ]
    name = document["profile"]["name"]
    return profile.Profile(
        uuid=export_uuid("profile", name, period_key(document), document["lang"]),
        metadata=metadata(
            document,
            EXPORT_STRINGS[document["lang"]]["profile_title"].format(name=name),
            document["generated_at"],
            *profile_props(document),
        ),
        imports=[selected],
        merge=profile.Merge2(as_is=True),  # keep the catalogue's groups (annex sections)
        modify=profile.Modify(set_parameters=settings) if settings else None,
    )


def _system(document: dict[str, Any]) -> common.SystemComponent:
    words, stated = EXPORT_STRINGS[document["lang"]], document["profile"]
    return common.SystemComponent(
        uuid=export_uuid("system", stated["processor"], stated["agreement"]),
        type="this-system",
        title=one_line(stated["processor"] or words["system_name"]),
        description=words["system_description"],
        status=common.Status(state="operational"),
    )


def build_ssp(document: dict[str, Any], profile_href: str) -> ssp.SystemSecurityPlan:
    """The processor's systems, claiming each control's promise as its implementation."""
    lang, stated = document["lang"], document["profile"]
    words = EXPORT_STRINGS[lang]
    system = _system(document)
    requirements = [
        ssp.ImplementedRequirement(
            uuid=export_uuid("implemented-requirement", system.uuid, c["id"]),
            control_id=c["id"],
            by_components=[
                ssp.ByComponent(
                    component_uuid=system.uuid,
                    uuid=export_uuid("by-component", system.uuid, c["id"]),
                    description=c["promise"],
                )
            ],
        )
        for c in document["controls"]
    ]
    return ssp.SystemSecurityPlan(
        uuid=export_uuid("ssp", stated["name"], stated["agreement"], lang),
        metadata=metadata(document, words["ssp_title"], document["generated_at"], *profile_props(document)),
        import_profile=ssp.ImportProfile(href=profile_href),
        system_characteristics=ssp.SystemCharacteristics(
            system_ids=[common.SystemId(identifier_type=NAMESPACE, id=one_line(stated["agreement"] or stated["name"]))],
            system_name=system.title,
            description=words["system_description"],
            props=props(("customer", stated["customer"]), ("agreement", stated["agreement"])),
            system_information=ssp.SystemInformation(
                information_types=[
                    ssp.InformationType(
                        uuid=export_uuid("information-type", "personal-data"),
                        title=words["information_type"],
                        description=words["information_type_description"],
                    )
                ]
            ),
            status=ssp.Status1(state="operational"),
            authorization_boundary=ssp.AuthorizationBoundary(description=words["boundary"]),
        ),
        system_implementation=ssp.SystemImplementation(components=[system]),
        control_implementation=ssp.ControlImplementation(
            description=words["implementation"], implemented_requirements=requirements
        ),
    )


def _activity(control: dict[str, Any], lang: str) -> common.Activity:
    cid, procedure = control["id"], control["test_procedure"]
    return common.Activity(
        uuid=export_uuid("activity", cid),
        title=one_line(f"{cid} {control['title']}"),
        description=EXPORT_STRINGS[lang]["objective"],
        props=props(("method", "TEST"), ("frequency", control["frequency"])),
        steps=[
            common.Step(uuid=export_uuid("step", cid, test), title=STRINGS[lang][test], description=procedure[test])
            for test, _ in TESTS
        ],
        related_controls=common.ReviewedControls(
            control_selections=[common.ControlSelections(include_controls=[common.SelectControlById(control_id=cid)])]
        ),
    )


def build_plan(document: dict[str, Any], ssp_href: str) -> AssessmentPlan:
    """The plan the results carry out: the period, the controls, how each is tested, and by which tool."""
    lang, period = document["lang"], document["period"]
    words = EXPORT_STRINGS[lang]
    tool = tool_component(document, words["tool"])
    activities = [_activity(c, lang) for c in document["controls"]]
    every_component = common.AssessmentSubjectAll(
        type="component", description=words["subjects"], include_all=common.IncludeAll()
    )
    task = common.Task(
        uuid=export_uuid("task", period_key(document)),
        type="action",
        title=words["task"],
        timing=common.TimingWithinDateRange(
            within_date_range=common.WithinDateRange(start=day_bounds(period["start"])[0], end=day_bounds(period["end"])[1])
        ),
        associated_activities=[
            common.AssociatedActivity(activity_uuid=a.uuid, subjects=[common.AssessmentSubject(root=every_component)])
            for a in activities
        ]
        or None,
    )
    return AssessmentPlan(
        uuid=export_uuid("assessment-plan", period_key(document), document["profile"]["name"], lang),
        metadata=metadata(
            document,
            words["plan_title"].format(start=period["start"], end=period["end"]),
            document["generated_at"],
            ("period-start", period["start"]),
            ("period-end", period["end"]),
            *profile_props(document),
        ),
        import_ssp=common.ImportSsp(href=ssp_href),
        local_definitions=LocalDefinitions(activities=activities or None),
        reviewed_controls=common.ReviewedControls(
            description=words["controls"], control_selections=[control_selection(document)]
        ),
        assessment_subjects=[every_component],
        assessment_assets=common.AssessmentAssets(
            components=[tool],
            assessment_platforms=[
                common.AssessmentPlatform(
                    uuid=export_uuid("platform", document["tool"]["name"]),
                    title=tool.title,
                    uses_components=[common.UsesComponent(component_uuid=tool.uuid)],
                )
            ],
        ),
        tasks=[task],
    )
