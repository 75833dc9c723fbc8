"""The SSH collector end to end against real OpenSSH servers on 127.0.0.101-109: no mocks.

What is real: sshd, paramiko, the shell and every program the collector runs
(nft with a ruleset loaded in a network namespace the test creates, getent, ss,
find, borg and restic with repositories the test backs up to). What is played:
the appliances. A FortiGate or pfSense is not a Linux shell, so the test sshd's
ForceCommand answers their one read command with a configuration file from
../shared/corpus; faults (a command that never ends, one that prints too much,
a connection that drops) are played the same way on a host of their own.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import threading
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from auditpack.collectors import ssh
from auditpack.collectors.base import CollectContext
from auditpack.collectors.guard import CommandGuard
from auditpack.collectors.ssh import SshCollector
from auditpack.controls.evaluate import evaluate_controls
from auditpack.controls.result import Status
from auditpack.imports import import_egress_register
from auditpack.inventory import parse_inventory
from auditpack.periods import Period
from auditpack.runner import run_collection
from auditpack_lab.peers.netns import netns_unavailable
from auditpack_lab.peers.sockets import refused_port
from auditpack_lab.peers.sshd import make_client_key, running_sshd, sshd_unavailable, write_known_hosts
from conftest import corpus_file

pytestmark = pytest.mark.skipif(
    (sshd_unavailable() or netns_unavailable()) is not None, reason=str(sshd_unavailable() or netns_unavailable())
)

PASSPHRASE = "borg and restic test passphrase"
FIREWALL_RULESET = """
table inet filter {
  chain input { type filter hook input priority 0; policy drop;
    iifname "lo" accept
    ct state established,related accept
    iifname "eth1" tcp dport 22 accept comment "management from the LAN"
  }
  chain forward { type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "eth1" oifname "eth0" tcp dport 443 accept comment "CRM over HTTPS"
    iifname "eth1" oifname "eth0" udp dport 53 accept comment "DNS"
    iifname "eth1" oifname "eth0" tcp dport 25 accept comment "old mail relay"
  }
  chain output { type filter hook output priority 0; policy drop;
    oifname "lo" accept
    ct state established,related accept
    udp dport 53 accept
  }
}
"""
EGRESS_REGISTER = """entries:
  - {device: fw01, service: tcp/443, reason: "Customer CRM (SaaS) over HTTPS"}
  - {device: fw01, port: 53, reason: "DNS to the provider's resolvers"}
