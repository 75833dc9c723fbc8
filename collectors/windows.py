"""The `windows` collector: audit policy, Security log, firewall, anti-virus and backups over WinRM.

Read-only: the probes in windows_probes.py are all it runs (auditpol writes its
export to a temp file that the same script deletes); the retention probe is one
template filled in per host, each data path a quoted literal (command_placeholders).
Outputs are base64 of UTF-8, decoded by pure parsers keyed on GUIDs, enums and
numbers, so a Dutch Windows reads the same as an English one.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from auditpack.canonical import utcnow
from auditpack.credentials import CredentialError
from auditpack.evidence import ItemStatus, Observation
from auditpack.inventory import Host, Role

from . import windows_probes as ps
from .base import CollectContext
from .guard import NUMBER, CommandGuard
from .parsers import windows as parse
from .parsers.auditpol import parse_auditpol_csv
from .transports.winrm import PywinrmTransport, Transport, WinrmError

LOGGING_ROLES = frozenset({Role.DOMAIN_CONTROLLER, Role.FILE_SERVER})
SERVER_ROLES = frozenset({Role.DOMAIN_CONTROLLER, Role.FILE_SERVER, Role.SERVER, Role.BACKUP_SERVER})
RETENTION_ROLES = frozenset({Role.FILE_SERVER, Role.SERVER})  # where O-RET looks for personal data
EVENTS = "windows.security_events_daily"  # the kind whose last read sets where the next Security log read starts
BACKUPS = "backup.runs"  # ... and the backup listings'

Parsed = list[tuple[str, Any]]  # (evidence kind, normalised) pairs from one probe's output


@dataclass(frozen=True)
class Probe:
    name: str
    script: str
    roles: frozenset[Role] | None  # None: every Windows host
    parse: Callable[[bytes, Host], Parsed]
    kinds: tuple[str, ...]


def _audit(stdout: bytes, host: Host) -> Parsed:
    return [("windows.audit_policy", parse_auditpol_csv(parse.decode_output(stdout)))]


def _events(stdout: bytes, host: Host) -> Parsed:
    daily, disabled = parse.security_events(stdout)
    return [("windows.security_events_daily", daily), ("ad.account_disabled_events", disabled)]


def _antivirus(stdout: bytes, host: Host) -> Parsed:
    center, status = parse.security_center(stdout)
    return [("windows.security_center", center), ("av.host_status", status)]


PROBES = (
    Probe("audit policy", ps.AUDIT_POLICY, LOGGING_ROLES, _audit, ("windows.audit_policy",)),
    Probe(
        "security log",
        ps.SECURITY_LOG,
        LOGGING_ROLES,
        lambda out, h: [("windows.security_log", parse.security_log(out))],
        ("windows.security_log",),
    ),
    Probe(
        "firewall",
        ps.FIREWALL,
        None,
        lambda out, h: [("windows.firewall_profiles", parse.firewall_profiles(out))],
        ("windows.firewall_profiles",),
    ),
    Probe("antivirus", ps.ANTIVIRUS, None, _antivirus, ("windows.security_center", "av.host_status")),
)


@dataclass(frozen=True)
class Since:
    """Where this host's incremental reads start (None: the first read, everything the source holds)."""

    events: date | None = None
    backups: date | None = None


def incremental_probes(host: Host, since: Since) -> list[Probe]:
    """The probes that read only the days since the last collection: the Security log's events and the backup
    histories. Each is its template filled in with a start day (command_placeholders: __SINCE__)."""
    probes = [
        Probe(
            "security events",
            ps.security_events_script(since.events),
            LOGGING_ROLES,
            _events,
            (EVENTS, "ad.account_disabled_events"),
        ),
        Probe(
            "windows server backup",
            ps.with_since(ps.WINDOWS_BACKUP, since.backups),
            SERVER_ROLES,
            lambda out, h: [(BACKUPS, parse.windows_backup_jobs(out, h.name))],
            (BACKUPS,),
        ),
        Probe(
            "veeam",
            ps.with_since(ps.VEEAM, since.backups),
            frozenset({Role.BACKUP_SERVER}),
            lambda out, h: [(BACKUPS, parse.veeam_sessions(out))],
            (BACKUPS,),
        ),
    ]
    return [p for p in probes if p.roles is None or p.roles & host.roles]


def _retention(path: str) -> Callable[[bytes, Host], Parsed]:
    return lambda out, h: [("retention.files", parse.retention_files(out, path, h.retention_days, utcnow()))]


def retention_probes(host: Host) -> list[Probe]:
    """One probe per data path, so a missing or unreadable location does not hide the others (as over SSH)."""
    if not RETENTION_ROLES & host.roles:
        return []
    return [
        Probe(
            f"retention {path}",
            ps.retention_script(path, host.retention_days),
            RETENTION_ROLES,
            _retention(path),
            ("retention.files",),
        )
        for path in host.data_paths
    ]


