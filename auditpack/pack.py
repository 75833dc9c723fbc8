"""The signed evidence pack: the report plus every piece of evidence it cites, in one zip an auditor can check offline.

Layout of a pack::

    MANIFEST.json            every file below with its SHA-256 and size; tool version, period, key fingerprint
    MANIFEST.json.sig        Ed25519 signature of MANIFEST.json (base64)
    SHA256SUMS               `sha256sum` lines for every file except SHA256SUMS and the two signatures
    SHA256SUMS.sig           Ed25519 signature of SHA256SUMS (base64), so the plain-tools check is signed too
    VERIFY.txt               how to verify, in Dutch and English
    signing-key.pub          the public key (informational: verify with the key received separately)
    MANIFEST.json.tsr        RFC 3161 timestamp of MANIFEST.json, when a TSA is configured (in SHA256SUMS)
    runs/<seq>-<sha256>.json the period's run manifests and the run before it, each with its .tsr token
                             or .not-timestamped note (auditpack/pack_chronology.py)
    tsa-ca.pem               the TSA's certificate as configured (informational, like signing-key.pub)
    report/document.json     the report document every format was rendered from
    report/<name>            the rendered reports (HTML, PDF, workbook, JSON, the OSCAL set, OCSF…)
    evidence/<item>.json     what, where, when and how each cited item was collected
    evidence/raw/<sha256>    the raw outputs, named by the SHA-256 of the bytes in the pack
    evidence/normalized/<sha256>

Entries are written in sorted order with fixed timestamps and permissions, so the
same inputs give the same zip bytes apart from the manifest's created_at (and the
files that depend on it). The private key never enters a pack.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import sha256
from pathlib import Path
from typing import Any, BinaryIO

from auditpack import __version__
from auditpack.reports.document import evidence_citations, evidence_item_ids

from .atomic import atomic_path
from .canonical import document_moment, iso, sha256_hex
from .errors import AuditpackError
from .pack_chronology import CHAIN_RECIPE, PACK_TOKEN, TOKEN_RECIPE, chain_files, check_chronology, tsa_roots
from .private import PRIVATE_FILE, make_private_dirs
from .signing import (
    ALGORITHM,
    PublicKey,
    SigningKey,
    SigningKeyError,
    fingerprint,
    load_public_key,
    public_key_pem,
    sign,
    verify_signature,
)
from .store import EvidenceStore, StoreError
from .timestamping import TimestampError, request_token

PACK_FORMAT = "auditpack-pack/1"
MANIFEST = "MANIFEST.json"
MANIFEST_SIG = "MANIFEST.json.sig"
SUMS = "SHA256SUMS"
SUMS_SIG = "SHA256SUMS.sig"
PUBLIC_KEY = "signing-key.pub"
VERIFY_TXT = "VERIFY.txt"
DOCUMENT = "report/document.json"
UNLISTED = (MANIFEST, MANIFEST_SIG, SUMS, SUMS_SIG, PACK_TOKEN)  # the files MANIFEST.json cannot list
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold; the same for every entry
REPORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
CHUNK = 1 << 20

# The plain-tools check, run inside the unpacked pack with the separately received key as KEY.pub.
# VERIFY.txt shows these lines and tests/test_pack.py runs them, so what auditors read is what was tested.
SHELL_RECIPE = (
    f"openssl base64 -d -A -in {MANIFEST_SIG} | openssl pkeyutl -verify -pubin -inkey KEY.pub -rawin -in {MANIFEST} -sigfile /dev/stdin",
    f"openssl base64 -d -A -in {SUMS_SIG} | openssl pkeyutl -verify -pubin -inkey KEY.pub -rawin -in {SUMS} -sigfile /dev/stdin",
    f"sha256sum -c --quiet {SUMS} && echo OK",
    f"diff <(find . -type f | sed 's|^\\./||' | LC_ALL=C sort) "
    f"<( (cut -c67- {SUMS}; printf '%s\\n' {SUMS} {SUMS_SIG} {MANIFEST_SIG}) | LC_ALL=C sort) && echo OK",
)
FINGERPRINT_RECIPE = (
    "openssl pkey -pubin -in KEY.pub -outform DER | tail -c 32 | openssl dgst -sha256 -binary | openssl base64 -A"
)


class PackError(AuditpackError):
    """A pack that cannot be built or read, said in words."""


@dataclass(frozen=True)
class PackSummary:
    path: Path
    sha256: str  # of the zip file
    size: int
    files: int  # entries in the zip
    items: int  # evidence items carried
    blobs: int  # distinct raw and normalised blobs carried
    fingerprint: str
    created_at: str
    manifest_sha256: str
    timestamp_error: str | None = None  # why MANIFEST.json has no token although a TSA is configured


@dataclass
class PackVerification:
    path: Path
    signature_ok: bool = False
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    files_checked: int = 0
    notices: list[str] = field(default_factory=list)  # true and worth saying, not a fault: a run timestamped late
    chronology: str = ""  # the chain and its timestamps in a line

    @property
    def ok(self) -> bool:
        return self.signature_ok and not (self.changed or self.missing or self.added or self.problems)

    @property
    def fingerprint(self) -> str | None:
        """The key the manifest names; None when it names none (or the manifest is not what auditpack writes)."""
        signing = (self.manifest or {}).get("signing_key")
        named = signing.get("fingerprint") if isinstance(signing, dict) else None
        return named if isinstance(named, str) else None


# --- building -------------------------------------------------------------------------------------


@dataclass
class _Entry:
    path: str
    sha256: str
    size: int
    data: bytes | None = None
    source: Path | None = None  # streamed from disk, hashed again while copied


def _json_bytes(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False).encode() + b"\n"


def _bytes_entry(path: str, data: bytes) -> _Entry:
    return _Entry(path, sha256_hex(data), len(data), data=data)


def _hash_stream(handle: BinaryIO) -> tuple[str, int]:
    """SHA-256 and size of what is left to read, a chunk at a time: blobs and packs can be larger than memory."""
    digest, size = sha256(), 0
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _file_entry(path: str, source: Path) -> _Entry:
    with open(source, "rb") as handle:
        sha, size = _hash_stream(handle)
    return _Entry(path, sha, size, source=source)


def _zip_info(path: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, whatever the platform, so the bytes do not depend on it
    info.external_attr = (stat.S_IFREG | PRIVATE_FILE) << 16  # unzip gives each file this mode: private there too
    return info


def _write_entry(archive: zipfile.ZipFile, entry: _Entry) -> None:
    info = _zip_info(entry.path)
    if entry.data is not None:
        archive.writestr(info, entry.data)
        return
    assert entry.source is not None
    digest = sha256()
    with open(entry.source, "rb") as src, archive.open(info, "w", force_zip64=entry.size >= 1 << 31) as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
    if digest.hexdigest() != entry.sha256:
        raise PackError(
            f"{entry.source} changed while the pack was written ({entry.path}); "
            f"if it is a store blob, run 'auditpack verify' on the store"
        )


def chain_recipe(period: dict[str, Any] | None) -> tuple[str, ...]:
    """CHAIN_RECIPE with the period's first day filled in."""
    start = str((period or {}).get("start") or "0000-00-00")
    return tuple(line.replace("START", start) for line in CHAIN_RECIPE)


