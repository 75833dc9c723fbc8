"""Evidence that arrives as files: registers (CSV/XLSX) and attached documents (PDF, photo, e-mail)."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

from auditpack.collectors.parsers.auditpol import parse_auditpol_csv, parse_auditpol_text
from auditpack.collectors.parsers.evtx_summary import EvtxSummary, summarize_evtx
from auditpack.collectors.parsers.firewall_backup_dates import backup_date
from auditpack.collectors.parsers.fortigate import parse_fortigate_config
from auditpack.collectors.parsers.netfilter_rules import parse_iptables_rules, parse_nft_rules
from auditpack.collectors.parsers.pfsense import parse_pfsense_config
from auditpack.collectors.parsers.registers import parse_register
from auditpack.controls.firewall_rules import EgressRegister

from . import responses
from .canonical import sha256_hex, utcnow
from .evidence import Observation
from .store import EvidenceStore, ItemRecord, ManifestRef

SOURCE = "registers"  # the manifest's name for evidence that came from files, not from a host


# How a saved firewall configuration is read, by --type; the device's WAN interfaces/zones shape "outbound".
FIREWALL_CONFIG_PARSERS: dict[str, Any] = {
    "pfsense": lambda data, device, wan: parse_pfsense_config(data, device, wan or ("wan",)),
    "opnsense": lambda data, device, wan: parse_pfsense_config(data, device, wan or ("wan",)),
    "fortigate": parse_fortigate_config,
    "nftables": parse_nft_rules,  # `nft -j list ruleset` saved to a file
    "iptables": lambda data, device, wan: parse_iptables_rules(data, device, "ipv4", wan),
}


def store_one(
    store: EvidenceStore,
    operator: str,
    kind: str,
    command: str,
    raw: bytes,
    normalized: Any,
    source: str = SOURCE,
    collector: str = "import",
    connection: str = "file",
    as_of: date | None = None,
    roles: tuple[str, ...] = (),
) -> tuple[ManifestRef, dict]:
    """One item that arrives by hand (a file, a sample) as a run of its own; ROLES: what the source is (a firewall)."""
    run = store.begin_run(operator)
    now = utcnow()
    observation = Observation(
        kind=kind, command=command, raw=raw, started=now, ended=utcnow(), normalized=normalized, as_of=as_of
    )
    meta = run.add(source, collector, observation)
    run.close_source(source, "ok", [], connection=connection, roles=sorted(roles))
    ref, _ = run.commit()
    return ref, meta


@dataclass(frozen=True)
class Provenance:
    """Where a file the processor supplies comes from, as the processor says at import (not verified)."""

    source: str | None = None  # the system it was exported from
    exported: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "supplied_by": "processor",
            "source": self.source,
            "exported": self.exported.isoformat() if self.exported else None,
        }


def read_register(name: str, path: Path, provenance: Provenance = Provenance()) -> tuple[bytes, dict]:
    """A register file's bytes and what is read from it; raises RegisterError with every row problem."""
    raw = path.read_bytes()
    if name == responses.REGISTER:
        from auditpack.controls.model import load_catalogue

        known = set(load_catalogue())
        normalized = parse_register(name, raw, path.name, also_check=responses.control_check(known))
        normalized = responses.with_catalogue_ids(normalized, known)
    else:
        normalized = parse_register(name, raw, path.name)
    normalized["provenance"] = provenance.as_dict()
    return raw, normalized


def store_register(
    store: EvidenceStore, name: str, filename: str, raw: bytes, normalized: dict, operator: str
) -> tuple[ManifestRef, dict]:
    return store_one(store, operator, f"register.{name}", f"import register {name} {filename}", raw, normalized)


def import_register(
    store: EvidenceStore, name: str, path: Path, operator: str, provenance: Provenance = Provenance()
) -> tuple[ManifestRef, dict, dict]:
    """Validate a register file (raising RegisterError with every row problem) and store it whole."""
    raw, normalized = read_register(name, path, provenance)
    ref, meta = store_register(store, name, path.name, raw, normalized, operator)
    return ref, meta, normalized


def same_as_newest(store: EvidenceStore, kind: str, raw: bytes, normalized: dict) -> ItemRecord | None:
    """The newest import of a register, when it holds these very bytes with the same provenance: importing them
    again would add nothing but a second copy. A renamed file with the same content is the same register."""
    found = store.items(kinds=[kind])
    if not found:
        return None
    newest = max(found, key=lambda i: (i.started, i.run_seq))
    if newest.raw_sha256 != sha256_hex(raw) or newest.normalized_sha256 is None:
        return None
    kept = store.read_json(newest.normalized_sha256)
    return newest if kept.get("provenance") == normalized.get("provenance") else None


