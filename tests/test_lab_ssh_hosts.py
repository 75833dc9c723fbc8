"""The lab's backup server and perimeter firewall, built from the company and read by the real SSH collector.

Real: borg repositories with a year of back-dated archives, the wrapper's reports, an nftables
ruleset in a network namespace of its own, two sshd peers on 127.0.4.30-31, the SSH collector,
the egress register import and the evaluators of T-FWP, T-BAK-1 and T-BAK-4. fs01 and dc01 are
in the inventory (their roles make the populations) but unreachable: their own evidence is not
what this test is about.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from auditpack.controls.evaluate import evaluate_controls
from auditpack.controls.result import Status
from auditpack.imports import import_egress_register
from auditpack.inventory import parse_inventory
from auditpack.periods import Period
from auditpack.runner import run_collection
from auditpack.store import EvidenceStore
from auditpack_lab import layout
from auditpack_lab.backup_server import BackupServer, backup_sshd_config, borg_unavailable, build_backup_server, success_days
from auditpack_lab.company import build_company
from auditpack_lab.firewall import egress_register_yaml, firewall_namespace, inventory_vars
from auditpack_lab.inventory import ssh_account, sudoers_of
from auditpack_lab.peers.netns import netns_unavailable
from auditpack_lab.peers.sockets import refused_port
from auditpack_lab.peers.sshd import accounts_unavailable, make_client_key, running_sshd, write_known_hosts

SUDO = None if shutil.which("sudo") else "sudo is not installed (scripts/test.sh installs it)"
UNAVAILABLE = accounts_unavailable() or netns_unavailable() or borg_unavailable() or SUDO
pytestmark = pytest.mark.skipif(UNAVAILABLE is not None, reason=str(UNAVAILABLE))

FW01, BACKUP01, FS01, DC01 = "127.0.4.30", "127.0.4.31", "127.0.4.32", "127.0.4.33"
OTHER_ZONE = "Europe/Amsterdam"  # backup01's sshd itself runs in another zone: its sessions must still see UTC


def ssh_host(name: str, address: str, port: int, key: Path, known_hosts: Path, **extra: object) -> str:
    fields = {
        "ansible_host": address,
        "ansible_port": port,
        **ssh_account(),  # the audit account, without root: sudo for exactly the documented commands
        "ansible_connection": "ssh",
        "ansible_ssh_private_key_file": str(key),
        "auditpack_ssh_known_hosts": str(known_hosts),
        **extra,
    }
    return f"    {name}: {json.dumps(fields)}\n"


def inventory_text(fw01, backup01, key: Path, known_hosts: Path, backups: BackupServer) -> str:
    return (
        "all:\n  hosts:\n"
        + ssh_host("fw01", fw01.address, fw01.port, key, known_hosts, **inventory_vars())
        + ssh_host(
            "backup01",
            backup01.address,
            backup01.port,
            key,
            known_hosts,
            auditpack_roles=["backup_server", "server"],
            auditpack_backups=backups.inventory_backups(),
        )
        + ssh_host("fs01", FS01, refused_port(FS01), key, known_hosts, auditpack_roles=["file_server", "server"])
        + ssh_host("dc01", DC01, refused_port(DC01), key, known_hosts, auditpack_roles=["domain_controller"])
    )


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """Both hosts built from the company, served by sshd, collected once into a store."""
    base = tmp_path_factory.mktemp("lab-ssh-hosts")
    company = build_company()
    backups = build_backup_server(company, base / "backup01")
    key, public = make_client_key(base / "id_ed25519")
    with ExitStack() as stack, pytest.MonkeyPatch.context() as patch:
        namespace = stack.enter_context(firewall_namespace(company, base / "fw01"))
        register = base / "egress-register.yaml"
        register.write_text(egress_register_yaml(company))
        account = {"users": {layout.AUDIT_ACCOUNT: ""}, "authorized_keys": {layout.AUDIT_ACCOUNT: [public]}}
        fw01 = stack.enter_context(
            running_sshd(
                base / "sshd-fw01", FW01, netns=namespace.netns, sudoers=sudoers_of("fw01", **inventory_vars()), **account
            )
        )
        patch.setenv("TZ", OTHER_ZONE)  # sshd hands its own TZ to its sessions unless the config sets one
        backup01 = stack.enter_context(
            running_sshd(
                base / "sshd-backup01",
                BACKUP01,
                root_home=str(backups.borg_home),
                sudoers=sudoers_of("backup01", auditpack_backups=backups.inventory_backups()),
                extra_config=backup_sshd_config(),
                **account,
            )
        )
        patch.delenv("TZ")
        known_hosts = write_known_hosts(base / "known_hosts", fw01, backup01)
        text = inventory_text(fw01, backup01, key, known_hosts, backups)
        (base / "inventory.yaml").write_text(text)
        inventory = parse_inventory(text.encode())
        store = EvidenceStore(base / "evidence")
        import_egress_register(store, register, "tester")  # what `auditpack import egress-register` stores
        patch.setenv(layout.BORG_ENV, layout.BORG_PASSPHRASE)
        result = run_collection(store, inventory, inventory.hosts, "tester")
        patch.delenv(layout.BORG_ENV)
        first = datetime.combine(company.first_day, datetime.min.time(), UTC)
        period = Period(first, first + timedelta(days=len(company.days)))
        results = {
            r.control_id: r
            for r in evaluate_controls(store, period, control_ids=["T-FWP", "T-BAK-1", "T-BAK-4"], today=company.today)
        }
        yield {
            "base": base,
            "company": company,
            "backups": backups,
            "store": store,
            "outcomes": {o.host: o for o in result.outcomes},
            "results": results,
            "namespace": namespace,
            "inventory": base / "inventory.yaml",
        }


def backup_items(store: EvidenceStore) -> dict[str, object]:
    """backup01's backup.runs items by the repository or report they read."""
    return {shlex.split(item.command)[-1]: item for item in store.items(kinds=["backup.runs"], host="backup01")}


