"""Pure parsers for what the Windows probes print: base64 of UTF-8 JSON (so any code page is safe).

Every value is keyed on numbers, enums and identifiers, never on display text
in the host's language.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, date, datetime
from typing import Any

LOG_MODES = {0: "overwrite", 1: "archive", 2: "manual"}  # EventLogMode: Circular, AutoBackup, Retain
FIREWALL_ACTIONS = {0: "not_configured", 2: "allow", 4: "block"}  # NetSecurity.Action
GPO_BOOLEAN = {0: False, 1: True}  # 2 = NotConfigured
DEFENDER_ACTION_OK = {"quarantine", "remove", "clean", "block"}


def decode_output(stdout: bytes) -> bytes:
    """The probe's payload: whitespace-tolerant base64 of UTF-8."""
    text = stdout.strip()
    if not text:
        raise ValueError("the probe printed nothing")
    try:
        return base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"output is not the expected base64: {exc}") from None


def decode_json(stdout: bytes) -> Any:
    try:
        return json.loads(decode_output(stdout).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"output is not UTF-8 JSON: {exc}") from None


def logon_check(stdout: bytes) -> dict[str, str]:
    """doctor's logon script: the account and computer Windows names, and the PowerShell version."""
    data = _require(decode_json(stdout), "computer", "account")
    return {key: str(data.get(key) or "") for key in ("computer", "account", "powershell")}


def _as_list(value: Any) -> list:
    """PowerShell's ConvertTo-Json turns a one-element array into a bare object, and an empty one into null."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _require(data: Any, *keys: str) -> dict:
    if not isinstance(data, dict) or any(k not in data for k in keys):
        raise ValueError(f"expected an object with {', '.join(keys)}")
    return data


def security_log(stdout: bytes) -> dict[str, Any]:
    data = _require(decode_json(stdout), "max_size_bytes", "log_mode", "record_count")
    return {
        "max_size_bytes": int(data["max_size_bytes"]),
        "retention": LOG_MODES.get(int(data["log_mode"]), "unknown"),
        "oldest_record": data.get("oldest_record"),
        "record_count": int(data["record_count"]),
    }


def security_events(stdout: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """Daily counts (windows.security_events_daily) and account-disabled events (ad.account_disabled_events)."""
    data = _require(decode_json(stdout), "covered_from", "covered_to", "days")
    days = {str(day): {str(k): int(v) for k, v in counts.items()} for day, counts in (data["days"] or {}).items()}
    notable = [{"event_id": int(e["event_id"]), "time": e["time"], "by": e.get("by")} for e in _as_list(data.get("notable"))]
    disabled = [
        {"account": f"{e['domain']}\\{e['account']}" if e.get("domain") else e["account"], "time": e["time"], "by": e.get("by")}
        for e in _as_list(data.get("disabled"))
    ]
    daily = {"covered_from": data["covered_from"], "covered_to": data["covered_to"], "days": days, "notable": notable}
    # an incremental read says from which day it asked: a later covered_from means the log no longer held that day
    daily["requested_from"] = _day_or_none(data.get("requested_from"))
    return daily, {"events": disabled}


def _day_or_none(value: Any) -> str | None:
    return None if value in (None, "") else date.fromisoformat(str(value)).isoformat()


def _listing(runs: list[dict[str, Any]], data: dict[str, Any]) -> dict[str, Any]:
    """backup.runs, with the day the listing was asked from when it was (a listing of the runs since that day)."""
    listed_from = _day_or_none(data.get("requested_from"))
    return {"runs": runs, "listed_from": listed_from} if listed_from else {"runs": runs}


def firewall_profiles(stdout: bytes) -> dict[str, Any]:
    data = _require(decode_json(stdout), "profiles")
    profiles = {}
    for p in _as_list(data["profiles"]):
        profiles[str(p["name"]).lower()] = {
            "enabled": GPO_BOOLEAN.get(int(p["enabled"])),
            "default_inbound": FIREWALL_ACTIONS.get(int(p["inbound"]), "unknown"),
            "default_outbound": FIREWALL_ACTIONS.get(int(p["outbound"]), "unknown"),
            "log_allowed": GPO_BOOLEAN.get(int(p.get("log_allowed", 0))),
            "log_blocked": GPO_BOOLEAN.get(int(p.get("log_blocked", 0))),
        }
    return {"profiles": profiles, "third_party": sorted(str(n) for n in _as_list(data.get("third_party")))}


def decode_product_state(state: int) -> dict[str, Any]:
    """Security Center's productState, decoded the way it is commonly read. HEURISTIC: Microsoft does not document it."""
    return {
        "enabled": ((state >> 8) & 0xFF) in (0x10, 0x11),
        "up_to_date": (state & 0xFF) == 0x00,
        "decoding": "heuristic (productState is undocumented)",
    }


