"""`auditpack key init|show|export-public|backup|restore`, run as the operator runs them: real processes, real key
files, the real scrypt + AES-GCM backup. What they print must never hold a secret; what they write is private."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from auditpack.pseudonymise import key_id
from auditpack.pseudonymise import load_existing_key as load_pseudonym_key
from auditpack.signing import fingerprint, load_existing_key, load_public_key
from conftest import auditpack_bin

PASSPHRASE = "a long passphrase for the test"
NEW_SIGNING = "Made a new signing key"
NEW_PSEUDONYM = "Made a new pseudonym key"


@pytest.fixture
def env(cli_env):
    return {**cli_env, "BACKUP_PASS": PASSPHRASE}


def run(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([auditpack_bin(), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def key_paths(env: dict[str, str]) -> tuple[Path, Path]:
    return Path(env["AUDITPACK_SIGNING_KEY"]), Path(env["AUDITPACK_PSEUDONYM_KEY"])


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_init_makes_both_keys_once_says_where_and_to_back_them_up_and_never_replaces_one(env):
    signing, pseudonym = key_paths(env)
    first = run(env, "key", "init")
    assert first.returncode == 0, first.stderr
    assert mode(signing) == mode(pseudonym) == 0o600 and mode(signing.parent) == 0o700
    # said once per key, on stderr, with the path and the command that backs it up
    assert first.stderr.count(NEW_SIGNING) == 1 and first.stderr.count(NEW_PSEUDONYM) == 1
    assert first.stderr.count("auditpack key backup") == 2
    flat = " ".join(first.stderr.split())
    assert f"{NEW_SIGNING}: {signing}." in flat and f"{NEW_PSEUDONYM}: {pseudonym}." in flat
    assert "can ever be revealed" in flat and "same processor" in flat
    before = signing.read_bytes(), pseudonym.read_bytes()
    again = run(env, "key", "init")
    assert again.returncode == 0 and "Made a new" not in again.stderr
    assert again.stdout.count("already there, not changed") == 2
    assert (signing.read_bytes(), pseudonym.read_bytes()) == before


def test_init_refuses_a_key_others_may_read(env):
    signing, _ = key_paths(env)
    assert run(env, "key", "init").returncode == 0
    signing.chmod(0o644)
    done = run(env, "key", "init")
    assert done.returncode == 2 and "chmod 600" in done.stderr


def test_show_names_each_key_by_fingerprint_or_id_and_never_shows_it(env):
    signing, pseudonym = key_paths(env)
    missing = run(env, "key", "show")
    assert missing.returncode == 1 and missing.stdout.count("not made yet") == 2
    assert not signing.exists() and not pseudonym.exists()  # showing makes nothing
    run(env, "key", "init")
    done = run(env, "key", "show")
    assert done.returncode == 0, done.stdout + done.stderr
    secret = load_pseudonym_key(pseudonym)
    assert fingerprint(load_existing_key(signing)) in done.stdout and key_id(secret) in done.stdout
    assert done.stdout.count("permissions: 0600 (owner only)") == 2
    pem_body = "".join(signing.read_text().splitlines()[1:-1])
    assert secret.hex() not in done.stdout and pem_body not in done.stdout
    facts = json.loads(run(env, "key", "show", "--json").stdout)
    assert facts["signing"]["name"] == fingerprint(load_existing_key(signing))
    assert facts["pseudonym"]["name"] == key_id(secret) and facts["pseudonym"]["permissions"] == "0600"
    pseudonym.chmod(0o640)
    unusable = run(env, "key", "show")
    assert unusable.returncode == 2 and "0640 (others may read it)" in unusable.stdout and "chmod 600" in unusable.stdout


def test_export_public_writes_the_key_the_auditors_verify_with(env, tmp_path):
    signing, _ = key_paths(env)
    none_yet = run(env, "key", "export-public", str(tmp_path / "k.pub"))
    assert none_yet.returncode == 2 and "key init" in none_yet.stderr and not signing.exists()
    run(env, "key", "init")
    done = run(env, "key", "export-public", str(tmp_path / "k.pub"))
    assert done.returncode == 0, done.stderr
    public = tmp_path / "k.pub"
    assert fingerprint(load_public_key(public)) == fingerprint(load_existing_key(signing))
    assert mode(public) == 0o644 and b"PRIVATE" not in public.read_bytes()  # the one file meant to be handed out
    piped = run(env, "key", "export-public")
    assert piped.returncode == 0 and piped.stdout.encode() == public.read_bytes()


def test_a_backup_restores_both_keys_byte_for_byte_and_holds_neither_in_the_clear(env, tmp_path):
    signing, pseudonym = key_paths(env)
    run(env, "key", "init")
    vault = tmp_path / "usb"
    vault.mkdir()
    done = run(env, "key", "backup", str(vault), "--passphrase", "env:BACKUP_PASS")
    assert done.returncode == 0, done.stderr
    [backup] = vault.iterdir()
    assert backup.name.startswith("auditpack-keys-") and mode(backup) == 0o600
    data = backup.read_text()
    assert load_pseudonym_key(pseudonym).hex() not in data
    assert not any(line in data for line in signing.read_text().splitlines()[1:-1])
    assert fingerprint(load_existing_key(signing)) in data  # which keys it holds, said in the clear

    elsewhere = {
        **env,
        "AUDITPACK_SIGNING_KEY": str(tmp_path / "new" / "s.pem"),
        "AUDITPACK_PSEUDONYM_KEY": str(tmp_path / "new" / "p"),
    }
    restored = run(elsewhere, "key", "restore", str(backup), "--passphrase", "env:BACKUP_PASS")
    assert restored.returncode == 0, restored.stderr
    assert (tmp_path / "new" / "s.pem").read_bytes() == signing.read_bytes()
    assert (tmp_path / "new" / "p").read_bytes() == pseudonym.read_bytes()
    assert mode(tmp_path / "new" / "s.pem") == mode(tmp_path / "new" / "p") == 0o600
    again = run(elsewhere, "key", "restore", str(backup), "--passphrase", "env:BACKUP_PASS")
    assert again.returncode == 0 and again.stdout.count("already in place") == 2

    wrong = run(
        {**elsewhere, "BACKUP_PASS": "not the passphrase at all"},
        "key",
        "restore",
        str(backup),
        "--passphrase",
        "env:BACKUP_PASS",
    )
    assert wrong.returncode == 2 and "passphrase is wrong" in wrong.stderr


def test_restore_never_replaces_another_key_and_refuses_a_changed_backup(env, tmp_path):
    run(env, "key", "init")
    backup = tmp_path / "keys.backup"
    assert run(env, "key", "backup", str(backup), "--passphrase", "env:BACKUP_PASS").returncode == 0
    other = {
        **env,
        "AUDITPACK_SIGNING_KEY": str(tmp_path / "other" / "s.pem"),
        "AUDITPACK_PSEUDONYM_KEY": str(tmp_path / "other" / "p"),
    }
    run(other, "key", "init")
    theirs = (tmp_path / "other" / "s.pem").read_bytes(), (tmp_path / "other" / "p").read_bytes()
    refused = run(other, "key", "restore", str(backup), "--passphrase", "env:BACKUP_PASS")
    assert refused.returncode == 2 and "holds another" in refused.stderr and "nothing was restored" in refused.stderr
    assert ((tmp_path / "other" / "s.pem").read_bytes(), (tmp_path / "other" / "p").read_bytes()) == theirs

    body = json.loads(backup.read_text())
    body["keys"]["signing"]["name"] = "SHA256:someone-else"  # the clear part is authenticated with the keys
    changed = tmp_path / "changed.backup"
    changed.write_text(json.dumps(body))
    fresh = {**env, "AUDITPACK_SIGNING_KEY": str(tmp_path / "f" / "s"), "AUDITPACK_PSEUDONYM_KEY": str(tmp_path / "f" / "p")}
    done = run(fresh, "key", "restore", str(changed), "--passphrase", "env:BACKUP_PASS")
    assert done.returncode == 2 and "was changed" in done.stderr and not (tmp_path / "f").exists()


def test_backup_refusals_and_a_partial_backup(env, tmp_path):
    signing, pseudonym = key_paths(env)
    nothing = run(env, "key", "backup", str(tmp_path / "a.backup"), "--passphrase", "env:BACKUP_PASS")
    assert nothing.returncode == 2 and "no key to back up" in nothing.stderr and not (tmp_path / "a.backup").exists()
    run(env, "key", "init")
    short = run({**env, "BACKUP_PASS": "short"}, "key", "backup", str(tmp_path / "b.backup"), "--passphrase", "env:BACKUP_PASS")
    assert short.returncode == 2 and "at least 12" in short.stderr and not (tmp_path / "b.backup").exists()
    no_tty = run(env, "key", "backup", str(tmp_path / "c.backup"))  # the default is prompt; a pipe is no terminal
    assert no_tty.returncode == 2 and "needs a terminal" in no_tty.stderr
    (tmp_path / "d.backup").write_text("keep me")
    exists = run(env, "key", "backup", str(tmp_path / "d.backup"), "--passphrase", "env:BACKUP_PASS")
    assert exists.returncode == 2 and (tmp_path / "d.backup").read_text() == "keep me"
    pseudonym.unlink()
    partial = run(env, "key", "backup", str(tmp_path / "e.backup"), "--passphrase", "env:BACKUP_PASS")
    assert partial.returncode == 1 and "pseudonym key" in partial.stdout and "not made yet" in partial.stdout
    assert json.loads((tmp_path / "e.backup").read_text())["keys"].keys() == {"signing"}
    assert not pseudonym.exists()  # a backup makes no key


def test_reveal_without_the_pseudonym_key_says_so_and_makes_none(env, tmp_path):
    from auditpack.store import EvidenceStore

    EvidenceStore(tmp_path / "evidence")
    done = run(env, "reveal", "P-0123456789", "--store", str(tmp_path / "evidence"))
    _, pseudonym = key_paths(env)
    assert done.returncode == 2 and "no pseudonym key" in done.stderr and not pseudonym.exists()


def test_the_message_of_a_new_key_is_said_by_the_command_that_makes_it_in_its_language(env, tmp_path):
    from auditpack.store import EvidenceStore

    EvidenceStore(tmp_path / "evidence")
    args = ("report", "--store", str(tmp_path / "evidence"), "--from", "2026-01-01", "--to", "2026-01-31", "--format", "json")
    first = run(env, *args, "--out", str(tmp_path / "r1"))
    assert first.returncode in (0, 1), first.stderr
    assert " ".join(first.stderr.split()).count("Nieuwe ondertekeningssleutel gemaakt") == 1  # --lang nl, the default
    second = run(env, *args, "--out", str(tmp_path / "r2"), "--lang", "en")
    assert "Made a new" not in second.stderr and "Nieuwe" not in second.stderr
    assert not Path(env["AUDITPACK_PSEUDONYM_KEY"]).exists()  # a report without --pseudonymise needs no pseudonym key