def test_the_hosts_are_reached_and_the_unlisted_ones_are_not(lab):
    outcomes = lab["outcomes"]
    assert outcomes["fw01"].status == "ok" and outcomes["backup01"].status == "ok", (
        outcomes["fw01"].errors,
        outcomes["backup01"].errors,
    )
    assert outcomes["fs01"].status == outcomes["dc01"].status == "unreachable"
    assert lab["namespace"].alive()  # the ruleset's namespace outlives the collection
    assert lab["backups"].archives == {server: len(success_days(lab["company"], server)) for server in ("fs01", "backup01")}


def test_borg_lists_every_successful_night_at_its_utc_start_over_ssh(lab):
    """borg prints naive local times; the collector keeps them. With the session clock on UTC (sshd's own
    TZ is another zone here) each archive starts exactly when the company's night started, in UTC."""
    company, store = lab["company"], lab["store"]
    items = backup_items(store)
    for server, repository in lab["backups"].repositories.items():
        item = items[str(repository)]
        assert item.status == "ok", item.errors
        runs = store.read_json(item.normalized_sha256)["runs"]
        expected = [n.started.replace(tzinfo=None) for n in company.backups[server] if n.outcome == "success"]
        assert [datetime.fromisoformat(r["started"]) for r in runs] == expected
        assert {(r["server"], r["result"], r["target"]) for r in runs} == {(server, "success", "local")}


def test_t_fwp_flags_exactly_the_rule_without_a_reason(lab):
    result, unjustified = lab["results"]["T-FWP"], lab["company"].known.unjustified_rule
    assert result.status == Status.NOT_EFFECTIVE
    assert [d.code for d in result.deviations] == ["fwp.unjustified"]
    [deviation] = result.deviations
    [ruleset_item] = lab["store"].items(kinds=["firewall.ruleset"], host="fw01")
    rules = {r["id"]: r for r in lab["store"].read_json(ruleset_item.normalized_sha256)["rules"]}
    flagged = rules[deviation.facts["rule"]]
    assert (flagged["description"], flagged["source"], flagged["destination"], flagged["service"]) == (
        unjustified.handle,
        unjustified.source,
        unjustified.destination,
        unjustified.service,
    )
    outbound = {r["description"] for r in rules.values() if r["direction"] == "out"}
    assert outbound == {r.handle for r in lab["company"].firewall_rules}  # every company rule made it, outbound
    assert "register.egress" in {ref.kind for ref in result.evidence}


