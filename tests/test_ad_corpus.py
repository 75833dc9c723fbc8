"""Real Samba DC directory dumps from ../shared/corpus/ad_ldap, decoded and evaluated."""

from __future__ import annotations

from datetime import UTC, datetime

import ldif
import pytest

from auditpack.collectors.parsers import ad as parse
from conftest import corpus_file
from evidence_factory import evaluate, item, register

DUMPS = {
    "multi-dc": "ad_ldap/samba-team__samba/multi-dc-samba-master-c596ac6_DC=SAMDOM,DC=EXAMPLE,DC=COM.derived.ldif",
    "release-4-8": "ad_ldap/samba-team__samba/release-4-8-0-pre1_DC=REALM,DC=COM.derived.ldif",
}
NOW = datetime(2026, 11, 23, tzinfo=UTC)


def entries(name: str) -> list[dict]:
    with corpus_file(DUMPS[name]).open("rb") as handle:
        return [{"dn": dn, "attributes": attrs} for dn, attrs in ldif.LDIFParser(handle).parse()]


def classes(entry: dict) -> set[str]:
    return {c.lower() for c in entry["attributes"].get("objectClass", [])}


def shapes(name: str) -> tuple[dict, dict]:
    found = entries(name)
    people = [parse.user_record(e, NOW) for e in found if "user" in classes(e) and "computer" not in classes(e)]
    [root] = [e for e in found if "domaindns" in classes(e)]
    return {"users": people}, parse.domain_policy(root)


def test_multi_dc_dump_decodes():
    users, policy = shapes("multi-dc")
    by_account = {u["account"]: u for u in users["users"]}
    assert sorted(by_account) == ["Administrator", "Guest", "krbtgt"]
    assert by_account["Administrator"]["enabled"] and by_account["Administrator"]["user_account_control"] == 512
    assert not by_account["krbtgt"]["enabled"]
    guest = by_account["Guest"]
    assert not guest["enabled"] and guest["password_not_required"] and guest["password_never_expires"]
    assert by_account["Administrator"]["pwd_last_set"] == "2015-10-22T22:58:24Z"
    assert policy == {
        "min_length": 7,
        "complexity": True,
        "max_age_days": 42,
        "min_age_days": 1,
        "history_length": 24,
        "lockout_threshold": 0,
        "lockout_duration_minutes": 30,
        "lockout_window_minutes": 30,
        "domain_sid": "S-1-5-21-3008502463-2017935226-3707235946",
    }


@pytest.mark.parametrize("name", sorted(DUMPS))
def test_dumps_evaluate_without_errors(name):
    users, policy = shapes(name)
    evidence = [
        item("ad.users", users, "dc1", "2026-06-01"),
        item("ad.password_policy", policy, "dc1", "2026-06-01"),
        item("ad.fine_grained_policies", {"policies": []}, "dc1", "2026-06-01"),
    ]
    pwd = evaluate("O-PWD", evidence)
    codes = {(d.subject, d.code) for d in pwd.deviations}
    assert any(code == "pwd.lockout_off" for _, code in codes)  # lockoutThreshold 0 in both dumps
    assert any("min_length" in subject for subject, _ in codes)  # 7 < 8
    assert any(subject == "Administrator" for subject, _ in codes)  # an enabled generic account name
    nda = evaluate("O-NDA", [item("ad.users", users, "dc1", "2026-06-01"), register("nda", [])])
    assert nda.status in ("not_applicable", "effective")  # only built-in accounts, all excluded by default


def test_release_4_8_dump_last_logon_zero_means_never():
    """Every account of this dump carries lastLogon: 0 (never, on this DC) and no lastLogonTimestamp."""
    found = entries("release-4-8")
    accounts = [e for e in found if "user" in classes(e)]
    assert sorted(e["attributes"]["sAMAccountName"][0] for e in accounts if e["attributes"].get("lastLogon") == ["0"]) == [
        "Administrator",
        "FLPREP$",
        "Guest",
        "krbtgt",
    ]
    for entry in accounts:
        record = parse.computer_record(entry, "dc1") if "computer" in classes(entry) else parse.user_record(entry, NOW, "dc1")
        assert (record["last_logon"], record["last_logon_source"]) == (None, None)


@pytest.mark.parametrize("name, count", [("multi-dc", 46), ("release-4-8", 43)])
def test_dumps_hold_no_deleted_objects(name, count):
    # the derived dumps were filtered to users/groups/OUs/domain: no tombstone under CN=Deleted Objects among them
    found = entries(name)
    assert len(found) == count
    assert [e["dn"] for e in found if parse.is_deleted(e)] == []
    records = [parse.live_user(e, NOW, "dc1") for e in found if "user" in classes(e) and "computer" not in classes(e)]
    assert parse.without_deleted(records) == (records, 0)
