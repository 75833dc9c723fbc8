"""Chronology proven offline: run manifests chained by hash and dated by RFC 3161 tokens from a real TSA on loopback
(openssl ts -reply behind HTTP, lab/auditpack_lab/peers/tsa.py), in the store and in the pack; checked by
`auditpack verify` and by VERIFY.txt's shell recipe, run literally; a TSA that cannot be reached loses no evidence."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditpack.canonical import sha256_hex
from auditpack.controls.model import load_catalogue
from auditpack.evidence import Observation
from auditpack.jobs import run_rows
from auditpack.pack import build_pack, chain_recipe, extract_pack, verify_pack
from auditpack.pack_chronology import TOKEN_RECIPE
from auditpack.periods import year_period
from auditpack.reports.document import build_document
from auditpack.signing import fingerprint, load_or_create_key, public_key_pem, sign
from auditpack.store import EvidenceStore
from auditpack.timestamping import Tsa, load_tsa_certificates
from auditpack_lab.peers.sockets import refused_port
from conftest import auditpack_bin

PERIOD = year_period(2026)
STARTS = ["2025-12-31T06:00:00", "2026-01-05T06:00:00", "2026-02-02T06:00:00", "2026-03-02T06:00:00"]  # run 1 before
needs_tools = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("openssl", "sha256sum", "bash")), reason="openssl, sha256sum and bash are needed"
)


def _tsa(peer, url: str | None = None) -> Tsa:
    return Tsa(url or peer.url, peer.pki.ca_file, load_tsa_certificates(peer.pki.ca_file), timeout=3)


def _commit(store: EvidenceStore, started: str, payload: bytes) -> None:
    run = store.begin_run("tester")
    run.started = datetime.fromisoformat(started).replace(tzinfo=UTC)
    run.add("fw01", "ssh", Observation("firewall.ruleset", "nft -j list ruleset", payload, run.started, run.started))
    run.close_source("fw01", "ok", [], roles=["firewall"], connection="ssh")
    run.commit()


def _pack(store: EvidenceStore, key, out: Path) -> Path:
    runs = run_rows(store, PERIOD)
    document = build_document([], load_catalogue(), PERIOD, runs, "en", signing_fingerprint=fingerprint(key))
    return build_pack(store, document, {}, out, key).path


@pytest.fixture(scope="module")
def site(tmp_path_factory, tsa_peer):
    base = tmp_path_factory.mktemp("chronology")
    store = EvidenceStore(base / "evidence", tsa=_tsa(tsa_peer))
    for n, started in enumerate(STARTS):
        _commit(store, started, f'{{"nftables": [{n}]}}'.encode())
    key = load_or_create_key(base / "keys" / "signing-key.pem")
    (base / "KEY.pub").write_bytes(public_key_pem(key))
    return {"base": base, "store": store, "key": key, "pub": base / "KEY.pub", "pack": _pack(store, key, base / "pack.zip")}


def _recipe(unpacked: Path, ca: Path) -> str:
    """VERIFY.txt's steps C and D as an auditor runs them: bash, sha256sum, openssl; everything they print."""
    text = (unpacked / "VERIFY.txt").read_text()
    lines = chain_recipe({"start": PERIOD.start.date().isoformat()}) + TOKEN_RECIPE
    assert all(line in text for line in lines)  # what the auditor reads is what is run here
    out = ""
    for line in lines:
        done = subprocess.run(["bash", "-c", line.replace("TSA-CA.pem", str(ca))], cwd=unpacked, capture_output=True, text=True)
        out += done.stdout
    return out


