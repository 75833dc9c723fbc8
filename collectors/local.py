"""The `local` collector: evidence about the machine auditpack runs on.

Read-only: psutil calls, files under /etc that every user may read, and the
firewall listing commands below. Process command lines are never read, since
they can carry secrets; only process names and executable paths are kept.
"""

from __future__ import annotations

import platform
import pwd
import socket
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from auditpack.canonical import canonical_json, utcnow
from auditpack.evidence import ItemStatus, Observation
from auditpack.inventory import Host

from .base import CollectContext
from .commands import command_observation
from .guard import CommandGuard
from .parsers.agents import classify_processes
from .parsers.iptables import parse_iptables_save
from .parsers.nftables import parse_nft_json

FIREWALL_COMMANDS: list[tuple[str, list[str], Any]] = [
    ("host_firewall.nftables", ["nft", "-j", "list", "ruleset"], parse_nft_json),
    ("host_firewall.iptables", ["iptables-save"], lambda b: parse_iptables_save(b, "ipv4")),
    ("host_firewall.ip6tables", ["ip6tables-save"], lambda b: parse_iptables_save(b, "ipv6")),
]
NON_LOGIN_SHELLS = ("nologin", "false", "sync", "halt", "shutdown")
PSUTIL = f"psutil {psutil.__version__}"


def _psutil_observation(kind: str, call: str, produce, guard: CommandGuard) -> Observation:
    """Run a psutil call; its JSON rendering is the raw evidence, the derived view the normalised one."""
    guard.check(call)
    started = utcnow()
    try:
        raw_records, normalized = produce()
        status, errors = ItemStatus.OK, []
    except (psutil.Error, OSError) as exc:
        raw_records, normalized, status, errors = None, None, ItemStatus.ERROR, [f"{call} failed: {exc}"]
    return Observation(
        kind=kind,
        command=call,
        raw=canonical_json(raw_records),
        normalized=normalized,
        started=started,
        ended=utcnow(),
        status=status,
        errors=errors,
        tool_version=PSUTIL,
    )


def _system() -> tuple[Any, Any]:
    uname = platform.uname()._asdict()
    os_release = {}
    path = Path("/etc/os-release")
    if path.exists():
        for line in path.read_text(errors="replace").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                os_release[key] = value.strip().strip('"')
    boot = datetime.fromtimestamp(psutil.boot_time(), UTC)
    raw = {"uname": uname, "os_release": os_release, "boot_time": psutil.boot_time(), "hostname": socket.gethostname()}
    normalized = {
        "hostname": socket.gethostname(),
        "fqdn": socket.getfqdn(),
        "system": uname["system"],
        "release": uname["release"],
        "machine": uname["machine"],
        "os_name": os_release.get("PRETTY_NAME") or f"{uname['system']} {uname['release']}",
        "boot_time": boot,
        "uptime_seconds": int(time.time() - psutil.boot_time()),
        "python": sys.version.split()[0],
    }
    return raw, normalized


def _sessions() -> tuple[Any, Any]:
    users = [u._asdict() for u in psutil.users()]
    return users, [
        {"user": u["name"], "terminal": u["terminal"], "host": u["host"], "started": datetime.fromtimestamp(u["started"], UTC)}
        for u in users
    ]


def _accounts() -> tuple[Any, Any]:
    entries = [
        {"name": p.pw_name, "uid": p.pw_uid, "gid": p.pw_gid, "home": p.pw_dir, "shell": p.pw_shell} for p in pwd.getpwall()
    ]
    normalized = [dict(e, login_shell=not e["shell"].rsplit("/", 1)[-1].startswith(NON_LOGIN_SHELLS)) for e in entries]
    return entries, normalized


def _listening() -> tuple[Any, Any]:
    conns = psutil.net_connections(kind="inet")
    names: dict[int, str] = {}
    records = []
    for c in conns:
        is_tcp = c.type == socket.SOCK_STREAM
        if (is_tcp and c.status != psutil.CONN_LISTEN) or (not is_tcp and c.raddr):
            continue
        if c.pid and c.pid not in names:
            try:
                names[c.pid] = psutil.Process(c.pid).name()
            except psutil.Error:
                names[c.pid] = ""
        records.append(
            {
                "protocol": "tcp" if is_tcp else "udp",
                "family": "ipv6" if c.family == socket.AF_INET6 else "ipv4",
                "address": c.laddr.ip,
                "port": c.laddr.port,
                "pid": c.pid,
                "process": names.get(c.pid or -1, ""),
            }
        )
    records.sort(key=lambda r: (r["protocol"], r["port"], r["address"]))
    return records, records


def _processes() -> tuple[Any, Any]:
    procs = [p.info for p in psutil.process_iter(["pid", "name", "exe"])]
    procs.sort(key=lambda p: p["pid"])
    return procs, {"process_count": len(procs), "agents": classify_processes(procs)}


# The psutil and file reads, by what they read: (evidence kind, call as declared and recorded, the reading).
PSUTIL_CALLS: dict[str, tuple[str, str, Any]] = {
    "system": ("system.os", "psutil.boot_time(); platform.uname(); read /etc/os-release", _system),
    "sessions": ("accounts.sessions", "psutil.users()", _sessions),
    "accounts": ("accounts.local", "pwd.getpwall()", _accounts),
    "listening": ("network.listening", "psutil.net_connections(kind='inet')", _listening),
    "processes": ("processes.agents", "psutil.process_iter(['pid', 'name', 'exe'])", _processes),
}


class LocalCollector:
    name = "local"
    transport = "local"
    allowed_commands = (
        *(call for _, call, _ in PSUTIL_CALLS.values()),
        *(" ".join(argv) for _, argv, _ in FIREWALL_COMMANDS),
    )
    command_placeholders: dict[str, str] = {}  # nothing is filled in per host

    def applies_to(self, host: Host) -> bool:
        return host.connection == "local"

    def collect(self, host: Host, ctx: CollectContext) -> Iterator[Observation]:
        guard = ctx.guard_for(self)
        for kind, call, produce in PSUTIL_CALLS.values():
            yield _psutil_observation(kind, call, produce, guard)
        if sys.platform.startswith("linux"):
            for kind, argv, parse in FIREWALL_COMMANDS:
                remaining = min(60.0, ctx.deadline - time.monotonic())
                obs = command_observation(kind, argv, remaining, parse, guard=guard)
                if isinstance(obs.normalized, dict):
                    obs.tool_version = obs.normalized.get("nft_version") or obs.normalized.get("generator", "")
                yield obs
