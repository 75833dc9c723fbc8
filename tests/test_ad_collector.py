"""The AD collector against a real Samba AD domain controller that the test starts on a loopback address."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

import ldap3
import pytest

from auditpack.collectors.ad import AdCollector
from auditpack.collectors.base import CollectContext
from auditpack.collectors.parsers import ad as parse
from auditpack.collectors.parsers.ad import FILETIME_EPOCH
from auditpack.inventory import parse_inventory
from auditpack.runner import run_collection
from auditpack_lab.peers.samba_dc import ADMIN_PASSWORD, BASE_DN, USER_PASSWORD, running_dc, samba_unavailable
from auditpack_lab.peers.sockets import refused_port
from evidence_factory import evaluate, item

pytestmark = pytest.mark.skipif(samba_unavailable() is not None, reason=str(samba_unavailable()))

ADDRESS = "127.0.0.21"
NOW = datetime.now(UTC)
STALE = NOW - timedelta(days=200)
AFTER_LEAVING = datetime(2026, 10, 5, 9, 30, tzinfo=UTC)
# lastLogon is this DC's own record of a logon; lastLogonTimestamp the replicated one, updated every 9-14 days
HERE_LATER = (NOW - timedelta(days=2)).replace(microsecond=0)
REPLICATED_EARLIER = (NOW - timedelta(days=12)).replace(microsecond=0)
HERE_EARLIER = (NOW - timedelta(days=30)).replace(microsecond=0)
REPLICATED_LATER = (NOW - timedelta(days=5)).replace(microsecond=0)  # the logon was at another DC
TIMESTAMP_SOURCE = "lastLogonTimestamp (replicated, may lag up to 14 days)"
SHOW_DELETED = ("1.2.840.113556.1.4.417", True, None)  # LDAP_SERVER_SHOW_DELETED_OID: tombstones too


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def filetime(moment: datetime) -> str:
    return str(int((moment - FILETIME_EPOCH).total_seconds() * 10_000_000))


def seed(dc) -> None:
    """The cases the controls need, each set the way a real administrator would."""
    dc.tool(
        "domain",
        "passwordsettings",
        "set",
        "--min-pwd-length=12",
        "--max-pwd-age=90",
        "--complexity=on",
        "--account-lockout-threshold=5",
        "--history-length=10",
    )
    dc.tool("user", "create", "alice", USER_PASSWORD, "--given-name=Alice", "--surname=Jansen")
    dc.tool("user", "create", "ivo", USER_PASSWORD, faketime="2025-01-15 10:00:00")  # password last set back then
    dc.tool("user", "create", "bob", USER_PASSWORD)
    dc.tool("user", "disable", "bob")
    dc.tool("user", "create", "carol", USER_PASSWORD)
    dc.tool("user", "setexpiry", "carol", "--days=-1")
    dc.tool("user", "create", "dave", USER_PASSWORD)
    dc.tool("user", "setexpiry", "dave", "--noexpiry")
    for name in ("erin", "frank", "henk", "gina", "balie1"):
        dc.tool("user", "create", name, USER_PASSWORD)
    dc.tool("group", "add", "Tier0Ops")
    dc.tool("group", "addmembers", "Tier0Ops", "gina")
    dc.tool("group", "addmembers", "Domain Admins", "Tier0Ops")
    dc.tool("group", "add", "Klantdata")
    dc.tool("group", "addmembers", "Klantdata", "alice,henk")
    dc.tool(
        "domain",
        "passwordsettings",
        "pso",
        "create",
        "Servicekonten",
        "10",
        "--min-pwd-length=20",
        "--complexity=on",
        "--max-pwd-age=365",
        "--account-lockout-threshold=3",
        "--history-length=24",
    )
    dc.tool("domain", "passwordsettings", "pso", "apply", "Servicekonten", "dave")
    for name in ("WS-001", "WS-002", "WS-OLD"):
        dc.tool("computer", "create", name)
    for name in ("lena", "mats", "nora"):
        dc.tool("user", "create", name, USER_PASSWORD)
    # deleted, so tombstones under CN=Deleted Objects that keep their name and userAccountControl
    dc.tool("user", "create", "testkonto", USER_PASSWORD)
    dc.tool("user", "delete", "testkonto")
    dc.tool("computer", "create", "WS-GONE")
    dc.tool("computer", "delete", "WS-GONE")
    dc.tool("group", "add", "Oud-Team")
    dc.tool("group", "delete", "Oud-Team")
    admin = dc.admin()
    modify = {
        f"CN=erin,CN=Users,{BASE_DN}": {"userAccountControl": "544"},  # normal account + password not required
        f"CN=frank,CN=Users,{BASE_DN}": {"lastLogonTimestamp": filetime(STALE)},
        f"CN=henk,CN=Users,{BASE_DN}": {"lastLogonTimestamp": filetime(AFTER_LEAVING), "displayName": "Henk de Boer"},
        f"CN=lena,CN=Users,{BASE_DN}": {"lastLogon": filetime(HERE_LATER), "lastLogonTimestamp": filetime(REPLICATED_EARLIER)},
        f"CN=mats,CN=Users,{BASE_DN}": {"lastLogon": filetime(HERE_EARLIER), "lastLogonTimestamp": filetime(REPLICATED_LATER)},
        f"CN=nora,CN=Users,{BASE_DN}": {"lastLogon": filetime(HERE_LATER), "lastLogonTimestamp": filetime(HERE_LATER)},
        f"CN=WS-002,CN=Computers,{BASE_DN}": {
            "lastLogon": filetime(HERE_LATER),
            "lastLogonTimestamp": filetime(REPLICATED_EARLIER),
        },
        f"CN=WS-001,CN=Computers,{BASE_DN}": {"operatingSystem": "Windows 11 Pro", "userAccountControl": "4096"},
        f"CN=WS-OLD,CN=Computers,{BASE_DN}": {"operatingSystem": "Windows 10 Pro", "userAccountControl": "4098"},
    }
    for dn, changes in modify.items():
        assert admin.modify(dn, {k: [(ldap3.MODIFY_REPLACE, [v])] for k, v in changes.items()}), (dn, admin.result)
    admin.unbind()


@pytest.fixture(scope="module")
def dc(tmp_path_factory):
    with running_dc(tmp_path_factory.mktemp("addc"), ADDRESS) as dc:
        seed(dc)
        yield dc


def host_yaml(extra: str = "", port: str = "") -> bytes:
    return (
        f"all:\n  hosts:\n    dc1:\n      ansible_host: {ADDRESS}\n      ansible_connection: ldap\n"
        f"      auditpack_roles: [domain_controller]\n      ansible_user: Administrator@kcdemo.test\n"
        f"      auditpack_password: env:AUDITPACK_TEST_DC_PW\n{port}{extra}"
    ).encode()


def collect(host_text: bytes, monkeypatch, password: str = ADMIN_PASSWORD) -> dict:
    monkeypatch.setenv("AUDITPACK_TEST_DC_PW", password)
    host = parse_inventory(host_text).hosts[0]
    return {o.kind: o for o in AdCollector().collect(host, CollectContext(time.monotonic() + 60, "tester"))}


INSECURE = "      auditpack_tls_insecure: true\n      auditpack_data_access_groups: [Klantdata, Bestaat-Niet]\n"


@pytest.fixture(scope="module")
def evidence(dc):
    mp = pytest.MonkeyPatch()
    try:
        yield collect(host_yaml(INSECURE), mp)
    finally:
        mp.undo()


def users_of(evidence) -> dict:
    return {u["account"]: u for u in evidence["ad.users"].normalized["users"]}


def test_every_search_is_recorded_with_its_query(evidence):
    assert {k: v.status for k, v in evidence.items()} == {
        k: "ok"
        for k in (
            "ad.connection",
            "ad.users",
            "ad.password_policy",
            "ad.fine_grained_policies",
            "ad.privileged_groups",
            "ad.computers",
            "ad.groups",
        )
    }
    assert evidence["ad.connection"].normalized["tls"].startswith("INSECURE")  # the lab switch is on record
    assert "filter='(&(objectCategory=person)(objectClass=user))'" in evidence["ad.users"].command
    assert "attributes=sAMAccountName,displayName,userAccountControl" in evidence["ad.users"].command
    raw = evidence["ad.users"].raw
    raw.seek(0)
    assert b'"sAMAccountName": ["alice"]' in raw.read()


def test_user_flags_decode_as_seeded(evidence):
    users = users_of(evidence)
    assert users["alice"]["enabled"] and not users["alice"]["password_never_expires"] and users["alice"]["name"] == "Alice Jansen"
    assert not users["bob"]["enabled"] and users["bob"]["user_account_control"] & 2
    assert users["carol"]["expired"] and users["carol"]["expires"] < NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert users["dave"]["password_never_expires"] and users["dave"]["expires"] is None  # 0 means never
    assert users["erin"]["password_not_required"] and users["erin"]["enabled"]
    assert users["frank"]["last_logon"] == STALE.strftime("%Y-%m-%dT%H:%M:%SZ")[:19] + "Z"
    assert users["henk"]["last_logon"] == "2026-10-05T09:30:00Z" and users["henk"]["name"] == "Henk de Boer"
    assert users["ivo"]["pwd_last_set"].startswith("2025-01-15T10:00")
    assert users["alice"]["created"].startswith(NOW.strftime("%Y-%m-%d"))
    assert any(dn.startswith("CN=Klantdata,") for dn in users["alice"]["member_of"])
    assert not users["alice"]["locked"]
    assert "9-14 days" in evidence["ad.users"].normalized["note"]


def test_last_logon_is_the_later_of_this_dcs_lastlogon_and_the_replicated_timestamp(evidence):
    users = users_of(evidence)
    assert "attributes=sAMAccountName,displayName,userAccountControl" in evidence["ad.users"].command
    assert evidence["ad.users"].command.split("attributes=")[1].split(" ")[0].split(",")[-2:] == ["lastLogon", "isDeleted"]
    got = {
        name: (users[name]["last_logon"], users[name]["last_logon_source"]) for name in ("lena", "mats", "nora", "frank", "alice")
    }
    assert got == {
        "lena": (iso(HERE_LATER), "lastLogon on dc1"),  # dc1 saw the logon itself, after the timestamp's last update
        "mats": (iso(REPLICATED_LATER), TIMESTAMP_SOURCE),  # a later logon elsewhere, replicated to dc1
        "nora": (iso(HERE_LATER), "lastLogon on dc1"),  # the same moment: the exact, per-DC value is named
        "frank": (iso(STALE), TIMESTAMP_SOURCE),  # no logon at dc1
        "alice": (None, None),  # never logged on
    }
    computers = {c["cn"]: c for c in evidence["ad.computers"].normalized["computers"]}
    assert (computers["WS-002"]["last_logon"], computers["WS-002"]["last_logon_source"]) == (iso(HERE_LATER), "lastLogon on dc1")
    assert "last_logon_source says which" in evidence["ad.users"].normalized["note"]


def tombstones(dc, search_filter: str, attributes: list[str]) -> list[dict]:
    """Deleted objects as the DC returns them with the show-deleted control, shaped as the LDAP transport yields entries."""
    admin = dc.admin()
    try:
        admin.search(BASE_DN, search_filter, attributes=attributes, controls=[SHOW_DELETED])
        return [{"dn": r["dn"], "attributes": r["raw_attributes"]} for r in admin.response if r["type"] == "searchResEntry"]
    finally:
        admin.unbind()


def test_deleted_objects_are_left_out_of_users_and_computers_and_counted(dc, evidence):
    # the collector does not ask for deleted objects and Samba sends none: none listed, none counted
    assert "testkonto" not in users_of(evidence) and evidence["ad.users"].normalized["deleted"] == 0
    assert "WS-GONE" not in {c["cn"] for c in evidence["ad.computers"].normalized["computers"]}
    assert evidence["ad.computers"].normalized["deleted"] == 0
    # a DC that does send them (the show-deleted control): the tombstone keeps an enabled userAccountControl
    [tomb] = tombstones(dc, "(&(objectClass=user)(sAMAccountName=testkonto))", parse.USER_ATTRIBUTES)
    assert "\\0ADEL:" in tomb["dn"] and ",CN=Deleted Objects," in tomb["dn"]
    assert tomb["attributes"]["isDeleted"] == [b"TRUE"] and tomb["attributes"]["userAccountControl"] == [b"512"]
    assert parse.user_record(tomb, NOW, "dc1")["enabled"]  # read as a record, it looks like a live, enabled account
    [computer] = tombstones(dc, "(&(objectClass=computer)(cn=WS-GONE*))", parse.COMPUTER_ATTRIBUTES)
    assert parse.is_deleted(tomb) and parse.is_deleted(computer)
    assert parse.live_user(tomb, NOW, "dc1") is None and parse.live_computer(computer, "dc1") is None
    # with the live users of the same DC: the tombstone is counted, not listed, so O-PWD sees no generic "test*" account
    live = tombstones(dc, "(&(objectCategory=person)(objectClass=user))", parse.USER_ATTRIBUTES)
    users, deleted = parse.without_deleted(parse.live_user(e, NOW, "dc1") for e in [*live, tomb])
    assert deleted == 1 and "testkonto" not in {u["account"] for u in users} and "lena" in {u["account"] for u in users}
    pwd = evaluate(
        "O-PWD",
        [
            item("ad.users", {"users": users, "deleted": deleted}, "dc1", "2026-06-01"),
            item("ad.password_policy", evidence["ad.password_policy"].normalized, "dc1", "2026-06-01"),
            item("ad.fine_grained_policies", evidence["ad.fine_grained_policies"].normalized, "dc1", "2026-06-01"),
        ],
    )
    generic = {d.subject for d in pwd.deviations if d.code == "pwd.generic"}
    assert "balie1" in generic and "testkonto" not in generic


def test_group_searches_tell_deleted_groups_apart(dc, evidence):
    assert evidence["ad.privileged_groups"].normalized["deleted"] == 0 and evidence["ad.groups"].normalized["deleted"] == 0
    assert "isDeleted" in evidence["ad.groups"].command.split("; ")[0]
    [group] = tombstones(dc, "(&(objectClass=group)(sAMAccountName=Oud-Team))", parse.GROUP_ATTRIBUTES)
    assert group["attributes"]["isDeleted"] == [b"TRUE"] and parse.is_deleted(group)


def test_password_policies_decode_as_seeded(evidence):
    policy = evidence["ad.password_policy"].normalized
    assert (
        policy["min_length"],
        policy["complexity"],
        policy["max_age_days"],
        policy["lockout_threshold"],
        policy["history_length"],
    ) == (12, True, 90, 5, 10)
    assert policy["domain_sid"].startswith("S-1-5-21-")
    [pso] = evidence["ad.fine_grained_policies"].normalized["policies"]
    assert (pso["name"], pso["precedence"], pso["min_length"], pso["max_age_days"], pso["lockout_threshold"]) == (
        "Servicekonten",
        10,
        20,
        365,
        3,
    )
    assert pso["applies_to"] == [f"CN=dave,CN=Users,{BASE_DN}"]


def test_privileged_groups_are_found_by_sid_with_nested_members(evidence):
    groups = {g["name"]: g for g in evidence["ad.privileged_groups"].normalized["groups"]}
    assert groups["Domain Admins"]["sid"].endswith("-512")
    assert groups["Domain Admins"]["members"] == ["Administrator", "gina"]  # gina only through Tier0Ops
    assert f"CN=Tier0Ops,CN=Users,{BASE_DN}" in groups["Domain Admins"]["direct_members"]
    assert groups["Administrators"]["sid"] == "S-1-5-32-544"
    assert "Backup Operators" in groups and groups["Backup Operators"]["members"] == []


def test_computers_and_data_access_groups(evidence):
    computers = {c["cn"]: c for c in evidence["ad.computers"].normalized["computers"]}
    assert computers["WS-001"]["os"] == "Windows 11 Pro" and computers["WS-001"]["enabled"]
    assert not computers["WS-OLD"]["enabled"]
    assert computers["DC1"]["os"] == "Samba"
    groups = evidence["ad.groups"].normalized
    assert [(g["name"], g["members"]) for g in groups["groups"]] == [("Klantdata", ["alice", "henk"])]
    assert groups["not_found"] == ["Bestaat-Niet"]


def test_wrong_password_is_a_clear_recorded_error(dc, monkeypatch):
    evidence = collect(host_yaml(INSECURE), monkeypatch, password="Fout-Wachtwoord-1")
    [item] = evidence.values()
    assert item.kind == "ad.connection" and item.status == "error"
    assert item.errors == ["ad: bind as Administrator@kcdemo.test refused: invalid credentials"]
    assert b"Fout-Wachtwoord-1" not in item.raw


def test_certificate_is_verified_by_default(dc, monkeypatch):
    [item] = collect(host_yaml(), monkeypatch).values()
    assert item.status == "error" and "TLS" in item.errors[0] and "auditpack_tls_ca_file" in item.errors[0]


@pytest.mark.parametrize("scheme,url", [("ldaps", f"ldaps://{ADDRESS}:636"), ("starttls", f"ldap://{ADDRESS}:389")])
def test_the_dc_certificate_verifies_with_its_ca_and_name(dc, monkeypatch, scheme, url):
    ca = dc.directory / "private" / "tls" / "ca.pem"
    settings = f"      auditpack_ldap_scheme: {scheme}\n      auditpack_tls_ca_file: {ca}\n"
    [wrong_name] = collect(host_yaml(settings), monkeypatch).values()
    assert wrong_name.status == "error"
    assert f"the certificate is for DC1.kcdemo.test, not {ADDRESS}" in wrong_name.errors[0]
    evidence = collect(host_yaml(settings + "      auditpack_tls_server_name: DC1.kcdemo.test\n"), monkeypatch)
    assert evidence["ad.connection"].status == "ok", evidence["ad.connection"].errors
    assert evidence["ad.connection"].normalized["tls"] == "certificate verified"
    assert evidence["ad.connection"].normalized["url"] == url
    assert "alice" in users_of(evidence)


def test_plain_ldap_needs_the_explicit_lab_switch(dc, monkeypatch):
    [item] = collect(host_yaml("      auditpack_ldap_scheme: plain\n"), monkeypatch).values()
    assert item.status == "error" and "unencrypted" in item.errors[0]


def test_ntlm_bind_against_samba_fails_plainly(dc, monkeypatch):
    evidence = collect(
        host_yaml(INSECURE + "      auditpack_ldap_auth: ntlm\n      auditpack_ldap_user: KCDEMO\\Administrator\n"), monkeypatch
    )
    [item] = evidence.values()
    assert item.status == "error" and "ntlm" in item.errors[0].lower()


def test_unreachable_dc_is_recorded_and_the_run_goes_on(store, monkeypatch):
    monkeypatch.setenv("AUDITPACK_TEST_DC_PW", ADMIN_PASSWORD)
    port = refused_port("127.0.0.22")
    inv = parse_inventory(
        host_yaml(INSECURE, f"      auditpack_ldap_port: {port}\n").replace(ADDRESS.encode(), b"127.0.0.22") + b"    localhost:\n"
    )
    result = run_collection(store, inv, inv.hosts, "tester")
    outcome = {o.host: o for o in result.outcomes}
    assert outcome["dc1"].status == "unreachable" and "connection refused" in outcome["dc1"].errors[0]
    assert outcome["localhost"].items >= 5


def test_dc_stopped_in_the_middle_of_a_paged_search(tmp_path, monkeypatch):
    with running_dc(tmp_path / "dc2", "127.0.0.23") as dc:
        dc.ldbadd(
            "".join(
                f"dn: CN=bulk{i:05d},CN=Users,{BASE_DN}\nobjectClass: user\nsAMAccountName: bulk{i:05d}\n\n" for i in range(3000)
            )
        )
        host = parse_inventory(
            host_yaml(INSECURE + "      auditpack_ldap_page_size: 1\n").replace(ADDRESS.encode(), b"127.0.0.23")
        ).hosts[0]
        monkeypatch.setenv("AUDITPACK_TEST_DC_PW", ADMIN_PASSWORD)
        found: dict = {}

        def run() -> None:
            for obs in AdCollector().collect(host, CollectContext(time.monotonic() + 60, "tester")):
                found[obs.kind] = obs

        worker = threading.Thread(target=run)
        worker.start()
        while "ad.connection" not in found:
            time.sleep(0.01)
        time.sleep(0.3)  # some pages in: one entry per page keeps the search busy for seconds
        os.kill(dc.process.pid, signal.SIGKILL)
        worker.join(60)
    users = found["ad.users"]
    assert users.status == "error" and users.normalized is None
    assert users.errors[0].startswith("search was interrupted after ")
    count = int(users.errors[0].split("after ")[1].split(" ")[0])
    assert 0 < count < 3000
    users.raw.seek(0)
    assert users.raw.read().count(b"\n") == count  # what did arrive is kept, raw


def row_subjects(section: str) -> set[str]:
    """The subjects a findings table names: a row's first cell may name several with the very same finding."""
    return {name for cell in re.findall(r"<tr><td>([^<]*)</td>", section) for name in cell.split(", ")}


