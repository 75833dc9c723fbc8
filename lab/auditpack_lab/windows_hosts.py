"""The lab's Windows hosts and anti-virus console: what dc01, fs01, epo01 and the workstations answer.

Each Windows host is a handler for the WinRM peer (peers/winrm.py): it gets the
PowerShell script the Windows collector sends (collectors/windows_probes.py) and
answers with what that script prints on Windows: base64 of UTF-8 JSON, or the
`auditpol /backup` CSV for the audit policy. The answers come from the Company:
a year and a bit of Security log on the servers with the leavers' 4725 events,
dc01's Windows Server Backup nights, McAfee Endpoint Security with each
workstation's signature date, the recordings on fs01's data share. The hosts
answer as of the lab's clock (clock.py): the moment the lab was built, or the
day of the year the demo collects on; nothing they report lies later.

Simulated, not captured: the volumes of events are a model of a contact centre
of this size (busy weekdays, a Saturday shift, a quiet Sunday). A script that is
not one of the collector's probes, or a probe this kind of host is never sent
(the audit policy of a workstation), is answered with an error, so a collector
that strays is noticed.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from auditpack.collectors import windows_probes as ps

from .company import DOMAIN, BackupNight, Company, Workstation
from .layout import AUDIT_ACCOUNT
from .peers.winrm import Handler, ScriptResult
from .year import SPRAY_KEPT_HOURS

SERVERS = {"dc01": "domain_controller", "fs01": "file_server", "epo01": "server"}
LOGGING_HOSTS = ("dc01", "fs01")  # the hosts T-LOG-1/T-LOG-2 read
WINDOWS_SERVER_BACKUP = ("dc01",)  # fs01 is backed up by the Linux backup server (borg), not by WSB
FS01_DATA_PATHS = ("D:\\Opnames",)  # call recordings: personal data, for O-RET
AV_PRODUCT = "McAfee Endpoint Security"
AGENT_VERSION = "5.7.9.139"
DEFENDER_ENGINE = "1.1.24090.11"
# Security Center productState: 0x10 in the second byte = on; low byte 0x00 up to date, 0x10 out of date
STATE_CURRENT, STATE_OUTDATED = 0x041000, 0x041010
OUTDATED_AFTER_DAYS = 7  # ENS reports its content out of date to Windows after a week
LOG_BYTES = 4 << 30  # 4 GB Security log, overwrite as needed
LOG_DAYS = {"dc01": 420, "fs01": 410}  # how far back the oldest record lies
OTHER_RECORDS = 1.7  # records of other event ids (Kerberos, 4672, ...) per counted one
SPRAY_FAILED_LOGONS = 1_450_000  # the password spray's 4625s on dc01: enough to fill its 4 GB log
WSB_FAILED = -2147024784  # HRESULT 0x80070070 (disk full), as Get-WBJob's Int32 HResult
AMSTERDAM = ZoneInfo("Europe/Amsterdam")  # the console shows its own local time

# weekday volumes of the counted Security events per server; Saturday runs a small shift, Sunday only machines
VOLUMES = {
    "dc01": {"4624": 2600, "4634": 2520, "4625": 24, "4740": 0.3, "5140": 640, "5145": 980, "4663": 45},
    "fs01": {"4624": 1750, "4634": 1700, "4625": 6, "5140": 1450, "5145": 3100, "4663": 4200},
}
DAY_FACTOR = (1.0, 1.0, 1.0, 1.0, 1.0, 0.35, 0.12)  # Monday .. Sunday

GUID = "{{0cce{}-69ae-11d9-bed3-505054503030}}"
BOTH, SUCCESS = 3, 1
# the domain's advanced audit policy (GPO), in auditpol /backup's rows: GUID suffix, subcategory, setting value
AUDIT_POLICY = (
    ("9215", "Logon", BOTH),
    ("9216", "Logoff", SUCCESS),
    ("9217", "Account Lockout", BOTH),
    ("921b", "Special Logon", SUCCESS),
    ("921c", "Other Logon/Logoff Events", BOTH),
    ("923f", "Credential Validation", BOTH),
    ("9242", "Kerberos Authentication Service", BOTH),
    ("9240", "Kerberos Service Ticket Operations", BOTH),
    ("921d", "File System", BOTH),
    ("9224", "File Share", BOTH),
    ("9244", "Detailed File Share", BOTH),
    ("922f", "Audit Policy Change", BOTH),
    ("9235", "User Account Management", BOTH),
    ("9237", "Security Group Management", BOTH),
    ("9236", "Computer Account Management", BOTH),
    ("9210", "Security State Change", BOTH),
    ("9212", "System Integrity", BOTH),
)
DC_ONLY_POLICY = (("923c", "Directory Service Changes", BOTH), ("923b", "Directory Service Access", BOTH))
SETTING_TEXT = {BOTH: "Success and Failure", SUCCESS: "Success"}


def printed(obj: Any) -> bytes:
    """What a probe writes: base64 of compact UTF-8 JSON, and the line end Write-Output adds."""
    return base64.b64encode(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")) + b"\r\n"


def round_trip(moment: datetime) -> str:
    """.NET's 'o' format of a UTC DateTime: seven fractional digits and a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def _portion(day: date, start: datetime, end: datetime) -> float:
    """Share of a UTC day that lies between start and end."""
    lo, hi = max(_day_start(day), start), min(_day_start(day) + timedelta(days=1), end)
    return max(0.0, (hi - lo).total_seconds() / 86400)


