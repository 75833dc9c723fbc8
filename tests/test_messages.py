"""Finding texts are catalogue data: every code an evaluator records is defined once, in its own control's file
(or the shared file), every defined code is used, and rendering needs no evaluator."""

from __future__ import annotations

import ast
import dataclasses
import re
import shutil
import string
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

import auditpack.controls.evaluators as evaluators_package
from auditpack.collectors.parsers.backup_logs import RESULTS
from auditpack.collectors.parsers.evtx_summary import FIREWALL_EVENTS, FIREWALL_PROFILES, POLICY_CHANGES, THREAT_ACTIONS
from auditpack.collectors.parsers.firewall_rules import Rule
from auditpack.collectors.parsers.registers import REGISTERS
from auditpack.controls.coverage import COLLECTION_UNIT_OF_FREQUENCY
from auditpack.controls.evaluators._population import SOURCES
from auditpack.controls.messages import render
from auditpack.controls.model import CATALOGUE_DIR, SHARED_MESSAGES, TERMS, load_catalogue, load_messages, load_terms
from auditpack.wording import PLURAL_SIGN, fields
from auditpack.yamlfile import YamlFileError

EVALUATORS_DIR = Path(evaluators_package.__file__).parent
CATALOGUE = load_catalogue()
# A message code is "<prefix>.<name>" in lower case; evidence kinds look the same, so they are left out by name.
CODE = re.compile(r"^[a-z][a-z0-9]*\.[a-z_]+$")
KINDS = {kind for control in CATALOGUE.values() for kind in control.evidence_kinds}
RECORDERS = {"deviation": 2, "gap": 2, "observe": 2, "Outcome": 0}  # call -> position of its code argument


def module_codes(tree: ast.Module) -> set[str]:
    """The message codes written in a module: its string literals that look like a code and are no evidence kind."""
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value) and node.value not in KINDS
    }


def control_id(tree: ast.Module) -> str | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "CONTROL_ID" for t in node.targets):
            return node.value.value
    return None


MODULES = {path.stem: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(EVALUATORS_DIR.glob("*.py"))}
USED = {name: module_codes(tree) for name, tree in MODULES.items()}
OWNER = {name: control_id(tree) for name, tree in MODULES.items()}
SHARED = set(load_messages()) - {code for control in CATALOGUE.values() for code in control.messages}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "__init__"))
def test_every_code_a_module_records_is_defined_where_it_belongs(module):
    """A control's module uses its own codes and shared ones; a helper module (no CONTROL_ID) only shared ones."""
    own = set(CATALOGUE[OWNER[module]].messages) if OWNER[module] else set()
    assert USED[module] - own - SHARED == set(), f"{module}.py records codes that neither its control nor the shared file defines"


@pytest.mark.parametrize("control_id", sorted(CATALOGUE))
def test_every_code_a_control_defines_is_recorded_by_its_evaluator(control_id):
    [module] = [m for m, owner in OWNER.items() if owner == control_id]
    assert CATALOGUE[control_id].messages, f"{control_id} defines no messages"
    assert set(CATALOGUE[control_id].messages) - USED[module] == set(), (
        f"{control_id}.yaml defines codes {module}.py never records"
    )


REASONS = module_codes(ast.parse((EVALUATORS_DIR.parent / "evaluate.py").read_text(encoding="utf-8")))


def test_every_shared_code_is_recorded_somewhere():
    reasons = {"reason.no_runs", "reason.no_subject", "reason.no_usable_evidence", "reason.thin_coverage"}
    assert SHARED == {"evidence.missing", "evidence.no_register", "evidence.no_day", "pop.missing"} | reasons
    assert REASONS == reasons  # why a control is not applicable or not evidenced, given by controls/evaluate.py
    assert SHARED - set().union(*USED.values(), REASONS) == set()


def test_codes_are_passed_as_literals_the_scan_can_see():
    """The scan above reads string literals, so a code built at run time (an f-string) would escape it."""
    for name, tree in MODULES.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            position = RECORDERS.get(called)
            if position is None or len(node.args) <= position:
                continue
            code = node.args[position]
            assert not isinstance(code, ast.JoinedStr), f"{name}.py:{node.lineno} builds a message code at run time"
            if isinstance(code, ast.Constant):
                assert CODE.match(code.value) and code.value not in KINDS, f"{name}.py:{node.lineno}: {code.value!r}"


def test_rendering_needs_no_evaluator_module():
    script = (
        "import sys\n"
        "from auditpack.controls.result import Deviation\n"
        "print(Deviation('fs01', '2026-03-10', 'bak1.failed', {'results': ['failure'], 'jobs': ['nightly'], "
        "'next_success': '2026-03-11', 'repair_days': 1}).text('en'))\n"
        "print(sorted(m for m in sys.modules if m.startswith('auditpack.controls.evaluators')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [
        "no successful backup: the runs of that day failed (job nightly); repaired by a successful backup on 2026-03-11, "
        "1 day later",
        "[]",
    ]


