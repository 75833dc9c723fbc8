"""An SSH audit account without root (`auditpack_become: sudo`) against real sshd and real sudo, on 127.0.7.10-11.

The sudoers lines are read from docs/service-accounts.md, so the page cannot drift from what works: its
example host gives exactly the lines the page shows, and those lines (with the test's repository paths)
let the account run every command the collector sends, inside a network namespace holding a real
nftables ruleset. The same account on a host without the lines gets one clear error per command that
needs root, and everything else still collected.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from test_ssh_collector import FIREWALL_RULESET, PASSPHRASE, repositories

from auditpack.collectors import ssh
from auditpack.collectors.base import CollectContext
from auditpack.collectors.guard import CommandGuard
from auditpack.collectors.ssh import SshCollector
from auditpack.collectors.sudoers import sudoers_for
from auditpack.inventory import InventoryError, parse_inventory
from auditpack_lab.peers.netns import netns_unavailable
from auditpack_lab.peers.sshd import accounts_unavailable, make_client_key, running_sshd, write_known_hosts
from conftest import auditpack_bin

DOC = Path(__file__).resolve().parent.parent / "docs" / "service-accounts.md"
ACCOUNT = "svc-auditpack"
WITH_LINES, WITHOUT_LINES = "127.0.7.10", "127.0.7.11"
UNAVAILABLE = accounts_unavailable() or netns_unavailable() or (None if shutil.which("sudo") else "sudo is not installed")


def doc_block(language: str, after: str) -> str:
    """The first ```LANGUAGE block after the line holding AFTER in docs/service-accounts.md."""
    text = DOC.read_text()
    start = text.index(after)
    match = re.compile(rf"^```{language}\n(.*?)^```$", re.S | re.M).search(text, start)
    assert match, f"no ```{language} block after {after!r} in {DOC}"
    return match.group(1)


def documented_host():
    [host] = parse_inventory(doc_block("yaml", "<!-- example host -->").encode()).hosts
    return host


def test_the_documented_sudoers_lines_are_what_the_collector_needs_for_the_documented_host():
    assert sudoers_for(documented_host()) == doc_block("sudoers", "<!-- sudoers of the example host -->")


def as_sudo_runs(command: str) -> list[str]:
    """The program and arguments sudo is asked to run by one of the collector's commands."""
    words = shlex.split(command)
    if words[:2] == ["sh", "-c"]:  # sh -c '...exec sudo -n TOOL ARGS "$1"' _ REPOSITORY
        script, repository = words[2], words[4]
        words = shlex.split(script.split("exec ", 1)[1].replace('"$1"', shlex.quote(repository)))
    assert words[:2] == ["sudo", "-n"], command
    return words[2:]


def test_every_command_sent_through_sudo_has_its_sudoers_line(monkeypatch):
    """Each `sudo -n` command of the documented host's steps, as sudo sees it, is named in the sudoers lines."""
    monkeypatch.setenv("BORG_PASSPHRASE", "x")
    monkeypatch.setenv("RESTIC_PASSWORD", "x")
    host = documented_host()
    lines = sudoers_for(host)
    steps = ssh.steps_for(host)
    sent = [s.command for s in steps if s.sudo] + [s.fallback.command for s in steps if s.fallback]
    assert len(sent) >= 9
    for command in sent:
        program, *arguments = as_sudo_runs(command)
        named = " ".join(arguments) or '""'
        assert re.search(rf"/{re.escape(program)} {re.escape(named)}(, |\n)", lines), (command, lines)
    not_root = {s.command for s in steps if not s.sudo}
    assert {"getent passwd", "getent group", ssh.CLAMAV} <= not_root  # an ordinary account reads those itself
    guard = CommandGuard.for_collector(SshCollector())
    for step in steps:
        guard.check(step.command)  # declared like every other command