def test_from_the_dc_to_the_report(dc, tmp_path, cli_env):
    """collect over LDAP, import the HR registers, and read the leaver, NDA and password findings in the report."""
    import subprocess

    from conftest import auditpack_bin

    env = {**cli_env, "AUDITPACK_TEST_DC_PW": ADMIN_PASSWORD}
    (tmp_path / "inventory.yaml").write_bytes(host_yaml(INSECURE))
    (tmp_path / "leavers.csv").write_text(
        "naam;account;laatste werkdag\nHenk de Boer;henk;01-10-2026\nBob;bob;15-03-2026\n", encoding="cp1252"
    )
    (tmp_path / "nda.csv").write_text("name,account,signed_on\nAlice Jansen,alice,2026-01-02\n")

    def auditpack(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([auditpack_bin(), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode in (0, 1), done.stdout + done.stderr
        return done

    collected = auditpack("collect")
    assert "dc1" in collected.stdout and ADMIN_PASSWORD not in collected.stdout + collected.stderr
    auditpack("import", "register", "hr_leavers", "leavers.csv")
    auditpack("import", "register", "nda", "nda.csv")
    auditpack("report", "--period", "2026", "--lang", "en", "--control", "O-LVR", "--control", "O-NDA", "--control", "O-PWD")
    html = (tmp_path / "reports-out" / "report-20260101-20261231-en.html").read_text()
    lvr = html[html.index('id="O-LVR"') : html.index('id="O-NDA"')]
    days = (NOW.date() - datetime(2026, 10, 1).date()).days
    assert f"account still enabled {days} days after the last working day (2026-10-01) (AD snapshot of {NOW:%Y-%m-%d})" in lvr
    assert "logged on after the last working day (2026-10-01): last logon according to AD 2026-10-05" in lvr
    assert "account is disabled, but the date it was disabled is unknown" in lvr  # bob: no 4725 event was read
    nda = html[html.index('id="O-NDA"') : html.index('id="O-PWD"')]
    assert {"henk", "carol", "ivo"} <= row_subjects(nda) and "alice" not in row_subjects(nda)
    pwd = html[html.index('id="O-PWD"') :]
    assert {"dave", "erin", "balie1"} <= row_subjects(pwd)
    for secret in (ADMIN_PASSWORD, USER_PASSWORD):
        assert secret not in html
    for blob in (tmp_path / "evidence" / "blobs").rglob("*"):
        if blob.is_file():
            assert ADMIN_PASSWORD.encode() not in blob.read_bytes()
