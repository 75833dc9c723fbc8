"""Evidence that arrives as files: registers (CSV/XLSX) and attached documents (PDF, photo, e-mail)."""

from __future__ import annotations

import mimetypes
from datetime import date
from pathlib import Path
from typing import Any

from auditpack.collectors.parsers.registers import parse_register

from .canonical import utcnow
from .evidence import Observation
from .store import EvidenceStore, ManifestRef

SOURCE = "registers"  # the manifest's name for evidence that came from files, not from a host


def _store_file(store: EvidenceStore, operator: str, kind: str, command: str, raw: bytes, normalized: Any) -> tuple[ManifestRef, dict]:
    run = store.begin_run(operator)
    now = utcnow()
    meta = run.add(SOURCE, "import", Observation(kind=kind, command=command, raw=raw, started=now, ended=utcnow(), normalized=normalized))
    run.close_source(SOURCE, "ok", [], connection="file")
    ref, _ = run.commit()
    return ref, meta


def import_register(store: EvidenceStore, name: str, path: Path, operator: str) -> tuple[ManifestRef, dict, dict]:
    """Validate a register file (raising RegisterError with every row problem) and store it whole."""
    raw = path.read_bytes()
    normalized = parse_register(name, raw, path.name)
    ref, meta = _store_file(store, operator, f"register.{name}", f"import register {name} {path.name}", raw, normalized)
    return ref, meta, normalized


def attach_document(store: EvidenceStore, control: str, path: Path, day: date, note: str, operator: str) -> tuple[ManifestRef, dict]:
    raw = path.read_bytes()
    normalized = {"control": control, "date": day.isoformat(), "note": note, "filename": path.name,
                  "media_type": mimetypes.guess_type(path.name)[0] or "application/octet-stream", "size": len(raw)}
    return _store_file(store, operator, "manual.evidence", f"attach {control} {path.name}", raw, normalized)