"""


def wrapper(path: Path, answers: dict[str, str], netns_pid: int | None = None) -> str:
    """A ForceCommand script: fixed answers for some commands, the rest run as sent (in the netns if given)."""
    cases = "".join(f"  {shlex.quote(command)}) {action};;\n" for command, action in answers.items())
    run = f"exec nsenter --net=/proc/{netns_pid}/ns/net sh -c" if netns_pid else "exec sh -c"
    path.write_text(f'#!/bin/sh\ncase "$SSH_ORIGINAL_COMMAND" in\n{cases}esac\n{run} "$SSH_ORIGINAL_COMMAND"\n')
    path.chmod(0o755)
    return f"ForceCommand {path}\n"


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (the test command installs Debian's borgbackup and restic)")
    return found


def checked(env: dict[str, str], *argv: str | Path) -> None:
    done = subprocess.run([str(a) for a in argv], env=env, capture_output=True, stdin=subprocess.DEVNULL, timeout=120)
    assert done.returncode == 0, (argv, done.stderr)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A perimeter firewall, a FortiGate, a broken pfSense, a backup server and a misbehaving host."""
    base = tmp_path_factory.mktemp("ssh-site")
    key, public = make_client_key(base / "id_ed25519")
    holder = subprocess.Popen(["unshare", "--net", "sleep", "infinity"])  # keeps the firewall's namespace alive
    try:
        time.sleep(0.2)
        (base / "ruleset.nft").write_text(FIREWALL_RULESET)
        subprocess.run(["nsenter", f"--net=/proc/{holder.pid}/ns/net", "nft", "-f", str(base / "ruleset.nft")], check=True)
        truncated = base / "pfsense-truncated.xml"
        config = corpus_file("firewall/pfsense__pfsense/config.xml").read_bytes()
        truncated.write_bytes(config[: len(config) // 2])
        forti = corpus_file("firewall/acidjunk__fortigate-config-parser/example.conf")
        marker = base / "dropped-once"
        tools = base / "tools"  # borg's and restic's caches stay here, not in /root
        env = {"BORG_BASE_DIR": f"{tools}/borg", "RESTIC_CACHE_DIR": f"{tools}/restic"}
        set_env = "SetEnv " + " ".join(f"{k}={v}" for k, v in env.items()) + "\n"
        servers = {
            "fw01": ("127.0.0.101", wrapper(base / "fw01.sh", {}, holder.pid)),
            "fgt01": ("127.0.0.102", wrapper(base / "fgt01.sh", {"show firewall policy": f"exec cat {forti}"})),
            "pf01": ("127.0.0.103", wrapper(base / "pf01.sh", {"cat /conf/config.xml": f"exec cat {truncated}"})),
            "backup01": ("127.0.0.104", set_env),
            "odd01": (
                "127.0.0.106",
                wrapper(
                    base / "odd01.sh",
                    {
                        "ss -Htulnp": "exec sleep 600",
                        "ip6tables-save": "exec head -c 3000000 /dev/zero",
                        "getent passwd": f"[ -e {marker} ] || {{ touch {marker}; exec sleep 30; }}",
                    },
                ),
            ),
        }
        with ExitStack() as stack:
            # root's sessions use /bin/sh: bash would read this machine's ~/.bashrc before every command
            peers = {
                name: stack.enter_context(
                    running_sshd(
                        base / f"sshd-{name}", ip, authorized_keys={"root": [public]}, extra_config=config, root_shell="/bin/sh"
                    )
                )
                for name, (ip, config) in servers.items()
            }
            yield {
                "base": base,
                "key": key,
                "peers": peers,
                "marker": marker,
                "env": env,
                "known_hosts": write_known_hosts(base / "known_hosts", *peers.values()),
            }
    finally:
        holder.kill()
        holder.wait()


def repositories(base: Path, env: dict[str, str]) -> tuple[Path, Path, Path, list[date]]:
    """A borg repository backed up on two of three nights, a restic one on all three, and a wrapper's report."""
    borg, restic = tool("borg"), tool("restic")
    full = {**os.environ, **env, "BORG_PASSPHRASE": PASSPHRASE, "RESTIC_PASSWORD": PASSPHRASE, "TZ": "UTC"}
    data = base / "data"
    data.mkdir(exist_ok=True)
    (data / "klanten.csv").write_text("klant,contract\nKlantcontact Demo BV,2026-01\n")
    nights = [date.today() - timedelta(days=n) for n in (3, 2, 1)]
    borg_repo, restic_repo, report = base / "borg-repo", base / "restic-repo", base / "backup-report.jsonl"
    if not borg_repo.exists():
        checked(full, borg, "init", "--encryption=repokey-blake2", borg_repo)
        for night in (nights[0], nights[2]):  # the second night the job did not run
            checked(full, borg, "create", "--timestamp", f"{night}T22:00:00", f"{borg_repo}::fs01-{night}", data)
        checked(full, restic, "-r", restic_repo, "init")
        for night in nights:
            checked(full, restic, "-r", restic_repo, "backup", "--host", "web01", "--time", f"{night} 22:30:00", data)
        report.write_text(
            "".join(
                json.dumps({"time": f"{night}T23:00:00+00:00", "result": result, "job": "nas-sync"}) + "\n"
                for night, result in zip(nights, ("success", "failure", "success"), strict=True)
            )
        )
    return borg_repo, restic_repo, report, nights


def host_line(site, name: str, peer_name: str | None = None, **extra: object) -> str:
    """One inventory host reached over SSH as root with the test key; `peer_name` when it is another host's sshd."""
    peer = site["peers"][peer_name or name]
    fields = {
        "ansible_host": peer.address,
        "ansible_port": peer.port,
        "ansible_user": "root",
        "ansible_connection": "ssh",
        "ansible_ssh_private_key_file": str(site["key"]),
        "auditpack_ssh_known_hosts": str(site["known_hosts"]),
        "auditpack_roles": ["server"],
        **extra,
    }
    return f"    {name}: {json.dumps(fields)}\n"


def inventory(site, extra_hosts: str = "") -> bytes:
    firewall = {"auditpack_roles": ["firewall"]}
    return (
        "all:\n  hosts:\n"
        + host_line(site, "fw01", auditpack_firewall_wan=["eth0"], **firewall)
        + host_line(site, "fgt01", auditpack_firewall_type="fortigate", **firewall)
        + host_line(site, "pf01", auditpack_firewall_type="pfsense", **firewall)
        + extra_hosts
    ).encode()


def collect(host, seconds: float = 120) -> dict[str, list]:
    found: dict[str, list] = {}
    for obs in SshCollector().collect(host, CollectContext(time.monotonic() + seconds, "tester")):
        found.setdefault(obs.kind, []).append(obs)
    return found


def test_linux_perimeter_firewall_gives_its_real_ruleset_and_host_facts(site):
    [host] = [h for h in parse_inventory(inventory(site)).hosts if h.name == "fw01"]
    found = collect(host)
    sent = [obs.command for items in found.values() for obs in items if obs.kind != "ssh.connection"]
    assert all(CommandGuard.for_collector(SshCollector()).allows(c) for c in sent)  # read-only, by the list
    [conn] = found["ssh.connection"]
    assert conn.normalized["host_key"].endswith(site["peers"]["fw01"].fingerprint) and not conn.errors
    [nft] = found["host_firewall.nftables"]
    assert nft.status == "ok" and nft.normalized["defaults"]["forward"] == {"ipv4": "drop", "ipv6": "drop"}
    assert nft.normalized["rule_count"] == 10
    [rules] = found["firewall.ruleset"]
    ruleset = rules.normalized
    assert (ruleset["device"], ruleset["default_inbound"], ruleset["default_outbound"]) == ("fw01", "drop", "drop")
    outbound = sorted((r["interface"], r["service"], r["description"]) for r in ruleset["rules"] if r["direction"] == "out")
    assert outbound == [
        ("any", "udp/53", ""),
        ("eth1->eth0", "tcp/25", "old mail relay"),
        ("eth1->eth0", "tcp/443", "CRM over HTTPS"),
        ("eth1->eth0", "udp/53", "DNS"),
    ]
    assert [r["service"] for r in ruleset["rules"] if r["direction"] == "in"] == ["tcp/22"]
    assert rules.raw == nft.raw and rules.started == nft.started  # one answer, evidence of two kinds
    accounts = {a["name"]: a for a in found["accounts.local"][0].normalized}
    assert accounts["root"]["uid"] == 0 and accounts["root"]["login_shell"]
    groups = found["accounts.admin_groups"][0].normalized
    assert "root" in groups and set(groups) <= {"sudo", "wheel", "admin", "root"}
    assert found["network.listening"][0].status == "ok"  # a fresh namespace listens on nothing
    assert found["network.listening"][0].normalized == []
    [av] = found["av.host_status"]
    if shutil.which("clamscan") is None:
        assert av.status == "absent" and "not installed" in av.errors[0]


def test_appliances_are_read_from_their_configuration_and_a_broken_one_is_kept_raw(site):
    hosts = {h.name: h for h in parse_inventory(inventory(site)).hosts}
    [forti] = collect(hosts["fgt01"])["firewall.ruleset"]
    assert forti.status == "ok" and forti.command == "show firewall policy"
    assert forti.raw == corpus_file("firewall/acidjunk__fortigate-config-parser/example.conf").read_bytes()
    assert (forti.normalized["device"], forti.normalized["default_outbound"]) == ("fgt01", "drop")
    assert len(forti.normalized["rules"]) > 0
    pf = collect(hosts["pf01"])
    assert set(pf) == {"ssh.connection", "firewall.ruleset"}  # an appliance gets no Linux commands
    [broken] = pf["firewall.ruleset"]
    assert broken.status == "garbled" and broken.normalized is None and "could not be read" in broken.errors[0]
    assert broken.raw == (site["base"] / "pfsense-truncated.xml").read_bytes()  # stored raw, flagged, not dropped


def test_backups_and_retention_from_real_repositories_over_ssh(site, monkeypatch):
    borg_repo, restic_repo, report, nights = repositories(site["base"], site["env"])
    old = site["base"] / "klantdata"
    (old / "2024").mkdir(parents=True, exist_ok=True)
    for n, age in enumerate((10, 40, 200)):
        path = old / "2024" / f"gesprek-{n}.wav"
        path.write_bytes(b"RIFF")
        stamp = time.time() - age * 86400
        os.utime(path, (stamp, stamp))
    monkeypatch.setenv("AUDITPACK_TEST_BACKUP_PASS", PASSPHRASE)
    backups = [
        {
            "tool": "borg",
            "repository": str(borg_repo),
            "server": "fs01",
            "job": "nightly",
            "passphrase": "env:AUDITPACK_TEST_BACKUP_PASS",
        },
        {"tool": "restic", "repository": str(restic_repo), "passphrase": "env:AUDITPACK_TEST_BACKUP_PASS"},
        {"tool": "log", "repository": str(report), "server": "nas01"},
        {"tool": "borg", "repository": str(borg_repo), "passphrase": "env:AUDITPACK_TEST_NOT_SET"},
    ]
    extra = {"auditpack_backups": backups, "auditpack_data_paths": [str(old), str(site["base"] / "no-such-dir")]}
    line = host_line(site, "backup01", **extra, auditpack_roles=["backup_server", "file_server"])
    [host] = parse_inventory(f"all:\n  hosts:\n{line}".encode()).hosts
    found = collect(host)
    borg, restic, log, unread = found["backup.runs"]
    assert unread.status == "error" and unread.errors == [
        "passphrase not available: environment variable AUDITPACK_TEST_NOT_SET is not set"
    ]
    assert borg.status == "ok", borg.errors
    assert [(r["server"], r["job"], r["started"][:10], r["result"]) for r in borg.normalized["runs"]] == [
        ("fs01", "nightly", str(nights[0]), "success"),
        ("fs01", "nightly", str(nights[2]), "success"),
    ]
    assert restic.status == "ok" and [r["started"][:10] for r in restic.normalized["runs"]] == [str(n) for n in nights]
    assert [r["result"] for r in log.normalized["runs"]] == ["success", "failure", "success"]
    for item in (borg, restic):
        assert PASSPHRASE.encode() not in item.command.encode() + item.raw  # sent on stdin, never shown
    kept, missing = found["retention.files"]
    [location] = kept.normalized["locations"]
    assert (location["file_count"], location["older_than_limit"]) == (3, 1)
    oldest = datetime.fromisoformat(location["oldest_mtime"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - oldest).days - 200) <= 1
    assert missing.status == "error" and "No such file" in missing.errors[0]


def test_faults_are_recorded_and_the_run_goes_on(site, store, monkeypatch):
    monkeypatch.setattr(ssh, "MAX_OUTPUT", 1 << 20)
    peers, base = site["peers"], site["base"]
    wrong_keys = base / "known_hosts_wrong"  # fw01's name with fgt01's key: what an impostor would present
    wrong_keys.write_text(
        peers["fgt01"].known_hosts_line().replace(peers["fgt01"].known_hosts_name, peers["fw01"].known_hosts_name)
    )
    other_key, _ = make_client_key(base / "id_not_authorized")
    fresh_known = base / "known_hosts_tofu"
    fresh_known.unlink(missing_ok=True)

    extra = (
        host_line(site, "imposter", "fw01", auditpack_ssh_known_hosts=str(wrong_keys))
        + host_line(site, "stranger", "fw01", ansible_ssh_private_key_file=str(other_key))
        + host_line(site, "firsttime", "fw01", auditpack_ssh_trust_on_first_use=True, auditpack_ssh_known_hosts=str(fresh_known))
        + host_line(site, "odd01", auditpack_command_timeout=3)
        + f'    gone: {{"ansible_host": "127.0.0.105", "ansible_port": {refused_port("127.0.0.105")}, '
        f'"ansible_connection": "ssh", "auditpack_roles": ["server"]}}\n'
    )
    inv = parse_inventory(inventory(site, extra))

    def drop_when_the_command_waits() -> None:  # the connection dies under `getent passwd`, once
        deadline = time.monotonic() + 60
        while not site["marker"].exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        peers["odd01"].kill_sessions()

    dropper = threading.Thread(target=drop_when_the_command_waits)
    dropper.start()
    result = run_collection(store, inv, inv.hosts, "tester", workers=4)
    dropper.join()
    outcome = {o.host: o for o in result.outcomes}
    assert outcome["gone"].status == "unreachable" and "refused" in " ".join(outcome["gone"].errors)
    assert {outcome[h].status for h in ("fw01", "fgt01", "imposter", "stranger", "firsttime", "odd01")} <= {"ok", "partial"}

    def items(host: str) -> dict[str, list]:
        found: dict[str, list] = {}
        for record in store.items(host=host):
            found.setdefault(record.kind, []).append(record)
        return found

    [mismatch] = items("imposter")["ssh.connection"]
    assert mismatch.status == "error" and "host key" in mismatch.errors[0].lower()
    assert "mismatch" in mismatch.errors[0].lower() or "does not match" in mismatch.errors[0].lower()
    assert set(items("imposter")) == {"host.reachability", "ssh.connection"}  # nothing sent to a host that is not who it says
    [refused] = items("stranger")["ssh.connection"]
    assert refused.status == "error" and "auth" in refused.errors[0].lower()
    [trusted] = items("firsttime")["ssh.connection"]
    assert trusted.status == "ok" and "trusted on first use" in trusted.errors[0]
    assert peers["fw01"].known_hosts_line().split()[2] in fresh_known.read_text()
    odd = items("odd01")
    [slow] = odd["network.listening"]
    assert slow.status == "timeout" and "did not finish within 3 s" in slow.errors[0]
    [big] = odd["host_firewall.ip6tables"]
    assert big.status == "error" and "exceeded" in big.errors[0] and big.raw_size == 1 << 20
    [again] = odd["accounts.local"]
    assert again.status == "ok" and "ran again on a new connection" in again.errors[0]
    assert odd["accounts.admin_groups"][0].status == "ok"  # the steps after each fault still ran
    assert store.verify().ok


def test_t_fwp_from_collection_to_verdict_with_the_egress_register(site, store, tmp_path):
    register = tmp_path / "egress-register.yaml"
    register.write_text(EGRESS_REGISTER)
    import_egress_register(store, register, "tester")
    inv = parse_inventory(inventory(site))
    fw01 = [h for h in inv.hosts if h.name == "fw01"]
    run_collection(store, inv, fw01, "tester")
    today = datetime.now(UTC)
    period = Period(datetime(today.year, 1, 1, tzinfo=UTC), datetime(today.year + 1, 1, 1, tzinfo=UTC))
    [result] = evaluate_controls(store, period, control_ids=["T-FWP"])
    assert result.status == Status.NOT_EFFECTIVE
    [deviation] = result.deviations
    assert deviation.code == "fwp.unjustified" and "tcp/25" in deviation.text("en")
    assert {ref.kind for ref in result.evidence} == {
        "firewall.ruleset",
        "host_firewall.nftables",
        "host_firewall.iptables",
        "host_firewall.ip6tables",
        "register.egress",
    }
