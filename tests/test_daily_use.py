"""Smaller things a daily user hits (issue 16, item 10), each through the real command: host names in any case,
a keyring on a machine without one (the real keyring library and its real backends), a register imported twice,
a document dated after today, and the record `reveal` leaves in the store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import auditpack_bin


def _run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([auditpack_bin(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in done.stderr + done.stdout, done.stderr
    return done


def _manifests(store: Path) -> list[dict]:
    return [json.loads(p.read_bytes()) for p in sorted((store / "runs").glob("*.json"))]


@pytest.fixture
def env(cli_env, tmp_path):
    cli_env.pop("AUDITPACK_STORE", None)
    cli_env["HOME"] = str(tmp_path / "home")
    cli_env["COLUMNS"] = "300"
    return cli_env


# --- host names ------------------------------------------------------------------------------------------------------


def test_check_host_finds_a_host_whatever_the_case_it_is_typed_in(tmp_path, env):
    (tmp_path / "site.yaml").write_text("all:\n  hosts:\n    WS-017:\n      ansible_connection: local\n")
    done = _run(tmp_path, env, "check", "-i", "site.yaml", "--host", "ws-017", "--control", "T-FWH", "--lang", "en")
    assert done.returncode in (0, 1), done.stderr  # the verdict is this machine's; the host was found and collected
    [manifest] = _manifests(tmp_path / "evidence")
    assert list(manifest["hosts"]) == ["WS-017"]
    unknown = _run(tmp_path, env, "check", "-i", "site.yaml", "--host", "ws-018")
    assert unknown.returncode == 2 and "ws-018: no such host in the inventory" in unknown.stderr


def test_an_inventory_with_two_hosts_differing_only_in_case_is_refused_with_file_line_and_key(tmp_path, env):
    (tmp_path / "site.yaml").write_text("all:\n  hosts:\n    fw01:\n    FW01:\n")
    done = _run(tmp_path, env, "doctor", "-i", "site.yaml")
    assert done.returncode == 2
    assert "site.yaml:4: all.hosts.FW01: host 'FW01' differs from host 'fw01' (line 3) only in case" in done.stderr


def test_firewall_diff_finds_a_device_whatever_the_case(tmp_path, env):
    rules = (
        "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"
    )
    (tmp_path / "old.rules").write_text(rules)
    (tmp_path / "new.rules").write_text(rules.replace("COMMIT", "-A INPUT -p tcp --dport 443 -j ACCEPT\nCOMMIT"))
    for name, day in (("old.rules", "2026-11-01"), ("new.rules", "2026-12-01")):
        args = ("import", "firewall", name, "--type", "iptables", "--device", "FW01", "--date", day)
        assert _run(tmp_path, env, *args).returncode == 0
    done = _run(tmp_path, env, "firewall-diff", "fw01", "--old", "2026-11-02", "--new", "2026-12-02", "--json")
    assert done.returncode == 1, done.stderr
    assert [r["service"] for r in json.loads(done.stdout)["added"]] == ["tcp/443"]


# --- a keyring on a machine without one ---------------------------------------------------------------------------

RESOLVE = (
    "from auditpack.credentials import parse_reference, CredentialError\n"
    "try:\n"
    "    parse_reference('keyring:auditpack-ad').resolve('svc-audit', 'svc-audit on dc01')\n"
    "except CredentialError as exc:\n"
    "    print(exc)\n"
)


@pytest.mark.parametrize(
    ("backend", "why"),
    [
        ("keyring.backends.fail.Keyring", "there is no OS keyring on this machine"),
        # the desktop keyring named, as under cron: no D-Bus session to reach it
        ("keyring.backends.SecretService.Keyring", "the OS keyring cannot be used (RuntimeError: Unable to initialize"),
    ],
)
def test_a_keyring_reference_on_a_headless_machine_says_which_and_what_to_do(tmp_path, env, backend, why):
    env = {k: v for k, v in env.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env["PYTHON_KEYRING_BACKEND"] = backend
    done = subprocess.run([sys.executable, "-c", RESOLVE], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    message = done.stdout
    assert message.startswith("keyring:auditpack-ad:svc-audit (the password for svc-audit on dc01) cannot be read: ")
    assert why in message
    assert "keyrings.alt.file.PlaintextKeyring" in message and "--env-file" in message and "docs/inventory.md" in message


def test_the_file_keyring_the_docs_name_works_without_a_session(tmp_path, env):
    """What docs/inventory.md tells a server to do, done: keyrings.alt's file backend, no D-Bus, no terminal."""
    env = {k: v for k, v in env.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
    keyring_cli = str(Path(sys.executable).with_name("keyring"))
    stored = subprocess.run(
        [keyring_cli, "set", "auditpack-ad", "svc-audit"], input="Uit-de-kluis-9\n", env=env, capture_output=True, text=True
    )
    assert stored.returncode == 0, stored.stderr
    [kept] = (tmp_path / "home").rglob("keyring_pass.cfg")
    assert kept.stat().st_mode & 0o077 == 0, "the file keyring is owner-only"
    check = "from auditpack.credentials import parse_reference\nprint(parse_reference('keyring:auditpack-ad').resolve('svc-audit', 'x').reveal())"
    done = subprocess.run(
        [sys.executable, "-c", check], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60
    )
    assert done.stdout.strip() == "Uit-de-kluis-9", done.stderr


def test_a_collection_with_no_keyring_records_the_reference_and_the_host(tmp_path, env):
    """A real sshd answers; the password is looked up before anything is sent to it, and cannot be."""
    from auditpack_lab.peers.sshd import running_sshd, sshd_unavailable

    if reason := sshd_unavailable():
        pytest.skip(reason)
    env = {**env, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    with running_sshd(tmp_path / "sshd") as peer:
        (tmp_path / "site.yaml").write_text(
            "all:\n  hosts:\n    fw09:\n"
            f"      ansible_host: {peer.address}\n      ansible_port: {peer.port}\n      ansible_user: audit\n"
            "      auditpack_password: keyring:auditpack-fw\n"
        )
        done = _run(tmp_path, env, "collect", "-i", "site.yaml")
    assert done.returncode == 1
    [manifest] = _manifests(tmp_path / "evidence")
    errors = [e for i in manifest["items"] for e in i["errors"] if "keyring" in e]
    assert len(errors) == 1, manifest["hosts"]
    [error] = errors
    assert "keyring:auditpack-fw:audit (the password for audit on fw09) cannot be read" in error
    assert "there is no OS keyring on this machine" in error


# --- registers imported twice, documents of days to come ------------------------------------------------------------


def test_a_register_imported_again_unchanged_is_recognised_and_not_stored_twice(tmp_path, env):
    (tmp_path / "restore.csv").write_text("tested_on,server,result\n2026-01-20,fs01,success\n")
    first = _run(tmp_path, env, "import", "register", "restore_tests", "restore.csv")
    assert first.returncode == 0 and "in run 1." in first.stdout
    (tmp_path / "restore-copy.csv").write_bytes((tmp_path / "restore.csv").read_bytes())
    again = _run(tmp_path, env, "import", "register", "restore_tests", "restore-copy.csv")
    assert again.returncode == 0, again.stderr
    assert "restore-copy.csv is the same as the restore_tests register imported in run 1" in again.stdout
    assert "nothing was stored" in again.stdout and len(_manifests(tmp_path / "evidence")) == 1
    # said to come from elsewhere, the same bytes are another statement: stored
    sourced = _run(tmp_path, env, "import", "register", "restore_tests", "restore.csv", "--source", "Veeam")
    assert sourced.returncode == 0 and "in run 2." in sourced.stdout
    # changed, it is stored; and only the NEWEST import counts: the first file again is stored again
    (tmp_path / "restore.csv").write_text("tested_on,server,result\n2026-01-20,fs01,failure\n")
    assert "in run 3." in _run(tmp_path, env, "import", "register", "restore_tests", "restore.csv").stdout
    assert "in run 4." in _run(tmp_path, env, "import", "register", "restore_tests", "restore-copy.csv").stdout
    # another register with the same bytes is not the same register
    (tmp_path / "egress.yaml").write_text("entries:\n  - {device: fw01, service: tcp/443, reason: CRM}\n")
    assert "in run 5." in _run(tmp_path, env, "import", "egress-register", "egress.yaml").stdout
    twice = _run(tmp_path, env, "import", "egress-register", "egress.yaml")
    assert twice.returncode == 0 and "the same as the egress register imported in run 5" in twice.stdout
    assert len(_manifests(tmp_path / "evidence")) == 5


def test_attach_refuses_a_date_after_today(tmp_path, env):
    (tmp_path / "review.pdf").write_bytes(b"%PDF-1.4\n% a continuity review\n")
    done = _run(tmp_path, env, "attach", "T-CON-2", "review.pdf", "--date", "2999-01-01", "--note", "review")
    assert done.returncode == 2 and "--date 2999-01-01 is in the future" in done.stderr
    assert not (tmp_path / "evidence").exists()


# --- reveal leaves a record -----------------------------------------------------------------------------------------


def test_reveal_records_who_when_which_and_why_but_not_the_name(tmp_path, env):
    from auditpack.pseudonymise import load_or_create_key, pseudonym

    (tmp_path / "leavers.csv").write_text("name,account,last_working_day\nJan de Vries,jdevries,2026-03-31\n")
    assert _run(tmp_path, env, "import", "register", "hr_leavers", "leavers.csv").returncode == 0
    wanted = pseudonym(load_or_create_key(Path(env["AUDITPACK_PSEUDONYM_KEY"])), "jdevries")
    done = _run(tmp_path, env, "reveal", wanted, "P-0000000000", "--reason", "auditor's question 4", "--operator", "alice")
    assert done.returncode == 1  # one of the two is not in the store
    assert f"{wanted}: jdevries" in done.stdout and "recorded as item" in done.stderr
    runs = _manifests(tmp_path / "evidence")
    assert len(runs) == 2
    [item] = runs[1]["items"]
    assert item["kind"] == "audit.reveal" and item["operator"] == "alice" and item["host"] == "auditor"
    record = json.loads(
        (
            tmp_path / "evidence" / "blobs" / "sha256" / item["normalized"]["sha256"][:2] / item["normalized"]["sha256"]
        ).read_bytes()
    )
    assert record["revealed_by"] == "alice" and record["reason"] == "auditor's question 4"
    assert record["pseudonyms"] == [{"pseudonym": wanted, "found": True}, {"pseudonym": "P-0000000000", "found": False}]
    assert record["at"].startswith(runs[1]["started"][:10])
    raw = json.dumps(runs[1]).encode() + json.dumps(record).encode()
    assert b"jdevries" not in raw and b"Jan de Vries" not in raw, "the record must not hold the name it revealed"
    # verify shows each use, and the store stays intact with it
    shown = _run(tmp_path, env, "verify")
    assert shown.returncode == 0, shown.stdout
    assert f"Revealed: {wanted}, P-0000000000 by alice at {record['at']}, reason: auditor's question 4 (run 2" in shown.stdout
    # without a reason the record says none was given
    assert _run(tmp_path, env, "reveal", wanted).returncode == 0
    assert "no reason given" in _run(tmp_path, env, "verify").stdout


def test_reveal_without_a_store_records_nothing_and_reveals_nothing(tmp_path, env):
    done = _run(tmp_path, env, "reveal", "P-0000000000", "--store", "no-store-here")
    assert done.returncode == 2 and not (tmp_path / "no-store-here").exists()