def _chronology_text(period: dict[str, Any] | None, chronology: dict[str, Any] | None) -> tuple[str, str]:
    """VERIFY.txt's steps C and D (Dutch, English), when the pack carries its run manifests."""
    if not chronology or not chronology.get("runs"):
        return "", ""
    chain = "\n".join(f"   {line}" for line in chain_recipe(period))
    tokens = "\n".join(f"   {line}" for line in TOKEN_RECIPE)
    tsa = chronology.get("tsa") or {}
    first, last = chronology["runs"]
    anchor = chronology.get("anchor")
    nl_anchor = f" (run {anchor} is de laatste van voor de periode)" if anchor else ""
    en_anchor = f" (run {anchor} is the last one before the period)" if anchor else ""
    tsa_nl = f"\n   Tijdstempeldienst (TSA): {tsa.get('url')}\n   certificaat SHA-256 {tsa.get('ca_sha256')}\n" if tsa else "\n"
    tsa_en = (
        f"\n   Time-Stamp Authority (TSA): {tsa.get('url')}\n   certificate SHA-256 {tsa.get('ca_sha256')}\n" if tsa else "\n"
    )
    nl = f"""
C. De volgorde van de verzamelrondes (runs {first} tot en met {last}{nl_anchor}),
   in de uitgepakte map. Elk manifest in runs/ heet naar zijn eigen SHA-256
   en noemt de SHA-256 van het manifest ervoor ("prev"): een keten. De
   regels controleren elke hash en elke schakel, dat de keten begint bij
   run 1 of bij de laatste run van voor de periode (een weggelaten eerste
   run valt op), en dat de runs en het laatste manifest van de rapportage
   die van de keten zijn. Elke regel meldt "OK: ..." of een regel in
   hoofdletters (MISSING, CHANGED, BROKEN, DIFFERENT) die het probleem noemt:
{chain}

D. De RFC 3161-tijdstempels.{tsa_nl}   TSA-CA.pem hieronder is het certificaat zoals de TSA het publiceert;
   tsa-ca.pem in het pakket is alleen ter informatie. De eerste regel toont
   de vingerafdruk van uw TSA-CA.pem; vergelijk die met die hierboven. Per
   run meldt de tweede regel "OK" met de tijd van het tijdstempel en het
   einde van de run (een tijdstempel van veel later is achteraf gezet en
   bewijst alleen dat het manifest toen bestond; "set late" noemt dan de
   reden), "NOT TIMESTAMPED" met de reden, of "FAILED". De laatste regel meldt "Verification: OK" voor
   MANIFEST.json:
{tokens}
"""
    en = f"""
C. The order of the collection runs (runs {first} to {last}{en_anchor}),
   inside the unpacked directory. Each manifest in runs/ is named by its
   own SHA-256 and holds the SHA-256 of the manifest before it ("prev"): a
   chain. These lines check every hash and every link, that the chain
   starts at run 1 or at the last run before the period (a first run left
   out shows), and that the report's runs and latest manifest are the
   chain's. Each line prints "OK: ..." or a line in capitals (MISSING,
   CHANGED, BROKEN, DIFFERENT) that names the problem:
{chain}

D. The RFC 3161 timestamps.{tsa_en}   TSA-CA.pem below is the certificate as the TSA publishes it; the
   tsa-ca.pem inside the pack is informational only. The first line prints
   the fingerprint of your TSA-CA.pem; compare it with the one above. For
   each run the second line prints "OK" with the token's time and the
   run's end (a token much later than the run was made afterwards and
   proves only that the manifest existed by then; "set late" gives the
   reason), "NOT TIMESTAMPED" with the reason, or "FAILED". The last line prints "Verification: OK" for
   MANIFEST.json:
{tokens}
"""
    return nl, en