def test_become_is_refused_where_there_is_no_shell_to_sudo_in():
    for extra in ("ansible_connection: winrm, ansible_user: a", "auditpack_firewall_type: fortigate"):
        with pytest.raises(InventoryError) as caught:
            parse_inventory(f"all:\n  hosts:\n    h1: {{{extra}, auditpack_become: sudo}}\n".encode())
        assert "auditpack_become applies to SSH hosts with a shell" in str(caught.value)
    with pytest.raises(InventoryError):
        parse_inventory(b"all:\n  hosts:\n    h1: {auditpack_become: doas}\n")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if UNAVAILABLE:
        pytest.skip(UNAVAILABLE)
    base = tmp_path_factory.mktemp("ssh-sudo")
    key, public = make_client_key(base / "id_ed25519")
    tools = base / "root-home"  # what sudo makes HOME: borg's and restic's caches stay here, not in /root
    env = {"BORG_BASE_DIR": str(tools), "RESTIC_CACHE_DIR": f"{tools}/.cache/restic"}
    borg_repo, restic_repo, report, _ = repositories(base, env)
    documented = documented_host()
    paths = {
        source.repository: str(real) for source, real in zip(documented.backups, (borg_repo, restic_repo, report), strict=True)
    }
    lines = doc_block("sudoers", "<!-- sudoers of the example host -->")
    for example, real in paths.items():
        lines = lines.replace(f" {example}", f" {real}")
    holder = subprocess.Popen(["unshare", "--net", "sleep", "infinity"])
    try:
        time.sleep(0.2)
        (base / "ruleset.nft").write_text(FIREWALL_RULESET)
        subprocess.run(["nsenter", f"--net=/proc/{holder.pid}/ns/net", "nft", "-f", str(base / "ruleset.nft")], check=True)
        common = {
            "users": {ACCOUNT: ""},
            "authorized_keys": {ACCOUNT: [public]},
            "root_home": str(tools),
            "netns": f"/proc/{holder.pid}/ns/net",
        }
        with ExitStack() as stack:
            peers = {
                name: stack.enter_context(running_sshd(base / f"sshd-{name}", address, sudoers=sudoers, **common))
                for name, address, sudoers in (
                    ("with", WITH_LINES, lines),
                    ("without", WITHOUT_LINES, "Defaults env_reset\n"),
                )
            }
            known_hosts = write_known_hosts(base / "known_hosts", *peers.values())
            yield {"peers": peers, "key": key, "known_hosts": known_hosts, "repositories": (borg_repo, restic_repo, report)}
    finally:
        holder.kill()
        holder.wait()


def audited_host(site, which: str):
    peer = site["peers"][which]
    borg_repo, restic_repo, report = site["repositories"]
    text = (
        f"all:\n  hosts:\n    fw01:\n      ansible_host: {peer.address}\n      ansible_port: {peer.port}\n"
        f"      ansible_user: {ACCOUNT}\n      auditpack_become: sudo\n      ansible_ssh_private_key_file: {site['key']}\n"
        f"      auditpack_ssh_known_hosts: {site['known_hosts']}\n      auditpack_roles: [firewall]\n"
        f"      auditpack_firewall_wan: [eth0]\n      auditpack_backups:\n"
        f"        - {{tool: borg, repository: {borg_repo}, server: fs01, passphrase: 'env:AUDITPACK_TEST_BACKUP_PASS'}}\n"
        f"        - {{tool: restic, repository: {restic_repo}, server: web01, passphrase: 'env:AUDITPACK_TEST_BACKUP_PASS'}}\n"
        f"        - {{tool: log, repository: {report}, server: nas01}}\n"
    )
    [host] = parse_inventory(text.encode()).hosts
    return host


def collect(host) -> dict[str, list]:
    found: dict[str, list] = {}
    for obs in SshCollector().collect(host, CollectContext(time.monotonic() + 120, "tester")):
        found.setdefault(obs.kind, []).append(obs)
    return found


def test_the_documented_lines_give_the_account_every_command(site, monkeypatch):
    monkeypatch.setenv("AUDITPACK_TEST_BACKUP_PASS", PASSPHRASE)
    found = collect(audited_host(site, "with"))
    errors = {kind: [o.errors for o in items if o.status != "ok"] for kind, items in found.items()}
    assert {kind: [o.status for o in items] for kind, items in found.items() if kind != "av.host_status"} == {
        "ssh.connection": ["ok"],
        "host_firewall.nftables": ["ok"],
        "host_firewall.iptables": ["ok"],
        "host_firewall.ip6tables": ["ok"],
        "accounts.local": ["ok"],
        "accounts.admin_groups": ["ok"],
        "network.listening": ["ok"],
        "firewall.ruleset": ["ok"],
        "backup.runs": ["ok", "ok", "ok"],
    }, errors
    # root in the firewall's namespace: its own ruleset, not the host's (the account alone could not read it)
    [ruleset] = found["firewall.ruleset"]
    assert ruleset.command == "sudo -n nft -j list ruleset"
    assert {r["description"] for r in ruleset.normalized["rules"]} >= {"CRM over HTTPS", "DNS", "old mail relay"}
    [accounts] = found["accounts.local"]
    assert accounts.command == "getent passwd" and ACCOUNT in {a["name"] for a in accounts.normalized}  # no sudo
    borg, restic, log = found["backup.runs"]
    assert len(borg.normalized["runs"]) == 2 and len(restic.normalized["runs"]) == 3 and len(log.normalized["runs"]) == 3
    assert all(PASSPHRASE.encode() not in o.command.encode() + o.raw for o in (borg, restic))


