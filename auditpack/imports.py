"""Evidence that arrives as files: registers (CSV/XLSX) and attached documents (PDF, photo, e-mail)."""

from __future__ import annotations

import mimetypes
from datetime import date
from pathlib import Path
from typing import Any

from importlib.metadata import version

from auditpack.collectors.parsers.evtx_summary import summarize_evtx
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


def import_evtx(store: EvidenceStore, paths: list[Path], host: str | None, operator: str) -> tuple[ManifestRef, dict]:
    """Summarise exported event logs (streaming) and store each file whole beside what was read from it.

    A damaged file still gives the records that could be read; what could not is
    recorded as the item's errors, so the gap shows instead of vanishing.
    """
    run = store.begin_run(operator)
    sources: dict[str, list[str]] = {}
    for path in paths:
        started = utcnow()
        summary = summarize_evtx(path)
        name = host or (summary.hosts[0] if len(summary.hosts) == 1 else None)
        if name is None:
            raise ValueError(f"{path.name} holds events of {', '.join(summary.hosts) or 'no host'}: name the host with --host")
        command = f"import evtx {path.name} (evtx {version('evtx')}, {summary.records} records)"
        kinds = [("ad.account_disabled_events", summary.disabled_accounts), ("av.detections", summary.detections)]
        if summary.security_daily.get("covered_from"):  # a Defender-only log says nothing about Security log coverage
            kinds.insert(0, ("windows.security_events_daily", summary.security_daily))
        for kind, normalized in kinds:
            with path.open("rb") as raw:
                run.add(name, "import", Observation(kind, command, raw, started, utcnow(), normalized=normalized,
                                                    errors=list(summary.errors), tool_version=f"evtx {version('evtx')}"))
        sources.setdefault(name, []).extend(summary.errors)
    for name, errors in sources.items():
        run.close_source(name, "partial" if errors else "ok", errors[:20], connection="file")
    return run.commit()


def attach_document(store: EvidenceStore, control: str, path: Path, day: date, note: str, operator: str) -> tuple[ManifestRef, dict]:
    raw = path.read_bytes()
    normalized = {"control": control, "date": day.isoformat(), "note": note, "filename": path.name,
                  "media_type": mimetypes.guess_type(path.name)[0] or "application/octet-stream", "size": len(raw)}
    return _store_file(store, operator, "manual.evidence", f"attach {control} {path.name}", raw, normalized)
