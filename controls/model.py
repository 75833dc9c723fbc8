"""The control catalogue as data: what an auditor reads (texts, references, parameters)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from auditpack.yamlfile import Problem, YamlFileError, locate, read_yaml, validate

CATALOGUE_DIR = Path(__file__).parent / "catalogue"


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    nl: str
    en: str

    def in_(self, lang: str) -> str:
        return self.en if lang == "en" else self.nl


class Parameter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    default: Any
    description: Text


class Procedure(BaseModel):
    model_config = ConfigDict(extra="forbid")
    design: Text
    operation: Text


class References(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gdpr: list[str] = []
    iso27001_2022: list[str] = []


class Control(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    annex_section: str
    title: Text
    description: Text
    references: References
    evidence_kinds: list[str]
    frequency: Literal["per_collection", "daily", "weekly", "monthly", "yearly", "per_event"]
    applies_to_roles: list[str] = []
    test_procedure: Procedure
    parameters: dict[str, Parameter] = {}

    def parameter_values(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        values = {name: p.default for name, p in self.parameters.items()}
        values.update(overrides or {})
        return values


@lru_cache(maxsize=4)
def load_catalogue(directory: Path = CATALOGUE_DIR) -> dict[str, Control]:
    """Every control of the catalogue; a broken control file is named with its line and key."""
    controls = {}
    for path in sorted(directory.glob("*.yaml")):
        doc, file = read_yaml(path)
        control = validate(Control, doc, file)
        if control.id != path.stem:
            raise YamlFileError([Problem(file, locate(doc, ("id",)), "id", f"{control.id!r} does not match the file name")])
        controls[control.id] = control
    return controls
