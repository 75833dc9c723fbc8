"""Every control's evidence scenarios (tests/scenarios/<CONTROL-ID>/*.yaml): build the evidence, evaluate, compare.

A scenario lists all its expected deviations, gaps and observations, so a missing or an extra finding fails.
Every control in the catalogue needs at least one *pass* and one *fail* scenario; see tests/scenarios/README.md.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor

from auditpack.controls.evidence_view import EvidenceView, RunView
from auditpack.controls.model import attribute_labels, load_catalogue
from auditpack.controls.profiles import DEFAULT_PROFILE, Profile
from auditpack.controls.result import ControlResult, Deviation, ItemResult, Status
from auditpack.periods import Period, period_from_options, year_period
from evidence_factory import AFTER_2026, evaluate, item, register, run

SCENARIOS = Path(__file__).parent / "scenarios"
CATALOGUE = load_catalogue()


class TextDates(SafeConstructor):
    """Dates stay text, as they are in stored evidence (JSON); YAML would otherwise turn 2026-03-10 into a date."""


TextDates.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt key must not silently mean "expect nothing"


class Span(Strict):
    first: date
    last: date


class Run(Strict):
    seq: int
    day: str
    hosts: dict[str, list[str]]
    status: dict[str, str] = {}


class Evidence(Strict):
    """One evidence item (kind + normalized) or one imported register (register + rows)."""

    kind: str | None = None
    normalized: Any = None
    host: str = "registers"
    day: str | None = None
    seq: int = 1
    status: str = "ok"
    errors: list[str] = []
    as_of: str | None = None  # the day an imported item speaks for (an imported firewall backup)
    register_name: str | None = Field(None, alias="register")  # "register" itself is taken by pydantic's BaseModel
    rows: list[dict[str, Any]] = []

    @model_validator(mode="after")
    def _one_of(self) -> Evidence:
        if (self.kind is None) == (self.register_name is None):
            raise ValueError("give either kind (with normalized) or register (with rows)")
        return self

    def view(self) -> EvidenceView:
        if self.register_name is not None:
            return register(self.register_name, self.rows, **({"day": self.day} if self.day else {}))
        return item(
            self.kind, self.normalized, self.host, self.day or "2026-06-01", self.seq, self.status, tuple(self.errors), self.as_of
        )


class Finding(Strict):
    subject: str
    date: str
    code: str
    facts: dict[str, Any] | None = None  # when given, the finding's facts must be exactly these

    def matches(self, found: Deviation) -> bool:
        return (self.subject, self.date, self.code) == (found.subject, found.date, found.code) and (
            self.facts is None or self.facts == found.facts
        )


class Coverage(Strict):
    unit: Literal["day", "week", "month"]
    expected: int
    evidenced: int
    missing: list[list[str]] | None = None  # [first, last] date ranges; when given, exactly these


class Expect(Strict):
    status: Literal["effective", "effective_with_deviations", "not_effective", "not_evidenced", "not_applicable"]
    tested: int | None = None
    population: list[str] | None = None
    deviations: list[Finding] = []
    gaps: list[Finding] = []
    observations: list[Finding] = []
    reason: str | None = None  # the code of why the control is not applicable or not evidenced
    coverage: Coverage | None = None


class Scenario(Strict):
    control: str
    params: dict[str, Any] = {}
    period: int | Span = 2026
    today: date = AFTER_2026
    minimum_coverage: float | None = None  # the profile's; default 0.9
    collection_frequency: Literal["daily", "weekly", "monthly"] | None = None  # the profile's; default weekly
    runs: list[Run] = []
    evidence: list[Evidence] = []
    expect: Expect

    def period_view(self) -> Period:
        if isinstance(self.period, int):
            return year_period(self.period)
        return period_from_options(None, self.period.first, self.period.last, self.period.first.year)

    def profile(self) -> Profile:
        settings = {"minimum_coverage": self.minimum_coverage, "collection_frequency": self.collection_frequency}
        return DEFAULT_PROFILE.model_copy(update={k: v for k, v in settings.items() if v is not None})

    def run_views(self) -> list[RunView]:
        return [run(r.seq, r.day, r.hosts, r.status) for r in self.runs]

    def result(self) -> ControlResult:
        return evaluate(
            self.control,
            [e.view() for e in self.evidence],
            self.run_views(),
            period=self.period_view(),
            today=self.today,
            profile=self.profile(),
            **self.params,
        )


def load(path: Path) -> Scenario:
    yaml = YAML(typ="safe", pure=True)
    yaml.Constructor = TextDates
    return Scenario.model_validate(yaml.load(path.read_text(encoding="utf-8")))


def unmatched(expected: list[Finding], found: list[Deviation]) -> tuple[list[Finding], list[Deviation]]:
    """Expected findings not found, and found findings not expected (each expectation matches one finding)."""
    left = list(found)
    missing = []
    for want in expected:
        hit = next((f for f in left if want.matches(f)), None)
        if hit is None:
            missing.append(want)
        else:
            left.remove(hit)
    return missing, left


FILES = sorted(SCENARIOS.glob("*/*.yaml"))


@cache
def result_of(path: Path) -> ControlResult:
    """A scenario evaluated once for the module: test_scenario and the attribute check below read the same result."""
    return load(path).result()


def test_scenarios_exist():
    assert len(FILES) >= 2 * len(CATALOGUE)


@pytest.mark.parametrize("control_id", sorted(CATALOGUE))
def test_every_control_has_a_pass_and_a_fail_scenario(control_id):
    names = [p.name for p in (SCENARIOS / control_id).glob("*.yaml")]
    assert any("pass" in n for n in names), f"add tests/scenarios/{control_id}/<name>_pass.yaml (see tests/scenarios/README.md)"
    assert any("fail" in n for n in names), f"add tests/scenarios/{control_id}/<name>_fail.yaml (see tests/scenarios/README.md)"


def test_every_scenario_folder_is_a_control():
    folders = {p.name for p in SCENARIOS.iterdir() if p.is_dir()}
    assert folders - set(CATALOGUE) == set()


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_scenario(path):
    scenario = load(path)
    assert scenario.control == path.parent.name, "a scenario lives in the folder of its control"
    assert path.read_text(encoding="utf-8").startswith("# "), "a scenario starts with a one-line comment saying what it shows"
    want = scenario.expect
    if "pass" in path.stem:
        assert want.status == Status.EFFECTIVE and not (want.deviations or want.gaps), "a pass scenario expects a clean pass"
    if "fail" in path.stem:
        assert want.status != Status.EFFECTIVE and (want.deviations or want.gaps or want.reason), (
            "a fail scenario names what fails"
        )

    result = result_of(path)
    problems = []
    for bucket in ("deviations", "gaps", "observations"):
        missing, extra = unmatched(getattr(want, bucket), getattr(result, bucket))
        problems += [f"{bucket}: expected, not found: {m.model_dump(exclude_none=True)}" for m in missing]
        problems += [
            f"{bucket}: found, not expected: {{subject: {e.subject}, date: {e.date}, code: {e.code}, facts: {e.facts}}}"
            for e in extra
        ]
    assert not problems, "\n".join(problems)
    assert result.status == want.status
    if want.tested is not None:
        assert result.tested == want.tested
    if want.population is not None:
        assert result.population == want.population
    assert (result.reason.code if result.reason else None) == want.reason
    if want.coverage is not None:
        got = result.coverage or {}
        assert {k: got.get(k) for k in ("unit", "expected", "evidenced")} == want.coverage.model_dump(exclude={"missing"})
        if want.coverage.missing is not None:
            assert got["missing"] == want.coverage.missing
    if result.reason:
        assert result.reason.text("nl") and result.reason.text("en")
    for finding in result.deviations + result.gaps + result.observations:
        assert finding.text("nl") and finding.text("en")  # every finding renders in both languages
    assert_tested_items_reperformable(result)


def assert_tested_items_reperformable(result: ControlResult) -> None:
    """Every tested item names attributes the catalogue has words for, and cites evidence the control lists;
    a pass always says what the test read, and every finding's subject-date is a tested item with its result."""
    labels = attribute_labels(CATALOGUE[result.control_id])
    cited = {ref.item_id for ref in result.evidence}
    for tested in result.tested_items:
        assert set(tested.attributes) <= set(labels), f"{result.control_id}: no label for {set(tested.attributes) - set(labels)}"
        assert set(tested.evidence) <= cited, f"{result.control_id} {tested.key()}: cites evidence the control does not list"
        if tested.result == ItemResult.PASSED:
            assert tested.attributes and tested.evidence, f"{result.control_id} {tested.key()}: a pass without what it read"
    items = {(t.subject, t.date): t.result for t in result.tested_items}
    assert {(d.subject, d.date) for d in result.deviations} <= {k for k, r in items.items() if r == ItemResult.DEVIATION}
    assert {(g.subject, g.date) for g in result.gaps} <= set(items)
    judged = len([r for r in items.values() if r in (ItemResult.PASSED, ItemResult.DEVIATION)])
    assert judged <= result.tested <= judged + list(items.values()).count(ItemResult.EXCEPTED)  # an excepted gap was no test


@pytest.mark.parametrize("control_id", sorted(CATALOGUE))
def test_every_attribute_a_control_names_is_recorded_by_one_of_its_scenarios(control_id):
    """A column label no scenario fills is either dead or a branch of the evaluator no scenario shows."""
    recorded = {
        key for path in FILES if path.parent.name == control_id for t in result_of(path).tested_items for key in t.attributes
    }
    assert set(CATALOGUE[control_id].attributes) - recorded == set()


def test_every_shared_attribute_is_recorded_by_some_scenario():
    shared = set(attribute_labels(CATALOGUE["T-BAK-1"])) - set(CATALOGUE["T-BAK-1"].attributes)
    assert {"row", "backup_result", "repair_days"} <= shared  # the helper modules' and the register row's
    recorded = {key for path in FILES for t in result_of(path).tested_items for key in t.attributes}
    assert shared - recorded == set()
