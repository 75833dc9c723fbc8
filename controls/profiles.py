"""Per-agreement profiles: which customer, which agreement, which parameter values differ from the defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from auditpack.yamlfile import Problem, YamlFileError, locate, read_yaml, validate

from .model import Control


class Signatory(BaseModel):
    """Who signs the management statement for the processor; the date is written by hand when signing."""

    model_config = ConfigDict(extra="forbid")
    name: str = ""
    role: str = ""
    place: str = ""


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    processor: str = ""
    customer: str = ""
    agreement: str = ""
    # how often the controls tested on each collection are expected to be tested, and the share of those
    # dates (weeks, by default) the evidence must cover before a verdict over the period can be "effective"
    collection_frequency: Literal["daily", "weekly", "monthly"] = "weekly"
    minimum_coverage: float = Field(0.9, ge=0, le=1)
    parameters: dict[str, dict[str, Any]] = {}
    signatory: Signatory = Signatory()


DEFAULT_PROFILE = Profile(name="default")  # the catalogue's defaults; a report names it in its language


def _same_type(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def load_profile(path: str | Path, catalogue: dict[str, Control]) -> Profile:
    doc, file = read_yaml(path)
    profile = validate(Profile, doc, file)
    problems = []
    for control_id, values in profile.parameters.items():
        control = catalogue.get(control_id)
        if control is None:
            problems.append(Problem(file, locate(doc, ("parameters", control_id)), f"parameters.{control_id}", "unknown control"))
            continue
        for name, value in values.items():
            where = locate(doc, ("parameters", control_id, name))
            key = f"parameters.{control_id}.{name}"
            if name not in control.parameters:
                problems.append(
                    Problem(file, where, key, f"{control_id} has no such parameter; it has: {', '.join(control.parameters)}")
                )
            elif not _same_type(control.parameters[name].default, value):
                default = control.parameters[name].default
                problems.append(
                    Problem(file, where, key, f"must be of the same kind as the default {default!r} ({type(default).__name__})")
                )
    if problems:
        raise YamlFileError(problems)
    return profile