def test_t_bak_1_deviates_on_the_failed_nights_and_on_the_missed_one(lab):
    company, result = lab["company"], lab["results"]["T-BAK-1"]
    days = set(company.days)
    failed = {d.isoformat() for d in company.known.backup_failures["fs01"] if d in days}
    missed = {d.isoformat() for d in company.known.backup_missed["fs01"] if d in days}
    assert failed and missed
    assert {d.date for d in result.deviations if d.subject == "fs01" and d.code == "bak1.failed"} == failed  # repaired next night
    # a night without any run inside the listings (from fs01's first run to the night before they were read): missed
    assert {d.date for d in result.deviations if d.subject == "fs01" and d.code == "bak1.missed"} == missed
    assert {d.code for d in result.deviations} == {"bak1.failed", "bak1.missed"}
    assert not [g for g in result.gaps if g.subject == "fs01" and g.date in missed]
    assert not [d for d in result.deviations + result.gaps if d.subject == "backup01"]
    # fs01's only backup evidence is what backup01 reports about it: it is still tested, day by day
    assert {"fs01", "backup01", "dc01"} <= set(result.completeness["servers_in_inventory"])
    assert {"fs01", "backup01"} <= set(result.completeness["servers_with_backup_runs"])


def test_t_bak_4_sees_dc01_copied_to_the_cloud_every_day(lab):
    company, result = lab["company"], lab["results"]["T-BAK-4"]
    assert result.status == Status.EFFECTIVE, [d.text("en") for d in result.deviations + result.gaps][:3]
    assert result.population == ["dc01"] and result.tested == len(company.days)
    assert result.completeness["servers_with_backup_runs"] == ["dc01"]


def test_the_passphrase_is_never_on_a_command_line_or_in_the_evidence(lab):
    secret = layout.BORG_PASSPHRASE.encode()
    store, base = lab["store"], lab["base"]
    assert all(secret not in item.command.encode() for item in store.items())
    leaked = [path for path in (base / "evidence").rglob("*") if path.is_file() and secret in path.read_bytes()]
    assert leaked == []
    assert secret not in lab["inventory"].read_bytes()
    logs = list((lab["backups"].root / "var" / "log").rglob("*"))
    assert logs and not [path for path in logs if path.is_file() and secret in path.read_bytes()]
    assert os.environ.get(layout.BORG_ENV) is None


def test_both_hosts_are_audited_as_the_account_without_root_through_the_documented_sudo_lines(lab):
    """Every item of fw01 and backup01 came back, read by svc-auditpack: the commands that need root through
    `sudo -n`, the rest as the account itself, which is no member of an administrators' group."""
    store = lab["store"]
    for host in ("fw01", "backup01"):
        items = [item for item in store.items(host=host) if item.kind != "av.host_status"]  # no ClamAV in the lab
        assert items and {item.status for item in items} == {"ok"}, [(i.command, i.errors) for i in items if i.status != "ok"]
        sudo = {item.command for item in items if "sudo -n" in item.command}
        assert {"sudo -n nft -j list ruleset", "sudo -n iptables-save", "sudo -n ss -Htulnp"} <= sudo
        assert {"getent passwd", "getent group"} <= {item.command for item in items} - sudo
        [passwd] = [item for item in items if item.kind == "accounts.local"]
        account = {a["name"]: a for a in store.read_json(passwd.normalized_sha256)}[layout.AUDIT_ACCOUNT]
        assert account["uid"] != 0
        [groups] = [item for item in items if item.kind == "accounts.admin_groups"]
        admins = store.read_json(groups.normalized_sha256)
        assert all(layout.AUDIT_ACCOUNT not in members for members in admins.values()), admins
    assert len([i for i in store.items(host="backup01", kinds=["backup.runs"]) if i.command.count("sudo -n")]) == 4
