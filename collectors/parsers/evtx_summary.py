"""Summarise an exported EVTX file into evidence shapes, streaming. Pure: a file or bytes in, an EvtxSummary out.

Admins export the logs of hosts auditpack cannot reach; this reads such an
export record by record with the Rust `evtx` parser and keeps only counters
and the few events the controls name, so memory does not grow with the size
of the log. Messages are never rendered: they depend on the exporting host's
language and message DLLs. Only EventID, TimeCreated/SystemTime, Computer,
Channel and the named EventData/UserData fields are read.

Shapes (controls/EVIDENCE.md): `windows.security_events_daily` (with System 104
log clears among its notable events), `ad.account_disabled_events`,
`windows.account_changes`, `av.detections`, `av.host_status` (one per host and
day, from Defender 1151 health reports) and `windows.firewall_events`.

Events are told apart by their provider's GUID or channel and their numeric
event ID; values are read from numeric fields and message IDs (%%8449), never
from rendered text.

A damaged file still yields every record that can be read; what could not be
read is listed in `errors`, never dropped silently. Input that is not EVTX at
all raises ValueError.
"""

from __future__ import annotations

import io
import itertools
import json
import struct
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from evtx import PyEvtxParser

ACCOUNT_CHANGES = {4720: "created", 4726: "deleted", 4728: "added to group", 4732: "added to group", 4756: "added to group"}
COUNTED_EVENTS = (4624, 4625, 4634, 4647, 4663, 4719, 4725, 4740, 5140, 5145, 1102, *ACCOUNT_CHANGES)
NOTABLE_EVENTS = (1102, 4719)  # log cleared, audit policy changed
AUDIT_POLICY_CHANGED = 4719
ACCOUNT_DISABLED = 4725
FIREWALL_SETTING_CHANGED = 4950  # Security: "A Windows Firewall setting has changed" (its values are rendered text)
DEFENDER_DETECTED, DEFENDER_ACTION_TAKEN, DEFENDER_HEALTH = 1116, 1117, 1151
DEFENDER_ACTION_FAILED = (1118, 1119)  # the remediation failed (1119: critically); only a 1117 can resolve
OTHER_LOG_CLEARED = 104  # Microsoft-Windows-Eventlog: a log other than Security (System, Application…) was cleared

SECURITY_CHANNEL = "security"
DEFENDER_CHANNEL = "microsoft-windows-windows defender/operational"
EVENTLOG_PROVIDER = "fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148"  # Microsoft-Windows-Eventlog (1102, 104)
FIREWALL_PROVIDER = "d1bc9aff-2abf-4d71-9146-ecb2a986eb85"  # Microsoft-Windows-Windows Firewall With Advanced Security

# 4719 AuditPolicyChanges: message IDs of the parameter file, whatever the display language.
POLICY_CHANGES = {"%%8448": "success removed", "%%8449": "success added", "%%8450": "failure removed", "%%8451": "failure added"}

# Firewall channel events that bear on "inbound traffic refused" (T-FWH); other IDs of the channel are not used.
FIREWALL_EVENTS = {
    2003: "profile setting changed",
    2004: "rule added",
    2005: "rule changed",
    2006: "rule deleted",
    2033: "all rules deleted",
}
# FW_PROFILE_TYPE (MS-FASP 2.2.2) bits in the events' Profiles field.
FIREWALL_PROFILES = {1: "domain", 2: "private", 4: "public"}
# FW_PROFILE_CONFIG (MS-FASP 2.2.38): the SettingType of a 2003 event.
FIREWALL_SETTINGS = {1: "enable_firewall", 16: "default_outbound_action", 17: "default_inbound_action"}

# MPTHREAT_ACTION (MpClient.h): the numeric "Action ID" Defender writes, whatever the display language.
THREAT_ACTIONS = {
    0: "unknown",
    1: "clean",
    2: "quarantine",
    3: "remove",
    6: "allow",
    8: "user defined",
    9: "no action",
    10: "block",
}
RESOLVING_ACTIONS = {1, 2, 3, 10}  # the threat is gone or cannot run once one of these succeeded

FILE_MAGIC = b"ElfFile\x00"
CHUNK_MAGIC = b"ElfChnk\x00"
CHUNK_HEADER_SIZE = 512  # header, then the string and template offset tables
HEADER_BLOCK_SIZE = 4096
CHUNK_SIZE = 65536
MAX_ERRORS = 100  # a badly damaged file must not make the error list as big as the file
MAX_CONSECUTIVE_FAILURES = 10_000  # guard against a parser that keeps failing at the same place


