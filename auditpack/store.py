"""The evidence store: an embedded, append-only, verifiable evidence locker.

Layout of a store directory::

    STORE                       format marker
    blobs/sha256/ab/ab12…       raw outputs and normalised JSON, named by their SHA-256
    runs/000001-<sha256>.json   one manifest per collection run, named by its own SHA-256,
                                holding the SHA-256 of the previous manifest (a hash chain)
    index.sqlite                a query index derived from the manifests; rebuilt when behind
    tmp/                        writes in flight; never read

Crash safety rests on one rule: a file only appears under its final name by an
atomic rename after its bytes are on disk, and a run's items only become
visible when its manifest is renamed into runs/. A process killed at any
moment leaves at worst unreferenced blobs and temp files, which verify reports
as harmless leftovers.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import signal
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from . import __version__
from .atomic import fsync_dir, write_atomic
from .canonical import canonical_json, iso, parse_iso, sha256_hex, utcnow
from .chronology import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    NOT_TIMESTAMPED_SUFFIX,
    SIDECAR_NAME,
    TOKEN_SUFFIX,
    TokenVerdict,
    check_link,
    judge_token,
    read_note,
    stated_timestamp,
)
from .controls.version import catalogue_version
from .errors import AuditpackError
from .evidence import ItemStatus, Observation
from .inventory import Host
from .private import is_open, make_private_dirs, tighten, too_open, touch_private
from .timestamping import TimestampError, Tsa, request_token

STORE_FORMAT = "auditpack-store/1"
BLOB_NAME = re.compile(r"^[0-9a-f]{64}$")
INDEX_VERSION = 2  # the index's table layout; another number rebuilds it from the manifests


class StoreError(AuditpackError):
    """A store that cannot be opened or written, said in words."""


def failpoint(name: str) -> None:
    """Crash-test hook: die here, as abruptly as a power cut, when asked to by the environment."""
    if os.environ.get("AUDITPACK_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class ManifestRef:
    seq: int
    sha256: str
    path: Path

    @property
    def token_path(self) -> Path:
        """The RFC 3161 time-stamp reply over the manifest's bytes, when it has one."""
        return self.path.with_name(self.path.name + TOKEN_SUFFIX)

    @property
    def note_path(self) -> Path:
        """Why the run could not be timestamped at commit, when it could not."""
        return self.path.with_name(self.path.name + NOT_TIMESTAMPED_SUFFIX)


@dataclass(frozen=True)
class ItemRecord:
    """An evidence item as the index knows it; the manifest is the authority."""

    id: str
    run_seq: int
    host: str
    collector: str
    kind: str
    command: str
    started: str
    ended: str
    status: str
    raw_sha256: str
    raw_size: int
    normalized_sha256: str | None
    tool_version: str
    errors: tuple[str, ...]
    as_of: str | None = None  # the day it speaks for, when not the day it was collected (see Observation.as_of)

    @property
    def day(self) -> str:
        return self.as_of or self.started[:10]


@dataclass
class Finding:
    severity: str  # "error" (integrity broken), "warning" (a run not, or only late, timestamped) or "info" (harmless)
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity.upper()}: {self.path}: {self.message}"


@dataclass
class VerifyReport:
    findings: list[Finding] = field(default_factory=list)
    manifests: int = 0
    items: int = 0
    blobs: int = 0
    blob_bytes: int = 0
    timestamps: dict[str, int] = field(default_factory=dict)  # TokenVerdict.state -> runs
    never_tried: int = 0  # runs without a token and without a note: committed while no TSA was configured

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def error(self, path: str, message: str) -> None:
        self.findings.append(Finding("error", path, message))

    def info(self, path: str, message: str) -> None:
        self.findings.append(Finding("info", path, message))

    def warning(self, path: str, message: str) -> None:
        self.findings.append(Finding("warning", path, message))


