"""The nightly schedule as text: the systemd service and timer, and the cron line where systemd does not run.

Pure: the paths and settings come in, the unit files' text and the crontab line come out; writing them, and asking
systemctl, is auditpack/commands/schedule.py. The service runs the collection, then the day's alerts: the
collection's ExecStart carries systemd's '-' prefix, so a partial run (exit 1) or a failed one (exit 2) still
reaches `notify run`, which is what tells ICT about it.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path

from .canonical import parse_iso

SERVICE_NAME = "auditpack.service"
TIMER_NAME = "auditpack.timer"
DEFAULT_AT = "02:30"
OVERDUE = timedelta(hours=26)  # a daily job's newest run older than this: a night was missed
TIMEOUT = "4h"  # a night's collection of a large site stays well under this; a hung one is stopped before the next
# Where a user's own files live: a service that reads from there cannot hide them with ProtectHome=yes.
HOME_ROOTS = (Path("/home"), Path("/root"), Path("/run/user"))
TEMP_ROOTS = (Path("/tmp"), Path("/var/tmp"))  # PrivateTmp=yes would give the job empty ones
HEADER = "# Written by `auditpack schedule install`; `auditpack schedule remove` removes it."
_AT = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_ON_CALENDAR = re.compile(r"^OnCalendar=\*-\*-\* (\d\d):(\d\d):00$", re.MULTILINE)


@dataclass(frozen=True)
class Schedule:
    """What the nightly job runs and with which settings; every path absolute."""

    executable: Path  # the auditpack that installed it (a venv's, usually)
    at: time
    working_dir: Path
    store: Path
    config: Path | None = None
    inventory: Path | None = None
    env_file: Path | None = None  # secrets for env: references, kept out of the unit file
    environment: tuple[tuple[str, str], ...] = ()  # further settings in force at install, as AUDITPACK_* variables
    run_as: str | None = None  # User= of a system unit installed for an operator who is not root
    system: bool = True  # a system unit (/etc/systemd/system), else the user's own manager
    extra_paths: tuple[Path, ...] = field(default=())  # other files the job reads (keys, a TSA certificate)

    def commands(self) -> tuple[list[str], list[str]]:
        exe = str(self.executable)
        # notify run prints a line per channel only: the journal (or cron's mail) keeps what was sent where
        return [exe, "collect", "--quiet"], [exe, "notify", "run"]

    def variables(self) -> list[tuple[str, str]]:
        """The environment the job gets: the store it may write, and the configuration it reads."""
        pairs = [("AUDITPACK_STORE", str(self.store))]
        if self.config is not None:
            pairs.append(("AUDITPACK_CONFIG", str(self.config)))
        if self.inventory is not None:
            pairs.append(("AUDITPACK_INVENTORY", str(self.inventory)))
        return pairs + [p for p in self.environment if p[0] not in {k for k, _ in pairs}]


def parse_at(text: str) -> time:
    """'02:30' (24-hour clock, local time) as a time; ValueError for anything else."""
    match = _AT.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a time of day as HH:MM (24-hour clock), e.g. 02:30")
    return time(int(match.group(1)), int(match.group(2)))


def next_run(at: time, now: datetime) -> datetime:
    """The first moment at AT after NOW (same time zone as NOW)."""
    today = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    return today if today > now else today + timedelta(days=1)


def timer_time(timer_text: str) -> time | None:
    """The time of day an installed timer written by `timer_unit` runs at."""
    match = _ON_CALENDAR.search(timer_text)
    return time(int(match.group(1)), int(match.group(2))) if match else None


def _under(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _used_paths(schedule: Schedule) -> list[Path]:
    used = [schedule.executable, schedule.working_dir, schedule.store, *schedule.extra_paths]
    return used + [p for p in (schedule.config, schedule.inventory, schedule.env_file) if p is not None]


def protect_home(schedule: Schedule) -> str:
    """'yes' hides every home directory; 'read-only' when the job reads (or writes its store) under one."""
    if not schedule.system or any(_under(p, HOME_ROOTS) for p in _used_paths(schedule)):
        return "read-only"
    return "yes"


def private_tmp(schedule: Schedule) -> str:
    """A private /tmp, unless the job's own files are in the shared one (a trial install, a test)."""
    return "no" if any(_under(p, TEMP_ROOTS) for p in _used_paths(schedule)) else "yes"


def _no_newline(text: str) -> str:
    if "\n" in text or "\r" in text:
        raise ValueError(f"{text!r}: a line break cannot be written into a unit file")
    return text