@dataclass
class EvtxSummary:
    records: int
    errors: list[str]
    hosts: list[str]
    channels: list[str]
    first: str | None
    last: str | None
    security_daily: dict
    disabled_accounts: dict
    detections: dict
    account_changes: dict = field(default_factory=lambda: {"events": []})
    health: list[dict] = field(default_factory=list)  # [{"host", "day", "status": av.host_status}], latest per host and day
    health_reports: int = 0  # 1151 events read (several a day: only the day's latest is kept)
    firewall_events: dict = field(default_factory=lambda: {"events": []})
    unused_channels: dict = field(default_factory=dict)  # channel -> records of channels nothing is read from


@dataclass(frozen=True)
class _Record:
    number: int | None
    event_id: int | None
    time: datetime | None
    computer: str
    channel: str
    fields: dict[str, Any]  # EventData, or the one element inside UserData (1102 keeps its fields there)
    provider: str = ""  # the provider's GUID, lower-case without braces


def _moment(value: Any) -> datetime | None:
    """SystemTime as an aware UTC datetime; None when it is missing or not a time."""
    try:
        moment = datetime.fromisoformat(str(value))  # 3.11+ reads the trailing Z
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _qualified(domain: Any, name: Any) -> str | None:
    """DOMAIN\\name as Windows shows it, the bare name when the domain is missing, None when both are."""
    domain, name = _text(domain), _text(name)
    if not name:
        return None
    return f"{domain}\\{name}" if domain and domain != "-" else name