class EvidenceStore:
    """TSA, when given, timestamps every manifest at commit and checks the tokens in verify (auditpack/timestamping.py);
    ON_TIMESTAMP is told after each commit whether the token was had."""

    def __init__(
        self,
        root: str | Path,
        create: bool = True,
        tsa: Tsa | None = None,
        on_timestamp: Callable[[ManifestRef, TimestampError | None], None] | None = None,
    ):
        self.root = Path(root)
        self.tsa = tsa
        self._roots: tuple[Any, ...] | None = None  # the certificates the running verify checks tokens against
        self.on_timestamp = on_timestamp  # told after each commit whether its token was had (the CLI prints it)
        marker = self.root / "STORE"
        self.created = False  # True when this call made the store: commands say so, with its path
        if not marker.exists():
            if not create:
                raise StoreError(f"{self.root} is not an auditpack evidence store (no STORE file)")
            if self.root.exists() and any(p.is_file() for p in self.root.rglob("*")):
                raise StoreError(f"{self.root} exists, is not empty and is not an evidence store; choose another --store")
            for sub in ("blobs/sha256", "runs", "tmp"):
                make_private_dirs(self.root / sub)
            self._atomic_write(marker, canonical_json({"format": STORE_FORMAT, "created": iso(utcnow())}))
            self.created = True
        elif json.loads(marker.read_bytes()).get("format") != STORE_FORMAT:
            raise StoreError(f"{marker}: unknown store format")
        make_private_dirs(self.root / "tmp")
        self._dirty_dirs: set[Path] = set()
        self._dirty_lock = threading.Lock()

    def make_private(self) -> list[Path]:
        """Take group and other permissions off a store made before auditpack set modes (or unpacked with a wide umask).

        Only the top level is looked at first, so a daily collection does not walk a year of blobs: what auditpack
        writes is private, so a store whose top level is private has nothing wider below it. Returns what changed.
        """
        top = [self.root, *self.root.iterdir(), *(self.root / "blobs").iterdir()]
        return tighten(self.root) if any(is_open(path) for path in top) else []

    # -- low-level writes -------------------------------------------------------------------

    def _atomic_write(self, path: Path, data: bytes, point: str = "", sync_dir: bool = True) -> None:
        """Temp file in tmp/ (verify reports leftovers there), synced, renamed; owner-only like every store file."""
        write_atomic(
            path,
            data,
            mode=0o600,
            temp_dir=self.root / "tmp",
            sync_dir=sync_dir,
            before_rename=(lambda: failpoint(point + "-tmp-written")) if point else None,
        )

    def blob_path(self, sha: str) -> Path:
        return self.root / "blobs" / "sha256" / sha[:2] / sha

    def put_blob(self, data: bytes) -> str:
        sha = sha256_hex(data)
        path = self.blob_path(sha)
        if not path.exists():  # content-addressed: an existing blob already holds these bytes
            make_private_dirs(path.parent)
            # The directory entry is made durable once per directory before the next
            # manifest commit; until then no manifest refers to the blob.
            self._atomic_write(path, data, point="blob", sync_dir=False)
            with self._dirty_lock:
                self._dirty_dirs.add(path.parent)
            failpoint("blob-renamed")
        return sha

    def put_blob_stream(self, source: BinaryIO) -> tuple[str, int]:
        """Store a large output without holding it in memory: hash while copying, then rename into place."""
        digest, size = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=self.root / "tmp", prefix="stream.")
        try:
            with os.fdopen(fd, "wb") as handle:
                source.seek(0)
                while chunk := source.read(1 << 20):
                    digest.update(chunk)
                    handle.write(chunk)
                    size += len(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            path = self.blob_path(digest.hexdigest())
            make_private_dirs(path.parent)
            if path.exists():
                Path(tmp).unlink()
            else:
                os.replace(tmp, path)
                with self._dirty_lock:
                    self._dirty_dirs.add(path.parent)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest.hexdigest(), size

    def _sync_blob_dirs(self) -> None:
        with self._dirty_lock:
            dirs, self._dirty_dirs = self._dirty_dirs, set()
        for directory in sorted(dirs):
            fsync_dir(directory)
        fsync_dir(self.root / "blobs" / "sha256")

    def read_blob(self, sha: str) -> bytes:
        data = self.blob_path(sha).read_bytes()
        if sha256_hex(data) != sha:
            raise StoreError(f"blob {sha} does not match its hash; run 'auditpack verify'")
        return data

    def read_json(self, sha: str) -> Any:
        return json.loads(self.read_blob(sha))

    @contextmanager
    def _locked(self) -> Iterator[None]:
        touch_private(self.root / "lock")
        with open(self.root / "lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- manifests ----------------------------------------------------------------------------

    def manifest_refs(self) -> list[ManifestRef]:
        refs = []
        for path in (self.root / "runs").iterdir():
            match = MANIFEST_NAME.match(path.name)
            if match:
                refs.append(ManifestRef(int(match.group(1)), match.group(2), path))
        return sorted(refs, key=lambda r: r.seq)

    def load_manifest(self, ref: ManifestRef) -> dict[str, Any]:
        return json.loads(ref.path.read_bytes())

    def manifests_started(
        self, start: datetime, end: datetime, seq: int | None = None
    ) -> list[tuple[ManifestRef, dict[str, Any]]]:
        """The runs that started in [start, end), oldest first, with their manifests; only run SEQ when given."""
        found = []
        for ref in self.manifest_refs():
            if seq is not None and ref.seq != seq:
                continue  # not even read: a year of manifests is large
            body = self.load_manifest(ref)
            if start <= parse_iso(body["started"]) < end:
                found.append((ref, body))
        return found

    def begin_run(self, operator: str, inventory_path: str = "", inventory_sha256: str = "") -> RunWriter:
        self._remove_stale_temp_files()
        return RunWriter(self, operator, inventory_path, inventory_sha256)

    def _remove_stale_temp_files(self, older_than: float = 86400) -> None:
        """Leftovers of a run killed a day ago; a younger file may belong to a run still going."""
        cutoff = time.time() - older_than
        for path in (self.root / "tmp").iterdir():
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)

    def _commit_manifest(self, body: dict[str, Any]) -> ManifestRef:
        self._sync_blob_dirs()
        with self._locked():
            refs = self.manifest_refs()
            body["seq"] = refs[-1].seq + 1 if refs else 1
            body["prev"] = refs[-1].sha256 if refs else None
            data = json.dumps(body, sort_keys=True, indent=1, ensure_ascii=False).encode() + b"\n"
            sha = sha256_hex(data)
            path = self.root / "runs" / f"{body['seq']:06d}-{sha}.json"
            self._atomic_write(path, data, point="manifest")
            failpoint("manifest-renamed")
            ref = ManifestRef(body["seq"], sha, path)
            self._index_manifests([ref])
        if self.tsa is not None:  # outside the lock: a slow TSA must not hold up other commits
            failed = self.timestamp_run(ref)
            if self.on_timestamp is not None:
                self.on_timestamp(ref, failed)
        return ref

    # -- timestamps ----------------------------------------------------------------------------

    def timestamp_run(self, ref: ManifestRef) -> TimestampError | None:
        """Ask the TSA for a token over the run's manifest and keep it beside the manifest.

        When none can be had the run stays committed (evidence is never lost for a timestamp): the reason is
        written beside it, the first time only, so the note keeps saying why the run was not timestamped at commit.
        Returns the error, or None when the token was kept.
        """
        assert self.tsa is not None
        try:
            token = request_token(self.tsa, ref.path.read_bytes())
        except TimestampError as exc:
            if not ref.note_path.exists():
                note = {"reason": str(exc), "code": exc.code, "tsa": self.tsa.url, "tried_at": iso(utcnow())}
                self._atomic_write(ref.note_path, json.dumps(note, indent=1, sort_keys=True).encode() + b"\n")
            return exc
        self._atomic_write(ref.token_path, token, point="token")
        return None

    def untimestamped(self) -> list[ManifestRef]:
        """The runs that have no token yet, oldest first."""
        return [ref for ref in self.manifest_refs() if not ref.token_path.exists()]

    def timestamp_facts(self, ref: ManifestRef, body: dict[str, Any]) -> dict[str, Any]:
        """What the report says of the run's timestamp: its time, whether late, why none (read, not checked)."""
        token = ref.token_path.read_bytes() if ref.token_path.exists() else None
        note = read_note(ref.note_path.read_bytes()) if ref.note_path.exists() else None
        return stated_timestamp(token, body.get("ended"), note)

    def run_timestamp(
        self, ref: ManifestRef, body: dict[str, Any] | None = None, roots: tuple[Any, ...] | None = None
    ) -> TokenVerdict:
        """What the run's token proves, checked against ROOTS, else the configured TSA's (unchecked without either)."""
        data = ref.path.read_bytes()
        body = body if body is not None else json.loads(data)
        token = ref.token_path.read_bytes() if ref.token_path.exists() else None
        note = read_note(ref.note_path.read_bytes()) if ref.note_path.exists() else None
        roots = roots if roots is not None else (self.tsa.roots if self.tsa else None)
        return judge_token(token, roots, ended=body.get("ended"), note=note, data=data)

    # -- index ---------------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        # made 0600 before SQLite opens it: SQLite gives its journal, -wal and -shm files the database file's mode
        touch_private(self.root / "index.sqlite")
        db = sqlite3.connect(self.root / "index.sqlite", timeout=30)
        if db.execute("PRAGMA user_version").fetchone()[0] != INDEX_VERSION:
            # the index is derived from the manifests: an older layout is dropped and rebuilt by sync_index
            db.executescript(f"DROP TABLE IF EXISTS items; DROP TABLE IF EXISTS runs; PRAGMA user_version = {INDEX_VERSION};")
        db.executescript(
            """
            CREATE TABLE IF NOT EXISTS runs (seq INTEGER PRIMARY KEY, sha256 TEXT NOT NULL, run_id TEXT,
                started TEXT, ended TEXT, status TEXT, operator TEXT);
            CREATE TABLE IF NOT EXISTS items (id TEXT NOT NULL, run_seq INTEGER NOT NULL, host TEXT, collector TEXT,
                kind TEXT, command TEXT, started TEXT, ended TEXT, status TEXT, raw_sha256 TEXT, raw_size INTEGER,
                normalized_sha256 TEXT, tool_version TEXT, errors TEXT, as_of TEXT, PRIMARY KEY (run_seq, id));
            CREATE INDEX IF NOT EXISTS items_kind ON items(kind, started);
            """
        )
        return db

    def _index_manifests(self, refs: list[ManifestRef]) -> None:
        db = self._db()
        try:
            with db:  # one transaction: a run is indexed whole or not at all
                for ref in refs:
                    body = self.load_manifest(ref)
                    db.execute(
                        "INSERT OR REPLACE INTO runs VALUES (?,?,?,?,?,?,?)",
                        (ref.seq, ref.sha256, body["run_id"], body["started"], body["ended"], body["status"], body["operator"]),
                    )
                    db.executemany(
                        "INSERT OR REPLACE INTO items VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        [
                            (
                                it["id"],
                                ref.seq,
                                it["host"],
                                it["collector"],
                                it["kind"],
                                it["command"],
                                it["started"],
                                it["ended"],
                                it["status"],
                                it["raw"]["sha256"],
                                it["raw"]["size"],
                                (it["normalized"] or {}).get("sha256"),
                                it["tool_version"],
                                json.dumps(it["errors"]),
                                it.get("as_of"),
                            )
                            for it in body["items"]
                        ],
                    )
                    failpoint("index-midway")
        finally:
            db.close()

    def sync_index(self) -> None:
        """Index runs whose manifest exists but whose indexing was cut short by a crash."""
        db = self._db()
        try:
            known = {row[0]: row[1] for row in db.execute("SELECT seq, sha256 FROM runs")}
        finally:
            db.close()
        missing = [r for r in self.manifest_refs() if known.get(r.seq) != r.sha256]
        if missing:
            with self._locked():
                self._index_manifests(missing)

    def items(
        self, kinds: list[str] | None = None, start: datetime | None = None, end: datetime | None = None, host: str | None = None
    ) -> list[ItemRecord]:
        self.sync_index()
        where, args = ["1=1"], []
        if kinds:
            where.append(f"kind IN ({','.join('?' * len(kinds))})")
            args += kinds
        if start:
            where.append("started >= ?")
            args.append(iso(start))
        if end:
            where.append("started < ?")
            args.append(iso(end))
        if host:
            where.append("host = ? COLLATE NOCASE")  # a host named as the user types it, WS-017 or ws-017
            args.append(host)
        db = self._db()
        try:
            rows = db.execute(f"SELECT * FROM items WHERE {' AND '.join(where)} ORDER BY started, host, kind", args).fetchall()
        finally:
            db.close()
        return [ItemRecord(*row[:13], tuple(json.loads(row[13])), row[14]) for row in rows]

    def last_collected(self, host: str, collector: str, kind: str) -> date | None:
        """The UTC day of the newest run in which COLLECTOR read KIND from HOST, every such item of that run
        read (ok, or absent: the source is not there) and at least one ok; None when no run did.

        A run with an item of the kind in error (a refused, garbled or cut-off read) does not count: what that
        read would have brought is asked for again next time. Collectors use it to read only what is new
        (collectors/base.py CollectContext.since)."""
        self.sync_index()
        db = self._db()
        try:
            row = db.execute(
                "SELECT MAX(started) FROM items WHERE host = ? AND collector = ? AND kind = ? GROUP BY run_seq"
                " HAVING SUM(status NOT IN ('ok', 'absent')) = 0 AND SUM(status = 'ok') > 0 ORDER BY run_seq DESC LIMIT 1",
                (host, collector, kind),
            ).fetchone()
        finally:
            db.close()
        return date.fromisoformat(row[0][:10]) if row and row[0] else None

    def runs(self) -> list[dict[str, Any]]:
        self.sync_index()
        db = self._db()
        try:
            cols = ["seq", "sha256", "run_id", "started", "ended", "status", "operator"]
            return [dict(zip(cols, row, strict=False)) for row in db.execute(f"SELECT {','.join(cols)} FROM runs ORDER BY seq")]
        finally:
            db.close()

    # -- verify --------------------------------------------------------------------------------

    def verify(self, tsa_roots: tuple[Any, ...] | None = None) -> VerifyReport:
        """Every blob, manifest, link and token; tokens are checked against TSA_ROOTS, else the configured TSA's."""
        report = VerifyReport()
        self._roots = tsa_roots if tsa_roots is not None else (self.tsa.roots if self.tsa else None)
        blob_ok: dict[str, bool] = {}
        self._verify_blobs(report, blob_ok)
        self._verify_chain(report, blob_ok)
        self._verify_index(report)
        used = self.tsa is not None or report.never_tried != report.timestamps.get("not_timestamped", 0)
        if report.never_tried and used:  # a store that never used timestamps is not told so on every verify
            say = report.warning if self.tsa else report.info
            say(
                "runs/",
                f"{report.never_tried} run(s) carry no timestamp (committed while no TSA was configured); "
                + (
                    "`auditpack timestamp` adds late timestamps"
                    if self.tsa
                    else "set AUDITPACK_TSA_URL and AUDITPACK_TSA_CA, or [tsa] url and ca in the configuration file"
                ),
            )
        if report.timestamps.get("unchecked"):
            report.info(
                "runs/",
                f"{report.timestamps['unchecked']} timestamp token(s) not checked: set AUDITPACK_TSA_CA "
                f"(and AUDITPACK_TSA_URL), or [tsa] ca and url in the configuration file, to the TSA's certificate",
            )
        self._verify_private(report)
        leftovers = list((self.root / "tmp").iterdir())
        if leftovers:
            report.info("tmp/", f"{len(leftovers)} unfinished write(s) from an interrupted run; never read, safe to delete")
        return report

    def _verify_private(self, report: VerifyReport) -> None:
        """A store others may read (made before auditpack set modes, or copied with a wide umask) is said, not fixed:
        verify changes nothing; the next collection tightens it."""
        wide = too_open(self.root)
        if wide:
            names = ", ".join(str(p.relative_to(self.root)) or "." for p in wide[:3]) + (", ..." if len(wide) > 3 else "")
            report.warning(
                ".",
                f"{len(wide)} file(s) and folder(s) of the store can be read by other users of this machine ({names}); "
                f"the evidence holds personal data: the next `auditpack collect` makes them private, or run "
                f"'chmod -R go= {self.root}'",
            )

    def _verify_blobs(self, report: VerifyReport, blob_ok: dict[str, bool]) -> None:
        for path in sorted((self.root / "blobs" / "sha256").glob("*/*")):
            rel = str(path.relative_to(self.root))
            if not BLOB_NAME.match(path.name) or path.parent.name != path.name[:2]:
                report.error(rel, "unexpected file in the blob area")
                continue
            data = path.read_bytes()
            report.blobs += 1
            report.blob_bytes += len(data)
            blob_ok[path.name] = sha256_hex(data) == path.name
            if not blob_ok[path.name]:
                report.error(rel, "content does not match its SHA-256 name: the evidence was changed or damaged")

    def _verify_chain(self, report: VerifyReport, blob_ok: dict[str, bool]) -> None:
        referenced: set[str] = set()
        prev_sha: str | None = None
        expected_seq = 1
        manifests = {ref.path.name for ref in self.manifest_refs()}
        for path in sorted((self.root / "runs").iterdir()):
            sidecar = SIDECAR_NAME.match(path.name)
            if sidecar and f"{sidecar.group(1)}-{sidecar.group(2)}.json" not in manifests:
                report.error(f"runs/{path.name}", "belongs to a manifest that is not in the store: the manifest was removed")
            elif not (MANIFEST_NAME.match(path.name) or sidecar):
                report.error(f"runs/{path.name}", "unexpected file among the manifests")
        for ref in self.manifest_refs():
            rel = f"runs/{ref.path.name}"
            data = ref.path.read_bytes()
            report.manifests += 1
            body, problems = check_link(ref.seq, ref.sha256, data, expected_seq, prev_sha)
            expected_seq, prev_sha = ref.seq + 1, ref.sha256
            for problem in problems:
                report.error(rel, problem)
            if body is None:
                continue
            self._verify_timestamp(report, ref, body)
            for item in body["items"]:
                report.items += 1
                for part in ("raw", "normalized"):
                    blob = item.get(part)
                    if not blob:
                        continue
                    referenced.add(blob["sha256"])
                    state = blob_ok.get(blob["sha256"])
                    if state is None:
                        report.error(
                            rel,
                            f"item {item.get('id')} ({item.get('host')}, {item.get('kind')}): {part} blob {blob['sha256'][:12]}… is missing",
                        )
                    elif state and self.blob_path(blob["sha256"]).stat().st_size != blob["size"]:
                        report.error(rel, f"item {item.get('id')}: {part} blob size differs from the manifest")
        orphans = set(blob_ok) - referenced
        if orphans:
            report.info("blobs/", f"{len(orphans)} blob(s) no manifest refers to (written by an interrupted run); harmless")

    def _verify_timestamp(self, report: VerifyReport, ref: ManifestRef, body: dict[str, Any]) -> None:
        verdict = self.run_timestamp(ref, body, self._roots)
        report.timestamps[verdict.state] = report.timestamps.get(verdict.state, 0) + 1
        rel = f"runs/{ref.token_path.name if verdict.state != 'not_timestamped' else ref.path.name}"
        if verdict.problem:
            report.error(rel, verdict.text)
        elif verdict.state == "late" or (verdict.state == "not_timestamped" and ref.note_path.exists()):
            report.warning(rel, f"run {ref.seq}: {verdict.text}")
        elif verdict.state == "not_timestamped":
            report.never_tried += 1  # said once for all of them: a store kept before timestamps were configured

    def _verify_index(self, report: VerifyReport) -> None:
        if not (self.root / "index.sqlite").exists():
            return
        on_disk = {r.seq: r.sha256 for r in self.manifest_refs()}
        db = self._db()
        try:
            for seq, sha in db.execute("SELECT seq, sha256 FROM runs ORDER BY seq"):
                if seq not in on_disk:
                    report.error(
                        "index.sqlite", f"run {seq} (manifest {sha[:12]}…) is listed in the index but its manifest is gone"
                    )
                elif on_disk[seq] != sha:
                    report.error(
                        "index.sqlite",
                        f"run {seq} was indexed with manifest {sha[:12]}… but runs/ now holds {on_disk[seq][:12]}…",
                    )
        finally:
            db.close()