def verify_text(key_fingerprint: str, period: dict[str, Any] | None = None, chronology: dict[str, Any] | None = None) -> str:
    """VERIFY.txt: how an auditor checks the pack offline, in Dutch and English."""
    span = f"{period['start']} – {period['end']}" if period else "?"
    steps = "\n".join(f"   {line}" for line in SHELL_RECIPE)
    chronology_nl, chronology_en = _chronology_text(period, chronology)
    return f"""\
AUDITPACK-BEWIJSPAKKET / AUDITPACK EVIDENCE PACK
Periode / period: {span}
Ondertekend met / signed with: Ed25519 {key_fingerprint}

=== Nederlands ===

Dit pakket bevat de rapportage en al het bewijs waarnaar de rapportage
verwijst. MANIFEST.json noemt elk bestand met zijn SHA-256 en is
ondertekend met Ed25519 (MANIFEST.json.sig); SHA256SUMS is apart
ondertekend (SHA256SUMS.sig). Controle kan volledig offline.

Gebruik de publieke sleutel die u LOS van dit pakket van de verwerker
heeft gekregen; KEY.pub hieronder staat voor het pad van dat bestand,
buiten de uitgepakte map. Het bestand signing-key.pub in het
pakket is alleen ter informatie: wie het pakket wijzigt, kan ook dat
bestand vervangen. Controleer de vingerafdruk van uw sleutel; de uitkomst
moet gelijk zijn aan de vingerafdruk hierboven en in de rapportage (na
"SHA256:", op een afsluitend "=" na):
   {FINGERPRINT_RECIPE}

A. Met auditpack:
   auditpack verify PACK.zip --key KEY.pub

B. Met standaardgereedschap (bash, openssl 3, coreutils), in de
   uitgepakte map (unzip PACK.zip -d pakket && cd pakket):
{steps}
   De twee openssl-regels melden "Signature Verified Successfully", de
   twee andere regels "OK". sha256sum -c controleert elk bestand; de
   laatste regel controleert dat er geen bestand is toegevoegd. Op macOS:
   "shasum -a 256 -c SHA256SUMS" in plaats van sha256sum.
{chronology_nl}
Elke andere uitkomst betekent dat het pakket na ondertekening is gewijzigd
of met een andere sleutel is ondertekend.

=== English ===

This pack holds the report and all the evidence the report cites.
MANIFEST.json lists every file with its SHA-256 and is signed with
Ed25519 (MANIFEST.json.sig); SHA256SUMS is signed as well
(SHA256SUMS.sig). Verification works fully offline.

Use the public key the processor gave you SEPARATELY from this pack
(KEY.pub below stands for the path of that file, kept outside the
unpacked directory). The signing-key.pub inside the pack is informational
only: whoever changes the pack can replace it too. Check your key's
fingerprint; the output must equal the fingerprint above and in the
report (after "SHA256:", apart from a final "="):
   {FINGERPRINT_RECIPE}

A. With auditpack:
   auditpack verify PACK.zip --key KEY.pub

B. With standard tools (bash, openssl 3, coreutils), inside the unpacked
   directory (unzip PACK.zip -d pack && cd pack):
{steps}
   The two openssl lines print "Signature Verified Successfully", the
   other two print "OK". sha256sum -c checks every file; the last line
   checks that no file was added. On macOS use "shasum -a 256 -c
   SHA256SUMS" instead of sha256sum.
{chronology_en}
Any other outcome means the pack was changed after it was signed, or was
signed with another key.
"""


