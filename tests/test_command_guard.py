"""The read-only promise enforced: what a collector does not declare is refused before it is sent.

The end-to-end test runs the SSH collector through the runner against a real sshd whose
ForceCommand logs every command it receives: an undeclared command becomes an error item,
the server never sees it, and its side effect never happens.
"""

from __future__ import annotations

import ast
import shlex
from pathlib import Path

import pytest

from auditpack.collectors import ssh
from auditpack.collectors import windows_probes as ps
from auditpack.collectors.ad import GROUP_BY_NAME, GROUP_BY_SID, MEMBERS_FILTER, PSO_CONTAINER, USERS_FILTER, AdCollector
from auditpack.collectors.epo import DEFAULT_SELECT, EpoCollector
from auditpack.collectors.guard import SHELL_WORD, CommandGuard, CommandRefused
from auditpack.collectors.local import LocalCollector
from auditpack.collectors.parsers import ad as ad_parse
from auditpack.collectors.reachability import ReachabilityCollector, describe_probe
from auditpack.collectors.registry import ALL_COLLECTORS
from auditpack.collectors.ssh import RETENTION, SshCollector, Step
from auditpack.collectors.tls import ENDPOINT_PROBE, TlsCollector
from auditpack.collectors.transports.ldap import describe_search
from auditpack.collectors.windows import WindowsCollector
from auditpack.inventory import parse_inventory
from auditpack.runner import run_collection
from auditpack_lab.peers.sshd import make_client_key, running_sshd, sshd_unavailable, write_known_hosts

ROOT = Path(__file__).resolve().parent.parent


def guard(collector) -> CommandGuard:
    return CommandGuard.for_collector(collector)


def test_declared_commands_pass_and_anything_else_is_refused_and_noted():
    g = CommandGuard("demo", ("getent passwd", "cat {file}"), {"{file}": SHELL_WORD})
    g.check("getent passwd")
    g.check("cat /etc/os-release")
    g.check("cat " + shlex.quote("/data/it's here; rm -rf /"))  # one quoted word, however it reads
    for bent in ("getent passwd; id", "cat /etc/passwd; id", "cat a b", "cat $(id)", "cat {file}", "getent  passwd"):
        with pytest.raises(CommandRefused, match="collector demo"):
            g.check(bent)
    assert g.refused[-1] == "getent  passwd" and len(g.refused) == 6


def test_ssh_templates_take_only_a_quoted_word_and_a_number():
    g = guard(SshCollector())
    filled = RETENTION.format(path=shlex.quote("/srv/klant data"), days=92)
    assert g.allows(filled) and g.allows(ssh.BACKUP_COMMANDS["borg"].format(repository=shlex.quote("/backup/borg repo")))
    assert not g.allows(RETENTION.format(path="/srv/data; reboot", days=92))
    assert not g.allows(RETENTION.format(path="/srv", days="92; reboot"))
    assert not g.allows(ssh.BACKUP_COMMANDS["log"].format(repository="/var/log/x && reboot"))


def test_windows_retention_takes_only_a_powershell_literal_and_a_number():
    g = guard(WindowsCollector())
    assert all(g.allows(script) for script in WindowsCollector.allowed_commands if "__" not in script)
    assert g.allows(ps.retention_script("D:\\Opnames van 't kantoor", 92))
    assert not g.allows(ps.RETENTION.replace("__PATH__", "'D:\\'; Stop-Computer; ''").replace("__DAYS__", "92"))
    assert not g.allows(ps.retention_script("D:\\x", 92).replace("92", "92; Stop-Computer"))


def test_ldap_searches_are_checked_with_their_base_filter_and_attributes():
    g = guard(AdCollector())
    base = "DC=klantcontact,DC=local"
    assert g.allows(describe_search(base, USERS_FILTER, ad_parse.USER_ATTRIBUTES, page_size=500))
    assert g.allows(
        describe_search(
            PSO_CONTAINER.format(base=base), "(objectClass=msDS-PasswordSettings)", ad_parse.PSO_ATTRIBUTES, page_size=500
        )
    )
    assert g.allows(describe_search(base, GROUP_BY_SID.format(sid="S-1-5-21-1-2-3-512"), ad_parse.GROUP_ATTRIBUTES, page_size=5))
    assert g.allows(
        describe_search(base, GROUP_BY_NAME.format(group="KC-Dossiers\\28lezen\\29"), ad_parse.GROUP_ATTRIBUTES, page_size=5)
    )
    assert g.allows(
        describe_search(
            base, MEMBERS_FILTER.replace("GROUP_DN", "CN=KC-Dossiers,OU=Groepen," + base), ["sAMAccountName"], page_size=5
        )
    )
    assert not g.allows(describe_search(base, USERS_FILTER, ad_parse.USER_ATTRIBUTES + ["unicodePwd"], page_size=500))
    assert not g.allows(describe_search(base, "(objectClass=*)", ["*"], page_size=500))
    assert not g.allows(
        describe_search(base, GROUP_BY_NAME.format(group="x)(objectClass=*"), ad_parse.GROUP_ATTRIBUTES, page_size=5)
    )  # an unescaped value cannot widen the filter