# -- facts are said in the report's language (catalogue/_terms.yaml) -------------------------------------

WORDS = load_terms()


def test_every_group_of_terms_fills_a_placeholder_of_some_message():
    used = {name for message in load_messages().values() for name, _ in fields(message.nl)}
    assert {name: set(g.placeholders) - used for name, g in WORDS.groups.items() if set(g.placeholders) - used} == {}


@pytest.mark.parametrize(
    "group,values",
    [
        ("register", [*REGISTERS, "egress"]),
        ("backup_result", RESULTS),
        ("population_source", SOURCES),
        ("coverage_unit", set(COLLECTION_UNIT_OF_FREQUENCY.values())),
        ("firewall_change", FIREWALL_EVENTS.values()),
        ("firewall_profile", FIREWALL_PROFILES.values()),
        ("audit_policy_change", POLICY_CHANGES.values()),
        ("threat_action", THREAT_ACTIONS.values()),
        ("firewall_rule_field", [f.name for f in dataclasses.fields(Rule)]),
    ],
)
def test_every_value_the_collectors_and_evaluators_record_has_its_words(group, values):
    assert set(values) - set(WORDS.groups[group].words) == set()


def test_a_word_that_counts_is_only_used_for_a_count():
    """A noun pair ("week|weken") said on its own would read "week|weken": it only names the unit of a count."""
    counting = {p for g in WORDS.groups.values() if any(PLURAL_SIGN in w.nl for w in g.words.values()) for p in g.placeholders}
    assert counting == {"unit"}
    for code, message in load_messages().items():
        for text in (message.nl, message.en):
            bare = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            assert not bare & counting, f"{code} says {bare & counting} without a count"


def test_a_recorded_value_is_said_in_the_reports_language():
    facts = {"missing_from": ["console"], "present_in": ["inventory", "ad"]}
    assert (
        render("pop.missing", facts, "nl")
        == "werkplek ontbreekt in: antivirusconsole (wel aanwezig in: inventaris en Active Directory)"
    )
    assert (
        render("pop.missing", facts, "en")
        == "workstation missing from: anti-virus console (present in: inventory and Active Directory)"
    )
    assert render("evidence.no_register", {"register": "breaches"}, "nl") == "het datalekregister is niet aangeleverd"
    assert render("evidence.no_register", {"register": "breaches"}, "en") == "the breach register was not provided"


def test_a_value_no_group_knows_is_data_and_shown_as_recorded():
    facts = {"results": ["aborted"], "jobs": ["borg-nightly"], "next_success": "2026-03-11", "repair_days": 1}
    assert "de runs van die dag zijn aborted (job borg-nightly)" in render("bak1.failed", facts, "nl")


def test_a_fact_the_evidence_did_not_give_is_said_as_unknown():
    facts = {"log": None, "time": "2026-12-28T03:00:00Z", "by": None}
    assert render("log2.other_log_cleared", facts, "nl") == "logboek onbekend gewist (104) om 2026-12-28T03:00:00Z door onbekend"
    assert render("log2.other_log_cleared", facts, "en") == "log unknown cleared (104) at 2026-12-28T03:00:00Z by unknown"
    profiles = {"rule": None, "what": None, "profiles": None, "time": "t", "by": None}
    assert (
        render("fw.windows_rule_changed", profiles, "nl")
        == "Windows Firewall-regel onbekend: onbekend (profielen onbekend) om t door onbekend"
    )


@pytest.mark.parametrize("delay,nl,en", [(1, "1 dag na", "1 day after"), (4, "4 dagen na", "4 days after")])
def test_a_count_is_said_in_the_singular_or_the_plural(delay, nl, en):
    facts = {"disabled_on": "2026-05-06", "delay": delay, "last_day": "2026-04-30", "allowed": 1}
    assert nl in render("lvr.disabled_late", facts, "nl") and render("lvr.disabled_late", facts, "nl").endswith(
        "toegestaan: 1 dag"
    )
    assert en in render("lvr.disabled_late", facts, "en") and render("lvr.disabled_late", facts, "en").endswith("allowed: 1 day")
    profiles = {"profiles": ["domain"] if delay == 1 else ["domain", "public"]}
    assert render("fw.windows_profile", profiles, "nl").endswith(
        "in profiel domein" if delay == 1 else "in profielen domein en openbaar"
    )


def test_the_shared_file_ships_with_the_package():
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["auditpack.controls"]
    files = [p.relative_to(CATALOGUE_DIR.parent).as_posix() for p in CATALOGUE_DIR.iterdir()]
    assert f"catalogue/{SHARED_MESSAGES}" in files
    assert [f for f in files if not any(fnmatch(f, pattern) for pattern in patterns)] == []