def test_without_the_lines_each_root_command_is_a_clear_error_and_the_rest_is_collected(site, monkeypatch):
    monkeypatch.setenv("AUDITPACK_TEST_BACKUP_PASS", PASSPHRASE)
    found = collect(audited_host(site, "without"))
    refused = [o for items in found.values() for o in items if o.status != "ok"]
    assert sorted(o.kind for o in refused if o.kind != "av.host_status") == sorted(
        [
            "host_firewall.nftables",
            "host_firewall.iptables",
            "host_firewall.ip6tables",
            "network.listening",
            "firewall.ruleset",
            *["backup.runs"] * 3,
        ]
    )
    for obs in refused:
        if obs.kind == "av.host_status":
            continue
        assert obs.status == "error" and len(obs.errors) == 1, (obs.command, obs.errors)
        assert obs.errors[0].startswith("sudo refused the command (sudo: a password is required)"), obs.errors
        assert "docs/service-accounts.md" in obs.errors[0]
    assert found["accounts.local"][0].status == found["accounts.admin_groups"][0].status == "ok"
    # a refused nft is not "nft missing": the collector does not fall back to iptables-save for the perimeter
    [ruleset] = found["firewall.ruleset"]
    assert ruleset.command == "sudo -n nft -j list ruleset"


def shell_result(command: str, script: str) -> ssh.CommandResult:
    """What this machine's own sh and sudo answer to SCRIPT, as the transport would hand it over."""
    done = subprocess.run(["sh", "-c", script], capture_output=True, timeout=30, check=False)
    return ssh.CommandResult(command, done.stdout, done.stderr, done.returncode, False, 0.0)


@pytest.mark.skipif(shutil.which("sudo") is None, reason="sudo is not installed (scripts/test.sh installs it)")
def test_a_missing_program_under_sudo_is_absent_and_a_missing_sudo_is_an_error():
    """sudo says "sudo: nft: command not found" (exit 1): the tool is not installed, as exit 127 says without
    sudo, and the perimeter falls back to iptables-save. No sudo at all is the account's problem, said so."""
    step = ssh.Step("host_firewall.nftables", "sudo -n nft -j list ruleset", lambda b: b, sudo=True)
    missing_program = shell_result(step.command, "exec sudo -n no-such-program-auditpack")
    assert missing_program.exit_code == 1 and ssh.sudo_not_found(step, missing_program)
    obs = ssh.observe(step, missing_program, ssh.utcnow(), ssh.utcnow())
    assert obs.status == "absent" and "command not found" in obs.errors[0]
    missing_sudo = shell_result(step.command, "PATH=/nonexistent; sudo -n nft -j list ruleset")
    assert missing_sudo.exit_code == ssh.NOT_FOUND
    obs = ssh.observe(step, missing_sudo, ssh.utcnow(), ssh.utcnow())
    assert (obs.status, obs.errors) == ("error", ["sudo is not installed on the host (auditpack_become: sudo needs it)"])
    plain = ssh.Step("host_firewall.nftables", "nft -j list ruleset", lambda b: b)  # without become: unchanged
    assert ssh.observe(plain, missing_sudo, ssh.utcnow(), ssh.utcnow()).status == "absent"


@pytest.mark.skipif(shutil.which("visudo") is None, reason="sudo is not installed (scripts/test.sh installs it)")
def test_auditpack_sudoers_prints_the_documented_lines_and_visudo_accepts_them(tmp_path):
    inventory = tmp_path / "site.yaml"
    inventory.write_text(doc_block("yaml", "<!-- example host -->"))
    done = subprocess.run([auditpack_bin(), "sudoers", "-i", str(inventory)], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, doc_block("sudoers", "<!-- sudoers of the example host -->")), done.stderr
    (tmp_path / "auditpack.sudoers").write_text(done.stdout)
    checked = subprocess.run(["visudo", "-cf", str(tmp_path / "auditpack.sudoers")], capture_output=True, text=True)
    assert checked.returncode == 0 and "parsed OK" in checked.stdout, checked.stdout + checked.stderr
    inventory.write_text(inventory.read_text().replace("auditpack_become: sudo", "ansible_port: 22"))
    done = subprocess.run([auditpack_bin(), "sudoers", "-i", str(inventory)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == "" and "backup01: no auditpack_become: sudo" in done.stderr


def test_doctor_asks_sudo_for_each_command_and_names_the_refused_ones(site, monkeypatch):
    """doctor's `sudo -n -l COMMAND` per command: all allowed with the documented lines, each one named without."""
    from auditpack.collectors.credential_check import check_host

    monkeypatch.setenv("AUDITPACK_TEST_BACKUP_PASS", PASSPHRASE)
    rows = {r.check: r for r in check_host(audited_host(site, "with"))}
    assert rows["ssh logon"].ok and rows["ssh logon"].facts["account"] == ACCOUNT, rows["ssh logon"].detail
    assert rows["sudo"].ok and rows["sudo"].detail == "sudo -n -l allows all 7 commands that need root"
    rows = {r.check: r for r in check_host(audited_host(site, "without"))}
    assert rows["ssh logon"].ok and not rows["sudo"].ok and rows["sudo"].reason == "sudo_refused"
    assert rows["sudo"].detail.startswith("sudo -n refuses 7 of 7 commands: nft -j list ruleset; iptables-save;")
    assert "auditpack sudoers" in rows["sudo"].detail