def probes_for(host: Host, since: Since | None = None) -> list[Probe]:
    fixed = [p for p in PROBES if p.roles is None or p.roles & host.roles]
    return fixed + incremental_probes(host, since or Since()) + retention_probes(host)


class WindowsCollector:
    name = "windows"
    transport = "winrm"
    # the fixed probes; the templates that read from a start day (a quoted date, or $null for everything); the
    # retention template, filled in with a quoted literal path and a number of days; doctor's check
    allowed_commands = (
        *(p.script for p in PROBES),
        ps.SECURITY_EVENTS,
        ps.WINDOWS_BACKUP,
        ps.VEEAM,
        ps.RETENTION,
        ps.LOGON_CHECK,  # LOGON_CHECK: auditpack doctor
    )
    command_placeholders = {"__PATH__": ps.PS_LITERAL, "__DAYS__": NUMBER, "__SINCE__": ps.SINCE}

    def __init__(self, transport_factory: Callable[[Host, Any, float, CommandGuard | None], Transport] = PywinrmTransport):
        self.transport_factory = transport_factory  # pypsrp could be plugged in here

    def applies_to(self, host: Host) -> bool:
        return host.connection == "winrm"

    def collect(self, host: Host, ctx: CollectContext) -> Iterator[Observation]:
        started = utcnow()
        try:
            secret = host.password.resolve(host.user, f"{host.user} on {host.name}") if host.password else None
            transport = self.transport_factory(host, secret, host.timeout, ctx.guard_for(self))
        except (CredentialError, WinrmError) as exc:
            yield Observation(
                "windows.connection",
                f"WinRM to {host.address}",
                b"",
                started,
                utcnow(),
                status=ItemStatus.ERROR,
                errors=[f"windows: {exc}"],
            )
            return
        since = Since(ctx.since(host.name, self.name, EVENTS), ctx.since(host.name, self.name, BACKUPS))
        failure: WinrmError | None = None
        for probe in probes_for(host, since):
            if failure is not None:  # do not knock again: a refused password retried could lock the account
                yield from self._skipped(probe, transport, failure)
                continue
            failure = yield from self._run(probe, host, transport)

    def _skipped(self, probe: Probe, transport: Transport, failure: WinrmError) -> Iterator[Observation]:
        now = utcnow()
        status = ItemStatus.UNREACHABLE if failure.unreachable else ItemStatus.ERROR
        for kind in probe.kinds:
            yield Observation(
                kind,
                f"powershell (WinRM {transport.endpoint}): {probe.script}",
                b"",
                now,
                now,
                status=status,
                errors=[f"{probe.name}: not tried after: {failure}"],
            )

    def _run(self, probe: Probe, host: Host, transport: Transport) -> Generator[Observation, None, WinrmError | None]:
        """Run one probe; returns the error that makes further probes pointless, if any."""
        started = utcnow()
        command = f"powershell (WinRM {transport.endpoint}): {probe.script}"

        def observation(kind: str, raw: bytes, **kw: Any) -> Observation:
            return Observation(kind=kind, command=command, raw=raw, started=started, ended=utcnow(), **kw)

        try:
            out = transport.run_ps(probe.script)
        except WinrmError as exc:
            status = ItemStatus.UNREACHABLE if exc.unreachable else ItemStatus.ERROR
            for kind in probe.kinds:
                yield observation(kind, b"", status=status, errors=[f"{probe.name}: {exc}"])
            return exc if exc.fatal else None
        if out.exit_code != 0:
            message = out.stderr.decode("utf-8", errors="replace").strip()[:500]
            for kind in probe.kinds:
                yield observation(
                    kind, out.stdout, status=ItemStatus.ERROR, errors=[f"{probe.name}: exit code {out.exit_code}: {message}"]
                )
            return None
        try:
            parsed = probe.parse(out.stdout, host)
        except (ValueError, KeyError, TypeError) as exc:
            for kind in probe.kinds:  # kept raw and flagged, never dropped
                yield observation(
                    kind, out.stdout, status=ItemStatus.GARBLED, errors=[f"{probe.name}: output could not be read: {exc}"]
                )
            return None
        # a succeeded probe may still have written warnings (pywinrm has unwrapped CLIXML already): keep them
        warnings = (
            [f"{probe.name}: stderr: {out.stderr.decode('utf-8', errors='replace').strip()[:500]}"] if out.stderr.strip() else []
        )
        for kind, normalized in parsed:
            if normalized is None:
                yield observation(kind, out.stdout, status=ItemStatus.ABSENT, errors=[f"{probe.name}: not present on this host"])
            else:
                yield observation(kind, out.stdout, normalized=normalized, errors=warnings)
        return None


DECLARED = CommandGuard.for_collector(WindowsCollector)  # compiled once; allows() changes nothing in it


def script_allowed(script: str) -> bool:
    """Whether a script is a declared probe, or a template filled in with only a quoted path, a number or a start day."""
    return DECLARED.allows(script)