def test_http_requests_probes_and_local_calls_are_declared_exactly():
    epo = guard(EpoCollector())
    query = f"/remote/core.executeQuery?target=EPOLeafNode&select={DEFAULT_SELECT}&:output=json"
    assert epo.allows(f"GET https://epo.klantcontact.local:8443{query}")
    assert not epo.allows(f"GET https://epo.klantcontact.local:8443/remote/core.executeQuery?target=Evil&x={query}")
    assert not epo.allows(f"GET http://epo.klantcontact.local{query}")  # Basic authentication only inside TLS
    assert guard(TlsCollector()).allows(ENDPOINT_PROBE.format(endpoint="ldaps://dc01.klantcontact.local:636", name="dc01"))
    inv = parse_inventory(
        b"all:\n  hosts:\n    w1: {ansible_host: 127.0.0.9, ansible_connection: winrm, ansible_user: KC\\\\audit}\n"
        b"    w2: {ansible_host: 127.0.0.9, ansible_connection: winrm, ansible_user: audit@kc, ansible_winrm_scheme: http}\n"
        b"    s1: {ansible_host: 127.0.0.9, ansible_port: 2222}\n"
    )
    assert {describe_probe(h).split(" ")[0] for h in inv.hosts} == {"HTTP", "HTTPS", "TCP"}
    assert all(guard(ReachabilityCollector()).allows(describe_probe(h)) for h in inv.hosts)
    local = guard(LocalCollector())
    assert local.allows("psutil.users()") and local.allows("nft -j list ruleset") and not local.allows("nft flush ruleset")


TRANSPORT_CALLS = {
    "SshSession",
    "transport_factory",
    "read_entry",
    "paged_entries",
    "default_naming_context",
    "command_observation",
    "run_command",
    "_psutil_observation",
}


def test_every_collector_hands_its_guard_to_what_sends():
    """Transports take the guard as an optional argument (their own tests send what they like); collectors always give it."""
    unguarded = []
    for path in sorted((ROOT / "collectors").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                given = len(node.args) >= {"transport_factory": 4, "_psutil_observation": 4}.get(name, 99)
                if name in TRANSPORT_CALLS and not given and not any(k.arg == "guard" for k in node.keywords):
                    unguarded.append(f"{path.name}:{node.lineno} {name}")
    assert unguarded == []
    assert all(isinstance(c.allowed_commands, tuple) and isinstance(c.command_placeholders, dict) for c in ALL_COLLECTORS)


@pytest.mark.skipif(sshd_unavailable() is not None, reason=str(sshd_unavailable()))
def test_an_undeclared_command_is_refused_unsent_and_recorded_while_the_run_goes_on(tmp_path, store, monkeypatch):
    key, public = make_client_key(tmp_path / "id_ed25519")
    received, marker = tmp_path / "received.log", tmp_path / "the-undeclared-command-ran"
    # every command the server is asked to run is logged, then run as asked
    force = f"ForceCommand echo \"$SSH_ORIGINAL_COMMAND\" >> {received}; exec /bin/sh -c \"$SSH_ORIGINAL_COMMAND\"\n"
    sneaky = f"touch {marker}"
    declared = ssh.linux_steps

    def steps(host):
        reads = [s for s in declared(host) if s.command in ("getent passwd", "getent group")]
        extra = [Step("accounts.sneaky", sneaky, lambda out: out.decode())] if host.name == "web01" else []
        return reads[:1] + extra + reads[1:]

    monkeypatch.setattr(ssh, "linux_steps", steps)
    with running_sshd(tmp_path / "sshd", "127.0.0.231", authorized_keys={"root": [public]}, extra_config=force) as peer:
        known = write_known_hosts(tmp_path / "known_hosts", peer)
        line = (
            f"{{ansible_host: {peer.address}, ansible_port: {peer.port}, ansible_user: root, "
            f"ansible_ssh_private_key_file: {key}, auditpack_ssh_known_hosts: {known}}}"
        )
        inv = parse_inventory(f"all:\n  hosts:\n    web01: {line}\n    web02: {line}\n".encode())
        result = run_collection(store, inv, inv.hosts, "tester")
    assert not marker.exists()
    sent = received.read_text().splitlines()
    assert sorted(sent) == ["getent group", "getent passwd", "getent passwd"] and sneaky not in received.read_text()
    outcome = {o.host: o for o in result.outcomes}
    assert outcome["web02"].status == "ok" and outcome["web01"].status == "partial"
    [refused] = store.items(host="web01", kinds=["ssh.refused"])
    assert (refused.collector, refused.status, refused.command) == ("ssh", "error", sneaky)
    assert "collector ssh" in refused.errors[0] and sneaky in refused.errors[0] and "nothing was sent" in refused.errors[0]
    web01 = [i.kind for i in store.items(host="web01")]
    assert "accounts.local" in web01 and "accounts.admin_groups" not in web01  # the ssh collector stops at the refusal
    assert {i.kind for i in store.items(host="web02")} >= {
        "host.reachability",
        "ssh.connection",
        "accounts.local",
        "accounts.admin_groups",
    }
    assert result.partial and result.body["status"] == "partial"