# -- the catalogue refuses broken message data at load time ---------------------------------------


@pytest.fixture
def catalogue_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "catalogue"
    shutil.copytree(CATALOGUE_DIR, copy)
    return copy


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_a_code_defined_in_two_files_is_refused_naming_both(catalogue_copy):
    append(catalogue_copy / "T-TLS.yaml", '  bak1.failed:\n    nl: "dubbel"\n    en: "twice"\n')
    with pytest.raises(YamlFileError) as err:
        load_catalogue(catalogue_copy)
    [problem] = err.value.problems
    assert problem.file.endswith("T-TLS.yaml") and problem.key == "messages.bak1.failed"
    assert "T-BAK-1.yaml:" in problem.message and "already defined" in problem.message


def test_a_control_code_also_in_the_shared_file_is_refused(catalogue_copy):
    append(catalogue_copy / "T-TLS.yaml", '  evidence.no_day:\n    nl: "geen bewijs"\n    en: "no evidence"\n')
    with pytest.raises(
        YamlFileError, match=r"T-TLS.yaml:\d+: messages.evidence.no_day: already defined at .*_shared_messages.yaml"
    ):
        load_catalogue(catalogue_copy)


def test_a_code_defined_twice_in_one_file_is_refused(catalogue_copy):
    append(catalogue_copy / "T-TLS.yaml", '  tls.plaintext:\n    nl: "x"\n    en: "y"\n')
    with pytest.raises(YamlFileError, match="T-TLS.yaml.*duplicate key"):
        load_catalogue(catalogue_copy)


@pytest.mark.parametrize(
    "entry,error",
    [
        ('  tls.new:\n    nl: "alleen Nederlands"\n', "messages.tls.new.en: Field required"),
        ('  tls.new:\n    nl: "  "\n    en: "text"\n', "messages.tls.new.nl: Value error, the text is empty"),
        ('  tls.new:\n    nl: "{a}"\n    en: "{b}"\n', "different placeholders: ['a', 'b']"),
        ('  tls.new:\n    nl: "x"\n    en: "y"\n    de: "z"\n', "messages.tls.new.de: Extra inputs are not permitted"),
    ],
)
def test_a_message_needs_both_languages_with_text_and_the_same_placeholders(catalogue_copy, entry, error):
    append(catalogue_copy / "T-TLS.yaml", entry)
    with pytest.raises(YamlFileError, match=re.escape(error)):
        load_catalogue(catalogue_copy)


def test_a_plural_form_needs_a_singular_and_a_plural(catalogue_copy):
    append(catalogue_copy / "T-TLS.yaml", '  tls.new:\n    nl: "{days:|dagen}"\n    en: "{days:day|days}"\n')
    with pytest.raises(YamlFileError, match=re.escape("{days:|dagen} must name a singular and a plural")):
        load_catalogue(catalogue_copy)


def test_a_placeholder_in_two_groups_of_terms_is_refused(catalogue_copy):
    terms = catalogue_copy / TERMS
    terms.write_text(terms.read_text(encoding="utf-8").replace("placeholders: [direction]", "placeholders: [results]"))
    with pytest.raises(YamlFileError, match="placeholder 'results' is in the groups backup_result and traffic_direction"):
        load_terms(catalogue_copy)


def test_without_the_shared_file_the_catalogue_does_not_load(catalogue_copy):
    (catalogue_copy / SHARED_MESSAGES).unlink()
    with pytest.raises(YamlFileError, match="cannot read"):
        load_catalogue(catalogue_copy)


# -- the attributes of tested items: labels in both languages, a shared one defined once ------------------------------


def add_attribute(path: Path, entry: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace("\nattributes:\n", f"\nattributes:\n{entry}", 1), encoding="utf-8")


def test_a_control_naming_an_attribute_of_the_shared_file_is_refused_naming_both(catalogue_copy):
    add_attribute(catalogue_copy / "T-TLS.yaml", '  backup_result:\n    nl: "uitkomst"\n    en: "outcome"\n')
    with pytest.raises(YamlFileError) as err:
        load_catalogue(catalogue_copy)
    [problem] = err.value.problems
    assert problem.file.endswith("T-TLS.yaml") and problem.key == "attributes.backup_result"
    assert "_shared_messages.yaml:" in problem.message and "already defined" in problem.message


def test_an_attribute_label_needs_both_languages(catalogue_copy):
    add_attribute(catalogue_copy / "T-TLS.yaml", '  cipher:\n    nl: "versleuteling"\n')
    with pytest.raises(YamlFileError, match=re.escape("attributes.cipher.en: Field required")):
        load_catalogue(catalogue_copy)
