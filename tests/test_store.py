from __future__ import annotations

import json
import sqlite3

import pytest

from auditpack.canonical import sha256_hex, utcnow
from auditpack.evidence import ItemStatus, Observation
from auditpack.inventory import parse_inventory
from auditpack.store import EvidenceStore, StoreError

HOST = parse_inventory(b"all:\n  hosts:\n    h1: {ansible_host: 127.0.0.1}\n").hosts[0]


def one_run(store: EvidenceStore, payloads: list[bytes], normalized=None) -> tuple:
    run = store.begin_run("tester", "inv.yaml", "0" * 64)
    for data in payloads:
        now = utcnow()
        run.add("h1", "test", Observation("test.kind", "echo", data, now, now, normalized=normalized or {"n": len(data)}))
    run.close_host(HOST, "ok", [])
    return run.commit()


def flip_byte(path, offset=-5):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_raw_output_is_kept_byte_for_byte_and_content_addressed(store):
    raw = b"\xff\xfe binary \x00 output \r\n"
    ref, body = one_run(store, [raw, raw])
    item = body["items"][0]
    assert item["raw"]["sha256"] == sha256_hex(raw)
    assert store.read_blob(item["raw"]["sha256"]) == raw
    assert body["items"][0]["raw"] == body["items"][1]["raw"]  # same bytes, one blob
    assert store.read_json(item["normalized"]["sha256"]) == {"n": len(raw)}
    for key in ("host", "collector", "command", "tool_version", "started", "ended", "operator", "errors", "auditpack_version"):
        assert key in item
    assert ref.path.name == f"000001-{ref.sha256}.json"
    assert sha256_hex(ref.path.read_bytes()) == ref.sha256


def test_manifests_form_a_hash_chain(store):
    first, _ = one_run(store, [b"a"])
    second, body = one_run(store, [b"b"])
    assert body["prev"] == first.sha256 and body["seq"] == 2
    assert store.load_manifest(first)["prev"] is None
    report = store.verify()
    assert report.ok and report.manifests == 2 and report.items == 2


def test_flipped_byte_in_a_blob_is_named(store):
    _, body = one_run(store, [b"evidence that matters"])
    sha = body["items"][0]["raw"]["sha256"]
    flip_byte(store.blob_path(sha))
    report = store.verify()
    assert not report.ok
    assert any(sha in f.path and "does not match" in f.message for f in report.findings)


@pytest.mark.parametrize("offset", [10, -40, -3])
def test_flipped_byte_in_a_manifest_is_named(store, offset):
    first, _ = one_run(store, [b"a"])
    one_run(store, [b"b"])
    flip_byte(first.path, offset)
    report = store.verify()
    assert not report.ok
    assert any(first.path.name in f.path for f in report.findings if f.severity == "error")


def test_flipped_byte_in_the_last_manifest_is_named(store):
    one_run(store, [b"a"])
    last, _ = one_run(store, [b"b"])
    flip_byte(last.path, 30)
    report = store.verify()
    assert {f.path for f in report.findings if f.severity == "error"} == {f"runs/{last.path.name}"}  # that one only


def test_missing_blob_missing_run_and_deleted_last_run_are_named(store):
    one_run(store, [b"a"])
    middle, body = one_run(store, [b"b"])
    last, _ = one_run(store, [b"c"])
    store.blob_path(body["items"][0]["raw"]["sha256"]).unlink()
    report = store.verify()
    assert any("is missing" in f.message and middle.path.name in f.path for f in report.findings)
    middle.path.unlink()
    report = store.verify()
    assert any("run 2 is missing from the chain" in f.message for f in report.findings)
    assert any("run 2" in f.message and "index" in f.path for f in report.findings)
    last.path.unlink()  # the newest run: only the index still knows it existed
    assert any("run 3" in f.message and "gone" in f.message for f in store.verify().findings)


def test_replacing_a_manifest_with_a_recomputed_one_breaks_the_chain(store):
    first, _ = one_run(store, [b"a"])
    one_run(store, [b"b"])
    body = json.loads(first.path.read_bytes())
    body["operator"] = "someone else"
    data = json.dumps(body, sort_keys=True, indent=1).encode() + b"\n"
    first.path.unlink()
    (first.path.parent / f"000001-{sha256_hex(data)}.json").write_bytes(data)
    report = store.verify()
    assert any("chain is broken" in f.message for f in report.findings)