class _BlobCollector:
    """Store blobs going into the pack: checked against their names, optionally transformed first."""

    def __init__(self, store: EvidenceStore, transform: Callable[[bytes], bytes] | None, spool: Path):
        self.store = store
        self.transform = transform
        self.spool = spool
        self.entries: dict[str, _Entry] = {}

    def add(self, part: str, sha: str, size: int | None = None) -> dict[str, Any]:
        """Carry one blob; `size` is the store manifest's (known for raw outputs only)."""
        source = self.store.blob_path(sha)
        try:
            on_disk = source.stat().st_size
        except FileNotFoundError:
            raise PackError(f"the evidence store has no blob {sha} ({part}); run 'auditpack verify' on the store") from None
        if size is None:
            size = on_disk
        if self.transform is None:
            if on_disk != size:
                raise PackError(f"store blob {sha} is {on_disk} bytes, its manifest says {size}; run 'auditpack verify'")
            pack_sha, pack_size = sha, size
        else:
            try:
                data = self.transform(self.store.read_blob(sha))
            except (StoreError, FileNotFoundError) as exc:
                raise PackError(f"cannot read store blob {sha}: {exc}") from exc
            if not isinstance(data, bytes):
                raise PackError(f"blob_transform returned {type(data).__name__}, not bytes")
            pack_sha, pack_size = sha256_hex(data), len(data)
            source = self.spool / pack_sha
            if not source.exists():
                source.write_bytes(data)
        path = f"evidence/{part}/{pack_sha}"
        if path not in self.entries:
            self.entries[path] = _Entry(path, pack_sha, pack_size, source=source)
        return {"sha256": sha, "size": size, "path": path, "pack_sha256": pack_sha, "pack_size": pack_size}


@dataclass(frozen=True)
class _ReportFacts:
    """What a pack takes from the report document, read in one place so a malformed document fails up front."""

    document_json: bytes
    cited: dict[str, list[str]]  # item id -> the controls citing it
    fingerprint: str | None  # the signing key the report names
    period: dict[str, Any] | None
    report: dict[str, Any]  # the manifest's summary of the report


