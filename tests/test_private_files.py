"""Files private to the operator, whatever the umask: the store, the reports and the packs hold personal data.

Real runs under umask 000 (what some cron set-ups have) and 022 (the usual one): a real collection of this machine
through the built-in inventory, then the report and the signed pack; every file they leave is 0600 and every folder
0700 (the signing public key, meant to be handed out, is the one 0644 file). SQLite's own files too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import auditpack_bin

PUBLIC = {"signing-key.pub"}  # the only file meant for everyone


def run(cwd: Path, env: dict[str, str], umask: int, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([auditpack_bin(), *args], cwd=cwd, env=env, umask=umask, capture_output=True, text=True, timeout=600)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root.parent)): p.stat().st_mode & 0o777 for p in (root, *root.rglob("*"))}


def not_private(root: Path) -> dict[str, str]:
    """Every path under ROOT whose mode is not the owner's only (0700 folders, 0600 files), as 'path: mode'."""
    wrong = {}
    for name, mode in modes(root).items():
        path = root.parent / name
        expected = 0o700 if path.is_dir() else 0o644 if path.name in PUBLIC else 0o600
        if mode != expected:
            wrong[name] = f"{mode:04o}"
    return wrong


@pytest.mark.parametrize("umask", [0o000, 0o022], ids=["umask-000", "umask-022"])
def test_a_collection_and_its_reports_are_private_whatever_the_umask(tmp_path, cli_env, umask):
    today = datetime.now(UTC).date().isoformat()
    collected = run(tmp_path, cli_env, umask, "collect", "--store", "evidence")  # no inventory here: the built-in one
    assert collected.returncode in (0, 1), collected.stderr
    store = tmp_path / "evidence"
    assert (store / "index.sqlite").exists() and list((store / "runs").glob("*.json"))
    assert not_private(store) == {}
    if umask == 0o000:  # every format (PDF, workbook, OSCAL, OCSF ...) and the pack, pseudonymised: the slow one
        made = run(tmp_path, cli_env, umask, "pack", "--store", "evidence", "--from", today, "--to", today, "--pseudonymise")
        assert made.returncode in (0, 1), made.stderr
        said = " ".join(made.stderr.split())  # the keys were made by this pack: each said once (--lang nl, the default)
        assert said.count("Nieuwe ondertekeningssleutel gemaakt") == 1 and said.count("Nieuwe pseudoniemsleutel gemaakt") == 1
        out = tmp_path / "reports-out"
        [pack] = out.glob("*.zip")
        assert list(out.rglob("*.pdf")) and list(out.rglob("*.xlsx"))
        with zipfile.ZipFile(pack) as archive:  # what unzip makes of it on the auditor's machine: private too
            assert {info.external_attr >> 16 & 0o777 for info in archive.infolist()} == {0o600}
    else:
        formats = ("--format", "html", "--format", "json", "--format", "xlsx", "--format", "oscal", "--format", "ocsf")
        made = run(tmp_path, cli_env, umask, "report", "--store", "evidence", "--from", today, "--to", today, *formats)
        assert made.returncode in (0, 1), made.stderr
        out = tmp_path / "reports-out"
        assert len(list(out.glob("*.json"))) == 7 and list(out.glob("*.xlsx")) and list(out.glob("*.html"))
    assert not_private(out) == {}
    assert not_private(Path(cli_env["AUDITPACK_SIGNING_KEY"]).parent) == {}
    assert not_private(store) == {}  # the report opened the index: still private
    again = run(tmp_path, cli_env, umask, "report", "--store", "evidence", "--from", today, "--to", today, "--format", "json")
    assert again.returncode in (0, 1) and "Nieuwe" not in again.stderr  # the keys exist now: nothing more is said


def test_sqlite_gives_its_journal_and_wal_files_the_index_mode(tmp_path):
    """index.sqlite is made 0600 before SQLite opens it, because SQLite copies the database's mode to its -journal,
    -wal and -shm files; under umask 000 they would otherwise be 0644 or wider. Held open to see them exist."""
    script = """
import json, sqlite3, sys
from pathlib import Path
from auditpack.store import EvidenceStore
store = EvidenceStore(sys.argv[1])
store.runs()  # opens (so creates) the index
index = Path(sys.argv[1]) / "index.sqlite"
seen = {}
db = sqlite3.connect(index, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
db.execute("INSERT INTO runs (seq, sha256) VALUES (999, 'x')")
seen["journal"] = oct(index.with_name("index.sqlite-journal").stat().st_mode & 0o777)
db.execute("ROLLBACK")
db.execute("PRAGMA journal_mode=WAL")
db.execute("BEGIN IMMEDIATE")
db.execute("INSERT INTO runs (seq, sha256) VALUES (999, 'x')")
for suffix in ("wal", "shm"):
    seen[suffix] = oct(index.with_name(f"index.sqlite-{suffix}").stat().st_mode & 0o777)
db.execute("ROLLBACK")
seen["index"] = oct(index.stat().st_mode & 0o777)
print(json.dumps(seen))
"""
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "evidence")], umask=0, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"journal": "0o600", "wal": "0o600", "shm": "0o600", "index": "0o600"}


def test_a_store_others_may_read_is_said_by_verify_and_made_private_by_the_next_collection(tmp_path, cli_env):
    from auditpack.store import EvidenceStore

    store = tmp_path / "evidence"
    EvidenceStore(store).runs()
    for path in (store, *store.rglob("*")):  # as a store made before auditpack set modes, under umask 022
        path.chmod(0o755 if path.is_dir() else 0o644)
    said = run(tmp_path, cli_env, 0o022, "verify", "--store", "evidence")
    assert said.returncode == 0, said.stdout  # intact: a finding about who may read it, not about the evidence
    text = " ".join(said.stdout.split())
    assert "WARNING" in text and "can be read by other users of this machine" in text and "chmod -R go=" in text
    assert not_private(store) != {}  # verify changes nothing
    collected = run(tmp_path, cli_env, 0o022, "collect", "--store", "evidence")
    assert collected.returncode in (0, 1), collected.stderr
    assert "they are now private to you" in " ".join(collected.stderr.split())
    assert not_private(store) == {}
    quiet = run(tmp_path, cli_env, 0o022, "verify", "--store", "evidence")
    assert quiet.returncode == 0 and "other users" not in quiet.stdout
    again = run(tmp_path, cli_env, 0o022, "collect", "--store", "evidence")
    assert "now private" not in again.stderr  # said once: nothing left to tighten