def _event_id(value: Any) -> int | None:
    """EventID is a bare number, or {"#text": n} when the event carries Qualifiers."""
    if isinstance(value, dict):
        value = value.get("#text")
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _fields(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("EventData")
    if isinstance(data, dict):
        return data
    user_data = event.get("UserData")
    if isinstance(user_data, dict) and len(user_data) == 1:
        inner = next(iter(user_data.values()))
        return inner if isinstance(inner, dict) else {}
    return {}


def _record(raw: dict[str, Any]) -> _Record:
    """The parts of one records_json() item that are used; KeyError/TypeError/ValueError when it is not an event."""
    event = json.loads(raw["data"])["Event"]
    system = event["System"]
    created = system.get("TimeCreated")
    system_time = created.get("#attributes", {}).get("SystemTime") if isinstance(created, dict) else None
    provider = system.get("Provider")
    guid = provider.get("#attributes", {}).get("Guid") if isinstance(provider, dict) else None
    return _Record(
        number=raw.get("event_record_id"),
        event_id=_event_id(system.get("EventID")),
        time=_moment(system_time) if system_time else None,
        computer=_text(system.get("Computer")),
        channel=_text(system.get("Channel")),
        fields=_fields(event),
        provider=_text(guid).strip("{}").lower(),
    )


class _Errors:
    """Errors in reading order, capped so a shredded file cannot grow them without bound."""

    def __init__(self) -> None:
        self.listed: list[str] = []
        self.unlisted = 0

    def add(self, message: str) -> None:
        if len(self.listed) < MAX_ERRORS:
            self.listed.append(message)
        else:
            self.unlisted += 1

    def result(self) -> list[str]:
        more = [f"... and {self.unlisted} more errors not listed"] if self.unlisted else []
        return self.listed + more


class _Detections:
    """Defender 1116 (detected) paired with 1117 (action taken) or 1118/1119 (action failed) by host + threat name (+ detection ID)."""

    def __init__(self) -> None:
        self._all: list[dict[str, Any]] = []
        self._by_key: dict[tuple[str, str, str | None], dict[str, Any]] = {}

    @staticmethod
    def _key(record: _Record) -> tuple[str, str, str | None]:
        detection_id = _text(record.fields.get("Detection ID")).lower() or None
        return record.computer.lower(), _text(record.fields.get("Threat Name")), detection_id

    def _find(self, key: tuple[str, str, str | None]) -> tuple[str, str, str | None] | None:
        # a 1117 with a detection ID its 1116 lacked still belongs to the open detection of that threat
        return next((k for k in (key, (key[0], key[1], None)) if k in self._by_key), None)

    def _open(self, key: tuple[str, str, str | None], record: _Record, time: datetime) -> dict[str, Any]:
        detection = {
            "host": record.computer,
            "time": time,
            "threat": key[1] or None,
            "action": None,
            "resolved": False,
            "resolved_at": None,
        }
        self._all.append(detection)
        self._by_key[key] = detection
        return detection

    def detected(self, record: _Record) -> None:
        key = self._key(record)
        known = self._by_key.get(key)
        if known is None:
            detection = self._open(key, record, record.time)
            detection["action"] = _action(record.fields)
        elif record.time < known["time"]:
            known["time"] = record.time  # Defender re-reports a detection (same ID) on later scans: keep the first

    def action_taken(self, record: _Record) -> None:
        key = self._find(self._key(record))
        if key is None:  # its 1116 was overwritten or is in another export: the 1117 still proves a detection
            key = self._key(record)
            self._open(key, record, _moment(record.fields.get("Detection Time")) or record.time)
        detection = self._by_key[key]
        if detection["resolved"]:
            return  # a later report cannot undo the action that removed the threat
        detection["action"] = _action(record.fields)
        if record.event_id == DEFENDER_ACTION_TAKEN and _action_succeeded(record.fields):
            detection["resolved"], detection["resolved_at"] = True, record.time
            if key[2] is None:
                del self._by_key[key]  # without an ID, a later 1116 of this threat is a new detection

    def result(self) -> dict[str, Any]:
        ordered = sorted(self._all, key=lambda d: (d["time"], d["host"], d["threat"] or ""))
        return {
            "detections": [
                {**d, "time": _iso(d["time"]), "resolved_at": _iso(d["resolved_at"]) if d["resolved_at"] else None}
                for d in ordered
            ]
        }


def _action_id(fields: dict[str, Any]) -> int | None:
    try:
        return int(_text(fields.get("Action ID")))
    except ValueError:
        return None


def _error_code(fields: dict[str, Any]) -> int | None:
    try:
        return int(_text(fields.get("Error Code")), 16)
    except ValueError:
        return None


def _action(fields: dict[str, Any]) -> str | None:
    """E.g. "quarantine (Action ID 2)", with the error code when it failed; the enum, never the translated text."""
    action_id = _action_id(fields)
    if action_id is None:
        return None
    text = f"{THREAT_ACTIONS.get(action_id, 'unknown')} (Action ID {action_id})"
    code = _error_code(fields)
    return text if not code else f"{text} failed: {_text(fields.get('Error Code'))}"


def _action_succeeded(fields: dict[str, Any]) -> bool:
    return _action_id(fields) in RESOLVING_ACTIONS and _error_code(fields) == 0


def _number(value: Any) -> int | None:
    """A numeric field as Windows writes it: decimal, or hex with 0x; None when it is neither."""
    text = _text(value).lower()
    try:
        return int(text, 16) if text.startswith("0x") else int(text)
    except ValueError:
        return None


def _flags(value: Any, names: dict[int, str]) -> list[str]:
    bits = _number(value) or 0
    return [name for bit, name in names.items() if bits & bit]


class _Health:
    """Defender 1151 health reports: the latest per host and UTC day, in the av.host_status shape."""

    # "RTP state" is written by Defender itself as one of these two words, not in the display language
    REALTIME = {"enabled": True, "disabled": False}

    def __init__(self) -> None:
        self.read = 0
        self._latest: dict[tuple[str, str], _Record] = {}

    def add(self, record: _Record) -> None:
        self.read += 1
        key = (record.computer, record.time.date().isoformat())
        if key not in self._latest or record.time >= self._latest[key].time:
            self._latest[key] = record

    @classmethod
    def status(cls, record: _Record) -> dict[str, Any]:
        fields = record.fields
        age = _number(fields.get("Last AV security intelligence age"))
        # the creation time is written in the exporting host's date format; the age in days is a number
        signature = (record.time.date() - timedelta(days=age)).isoformat() if age is not None else None
        return {
            "product": _text(fields.get("Product Name")) or None,
            "realtime": cls.REALTIME.get(_text(fields.get("RTP state")).lower()),
            "signature_date": signature,
            "engine_version": _text(fields.get("Engine version")) or None,
            "signature_version": _text(fields.get("AV security intelligence version")) or None,
            "signature_age_days": age,
            "reported_at": _iso(record.time),
        }

    def result(self) -> list[dict[str, Any]]:
        return [{"host": host, "day": day, "status": self.status(r)} for (host, day), r in sorted(self._latest.items())]


def _firewall_event(record: _Record) -> dict[str, Any]:
    """A Windows Firewall channel event (2003-2033) or Security 4950, keyed on its numeric fields."""
    fields = record.fields
    event: dict[str, Any] = {
        "event_id": record.event_id,
        "time": _iso(record.time),
        "what": FIREWALL_EVENTS.get(record.event_id, "firewall setting changed"),
        "by": _text(fields.get("ModifyingUser")) or _qualified(fields.get("SubjectDomainName"), fields.get("SubjectUserName")),
        "application": _text(fields.get("ModifyingApplication")) or None,
    }
    if record.event_id == 2003:
        setting_type = _number(fields.get("SettingType"))
        event |= {
            "profiles": _flags(fields.get("Profiles"), FIREWALL_PROFILES),
            "setting": FIREWALL_SETTINGS.get(setting_type, f"setting type {setting_type}"),
            "value": _number(fields.get("SettingValue")),
        }
    elif record.event_id == FIREWALL_SETTING_CHANGED:
        # its profile, setting and value are rendered in the host's language: kept as text for the auditor only
        text = " / ".join(_text(fields.get(k)) for k in ("ProfileChanged", "SettingType", "SettingValue") if fields.get(k))
        event |= {"profiles": [], "setting": "text: " + text if text else None, "value": None}
    else:
        event |= {
            "profiles": _flags(fields.get("Profiles"), FIREWALL_PROFILES),
            "rule": _text(fields.get("RuleName")) or _text(fields.get("RuleId")) or None,
        }
    return event


@dataclass
class _Summariser:
    records: int = 0
    errors: _Errors = field(default_factory=_Errors)
    hosts: set[str] = field(default_factory=set)
    channels: set[str] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None
    security_first: datetime | None = None
    security_last: datetime | None = None
    days: dict[str, Counter[int]] = field(default_factory=dict)
    notable: list[dict[str, Any]] = field(default_factory=list)
    disabled: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    detections: _Detections = field(default_factory=_Detections)
    health: _Health = field(default_factory=_Health)
    firewall: list[dict[str, Any]] = field(default_factory=list)
    unused: Counter[str] = field(default_factory=Counter)

    def add(self, record: _Record) -> None:
        self.records += 1
        self.hosts.add(record.computer)
        self.channels.add(record.channel)
        if record.time is None:
            self.errors.add(f"record {record.number}: no readable TimeCreated/SystemTime; read but not placed on a day")
            return
        self.first = min(self.first or record.time, record.time)
        self.last = max(self.last or record.time, record.time)
        channel = record.channel.lower()
        if record.provider == EVENTLOG_PROVIDER and record.event_id == OTHER_LOG_CLEARED:
            self._other_log_cleared(record)
        elif record.provider == FIREWALL_PROVIDER:  # its own channel: never part of the Security log's coverage
            if record.event_id in FIREWALL_EVENTS:
                self.firewall.append(_firewall_event(record))
            else:
                self.unused[record.channel or "?"] += 1
        elif channel == SECURITY_CHANNEL:
            self._security(record)
        elif channel == DEFENDER_CHANNEL and record.event_id == DEFENDER_DETECTED:
            self.detections.detected(record)
        elif channel == DEFENDER_CHANNEL and record.event_id in (DEFENDER_ACTION_TAKEN, *DEFENDER_ACTION_FAILED):
            self.detections.action_taken(record)
        elif channel == DEFENDER_CHANNEL and record.event_id == DEFENDER_HEALTH:
            self.health.add(record)
        else:  # Security records all count for its coverage; other channels' records only when named above
            self.unused[record.channel or "?"] += 1

    def _other_log_cleared(self, record: _Record) -> None:
        """System 104 counts as a log clear, like Security 1102; its UserData names the cleared log."""
        fields = record.fields
        self.days.setdefault(record.time.date().isoformat(), Counter())[OTHER_LOG_CLEARED] += 1
        by = _qualified(fields.get("SubjectDomainName"), fields.get("SubjectUserName"))
        log = _text(fields.get("Channel")) or record.channel or None
        self.notable.append({"event_id": OTHER_LOG_CLEARED, "time": _iso(record.time), "by": by, "log": log})

    def _security(self, record: _Record) -> None:
        # coverage is that of the Security channel alone: other channels in the file say nothing about its gaps
        self.security_first = min(self.security_first or record.time, record.time)
        self.security_last = max(self.security_last or record.time, record.time)
        if record.event_id == FIREWALL_SETTING_CHANGED:
            self.firewall.append(_firewall_event(record))
        if record.event_id not in COUNTED_EVENTS:
            return
        self.days.setdefault(record.time.date().isoformat(), Counter())[record.event_id] += 1
        fields, time = record.fields, _iso(record.time)
        by = _qualified(fields.get("SubjectDomainName"), fields.get("SubjectUserName"))
        if record.event_id == AUDIT_POLICY_CHANGED:
            # several subcategories change in one second: each is its own event, told apart by its GUID
            changes = [POLICY_CHANGES.get(c.strip(), c.strip()) for c in _text(fields.get("AuditPolicyChanges")).split(",")]
            guid = _text(fields.get("SubcategoryGuid")).strip("{}").lower() or None
            self.notable.append(
                {
                    "event_id": record.event_id,
                    "time": time,
                    "by": by,
                    "subcategory_guid": guid,
                    "changes": [c for c in changes if c],
                }
            )
        elif record.event_id in NOTABLE_EVENTS:
            self.notable.append({"event_id": record.event_id, "time": time, "by": by})
        elif record.event_id == ACCOUNT_DISABLED:
            account = _qualified(fields.get("TargetDomainName"), fields.get("TargetUserName"))
            self.disabled.append({"account": account, "time": time, "by": by})
        elif record.event_id in ACCOUNT_CHANGES:
            self.accounts.append(self._account_change(record, time, by))

    @staticmethod
    def _account_change(record: _Record, time: str, by: str | None) -> dict[str, Any]:
        fields = record.fields
        target = _qualified(fields.get("TargetDomainName"), fields.get("TargetUserName"))
        if record.event_id in (4720, 4726):
            account, group, group_sid = target, None, None
        else:  # a member added to a group: the member is named by SID (MemberName is "-" for local accounts)
            member = _text(fields.get("MemberName"))
            account = member if member and member != "-" else _text(fields.get("MemberSid")) or None
            group, group_sid = target, _text(fields.get("TargetSid")) or None
        return {
            "event_id": record.event_id,
            "change": ACCOUNT_CHANGES[record.event_id],
            "time": time,
            "account": account,
            "sid": _text(fields.get("TargetSid" if record.event_id in (4720, 4726) else "MemberSid")) or None,
            "group": group,
            "group_sid": group_sid,
            "by": by,
        }

    def result(self) -> EvtxSummary:
        days = {day: {str(i): n for i, n in sorted(counts.items())} for day, counts in sorted(self.days.items())}
        daily = {
            "covered_from": _iso(self.security_first) if self.security_first else None,
            "covered_to": _iso(self.security_last) if self.security_last else None,
            "days": days,
            "notable": self.notable,
        }
        return EvtxSummary(
            records=self.records,
            errors=self.errors.result(),
            hosts=sorted(self.hosts - {""}),
            channels=sorted(self.channels - {""}),
            first=_iso(self.first) if self.first else None,
            last=_iso(self.last) if self.last else None,
            security_daily=daily,
            disabled_accounts={"events": self.disabled},
            detections=self.detections.result(),
            account_changes={"events": self.accounts},
            health=self.health.result(),
            health_reports=self.health.read,
            firewall_events={"events": self.firewall},
            unused_channels=dict(sorted(self.unused.items())),
        )


def _header_problems(header: bytes, size: int) -> list[str]:
    """ValueError when this is not EVTX; otherwise what the header shows is missing (the parser skips it silently)."""
    if not header.startswith(FILE_MAGIC):
        raise ValueError(f"not an EVTX file: it does not start with the 'ElfFile' signature (starts with {header[:8]!r})")
    if size < HEADER_BLOCK_SIZE:
        raise ValueError(f"not a readable EVTX file: {size} bytes is shorter than the {HEADER_BLOCK_SIZE}-byte file header")
    problems = []
    if zlib.crc32(header[:120]) != struct.unpack_from("<I", header, 124)[0]:
        problems.append("file header checksum mismatch: the header is damaged, so its chunk count may be wrong")
    (chunks,) = struct.unpack_from("<H", header, 42)
    whole = (size - HEADER_BLOCK_SIZE) // CHUNK_SIZE
    if whole < chunks:
        problems.append(
            f"file truncated (or its header damaged): the header declares {chunks} chunks but only {whole} "
            f"complete chunks are present; chunk {whole} (offset {HEADER_BLOCK_SIZE + whole * CHUNK_SIZE}) "
            f"onwards could not be read"
        )
    elif (size - HEADER_BLOCK_SIZE) % CHUNK_SIZE:
        problems.append(
            f"file ends inside a chunk at offset {size}: the partial chunk {whole} "
            f"(offset {HEADER_BLOCK_SIZE + whole * CHUNK_SIZE}) could not be read"
        )
    return problems


def _chunk_checksums_match(chunk: bytes) -> bool:
    """The chunk header's CRC32s: of its own header, and of the event records up to the free-space offset."""
    free, records_crc = struct.unpack_from("<II", chunk, 48)
    (header_crc,) = struct.unpack_from("<I", chunk, 124)
    return (
        CHUNK_HEADER_SIZE <= free <= CHUNK_SIZE
        and zlib.crc32(chunk[CHUNK_HEADER_SIZE:free]) == records_crc
        and zlib.crc32(chunk[:120] + chunk[128:CHUNK_HEADER_SIZE]) == header_crc
    )


def _checksum_problems(stream: BinaryIO) -> Iterator[str]:
    """Chunks whose records parse but whose bytes changed; the Python binding offers no checksum validation."""
    stream.seek(HEADER_BLOCK_SIZE)
    for index in itertools.count():
        chunk = stream.read(CHUNK_SIZE)
        if len(chunk) < CHUNK_SIZE:
            return
        # a chunk without its signature is unused space, or is reported by the parser itself
        if chunk.startswith(CHUNK_MAGIC) and not _chunk_checksums_match(chunk):
            yield (
                f"chunk {index} (offset {HEADER_BLOCK_SIZE + index * CHUNK_SIZE}): checksum mismatch; "
                f"its records were read but may be damaged or altered"
            )


def _is_parser_failure(exc: BaseException) -> bool:
    # pyo3 turns a Rust panic into PanicException, which derives from BaseException, not Exception
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _integrity_problems(source: str | Path | bytes) -> list[str]:
    """Read once, a chunk at a time, before parsing: raises ValueError for input that is not EVTX."""
    with io.BytesIO(source) if isinstance(source, bytes) else Path(source).open("rb") as stream:
        size = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        problems = _header_problems(stream.read(HEADER_BLOCK_SIZE), size)
        return problems + list(_checksum_problems(stream))


def _parser(source: str | Path | bytes) -> PyEvtxParser:
    # the parser reads a file-like object, so bytes need no temporary file
    target = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    try:
        return PyEvtxParser(target)
    except BaseException as exc:
        if not _is_parser_failure(exc):
            raise
        raise ValueError(f"not a readable EVTX file: {exc}") from None


def _raw_records(parser: PyEvtxParser, errors: _Errors) -> Iterator[dict[str, Any]]:
    """records_json() one at a time; the parser raises for an unreadable record or chunk and then goes on."""
    records = parser.records_json()
    last_read, failures = None, 0
    while True:
        try:
            raw = next(records)
        except StopIteration:
            return
        except BaseException as exc:
            if not _is_parser_failure(exc):
                raise
            errors.add(f"after record {last_read}: {exc}")
            failures += 1
            if failures >= MAX_CONSECUTIVE_FAILURES:
                errors.add(f"after record {last_read}: gave up after {failures} failures in a row")
                return
            continue
        failures, last_read = 0, raw.get("event_record_id")
        yield raw


def summarize_evtx(source: str | Path | bytes) -> EvtxSummary:
    """Summarise an EVTX file (path) or its bytes; ValueError when it is not EVTX, errors listed when it is damaged."""
    if isinstance(source, (bytearray, memoryview)):
        source = bytes(source)
    summary = _Summariser()
    for problem in _integrity_problems(source):  # first, so the error cap can never hide a truncation
        summary.errors.add(problem)
    for raw in _raw_records(_parser(source), summary.errors):
        try:
            record = _record(raw)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            summary.errors.add(f"record {raw.get('event_record_id')}: not an event ({exc.__class__.__name__}: {exc})")
            continue
        summary.add(record)
    return summary.result()