def _report_facts(document: dict[str, Any], key_fp: str) -> _ReportFacts:
    try:
        return _ReportFacts(
            document_json=_json_bytes(document),
            cited=evidence_citations(document),
            fingerprint=(document.get("signing_key") or {}).get("fingerprint"),
            period=document.get("period"),
            report={
                "lang": document.get("lang"),
                "generated_at": document.get("generated_at"),
                "chain_head": (document.get("evidence_store") or {}).get("chain_head"),
            },
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise PackError(
            f"the document given is not a report document ({type(exc).__name__}: {exc}); build it with make_document"
        ) from exc


def build_pack(
    store: EvidenceStore,
    document: dict[str, Any],
    report_files: dict[str, Path],
    out: Path,
    key: SigningKey,
    *,
    blob_transform: Callable[[bytes], bytes] | None = None,
    meta_transform: Callable[[Any], Any] | None = None,
    created_at: datetime | None = None,
) -> PackSummary:
    """Write the signed pack for `document` to `out` (atomically) and say what went in.

    blob_transform and meta_transform (pseudonymisation) rewrite each carried blob and each
    item's metadata (host, command, errors) before they go in; the document is put in as given.
    """
    out = Path(out)
    key_fp = fingerprint(key)
    facts = _report_facts(document, key_fp)
    stated = facts.fingerprint
    if stated and stated != key_fp:
        raise PackError(
            f"the report names signing key {stated}, but the pack would be signed with {key_fp}; "
            f"render the report with the key that signs the pack"
        )
    created = iso(created_at or document_moment())
    entries: dict[str, _Entry] = {}

    def put(entry: _Entry) -> None:
        if entry.path in entries:
            raise PackError(f"two files would be written to {entry.path} in the pack")
        entries[entry.path] = entry

    put(_bytes_entry(DOCUMENT, facts.document_json))
    for name, source in sorted(report_files.items()):
        if not REPORT_NAME.match(name):
            raise PackError(f"report file name {name!r} is not a plain file name (letters, digits, '.', '_', '-')")
        try:
            put(_file_entry(f"report/{name}", Path(source)))
        except OSError as exc:
            raise PackError(f"cannot read report file {source}: {exc.strerror or exc}") from exc

    cited = facts.cited
    records = {r.id: r for r in store.items()}
    absent = sorted(set(cited) - set(records))
    if absent:
        raise PackError(
            f"the report cites {len(absent)} evidence item(s) the store does not hold "
            f"(first: {absent[0]}); was the report made from another store?"
        )
    runs = {ref.seq: ref.sha256 for ref in store.manifest_refs()}

    make_private_dirs(out.parent)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.spool.") as spool:
        blobs = _BlobCollector(store, blob_transform, Path(spool))
        for item_id in sorted(cited):
            record = records[item_id]
            normalized = blobs.add("normalized", record.normalized_sha256) if record.normalized_sha256 else None
            meta = {
                "id": record.id,
                "host": record.host,
                "collector": record.collector,
                "kind": record.kind,
                "command": record.command,
                "collected": record.started,
                "ended": record.ended,
                "status": record.status,
                "errors": list(record.errors),
                "tool_version": record.tool_version,
                "run": {"seq": record.run_seq, "manifest_sha256": runs.get(record.run_seq)},
                "raw": blobs.add("raw", record.raw_sha256, record.raw_size),
                "normalized": normalized,
                "transformed": blob_transform is not None,
                "cited_by": cited[item_id],
            }
            put(_bytes_entry(f"evidence/{item_id}.json", _json_bytes(meta_transform(meta) if meta_transform else meta)))
        for entry in blobs.entries.values():
            put(entry)
        chain = chain_files(store, document, meta_transform)
        for path, source in chain.files:
            put(_bytes_entry(path, source) if isinstance(source, bytes) else _file_entry(path, source))
        put(_bytes_entry(PUBLIC_KEY, public_key_pem(key)))
        put(_bytes_entry(VERIFY_TXT, verify_text(key_fp, facts.period, chain.summary).encode()))

        manifest = {
            "format": PACK_FORMAT,
            "tool": {"name": "auditpack", "version": __version__},
            "created_at": created,
            "period": facts.period,
            "report": facts.report,
            "signing_key": {"algorithm": ALGORITHM, "fingerprint": key_fp},
            "evidence": {"items": len(cited), "blobs": len(blobs.entries), "transformed": blob_transform is not None},
            "chronology": chain.summary,
            "files": {path: {"sha256": e.sha256, "size": e.size} for path, e in sorted(entries.items())},
        }
        manifest_bytes = _json_bytes(manifest)
        put(_bytes_entry(MANIFEST, manifest_bytes))
        timestamp_error = None
        if store.tsa is not None:  # the pack's own date: a TSA's, not the processor's clock
            try:
                put(_bytes_entry(PACK_TOKEN, request_token(store.tsa, manifest_bytes)))
            except TimestampError as exc:
                timestamp_error = str(exc)
        sums = "".join(f"{entries[p].sha256}  {p}\n" for p in sorted(entries)).encode()
        put(_bytes_entry(SUMS, sums))
        put(_bytes_entry(MANIFEST_SIG, base64.b64encode(sign(key, manifest_bytes)) + b"\n"))
        put(_bytes_entry(SUMS_SIG, base64.b64encode(sign(key, sums)) + b"\n"))

        # 0600 like every report: a pack holds personal data until the operator hands it out; the directory is
        # synced so the pack survives a power cut
        with atomic_path(out, sync_dir=True) as tmp, open(tmp, "w+b") as handle:
            with zipfile.ZipFile(handle, "w") as archive:
                for path in sorted(entries):
                    _write_entry(archive, entries[path])
            handle.seek(0)
            pack_sha, size = _hash_stream(handle)
    return PackSummary(
        out,
        pack_sha,
        size,
        len(entries),
        len(cited),
        len(blobs.entries),
        key_fp,
        created,
        sha256_hex(manifest_bytes),
        timestamp_error,
    )


# --- verifying ------------------------------------------------------------------------------------


def _hash_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[str, int]:
    with archive.open(info) as handle:
        return _hash_stream(handle)


def _read_member(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], name: str) -> bytes | None:
    if name not in members:
        return None
    try:
        return archive.read(members[name])
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError):
        return None


