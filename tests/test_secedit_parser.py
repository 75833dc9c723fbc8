"""`secedit /export` parser on a real Windows Server 2019 DC export, garbled input, and O-PWD on the parsed policy."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditpack.collectors.parsers.secedit import parse_secedit
from auditpack.controls.result import Status
from conftest import corpus_file
from evidence_factory import evaluate, item

SECPOL = "windows_audit_policy/y3man__WS19_DC_CIS/secpol.cfg"

SYSTEM_ACCESS = """[Unicode]
Unicode=yes
[System Access]
MinimumPasswordAge = 1
MaximumPasswordAge = {max_age}
MinimumPasswordLength = 12
PasswordComplexity = 1
PasswordHistorySize = 24
LockoutBadCount = 5
{extra}
[Registry Keys]
"MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Eventlog",0,"D:PAR(A;CI;KA;;;BA)"
[Version]
signature="$CHICAGO$"
Revision=1
"""


def template(max_age: str = "60", extra: str = "LockoutDuration = 30", encoding: str = "utf-16") -> bytes:
    text = SYSTEM_ACCESS.format(max_age=max_age, extra=extra).replace("\n", "\r\n")
    if encoding == "utf-16":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    return text.encode(encoding)


def test_ws2019_dc_export():
    policy = parse_secedit(corpus_file(SECPOL).read_bytes())
    assert policy == {
        "min_length": 7,
        "complexity": True,
        "max_age_days": 42,
        "min_age_days": 1,
        "history_length": 24,
        "lockout_threshold": 0,
        "lockout_duration_minutes": None,
    }


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-8-sig"])
def test_utf16_and_utf8_templates_read_the_same(encoding):
    assert parse_secedit(template(encoding=encoding)) == {
        "min_length": 12,
        "complexity": True,
        "max_age_days": 60,
        "min_age_days": 1,
        "history_length": 24,
        "lockout_threshold": 5,
        "lockout_duration_minutes": 30,
    }


@pytest.mark.parametrize("max_age", ["-1", "0"])
def test_maximum_password_age_never(max_age):
    assert parse_secedit(template(max_age=max_age))["max_age_days"] is None


@pytest.mark.parametrize(
    "garbled",
    [
        b"",
        b"\xff\xfe[\x00S",  # UTF-16 cut in the middle of a character
        b"\xc3\x28 not utf-8",
        b"MinimumPasswordLength = 8\n[System Access]\n",  # text before any section
        b"[Version]\nsignature=\"$CHICAGO$\"\n",  # no [System Access]
        template(max_age="forty"),
        template(extra="PasswordComplexity = 1"),  # a key given twice
        template(extra="just words"),  # not Key = value
        template().replace("PasswordComplexity = 1".encode("utf-16-le"), "PasswordComplexity = 2".encode("utf-16-le")),
        template().replace("LockoutBadCount = 5".encode("utf-16-le"), b""),  # a required key missing
        template(max_age="-5"),
    ],
)
def test_garbled_templates_are_refused_with_a_reason(garbled):
    with pytest.raises(ValueError) as info:
        parse_secedit(garbled)
    assert str(info.value)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_value_error(data):
    try:
        parse_secedit(data)
    except ValueError:
        pass


LINE = st.one_of(
    st.sampled_from(
        [
            "[System Access]",
            "[Version]",
            "[Registry Keys]",
            "",
            "; comment",
            "[",
            "=",
            "MinimumPasswordLength = 8",
            "PasswordComplexity = 1",
            "MaximumPasswordAge = -1",
            "MinimumPasswordAge = 0",
            "PasswordHistorySize = 0",
            "LockoutBadCount = 3",
            "LockoutDuration = 15",
        ]
    ),
    st.builds(
        "{} = {}".format,
        st.sampled_from(
            ["MinimumPasswordLength", "LockoutBadCount", "LockoutDuration", "MaximumPasswordAge", "PasswordComplexity"]
        ),
        st.text(max_size=12),
    ),
    st.text(max_size=30),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(LINE, max_size=15), st.sampled_from(["utf-16", "utf-8"]))
def test_template_like_text_raises_only_value_error(lines, encoding):
    text = "\r\n".join(lines)
    data = (
        codecs.BOM_UTF16_LE + text.encode("utf-16-le", "surrogatepass")
        if encoding == "utf-16"
        else text.encode("utf-8", "surrogatepass")
    )
    try:
        policy = parse_secedit(data)
    except ValueError:
        return
    assert isinstance(policy["min_length"], int) and isinstance(policy["complexity"], bool)


def test_o_pwd_on_the_real_dc_policy():
    policy = parse_secedit(corpus_file(SECPOL).read_bytes())
    evidence = [
        item("ad.password_policy", policy, host="dc01", day="2026-03-02"),
        item("ad.fine_grained_policies", {"policies": []}, host="dc01", day="2026-03-02"),
        item("ad.users", {"users": []}, host="dc01", day="2026-03-02"),
    ]
    result = evaluate("O-PWD", evidence)
    assert result.status == Status.NOT_EFFECTIVE
    assert [(d.subject, d.date, d.code, d.facts) for d in result.deviations] == [
        ("domain policy: lockout_threshold", "2026-03-02", "pwd.lockout_off", {"required": 10}),
        ("domain policy: min_length", "2026-03-02", "pwd.min_length", {"value": 7, "required": 8}),
    ]
    assert result.tested == 4 and not result.gaps
    assert "domain policy: max_age_days" in result.population  # 42 days: within 90