def test_unreferenced_blobs_and_temp_files_are_harmless(store):
    one_run(store, [b"a"])
    store.put_blob(b"written by a run that was killed before its manifest")
    (store.root / "tmp" / "half-written.xyz").write_bytes(b"partial")
    (store.root / "tmp" / "half-written.xyz").chmod(0o600)  # as auditpack's own writes are: only its leftovers are said
    report = store.verify()
    assert report.ok
    assert {f.severity for f in report.findings} == {"info"}
    assert len(report.findings) == 2


def test_day_old_temp_files_are_removed_by_the_next_run(store):
    import os
    import time

    old, fresh = store.root / "tmp" / "old.part", store.root / "tmp" / "fresh.part"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    day_ago = time.time() - 90000
    os.utime(old, (day_ago, day_ago))
    one_run(store, [b"a"])
    assert not old.exists() and fresh.exists()


def test_index_is_rebuilt_from_manifests(store):
    one_run(store, [b"a", b"b"])
    (store.root / "index.sqlite").unlink()
    assert len(store.items(kinds=["test.kind"])) == 2
    with sqlite3.connect(store.root / "index.sqlite") as db:
        db.execute("DELETE FROM runs")
        db.execute("DELETE FROM items")
    assert len(store.items()) == 2


def test_statuses_and_errors_survive(store):
    run = store.begin_run("tester")
    now = utcnow()
    run.add("h1", "test", Observation("x", "cmd", b"garbage", now, now, status=ItemStatus.GARBLED, errors=["bad json"]))
    run.close_host(HOST, "partial", ["bad json"])
    ref, body = run.commit()
    assert body["status"] == "partial"
    item = store.items()[0]
    assert (item.status, item.errors, item.normalized_sha256) == ("garbled", ("bad json",), None)
    assert store.read_blob(item.raw_sha256) == b"garbage"


def test_late_items_of_a_closed_host_are_refused(store):
    run = store.begin_run("tester")
    run.close_host(HOST, "timeout", ["timed out"])
    now = utcnow()
    assert run.add("h1", "test", Observation("x", "cmd", b"late", now, now)) is None
    _, body = run.commit()
    assert body["items"] == []


def test_a_directory_that_is_not_a_store_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not empty"):
        EvidenceStore(tmp_path)
    with pytest.raises(StoreError, match="not an auditpack evidence store"):
        EvidenceStore(tmp_path / "absent", create=False)


def test_the_day_an_item_speaks_for_is_kept_and_indexed(store):
    """An imported backup of an earlier day is evidence of that day; a collected item of the day it was read."""
    from datetime import date

    now = utcnow()
    run = store.begin_run("op")
    run.add(
        "fw01",
        "import",
        Observation(kind="firewall.ruleset", command="import x", raw=b"a", started=now, ended=now, as_of=date(2026, 3, 1)),
    )
    run.add("fw01", "ssh", Observation(kind="firewall.ruleset", command="nft", raw=b"b", started=now, ended=now))
    run.close_source("fw01", "ok", [])
    _, body = run.commit()
    assert [it.get("as_of") for it in sorted(body["items"], key=lambda it: it["command"])] == ["2026-03-01", None]
    days = sorted(rec.day for rec in store.items(kinds=["firewall.ruleset"]))
    assert days == sorted(["2026-03-01", now.date().isoformat()])


def test_an_index_of_an_older_layout_is_rebuilt_from_the_manifests(store):
    now = utcnow()
    run = store.begin_run("op")
    run.add("h", "c", Observation(kind="k", command="c", raw=b"x", started=now, ended=now))
    run.close_source("h", "ok", [])
    run.commit()
    db = sqlite3.connect(store.root / "index.sqlite")
    db.executescript("DROP TABLE items; CREATE TABLE items (id TEXT); PRAGMA user_version = 1;")  # the layout before
    db.close()
    assert [rec.kind for rec in store.items()] == ["k"]
