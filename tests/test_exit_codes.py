"""The exit-code rule, command by command: 0 all effective / nothing changed, 1 deviations, missing evidence, a partial
run or differences, 2 unusable input or an error; and never a traceback for an expected fault.

One table: each row runs a real `auditpack` process on a fixture (a synthetic year in a real store, a pack built
from it, local collections of this machine, real corpus files) and names the code it must end with. Where an
outcome cannot happen for a command (`controls` finds no deviations), the row is absent and the reason is in NOT_POSSIBLE.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from auditpack_lab.peers.sockets import refused_port
from conftest import CORPUS, auditpack_bin
from year_store import build_year

NOT_POSSIBLE = {
    ("controls", 1): "listing the catalogue finds no deviations",
    ("sample", 1): "a sample is drawn or refused; it judges nothing",
    ("import register", 1): "a register is stored whole or, with any problem, not at all",
    ("import egress-register", 1): "stored whole or not at all",
    ("import firewall", 1): "stored whole or not at all",
    ("attach", 1): "a document is stored or refused",
    ("pack", 0): "needs a store in which all 22 controls are effective over a period; report's 0 row holds the same rule "
    "(both use results_outcome)",
    ("lab", 0): "needs the running lab: tests/test_lab_cli.py asserts `lab up` and `lab status` 0",
    ("lab", 1): "a lab with a service that does not answer: `lab status` returns 1 then; not staged here",
    ("demo", 0): "the demo company is built with deviations, so its audit is never all effective",
    ("demo", 1): "the whole demo: tests/test_demo_lab.py asserts its 1 (the company's deliberate deviations)",
    ("config", 1): "showing the settings or writing a starter file judges nothing",
    ("timestamp", 0): "needs the TSA peer: tests/test_pack_chronology.py asserts `timestamp` 0 (late tokens added)",
    ("notify test", 0): "needs a receiver: tests/test_notify.py asserts `notify test` 0 (a message to its SMTP server)",
    ("notify test", 1): "a test message is delivered (0) or not (2); it judges nothing",
    ("timestamp", 1): "needs the TSA peer: tests/test_pack_chronology.py asserts `timestamp` 1 (the TSA answers 503)",
    ("key init", 1): "both keys are there afterwards (made now or before), or a key cannot be used",
    ("key export-public", 1): "the public key is written or there is no usable key",
    ("key restore", 1): "every key of the backup is put in place, or none is",
}

SECURITY_LOG = "windows_security_evtx/marvioncriddle__Authentication-Artifact-Analysis/Security.evtx"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A year of evidence in ./evidence, two packs of it, inventories and files to import."""
    root = tmp_path_factory.mktemp("exit-codes")
    build_year(root / "evidence", servers=2, workstations=3)
    port = refused_port()
    (root / "local.yaml").write_text("all:\n  hosts:\n    localhost:\n")
    (root / "partial.yaml").write_text(
        f"all:\n  hosts:\n    localhost:\n    gone: {{ansible_host: 127.0.0.1, ansible_port: {port}, ansible_connection: ssh}}\n"
    )
    (root / "broken.yaml").write_text("all:\n  hosts:\n    a: {ansible_port: x}\n")
    (root / "become.yaml").write_text("all:\n  hosts:\n    fw01: {ansible_user: svc-auditpack, auditpack_become: sudo}\n")
    (root / "restore.csv").write_text("tested_on,server,result\n2026-01-20,fs01,success\n")
    (root / "restore-broken.csv").write_text("tested_on,server,result\n2026-13-01,fs01,maybe\n")
    (root / "egress.yaml").write_text("entries:\n  - {device: fw01, service: tcp/443, reason: CRM}\n")
    (root / "egress-broken.yaml").write_text("entries:\n  - {device: fw01, reason: [not, text]}\n")
    (root / "iptables.rules").write_text(
        "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"
    )
    (root / "not-xml.txt").write_text("this is no firewall configuration\n")
    auditpol_header = "Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting"
    (root / "auditpol.csv").write_text(
        f"{auditpol_header},Setting Value\nDC09,System,Logon,{{0CCE9215-69AE-11D9-BED3-505054503030}},Success and Failure,,3\n"
    )
    (root / "auditpol-empty.csv").write_text(f"Active code page: 437\n{auditpol_header}\n")
    (root / "review.pdf").write_bytes(b"%PDF-1.4\n% a continuity review\n")
    (root / "not-a-pack.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip archive
    (root / "bad-key.pem").write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    (root / "bad-key.pem").chmod(0o600)
    env = _env(root)
    for args in (
        ("pack", "--period", "2026", "--out", "year"),
        ("pack", "--from", "2026-01-01", "--to", "2026-04-30", "--out", "spring"),
    ):
        done = _run(root, env, *args)
        assert done.returncode == 1, done.stderr  # the year has deviations by construction
    [year_pack] = (root / "year").glob("auditpack-*.zip")
    [spring_pack] = (root / "spring").glob("auditpack-*.zip")
    shutil.copy(year_pack, root / "year.zip")
    shutil.copy(spring_pack, root / "spring.zip")
    shutil.copy(root / "year" / "signing-key.pub", root / "key.pub")
    assert _run(root, env, "key", "init").returncode == 0  # the pseudonym key too: no pack above made it
    done = _run(root, env, "key", "backup", "keys.backup", "--passphrase", "env:BACKUP_PASSPHRASE")
    assert done.returncode == 0, done.stderr
    _tamper(root / "year.zip", root / "tampered.zip")
    shutil.copytree(root / "evidence", root / "damaged")
    blob = next(p for p in sorted((root / "damaged" / "blobs").rglob("*")) if p.is_file())
    blob.write_bytes(blob.read_bytes() + b"!")
    return root


def _env(root: Path) -> dict[str, str]:
    env = dict(
        os.environ,
        AUDITPACK_OPERATOR="test-operator",
        AUDITPACK_SIGNING_KEY=str(root / "keys" / "signing-key.pem"),
        AUDITPACK_PSEUDONYM_KEY=str(root / "keys" / "pseudonym-key"),
        BACKUP_PASSPHRASE="the exit codes' passphrase",
    )
    env.pop("AUDITPACK_STORE", None)
    env.pop("AUDITPACK_NOTIFY_URLS", None)
    return env


def _run(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([auditpack_bin(), *args], cwd=root, env=env, capture_output=True, text=True, timeout=600)


def _tamper(src: Path, dst: Path) -> None:
    """The same pack with one byte of its report changed."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith(".json") and info.filename.startswith("report/"):
                data = data.replace(b'"', b"'", 1)
            zout.writestr(info, data)


def _pseudonym(env: dict[str, str]) -> str:
    """The pseudonym of a leaver's account in the year, with the key the commands use (made here if not yet)."""
    from auditpack.pseudonymise import load_or_create_key, pseudonym

    return pseudonym(load_or_create_key(Path(env["AUDITPACK_PSEUDONYM_KEY"])), "jdevries")


# (command, arguments, expected exit code); "{corpus}" is ../shared/corpus.
CASES = [
    ("collect", ["-i", "local.yaml", "--store", "c0"], 0),
    ("collect", ["-i", "partial.yaml", "--store", "c1"], 1),
    ("collect", ["-i", "broken.yaml", "--store", "c2"], 2),
    ("check", ["-i", "local.yaml", "--control", "T-BAK-1", "--from", "2026-01-01", "--to", "2026-01-31"], 0),
    ("check", ["-i", "local.yaml", "--control", "T-BAK-1", "--from", "2026-03-01", "--to", "2026-03-31"], 1),
    ("check", ["-i", "local.yaml", "--control", "NO-SUCH"], 2),
    ("doctor", ["-i", "local.yaml"], 0),
    ("doctor", ["-i", "partial.yaml"], 1),
    ("doctor", ["-i", "local.yaml", "--host", "unknown"], 2),
    # --quiet and --json change what is printed, never the exit code
    ("collect", ["-i", "partial.yaml", "--store", "c1", "--quiet"], 1),
    ("collect", ["-i", "broken.yaml", "--store", "c2", "--json"], 2),
    ("check", ["-i", "local.yaml", "--control", "T-BAK-1", "--from", "2026-03-01", "--to", "2026-03-31", "--json"], 1),
    ("doctor", ["-i", "partial.yaml", "--quiet"], 1),
    ("doctor", ["-i", "local.yaml", "--json"], 0),
    ("doctor", ["-i", "local.yaml", "--role", "firewall"], 2),
    ("sudoers", ["-i", "become.yaml"], 0),
    ("sudoers", ["-i", "partial.yaml"], 1),
    ("sudoers", ["-i", "local.yaml"], 2),
    ("report", ["--control", "T-BAK-1", "--from", "2026-01-01", "--to", "2026-01-31", "--format", "json", "--out", "r0"], 0),
    ("report", ["--control", "T-BAK-1", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json", "--out", "r1"], 1),
    ("report", ["--control", "T-BAK-1", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "ocsf", "--out", "r4"], 1),
    ("report", ["--period", "2026", "--format", "json", "--out", "r2", "--store", "no-store-here"], 2),
    ("report", ["--period", "2026", "--format", "json", "--out", "r3", "--signing-key", "bad-key.pem"], 2),
    (
        "report",
        ["--control", "T-BAK-1", "--from", "2026-01-01", "--to", "2026-01-31", "--format", "json", "--out", "r5", "-q"],
        0,
    ),
    (
        "report",
        ["--control", "T-BAK-1", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json", "--out", "r6", "--json"],
        1,
    ),
    ("pack", ["--from", "2026-03-01", "--to", "2026-03-31", "--out", "p1"], 1),
    ("pack", ["--period", "2026", "--out", "p2", "--signing-key", "bad-key.pem"], 2),
    ("sample", ["T-BAK-1", "--size", "3", "--seed", "7", "--period", "2026"], 0),
    ("sample", ["T-BAK-1", "--size", "100000", "--seed", "7", "--period", "2026"], 2),
    ("controls", ["--json"], 0),
    ("controls", ["--lang", "fr"], 2),
    ("import register", ["restore_tests", "restore.csv", "--store", "i0"], 0),
    ("import register", ["restore_tests", "restore-broken.csv", "--store", "i2"], 2),
    ("import evtx", ["{corpus}/" + SECURITY_LOG, "--host", "dc01", "--store", "e0"], 0),
    ("import evtx", ["damaged.evtx", "--host", "dc01", "--store", "e1"], 1),
    ("import evtx", ["{corpus}/windows_security_evtx/omerbenamram__evtx/security.evtx", "--store", "e2"], 2),
    ("import auditpol", ["auditpol.csv", "--host", "dc09", "--date", "2026-11-02", "--store", "p0"], 0),
    ("import auditpol", ["auditpol-empty.csv", "--host", "dc09", "--date", "2026-11-02", "--store", "p1"], 1),
    ("import auditpol", ["auditpol.csv", "--host", "dc09", "--date", "2999-01-01", "--store", "p2"], 2),
    ("import auditpol", ["not-xml.txt", "--host", "dc09", "--date", "2026-11-02", "--store", "p3"], 2),
    ("import egress-register", ["egress.yaml", "--store", "g0"], 0),
    ("import egress-register", ["egress-broken.yaml", "--store", "g2"], 2),
    ("import firewall", ["iptables.rules", "--type", "iptables", "--device", "fw09", "--store", "f0"], 0),
    ("import firewall", ["not-xml.txt", "--type", "pfsense", "--device", "fw09", "--store", "f2"], 2),
    ("import firewall", ["iptables.rules", "--type", "iptables", "--device", "fw09", "--date", "2999-01-01", "--store", "f3"], 2),
    ("attach", ["T-CON-2", "review.pdf", "--date", "2026-05-12", "--note", "review", "--store", "a0"], 0),
    ("attach", ["NO-SUCH", "review.pdf", "--date", "2026-05-12", "--note", "review", "--store", "a2"], 2),
    ("verify", [], 0),
    ("verify", ["--store", "damaged"], 1),
    ("verify", ["--store", "no-store-here"], 2),
    ("verify", ["year.zip", "--key", "key.pub"], 0),
    ("verify", ["tampered.zip", "--key", "key.pub"], 1),
    ("verify", ["not-a-pack.zip", "--key", "key.pub"], 2),
    ("verify", ["year.zip", "--key", "key.pub", "--tsa-ca", "key.pub"], 2),  # a public key, not the TSA's certificate
    ("timestamp", [], 2),
    ("diff", ["year.zip", "year.zip"], 0),
    ("diff", ["spring.zip", "year.zip"], 1),
    ("diff", ["not-a-pack.zip", "year.zip"], 2),
    ("firewall-diff", ["fw01", "--old", "2026-02-02", "--new", "2026-03-02"], 0),
    ("firewall-diff", ["fw01", "--old", "2026-05-04", "--new", "2026-06-08"], 1),
    ("firewall-diff", ["no-such-firewall"], 2),
    ("reveal", ["{pseudonym}"], 0),
    ("reveal", ["P-0000000000"], 1),
    ("reveal", ["P-0000000000", "--store", "no-store-here"], 2),
    ("key init", [], 0),
    ("key init", ["--signing-key", "bad-key.pem"], 2),
    ("key show", [], 0),
    ("key show", ["--pseudonym-key", "no-key-here"], 1),
    ("key show", ["--signing-key", "bad-key.pem"], 2),
    ("key export-public", ["exported.pub"], 0),
    ("key export-public", ["--signing-key", "no-key-here.pem"], 2),
    ("key backup", ["keys-0.backup", "--passphrase", "env:BACKUP_PASSPHRASE"], 0),
    ("key backup", ["keys-1.backup", "--pseudonym-key", "no-key-here", "--passphrase", "env:BACKUP_PASSPHRASE"], 1),
    ("key backup", ["keys-2.backup", "--signing-key", "no-key-here.pem", "--pseudonym-key", "no-key-here"], 2),
    ("key restore", ["keys.backup", "--passphrase", "env:BACKUP_PASSPHRASE"], 0),
    ("key restore", ["not-a-pack.zip", "--passphrase", "env:BACKUP_PASSPHRASE"], 2),
    ("schedule", ["install", "--dry-run", "--unit-dir", "units-dry"], 0),
    ("schedule", ["status", "--store", "no-store-here", "--unit-dir", "no-units"], 1),  # no collection yet
    ("schedule", ["install", "--at", "25:00", "--dry-run"], 2),
    ("notify run", ["--date", "2026-01-06", "--dry-run"], 0),  # a quiet day of the year: nothing to send
    ("notify run", ["--date", "2026-03-10", "--dry-run"], 1),  # fs01's backup failed that night
    ("notify run", ["--date", "2026-03-10", "--url", "json://127.0.16.80:{refused}/hook"], 2),  # nobody listens
    ("notify test", ["--url", "json://127.0.16.80:{refused}/hook"], 2),
    ("lab", ["status", "--dir", "no-lab-here"], 2),
    ("demo", ["--workdir", "local.yaml"], 2),
    ("config", ["show"], 0),
    ("config", ["init", "starter.toml"], 0),
    ("config", ["init", "local.yaml"], 2),  # never overwrites a file
]


def test_the_table_covers_every_command_and_outcome():
    from auditpack.cli import cli

    groups = ("import", "notify", "key")  # groups whose subcommands have rows of their own; schedule's rows are the group's
    commands = set(cli.list_commands(None)) - set(groups)
    commands |= {f"{group} {name}" for group in groups for name in cli.commands[group].commands}
    covered = {(command, code) for command, _, code in CASES} | set(NOT_POSSIBLE)
    missing = sorted((c, code) for c in commands for code in (0, 1, 2) if (c, code) not in covered)
    assert missing == [], "add a row to CASES, or say in NOT_POSSIBLE why the outcome cannot happen"


@pytest.mark.parametrize(("command", "args", "code"), CASES, ids=[f"{c} -> {code} ({' '.join(a)[:40]})" for c, a, code in CASES])
def test_exit_code(site, command, args, code):
    env = _env(site)
    if any("{corpus}" in a for a in args) and not CORPUS.exists():
        pytest.skip(f"shared corpus not available: {CORPUS}")
    if "damaged.evtx" in args:
        source = CORPUS / SECURITY_LOG
        if not source.exists():
            pytest.skip(f"shared corpus not available: {source}")
        data = bytearray(source.read_bytes())
        data[len(data) // 2 : len(data) // 2 + 4096] = b"\xff" * 4096  # a damaged chunk in the middle of a real log
        (site / "damaged.evtx").write_bytes(data)
    filled = [
        a.replace("{corpus}", str(CORPUS))
        .replace("{pseudonym}", _pseudonym(env) if "{pseudonym}" in a else a)
        .replace("{refused}", str(refused_port("127.0.16.80")))
        for a in args
    ]
    done = _run(site, env, *command.split(), *filled)
    assert done.returncode == code, f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr + done.stdout


def test_a_fixed_document_moment_makes_reports_reproducible_and_a_bad_one_is_refused(site):
    env = {**_env(site), "SOURCE_DATE_EPOCH": "1767225600"}  # 2026-01-01T00:00:00Z
    for out in ("same-1", "same-2"):
        done = _run(site, env, "report", "--period", "2026", "--format", "json", "--lang", "en", "--out", out)
        assert done.returncode == 1, done.stderr
    [first], [second] = (sorted((site / out).glob("*.json")) for out in ("same-1", "same-2"))
    assert (
        first.read_bytes() == second.read_bytes()
        and b'"generated_at":"2026-01-01T00:00:00.000000Z"' in first.read_bytes().replace(b" ", b"")
    )
    bad = _run(site, {**env, "SOURCE_DATE_EPOCH": "yesterday"}, "report", "--period", "2026", "--format", "json", "--out", "bad")
    assert bad.returncode == 2 and "SOURCE_DATE_EPOCH='yesterday' is not a whole number" in bad.stderr
    assert "Traceback" not in bad.stderr and not (site / "bad").exists()