def _decode_sig(data: bytes) -> bytes | None:
    try:
        return base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def _open_pack(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise PackError(f"{path} does not exist") from None
    except IsADirectoryError:
        raise PackError(f"{path} is a directory, not a pack (.zip)") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise PackError(f"{path} is not a readable zip file ({exc}); it is not an evidence pack or it is damaged") from None


def _members(archive: zipfile.ZipFile, result: PackVerification) -> dict[str, zipfile.ZipInfo]:
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        if info.is_dir():
            continue  # a directory entry holds no bytes (unzip and zip -r again adds them)
        if info.filename in members:
            result.added.append(info.filename)
            result.problems.append(f"{info.filename} is in the zip more than once; only one copy can be the signed one")
            continue
        members[info.filename] = info
    return members


def verify_pack(path: Path, public_key: PublicKey | bytes | str | Path, tsa_ca: Path | None = None) -> PackVerification:
    """Check a pack offline against the public key received separately: signature, then every file, then the
    chain of run manifests and their timestamps (against TSA_CA, the TSA's certificate, else the pack's copy)."""
    path = Path(path)
    result = PackVerification(path)
    try:
        key = load_public_key(public_key)
    except SigningKeyError as exc:
        result.problems.append(str(exc))
        return result
    try:
        archive = _open_pack(path)
    except PackError as exc:
        result.problems.append(str(exc))
        return result
    with archive:
        members = _members(archive, result)
        manifest_bytes = _read_member(archive, members, MANIFEST)
        if manifest_bytes is None:
            what = "has an unreadable" if MANIFEST in members else "has no"
            _absent(result, members, MANIFEST)
            result.problems.append(f"{path.name} {what} {MANIFEST}: it is not an auditpack evidence pack, or it is damaged")
            return result
        try:
            manifest = json.loads(manifest_bytes)
            files = manifest["files"]
            if manifest.get("format") != PACK_FORMAT or not isinstance(files, dict):
                raise ValueError
            listed = {p: (str(v["sha256"]), int(v["size"])) for p, v in files.items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            result.changed.append(MANIFEST)
            result.problems.append(f"{MANIFEST} is not an {PACK_FORMAT} manifest; the files cannot be checked")
            return result
        result.manifest = manifest

        _check_signature(archive, members, manifest_bytes, key, result)
        _check_files(archive, members, listed, result)
        _check_sums(archive, members, listed, manifest_bytes, key, result)
        _check_chain(archive, members, manifest, manifest_bytes, tsa_ca, result)
        if result.ok:
            _check_consistency(archive, members, listed, result)
    return result


def _check_chain(
    archive: zipfile.ZipFile,
    members: dict[str, zipfile.ZipInfo],
    manifest: dict[str, Any],
    manifest_bytes: bytes,
    tsa_ca: Path | None,
    result: PackVerification,
) -> None:
    """The run manifests' chain and the RFC 3161 tokens (pack_chronology.py); a fault there is a problem."""

    def read(name: str) -> bytes | None:
        return _read_member(archive, members, name)

    try:
        roots, said = tsa_roots(tsa_ca, read)
    except TimestampError as exc:
        result.problems.append(str(exc))
        return
    try:
        document = json.loads(read(DOCUMENT) or b"null")
    except ValueError:
        document = None  # said by the file checks and _check_consistency
    check = check_chronology(read, members, manifest, manifest_bytes, document if isinstance(document, dict) else None, roots)
    result.problems += check.problems
    result.notices += ([said] if said else []) + check.notices
    result.chronology = check.summary


def _absent(result: PackVerification, members: dict[str, zipfile.ZipInfo], name: str) -> None:
    """A file the pack needs is not there (missing) or cannot be read (changed)."""
    (result.changed if name in members else result.missing).append(name)


def _signature_file(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], name: str, why: str, result: PackVerification
) -> bytes | None:
    """The content of the signature file NAME; None (recorded, saying WHY it is needed) when it is missing or unreadable."""
    content = _read_member(archive, members, name)
    if content is None:
        _absent(result, members, name)
        result.problems.append(f"{name} is missing or unreadable{why}")
    return content


def _check_signature(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], manifest_bytes: bytes, key: PublicKey, result: PackVerification
) -> None:
    sig_file = _signature_file(archive, members, MANIFEST_SIG, ": the pack is not signed", result)
    if sig_file is None:
        return
    sig = _decode_sig(sig_file)
    if sig is not None and verify_signature(key, manifest_bytes, sig):
        result.signature_ok = True
        return
    signer, given = result.fingerprint, fingerprint(key)
    if sig is None:
        result.problems.append(f"{MANIFEST_SIG} does not hold a base64 signature")
    elif signer and signer != given:
        result.problems.append(
            f"the signature in {MANIFEST_SIG} does not verify with the key given ({given}); "
            f"{MANIFEST} names key {signer}: signed with another key, or the manifest was changed"
        )
    else:
        result.problems.append(
            f"the signature in {MANIFEST_SIG} does not verify with the key given ({given}): "
            f"{MANIFEST} was changed after signing, or it was signed with another key"
        )


