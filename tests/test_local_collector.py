"""The local collector on the machine the tests run on."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import psutil

from auditpack.collectors.base import CollectContext
from auditpack.collectors.local import LocalCollector
from auditpack.collectors.parsers.agents import classify_processes
from auditpack.inventory import parse_inventory

LOCALHOST = parse_inventory(b"all:\n  hosts:\n    localhost:\n").hosts[0]


def collect_all():
    ctx = CollectContext(deadline=time.monotonic() + 60, operator="tester")
    return {obs.kind: obs for obs in LocalCollector().collect(LOCALHOST, ctx)}


def test_collects_only_what_it_declares():
    collector = LocalCollector()
    observations = collect_all()
    assert {
        "system.os",
        "accounts.sessions",
        "accounts.local",
        "network.listening",
        "processes.agents",
        "host_firewall.nftables",
        "host_firewall.iptables",
        "host_firewall.ip6tables",
    } == set(observations)
    for obs in observations.values():
        assert obs.command in collector.allowed_commands
        assert obs.started <= obs.ended


def test_system_facts_match_the_machine():
    system = collect_all()["system.os"].normalized
    assert system["hostname"] == socket.gethostname()
    assert abs(system["uptime_seconds"] - (time.time() - psutil.boot_time())) < 5


def test_listening_port_and_its_process_are_seen():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        listening = collect_all()["network.listening"].normalized
    finally:
        server.close()
    mine = [r for r in listening if r["port"] == port and r["protocol"] == "tcp"]
    assert mine and mine[0]["address"] == "127.0.0.1" and mine[0]["process"].startswith("python")


def test_local_accounts_include_root_with_a_login_shell():
    accounts = {a["name"]: a for a in collect_all()["accounts.local"].normalized}
    assert accounts["root"]["uid"] == 0
    assert any(not a["login_shell"] for a in accounts.values())  # system accounts with nologin


def test_a_running_antivirus_daemon_is_recognised(tmp_path):
    fake_named = tmp_path / "clamd"  # a real process whose image name is clamd
    shutil.copy(shutil.which("sleep"), fake_named)
    proc = subprocess.Popen([str(fake_named), "30"])
    try:
        agents = collect_all()["processes.agents"].normalized["agents"]
    finally:
        proc.kill()
    hit = [a for a in agents if a["pid"] == proc.pid]
    assert hit == [
        {"pid": proc.pid, "name": "clamd", "exe": str(fake_named), "category": "antivirus", "product": "ClamAV daemon"}
    ]


def test_agent_names_match_case_and_exe_insensitively():
    found = classify_processes(
        [
            {"pid": 4, "name": "MsMpEng.exe", "exe": None},
            {"pid": 5, "name": "VeeamAgent.exe", "exe": None},
            {"pid": 6, "name": "bash", "exe": "/bin/bash"},
        ]
    )
    assert [(f["pid"], f["category"]) for f in found] == [(4, "antivirus"), (5, "backup")]