def _not_modelled(what: str) -> ScriptResult:
    return ScriptResult(stderr=f"lab host: {what}".encode(), exit_code=1)


@dataclass(frozen=True)
class DisableEvent:
    account: str
    moment: datetime
    by: str


class LabWindowsHost:
    """One Windows host of the company, answering the collector's probes as of the lab's clock (thread-safe)."""

    def __init__(
        self,
        company: Company,
        name: str,
        role: str,
        workstation: Workstation | None = None,
        clock: Callable[[], datetime] | None = None,
    ):
        self.company, self.name, self.role, self.workstation = company, name, role, workstation
        self.clock = clock or (lambda: company.built)
        self.rng_seed = f"{company.seed}:{name}"

    @property
    def now(self) -> datetime:
        return self.clock()

    def __call__(self, script: str) -> ScriptResult:
        if (arguments := ps.retention_arguments(script)) is not None:
            return self.retention(*arguments)
        matched, since = ps.since_of(ps.SECURITY_EVENTS, script)
        if matched:
            if not self.logs:
                return _not_modelled("no Security log here")
            answer, records = self.security_events(since)
            return ScriptResult(printed(answer), records_read=records)
        for template, listing in ((ps.WINDOWS_BACKUP, self.windows_backup), (ps.VEEAM, _no_veeam)):
            matched, since = ps.since_of(template, script)
            if matched:
                return ScriptResult(printed(listing(since)))
        answer = self.fixed.get(script)
        if answer is None:
            return _not_modelled(f"{self.name} is not sent this script")
        return ScriptResult(answer())

    @property
    def logs(self) -> bool:
        return self.name in LOGGING_HOSTS

    @cached_property
    def fixed(self) -> dict[str, Callable[[], bytes]]:
        answers: dict[str, Callable[[], bytes]] = {
            ps.FIREWALL: lambda: printed(self.firewall()),
            ps.ANTIVIRUS: lambda: printed(self.antivirus()),
            ps.LOGON_CHECK: lambda: printed(self.logon()),
        }
        if self.logs:
            answers[ps.AUDIT_POLICY] = lambda: base64.b64encode(self.audit_policy_csv().encode("utf-8")) + b"\r\n"
            answers[ps.SECURITY_LOG] = lambda: printed(self.security_log())
        return answers

    def logon(self) -> dict[str, str]:
        """What doctor's logon script prints: the audit account (the only one the peer lets in) and the computer."""
        return {"computer": self.name.upper(), "account": f"{DOMAIN}\\{AUDIT_ACCOUNT}", "powershell": "5.1.20348.2849"}

    # --- audit policy and Security log ---------------------------------------------------------------------------

    def audit_policy_csv(self) -> str:
        rows = AUDIT_POLICY + (DC_ONLY_POLICY if self.role == "domain_controller" else ())
        lines = ["Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting,Setting Value"]
        lines += [
            f"{self.name.upper()},System,{name},{GUID.format(suffix)},{SETTING_TEXT[value]},,{value}"
            for suffix, name, value in rows
        ]
        return "\r\n".join(lines) + "\r\n"

    def oldest_record(self, now: datetime) -> datetime:
        """The oldest record the log holds at NOW: a little over LOG_DAYS back, or, on dc01 after the password
        spray that filled its log, what the spray left of the hours before it."""
        minutes = random.Random(self.rng_seed + ":log").randint(0, 600)
        oldest = now - timedelta(days=LOG_DAYS[self.name], minutes=minutes)
        spray = self.company.year.spray
        if self.role == "domain_controller" and now >= spray:
            oldest = max(oldest, spray - timedelta(hours=SPRAY_KEPT_HOURS))
        return oldest

    @lru_cache(maxsize=1024)  # noqa: B019 - one host object per peer for the lab's lifetime
    def day_counts(self, day: date) -> dict[str, int]:
        """The counted events of a whole UTC day, the same whichever moment the log is read at."""
        rng = random.Random(f"{self.rng_seed}:events:{day}")
        counts = {}
        for event_id, mean in VOLUMES[self.name].items():
            n = int(mean * DAY_FACTOR[day.weekday()] * rng.uniform(0.85, 1.15) + rng.random())
            if n:
                counts[event_id] = n
        if self.role == "domain_controller" and day == self.company.year.spray.date():
            counts["4625"] = counts.get("4625", 0) + SPRAY_FAILED_LOGONS
        return counts

    def counts_between(self, start: datetime, end: datetime) -> dict[date, dict[str, int]]:
        """Counted events per UTC day between START and END; a day cut by either only for its part inside."""
        days: dict[date, dict[str, int]] = {}
        day = start.date()
        while day <= end.date():
            share = _portion(day, start, end)
            if share > 0:
                counts = {k: n if share >= 1 else int(n * share) for k, n in self.day_counts(day).items()}
                counts["4624"] = max(1, counts.get("4624", 0))  # machine accounts log on around the clock
                days[day] = {k: n for k, n in counts.items() if n}
            day += timedelta(days=1)
        for event in self.disable_events:
            if start <= event.moment <= end:
                counts = days.setdefault(event.moment.date(), {})
                counts["4725"] = counts.get("4725", 0) + 1
        return days

    @cached_property
    def disable_events(self) -> list[DisableEvent]:
        """4725 for each leaver on the day the account was disabled, by one of ICT's admins (domain controller only)."""
        if self.role != "domain_controller":
            return []
        rng = random.Random(self.rng_seed + ":4725")
        admins = self.company.admins or ["administrator"]
        built = self.company.built
        events = []
        for n, person in enumerate(p for p in self.company.leavers if p.disabled_on and p.disabled_on <= built.date()):
            wanted = datetime.combine(person.disabled_on, time(8), UTC) + timedelta(minutes=rng.randint(0, 8 * 60))
            moment = max(_day_start(person.disabled_on), min(wanted, built))
            events.append(DisableEvent(person.account, moment, f"{DOMAIN}\\{admins[n % len(admins)]}"))
        return events

    def security_log(self) -> dict[str, Any]:
        now = self.now
        oldest = self.oldest_record(now)
        counted = sum(n for counts in self.counts_between(oldest, now).values() for n in counts.values())
        return {
            "max_size_bytes": LOG_BYTES,
            "log_mode": 0,
            "record_count": int(counted * (1 + OTHER_RECORDS)),
            "oldest_record": round_trip(oldest),
        }

    def security_events(self, since: date | None) -> tuple[dict[str, Any], int]:
        """The probe's answer when it asks from the UTC day SINCE (None: all the log holds), and how many records
        the query handed over: the log's counted events from the later of SINCE and its oldest record up to now.
        Those are what the script's loop reads; the service's own filtering of the log is not modelled."""
        now = self.now
        oldest = self.oldest_record(now)
        start = oldest if since is None else max(_day_start(since), oldest)
        window = self.counts_between(start, now)
        disabled = [
            {"account": e.account, "domain": DOMAIN, "time": round_trip(e.moment), "by": e.by}
            for e in self.disable_events
            if start <= e.moment <= now
        ]
        answer = {
            "requested_from": since.isoformat() if since else None,
            "covered_from": round_trip(start),
            "covered_to": round_trip(now),
            "days": {day.isoformat(): counts for day, counts in window.items()},
            "notable": [],
            "disabled": disabled,
        }
        return answer, sum(n for counts in window.values() for n in counts.values())

    # --- firewall, anti-virus, backup ----------------------------------------------------------------------------

    def firewall(self) -> dict[str, Any]:
        on = self.workstation.firewall_on if self.workstation else True
        profiles = [
            {"name": name, "enabled": int(on), "inbound": 4, "outbound": 2, "log_allowed": 0, "log_blocked": 1}
            for name in ("Domain", "Private", "Public")
        ]
        return {"profiles": profiles, "third_party": []}

    def antivirus(self) -> dict[str, Any]:
        now = self.now
        if self.workstation is None:  # servers: Defender; Server SKUs have no Security Center
            updated = now - timedelta(minutes=random.Random(self.rng_seed + ":mp").randint(20, 360))
            return {
                "antivirus": [],
                "mcafee_agent": None,
                "defender": {"enabled": True, "realtime": True, "engine": DEFENDER_ENGINE, "signature": round_trip(updated)},
            }
        signature = self.company.signature_on(self.workstation, now.date())
        if signature is None:  # no anti-virus at all: McAfee removed, Defender off by the domain's policy
            return {"antivirus": [], "defender": None, "mcafee_agent": None}
        rng = random.Random(self.rng_seed + ":ens")
        updated = max(
            _day_start(signature),
            min(datetime.combine(signature, time(5), UTC) + timedelta(minutes=rng.randint(0, 600)), now),
        )
        state = STATE_OUTDATED if (now.date() - signature).days > OUTDATED_AFTER_DAYS else STATE_CURRENT
        agent = "\n".join(
            (
                "Component: McAfee Agent",
                "AgentMode: 1",
                f"Version: {AGENT_VERSION}",
                f"GUID: {{{uuid.UUID(int=rng.getrandbits(128), version=4)}}}".upper(),
            )
        )
        # Defender stands down when another product registers with Security Center: its cmdlet then fails
        return {
            "antivirus": [{"name": AV_PRODUCT, "state": state, "timestamp": format_datetime(updated, usegmt=True)}],
            "defender": None,
            "mcafee_agent": agent,
        }

    def windows_backup(self, since: date | None = None) -> dict[str, Any]:
        """Get-WBJob's history, only the jobs started on or after SINCE when the probe asks from a day."""
        requested = since.isoformat() if since else None
        if self.name not in WINDOWS_SERVER_BACKUP:
            return {"available": False, "requested_from": requested, "jobs": []}
        now = self.now
        nights = [n for n in self.company.backups.get(self.name, []) if since is None or n.started >= _day_start(since)]
        jobs = [job for night in nights if (job := _backup_job(night, now)) is not None]
        return {"available": True, "requested_from": requested, "jobs": jobs}

    # --- the data share (O-RET) ----------------------------------------------------------------------------------

    def recordings(self, now: datetime) -> list[datetime]:
        """Last-write times of fs01's call recordings at NOW: a nightly job deletes those older than 88 days."""
        rng = random.Random(f"{self.rng_seed}:recordings:{now.date()}")
        kept_from = now.date() - timedelta(days=88)
        times = []
        for n in range(89):
            day = kept_from + timedelta(days=n)
            per_day = int(60 * DAY_FACTOR[day.weekday()]) if day.weekday() < 6 else 0
            for _ in range(per_day):
                moment = datetime.combine(day, time(7), UTC) + timedelta(seconds=rng.randint(0, 10 * 3600))
                if moment <= now:
                    times.append(moment)
        return sorted(times)

    def retention(self, path: str, days: int) -> ScriptResult:
        if self.name != "fs01" or path.rstrip("\\").lower() not in {p.lower() for p in FS01_DATA_PATHS}:
            return ScriptResult(stderr=f"no such directory: {path}\r\n".encode(), exit_code=2)
        now = self.now
        limit = now - timedelta(days=days + 1)
        files = self.recordings(now)
        return ScriptResult(
            printed(
                {
                    "file_count": len(files),
                    "older_than_limit": sum(1 for t in files if t <= limit),
                    "oldest": round_trip(files[0]) if files else None,
                }
            )
        )


