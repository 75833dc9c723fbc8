"""The lab's Active Directory: built from the seeded company, started, and read back by the real AD collector."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from auditpack.controls.evaluate import evaluate_controls
from auditpack.controls.result import Status
from auditpack.inventory import parse_inventory
from auditpack.periods import Period
from auditpack.runner import run_collection
from auditpack.store import EvidenceStore
from auditpack_lab import layout
from auditpack_lab.company import DATA_ACCESS_GROUPS, build_company
from auditpack_lab.directory import BASE_DN, build_directory
from auditpack_lab.peers.samba_dc import samba_unavailable

pytestmark = pytest.mark.skipif(samba_unavailable() is not None, reason=str(samba_unavailable()))

ADDRESS = "127.0.4.10"
KINDS = (
    "ad.connection",
    "ad.users",
    "ad.password_policy",
    "ad.fine_grained_policies",
    "ad.privileged_groups",
    "ad.computers",
    "ad.groups",
)


def inventory_text(info) -> bytes:
    """The DC as the lab's inventory reaches it: the audit account, LDAPS verified against Samba's own CA."""
    groups = ", ".join(info.data_access_groups)
    return (
        f"all:\n  hosts:\n    dc01:\n      ansible_host: {ADDRESS}\n      ansible_connection: ldap\n"
        f"      auditpack_roles: [domain_controller]\n      ansible_user: {info.bind_user}\n"
        f"      auditpack_password: env:{layout.PASSWORD_ENV}\n      auditpack_tls_ca_file: {info.ca_file}\n"
        f"      auditpack_tls_server_name: {info.server_name}\n      auditpack_data_access_groups: [{groups}]\n"
    ).encode()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    company = build_company()
    root = tmp_path_factory.mktemp("labdc")
    info = build_directory(company, root / "dc01", ADDRESS)
    info.dc.start()
    try:
        yield company, info
    finally:
        info.dc.stop()


@pytest.fixture(scope="module")
def collected(lab, tmp_path_factory):
    """One real collection run into a store: the evidence the report is made from."""
    _, info = lab
    store = EvidenceStore(tmp_path_factory.mktemp("labstore") / "evidence")
    mp = pytest.MonkeyPatch()
    mp.setenv(layout.PASSWORD_ENV, layout.AUDIT_PASSWORD)
    try:
        inventory = parse_inventory(inventory_text(info))
        run_collection(store, inventory, inventory.hosts, "tester")
    finally:
        mp.undo()
    items = {rec.kind: rec for rec in store.items(kinds=list(KINDS))}
    return store, items


def normalized(collected, kind: str):
    store, items = collected
    return store.read_json(items[kind].normalized_sha256)


def users_of(collected) -> dict:
    return {u["account"]: u for u in normalized(collected, "ad.users")["users"]}


def test_collected_over_verified_ldaps_as_the_audit_account(collected):
    _, items = collected
    assert {k: items[k].status for k in KINDS} == {k: "ok" for k in KINDS}, {k: items[k].errors for k in items}
    connection = normalized(collected, "ad.connection")
    assert connection["tls"] == "certificate verified" and connection["url"] == f"ldaps://{ADDRESS}:636"
    assert connection["bind_user"] == f"{layout.AUDIT_ACCOUNT}@kcdemo.test"


def test_every_person_is_a_user_with_name_group_and_hiring_date(lab, collected):
    company, _ = lab
    users = users_of(collected)
    assert len(users) == len(company.staff) + 4  # Administrator, Guest, krbtgt and the audit account
    assert {p.account for p in company.staff} <= set(users)
    enabled = {a for a, u in users.items() if u["enabled"]}
    assert enabled == {p.account for p in company.current_staff} | {layout.AUDIT_ACCOUNT}  # nothing else for O-NDA
    for person in company.staff:
        user = users[person.account]
        assert user["name"] == person.name
        assert user["created"][:10] == person.hired.isoformat()
        assert (person.nda_signed - date.fromisoformat(user["created"][:10])).days <= 30  # O-NDA's allowance
        assert not user["password_not_required"] and not user["must_change_password"]
    for person in company.current_staff[:20:3]:
        assert any(dn.startswith(f"CN={person.group},") for dn in users[person.account]["member_of"])
    assert any(not p.isascii() for p in (p.name for p in company.staff))  # names like Zoë made it through LDIF
    audit = users[layout.AUDIT_ACCOUNT]
    assert audit["enabled"] and audit["password_never_expires"] and audit["member_of"] == []


def test_leavers_are_disabled_and_only_one_logged_on_after_leaving(lab, collected):
    company, _ = lab
    users = users_of(collected)
    assert sorted(a for a, u in users.items() if not u["enabled"]) == sorted(
        [p.account for p in company.leavers] + ["Administrator", "Guest", "krbtgt"]
    )
    after = [
        p.account
        for p in company.leavers
        if users[p.account]["last_logon"] and date.fromisoformat(users[p.account]["last_logon"][:10]) > p.last_day
    ]
    assert after == [company.known.logged_on_after_leaving]
    for person in company.staff:
        assert users[person.account]["last_logon"] == person.last_logon.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all(users[p.account]["member_of"] == [] for p in company.leavers)


def test_password_policy_and_builtin_accounts(collected):
    policy = normalized(collected, "ad.password_policy")
    assert (
        policy["min_length"],
        policy["complexity"],
        policy["max_age_days"],
        policy["lockout_threshold"],
        policy["history_length"],
    ) == (12, True, 90, 5, 24)
    assert normalized(collected, "ad.fine_grained_policies")["policies"] == []
    users = users_of(collected)
    assert not users["Administrator"]["enabled"] and not users["Guest"]["enabled"]


def test_data_access_and_privileged_groups(lab, collected):
    company, info = lab
    assert info.data_access_groups == list(DATA_ACCESS_GROUPS)
    found = {g["name"]: g for g in normalized(collected, "ad.groups")["groups"]}
    assert normalized(collected, "ad.groups")["not_found"] == []
    for group, departments in DATA_ACCESS_GROUPS.items():
        expected = sorted(p.account for p in company.current_staff if p.department in departments)
        assert found[group]["members"] == expected and len(expected) > 5
    privileged = {g["name"]: g for g in normalized(collected, "ad.privileged_groups")["groups"]}
    assert privileged["Domain Admins"]["members"] == sorted(["Administrator", *company.admins])
    assert all(company.person(a).department == "ICT" and not company.person(a).is_leaver for a in company.admins)
    assert privileged["Backup Operators"]["members"] == []


def test_computers(lab, collected):
    company, _ = lab
    computers = {c["cn"]: c for c in normalized(collected, "ad.computers")["computers"]}
    assert len(computers) == len(company.workstations) + 2  # the DC and the file server
    assert computers["FS01"]["os"] == computers["DC01"]["os"] == "Windows Server 2022 Standard"
    workstations = {n for n, c in computers.items() if c["enabled"] and "server" not in c["os"].lower()}
    assert workstations == {w.name for w in company.workstations}
    ws093 = computers["WS-093"]
    assert ws093["os"] == "Windows 11 Pro" and ws093["name"] == "ws-093.kcdemo.test"
    recent = (company.built - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert all(computers[n]["last_logon"] > recent for n in workstations)


def test_o_pwd_is_effective_on_the_collected_evidence(collected):
    store, _ = collected
    now = datetime.now(UTC)
    # the day of the collection: what this one reading shows (over a year one collection would be not evidenced)
    today = datetime(now.year, now.month, now.day, tzinfo=UTC)
    period = Period(today, today + timedelta(days=1))
    [result] = evaluate_controls(store, period, control_ids=["O-PWD"], today=now.date())
    assert result.status == Status.EFFECTIVE, [(d.subject, d.code) for d in result.deviations + result.gaps]
    assert result.tested > 100


# The groups whose members administer the domain or its servers (collectors/ad.py PRIVILEGED, and a few more)
ADMIN_RIDS = {"-500", "-512", "-516", "-518", "-519", "-520", "-521", "-526", "-527"}
ADMIN_BUILTINS = {f"S-1-5-32-{rid}" for rid in (544, 548, 549, 550, 551, 552, 562, 578, 580)}


def bound_as_audit_account(info):
    """An LDAPS connection bound as the lab's audit account, the certificate verified."""
    import ssl

    import ldap3

    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(info.ca_file), valid_names=[info.server_name])
    server = ldap3.Server(ADDRESS, port=636, use_ssl=True, tls=tls, get_info=ldap3.NONE)
    return ldap3.Connection(server, info.bind_user, layout.AUDIT_PASSWORD, auto_bind=True, raise_exceptions=False)