def _forge(pack: Path, out: Path, key, edit) -> Path:
    """What the key holder could do: change files of the unpacked pack, then list, hash and sign it all anew."""
    work = extract_pack(pack, out.with_suffix(".d"))
    edit(work)
    manifest = json.loads((work / "MANIFEST.json").read_text())
    unlisted = {"MANIFEST.json", "MANIFEST.json.sig", "SHA256SUMS", "SHA256SUMS.sig", "MANIFEST.json.tsr"}
    (work / "MANIFEST.json.tsr").unlink(missing_ok=True)  # a token over the old manifest would give it away at once
    files = sorted(str(p.relative_to(work)) for p in work.rglob("*") if p.is_file() and str(p.relative_to(work)) not in unlisted)
    manifest["files"] = {f: {"sha256": sha256_hex((work / f).read_bytes()), "size": (work / f).stat().st_size} for f in files}
    manifest_bytes = json.dumps(manifest, sort_keys=True, indent=1, ensure_ascii=False).encode() + b"\n"
    (work / "MANIFEST.json").write_bytes(manifest_bytes)
    sums = "".join(f"{sha256_hex((work / f).read_bytes())}  {f}\n" for f in sorted([*files, "MANIFEST.json"])).encode()
    (work / "SHA256SUMS").write_bytes(sums)
    (work / "MANIFEST.json.sig").write_bytes(base64.b64encode(sign(key, manifest_bytes)) + b"\n")
    (work / "SHA256SUMS.sig").write_bytes(base64.b64encode(sign(key, sums)) + b"\n")
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(p for p in work.rglob("*") if p.is_file()):
            archive.write(path, str(path.relative_to(work)))
    return out


def _flip(path: Path, offset: int = -40) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


# --- the store --------------------------------------------------------------------------------------------------


def test_every_run_is_timestamped_at_commit_and_the_store_verifies(site, tsa_peer):
    store = site["store"]
    refs = store.manifest_refs()
    assert [r.seq for r in refs] == [1, 2, 3, 4] and all(r.token_path.exists() for r in refs)
    report = store.verify()
    assert report.ok and report.timestamps == {"at_commit": 4}, report.findings
    ref = refs[1]  # openssl reads the store's token as it is: the TSA's own reply
    done = subprocess.run(
        ["openssl", "ts", "-verify", "-in", ref.token_path, "-data", ref.path, "-CAfile", tsa_peer.pki.ca_file],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "Verification: OK" in done.stdout, done.stderr
    _flip(ref.token_path)
    try:
        broken = store.verify()
        assert not broken.ok and any(ref.token_path.name in f.path and f.severity == "error" for f in broken.findings)
    finally:
        _flip(ref.token_path)


def test_an_unreachable_tsa_loses_no_run_and_timestamp_adds_a_late_token(tmp_path, tsa_peer, cli_env):
    down = _tsa(tsa_peer, f"http://127.0.9.3:{refused_port('127.0.9.3')}/")
    store = EvidenceStore(tmp_path / "evidence", tsa=down)
    _commit(store, "2026-01-05T06:00:00", b"{}")
    [ref] = store.manifest_refs()
    assert ref.path.exists() and not ref.token_path.exists()  # committed all the same
    note = json.loads(ref.note_path.read_text())
    assert "cannot be reached" in note["reason"] and note["tsa"] == down.url
    [warning] = [f for f in store.verify().findings if f.severity == "warning"]
    assert "not timestamped" in warning.message and "cannot be reached" in warning.message
    env = {**cli_env, "AUDITPACK_TSA_URL": tsa_peer.url, "AUDITPACK_TSA_CA": str(tsa_peer.pki.ca_file)}

    def auditpack(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [auditpack_bin(), *args, "--store", str(store.root)], env={**env, **extra}, capture_output=True, text=True, timeout=60
        )

    without = auditpack("timestamp", AUDITPACK_TSA_URL="")
    assert without.returncode == 2 and "AUDITPACK_TSA_URL" in without.stderr and "Traceback" not in without.stderr
    tsa_peer.refuse = True
    try:
        refused = auditpack("timestamp")
    finally:
        tsa_peer.refuse = False
    assert refused.returncode == 1 and "HTTP 503" in refused.stdout and not ref.token_path.exists()
    late = auditpack("timestamp")
    assert late.returncode == 0, late.stdout + late.stderr
    assert "run 1: timestamped late" in late.stdout and "cannot be reached" in late.stdout
    assert ref.token_path.exists() and ref.note_path.exists()  # the note keeps saying why not at commit
    checked = auditpack("verify")
    assert checked.returncode == 0 and "timestamped late" in checked.stdout and "1 late" in checked.stdout
    assert auditpack("timestamp").stdout.startswith("Every run already has a timestamp")


# --- the pack ---------------------------------------------------------------------------------------------------


@needs_tools
def test_the_pack_carries_the_chain_and_its_tokens_and_both_checks_pass(site, tsa_peer, tmp_path):
    result = verify_pack(site["pack"], site["pub"], tsa_peer.pki.ca_file)
    assert result.ok and result.notices == [], (result.problems, result.notices)
    assert result.chronology.startswith("chain of runs 1–4; run timestamps: 4 at commit; pack manifest: timestamped ")
    with zipfile.ZipFile(site["pack"]) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("MANIFEST.json"))
    assert {f"runs/{r.path.name}" for r in site["store"].manifest_refs()} <= names  # run 1: the one before the period
    assert {f"runs/{r.token_path.name}" for r in site["store"].manifest_refs()} <= names
    assert {"MANIFEST.json.tsr", "tsa-ca.pem"} <= names and manifest["chronology"]["anchor"] == 1
    unpacked = extract_pack(site["pack"], tmp_path / "pack")
    said = _recipe(unpacked, tsa_peer.pki.ca_file)
    assert said.count("OK: runs/") == 4 and "Verification: OK" in said
    assert "OK: chain checked up to run 4" in said and "OK: the chain starts at runs/000001-" in said
    assert "OK: the report's latest manifest is runs/000004-" in said
    assert not [line for line in said.splitlines() if line.split(":")[0] in ("MISSING", "CHANGED", "BROKEN", "FAILED")]
    fingerprint_line = subprocess.run(
        ["bash", "-c", TOKEN_RECIPE[0].replace("TSA-CA.pem", str(tsa_peer.pki.ca_file))], capture_output=True, text=True
    )
    assert fingerprint_line.stdout.strip() == manifest["chronology"]["tsa"]["ca_sha256"]
    assert manifest["chronology"]["tsa"]["ca_sha256"] in (unpacked / "VERIFY.txt").read_text()