def _check_files(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], listed: dict[str, tuple[str, int]], result: PackVerification
) -> None:
    for name in sorted(listed):
        want_sha, want_size = listed[name]
        if name not in members:
            result.missing.append(name)
            result.problems.append(f"{name} is listed in {MANIFEST} but is not in the pack")
            continue
        try:
            got_sha, got_size = _hash_member(archive, members[name])
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            result.changed.append(name)
            result.problems.append(f"{name} cannot be read from the zip ({exc}): it was damaged or changed")
            continue
        result.files_checked += 1
        if got_sha != want_sha or got_size != want_size:
            result.changed.append(name)
            result.problems.append(
                f"{name} differs from {MANIFEST} (SHA-256 {got_sha[:16]}…, {got_size} bytes; "
                f"signed: {want_sha[:16]}…, {want_size} bytes): it was changed after signing"
            )
    for name in sorted(set(members) - set(listed) - set(UNLISTED)):
        result.added.append(name)
        result.problems.append(f"{name} is in the pack but not in {MANIFEST}: it was added after signing")


def _check_sums(
    archive: zipfile.ZipFile,
    members: dict[str, zipfile.ZipInfo],
    listed: dict[str, tuple[str, int]],
    manifest_bytes: bytes,
    key: PublicKey,
    result: PackVerification,
) -> None:
    """SHA256SUMS serves the plain-tools check; it must say exactly what the signed manifest says."""
    sums = _read_member(archive, members, SUMS)
    if sums is None:
        _absent(result, members, SUMS)
        result.problems.append(f"{SUMS} is missing or unreadable (needed for the check with sha256sum)")
        return
    expected = {**{p: v[0] for p, v in listed.items()}, MANIFEST: sha256_hex(manifest_bytes)}
    token = _read_member(archive, members, PACK_TOKEN)
    if token is not None:  # made after MANIFEST.json, so only SHA256SUMS can list it
        expected[PACK_TOKEN] = sha256_hex(token)
    wanted = "".join(f"{expected[p]}  {p}\n" for p in sorted(expected)).encode()
    if sums != wanted:
        result.changed.append(SUMS)
        result.problems.append(f"{SUMS} does not agree with the signed {MANIFEST}: it was changed after signing")
        return
    if not result.signature_ok:
        return  # the key does not fit; saying so once is enough
    sig_file = _signature_file(archive, members, SUMS_SIG, " (needed for the check with openssl)", result)
    if sig_file is None:
        return
    sig = _decode_sig(sig_file)
    if sig is None or not verify_signature(key, sums, sig):
        result.changed.append(SUMS_SIG)
        result.problems.append(f"the signature in {SUMS_SIG} does not verify with the key given")