def test_the_audit_account_is_an_ordinary_domain_user_without_admin_rights(lab):
    """docs/service-accounts.md: the AD read account holds no administrators' group. Its token as the DC
    computes it for the account itself (tokenGroups: every group, nested and primary), and a write refused."""
    import ldap3
    from ldap3.protocol.formatters.formatters import format_sid

    company, info = lab
    conn = bound_as_audit_account(info)
    try:
        assert conn.bound, conn.result
        conn.search(BASE_DN, f"(sAMAccountName={layout.AUDIT_ACCOUNT})", attributes=["distinguishedName", "primaryGroupID"])
        [entry] = conn.entries
        dn = entry.distinguishedName.value
        assert int(entry.primaryGroupID.value) == 513  # Domain Users
        conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["tokenGroups"])
        sids = {format_sid(raw) for raw in conn.response[0]["raw_attributes"]["tokenGroups"]}
        assert any(sid.endswith("-513") for sid in sids), sids  # the token was read: Domain Users is in it
        assert not {sid for sid in sids if sid[sid.rfind("-") :] in ADMIN_RIDS} and not sids & ADMIN_BUILTINS, sids
        # nor can it change anything: another user's description stays as it was
        conn.search(BASE_DN, f"(sAMAccountName={company.current_staff[0].account})", attributes=["description"])
        target = conn.entries[0].entry_dn
        assert not conn.modify(target, {"description": [(ldap3.MODIFY_REPLACE, ["changed by the audit account"])]})
        assert conn.result["description"] == "insufficientAccessRights", conn.result
    finally:
        conn.unbind()