class RunWriter:
    """Collects one run's items (from many worker threads) and commits them as one manifest."""

    def __init__(self, store: EvidenceStore, operator: str, inventory_path: str, inventory_sha256: str):
        self.store = store
        self.started = utcnow()
        self.run_id = f"{self.started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
        self.operator = operator
        self.inventory = {"path": inventory_path, "sha256": inventory_sha256}
        self.items: list[dict[str, Any]] = []
        self.hosts: dict[str, dict[str, Any]] = {}
        self._closed_hosts: set[str] = set()
        self._lock = threading.Lock()

    def add(self, host: str, collector: str, obs: Observation) -> dict[str, Any] | None:
        if isinstance(obs.raw, bytes):
            raw_sha, raw_size = self.store.put_blob(obs.raw), len(obs.raw)
        else:  # a spooled file: outputs too large to keep in memory
            raw_sha, raw_size = self.store.put_blob_stream(obs.raw)
        normalized = None
        if obs.normalized is not None:
            data = canonical_json(obs.normalized)
            normalized = {"sha256": self.store.put_blob(data), "size": len(data)}
        meta = {
            "host": host,
            "collector": collector,
            "kind": obs.kind,
            "command": obs.command,
            "tool_version": obs.tool_version,
            "auditpack_version": __version__,
            "started": iso(obs.started),
            "ended": iso(obs.ended),
            "operator": self.operator,
            "status": str(obs.status),
            "errors": list(obs.errors),
            "raw": {"sha256": raw_sha, "size": raw_size},
            "normalized": normalized,
        }
        if obs.as_of is not None:  # only then, so every manifest written before keeps its exact form
            meta["as_of"] = obs.as_of.isoformat()
        meta["id"] = sha256_hex(canonical_json(meta))[:16]
        with self._lock:
            if host in self._closed_hosts:
                return None  # the host's time ran out: a late answer must not slip into the run
            self.items.append(meta)
        return meta

    def close_host(self, host: Host, status: str, errors: list[str]) -> None:
        """Seal a host's part of the run, recording how it was reached and which roles it had then."""
        self.close_source(
            host.name,
            status,
            errors,
            roles=sorted(host.roles),
            connection=host.connection,
            address=host.address,
            groups=list(host.groups),
        )

    def close_source(self, name: str, status: str, errors: list[str], **info: Any) -> None:
        """Seal one source of evidence (a host, or 'registers' for imported files); late items are refused."""
        with self._lock:
            self._closed_hosts.add(name)
            count = sum(1 for it in self.items if it["host"] == name)
            self.hosts[name] = {"status": status, "errors": errors, "items": count, "roles": [], **info}

    def commit(self) -> tuple[ManifestRef, dict[str, Any]]:
        with self._lock:
            partial = any(h["status"] != ItemStatus.OK for h in self.hosts.values())
            body = {
                "format": MANIFEST_FORMAT,
                "run_id": self.run_id,
                "operator": self.operator,
                "tool": {"name": "auditpack", "version": __version__},
                "catalogue": catalogue_version().record(),  # which catalogue was in force; a report names its own
                "started": iso(self.started),
                "ended": iso(utcnow()),
                "inventory": self.inventory,
                "status": "partial" if partial else "complete",
                "hosts": self.hosts,
                "items": sorted(self.items, key=lambda it: (it["host"], it["kind"], it["started"])),
            }
        ref = self.store._commit_manifest(body)
        return ref, body