def _check_consistency(
    archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], listed: dict[str, tuple[str, int]], result: PackVerification
) -> None:
    """A correctly signed pack should also be whole: every item the report cites is there, blobs named by content."""
    for name, (sha, _size) in listed.items():
        if name.startswith(("evidence/raw/", "evidence/normalized/")) and name.rsplit("/", 1)[1] != sha:
            result.problems.append(f"{name} is not named by the SHA-256 of its content ({sha[:16]}…)")
    try:
        document = json.loads(archive.read(members[DOCUMENT]))
        cited = evidence_item_ids(document)
    except (KeyError, ValueError, TypeError):
        result.problems.append(f"{DOCUMENT} is missing or is not a report document")
        return
    for item_id in sorted(cited):
        meta_path = f"evidence/{item_id}.json"
        if meta_path not in listed:
            result.problems.append(f"{DOCUMENT} cites evidence item {item_id}, but the pack has no {meta_path}")
            continue
        try:
            meta = json.loads(archive.read(members[meta_path]))
            blobs = [meta["raw"]] + ([meta["normalized"]] if meta.get("normalized") else [])
            for blob in blobs:
                if blob["path"] not in listed:
                    result.problems.append(f"{meta_path} refers to {blob['path']}, which is not in the pack")
        except (ValueError, KeyError, TypeError, AttributeError):
            result.problems.append(f"{meta_path} is not readable evidence metadata")


# --- reading --------------------------------------------------------------------------------------


class PackReader:
    """Read-only access to a pack's files (no verification: run verify_pack for that)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.archive = _open_pack(self.path)

    def __enter__(self) -> PackReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.archive.close()

    def read(self, name: str) -> bytes:
        try:
            return self.archive.read(name)
        except KeyError:
            raise PackError(f"{self.path} has no {name}") from None
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise PackError(f"{name} in {self.path} cannot be read ({exc})") from None

    def read_json(self, name: str) -> Any:
        try:
            return json.loads(self.read(name))
        except ValueError as exc:
            raise PackError(f"{name} in {self.path} is not JSON ({exc})") from None

    def document(self) -> dict[str, Any]:
        document = self.read_json(DOCUMENT)
        if not isinstance(document, dict) or not isinstance(document.get("controls"), list):
            raise PackError(f"{DOCUMENT} in {self.path} is not a report document")
        return document

    def item(self, item_id: str) -> dict[str, Any]:
        return self.read_json(f"evidence/{item_id}.json")

    def names(self) -> list[str]:
        return [i.filename for i in self.archive.infolist() if not i.is_dir()]


def extract_pack(path: Path, dest: Path) -> Path:
    """Unpack into `dest` (entries with unsafe names are refused), e.g. for the sha256sum/openssl check."""
    with PackReader(path) as reader:
        for name in reader.names():
            parts = Path(name).parts
            if Path(name).is_absolute() or ".." in parts or not parts:
                raise PackError(f"{path} holds an entry with an unsafe name: {name!r}")
        make_private_dirs(dest)
        for name in reader.names():
            target = dest / name
            make_private_dirs(target.parent)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
            with reader.archive.open(name) as src, open(fd, "wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
    return dest