def security_center(stdout: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """Security Center products (windows.security_center) and, when it can be said, the host's AV status (av.host_status)."""
    data = decode_json(stdout)
    products = [
        {
            "name": p["name"],
            "product_state": int(p["state"]),
            **decode_product_state(int(p["state"])),
            "timestamp": p.get("timestamp"),
        }
        for p in _as_list(_require(data, "antivirus")["antivirus"])
    ]
    agent = _cmdagent(data.get("mcafee_agent") or "")
    center = {"antivirus": products, "mcafee_agent": agent}
    defender = data.get("defender")
    if defender and defender.get("enabled"):
        status = {
            "product": "Microsoft Defender Antivirus",
            "realtime": bool(defender.get("realtime")),
            "signature_date": (defender.get("signature") or "")[:10] or None,
            "engine_version": defender.get("engine"),
        }
    elif active := [p for p in products if p["enabled"]]:
        # another product is the active one; its signature date is only known to its own console
        status = {"product": active[0]["name"], "realtime": True, "signature_date": None, "engine_version": None}
    else:  # no product protects the host: that is itself the finding
        status = {"product": None, "realtime": False, "signature_date": None, "engine_version": None}
    return center, status


def _cmdagent(text: str) -> dict[str, str] | None:
    """`cmdagent -i` prints Key: Value lines (the McAfee/Trellix agent's identity and last console contact)."""
    pairs = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            pairs[key.strip()] = value.strip()
    return pairs or None


def windows_backup_jobs(stdout: bytes, server: str) -> dict[str, Any] | None:
    """Windows Server Backup job history as backup.runs; None when the feature is not installed."""
    data = _require(decode_json(stdout), "available")
    if not data["available"]:
        return None
    runs = []
    for job in _as_list(data.get("jobs")):
        if str(job.get("type", "")).lower() != "backup":
            continue
        runs.append(
            {
                "server": server,
                "job": "Windows Server Backup",
                "target": "local",
                "started": job["start"],
                "ended": job.get("end"),
                "result": "success" if int(job.get("hresult", 1)) == 0 else "failure",
            }
        )
    return _listing(runs, data)


VEEAM_STATUS = {"Success": "success", "Warning": "warning", "Failed": "failure"}  # others: still running or pending


def veeam_sessions(stdout: bytes) -> dict[str, Any] | None:
    """Veeam task sessions as backup.runs (one per protected machine per session); None without Veeam."""
    data = _require(decode_json(stdout), "available")
    if not data["available"]:
        return None
    runs = [
        {
            "server": r["server"],
            "job": r["job"],
            "target": "local",
            "started": r["start"],
            "ended": r.get("end"),
            "result": VEEAM_STATUS[r["status"]],
        }
        for r in _as_list(data.get("runs"))
        if r.get("status") in VEEAM_STATUS
    ]
    return _listing(runs, data)


def _utc_moment(value: Any) -> str:
    """A PowerShell round-trip ('o') time as UTC 'YYYY-MM-DDTHH:MM:SSZ', the form the SSH retention item has."""
    moment = datetime.fromisoformat(str(value))  # 3.11 reads the 'Z' and .NET's seven fractional digits
    if moment.tzinfo is None:
        raise ValueError(f"time without a zone: {value!r}")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def retention_files(stdout: bytes, path: str, limit_days: int, collected: datetime) -> dict[str, Any]:
    """One data location's file ages (retention.files). A missing location never gets here: its probe fails."""
    data = _require(decode_json(stdout), "file_count", "older_than_limit")
    count, old = int(data["file_count"]), int(data["older_than_limit"])
    if count < 0 or not 0 <= old <= count:
        raise ValueError(f"retention counts for {path} do not add up: {count} files, {old} older than the limit")
    oldest = data.get("oldest")
    if (oldest is None) != (count == 0):
        raise ValueError(f"retention output for {path}: {count} files but oldest time {oldest!r}")
    location = {
        "path": path,
        "file_count": count,
        "oldest_mtime": _utc_moment(oldest) if oldest is not None else None,
        "older_than_limit": old,
        "collected": collected.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return {"limit_days": limit_days, "locations": [location]}
