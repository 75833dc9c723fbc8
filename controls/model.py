"""The control catalogue as data: what an auditor reads (texts, references, parameters, finding texts).

Each control is one file, catalogue/<CONTROL-ID>.yaml, holding everything said
about it, including under `messages:` the deviation, gap and observation texts
its evaluator records by code. Texts that several controls share (the generic
evidence codes and those of the helper modules controls/evaluators/_*.py) live
in catalogue/_shared_messages.yaml; files whose name starts with "_" are data,
not controls. A code is defined once in all these files together. The words of
the values evaluators record as facts (a backup result, a register) are in
catalogue/_terms.yaml.

Under `attributes:` the same files name, in both languages, the attributes an
evaluator records with each tested item (the facts its test used: a last working
day, a definition date): the column headers of the workbook's tested items. Their
order is the column order; a helper module's attributes are in the shared file.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from auditpack.wording import PLURAL_SIGN, fields
from auditpack.yamlfile import Problem, YamlFileError, locate, read_yaml, validate

CATALOGUE_DIR = Path(__file__).parent / "catalogue"
SHARED_MESSAGES = "_shared_messages.yaml"
SCOPE_LIMITS = "_scope.yaml"
TERMS = "_terms.yaml"


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    nl: str
    en: str

    def in_(self, lang: str) -> str:
        return self.en if lang == "en" else self.nl


class Message(Text):
    """A finding's text in both report languages, with the same {placeholders} (filled from the finding's facts)."""

    @field_validator("nl", "en")
    @classmethod
    def _not_blank(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("the text is empty")
        return text  # returned unchanged: the report shows it exactly as written

    @field_validator("nl", "en")
    @classmethod
    def _plural_forms(cls, text: str) -> str:
        for name, spec in fields(text):
            if PLURAL_SIGN in spec and (spec.count(PLURAL_SIGN) != 1 or not all(spec.split(PLURAL_SIGN))):
                raise ValueError(f"{{{name}:{spec}}} must name a singular and a plural: {{{name}:day|days}}")
        return text

    @model_validator(mode="after")
    def _same_placeholders(self) -> Message:
        nl, en = {name for name, _ in fields(self.nl)}, {name for name, _ in fields(self.en)}
        if nl != en:
            raise ValueError(f"nl and en use different placeholders: {sorted(nl ^ en)}")
        return self

    def in_language(self, lang: str) -> str:
        """The text in a report language; an unknown language is an error, never silently Dutch."""
        return {"nl": self.nl, "en": self.en}[lang]


class SharedMessages(BaseModel):
    """catalogue/_shared_messages.yaml: texts that belong to no single control."""

    model_config = ConfigDict(extra="forbid")
    messages: dict[str, Message]
    attributes: dict[str, Text] = {}  # attributes recorded by the helper modules (controls/evaluators/_*.py)


class TermGroup(BaseModel):
    """The words of the values one kind of fact takes, and the placeholders that hold such a fact."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    placeholders: list[str]
    words: dict[str, Text]