def _backup_job(night: BackupNight, now: datetime) -> dict[str, Any] | None:
    """A finished job as Get-WBJob -Previous lists it at NOW; a missed night has none, a running one is not listed yet."""
    if night.outcome == "missed" or night.ended is None or night.ended > now:
        return None
    return {
        "type": "Backup",
        "start": round_trip(night.started),
        "end": round_trip(night.ended),
        "hresult": 0 if night.outcome == "success" else WSB_FAILED,
    }


def _no_veeam(since: date | None) -> dict[str, Any]:
    return {"available": False, "requested_from": since.isoformat() if since else None, "runs": []}


def windows_hosts(company: Company) -> dict[str, LabWindowsHost]:
    """Every Windows host of the company by name: the servers, then the workstations."""
    hosts = {name: LabWindowsHost(company, name, role) for name, role in SERVERS.items()}
    hosts |= {w.name: LabWindowsHost(company, w.name, "workstation", w) for w in company.workstations}
    return hosts


def handler_for(company: Company, name: str, clock: Callable[[], datetime] | None = None) -> Handler:
    """The WinRM peer's handler for one host (dc01, fs01, epo01 or a workstation such as WS-017), answering as of
    CLOCK (default: the moment the company was built)."""
    if name in SERVERS:
        return LabWindowsHost(company, name, SERVERS[name], clock=clock)
    workstation = next((w for w in company.workstations if w.name == name), None)
    if workstation is None:
        raise KeyError(f"{name} is not a Windows host of the lab")
    return LabWindowsHost(company, name, "workstation", workstation, clock)


def epo_rows(company: Company, now: datetime | None = None) -> list[dict[str, Any]]:
    """The console's systems at NOW (default: the moment the company was built), as EPOLeafNode rows the way
    :output=json gives them: every workstation with the agent."""
    now = now or company.built
    rows = []
    for w in company.workstations:
        contact = company.console_contact(w, now)
        if contact is None:
            continue
        signature = company.signature_on(w, now.date())
        rows.append(
            {
                "EPOLeafNode.NodeName": w.name,
                "EPOLeafNode.LastUpdate": contact.astimezone(AMSTERDAM).isoformat(timespec="seconds"),
                "EPOProdPropsView_VIRUSCAN.datdate": signature.isoformat() if signature else None,
            }
        )
    return rows
