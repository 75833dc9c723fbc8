"""The Windows collector with unmodified pywinrm against the real-protocol WinRM peer (tests/peers/winrm.py).

What is real: the socket, HTTP, NTLM, message encryption or TLS, WS-Man and
WinRS. What is simulated: the host. FakeDomainController answers each probe
script with output hand-built in the format the probe prints (base64 of UTF-8
JSON, auditpol /backup CSV), labelled as such.
"""

from __future__ import annotations

import base64
import json
import time

import pytest

from auditpack.collectors import windows_probes as ps
from auditpack.collectors.base import CollectContext
from auditpack.collectors.transports.winrm import MAX_SCRIPT
from auditpack.collectors.windows import WindowsCollector, probes_for, script_allowed
from auditpack.inventory import parse_inventory
from auditpack_lab.peers.winrm import ScriptResult, running_winrm
from auditpack_lab.windows_hosts import printed

USER, PASSWORD = "KCDEMO\\svc-audit", "Alleen-Lezen-2026"


AUDITPOL = (
    "Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting,Setting Value\r\n"
    + "".join(
        f"DC01,System,Subcategorie {g},{{0CCE{g}-69AE-11D9-BED3-505054503030}},Geslaagd en mislukt,,3\r\n"
        for g in ("9215", "9216", "9217", "923F", "9242", "921D", "9224", "9244")
    )
)


class FakeDomainController:
    """Answers the probes like a healthy Dutch DC would; `broken` names probes that misbehave."""

    def __init__(self, broken: dict[str, ScriptResult] | None = None):
        self.broken = broken or {}

    def __call__(self, script: str) -> ScriptResult:
        answers = {
            ps.AUDIT_POLICY: ScriptResult(base64.b64encode(AUDITPOL.encode("utf-8")) + b"\r\n"),
            ps.SECURITY_LOG: ScriptResult(
                printed(
                    {"max_size_bytes": 4 << 30, "log_mode": 0, "record_count": 2_500_000, "oldest_record": "2025-09-01T00:00:00Z"}
                )
            ),
            ps.security_events_script(None): ScriptResult(
                printed(
                    {
                        "covered_from": "2025-09-01T00:00:00Z",
                        "covered_to": "2026-11-23T08:00:00Z",
                        "days": {"2026-11-22": {"4624": 812, "4634": 790}, "2026-11-21": {"4624": 640}},
                        "notable": [{"event_id": 4719, "time": "2026-11-21T03:00:00Z", "by": "KCDEMO\\DC01$"}],
                        "disabled": [
                            {
                                "account": "m.de.vries",
                                "domain": "KCDEMO",
                                "time": "2026-10-02T07:01:00Z",
                                "by": "KCDEMO\\hr-beheer",
                            }
                        ],
                    }
                )
            ),
            ps.FIREWALL: ScriptResult(
                printed(
                    {
                        "profiles": [
                            {"name": n, "enabled": 1, "inbound": 4, "outbound": 2} for n in ("Domain", "Private", "Public")
                        ],
                        "third_party": [],
                    }
                )
            ),
            ps.ANTIVIRUS: ScriptResult(
                printed(
                    {
                        "antivirus": [{"name": "Windows Defender", "state": 397568}],
                        "defender": {
                            "enabled": True,
                            "realtime": True,
                            "engine": "1.1.24090.11",
                            "signature": "2026-11-22T21:04:00Z",
                        },
                    }
                )
            ),
            ps.with_since(ps.WINDOWS_BACKUP, None): ScriptResult(
                printed(
                    {
                        "available": True,
                        "jobs": [
                            {"type": "Backup", "start": "2026-11-22T21:00:00Z", "end": "2026-11-22T21:40:00Z", "hresult": 0}
                        ],
                    }
                )
            ),
        }
        for name, result in self.broken.items():
            answers[getattr(ps, name) if name != "EVENTS" else ps.security_events_script(None)] = result
        if script not in answers:
            return ScriptResult(stderr=b"unexpected script", exit_code=99)
        if isinstance(answers[script], Exception):
            raise answers[script]  # the peer turns this into a WSMan fault with HTTP 500
        return answers[script]