class Terms(BaseModel):
    """catalogue/_terms.yaml: the words of recorded facts, and of a fact the evidence did not give."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    unknown: Text
    groups: dict[str, TermGroup]

    @model_validator(mode="after")
    def _one_group_per_placeholder(self) -> Terms:
        seen: dict[str, str] = {}
        for name, group in self.groups.items():
            for placeholder in group.placeholders:
                if placeholder in seen:
                    raise ValueError(f"placeholder {placeholder!r} is in the groups {seen[placeholder]} and {name}")
                seen[placeholder] = name
        return self

    def group_of(self, placeholder: str) -> TermGroup | None:
        return next((g for g in self.groups.values() if placeholder in g.placeholders), None)


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
    annex_section: Text  # the section of the agreement's annex the control stands for
    title: Text
    description: Text
    references: References
    evidence_kinds: list[str]
    frequency: Literal["per_collection", "daily", "weekly", "monthly", "yearly", "per_event"]
    applies_to_roles: list[str] = []
    test_procedure: Procedure
    parameters: dict[str, Parameter] = {}
    messages: dict[str, Message] = {}  # code -> text, for the findings this control's evaluator records
    attributes: dict[str, Text] = {}  # attribute key -> label, for what its evaluator records with each tested item

    def parameter_values(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        values = {name: p.default for name, p in self.parameters.items()}
        values.update(overrides or {})
        return values


@lru_cache(maxsize=4)
def load_catalogue(directory: Path = CATALOGUE_DIR) -> dict[str, Control]:
    """Every control of the catalogue; a broken control file, or a message code defined twice, is named with its line."""
    controls = {}
    sources = [_shared_messages(directory)]
    for path in sorted(directory.glob("*.yaml")):
        if path.name.startswith("_"):
            continue  # data shared by controls, not a control
        doc, file = read_yaml(path)
        control = validate(Control, doc, file)
        if control.id != path.stem:
            raise YamlFileError([Problem(file, locate(doc, ("id",)), "id", f"{control.id!r} does not match the file name")])
        _refuse_shared_attributes(file, doc, control, directory)
        sources.append((file, doc, control.messages))
        controls[control.id] = control
    _refuse_duplicate_codes(sources)
    return controls


@lru_cache(maxsize=4)
def load_messages(directory: Path = CATALOGUE_DIR) -> dict[str, Message]:
    """Every message code with its texts: the shared ones and each control's (load_catalogue refuses a code twice)."""
    controls = load_catalogue(directory)
    found = dict(_shared_messages(directory)[2])
    for control in controls.values():
        found.update(control.messages)
    return found


def attribute_labels(control: Control, directory: Path = CATALOGUE_DIR) -> dict[str, Text]:
    """The labels of the attributes a control's tested items may carry, in column order: its own, then the shared."""
    return {**control.attributes, **_shared(directory)[2].attributes}


@lru_cache(maxsize=4)
def load_terms(directory: Path = CATALOGUE_DIR) -> Terms:
    """The words of recorded facts (catalogue/_terms.yaml)."""
    doc, file = read_yaml(directory / TERMS)
    return validate(Terms, doc, file)


@lru_cache(maxsize=4)
def _shared(directory: Path) -> tuple[str, Any, SharedMessages]:
    """The shared file's name, document (for line numbers) and contents."""
    doc, file = read_yaml(directory / SHARED_MESSAGES)
    return file, doc, validate(SharedMessages, doc, file)


def _shared_messages(directory: Path) -> tuple[str, Any, dict[str, Message]]:
    file, doc, shared = _shared(directory)
    return file, doc, shared.messages


def _refuse_shared_attributes(file: str, doc: Any, control: Control, directory: Path) -> None:
    """An attribute a helper module records has one label, in the shared file: a control may not name it again."""
    shared_file, shared_doc, shared = _shared(directory)
    problems = []
    for key in control.attributes:
        if key in shared.attributes:
            where = f"{shared_file}:{locate(shared_doc, ('attributes', key))}"
            problems.append(Problem(file, locate(doc, ("attributes", key)), f"attributes.{key}", f"already defined at {where}"))
    if problems:
        raise YamlFileError(problems)


def _refuse_duplicate_codes(sources: list[tuple[str, Any, dict[str, Message]]]) -> None:
    """A code means one text: a second definition, in the same catalogue or another file, names both places."""
    first: dict[str, str] = {}
    problems = []
    for file, doc, messages in sources:
        for code in messages:
            line = locate(doc, ("messages", code))
            if code in first:
                problems.append(Problem(file, line, f"messages.{code}", f"already defined at {first[code]}"))
            else:
                first[code] = f"{file}:{line}"
    if problems:
        raise YamlFileError(problems)


class ScopeLimit(BaseModel):
    """A promise of the annex that auditpack does not test, or tests only in part, and why (catalogue/_scope.yaml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    measure: str
    controls: list[str]
    what: Text
    why: Text


class ScopeLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    limits: list[ScopeLimit]


def load_scope_limits(directory: Path = CATALOGUE_DIR) -> list[ScopeLimit]:
    doc, file = read_yaml(directory / SCOPE_LIMITS)
    return validate(ScopeLimits, doc, file).limits
