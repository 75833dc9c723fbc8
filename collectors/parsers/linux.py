"""Pure parsers for the read-only commands the SSH collector runs on Linux hosts."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

NON_LOGIN_SHELLS = ("nologin", "false", "sync", "halt", "shutdown")
# "ClamAV 1.0.7/27480/Wed Nov 25 09:33:05 2026"; without a signature database only "ClamAV 1.0.7"
CLAM_VERSION = re.compile(r"^ClamAV (?P<engine>[\d.]+)(?:/(?P<db>\d+)/(?P<date>.+))?$")
SS_LINE = re.compile(r"^(?P<proto>tcp|udp)\s+\S+\s+\d+\s+\d+\s+(?P<local>\S+)\s+\S+(?:\s+users:\(\((?P<users>.*)\)\))?")


def text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text: {exc}") from None


def passwd(data: bytes) -> list[dict[str, Any]]:
    """`getent passwd`: local accounts and whether they can log in (never the password hashes: those are in shadow)."""
    accounts = []
    for number, line in enumerate(text(data).splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(":")
        if len(parts) != 7:
            raise ValueError(f"line {number}: not a passwd entry")
        name, _, uid, gid, _, home, shell = parts
        accounts.append(
            {
                "name": name,
                "uid": int(uid),
                "gid": int(gid),
                "home": home,
                "shell": shell,
                "login_shell": not shell.rsplit("/", 1)[-1].startswith(NON_LOGIN_SHELLS),
            }
        )
    return accounts


ADMIN_GROUPS = ("sudo", "wheel", "admin", "root")  # members may become root (Debian/Ubuntu, Red Hat, old Ubuntu)


def admin_groups(data: bytes) -> dict[str, list[str]]:
    """`getent group`: the members of the groups that may become root (the groups a host lacks are left out)."""
    groups = {}
    for number, line in enumerate(text(data).splitlines(), 1):
        parts = line.split(":")
        if len(parts) != 4:
            raise ValueError(f"line {number}: not a group entry")
        if parts[0] in ADMIN_GROUPS:
            groups[parts[0]] = [m for m in parts[3].split(",") if m]
    return groups


def listening(data: bytes) -> list[dict[str, Any]]:
    """`ss -Htulnp`: listening sockets with the owning process where ss may show it."""
    found = []
    for line in text(data).splitlines():
        match = SS_LINE.match(line.strip())
        if not match:
            if line.strip():
                raise ValueError(f"not ss output: {line[:80]!r}")
            continue
        address, _, port = match["local"].rpartition(":")
        process = re.search(r'"([^"]+)"', match["users"] or "")
        found.append(
            {
                "protocol": match["proto"],
                "address": address.strip("[]"),
                "port": int(port) if port.isdigit() else port,
                "process": process.group(1) if process else "",
            }
        )
    return sorted(found, key=lambda r: (r["protocol"], str(r["port"]), r["address"]))


def clamav(version_output: bytes, daemon_state: bytes) -> dict[str, Any]:
    """`clamscan --version` (engine/database/date) and `systemctl is-active clamav-daemon` as av.host_status."""
    line = text(version_output).strip().splitlines()[0] if version_output.strip() else ""
    match = CLAM_VERSION.match(line)
    if not match:
        raise ValueError(f"not ClamAV version output: {line[:80]!r}")
    signatures = None  # no database loaded: the scanner cannot recognise anything
    if match["date"] is not None:
        try:
            signatures = datetime.strptime(match["date"].strip(), "%a %b %d %H:%M:%S %Y").date().isoformat()
        except ValueError:
            raise ValueError(f"unreadable signature date {match['date']!r}") from None
    return {
        "product": "ClamAV",
        "realtime": text(daemon_state).strip() == "active",
        "signature_date": signatures,
        "engine_version": match["engine"],
        "database": int(match["db"]) if match["db"] else None,
    }


def clamav_report(data: bytes) -> dict[str, Any]:
    """The SSH collector's one command: `clamscan --version`, then the daemon state on the next line."""
    lines = text(data).strip().splitlines()
    return clamav("\n".join(lines[:1]).encode(), "\n".join(lines[1:2]).encode())


def file_ages(data: bytes, path: str, limit_days: int, collected: datetime) -> dict[str, Any]:
    """Three numbers printed by the retention command: file count, oldest mtime (epoch), files older than the limit."""
    lines = [line.strip() for line in text(data).splitlines()]
    if len(lines) < 3 or not lines[0].isdigit() or not lines[2].isdigit():
        raise ValueError(f"retention output for {path} is not 'count / oldest / older-than' lines")
    oldest = datetime.fromtimestamp(float(lines[1]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if lines[1] else None
    return {
        "path": path,
        "file_count": int(lines[0]),
        "oldest_mtime": oldest,
        "older_than_limit": int(lines[2]),
        "collected": collected.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
