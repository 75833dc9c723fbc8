"""Follow a report's OSCAL files the way an OSCAL tool does, with compliance-trestle, and list what does not resolve.

From the assessment results: import-ap -> plan, import-ssp -> SSP, import-profile -> profile,
imports -> catalogue, each href relative to the file that names it. The profile is resolved
into its catalogue by trestle's ProfileResolver. Then every reference the files make:
control ids, parameter ids and finding targets against the resolved catalogue, and every
`…-uuid` field against the UUIDs the chain defines.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trestle.common.err import TrestleError
from trestle.core.catalog.catalog_interface import CatalogInterface
from trestle.core.profile_resolver import ProfileResolver
from trestle.oscal.assessment_plan import AssessmentPlan
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.catalog import Catalog
from trestle.oscal.profile import Profile
from trestle.oscal.ssp import SystemSecurityPlan

# each part and the trestle model that reads it, in the order the imports lead from one to the next
CHAIN = (("results", AssessmentResults), ("plan", AssessmentPlan), ("ssp", SystemSecurityPlan), ("profile", Profile))


def _objects(node: Any, path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, object) for every JSON object inside an OSCAL document, depth first."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _objects(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _objects(value, f"{path}[{i}]")


def _next_href(part: str, model: Any) -> str:
    if part == "results":
        return model.import_ap.href
    if part == "plan":
        return model.import_ssp.href
    if part == "ssp":
        return model.import_profile.href
    [single] = model.imports  # the profile imports the one catalogue
    return single.href


def load_chain(results: Path) -> tuple[dict[str, Any], list[str]]:
    """The results and what they import, read by trestle: ({part: model}, the files that are not there)."""
    models: dict[str, Any] = {}
    path = results
    for part, model_class in (*CHAIN, ("catalogue", Catalog)):
        if not path.is_file():
            return models, [f"{part}: {path.name}, imported by the {list(models)[-1]}, is not beside {results.name}"]
        models[part] = model_class.oscal_read(path)
        if part != "catalogue":
            path = path.parent / _next_href(part, models[part])
    return models, []


def resolved_catalogue(profile_path: Path) -> Catalog:
    """The catalogue as the profile selects and parameterises it, resolved by trestle (hrefs relative to the profile)."""
    with tempfile.TemporaryDirectory() as root, contextlib.chdir(profile_path.parent):
        (Path(root) / ".trestle").mkdir()  # the workspace trestle keeps its cache in; nothing is fetched
        return ProfileResolver.get_resolved_profile_catalog(Path(root), profile_path.name)


def unresolved(results: Path) -> list[str]:
    """Every href, control id, parameter id, objective and UUID reference of the chain that does not resolve."""
    models, problems = load_chain(results)
    if problems:
        return problems
    profile_path = results.parent / _next_href("ssp", models["ssp"])
    try:
        catalogue = CatalogInterface(resolved_catalogue(profile_path))
    except TrestleError as exc:  # the profile selects or sets what the catalogue does not hold
        return [f"profile: trestle cannot resolve it against the catalogue: {exc}"]
    control_ids = set(catalogue.get_control_ids())
    parameter_ids = {p.id for cid in control_ids for p in catalogue.get_control(cid).params or []}
    objectives = {
        part.id: cid
        for cid in control_ids
        for part in catalogue.get_control(cid).parts or []
        if part.name == "assessment-objective"
    }

    documents = {part: model.oscal_dict() for part, model in models.items()}
    defined = {node["uuid"] for doc in documents.values() for _, node in _objects(doc) if "uuid" in node}
    for part, doc in documents.items():
        for where, node in _objects(doc):
            for key, value in node.items():
                if key.endswith("-uuid") and value not in defined:
                    problems.append(f"{part} {where}.{key}: {value} is defined nowhere in the chain")
                if key == "href" and not (value[1:] in defined if value.startswith("#") else (results.parent / value).is_file()):
                    problems.append(f"{part} {where}.href: {value} is not beside {results.name}")
                if key in ("control-id", "with-ids"):
                    for control_id in value if isinstance(value, list) else [value]:
                        if control_id not in control_ids:
                            problems.append(f"{part} {where}.{key}: control {control_id} is not in the catalogue")
                if key == "param-id" and value not in parameter_ids:
                    problems.append(f"{part} {where}.param-id: {value} is not a parameter in the catalogue")
            if node.get("name") == "control-id" and node.get("value") not in control_ids:  # a property naming a control
                problems.append(f"{part} {where}: property control-id {node.get('value')} is not in the catalogue")

    for finding in models["results"].results[0].findings or []:
        target = finding.target
        control_id = next(p.value for p in finding.props if p.name == "control-id")
        if target.type.value != "objective-id" or objectives.get(target.target_id) != control_id:
            problems.append(f"results: finding {finding.uuid} targets {target.target_id}, not an objective of {control_id}")
    return problems
