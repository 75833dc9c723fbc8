"""`auditpack doctor` tries every credential against real peers on 127.0.16.x: sshd, the WinRM peer, the ePO
console, a TLS listener and (under flock /tmp/auditpack-samba.lock) a Samba AD DC. No mocks: a wrong password is
refused by the server, an unknown host key by the SSH transport's known_hosts check, a certificate by OpenSSL.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from auditpack.collectors import windows_probes as ps
from auditpack.collectors.credential_check import check_host, check_hosts
from auditpack.inventory import parse_inventory
from auditpack_lab.peers.epo import HELP_COMMANDS, running_epo
from auditpack_lab.peers.samba_dc import ADMIN_PASSWORD, provision, samba_unavailable
from auditpack_lab.peers.sockets import refused_port
from auditpack_lab.peers.sshd import accounts_unavailable, make_client_key, running_sshd, sshd_unavailable, write_known_hosts
from auditpack_lab.peers.tls import make_pki
from auditpack_lab.peers.winrm import ScriptResult, running_winrm
from conftest import auditpack_bin

WINRM_USER, WINRM_PASSWORD = "KC\\svc-audit", "Winrm-Wachtwoord-1"
EPO_USER, EPO_PASSWORD = "epo-reader", "Epo-Wachtwoord-1"
SSH_PASSWORD = "Ssh-Wachtwoord-1"
DC_ADDRESS = "127.0.16.21"

needs_sshd = pytest.mark.skipif(sshd_unavailable() is not None, reason=str(sshd_unavailable()))


def host_of(text: str):
    return parse_inventory(("all:\n  hosts:\n" + text).encode()).hosts[0]


def rows_by_check(rows) -> dict:
    return {row.check: row for row in rows}


def run(args, cwd, env):
    return subprocess.run([auditpack_bin(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)


class LogonAnswer:
    """The WinRM peer's handler: doctor's logon script gets the account and computer Windows would print."""

    def __init__(self, computer: str = "WS-001"):
        self.computer = computer

    def __call__(self, script: str) -> ScriptResult:
        if script != ps.LOGON_CHECK:
            return ScriptResult(stderr=b"not a doctor script", exit_code=1)
        import base64
        import json

        said = {"computer": self.computer, "account": WINRM_USER, "powershell": "5.1.17763.1"}
        return ScriptResult(base64.b64encode(json.dumps(said).encode()) + b"\r\n")


def winrm_host(name: str, peer, env: str = "DOCTOR_WINRM_PW", extra: str = "") -> str:
    return (
        f"    {name}: {{ansible_host: {peer.address}, ansible_port: {peer.port}, ansible_connection: winrm,"
        f" ansible_winrm_scheme: {peer.scheme}, ansible_user: '{WINRM_USER}', auditpack_password: 'env:{env}'{extra}}}\n"
    )


# --- SSH ------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """A real sshd: root logs on with a key; account `audit` with a password (in a private mount namespace)."""
    if (reason := sshd_unavailable()) is not None:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("doctor-ssh")
    key, public = make_client_key(root / "id_ed25519")
    users = {} if accounts_unavailable() else {"audit": SSH_PASSWORD}
    with running_sshd(
        root / "sshd", "127.0.16.10", authorized_keys={"root": [public]}, users=users, password_auth=bool(users)
    ) as peer:
        peer.key_file = key
        peer.known = write_known_hosts(root / "known_hosts", peer)
        yield peer


def ssh_host(peer, known_hosts: Path, extra: str = "") -> str:
    return (
        f"    fw01: {{ansible_host: {peer.address}, ansible_port: {peer.port}, ansible_user: root,"
        f" ansible_ssh_private_key_file: '{peer.key_file}', auditpack_ssh_known_hosts: '{known_hosts}'{extra}}}\n"
    )


def test_ssh_with_a_key_passes_and_no_password_is_asked_for(sshd):
    rows = check_host(host_of(ssh_host(sshd, sshd.known)))
    assert [(r.check, r.status) for r in rows] == [("reachable", "ok"), ("ssh host key", "ok"), ("ssh logon", "ok")], rows
    checks = rows_by_check(rows)
    assert sshd.fingerprint in checks["ssh host key"].detail and str(sshd.known) in checks["ssh host key"].detail
    assert checks["ssh logon"].facts["account"] == "root" and "'id -un' answered 'root'" in checks["ssh logon"].detail
    assert checks["ssh logon"].credential == f"key {sshd.key_file}"
    assert not any("password" in r.detail or "password" in r.credential for r in rows)  # a key host uses none


def test_an_unknown_host_key_is_named_and_the_logon_not_tried(sshd, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    checks = rows_by_check(check_host(host_of(ssh_host(sshd, empty))))
    key = checks["ssh host key"]
    assert key.status == "failed" and key.reason == "host_key_unknown"
    assert "is unknown" in key.detail and sshd.fingerprint in key.detail and str(empty) in key.detail
    assert checks["ssh logon"].status == "not tried"


def test_a_changed_host_key_is_named(sshd, tmp_path):
    _, other = make_client_key(tmp_path / "other")  # an ed25519 key that is not the server's
    known = tmp_path / "known_hosts"
    kind, blob = other.split()[:2]
    known.write_text(f"{sshd.known_hosts_name} {kind} {blob}\n")
    key = rows_by_check(check_host(host_of(ssh_host(sshd, known))))["ssh host key"]
    assert key.status == "failed" and key.reason == "host_key_changed"
    assert "does not match" in key.detail and sshd.fingerprint in key.detail


def test_trust_on_first_use_is_reported_and_known_hosts_left_as_it_was(sshd, tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("# nobody yet\n")
    rows = check_host(host_of(ssh_host(sshd, known, ", auditpack_ssh_trust_on_first_use: true")))
    checks = rows_by_check(rows)
    assert checks["ssh host key"].status == "ok" and checks["ssh host key"].facts["trusted_on_first_use"]
    assert "trusts it on first use" in checks["ssh host key"].detail and sshd.fingerprint in checks["ssh host key"].detail
    assert checks["ssh logon"].status == "ok"
    assert known.read_text() == "# nobody yet\n"  # doctor writes nothing: the collection remembers the key


def test_ssh_password_wrong_or_missing_is_named_with_its_reference(sshd, monkeypatch):
    if accounts_unavailable() is not None:
        pytest.skip(str(accounts_unavailable()))
    text = (
        f"    bk01: {{ansible_host: {sshd.address}, ansible_port: {sshd.port}, ansible_user: audit,"
        f" auditpack_password: 'env:DOCTOR_SSH_PW', auditpack_ssh_known_hosts: '{sshd.known}'}}\n"
    )
    monkeypatch.setenv("DOCTOR_SSH_PW", SSH_PASSWORD)
    good = rows_by_check(check_host(host_of(text)))
    assert good["ssh logon"].status == "ok" and good["ssh logon"].facts["account"] == "audit"
    assert good["ssh logon"].credential == "password env:DOCTOR_SSH_PW"
    monkeypatch.setenv("DOCTOR_SSH_PW", "not-the-password")
    wrong = rows_by_check(check_host(host_of(text)))["ssh logon"]
    assert wrong.status == "failed" and wrong.reason == "auth_refused" and "password not accepted" in wrong.detail
    assert wrong.host == "bk01" and wrong.credential == "password env:DOCTOR_SSH_PW"
    monkeypatch.delenv("DOCTOR_SSH_PW")
    missing = rows_by_check(check_host(host_of(text)))["ssh logon"]
    assert missing.status == "failed" and missing.reason == "credential_missing"
    assert "environment variable DOCTOR_SSH_PW is not set" in missing.detail


# --- WinRM ----------------------------------------------------------------------------------------------------------


def test_winrm_logon_runs_only_the_declared_script(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCTOR_WINRM_PW", WINRM_PASSWORD)
    with running_winrm(tmp_path, "127.0.16.31", {WINRM_USER: WINRM_PASSWORD}, LogonAnswer()) as peer:
        rows = check_host(host_of(winrm_host("ws-001", peer)))
    assert [(r.check, r.status) for r in rows] == [("reachable", "ok"), ("winrm logon", "ok")], rows
    logon = rows[1]
    assert f"Windows says {WINRM_USER} on WS-001" in logon.detail and logon.credential == "env:DOCTOR_WINRM_PW"
    assert peer.received == [ps.LOGON_CHECK]


def test_a_wrong_winrm_password_is_named_and_the_same_account_not_tried_again(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCTOR_WINRM_PW", "Verkeerd-1")
    with (
        running_winrm(tmp_path / "a", "127.0.16.32", {WINRM_USER: WINRM_PASSWORD}, LogonAnswer()) as first,
        running_winrm(tmp_path / "b", "127.0.16.33", {WINRM_USER: WINRM_PASSWORD}, LogonAnswer()) as second,
    ):
        hosts = parse_inventory(("all:\n  hosts:\n" + winrm_host("ws-001", first) + winrm_host("ws-002", second)).encode()).hosts
        rows = [r for r in check_hosts(hosts, workers=2) if r.check == "winrm logon"]
        assert first.received == second.received == []  # refused before any script ran
        logons = {"ws-001": list(first.logons), "ws-002": list(second.logons)}
    refused = [r for r in rows if r.status == "failed"]
    skipped = [r for r in rows if r.status == "not tried"]
    assert len(refused) == 1 and len(skipped) == 1, rows
    assert refused[0].reason == "auth_refused" and "invalid credentials" in refused[0].detail
    assert WINRM_USER in refused[0].detail and "env:DOCTOR_WINRM_PW" in refused[0].detail
    assert f"was refused on {refused[0].host}" in skipped[0].detail
    assert logons[refused[0].host] == ["refused"] and logons[skipped[0].host] == []  # one try in all, on one host


def test_a_missing_variable_is_named_and_kerberos_hosts_need_none(tmp_path, monkeypatch):
    monkeypatch.delenv("DOCTOR_NOT_SET", raising=False)
    with running_winrm(tmp_path, "127.0.16.34", {WINRM_USER: WINRM_PASSWORD}, LogonAnswer()) as peer:
        missing = check_host(host_of(winrm_host("ws-003", peer, env="DOCTOR_NOT_SET")))[1]
        kerberos = check_host(
            host_of(
                f"    ws-004: {{ansible_host: {peer.address}, ansible_port: {peer.port}, ansible_connection: winrm,"
                f" ansible_winrm_scheme: http, ansible_user: svc@kc.test, ansible_winrm_transport: kerberos}}\n"
            )
        )[1]
    assert missing.status == "failed" and missing.reason == "credential_missing"
    assert missing.detail == "env:DOCTOR_NOT_SET: environment variable DOCTOR_NOT_SET is not set"
    assert kerberos.credential == "the system's Kerberos ticket"
    assert kerberos.reason != "credential_missing" and "auditpack_password" not in kerberos.detail


def test_winrm_over_https_verifies_the_certificate(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCTOR_WINRM_PW", WINRM_PASSWORD)
    with running_winrm(tmp_path, "127.0.16.35", {WINRM_USER: WINRM_PASSWORD}, LogonAnswer(), scheme="https") as peer:
        untrusted = check_host(host_of(winrm_host("dc01", peer)))
        trusted = check_host(host_of(winrm_host("dc01", peer, extra=f", auditpack_tls_ca_file: '{peer.ca_file}'")))
    assert untrusted[0].status == "failed"  # the probe's own TLS check already refuses it
    assert "TLS certificate not trusted" in untrusted[0].detail and untrusted[1].status == "not tried"
    assert trusted[1].status == "ok", trusted


# --- ePO and TLS endpoints ------------------------------------------------------------------------------------------


def epo_host(peer, env: str = "DOCTOR_EPO_PW", ca: Path | None = None, extra: str = "") -> str:
    ca_line = f", auditpack_tls_ca_file: '{ca}'" if ca else ""
    return (
        f"    epo01: {{ansible_connection: local, ansible_user: {EPO_USER}, auditpack_password: 'env:{env}',"
        f" auditpack_epo_url: '{peer.url}'{ca_line}{extra}}}\n"
    )


def test_the_epo_login_is_tried_with_core_help(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCTOR_EPO_PW", EPO_PASSWORD)
    with running_epo(tmp_path / "epo", "127.0.16.41", EPO_USER, EPO_PASSWORD, rows=[]) as peer:
        good = rows_by_check(check_host(host_of(epo_host(peer, ca=peer.pki.ca_file))))["epo login"]
        untrusted = rows_by_check(check_host(host_of(epo_host(peer))))["epo login"]
        monkeypatch.setenv("DOCTOR_EPO_PW", "Verkeerd-2")
        wrong = rows_by_check(check_host(host_of(epo_host(peer, ca=peer.pki.ca_file))))["epo login"]
        paths = [r["path"] for r in peer.requests]
    assert good.status == "ok" and "may run core.executeQuery" in good.detail and good.facts["commands"] == len(HELP_COMMANDS)
    assert untrusted.status == "failed" and untrusted.reason == "tls" and "certificate not accepted" in untrusted.detail
    assert wrong.status == "failed" and wrong.reason == "auth_refused" and "HTTP 401" in wrong.detail
    assert wrong.credential == "env:DOCTOR_EPO_PW" and EPO_USER in wrong.detail
    assert set(paths) == {"/remote/core.help"}  # no systems were read


def test_an_epo_account_without_query_rights_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCTOR_EPO_PW", EPO_PASSWORD)
    with running_epo(
        tmp_path / "epo", "127.0.16.42", EPO_USER, EPO_PASSWORD, rows=[], commands=("core.help", "system.find")
    ) as peer:
        row = rows_by_check(check_host(host_of(epo_host(peer, ca=peer.pki.ca_file))))["epo login"]
    assert row.status == "failed" and row.reason == "permission" and "may not run core.executeQuery" in row.detail


def test_tls_endpoints_report_days_to_expiry_and_a_hostname_mismatch(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCTOR_EPO_PW", EPO_PASSWORD)
    with running_epo(tmp_path / "epo", "127.0.16.43", EPO_USER, EPO_PASSWORD, rows=[], certificate_days=40) as peer:
        endpoint = peer.url.removeprefix("https://")
        base = f"    auditor: {{ansible_connection: local, auditpack_tls_ca_file: '{peer.pki.ca_file}', auditpack_tls_endpoints: [{endpoint}"
        plain = f"http://127.0.16.43:{refused_port('127.0.16.43')}"  # closed, as a plaintext variant should be
        good = check_host(host_of(base + f", '{plain}']}}\n"))
        wrong_name = check_host(host_of(base + "], auditpack_tls_server_name: wrong.test}\n"))
        no_ca = check_host(host_of(f"    auditor: {{ansible_connection: local, auditpack_tls_endpoints: [{endpoint}]}}\n"))
    assert [(r.check, r.status) for r in good] == [("local", "ok"), ("tls", "ok")]  # the plaintext variant is not a credential
    assert good[1].facts["days_left"] in (39, 40) and "certificate verified for 127.0.16.43" in good[1].detail
    assert wrong_name[1].status == "failed" and wrong_name[1].reason == "tls_verify"
    assert "TLS verify failed: Hostname mismatch" in wrong_name[1].detail and "wrong.test" in wrong_name[1].detail
    assert no_ca[1].status == "failed" and "TLS verify failed" in no_ca[1].detail and "the system CAs" in no_ca[1].detail


# --- LDAP against a real Samba AD DC ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dc(tmp_path_factory):
    """A Samba AD DC whose LDAPS certificate comes from a CA of our own, so the bind is verified, not insecure."""
    if (reason := samba_unavailable()) is not None:
        pytest.skip(reason)
    import shutil

    directory = tmp_path_factory.mktemp("doctor-dc")
    dc = provision(directory, DC_ADDRESS)
    pki = make_pki(directory / "private" / "tls", "dc1.kcdemo.test", DC_ADDRESS, names=("ca.pem", "cert.pem", "key.pem"))
    try:
        dc.start(maximum_runtime=900)
        dc.ca_file = pki.ca_file
        yield dc
    finally:
        dc.stop()
        shutil.rmtree(directory, ignore_errors=True)


def dc_host(dc, extra: str = "") -> str:
    return (
        f"    dc1: {{ansible_host: {DC_ADDRESS}, ansible_connection: ldap, auditpack_roles: [domain_controller],"
        f" ansible_user: Administrator@kcdemo.test, auditpack_password: 'env:DOCTOR_DC_PW',"
        f" auditpack_tls_ca_file: '{dc.ca_file}', auditpack_tls_server_name: dc1.kcdemo.test{extra}}}\n"
    )


def test_ldap_bind_reads_the_rootdse(dc, monkeypatch):
    monkeypatch.setenv("DOCTOR_DC_PW", ADMIN_PASSWORD)
    rows = check_host(host_of(dc_host(dc)))
    assert [(r.check, r.status) for r in rows] == [("reachable", "ok"), ("ldap bind", "ok")], rows
    bind = rows[1]
    assert bind.facts == {"naming_context": "DC=kcdemo,DC=test", "dc": "dc1.kcdemo.test"}
    assert "certificate verified" in bind.detail and "naming context DC=kcdemo,DC=test, DC dc1.kcdemo.test" in bind.detail


def test_a_wrong_ldap_password_and_an_untrusted_certificate_are_named(dc, monkeypatch):
    monkeypatch.setenv("DOCTOR_DC_PW", "Verkeerd-3")
    wrong = check_host(host_of(dc_host(dc)))[1]
    assert wrong.status == "failed" and wrong.reason == "auth_refused" and "invalid credentials" in wrong.detail
    assert "Administrator@kcdemo.test with env:DOCTOR_DC_PW" in wrong.detail and wrong.credential == "env:DOCTOR_DC_PW"
    monkeypatch.setenv("DOCTOR_DC_PW", ADMIN_PASSWORD)
    # ldap3 accepts a certificate naming the address too, so an untrusted CA is what fails here
    untrusted = check_host(host_of(dc_host(dc).replace(f", auditpack_tls_ca_file: '{dc.ca_file}'", "")))[1]
    assert untrusted.status == "failed" and untrusted.reason == "tls" and "auditpack_tls_ca_file" in untrusted.detail


def test_a_windows_dc_gets_its_winrm_logon_and_its_ldap_bind_each_with_its_own_reference(dc, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCTOR_WINRM_PW", WINRM_PASSWORD)
    monkeypatch.setenv("DOCTOR_LDAP_PW", "Verkeerd-4")
    ldap = (
        ", auditpack_roles: [domain_controller], auditpack_ldap_user: Administrator@kcdemo.test,"
        f" auditpack_ldap_password: 'env:DOCTOR_LDAP_PW', auditpack_tls_ca_file: '{dc.ca_file}'"
    )
    # the WinRM peer on the DC's own address (another port), as on a Windows DC
    with running_winrm(tmp_path, DC_ADDRESS, {WINRM_USER: WINRM_PASSWORD}, LogonAnswer("DC01")) as peer:
        rows = check_host(host_of(winrm_host("dc01", peer, extra=ldap)))
    checks = rows_by_check(rows)
    assert checks["winrm logon"].status == "ok" and checks["winrm logon"].credential == "env:DOCTOR_WINRM_PW"
    bind = checks["ldap bind"]
    assert bind.status == "failed" and bind.reason == "auth_refused" and bind.credential == "env:DOCTOR_LDAP_PW"
    assert bind.target == f"ldaps://{DC_ADDRESS}:636" and "Administrator@kcdemo.test with env:DOCTOR_LDAP_PW" in bind.detail


def test_a_gssapi_bind_needs_no_password_variable(dc, monkeypatch):
    monkeypatch.delenv("DOCTOR_DC_PW", raising=False)
    row = check_host(
        host_of(dc_host(dc, ", auditpack_ldap_auth: gssapi").replace(", auditpack_password: 'env:DOCTOR_DC_PW'", ""))
    )[1]
    assert row.credential == "the system's Kerberos ticket (gssapi)"
    assert row.reason != "credential_missing" and "not set" not in row.detail and "no password" not in row.detail


# --- the command --------------------------------------------------------------------------------------------------


@needs_sshd
def test_the_command_names_each_failing_host_and_reference_and_never_a_value(sshd, tmp_path, cli_env):
    dead = refused_port("127.0.16.50")
    env = {**cli_env, "COLUMNS": "300", "DOCTOR_WINRM_PW": "Nooit-Tonen-1"}
    with running_winrm(tmp_path / "w", "127.0.16.36", {WINRM_USER: WINRM_PASSWORD}, LogonAnswer("[red]WS-9[/]")) as peer:
        (tmp_path / "inv.yaml").write_text(
            "all:\n  hosts:\n    localhost:\n"
            + ssh_host(sshd, sshd.known)
            + winrm_host("ws-009", peer)
            + f"    gone: {{ansible_host: 127.0.16.50, ansible_port: {dead}}}\n"
        )
        failing = run(["doctor", "-i", "inv.yaml"], tmp_path, env)
        env["DOCTOR_WINRM_PW"] = WINRM_PASSWORD
        passing = run(["doctor", "-i", "inv.yaml", "--host", "ws-009", "--host", "fw01", "--host", "localhost"], tmp_path, env)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    lines = [line for line in failing.stdout.splitlines() if line.count("│") > 4]
    ws = next(line for line in lines if "ws-009" in line and "winrm logon" in line)
    assert "env:DOCTOR_WINRM_PW" in ws and "failed" in ws and "invalid credentials" in ws
    assert any("gone" in line and "connection refused" in line for line in lines)
    assert "on: gone, ws-009" in failing.stdout
    assert "Nooit-Tonen-1" not in failing.stdout + failing.stderr
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "[red]WS-9[/]" in passing.stdout  # the host's words printed as they came, never as markup
    assert not (tmp_path / "evidence").exists()  # nothing stored


def test_a_role_no_host_has_is_bad_input(tmp_path, cli_env):
    (tmp_path / "inv.yaml").write_text("all:\n  hosts:\n    localhost:\n")
    done = run(["doctor", "-i", "inv.yaml", "--role", "firewall"], tmp_path, cli_env)
    assert done.returncode == 2 and "nothing to check" in done.stderr


def test_the_labs_windows_hosts_answer_doctors_script():
    """So `auditpack doctor` passes against `auditpack lab up` (the README's tour): the lab's handler knows the script."""
    from auditpack.collectors.parsers.windows import logon_check
    from auditpack_lab.company import DOMAIN, build_company
    from auditpack_lab.windows_hosts import handler_for

    company = build_company()
    for name in ("dc01", company.workstations[0].name):
        answer = handler_for(company, name)(ps.LOGON_CHECK)
        assert answer.exit_code == 0
        assert logon_check(answer.stdout)["computer"] == name.upper()
        assert logon_check(answer.stdout)["account"].startswith(f"{DOMAIN}\\")
