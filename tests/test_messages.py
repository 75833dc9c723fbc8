"""Finding texts are catalogue data: every code an evaluator records is defined once, in its own control's file
(or the shared file), every defined code is used, and rendering needs no evaluator."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

import auditpack.controls.evaluators as evaluators_package
from auditpack.controls.model import CATALOGUE_DIR, SHARED_MESSAGES, load_catalogue, load_messages
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
        "no successful backup, only failure (job nightly); repaired by a successful backup on 2026-03-11, 1 day(s) later",
        "[]",
    ]


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
