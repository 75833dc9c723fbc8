"""The SSH transport against real OpenSSH servers on loopback addresses 127.0.0.70-99: no mocks.

Logins are as root with per-test authorized keys. Password logins need an account with
a known password; that account exists only inside the test sshd's private mount
namespace (see peers/sshd.py), so the system's accounts are never changed.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from auditpack.collectors.transports.ssh import SshError, SshSession, SshTarget
from auditpack.credentials import Secret
from auditpack_lab.peers.sockets import refused_port, silent_server
from auditpack_lab.peers.sshd import (
    accounts_unavailable,
    make_client_key,
    running_sshd,
    sshd_unavailable,
    write_known_hosts,
)

pytestmark = pytest.mark.skipif(sshd_unavailable() is not None, reason=str(sshd_unavailable()))
needs_accounts = pytest.mark.skipif(accounts_unavailable() is not None, reason=str(accounts_unavailable()))


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """Client key pairs: {name: (private key path, public key line)}."""
    base = tmp_path_factory.mktemp("client-keys")
    return {
        "ed25519": make_client_key(base / "id_ed25519"),
        "rsa": make_client_key(base / "id_rsa", "rsa"),
        "other": make_client_key(base / "id_other"),
    }


def target(
    peer,
    key=None,
    known_hosts=None,
    *,
    user="root",
    password=None,
    tofu=False,
    connect_timeout=3.0,
    jump=None,
    address=None,
    port=None,
) -> SshTarget:
    return SshTarget(
        address=address or peer.address,
        port=port or peer.port,
        user=user,
        key_file=str(key) if key else None,
        password=password,
        known_hosts=str(known_hosts) if known_hosts else None,
        trust_on_first_use=tofu,
        connect_timeout=connect_timeout,
        jump=jump,
    )


def accepted_logins(peer) -> int:
    return peer.log.read_text(errors="replace").count("Accepted ")


def processes_with_cmdline(*argv: str) -> list[int]:
    wanted = ("\0".join(argv) + "\0").encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes() == wanted:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def when_file_appears(path: Path, action, times: int = 1, limit: float = 20.0) -> threading.Thread:
    """In the background: each time `path` gains a line (the remote command started again), run `action`."""

    def watch() -> None:
        seen, deadline = 0, time.monotonic() + limit
        while seen < times and time.monotonic() < deadline:
            lines = len(path.read_text().splitlines()) if path.exists() else 0
            if lines > seen:
                seen = lines
                time.sleep(0.2)  # let the command reach its sleep
                action()
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


# --- commands ---------------------------------------------------------------------------------------


def test_command_output_exit_code_and_stdin(tmp_path, keys):
    key, pub = keys["ed25519"]
    with running_sshd(tmp_path / "sshd", "127.0.0.70", authorized_keys={"root": [pub]}) as peer:
        known = write_known_hosts(tmp_path / "known_hosts", peer)
        with SshSession(target(peer, key, known)) as session:
            result = session.run("printf 'out\\n'; printf 'err\\n' >&2; exit 3", timeout=10)
            echoed = session.run("wc -c", timeout=10, stdin=b"twelve bytes")
            quiet = session.run("cat", timeout=10)  # stdin is closed: a reader does not hang
            assert session.host_key == f"ssh-ed25519 {peer.fingerprint}"
            assert session.trusted_on_first_use is False
    assert (result.stdout, result.stderr, result.exit_code, result.truncated) == (b"out\n", b"err\n", 3, False)
    assert result.retried is False and 0 < result.seconds < 10
    assert echoed.stdout.strip() == b"12" and echoed.exit_code == 0
    assert quiet.stdout == b"" and quiet.exit_code == 0


def test_rsa_key_and_a_known_rsa_host_key_among_several(tmp_path, keys):
    """The server offers ed25519 and RSA host keys; known_hosts holds only the RSA one, which must be asked for."""
    key, pub = keys["rsa"]
    rsa_host_key = tmp_path / "rsa_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(rsa_host_key)], check=True)
    with running_sshd(
        tmp_path / "sshd", "127.0.0.71", authorized_keys={"root": [pub]}, extra_config=f"HostKey {rsa_host_key}\n"
    ) as peer:
        kind, blob = (tmp_path / "rsa_host_key.pub").read_text().split()[:2]
        known = tmp_path / "known_hosts"
        known.write_text(f"{peer.known_hosts_name} {kind} {blob}\n")
        with SshSession(target(peer, key, known)) as session:
            whoami = session.run("id -un", timeout=10)
            shown = session.host_key
    expected = subprocess.run(
        ["ssh-keygen", "-lf", str(tmp_path / "rsa_host_key.pub")], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    assert shown == f"ssh-rsa {expected}"
    assert whoami.stdout == b"root\n"


def test_output_on_both_streams_beyond_the_channel_window_does_not_deadlock(tmp_path, keys):
    key, pub = keys["ed25519"]
    with running_sshd(tmp_path / "sshd", "127.0.0.70", authorized_keys={"root": [pub]}) as peer:
        known = write_known_hosts(tmp_path / "known_hosts", peer)
        with SshSession(target(peer, key, known)) as session:
            # 5 MB on stderr first, then stdout: more than paramiko's 2 MB window, so stderr must be read meanwhile
            result = session.run("head -c 5000000 /dev/zero >&2; head -c 3000000 /dev/zero", timeout=30)
    assert len(result.stderr) == 5_000_000 and len(result.stdout) == 3_000_000
    assert result.exit_code == 0 and not result.truncated


def test_output_beyond_the_bound_is_truncated_at_the_bound(tmp_path, keys):
    key, pub = keys["ed25519"]
    with running_sshd(tmp_path / "sshd", "127.0.0.81", authorized_keys={"root": [pub]}) as peer:
        known = write_known_hosts(tmp_path / "known_hosts", peer)
        with SshSession(target(peer, key, known)) as session:
            began = time.monotonic()
            result = session.run("head -c 50000000 /dev/zero", timeout=60, max_output=1_000_000)
            took = time.monotonic() - began
            after = session.run("echo still here", timeout=10)
    assert result.truncated is True
    assert len(result.stdout) == 1_000_000 and set(result.stdout) == {0}
    assert result.exit_code is None  # cut off: no exit status to report
    assert took < 10  # stopped reading; did not take in 50 MB
    assert after.stdout == b"still here\n"


def test_command_that_never_ends_times_out_within_the_limit(tmp_path, keys):
    key, pub = keys["ed25519"]
    with running_sshd(tmp_path / "sshd", "127.0.0.80", authorized_keys={"root": [pub]}) as peer:
        known = write_known_hosts(tmp_path / "known_hosts", peer)
        with SshSession(target(peer, key, known)) as session:
            began = time.monotonic()
            with pytest.raises(SshError) as caught:
                session.run("sleep 600", timeout=1.5)
            took = time.monotonic() - began
            after = session.run("echo next", timeout=10)
            # sshd will not signal a root session's processes (see the next test): end the sleep here, while
            # it is still this peer's descendant, rather than leave it to outlive the test
            for pid in set(peer.session_pids()) & set(processes_with_cmdline("sleep", "600")):
                os.kill(pid, signal.SIGKILL)
    assert "'sleep 600' did not finish within 1.5 s" in str(caught.value)
    assert 1.4 < took < 4
    assert not caught.value.fatal and not caught.value.unreachable  # the session goes on
    assert after.stdout == b"next\n"


@needs_accounts
def test_timed_out_command_is_stopped_on_the_server(tmp_path, keys):
    """sshd honours the 'signal' request only for sessions of accounts other than root (privilege separation)."""
    key, pub = keys["ed25519"]
    seconds = str(random.randint(100_000, 999_999))
    with running_sshd(tmp_path / "sshd", "127.0.0.80", users={"auditor": ""}, authorized_keys={"auditor": [pub]}) as peer:
        known = write_known_hosts(tmp_path / "known_hosts", peer)
        with SshSession(target(peer, key, known, user="auditor")) as session:
            with pytest.raises(SshError, match="did not finish within 1 s"):
                session.run(f"exec sleep {seconds}", timeout=1)
            deadline = time.monotonic() + 5
            while processes_with_cmdline("sleep", seconds) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert processes_with_cmdline("sleep", seconds) == []


# --- authentication ---------------------------------------------------------------------------------


@needs_accounts
def test_password_login_and_wrong_password(tmp_path, keys):
    with running_sshd(tmp_path / "sshd", "127.0.0.72", users={"auditor": "Juist-Wachtwoord-7"}, password_auth=True) as peer:
        known = write_known_hosts(tmp_path / "known_hosts", peer)
        with SshSession(target(peer, None, known, user="auditor", password=Secret("Juist-Wachtwoord-7"))) as session:
            whoami = session.run("id -un", timeout=10)
        with pytest.raises(SshError) as wrong:
            SshSession(target(peer, None, known, user="auditor", password=Secret("Fout-Wachtwoord-8")))
        other, _ = keys["other"]  # a key the account does not have: the password is tried next
        with SshSession(target(peer, other, known, user="auditor", password=Secret("Juist-Wachtwoord-7"))) as session:
            fallback = session.run("id -un", timeout=10)
    assert whoami.stdout == b"auditor\n" and fallback.stdout == b"auditor\n"
    assert wrong.value.fatal and not wrong.value.unreachable
    assert "authentication as auditor refused" in str(wrong.value) and "password not accepted" in str(wrong.value)
    assert "Fout-Wachtwoord-8" not in str(wrong.value) and "Wachtwoord" not in repr(wrong.value.args)


def test_password_refused_plainly_when_the_server_takes_keys_only(tmp_path, keys):
    _, pub = keys["ed25519"]
    with running_sshd(tmp_path / "sshd", "127.0.0.72", authorized_keys={"root": [pub]}) as peer:
        known = write_known_hosts(tmp_path / "known_hosts", peer)
        with pytest.raises(SshError) as caught:
            SshSession(target(peer, None, known, password=Secret("Geheim-Root-9")))
    message = str(caught.value)
    assert caught.value.fatal and not caught.value.unreachable
    assert "authentication as root refused" in message and "does not take passwords" in message
    assert "publickey" in message and "Geheim-Root-9" not in message


def test_wrong_missing_or_locked_key_refused(tmp_path, keys):
    _, pub = keys["ed25519"]
    other, _ = keys["other"]
    locked = tmp_path / "locked_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "a passphrase", "-f", str(locked)], check=True)
    with running_sshd(tmp_path / "sshd", "127.0.0.76", authorized_keys={"root": [pub]}) as peer:
        known = write_known_hosts(tmp_path / "known_hosts", peer)
        with pytest.raises(SshError) as wrong:
            SshSession(target(peer, other, known))
        with pytest.raises(SshError) as missing:
            SshSession(target(peer, tmp_path / "no_such_key", known))
        with pytest.raises(SshError) as passphrase:
            SshSession(target(peer, locked, known))
        with pytest.raises(SshError) as public_half:
            SshSession(target(peer, f"{other}.pub", known))
        logins = accepted_logins(peer)
    assert wrong.value.fatal and not wrong.value.unreachable
    assert f"authentication as root refused by {peer.address}:{peer.port}" in str(wrong.value)
    assert f"key {other} not accepted" in str(wrong.value)
    assert missing.value.fatal and "no_such_key not found" in str(missing.value)
    assert passphrase.value.fatal and "protected by a passphrase" in str(passphrase.value)
    assert public_half.value.fatal and "is not a private key" in str(public_half.value)
    assert logins == 0


# --- host keys --------------------------------------------------------------------------------------


def test_unknown_host_key_refused_by_default(tmp_path, keys, monkeypatch):
    key, pub = keys["ed25519"]
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the default ~/.ssh/known_hosts, without touching root's
    with (
        running_sshd(tmp_path / "sshd", "127.0.0.73", authorized_keys={"root": [pub]}) as peer,
        running_sshd(tmp_path / "elsewhere", "127.0.0.73", authorized_keys={"root": [pub]}) as elsewhere,
    ):
        known = write_known_hosts(tmp_path / "known_hosts", elsewhere)  # another host's key only
        before = known.read_bytes()
        with pytest.raises(SshError) as caught:
            SshSession(target(peer, key, known))
        with pytest.raises(SshError) as default_file:
            SshSession(target(peer, key, None))
        logins = accepted_logins(peer)
    assert caught.value.fatal and not caught.value.unreachable
    assert f"host key of {peer.address}:{peer.port} is unknown (ssh-ed25519 {peer.fingerprint}" in str(caught.value)
    assert str(known) in str(caught.value)
    assert known.read_bytes() == before
    assert str(tmp_path / "home" / ".ssh" / "known_hosts") in str(default_file.value)
    assert not (tmp_path / "home" / ".ssh").exists()
    assert logins == 0  # refused before any credential was offered


def test_hashed_names_bad_lines_and_revoked_keys_in_known_hosts(tmp_path, keys):
    from paramiko import HostKeys

    key, pub = keys["ed25519"]
    with running_sshd(tmp_path / "sshd", "127.0.0.73", authorized_keys={"root": [pub]}) as peer:
        kind, blob = peer.host_key_pub.split()[:2]
        garbage = (
            "# comment\nbroken ssh-ed25519 !!!\n|1|bad|salt ssh-ed25519 AAAA\n"
            "@cert-authority *.test ssh-ed25519 AAAA\nshort line\n"
        )
        hashed = tmp_path / "hashed"
        hashed.write_text(garbage + f"{HostKeys.hash_host(peer.known_hosts_name)} {kind} {blob}\n")
        with SshSession(target(peer, key, hashed)) as session:
            verified = (session.host_key, session.trusted_on_first_use)
        revoked = tmp_path / "revoked"
        revoked.write_text(peer.known_hosts_line() + f"@revoked * {kind} {blob}\n")
        with pytest.raises(SshError) as caught:
            SshSession(target(peer, key, revoked, tofu=True))
    assert verified == (f"ssh-ed25519 {peer.fingerprint}", False)
    assert caught.value.fatal and "is marked @revoked" in str(caught.value) and peer.fingerprint in str(caught.value)


def test_trust_on_first_use_accepts_records_and_then_verifies(tmp_path, keys):
    key, pub = keys["ed25519"]
    known = tmp_path / "not-yet" / "known_hosts"
    with running_sshd(tmp_path / "sshd", "127.0.0.74", authorized_keys={"root": [pub]}) as peer:
        with SshSession(target(peer, key, known, tofu=True)) as first:
            first_key, first_tofu = first.host_key, first.trusted_on_first_use
            assert first.run("true", timeout=10).exit_code == 0
        written = known.read_text()
        with SshSession(target(peer, key, known, tofu=True)) as second:
            second_tofu = second.trusted_on_first_use
        with SshSession(target(peer, key, known, tofu=False)) as strict:
            strict_key = strict.host_key
    assert first_tofu is True and first_key == f"ssh-ed25519 {peer.fingerprint}"
    assert written == peer.known_hosts_line()
    assert second_tofu is False  # verified against the recorded key, not trusted again
    assert known.read_text() == written  # nothing added the second time
    assert strict_key == first_key


def test_trust_on_first_use_uses_the_default_known_hosts(tmp_path, keys, monkeypatch):
    key, pub = keys["ed25519"]
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with (
        running_sshd(tmp_path / "sshd", "127.0.0.74", authorized_keys={"root": [pub]}) as peer,
        SshSession(target(peer, key, None, tofu=True)) as session,
    ):
        assert session.trusted_on_first_use
    default = tmp_path / "home" / ".ssh" / "known_hosts"
    assert default.read_text() == peer.known_hosts_line()
    assert (default.parent.stat().st_mode & 0o777) == 0o700


def test_changed_host_key_refused_even_with_trust_on_first_use(tmp_path, keys):
    key, pub = keys["ed25519"]
    known = tmp_path / "known_hosts"
    with running_sshd(tmp_path / "before", "127.0.0.75", authorized_keys={"root": [pub]}) as before:
        port, old_fingerprint = before.port, before.fingerprint
        with SshSession(target(before, key, known, tofu=True)) as session:
            assert session.trusted_on_first_use
    recorded = known.read_bytes()
    with running_sshd(tmp_path / "after", "127.0.0.75", port=port, authorized_keys={"root": [pub]}) as after:
        assert after.fingerprint != old_fingerprint
        with pytest.raises(SshError) as caught:
            SshSession(target(after, key, known, tofu=True))
        logins = accepted_logins(after)
    message = str(caught.value)
    assert caught.value.fatal and not caught.value.unreachable
    assert f"host key of 127.0.0.75:{port} does not match {known}" in message
    assert after.fingerprint in message and old_fingerprint in message
    assert known.read_bytes() == recorded  # the changed key was not written
    assert logins == 0


# --- dropped connections ----------------------------------------------------------------------------


def test_connection_dropped_mid_command_is_retried_once_on_a_new_connection(tmp_path, keys):
    key, pub = keys["ed25519"]
    marker = tmp_path / "attempts"
    with running_sshd(tmp_path / "sshd", "127.0.0.77", authorized_keys={"root": [pub]}) as peer:
        known = write_known_hosts(tmp_path / "known_hosts", peer)
        with SshSession(target(peer, key, known)) as session:
            killed: list[int] = []
            when_file_appears(marker, lambda: killed.append(peer.kill_sessions()))
            result = session.run(
                f"echo attempt >> {marker}; if [ $(wc -l < {marker}) -gt 1 ]; then echo second; else sleep 30; fi", timeout=20
            )
            after = session.run("echo same session", timeout=10)
        logins = accepted_logins(peer)
    assert killed and killed[0] > 0
    assert result.retried is True and result.stdout == b"second\n" and result.exit_code == 0
    assert result.seconds < 15
    assert marker.read_text() == "attempt\nattempt\n"  # run twice: once cut off, once on the new connection
    assert logins == 2
    assert after.stdout == b"same session\n"


def test_connection_dropped_twice_is_reported_unreachable_after_one_retry(tmp_path, keys):
    key, pub = keys["ed25519"]
    marker = tmp_path / "attempts"
    with running_sshd(tmp_path / "sshd", "127.0.0.78", authorized_keys={"root": [pub]}) as peer:
        known = write_known_hosts(tmp_path / "known_hosts", peer)
        with SshSession(target(peer, key, known)) as session:
            watcher = when_file_appears(marker, peer.kill_sessions, times=3)
            began = time.monotonic()
            with pytest.raises(SshError) as caught:
                session.run(f"echo attempt >> {marker}; sleep 30", timeout=20)
            took = time.monotonic() - began
            with pytest.raises(SshError) as later:
                session.run("echo anything", timeout=10)
            watcher.join(1)
        logins = accepted_logins(peer)
    message = str(caught.value)
    assert caught.value.unreachable and caught.value.fatal
    assert f"connection to {peer.address}:{peer.port} lost while running" in message
    assert "retried once on a new connection and lost again" in message
    assert marker.read_text() == "attempt\nattempt\n" and logins == 2  # exactly one retry
    assert took < 15
    assert later.value.unreachable and "retried once" in str(later.value)  # no further reconnects


def test_connection_dropped_and_server_gone_reports_the_failed_retry(tmp_path, keys):
    key, pub = keys["ed25519"]
    marker = tmp_path / "attempts"
    with running_sshd(tmp_path / "sshd", "127.0.0.79", authorized_keys={"root": [pub]}) as peer:
        known = write_known_hosts(tmp_path / "known_hosts", peer)
        with SshSession(target(peer, key, known)) as session:
            when_file_appears(marker, peer.stop)
            with pytest.raises(SshError) as caught:
                session.run(f"echo attempt >> {marker}; sleep 30", timeout=20)
    message = str(caught.value)
    assert caught.value.unreachable
    assert "lost while running" in message and "retried once on a new connection, which failed" in message
    assert "connection refused" in message
    assert marker.read_text() == "attempt\n"


# --- unreachable hosts ------------------------------------------------------------------------------


def test_refused_and_silent_ports_are_unreachable_within_the_connect_timeout(tmp_path, keys):
    key, _ = keys["ed25519"]
    known = tmp_path / "known_hosts"
    dead = refused_port("127.0.0.86")
    with pytest.raises(SshError) as refused:
        SshSession(SshTarget("127.0.0.86", dead, "root", str(key), None, str(known), False, 2.0))
    with silent_server("127.0.0.86") as port:
        began = time.monotonic()
        with pytest.raises(SshError) as silent:
            SshSession(SshTarget("127.0.0.86", port, "root", str(key), None, str(known), False, 1.0))
        took = time.monotonic() - began
    assert refused.value.unreachable and f"cannot reach 127.0.0.86:{dead}: connection refused" in str(refused.value)
    assert silent.value.unreachable and "sent no SSH banner within 1 s" in str(silent.value)
    assert took < 3


# --- jump hosts -------------------------------------------------------------------------------------


@needs_accounts
def test_jump_host_reaches_a_host_only_it_can_resolve(tmp_path, keys):
    key, pub = keys["ed25519"]
    with (
        running_sshd(tmp_path / "inner", "127.0.0.83", authorized_keys={"root": [pub]}) as inner,
        running_sshd(
            tmp_path / "jump", "127.0.0.82", authorized_keys={"root": [pub]}, hosts={"inner.auditpack.test": "127.0.0.83"}
        ) as jump,
    ):
        with pytest.raises(socket.gaierror):
            socket.getaddrinfo("inner.auditpack.test", inner.port)  # only the jump host knows this name
        known = write_known_hosts(tmp_path / "known_hosts", jump)
        with open(known, "a") as f:
            f.write(inner.known_hosts_line("inner.auditpack.test"))
        via = target(jump, key, known)
        with SshSession(target(inner, key, known, address="inner.auditpack.test", jump=via)) as session:
            result = session.run("echo $SSH_CONNECTION", timeout=10)
            host_key, hops = session.host_key, session.hops
        jump_logins, inner_logins = accepted_logins(jump), accepted_logins(inner)
    assert result.stdout.split()[2:] == [b"127.0.0.83", str(inner.port).encode()]
    assert host_key == f"ssh-ed25519 {inner.fingerprint}"  # the key of the host reached, not of the jump host
    assert [h["host_key"] for h in hops] == [f"ssh-ed25519 {jump.fingerprint}", host_key]
    assert (jump_logins, inner_logins) == (1, 1)


def test_failing_jump_hosts_are_named(tmp_path, keys):
    key, pub = keys["ed25519"]
    other, _ = keys["other"]
    with (
        running_sshd(tmp_path / "inner", "127.0.0.85", authorized_keys={"root": [pub]}) as inner,
        running_sshd(tmp_path / "jump", "127.0.0.84", authorized_keys={"root": [pub]}) as jump,
        running_sshd(tmp_path / "closed", "127.0.0.84", authorized_keys={"root": [pub]}, allow_tcp_forwarding=False) as closed,
    ):
        known = write_known_hosts(tmp_path / "known_hosts", jump, closed, inner)
        dead_jump = refused_port("127.0.0.84")
        dead_inner = refused_port("127.0.0.85")
        cases = {
            "jump down": target(inner, key, known, jump=target(jump, key, known, port=dead_jump)),
            "jump refuses the key": target(inner, key, known, jump=target(jump, other, known)),
            "inner down": target(inner, key, known, port=dead_inner, jump=target(jump, key, known)),
            "no forwarding": target(inner, key, known, jump=target(closed, key, known)),
            "inner key unknown": target(
                inner, key, write_known_hosts(tmp_path / "jump_only", jump), jump=target(jump, key, tmp_path / "jump_only")
            ),
        }
        errors = {}
        for name, case in cases.items():
            with pytest.raises(SshError) as caught:
                SshSession(case)
            errors[name] = caught.value
        inner_logins = accepted_logins(inner)
    j, c = f"root@127.0.0.84:{jump.port}", f"root@127.0.0.84:{closed.port}"
    assert str(errors["jump down"]).startswith(f"jump host root@127.0.0.84:{dead_jump}: cannot reach")
    assert errors["jump down"].unreachable
    assert str(errors["jump refuses the key"]).startswith(f"jump host {j}: authentication as root refused")
    assert errors["jump refuses the key"].fatal and not errors["jump refuses the key"].unreachable
    assert str(errors["inner down"]) == (f"jump host {j} could not open a connection to 127.0.0.85:{dead_inner}: Connect failed")
    assert errors["inner down"].unreachable
    assert str(errors["no forwarding"]).startswith(f"jump host {c} could not open a connection to 127.0.0.85:")
    assert "prohibited" in str(errors["no forwarding"])
    unknown = str(errors["inner key unknown"])
    assert unknown.startswith(f"host key of 127.0.0.85:{inner.port} is unknown (ssh-ed25519 {inner.fingerprint}")
    assert unknown.endswith(f"(reached through jump host {j})")
    assert errors["inner key unknown"].fatal and not errors["inner key unknown"].unreachable
    assert inner_logins == 0
