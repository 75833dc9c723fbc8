"""What the five OSCAL files of a report share: one-line texts, properties in auditpack's namespace, metadata.

The files are built from one report document with compliance-trestle's models (reports/oscal.py for the
assessment results, reports/oscal_plan.py for what they import); identifiers and moments come from
reports/identifiers.py, so two exports of one document are byte for byte the same.
"""

from __future__ import annotations

import json
import re
from typing import Any

from trestle.oscal import OSCAL_VERSION, common

from .identifiers import NAMESPACE, export_uuid, moment

_SPACE = re.compile(r"\s+")


def one_line(text: Any) -> str:
    """One line without surrounding blanks: what OSCAL titles and property values require."""
    return _SPACE.sub(" ", str(text)).strip()


def prop(name: str, value: Any) -> common.Property | None:
    """A property in the auditpack namespace; None for an empty value, which OSCAL does not allow."""
    if value is None or isinstance(value, (list, dict)):
        value = None if not value else json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = one_line(value) if value is not None else ""
    return common.Property(name=name, value=text, ns=NAMESPACE) if text else None


def props(*pairs: tuple[str, Any]) -> list[common.Property] | None:
    found = [p for p in (prop(name, value) for name, value in pairs) if p is not None]
    return found or None


def profile_props(document: dict[str, Any]) -> list[tuple[str, Any]]:
    """The report's profile as property pairs: whose agreement with whom the files speak of."""
    stated = document["profile"]
    return [(key if key != "name" else "profile", stated[key]) for key in ("name", "processor", "customer", "agreement")]


def reference_props(control: dict[str, Any]) -> list[tuple[str, Any]]:
    """A control's GDPR and ISO/IEC 27001:2022 references as property pairs, one per reference."""
    refs = control["references"]
    return [*[("gdpr", ref) for ref in refs["gdpr"]], *[("iso27001-2022", ref) for ref in refs["iso27001_2022"]]]


def metadata(document: dict[str, Any], title: str, version: str, *pairs: tuple[str, Any]) -> common.Metadata:
    """Metadata of one of the report's OSCAL files: modified when the report was generated, in its language."""
    return common.Metadata(
        title=one_line(title),
        last_modified=moment(document["generated_at"]),
        version=version,
        oscal_version=OSCAL_VERSION,
        props=props(("language", document["lang"]), *pairs),
    )


def control_selection(document: dict[str, Any]) -> common.ControlSelections | common.ControlSelectionsAll:
    """The controls the report covers, by id (all of them when it names none)."""
    ids = [c["id"] for c in document["controls"]]
    if not ids:
        return common.ControlSelectionsAll(include_all=common.IncludeAll())
    return common.ControlSelections(include_controls=[common.SelectControlById(control_id=i) for i in ids])


def tool_uuid(document: dict[str, Any]) -> str:
    return export_uuid("tool", document["tool"]["name"])


def tool_component(document: dict[str, Any], description: str) -> common.SystemComponent:
    """auditpack itself, the tool that tested the controls; the same UUID in the plan and the results."""
    tool = document["tool"]
    return common.SystemComponent(
        uuid=tool_uuid(document),
        type="software",
        title=f"{tool['name']} {tool['version']}",
        description=description,
        status=common.Status(state="operational"),
        props=props(
            ("version", tool["version"]),
            ("catalogue-version", document["catalogue"]["version"]),
            ("catalogue-digest", document["catalogue"]["digest"]),
        ),
    )


def objective_id(control_id: str) -> str:
    """The id of a control's assessment objective in the catalogue: what a finding of the results targets."""
    return f"{control_id}_obj"
