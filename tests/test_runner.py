"""The runner against real loopback peers: refusing, silent, slow and healthy hosts."""

from __future__ import annotations

import time

import pytest

from auditpack.collectors import registry
from auditpack.inventory import parse_inventory
from auditpack.runner import run_collection
from auditpack_lab.peers.sockets import refused_port, silent_server
from auditpack_lab.peers.sshd import running_sshd, sshd_unavailable


def inventory(lines: str):
    return parse_inventory(("all:\n  hosts:\n" + lines).encode())


def test_refused_host_is_recorded_and_the_run_goes_on(store):
    port = refused_port()
    inv = inventory(f"    dead: {{ansible_host: 127.0.0.1, ansible_port: {port}}}\n    localhost:\n")
    result = run_collection(store, inv, inv.hosts, "tester")
    outcome = {o.host: o for o in result.outcomes}
    assert outcome["dead"].status == "unreachable"
    assert outcome["dead"].errors[0].startswith("unreachable: connection refused after ")
    assert outcome["localhost"].items >= 5  # the other host was collected all the same
    assert result.partial and result.body["status"] == "partial"
    [item] = store.items(host="dead")
    assert (item.kind, item.status) == ("host.reachability", "unreachable")
    assert store.read_json(item.normalized_sha256)["port"] == port


def test_silent_host_hits_its_connect_timeout(store):
    with silent_server() as port:
        inv = inventory(f"    hung: {{ansible_host: 127.0.0.1, ansible_port: {port}, auditpack_connect_timeout: 1}}\n")
        began = time.monotonic()
        result = run_collection(store, inv, inv.hosts, "tester")
        took = time.monotonic() - began
    assert result.outcomes[0].status == "unreachable"
    assert result.outcomes[0].errors == ["unreachable: no answer within 1 s"]
    assert 0.9 < took < 5


class StuckCollector:
    """Ignores its deadline, like a library call that hangs in a read without a timeout."""

    name = "stuck"
    transport = "ssh"
    allowed_commands = ()

    def applies_to(self, host):
        return host.name == "slow"

    def collect(self, host, ctx):
        time.sleep(30)
        yield from ()


def test_host_over_its_time_budget_is_cut_off(store, monkeypatch):
    monkeypatch.setattr(registry, "ALL_COLLECTORS", [StuckCollector(), *registry.ALL_COLLECTORS])
    inv = inventory("    slow: {ansible_host: 127.0.0.1, auditpack_timeout: 1}\n    localhost:\n")
    began = time.monotonic()
    result = run_collection(store, inv, inv.hosts, "tester", workers=2)
    took = time.monotonic() - began
    outcome = {o.host: o for o in result.outcomes}
    assert outcome["slow"].status == "timeout"
    assert "timed out after 1 s" in outcome["slow"].errors[-1]
    assert outcome["localhost"].status in ("ok", "partial")
    assert took < 10
    assert [i.kind for i in store.items(host="slow")] == ["host.timeout"]
    assert result.body["hosts"]["slow"]["status"] == "timeout"


def test_reachability_probe_keeps_within_the_host_budget(store):
    with silent_server() as port:
        inv = inventory(
            f"    slow: {{ansible_host: 127.0.0.1, ansible_port: {port}, auditpack_connect_timeout: 30, auditpack_timeout: 2}}\n"
        )
        began = time.monotonic()
        result = run_collection(store, inv, inv.hosts, "tester")
        took = time.monotonic() - began
    assert result.outcomes[0].status in ("unreachable", "timeout")
    assert took < 5


@pytest.mark.skipif(sshd_unavailable() is not None, reason=str(sshd_unavailable()))
def test_real_sshd_is_reachable_and_identified(store, tmp_path):
    with running_sshd(tmp_path / "sshd", "127.0.0.7") as peer:
        inv = inventory(
            f"    fw01: {{ansible_host: {peer.address}, ansible_port: {peer.port}, auditpack_roles: firewall, "
            f"auditpack_ssh_known_hosts: {tmp_path / 'known_hosts'}}}\n"
        )
        result = run_collection(store, inv, inv.hosts, "tester")
    # reachable and identified; the SSH collector then refuses the host key nobody vouched for: a partial run
    assert result.outcomes[0].status == "partial"
    assert "host key" in result.outcomes[0].errors[0] and "known_hosts" in result.outcomes[0].errors[0]
    [item] = store.items(host="fw01", kinds=["host.reachability"])
    facts = store.read_json(item.normalized_sha256)
    assert facts["reachable"] and facts["protocol"] == "2.0" and facts["software"].startswith("OpenSSH_")
    assert store.read_blob(item.raw_sha256).startswith(b"SSH-2.0-OpenSSH_")
    assert result.body["hosts"]["fw01"]["roles"] == ["firewall"]


def test_non_ssh_service_on_the_ssh_port_is_not_mistaken_for_ssh(store):
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer() -> None:
        conn, _ = server.accept()
        conn.sendall(b"220 mail.example ESMTP\r\n")
        conn.close()

    threading.Thread(target=answer, daemon=True).start()
    inv = inventory(f"    smtp: {{ansible_host: 127.0.0.1, ansible_port: {server.getsockname()[1]}}}\n")
    result = run_collection(store, inv, inv.hosts, "tester")
    server.close()
    assert result.outcomes[0].status == "unreachable"
    assert "not as an SSH server" in result.outcomes[0].errors[0]


class ExplodingCollector:
    name = "exploding"
    transport = "local"
    allowed_commands = ()

    def applies_to(self, host):
        return host.connection == "local"

    def collect(self, host, ctx):
        raise RuntimeError("parser bug")
        yield  # pragma: no cover


def test_a_crashing_collector_is_recorded_and_others_still_run(store, monkeypatch):
    monkeypatch.setattr(registry, "ALL_COLLECTORS", [ExplodingCollector(), *registry.ALL_COLLECTORS])
    inv = inventory("    localhost:\n")
    result = run_collection(store, inv, inv.hosts, "tester")
    assert result.outcomes[0].status == "partial"
    kinds = [i.kind for i in store.items()]
    assert "exploding.crash" in kinds and "system.os" in kinds
    crash = next(i for i in store.items() if i.kind == "exploding.crash")
    assert "RuntimeError: parser bug" in crash.errors[0]


def test_many_hosts_run_concurrently(store):
    with silent_server() as port:
        lines = "".join(
            f"    h{i}: {{ansible_host: 127.0.0.1, ansible_port: {port}, auditpack_connect_timeout: 1}}\n" for i in range(8)
        )
        inv = inventory(lines)
        began = time.monotonic()
        result = run_collection(store, inv, inv.hosts, "tester", workers=8)
        took = time.monotonic() - began
    assert len(result.outcomes) == 8 and all(o.status == "unreachable" for o in result.outcomes)
    assert took < 4  # eight one-second waits side by side, not one after another
