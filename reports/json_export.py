"""The report document as JSON, checked against its published schema before it is written.

The schema (`schema/report.schema.json`, JSON Schema draft 2020-12) ships inside the
package and is read through importlib.resources, so an installed auditpack validates
exactly what a source checkout does. Besides the schema, a few facts that a schema
cannot express are checked (the summary counts what the controls say, a population's
size is its number of subjects), because a report that contradicts itself must not leave
the building either.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from auditpack.atomic import write_atomic

SCHEMA_RESOURCE = "schema/report.schema.json"
_MAX_MESSAGE = 240  # a message quoting a whole control would bury the path


class DocumentInvalid(ValueError):
    """The document does not match the schema; `problems` holds one 'path: message' line per error."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"the report document is not valid ({len(problems)} problem(s)):\n{lines}")


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The published schema of the report document."""
    text = resources.files("auditpack.reports").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    return json.loads(text)


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with its local "#/$defs/..." references replaced by what they point to.

    Same meaning (a $ref next to other keywords becomes one more allOf branch, which is how
    draft 2020-12 evaluates it, unevaluatedProperties included), but validation no longer
    resolves a reference for every evidence item: a year of evidence checks about three
    times faster. The schema has no recursive definitions, so this terminates.
    """
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = _inline(defs[ref.removeprefix("#/$defs/")], defs)
        rest = {k: _inline(v, defs) for k, v in node.items() if k != "$ref"}
        return {**rest, "allOf": [target, *rest.get("allOf", [])]} if rest else target
    return {k: (v if k == "$defs" else _inline(v, defs)) for k, v in node.items()}


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(_inline(schema, schema.get("$defs", {})), format_checker=Draft202012Validator.FORMAT_CHECKER)


def _short(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _closest_branch(error: ValidationError) -> list[ValidationError]:
    """For oneOf/anyOf: the errors of the alternative that came nearest, skipping those of another type altogether."""
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.schema_path[0] if sub.schema_path else None, []).append(sub)
    plausible = [errs for errs in branches.values() if not any(e.validator == "type" and not e.relative_path for e in errs)]
    return min(plausible, key=len) if plausible else []


def _describe(error: ValidationError) -> str:
    line = f"{error.json_path}: {_short(error.message)}"
    if error.validator in ("oneOf", "anyOf"):
        branch = _closest_branch(error)
        if branch:
            line = f"{error.json_path}: matches none of the allowed shapes; nearest: " + "; ".join(
                f"{e.json_path}: {_short(e.message)}" for e in branch[:3]
            )
    return line


def _consistency(doc: dict[str, Any]) -> list[str]:
    """Facts across fields; only run on a document whose shape the schema already accepted."""
    problems = []
    if doc["period"]["start"] > doc["period"]["end"]:
        problems.append(f"$.period: start {doc['period']['start']} lies after end {doc['period']['end']}")
    counted = Counter(c["status"] for c in doc["controls"])
    for status, count in doc["summary"].items():
        if counted.get(status, 0) != count:
            problems.append(f"$.summary.{status}: says {count}, the controls say {counted.get(status, 0)}")
    seen: set[str] = set()
    for i, control in enumerate(doc["controls"]):
        if control["id"] in seen:
            problems.append(f"$.controls[{i}].id: {control['id']} appears more than once")
        seen.add(control["id"])
        population = control["population"]
        if population["size"] != len(population["subjects"]):
            problems.append(
                f"$.controls[{i}].population.size: {population['size']} but {len(population['subjects'])} subjects are listed"
            )
        for j, sample in enumerate(control["samples"]):
            if sample["control"] != control["id"]:
                problems.append(f"$.controls[{i}].samples[{j}].control: {sample['control']} under {control['id']}")
        problems += _tested_items_problems(i, control)
    runs = doc["evidence_store"]["runs"]
    head = doc["evidence_store"]["chain_head"]
    if runs and head != runs[-1]["manifest_sha256"]:
        problems.append("$.evidence_store.chain_head: is not the manifest of the last run")
    if not runs and head is not None:
        problems.append("$.evidence_store.chain_head: set although the period has no runs")
    return problems


def _tested_items_problems(i: int, control: dict[str, Any]) -> list[str]:
    """A tested item names only labelled attributes and cites only evidence the control lists (so the pack carries it)."""
    problems = []
    labelled = {a["key"] for a in control["tested_attributes"]}
    cited = {e["item_id"] for e in control["evidence"]}
    for j, item in enumerate(control["tested_items"]):
        where = f"$.controls[{i}].tested_items[{j}]"
        if unlabelled := sorted(set(item["attributes"]) - labelled):
            problems.append(f"{where}.attributes: {', '.join(unlabelled)} not among the control's tested_attributes")
        if uncited := sorted(set(item["evidence"]) - cited):
            problems.append(f"{where}.evidence: {', '.join(uncited)} not among the control's evidence")
    return problems


def _document_order(error: ValidationError) -> tuple[list[tuple[int, int | str]], str]:
    # controls[2] before controls[10]: indexes compare as numbers, not as text
    return [(0, p) if isinstance(p, int) else (1, str(p)) for p in error.absolute_path], error.message


def validate_document(doc: Any) -> None:
    """Raise DocumentInvalid (a ValueError) naming every problem with its JSON path; return None when valid."""
    errors = sorted(_validator().iter_errors(doc), key=_document_order)
    problems = [_describe(e) for e in errors]
    if not problems:
        problems = _consistency(doc)
    if problems:
        raise DocumentInvalid(problems)


def to_json_bytes(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_json(document: dict[str, Any], path: Path) -> Path:
    """Validate the document, then write it as UTF-8 JSON; an invalid document writes nothing."""
    validate_document(document)
    return write_atomic(Path(path), to_json_bytes(document))