def unit_word(text: str, exec_line: bool = False) -> str:
    """One word of a unit file setting: specifiers ('%') and, on an Exec line, variables ('$') kept literal;
    quoted when it holds a space or a quote, backslashes escaped inside the quotes."""
    text = _no_newline(text).replace("%", "%%")
    if exec_line:
        text = text.replace("$", "$$")
    if re.search(r"[\s\"'\\;]", text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def unit_path(path: Path) -> str:
    """A path as a setting that takes it whole (WorkingDirectory=, EnvironmentFile=): only specifiers escaped."""
    return _no_newline(str(path)).replace("%", "%%")


HARDENING = (
    "PrivateDevices=yes",
    "NoNewPrivileges=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictSUIDSGID=yes",
    "RestrictRealtime=yes",
    "RestrictNamespaces=yes",
    "LockPersonality=yes",
    "SystemCallArchitectures=native",
    # the collectors' sockets (TCP for LDAP, WinRM, SSH, TLS, the TSA) and netlink (nft, the listening sockets)
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK",
    "PrivateMounts=yes",
    "SystemCallFilter=@system-service",
    "SystemCallErrorNumber=EPERM",
    # as root, only what reading evidence needs: the firewall rules (nft, iptables-save), the owners of listening
    # sockets (psutil reads other processes' /proc/PID/fd), and a store another account owns
    "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_SYS_PTRACE CAP_DAC_OVERRIDE",
)


def service_unit(schedule: Schedule) -> str:
    collect, notify = schedule.commands()
    lines = [
        HEADER,
        "[Unit]",
        "Description=auditpack: collect evidence, then alert on the day's new findings",
    ]
    if schedule.system:  # the user manager has no network-online.target
        lines += ["Wants=network-online.target", "After=network-online.target"]
    lines += ["", "[Service]", "Type=oneshot", f"WorkingDirectory={unit_path(schedule.working_dir)}"]
    lines += [f"Environment={unit_word(f'{k}={v}')}" for k, v in schedule.variables()]
    if schedule.env_file is not None:
        lines.append(f"EnvironmentFile={unit_path(schedule.env_file)}")
    if schedule.system and schedule.run_as:
        lines.append(f"User={schedule.run_as}")
    lines += [
        "# '-': a partial or failed collection must still reach the alerts, which report it",
        "ExecStart=-" + " ".join(unit_word(w, exec_line=True) for w in collect),
        "ExecStart=" + " ".join(unit_word(w, exec_line=True) for w in notify),
        "# notify run ends with 1 when it sent new findings: the job did its work; 2 (an alert not delivered) fails it",
        "SuccessExitStatus=1",
        f"TimeoutStartSec={TIMEOUT}",
        "Nice=10",
        "IOSchedulingClass=idle",
        "UMask=0077",
        "# read-only everywhere but the evidence store",
        "ProtectSystem=strict",
        f"ReadWritePaths={unit_word(str(schedule.store))}",
        f"ProtectHome={protect_home(schedule)}",
        f"PrivateTmp={private_tmp(schedule)}",
        *HARDENING,
    ]
    return "\n".join(lines) + "\n"


def timer_unit(schedule: Schedule) -> str:
    at = f"{schedule.at:%H:%M}"
    return (
        "\n".join(
            [
                HEADER,
                "[Unit]",
                f"Description=auditpack: the nightly collection at {at}",
                "",
                "[Timer]",
                f"OnCalendar=*-*-* {at}:00",
                "# a night missed (the machine was off) runs at the next boot",
                "Persistent=true",
                "AccuracySec=1min",
                f"Unit={SERVICE_NAME}",
                "",
                "[Install]",
                "WantedBy=timers.target",
            ]
        )
        + "\n"
    )


def lock_path(store: Path) -> Path:
    """Beside the store, not in it: a new store must be created in an empty directory, and the store's own lock
    is taken by every commit."""
    return store.parent / f".{store.name}.schedule.lock"


def cron_line(schedule: Schedule) -> str:
    """The crontab line doing what the units do: at AT, the collection then the alerts, never two nights at once
    (`flock -n`: a night that finds the last one still running is skipped rather than queued behind it)."""
    collect, notify = schedule.commands()
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in schedule.variables())
    job = f"{shlex.join(collect)}; {shlex.join(notify)}"
    if schedule.env_file is not None:  # the secrets file, exported to both commands
        job = f"set -a; . {shlex.quote(str(schedule.env_file))}; set +a; {job}"
    line = (
        f"cd {shlex.quote(str(schedule.working_dir))} && {env} "
        f"flock -n {shlex.quote(str(lock_path(schedule.store)))} sh -c {shlex.quote(job)}"
    )
    # '%' ends a crontab command (the rest is its input) unless escaped
    return f"{schedule.at.minute} {schedule.at.hour} * * * " + _no_newline(line).replace("%", "\\%")


def run_problems(last: dict | None, now: datetime, overdue: timedelta = OVERDUE) -> list[str]:
    """What is wrong with the newest collection (seq, ended, status as its manifest says) for a daily job at NOW."""
    if last is None:
        return ["no collection in the store yet"]
    problems = []
    if last["status"] != "complete":
        problems.append(f"run {last['seq']} was {last['status']}")
    age = now - parse_iso(last["ended"])
    if age > overdue:
        problems.append(f"run {last['seq']} ended {age.total_seconds() / 3600:.1f} hours ago: a night was missed")
    return problems


def parse_systemctl_show(text: str) -> dict[str, str]:
    """`systemctl show -p A -p B` output (A=value lines) as a mapping."""
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            found[key.strip()] = value.strip()
    return found