@needs_tools
def test_a_changed_manifest_inside_a_resigned_pack_is_named(site, tsa_peer, tmp_path):
    target = f"runs/{site['store'].manifest_refs()[2].path.name}"

    def edit(work: Path) -> None:
        path = work / target
        path.write_bytes(path.read_bytes().replace(b'"status": "complete"', b'"status": "partial"'))

    forged = _forge(site["pack"], tmp_path / "forged.zip", site["key"], edit)
    result = verify_pack(forged, site["pub"], tsa_peer.pki.ca_file)
    assert result.signature_ok and not result.ok  # the signature holds: the key holder signed it
    named = [p for p in result.problems if p.startswith(target)]
    assert any("does not match the SHA-256 in its name" in p for p in named)
    assert any("token is about other bytes" in p for p in named)
    said = _recipe(tmp_path / "forged.d", tsa_peer.pki.ca_file)
    assert f"CHANGED: {target}" in said and f"FAILED: {target}.tsr does not verify" in said
    assert "NOT TIMESTAMPED: MANIFEST.json" in said
    # changed by someone without the key: the signed lists name it as well
    with zipfile.ZipFile(site["pack"]) as old, zipfile.ZipFile(tmp_path / "changed.zip", "w") as new:
        for info in old.infolist():
            data = old.read(info)
            new.writestr(info, data.replace(b'"status": "complete"', b'"status": "partial"') if info.filename == target else data)
    result = verify_pack(tmp_path / "changed.zip", site["pub"], tsa_peer.pki.ca_file)
    assert result.changed == [target] and any(p.startswith(f"{target}: content does not match") for p in result.problems)


