from __future__ import annotations

import pytest

from auditpack.credentials import CredentialError, CredentialRef, Secret, parse_reference


@pytest.mark.parametrize(
    "text,expected",
    [
        ("env:AD_PASSWORD", CredentialRef("env", "AD_PASSWORD")),
        ({"env": "AD_PASSWORD"}, CredentialRef("env", "AD_PASSWORD")),
        ("keyring:auditpack", CredentialRef("keyring", "auditpack")),
        ("keyring:auditpack:svc-audit", CredentialRef("keyring", "auditpack", "svc-audit")),
        ("prompt", CredentialRef("prompt")),
    ],
)
def test_references_parse(text, expected):
    assert parse_reference(text) == expected


@pytest.mark.parametrize("value", ["Welkom01!", "env:", "env:1BAD", "keyring:", "vault:x", 1234, None, ["env:X"]])
def test_anything_else_is_refused_without_echoing_it(value):
    with pytest.raises(CredentialError) as caught:
        parse_reference(value)
    assert "Welkom01!" not in str(caught.value)


def test_env_reference_resolves_and_hides_its_value(monkeypatch):
    monkeypatch.setenv("AUDITPACK_TEST_PW", "Geheim-123")
    secret = parse_reference("env:AUDITPACK_TEST_PW").resolve(None, "dc01")
    assert secret.reveal() == "Geheim-123"
    assert "Geheim-123" not in repr(secret) and "Geheim-123" not in str(secret) and "Geheim-123" not in f"{secret}"
    assert parse_reference("env:AUDITPACK_TEST_PW").describe_availability(None) == (
        True,
        "environment variable AUDITPACK_TEST_PW is set",
    )


def test_missing_env_variable_is_named(monkeypatch):
    monkeypatch.delenv("AUDITPACK_ABSENT_PW", raising=False)
    with pytest.raises(CredentialError, match="AUDITPACK_ABSENT_PW is not set"):
        parse_reference("env:AUDITPACK_ABSENT_PW").resolve(None, "dc01")


def test_keyring_reference_against_a_real_file_keyring(tmp_path, monkeypatch):
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring.cfg")  # a real keyring file, kept in the test's directory
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        ref = parse_reference("keyring:auditpack-test")
        assert ref.describe_availability("svc-audit")[0] is False
        with pytest.raises(CredentialError, match="keyring set auditpack-test svc-audit"):
            ref.resolve("svc-audit", "dc01")
        keyring.set_password("auditpack-test", "svc-audit", "Uit-de-kluis-9")
        assert ref.resolve("svc-audit", "dc01") == Secret("Uit-de-kluis-9")
        assert parse_reference("keyring:auditpack-test:other").describe_availability("svc-audit")[0] is False
        with pytest.raises(CredentialError, match="needs a user"):
            ref.resolve(None, "dc01")
    finally:
        keyring.set_keyring(previous)


def test_prompt_without_a_terminal_is_a_clear_error():
    import subprocess
    import sys

    code = (
        "from auditpack.credentials import parse_reference, CredentialError\n"
        "ref = parse_reference('prompt')\n"
        "print(ref.describe_availability('u'))\n"
        "try:\n    ref.resolve('u', 'dc01')\nexcept CredentialError as e:\n    print('ERR', e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert "needs an interactive terminal" in done.stdout
    assert "ERR password for dc01 is set to 'prompt', but there is no terminal" in done.stdout


def test_prompt_reference_asks_on_a_terminal_once_per_account(monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("auditpack.credentials._PROMPT_ANSWERS", {})
    asked = []
    monkeypatch.setattr("getpass.getpass", lambda label: asked.append(label) or "typed")
    assert parse_reference("prompt").resolve("u", "dc01").reveal() == "typed"
    assert parse_reference("prompt").resolve("u", "dc02").reveal() == "typed"  # same account: asked once
    assert asked == ["Password for dc01: "]
