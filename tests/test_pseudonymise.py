"""Keyed pseudonyms: stable, unlinkable without the key, revealable by the processor, names found in the evidence."""

from __future__ import annotations

import os

import pytest

from auditpack.pseudonymise import (
    WITHHELD,
    Pseudonymiser,
    load_or_create_key,
    names_in,
    names_in_store,
    pseudonym,
    reveal,
)
from year_store import ACCOUNTS, PEOPLE, build_year

KEY, OTHER = b"k" * 32, b"o" * 32


def test_pseudonyms_are_stable_per_key_and_ignore_case_and_spacing():
    assert pseudonym(KEY, "Jan de Vries") == pseudonym(KEY, "jan  DE vries") != pseudonym(OTHER, "Jan de Vries")
    assert pseudonym(KEY, "Jan de Vries").startswith("P-") and len(pseudonym(KEY, "Jan de Vries")) == 12


def test_whole_words_only_and_longest_name_first():
    p = Pseudonymiser(KEY, ["Jan de Vries", "jan", "KCDEMO\\jdevries", "jdevries"])
    text = p.text("relay for Jan de Vries since January; KCDEMO\\jdevries and jan")
    assert "Jan" not in text.replace("January", "") and "jdevries" not in text
    assert pseudonym(KEY, "Jan de Vries") in text and pseudonym(KEY, "KCDEMO\\jdevries") in text
    assert "January" in text


def test_names_come_from_person_fields_and_not_from_hosts_or_system_accounts():
    found = names_in("accounts.local", [{"name": "root", "uid": 0}, {"name": "mvisser", "uid": 1001}])
    assert found == {"mvisser"}
    assert names_in("firewall.ruleset", {"rules": [{"description": "Jan"}], "device": "fw01"}) == set()
    assert names_in("ad.account_disabled_events", {"events": [{"account": "KCDEMO\\jdevries", "by": "KCDEMO\\hr-beheer"}]}) == {
        "KCDEMO\\jdevries",
        "jdevries",
        "KCDEMO\\hr-beheer",
        "hr-beheer",
    }


def test_binary_raw_output_is_withheld_and_text_is_rewritten():
    p = Pseudonymiser(KEY, ["pjansen"])
    assert p.blob(b"ElfChnk\x00\xff\xfe p\x00j\x00") == WITHHELD
    assert p.blob(b"account,pjansen\n") == f"account,{pseudonym(KEY, 'pjansen')}\n".encode()


def test_every_person_of_the_synthetic_year_is_found_and_revealed(tmp_path):
    year = build_year(tmp_path / "ev")
    names = names_in_store(year.store)
    assert set(ACCOUNTS.values()) <= names and {"Jan de Vries", "Petra Jansen"} <= names
    assert not {"fs01", "dc01", "fw01", *PEOPLE} & names  # hosts are not people
    assert reveal(KEY, pseudonym(KEY, "jdevries"), names) == ["jdevries"]
    assert reveal(OTHER, pseudonym(KEY, "jdevries"), names) == []


def test_key_is_created_private_and_a_readable_key_is_refused(tmp_path):
    path = tmp_path / "cfg" / "pseudonym-key"
    key = load_or_create_key(path)
    assert len(key) == 32 and load_or_create_key(path) == key
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    os.chmod(path, 0o644)
    with pytest.raises(PermissionError, match="chmod 600"):
        load_or_create_key(path)