def dc_host(peer, password_env: str = "AUDITPACK_TEST_WINRM_PW", extra: str = ""):
    text = (
        f"all:\n  hosts:\n    dc01:\n      ansible_host: {peer.address}\n      ansible_port: {peer.port}\n"
        f"      ansible_connection: winrm\n      ansible_winrm_scheme: {peer.scheme}\n      ansible_user: '{USER}'\n"
        f"      auditpack_password: env:{password_env}\n      auditpack_roles: [domain_controller]\n{extra}"
    )
    return parse_inventory(text.encode()).hosts[0]


def collect(host) -> dict:
    return {o.kind: o for o in WindowsCollector().collect(host, CollectContext(time.monotonic() + 120, "tester"))}


@pytest.fixture(autouse=True)
def password(monkeypatch):
    monkeypatch.setenv("AUDITPACK_TEST_WINRM_PW", PASSWORD)


def test_every_probe_over_encrypted_http(tmp_path):
    with running_winrm(tmp_path, "127.0.0.61", {USER: PASSWORD}, FakeDomainController()) as peer:
        host = dc_host(peer)
        found = collect(host)
    assert {k: o.status for k, o in found.items()} == {
        k: "ok"
        for k in (
            "windows.audit_policy",
            "windows.security_log",
            "windows.security_events_daily",
            "ad.account_disabled_events",
            "windows.firewall_profiles",
            "windows.security_center",
            "av.host_status",
            "backup.runs",
        )
    }
    policy = found["windows.audit_policy"].normalized["subcategories"]
    assert policy["0cce9215-69ae-11d9-bed3-505054503030"] == {"name": "Subcategorie 9215", "success": True, "failure": True}
    assert found["windows.security_log"].normalized["retention"] == "overwrite"
    assert found["windows.security_events_daily"].normalized["days"]["2026-11-22"]["4624"] == 812
    assert found["ad.account_disabled_events"].normalized["events"][0]["account"] == "KCDEMO\\m.de.vries"
    assert found["windows.firewall_profiles"].normalized["profiles"]["public"]["default_inbound"] == "block"
    assert found["av.host_status"].normalized["signature_date"] == "2026-11-22"
    assert found["backup.runs"].normalized["runs"][0]["server"] == "dc01"
    # read-only: the host was asked to run exactly the declared probes, nothing else
    assert peer.received == [p.script for p in probes_for(host)]
    assert (
        all(script_allowed(s) for s in peer.received) and ps.with_since(ps.VEEAM, None) not in peer.received
    )  # not a backup server
    assert PASSWORD not in json.dumps([o.command for o in found.values()])


def test_https_with_the_site_ca(tmp_path):
    with running_winrm(tmp_path, "127.0.0.62", {USER: PASSWORD}, FakeDomainController(), scheme="https") as peer:
        untrusted = collect(dc_host(peer))
        trusted = collect(dc_host(peer, extra=f"      auditpack_tls_ca_file: {peer.ca_file}\n"))
    assert all(o.status == "error" for o in untrusted.values())
    assert "TLS" in untrusted["windows.audit_policy"].errors[0]
    assert all("not tried after" in o.errors[0] for k, o in untrusted.items() if k != "windows.audit_policy")
    assert trusted["windows.firewall_profiles"].status == "ok", trusted["windows.firewall_profiles"].errors


