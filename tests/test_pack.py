"""Signed evidence packs: building, offline verification (ours, sha256sum, openssl), tampering, keys, diffs."""

from __future__ import annotations

import base64
import copy
import json
import os
import shutil
import stat
import subprocess
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from auditpack.controls.evaluate import evaluate_controls
from auditpack.controls.model import load_catalogue
from auditpack.errors import AuditpackError
from auditpack.jobs import run_rows
from auditpack.pack import FINGERPRINT_RECIPE, SHELL_RECIPE, PackError, build_pack, extract_pack, verify_pack, verify_text
from auditpack.pack_diff import diff_packs, format_diff
from auditpack.periods import Period
from auditpack.reports.document import build_document, evidence_item_ids
from auditpack.signing import (
    SigningKeyError,
    fingerprint,
    load_or_create_key,
    load_public_key,
    public_key_pem,
    sign,
    verify_signature,
)
from year_store import build_year

CREATED = datetime(2027, 1, 21, 9, 30, tzinfo=UTC)
SPRING = Period(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
needs_openssl = pytest.mark.skipif(
    not shutil.which("openssl") or not shutil.which("sha256sum") or not shutil.which("bash"),
    reason="openssl, sha256sum and bash are needed for the plain-tools recipe",
)


def _document(year, period, key):
    results = evaluate_controls(year.store, period, exceptions=year.exceptions, today=date(2027, 1, 20))
    return build_document(
        results,
        load_catalogue(),
        period,
        run_rows(year.store, period),
        "nl",
        signing_fingerprint=fingerprint(key),
        generated_at="2027-01-21T09:00:00.000000Z",
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("pack")
    year = build_year(base / "ev")
    key = load_or_create_key(base / "keys" / "signing-key.pem")
    (base / "KEY.pub").write_bytes(public_key_pem(key))  # what the auditor receives separately
    reports = {"report-2026-nl.html": base / "r.html", "report-2026-nl.json": base / "r.json"}
    reports["report-2026-nl.html"].write_text("<html><body>Rapportage 2026</body></html>\n")
    reports["report-2026-nl.json"].write_text('{"report": 2026}\n')
    document = _document(year, year.period, key)
    full = build_pack(year.store, document, reports, base / "out" / "pack-2026.zip", key, created_at=CREATED)
    spring_doc = _document(year, SPRING, key)
    spring = build_pack(year.store, spring_doc, {}, base / "out" / "pack-2026-spring.zip", key, created_at=CREATED)
    return {
        "base": base,
        "year": year,
        "key": key,
        "document": document,
        "reports": reports,
        "full": full,
        "spring_doc": spring_doc,
        "spring": spring,
        "pub": base / "KEY.pub",
    }


def _rewrite(
    src: Path, dst: Path, change: str | None = None, drop: str | None = None, add: tuple[str, bytes] | None = None
) -> Path:
    """A copy of the pack with one entry edited, removed or added, written by Python's zipfile."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            if info.filename == drop:
                continue
            data = old.read(info)
            if info.filename == change:
                data = bytes([data[0] ^ 0x01]) + data[1:]
            new.writestr(info.filename, data)
        if add:
            new.writestr(*add)
    return dst


def _blob_names(path: Path, part: str) -> set[str]:
    with zipfile.ZipFile(path) as archive:
        return {n.rsplit("/", 1)[1] for n in archive.namelist() if n.startswith(f"evidence/{part}/")}


# --- building -----------------------------------------------------------------------------------


def test_pack_verifies_and_lists_its_parts(env):
    result = verify_pack(env["full"].path, env["pub"])
    assert result.ok, result.problems
    assert result.signature_ok and not (result.changed or result.missing or result.added)
    with zipfile.ZipFile(env["full"].path) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert {
            "MANIFEST.json",
            "MANIFEST.json.sig",
            "SHA256SUMS",
            "SHA256SUMS.sig",
            "VERIFY.txt",
            "signing-key.pub",
            "report/document.json",
            "report/report-2026-nl.html",
            "report/report-2026-nl.json",
        } <= set(names)
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())
        manifest = json.loads(archive.read("MANIFEST.json"))
        assert json.loads(archive.read("report/document.json")) == env["document"]
        assert archive.read("report/report-2026-nl.html") == env["reports"]["report-2026-nl.html"].read_bytes()
        assert not any(b"PRIVATE KEY" in archive.read(n) for n in names)  # the private key stays outside
        assert archive.read("signing-key.pub") == public_key_pem(env["key"])
    assert manifest["signing_key"]["fingerprint"] == fingerprint(env["key"]) == env["full"].fingerprint
    assert manifest["period"] == {"start": "2026-01-01", "end": "2026-12-31", "ended": True}
    assert manifest["tool"]["version"] and manifest["created_at"] == "2027-01-21T09:30:00.000000Z"
    assert set(manifest["files"]) == set(names) - {"MANIFEST.json", "MANIFEST.json.sig", "SHA256SUMS", "SHA256SUMS.sig"}
    assert env["full"].files == len(names) and env["full"].items == len(evidence_item_ids(env["document"]))


def test_pack_carries_exactly_the_cited_evidence(env):
    store = env["year"].store
    records = {r.id: r for r in store.items()}
    for summary, document in ((env["full"], env["document"]), (env["spring"], env["spring_doc"])):
        cited = evidence_item_ids(document)
        with zipfile.ZipFile(summary.path) as archive:
            items = {
                n[len("evidence/") : -len(".json")] for n in archive.namelist() if n.startswith("evidence/") and n.count("/") == 1
            }
            assert items == cited
            some = sorted(cited)[0]
            meta = json.loads(archive.read(f"evidence/{some}.json"))
            assert archive.read(meta["raw"]["path"]) == store.read_blob(records[some].raw_sha256)
        assert meta["host"] == records[some].host and meta["collected"] == records[some].started
        assert meta["raw"]["sha256"] == meta["raw"]["pack_sha256"] == records[some].raw_sha256
        assert _blob_names(summary.path, "raw") == {records[i].raw_sha256 for i in cited}
        assert _blob_names(summary.path, "normalized") == {records[i].normalized_sha256 for i in cited} - {None}
    # the spring pack leaves out every blob only uncited items refer to, e.g. the rulesets with rule 3
    cited = evidence_item_ids(env["spring_doc"])
    blobs = {r.raw_sha256 for r in records.values()} | {r.normalized_sha256 for r in records.values()} - {None}
    kept = {records[i].raw_sha256 for i in cited} | {records[i].normalized_sha256 for i in cited}
    in_pack = _blob_names(env["spring"].path, "raw") | _blob_names(env["spring"].path, "normalized")
    rule3 = {r.normalized_sha256 for r in records.values() if r.kind == "firewall.ruleset" and r.started >= "2026-06"}
    assert rule3 and rule3 <= blobs - kept
    assert not (blobs - kept) & in_pack


def test_same_inputs_give_the_same_zip(env, tmp_path):
    again = build_pack(env["year"].store, env["document"], env["reports"], tmp_path / "again.zip", env["key"], created_at=CREATED)
    assert again.path.read_bytes() == env["full"].path.read_bytes()
    later = build_pack(env["year"].store, env["document"], env["reports"], tmp_path / "later.zip", env["key"])
    with zipfile.ZipFile(later.path) as a, zipfile.ZipFile(env["full"].path) as b:
        differ = {n for n in a.namelist() if a.read(n) != b.read(n)}
    assert differ == {"MANIFEST.json", "MANIFEST.json.sig", "SHA256SUMS", "SHA256SUMS.sig"}
    assert not list(tmp_path.glob(".*"))  # no temp or spool files left beside the pack


def test_report_signed_with_another_key_is_refused(env, tmp_path):
    other = load_or_create_key(tmp_path / "other.pem")
    with pytest.raises(PackError, match="names signing key"):
        build_pack(env["year"].store, env["document"], {}, tmp_path / "p.zip", other)
    with pytest.raises(PackError, match="plain file name"):
        build_pack(
            env["year"].store,
            env["document"],
            {"../x.html": env["reports"]["report-2026-nl.html"]},
            tmp_path / "p.zip",
            env["key"],
        )
    assert not (tmp_path / "p.zip").exists()


def test_blob_transform_stores_transformed_bytes_under_their_own_hash(env, tmp_path):
    def pseudonymise(data: bytes) -> bytes:
        return data.replace(b"Jan de Vries", b"persoon-1")

    summary = build_pack(
        env["year"].store, env["spring_doc"], {}, tmp_path / "pseudo.zip", env["key"], blob_transform=pseudonymise
    )
    assert verify_pack(summary.path, env["pub"]).ok
    ruleset = next(e["item_id"] for c in env["spring_doc"]["controls"] for e in c["evidence"] if e["kind"] == "firewall.ruleset")
    with zipfile.ZipFile(summary.path) as archive:
        meta = json.loads(archive.read(f"evidence/{ruleset}.json"))
        blob = archive.read(meta["normalized"]["path"])
        assert b"persoon-1" in blob and b"Jan de Vries" not in blob
        assert json.loads(archive.read("MANIFEST.json"))["evidence"]["transformed"] is True
    original = env["year"].store.read_blob(meta["normalized"]["sha256"])
    assert b"Jan de Vries" in original and pseudonymise(original) == blob
    assert meta["normalized"]["pack_sha256"] != meta["normalized"]["sha256"]
    assert meta["normalized"]["path"].endswith(meta["normalized"]["pack_sha256"]) and meta["transformed"]


# --- plain tools ------------------------------------------------------------------------------


def _run(command: str, cwd: Path, key: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", command.replace("KEY.pub", str(key))], cwd=cwd, capture_output=True, text=True, timeout=60
    )


@needs_openssl
def test_documented_recipe_verifies_with_sha256sum_and_openssl(env, tmp_path):
    unpacked = extract_pack(env["full"].path, tmp_path / "pack")
    text = (unpacked / "VERIFY.txt").read_text()
    chronology = json.loads((unpacked / "MANIFEST.json").read_text())["chronology"]
    assert text == verify_text(env["full"].fingerprint, env["document"]["period"], chronology)
    assert all(line in text for line in SHELL_RECIPE) and FINGERPRINT_RECIPE in text
    assert "auditpack verify PACK.zip --key KEY.pub" in text and "Nederlands" in text and "English" in text
    plain = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=unpacked, capture_output=True, text=True)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert plain.stdout.count(": OK\n") == len((unpacked / "SHA256SUMS").read_text().splitlines())
    for line in SHELL_RECIPE:
        done = _run(line, unpacked, env["pub"])
        assert done.returncode == 0, (line, done.stdout, done.stderr)
        assert done.stdout.strip() in ("Signature Verified Successfully", "OK"), (line, done.stdout)
    shown = _run(FINGERPRINT_RECIPE, unpacked, env["pub"])
    assert shown.stdout.strip().rstrip("=") == env["full"].fingerprint.removeprefix("SHA256:")


@needs_openssl
def test_documented_recipe_catches_tampering(env, tmp_path):
    unpacked = extract_pack(env["full"].path, tmp_path / "pack")
    blob = sorted((unpacked / "evidence" / "raw").iterdir())[0]
    blob.write_bytes(blob.read_bytes() + b" ")
    sums_check, sums_sig = SHELL_RECIPE[2], SHELL_RECIPE[1]
    assert _run(sums_check, unpacked, env["pub"]).returncode != 0
    # the forger also updates SHA256SUMS: then its signature no longer fits
    sums = unpacked / "SHA256SUMS"
    new_hash = subprocess.run(["sha256sum", str(blob.relative_to(unpacked))], cwd=unpacked, capture_output=True, text=True).stdout
    rel = str(blob.relative_to(unpacked))
    sums.write_text(
        "".join(new_hash if line.endswith(f"  {rel}\n") else line for line in sums.read_text().splitlines(keepends=True))
    )
    assert _run(sums_check, unpacked, env["pub"]).returncode == 0
    assert _run(sums_sig, unpacked, env["pub"]).returncode != 0
    # an edited manifest fails its own signature; an extra file fails the file-list line
    manifest = unpacked / "MANIFEST.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"2026-12-31"', b'"2027-12-31"'))
    assert _run(SHELL_RECIPE[0], unpacked, env["pub"]).returncode != 0
    (unpacked / "evidence" / "extra.json").write_text("{}")
    assert _run(SHELL_RECIPE[3], unpacked, env["pub"]).returncode != 0


# --- tampering ---------------------------------------------------------------------------------


def test_changed_byte_in_one_blob_is_named(env, tmp_path):
    with zipfile.ZipFile(env["full"].path) as archive:
        target = next(n for n in archive.namelist() if n.startswith("evidence/raw/"))
    result = verify_pack(_rewrite(env["full"].path, tmp_path / "t.zip", change=target), env["pub"])
    assert not result.ok and result.signature_ok
    assert result.changed == [target] and result.missing == [] and result.added == []
    assert len(result.problems) == 1 and target in result.problems[0]


def test_deleted_file_is_named(env, tmp_path):
    target = "report/report-2026-nl.json"
    result = verify_pack(_rewrite(env["full"].path, tmp_path / "t.zip", drop=target), env["pub"])
    assert not result.ok and result.missing == [target] and result.changed == [] and result.added == []
    assert len(result.problems) == 1 and target in result.problems[0]


def test_added_file_is_named(env, tmp_path):
    target = "evidence/raw/" + "0" * 64
    result = verify_pack(_rewrite(env["full"].path, tmp_path / "t.zip", add=(target, b"planted")), env["pub"])
    assert not result.ok and result.added == [target] and result.changed == [] and result.missing == []
    assert len(result.problems) == 1 and target in result.problems[0]


def test_rewritten_sums_and_signatures_are_named(env, tmp_path):
    result = verify_pack(_rewrite(env["full"].path, tmp_path / "s.zip", change="SHA256SUMS"), env["pub"])
    assert not result.ok and result.changed == ["SHA256SUMS"]
    result = verify_pack(_rewrite(env["full"].path, tmp_path / "m.zip", change="MANIFEST.json"), env["pub"])
    assert not result.ok and not result.signature_ok
    result = verify_pack(_rewrite(env["full"].path, tmp_path / "g.zip", drop="MANIFEST.json.sig"), env["pub"])
    assert not result.ok and not result.signature_ok and result.missing == ["MANIFEST.json.sig"]


def test_another_key_fails_the_signature(env, tmp_path):
    other = load_or_create_key(tmp_path / "other.pem")
    result = verify_pack(env["full"].path, other.public_key())
    assert not result.ok and not result.signature_ok
    assert result.changed == result.missing == result.added == []
    assert fingerprint(other) in result.problems[0] and env["full"].fingerprint in result.problems[0]


def test_not_a_pack_gives_a_problem_not_a_traceback(env, tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"this is not a zip file")
    result = verify_pack(junk, env["pub"])
    assert not result.ok and "not a readable zip" in result.problems[0]
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("hello.txt", "hi")
    result = verify_pack(empty, env["pub"])
    assert not result.ok and result.missing == ["MANIFEST.json"] and "MANIFEST.json" in result.problems[0]
    assert "does not exist" in verify_pack(tmp_path / "nope.zip", env["pub"]).problems[0]
    truncated = tmp_path / "cut.zip"
    truncated.write_bytes(env["full"].path.read_bytes()[: env["full"].size // 2])
    assert not verify_pack(truncated, env["pub"]).ok


# --- keys ---------------------------------------------------------------------------------------


def test_key_is_created_private_and_reused(tmp_path, monkeypatch):
    path = tmp_path / "cfg" / "auditpack" / "signing-key.pem"
    monkeypatch.setenv("AUDITPACK_SIGNING_KEY", str(path))
    key = load_or_create_key()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert fingerprint(load_or_create_key()) == fingerprint(key) == fingerprint(key.public_key())
    fp = fingerprint(key)
    assert fp.startswith("SHA256:") and len(fp) == 7 + 43 and not fp.endswith("=")
    pub = load_public_key(public_key_pem(key))
    assert verify_signature(pub, b"data", sign(key, b"data")) and not verify_signature(pub, b"dat4", sign(key, b"data"))
    with pytest.raises(SigningKeyError, match="private key"):
        load_public_key(path)


def test_key_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "signing-key.pem"
    load_or_create_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(SigningKeyError, match=r"0644.*chmod 600"):
        load_or_create_key(path)


def test_unusable_key_files_are_explained(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_bytes(b"not a key")
    os.chmod(bad, 0o600)
    with pytest.raises(SigningKeyError, match="not a readable PEM"):
        load_or_create_key(bad)
    with pytest.raises(SigningKeyError, match="not a readable public key"):
        load_public_key(b"garbage")
    with pytest.raises(SigningKeyError, match="cannot read"):
        load_public_key(tmp_path / "absent.pub")


def test_signature_file_is_base64_of_the_raw_signature(env):
    with zipfile.ZipFile(env["full"].path) as archive:
        sig = base64.b64decode(archive.read("MANIFEST.json.sig"))
        assert verify_signature(load_public_key(env["pub"]), archive.read("MANIFEST.json"), sig)


# --- diffs --------------------------------------------------------------------------------------


def test_diff_spring_against_the_year_shows_results_and_the_new_rule(env):
    diff = diff_packs(env["spring"].path, env["full"].path)
    av = next(c for c in diff["controls"] if c["id"] == "T-AV")
    assert av["status"] == {"old": "effective", "new": "not_effective"} and av["status_changed"]
    assert av["deviations"]["old"] < av["deviations"]["new"]
    fw = next(f for f in diff["firewall"] if f["device"] == "fw01")
    assert [r["id"] for r in fw["added"]] == ["3"] and fw["removed"] == [] and fw["changed"] == []
    assert fw["old"]["collected"] < "2026-05-01" <= fw["new"]["collected"]
    changed = {(e["control"], e["scope"]): e for e in diff["exceptions"]["changed"]}
    assert changed[("T-BAK-1", "dc01")]["old"] == {"state": "unused"}  # dc01's failed backup is in November
    assert changed[("T-BAK-1", "dc01")]["new"] == {"state": "active"}
    nl, en = format_diff(diff, "nl"), format_diff(diff, "en")
    assert "T-AV: Werkzaam → Niet werkzaam" in nl and "T-AV: Effective → Not effective" in en
    assert "+ regel erbij 3: allow tcp/8443" in nl and "+ rule added 3: allow tcp/8443" in en
    assert "T-BAK-1 dc01: gewijzigd: stand niet gebruikt → actief" in nl
    with pytest.raises(ValueError):
        format_diff(diff, "de")


def test_diff_of_a_modified_document(env, tmp_path):
    document = copy.deepcopy(env["document"])
    bak = next(c for c in document["controls"] if c["id"] == "T-BAK-1")
    bak["status"] = "not_effective"
    bak["deviations"].append(dict(bak["deviations"][0]))
    bak["population"]["subjects"] = bak["population"]["subjects"][1:] + ["nas01"]
    bak["exceptions"] = []
    new = build_pack(env["year"].store, document, {}, tmp_path / "edited.zip", env["key"], created_at=CREATED)
    diff = diff_packs(env["full"].path, new.path)
    assert [c["id"] for c in diff["controls"]] == ["T-BAK-1"]
    entry = diff["controls"][0]
    assert entry["status"] == {"old": "effective_with_deviations", "new": "not_effective"}
    assert entry["deviations"]["new"] == entry["deviations"]["old"] + 1
    removed_subject = env["document"]["controls"][[c["id"] for c in env["document"]["controls"]].index("T-BAK-1")]
    assert diff["populations"] == [
        {"control": "T-BAK-1", "added": ["nas01"], "removed": [removed_subject["population"]["subjects"][0]]}
    ]
    assert [(e["control"], e["scope"]) for e in diff["exceptions"]["removed"]] == [("T-BAK-1", "dc01")]
    assert all(not (f["added"] or f["removed"] or f["changed"]) for f in diff["firewall"])
    assert "fw01" in format_diff(diff, "en") and "unchanged" in format_diff(diff, "en")


def test_diff_of_something_that_is_not_a_pack(env, tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"nope")
    with pytest.raises(PackError, match="not a readable zip"):
        diff_packs(junk, env["full"].path)


def test_a_malformed_document_is_a_pack_error_not_a_key_error(env, tmp_path):
    """Build and diff say what is wrong with a document that is not what auditpack writes, as their own error."""
    for broken in ({"period": None}, {"controls": [{"id": "T-BAK-1"}]}, {"controls": "T-BAK-1"}):
        with pytest.raises(PackError, match="not a report document"):
            build_pack(env["year"].store, broken, {}, tmp_path / "broken.zip", env["key"], created_at=CREATED)
    assert not (tmp_path / "broken.zip").exists()
    document = copy.deepcopy(env["document"])
    del document["controls"][0]["population"]
    odd = build_pack(env["year"].store, document, {}, tmp_path / "odd.zip", env["key"], created_at=CREATED)
    with pytest.raises(PackError, match="cannot be compared.*population"):
        diff_packs(env["full"].path, odd.path)
    assert issubclass(PackError, AuditpackError) and issubclass(SigningKeyError, AuditpackError)


def test_a_manifest_naming_its_key_oddly_gives_problems_not_a_traceback(env, tmp_path):
    odd = tmp_path / "odd-key.zip"
    with zipfile.ZipFile(env["full"].path) as old, zipfile.ZipFile(odd, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "MANIFEST.json":
                data = json.dumps({**json.loads(data), "signing_key": "SHA256:x"}).encode()
            new.writestr(info.filename, data)
    result = verify_pack(odd, env["pub"])
    assert not result.ok and result.fingerprint is None
    assert any("MANIFEST.json.sig does not verify" in p for p in result.problems)
