"""Per-agreement profiles and exceptions files: validated with file:line:key, applied as the auditor expects."""

from __future__ import annotations

from datetime import date

import pytest

from auditpack.controls.exceptions import load_exceptions
from auditpack.controls.model import load_catalogue
from auditpack.controls.profiles import load_profile
from auditpack.yamlfile import YamlFileError

GOOD_PROFILE = """\
name: Klant A - verwerkersovereenkomst 2025
processor: Klantcontact Demo BV
customer: Verzekeraar A NV
agreement: VWO-2025-014
parameters:
  T-LOG-2:
    retention_days: 30
  T-FWH:
    require_ipv6: false
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_profile_overrides_parameters(tmp_path):
    profile = load_profile(write(tmp_path, "a.yaml", GOOD_PROFILE), load_catalogue())
    assert profile.name.startswith("Klant A") and profile.customer == "Verzekeraar A NV"
    control = load_catalogue()["T-LOG-2"]
    assert control.parameter_values(profile.parameters["T-LOG-2"])["retention_days"] == 30
    assert control.parameter_values(None)["retention_days"] == 90


@pytest.mark.parametrize(
    "text,line,key,fragment",
    [
        ("name: x\nparameters:\n  T-NOPE:\n    a: 1\n", 3, "parameters.T-NOPE", "unknown control"),
        ("name: x\nparameters:\n  T-LOG-2:\n    retention: 30\n", 4, "parameters.T-LOG-2.retention", "no such parameter"),
        (
            "name: x\nparameters:\n  T-LOG-2:\n    retention_days: lang\n",
            4,
            "parameters.T-LOG-2.retention_days",
            "same kind as the default 90",
        ),
        (
            "name: x\nparameters:\n  T-FWH:\n    require_ipv6: 1\n",
            4,
            "parameters.T-FWH.require_ipv6",
            "same kind as the default True",
        ),
        ("parameters: {}\n", 1, "name", "Field required"),
        ("name: x\ncustomr: y\n", 2, "customr", "Extra inputs are not permitted"),
    ],
)
def test_profile_mistakes_name_file_line_and_key(tmp_path, text, line, key, fragment):
    with pytest.raises(YamlFileError) as caught:
        load_profile(write(tmp_path, "p.yaml", text), load_catalogue())
    [problem] = caught.value.problems
    assert (problem.line, problem.key) == (line, key) and fragment in problem.message
    assert str(problem).startswith(f"{tmp_path / 'p.yaml'}:{line}: {key}: ")


EXCEPTIONS = """\
exceptions:
  - control: T-FWP
    scope: "fw01"
    justification: Leverancier heeft tijdelijk SSH-toegang nodig voor de migratie
    owner: ICT-beheer
    approver: Directie
    expires: 2027-03-31
  - control: T-FWH
    scope: "ws-0*"
    justification: Kioskwerkplekken in de ontvangsthal, apart VLAN
    owner: ICT-beheer
    approver: Directie
    expires: 2026-12-31
    starts: 2026-06-01
"""


def test_exceptions_file_loads(tmp_path):
    entries = load_exceptions(write(tmp_path, "exceptions.yaml", EXCEPTIONS))
    assert [e.control for e in entries] == ["T-FWP", "T-FWH"]
    assert entries[1].covers("T-FWH", "WS-017", date(2026, 7, 1))
    assert not entries[1].covers("T-FWH", "ws-017", date(2026, 5, 31))  # before it starts
    assert not entries[1].covers("T-FWH", "ws-017", date(2027, 1, 1))  # after it expired
    assert not entries[1].covers("T-AV", "ws-017", date(2026, 7, 1))


@pytest.mark.parametrize(
    "change,line,key,fragment",
    [
        (("control: T-FWP", "control: T-FWX"), 2, "exceptions.0.control", "unknown control 'T-FWX'"),
        (("expires: 2027-03-31", "expires: soon"), 7, "exceptions.0.expires", "valid date"),
        (
            ("owner: ICT-beheer\n    approver: Directie\n    expires: 2027", "approver: Directie\n    expires: 2027"),
            2,
            "exceptions.0.owner",
            "Field required",
        ),
        (
            ("justification: Leverancier heeft tijdelijk SSH-toegang nodig voor de migratie", "justification: ok"),
            4,
            "exceptions.0.justification",
            "at least 10 characters",
        ),
        (("    starts: 2026-06-01\n", "    start: 2026-06-01\n"), 14, "exceptions.1.start", "Extra inputs"),
    ],
)
def test_exception_mistakes_name_file_line_and_key(tmp_path, change, line, key, fragment):
    with pytest.raises(YamlFileError) as caught:
        load_exceptions(write(tmp_path, "exceptions.yaml", EXCEPTIONS.replace(*change, 1)))
    [problem] = caught.value.problems
    assert (problem.line, problem.key) == (line, key), problem
    assert fragment in problem.message