def read_egress_register(path: Path) -> tuple[bytes, dict]:
    """The YAML file of reasons for outbound traffic (T-FWP); raises YamlFileError naming file, line and key."""
    raw = path.read_bytes()
    return raw, EgressRegister.from_yaml(raw, str(path)).model_dump()


def store_egress_register(
    store: EvidenceStore, filename: str, raw: bytes, normalized: dict, operator: str
) -> tuple[ManifestRef, dict]:
    return store_one(store, operator, "register.egress", f"import egress-register {filename}", raw, normalized)


def import_egress_register(store: EvidenceStore, path: Path, operator: str) -> tuple[ManifestRef, dict, dict]:
    """Read and store the egress register (see read_egress_register)."""
    raw, normalized = read_egress_register(path)
    ref, meta = store_egress_register(store, path.name, raw, normalized, operator)
    return ref, meta, normalized


class FutureDateError(ValueError):
    """A backup dated after today: it cannot speak for a day that has not come."""


def firewall_backup_day(config_type: str, raw: bytes, given: date | None, today: date) -> tuple[date, str]:
    """The day a backup speaks for and, in words, why: --date, else the date in the file, else today (said aloud)."""
    if given is not None:
        day, why = given, f"dated {given.isoformat()}, as given with --date"
    elif (found := backup_date(config_type, raw)) is not None:
        day, why = found[0], f"dated {found[0].isoformat()} from {found[1]}"
    else:
        day, why = today, f"no date in the file: dated today, {today.isoformat()}; give --date for the day it was made"
    if day > today:
        raise FutureDateError(f"{why}, which is after today ({today.isoformat()}): a backup cannot be of a day to come")
    return day, why


def import_firewall_config(
    store: EvidenceStore,
    path: Path,
    config_type: str,
    device: str,
    wan: tuple[str, ...],
    operator: str,
    day: date | None = None,
    today: date | None = None,
) -> tuple[ManifestRef, dict, dict, str]:
    """A configuration backup of a firewall that is not reached over SSH, as that device's ruleset of its day.

    The item's as_of is that day (see firewall_backup_day), so T-FWP and firewall-diff count it as a
    collection of DEVICE on that day; the run records DEVICE as a firewall reached by file. Returns
    also why that day was used. Raises ValueError (nothing stored) when the file cannot be read as that
    type, FutureDateError when its day is after today.
    """
    raw = path.read_bytes()
    normalized = FIREWALL_CONFIG_PARSERS[config_type](raw, device, wan)
    as_of, why = firewall_backup_day(config_type, raw, day, today or utcnow().date())
    ref, meta = store_one(
        store,
        operator,
        "firewall.ruleset",
        f"import firewall {config_type} {path.name}",
        raw,
        normalized,
        source=device,
        as_of=as_of,
        roles=("firewall",),
    )
    return ref, meta, normalized, why


@dataclass
class EvtxFileReport:
    """What one exported log gave: for the operator's console, beside the stored items."""

    path: Path
    host: str
    summary: EvtxSummary
    items: list[dict] = field(default_factory=list)  # the stored items' metadata

    @property
    def days(self) -> list[str]:
        summary = self.summary
        return sorted(
            set(summary.security_daily["days"])
            | {e["time"][:10] for e in summary.detections["detections"] + summary.firewall_events["events"]}
            | {h["day"] for h in summary.health}
        )

    @property
    def notable(self) -> dict[str, int]:
        """Counts of what an auditor looks for first, by what it is."""
        events = self.summary.security_daily["notable"]
        return {
            "log clears": sum(1 for e in events if e["event_id"] in (1102, 104)),
            "audit policy changes": sum(1 for e in events if e["event_id"] == 4719),
            "account changes": len(self.summary.account_changes["events"]) + len(self.summary.disabled_accounts["events"]),
            "detections": len(self.summary.detections["detections"]),
            "health reports": self.summary.health_reports,
            "firewall changes": len(self.summary.firewall_events["events"]),
        }

    @property
    def used(self) -> bool:
        """Whether any item of this file holds something a control reads."""
        return any(self.notable.values()) or bool(self.summary.security_daily.get("covered_from"))