@needs_tools
def test_a_damaged_token_is_named(site, tsa_peer, tmp_path):
    target = f"runs/{site['store'].manifest_refs()[1].token_path.name}"
    forged = _forge(site["pack"], tmp_path / "forged.zip", site["key"], lambda work: _flip(work / target))
    result = verify_pack(forged, site["pub"], tsa_peer.pki.ca_file)
    assert result.signature_ok and [p for p in result.problems if p.startswith(target)], result.problems
    said = _recipe(tmp_path / "forged.d", tsa_peer.pki.ca_file)
    assert f"FAILED: {target} does not verify" in said and said.count("OK: runs/") == 3


@needs_tools
def test_a_pack_without_the_first_run_of_the_period_is_named(site, tsa_peer, tmp_path, cli_env):
    """The key holder removes the period's first run from a copy of the store and packs and signs anew."""
    doctored = tmp_path / "doctored"
    shutil.copytree(site["store"].root, doctored)
    first = site["store"].manifest_refs()[1]  # run 2, the period's first; run 1 is before the period
    for path in doctored.glob(f"runs/{first.path.name}*"):
        path.unlink()
    (doctored / "index.sqlite").unlink()
    pack = _pack(EvidenceStore(doctored, create=False, tsa=_tsa(tsa_peer)), site["key"], tmp_path / "doctored.zip")
    result = verify_pack(pack, site["pub"], tsa_peer.pki.ca_file)
    assert result.signature_ok and not result.ok
    assert any("run 2 is missing from the chain (found run 3 next)" in p for p in result.problems), result.problems
    assert any("the chain is broken" in p for p in result.problems)
    said = _recipe(extract_pack(pack, tmp_path / "unpacked"), tsa_peer.pki.ca_file)
    assert "MISSING: run(s) 2 to 2, before runs/000003-" in said and "BROKEN: runs/000003-" in said
    # and without the run before the period too, the chain starts inside the period: also named, by both
    for path in doctored.glob("runs/000001-*"):
        path.unlink()
    (doctored / "index.sqlite").unlink()
    pack = _pack(EvidenceStore(doctored, create=False, tsa=_tsa(tsa_peer)), site["key"], tmp_path / "no-anchor.zip")
    result = verify_pack(pack, site["pub"], tsa_peer.pki.ca_file)
    assert any("the chain starts at run 3, which started in the period (2026-02-02)" in p for p in result.problems)
    said = _recipe(extract_pack(pack, tmp_path / "no-anchor"), tsa_peer.pki.ca_file)
    assert "MISSING: the run(s) before runs/000003-" in said
    done = subprocess.run(
        [auditpack_bin(), "verify", str(pack), "--key", str(site["pub"]), "--tsa-ca", str(tsa_peer.pki.ca_file)],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "the chain starts at run 3" in done.stdout and "Traceback" not in done.stderr
    intact = subprocess.run(
        [auditpack_bin(), "verify", str(site["pack"]), "--key", str(site["pub"]), "--tsa-ca", str(tsa_peer.pki.ca_file)],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert intact.returncode == 0 and "Chronology: chain of runs 1–4" in intact.stdout, intact.stdout


def test_a_token_is_checked_against_the_auditors_tsa_certificate_not_the_packs(site, tmp_path):
    """A processor with a TSA of its own making: its tokens hold against its certificate, not against the real TSA's."""
    from auditpack_lab.peers.tsa import make_tsa_pki

    other = make_tsa_pki(tmp_path / "other-tsa")
    result = verify_pack(site["pack"], site["pub"], other.ca_file)
    assert not result.ok and sum("does not verify against the TSA certificate given" in p for p in result.problems) == 5
    own_copy = verify_pack(site["pack"], site["pub"])  # no --tsa-ca: the pack's copy, and it says so
    assert own_copy.ok and any("the pack's own copy of the TSA certificate" in n for n in own_copy.notices)
    digest = hashlib.sha256((tmp_path / "other-tsa" / "tsa-ca.pem").read_bytes()).hexdigest()
    assert digest not in " ".join(own_copy.notices)


# --- the report -------------------------------------------------------------------------------------------------


def test_the_report_states_each_runs_timestamp_in_its_own_language(tmp_path, tsa_peer):
    from auditpack.reports.html import render_report_html
    from auditpack.reports.json_export import validate_document
    from auditpack.reports.workbook import build_workbook

    live = _tsa(tsa_peer)
    down = _tsa(tsa_peer, f"http://127.0.9.3:{refused_port('127.0.9.3')}/")
    store = EvidenceStore(tmp_path / "evidence", tsa=live)
    _commit(store, "2026-01-05T06:00:00", b"{}")  # timestamped at commit
    store.tsa = down
    _commit(store, "2026-02-02T06:00:00", b"{}")  # not timestamped at commit: timestamped late below
    _commit(store, "2026-03-02T06:00:00", b"{}")  # not timestamped at all
    store.tsa = live
    assert store.timestamp_run(store.manifest_refs()[1]) is None
    runs = run_rows(store, PERIOD)
    assert [r["timestamp"]["late"] for r in runs] == [False, True, False]
    assert [r["timestamp"]["reason"] for r in runs] == [None, "unreachable", "unreachable"] and runs[2]["timestamp"][
        "time"
    ] is None
    words = {
        "nl": ("bij vastleggen 1", "later gezet 1", "zonder tijdstempel 1", "tijdstempeldienst niet bereikbaar"),
        "en": ("at commit 1", "set late 1", "none 1", "Time-Stamp Authority unreachable"),
    }
    for lang, expected in words.items():
        document = build_document([], load_catalogue(), PERIOD, runs, lang)
        validate_document(document)  # the published schema knows the timestamp of a run
        html = render_report_html(document, charts=False)
        assert all(word in html for word in expected), (lang, [w for w in expected if w not in html])
        other = words["en" if lang == "nl" else "nl"][-1]
        assert other not in html
        sheet = build_workbook(document)[{"nl": "Verzamelrondes", "en": "Collection runs"}[lang]]
        rows = [[c.value for c in row] for row in sheet.iter_rows()]
        assert any(expected[-1] in [str(v) for v in row] for row in rows), rows[:3]


@needs_tools
def test_a_pseudonymised_pack_withholds_a_manifest_that_names_people_and_still_checks_its_token(site, tsa_peer, tmp_path):
    def pseudonymise(value):  # the operator "tester" stands in for a name the pseudonymiser would replace
        return json.loads(json.dumps(value).replace('"tester"', '"P-0000000000"'))

    runs = run_rows(site["store"], PERIOD)
    document = build_document([], load_catalogue(), PERIOD, runs, "en", signing_fingerprint=fingerprint(site["key"]))
    pack = build_pack(site["store"], document, {}, tmp_path / "pseudo.zip", site["key"], meta_transform=pseudonymise).path
    with zipfile.ZipFile(pack) as archive:
        carried = [n for n in archive.namelist() if n.startswith("runs/") and n.endswith(".json")]
        withheld = [n for n in archive.namelist() if n.endswith(".withheld")]
        assert carried == [] and len(withheld) == 4 and b"tester" not in b"".join(archive.read(n) for n in withheld)
    result = verify_pack(pack, site["pub"], tsa_peer.pki.ca_file)
    assert result.ok, result.problems
    assert sum("withheld from this pseudonymised pack" in n for n in result.notices) == 4
    said = _recipe(extract_pack(pack, tmp_path / "unpacked"), tsa_peer.pki.ca_file)
    assert said.count("WITHHELD: runs/") == 5 and said.count("OK: runs/") == 4, said  # tokens checked against the hashes
    assert "WITHHELD: runs/000001-" in said and "the chain's first run" in said