def test_wrong_password_stops_after_the_first_refusal(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDITPACK_TEST_WINRM_PW", "Fout-Wachtwoord")
    with running_winrm(tmp_path, "127.0.0.63", {USER: PASSWORD}, FakeDomainController()) as peer:
        found = collect(dc_host(peer))
    assert found["windows.audit_policy"].errors == [
        f"audit policy: logon to http://{peer.address}:{peer.port}/wsman refused: invalid credentials"
    ]
    assert all(o.status == "error" for o in found.values())
    assert peer.received == []  # nothing ran, and the account was not hammered


def test_garbled_and_failing_probes_are_kept_raw_and_flagged(tmp_path):
    broken = {
        "FIREWALL": ScriptResult(b"Get-NetFirewallProfile : Toegang geweigerd\r\n"),
        "AUDIT_POLICY": ScriptResult(
            stderr=b"Error 0x00000522 occurred: A required privilege is not held by the client.", exit_code=1
        ),
    }
    with running_winrm(tmp_path, "127.0.0.64", {USER: PASSWORD}, FakeDomainController(broken)) as peer:
        found = collect(dc_host(peer))
    firewall = found["windows.firewall_profiles"]
    assert firewall.status == "garbled" and firewall.raw == b"Get-NetFirewallProfile : Toegang geweigerd\r\n"
    audit = found["windows.audit_policy"]
    assert audit.status == "error" and "exit code 1" in audit.errors[0] and "privilege" in audit.errors[0]
    assert found["windows.security_log"].status == "ok"  # one broken probe does not stop the others


def test_the_run_records_a_windows_dc_end_to_end(tmp_path, store):
    from auditpack.runner import run_collection

    with running_winrm(tmp_path, "127.0.0.65", {USER: PASSWORD}, FakeDomainController()) as peer:
        host = dc_host(peer)
        inventory = parse_inventory(b"all:\n  hosts:\n    dc01: {}\n")
        inventory.hosts = [host]
        result = run_collection(store, inventory, [host], "tester")
    # WinRM answered; LDAP to the same DC did not (nothing listens there in this test): partial, not unreachable
    assert result.outcomes[0].status == "partial"
    assert [e for e in result.outcomes[0].errors if not e.startswith("ad: cannot connect to ldaps://")] == []
    kinds = {i.kind for i in store.items(host="dc01") if i.status == "ok"}
    assert {"host.reachability", "windows.audit_policy", "windows.firewall_profiles"} <= kinds
    reach = store.read_json(next(i for i in store.items(host="dc01") if i.kind == "host.reachability").normalized_sha256)
    assert "Negotiate" in reach["auth_schemes"]


CLIXML_WARNING = (
    b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
    b'<S S="Error">Get-CimInstance : Ongeldige naamruimte _x000D__x000A_</S></Objs>'
)


def test_server_without_security_center_fault_and_missing_cmdlet(tmp_path):
    """Server SKUs have no root/SecurityCenter2; an old host lacks Get-NetFirewallProfile; a provider fails with a 500."""
    no_center = printed(
        {"antivirus": [], "defender": {"enabled": True, "realtime": True, "engine": "1.1.1", "signature": "2026-11-20T10:00:00Z"}}
    )
    broken = {
        "ANTIVIRUS": ScriptResult(no_center, CLIXML_WARNING),
        "FIREWALL": ScriptResult(
            stderr=b"Get-NetFirewallProfile : The term 'Get-NetFirewallProfile' is not recognized", exit_code=1
        ),
        "SECURITY_LOG": RuntimeError("WMI provider failure"),
    }
    with running_winrm(tmp_path, "127.0.0.66", {USER: PASSWORD}, FakeDomainController(broken)) as peer:
        found = collect(dc_host(peer))
    status = found["av.host_status"]
    assert status.status == "ok" and status.normalized["product"] == "Microsoft Defender Antivirus"
    assert status.errors and "Ongeldige naamruimte" in status.errors[0] and "CLIXML" not in status.errors[0]
    assert (
        found["windows.firewall_profiles"].status == "error"
        and "is not recognized" in found["windows.firewall_profiles"].errors[0]
    )
    log = found["windows.security_log"]
    assert log.status == "error" and "WSManFault" in log.errors[0]
    assert found["windows.audit_policy"].status == "ok" and found["windows.security_events_daily"].status == "ok"


def test_every_probe_fits_the_command_line():
    from auditpack.collectors.transports.winrm import MAX_SCRIPT

    assert all(len(script) <= MAX_SCRIPT for script in WindowsCollector.allowed_commands)


class FakeFileServer(FakeDomainController):
    """A file server: the DC's answers, plus the retention probe for the data locations it has (path -> answer)."""

    def __init__(self, locations: dict[str, dict], broken: dict[str, ScriptResult] | None = None):
        super().__init__(broken)
        self.locations = locations
        self.asked: list[tuple[str, int]] = []

    def __call__(self, script: str) -> ScriptResult:
        arguments = ps.retention_arguments(script)
        if arguments is None:
            return super().__call__(script)
        self.asked.append(arguments)
        path, _ = arguments
        if path not in self.locations:  # what Test-Path makes the probe do
            return ScriptResult(stderr=f"no such directory: {path}\r\n".encode(), exit_code=2)
        return ScriptResult(printed(self.locations[path]))


def file_server(peer, paths: list[str], roles: str = "file_server", days: int = 92):
    text = (
        f"all:\n  hosts:\n    fs01:\n      ansible_host: {peer.address}\n      ansible_port: {peer.port}\n"
        f"      ansible_connection: winrm\n      ansible_winrm_scheme: {peer.scheme}\n      ansible_user: '{USER}'\n"
        f"      auditpack_password: env:AUDITPACK_TEST_WINRM_PW\n"
        f"      auditpack_roles: [{roles}]\n      auditpack_retention_days: {days}\n"
        f"      auditpack_data_paths: {json.dumps(paths)}\n"
    )
    return parse_inventory(text.encode()).hosts[0]


def test_retention_per_data_path_and_a_missing_path_is_an_error(tmp_path):
    kept = {"file_count": 4096, "older_than_limit": 0, "oldest": "2026-09-01T07:02:54.1234567Z"}
    old = {"file_count": 12, "older_than_limit": 7, "oldest": "2025-03-14T10:00:00.0000000+01:00"}
    host_fs = FakeFileServer({"D:\\Opnames": kept, "D:\\Klant'data ‘oud’": old})
    paths = ["D:\\Opnames", "E:\\Verdwenen", "D:\\Klant'data ‘oud’"]
    with running_winrm(tmp_path, "127.0.4.28", {USER: PASSWORD}, host_fs) as peer:
        host = file_server(peer, paths, days=30)
        found = list(WindowsCollector().collect(host, CollectContext(time.monotonic() + 120, "tester")))
    retention = [o for o in found if o.kind == "retention.files"]
    assert len(retention) == 3  # one item per location
    assert host_fs.asked == [(p, 30) for p in paths]  # quoting carried every path, quotes and all, to the host intact
    assert retention[0].status == "ok" and retention[0].normalized["limit_days"] == 30
    [location] = retention[0].normalized["locations"]
    assert {k: v for k, v in location.items() if k != "collected"} == {
        "path": "D:\\Opnames",
        "file_count": 4096,
        "oldest_mtime": "2026-09-01T07:02:54Z",
        "older_than_limit": 0,
    }
    missing = retention[1]
    assert missing.status == "error" and missing.normalized is None
    assert "exit code 2" in missing.errors[0] and "no such directory: E:\\Verdwenen" in missing.errors[0]
    assert retention[2].normalized["locations"][0]["oldest_mtime"] == "2025-03-14T09:00:00Z"  # to UTC
    assert all(script_allowed(s) for s in peer.received)
    assert {o.kind: o.status for o in found if o.kind != "retention.files"}["windows.audit_policy"] == "ok"


def test_retention_output_that_does_not_add_up_is_garbled(tmp_path):
    host_fs = FakeFileServer(
        {
            "D:\\Opnames": {"file_count": 3, "older_than_limit": 0, "oldest": None},
            "D:\\Leeg": {"file_count": 0, "older_than_limit": 0, "oldest": None},
        }
    )
    with running_winrm(tmp_path, "127.0.4.29", {USER: PASSWORD}, host_fs) as peer:
        found = [
            o
            for o in WindowsCollector().collect(
                file_server(peer, ["D:\\Opnames", "D:\\Leeg"], roles="server"), CollectContext(time.monotonic() + 120, "tester")
            )
            if o.kind == "retention.files"
        ]
    assert found[0].status == "garbled" and "3 files but oldest time None" in found[0].errors[0] and found[0].raw
    assert found[1].status == "ok" and found[1].normalized["locations"][0]["file_count"] == 0  # an empty location is fine


def test_only_file_servers_and_servers_get_the_retention_probe_and_it_cannot_be_bent():
    def host(roles: str):
        text = (
            f"all:\n  hosts:\n    h1:\n      ansible_host: 127.0.4.28\n      ansible_connection: winrm\n"
            f"      ansible_user: '{USER}'\n      auditpack_roles: [{roles}]\n      auditpack_data_paths: ['D:\\Opnames']\n"
        )
        return parse_inventory(text.encode()).hosts[0]

    def retention(h):
        return [p for p in probes_for(h) if "retention.files" in p.kinds]

    assert retention(host("workstation")) == [] and retention(host("domain_controller")) == []
    [probe] = retention(host("file_server"))
    assert probe.script == ps.retention_script("D:\\Opnames", 92) and ps.RETENTION in WindowsCollector.allowed_commands
    assert script_allowed(probe.script) and len(probe.script) <= MAX_SCRIPT
    bent = probe.script.replace("'D:\\Opnames'", "'D:\\'; Remove-Item C:\\ -Recurse; '")
    assert not script_allowed(bent) and ps.retention_arguments(bent) is None
    assert not script_allowed(probe.script + "; Stop-Computer")
    assert not script_allowed(ps.RETENTION.replace("__DAYS__", "92"))  # the path placeholder must be a quoted literal