def _evtx_kinds(summary: EvtxSummary, host: str) -> list[tuple[str, Any, date | None]]:
    """(kind, normalised, as_of) for each item a summary gives; with --host every item is that host's."""
    detections = {"detections": [{**d, "host": host} for d in summary.detections["detections"]]}
    kinds: list[tuple[str, Any, date | None]] = []
    daily = summary.security_daily
    if daily.get("covered_from") or daily["notable"]:  # a Defender-only log says nothing about Security log coverage
        kinds.append(("windows.security_events_daily", daily, None))
    kinds += [
        ("ad.account_disabled_events", summary.disabled_accounts, None),
        ("windows.account_changes", summary.account_changes, None),
        ("av.detections", detections, None),
    ]
    if summary.firewall_events["events"]:
        kinds.append(("windows.firewall_events", summary.firewall_events, None))
    # one health item per day, as of that day: the host as it reported itself then
    kinds += [("av.host_status", h["status"], date.fromisoformat(h["day"])) for h in summary.health]
    return kinds


def import_evtx(
    store: EvidenceStore, paths: list[Path], host: str | None, operator: str
) -> tuple[ManifestRef, dict, list[EvtxFileReport]]:
    """Summarise exported event logs (streaming) and store each file whole beside what was read from it.

    A damaged file still gives the records that could be read; what could not is
    recorded as the item's errors, so the gap shows instead of vanishing.
    """
    run = store.begin_run(operator)
    sources: dict[str, list[str]] = {}
    reports = []
    for path in paths:
        started = utcnow()
        summary = summarize_evtx(path)
        name = host or (summary.hosts[0] if len(summary.hosts) == 1 else None)
        if name is None:
            raise ValueError(f"{path.name} holds events of {', '.join(summary.hosts) or 'no host'}: name the host with --host")
        command = f"import evtx {path.name} (evtx {version('evtx')}, {summary.records} records)"
        report = EvtxFileReport(path, name, summary)
        for kind, normalized, as_of in _evtx_kinds(summary, name):
            with path.open("rb") as raw:
                observation = Observation(
                    kind,
                    command,
                    raw,
                    started,
                    utcnow(),
                    normalized=normalized,
                    errors=list(summary.errors),
                    tool_version=f"evtx {version('evtx')}",
                    as_of=as_of,
                )
                report.items.append(run.add(name, "import", observation))
        reports.append(report)
        sources.setdefault(name, []).extend(summary.errors)
    for name, errors in sources.items():
        run.close_source(name, "partial" if errors else "ok", errors[:20], connection="file")
    ref, body = run.commit()
    return ref, body, reports


def parse_auditpol_export(raw: bytes) -> dict:
    """An auditpol export in either CSV form (/r, /backup), else the English /get text; ValueError for anything else."""
    try:
        return parse_auditpol_csv(raw)
    except ValueError as csv_error:
        if not str(csv_error).startswith("not auditpol CSV"):
            raise
    try:
        return parse_auditpol_text(raw)
    except ValueError:
        raise ValueError("not an auditpol export: neither /r or /backup CSV nor English /get text") from None


def import_auditpol(store: EvidenceStore, path: Path, host: str, day: date, operator: str) -> tuple[ManifestRef, dict, dict]:
    """A saved audit policy of a host (T-LOG-1) as that host's windows.audit_policy of that day.

    Raises ValueError (nothing stored) when the file cannot be read as an auditpol export.
    """
    raw = path.read_bytes()
    normalized = parse_auditpol_export(raw)
    run = store.begin_run(operator)
    started = utcnow()
    observation = Observation(
        "windows.audit_policy",
        f"import auditpol {path.name} --date {day.isoformat()}",
        raw,
        started,
        utcnow(),
        normalized=normalized,
        as_of=day,
    )
    meta = run.add(host, "import", observation)
    run.close_source(host, "ok", [], connection="file")
    ref, _ = run.commit()
    return ref, meta, normalized


def attach_document(
    store: EvidenceStore, control: str, path: Path, day: date, note: str, operator: str, provenance: Provenance = Provenance()
) -> tuple[ManifestRef, dict]:
    raw = path.read_bytes()
    normalized = {
        "provenance": provenance.as_dict(),
        "control": control,
        "date": day.isoformat(),
        "note": note,
        "filename": path.name,
        "media_type": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
        "size": len(raw),
    }
    return store_one(store, operator, "manual.evidence", f"attach {control} {path.name}", raw, normalized)
