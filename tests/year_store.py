"""A synthetic year of evidence in a real evidence store, with deviations and exceptions known by date.

Used by the report and pack tests and by bench/bench_report.py. Every item goes
through the store's own writer (blobs, manifests, chain); only the run's clock is
set back, so the year can be written in seconds.

Known facts of the default year (2026):
- T-BAK-1: fs01's backup failed on 2026-03-10 (deviation); no backup ran for fs01 on 2026-07-01 (a missed backup,
  a deviation: the listings read on 2 and 3 July cover that night and show no run); dc01's backup failed on
  2026-11-02, covered by an active exception (owner "ICT manager", until 2027-03-31). Each day's listing shows the
  last three nights, so every night of the year is covered; the year has no T-BAK-1 gap.
- T-FWP: fw01 allows tcp/25 outbound ("old mail relay (Jan de Vries)") without a reason in the egress register
  (a deviation on every Monday's collection); rule 3 (tcp/8443) is added on 2026-06-01 (an observation) and is
  unjustified from then on.
- T-AV: ws-017's signatures are out of date on 2026-09-14 (deviation); ws-023 (the person "Jan de Vries" uses it)
  is covered by an exception that expired on 2026-05-31.
- O-LVR: two leavers in the HR register; "Jan de Vries" (KCDEMO\\jdevries, last day 2026-04-30) was disabled in AD
  on 2026-05-06, later than allowed; "Petra Jansen" (pjansen) on time. PEOPLE and ACCOUNTS are every name in the year.
- Commands are the Windows collector's own PowerShell (long scripts, one WinRM endpoint per host), as in a real store.
- The year's last Monday (YEAR_END_READ, 2026-12-28) reads AD's computer objects and the anti-virus console once:
  ws-031 is missing from AD (NOT_IN_AD, a population deviation of T-AV), ws-023 is unknown to the console
  (NOT_IN_CONSOLE), and the console lists ws-017 without a last contact (NO_CONTACT: how long it was silent is
  unknown). That day ws-017's exported firewall log holds a rule change whose event names neither the rule,
  the change, the profile nor who made it (UNNAMED_FIREWALL_CHANGE, an observation of T-FWH). On the Monday before (UNREAD_WORKSTATION) ws-031 answers but reports no anti-virus status.
- Only the HR leavers' and the egress register are imported: every other register control misses its register.

`build_year(..., many_findings=True)` adds what a busy year prints: LONG_LEAVER, whose account name is longer than
a table column and who was disabled late (an O-LVR deviation), and every other extra workstation (ws-1nn) with
signatures out of date on two Mondays of every three (a T-AV deviation each time, each with its own date).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from auditpack.collectors.windows_probes import ANTIVIRUS, security_events_script
from auditpack.controls.exceptions import ExceptionEntry
from auditpack.evidence import Observation
from auditpack.periods import Period, year_period
from auditpack.store import EvidenceStore

FAILED_BACKUP = ("fs01", "2026-03-10")
EXCEPTED_BACKUP = ("dc01", "2026-11-02")
MISSING_BACKUP = ("fs01", "2026-07-01")
LISTED_NIGHTS = 3  # each day's `borg list` shows the last three nights (the repository keeps three daily archives)
STALE_AV = ("ws-017", "2026-09-14")
YEAR_END_READ = "2026-12-28"  # a Monday: AD's computer objects and the anti-virus console are read once
NOT_IN_AD = "ws-031"
NOT_IN_CONSOLE = "ws-023"
NO_CONTACT = "ws-017"
UNNAMED_FIREWALL_CHANGE = ("ws-017", YEAR_END_READ)
UNREAD_WORKSTATION = ("ws-031", "2026-12-21")
PEOPLE = {"ws-017": "Petra Jansen", "ws-023": "Jan de Vries", "ws-031": "Fatima el Amrani"}  # who uses which workstation
ACCOUNTS = {"Petra Jansen": "pjansen", "Jan de Vries": "jdevries", "Fatima el Amrani": "felamrani"}
LEAVERS = [
    {"name": "Jan de Vries", "account": "KCDEMO\\jdevries", "last_working_day": "2026-04-30", "row": 2},
    {"name": "Petra Jansen", "account": "KCDEMO\\pjansen", "last_working_day": "2026-08-31", "row": 3},
]
DISABLED = {"jdevries": "2026-05-06T09:12:00Z", "pjansen": "2026-08-31T16:00:00Z"}
LAST_LOGONS = {"jdevries": "2026-04-29", "pjansen": "2026-08-31"}  # leavers stop logging on
LONG_LEAVER = {"name": "Pieter van der Meer", "account": "KCDEMO\\adm.p.vandermeer-extern", "last_working_day": "2026-10-15"}
LONG_ACCOUNT = LONG_LEAVER["account"].split("\\")[1]
LONG_DISABLED = "2026-10-20T10:00:00Z"  # five days after the last working day: late
AV_SCRIPT = ANTIVIRUS  # the Windows collector's scripts, as its commands carry them
EVENTS_SCRIPT = security_events_script(None)
EGRESS = {
    "entries": [
        {"device": "fw01", "rule": None, "service": "tcp/443", "port": None, "reason": "CRM over HTTPS"},
        {"device": "fw01", "rule": None, "service": None, "port": 53, "reason": "DNS"},
    ]
}
EXCEPTIONS = [
    ExceptionEntry(
        control="T-BAK-1",
        scope="dc01",
        justification="backup disk replaced that night",
        owner="ICT manager",
        approver="Director",
        expires=date(2027, 3, 31),
    ),
    ExceptionEntry(
        control="T-AV",
        scope="ws-023",
        justification="lab machine, replaced in Q2",
        owner="Service desk",
        approver="ICT manager",
        expires=date(2026, 5, 31),
    ),
]


@dataclass(frozen=True)
class Year:
    store: EvidenceStore
    period: Period
    servers: tuple[str, ...]
    workstations: tuple[str, ...]
    exceptions: list[ExceptionEntry]


def _rule(rid: str, service: str, description: str) -> dict:
    return {
        "id": rid,
        "interface": "eth1->eth0",
        "direction": "out",
        "source": "10.0.0.0/16",
        "destination": "any",
        "service": service,
        "action": "allow",
        "enabled": True,
        "description": description,
    }


def _ruleset(day: date) -> dict:
    rules = [_rule("1", "tcp/443", "CRM"), _rule("2", "tcp/25", "old mail relay (Jan de Vries)")]
    if day >= date(2026, 6, 1):
        rules.append(_rule("3", "tcp/8443", "vendor support"))
    return {
        "device": "fw01",
        "default_inbound": "drop",
        "default_outbound": "drop",
        "rules": rules,
        "any_to_any": [],
        "unjustified": [],
    }


def _at(day: date, hour: int = 6) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def winrm_command(host: str, script: str) -> str:
    """The command as the Windows collector records it: its script, run over the host's own WinRM endpoint."""
    return f"powershell (WinRM http://{host}.kcdemo.test:5985/wsman): {script}"


def _accounts(run, day: date, accounts: dict[str, str], disabled: dict[str, str], last_logons: dict[str, str]) -> None:
    users = []
    for name, account in accounts.items():
        off = account in disabled and day.isoformat() >= disabled[account][:10]
        last_logon = min(day.isoformat(), last_logons.get(account, day.isoformat()))
        users.append({"account": account, "name": name, "enabled": not off, "last_logon": f"{last_logon}T08:00:00Z"})
    raw = "".join(f"dn: CN={u['name']},OU=Staff,DC=kcdemo,DC=test\nsAMAccountName: {u['account']}\n\n" for u in users)
    run.add(
        "dc01",
        "ad",
        Observation(
            "ad.users",
            "(&(objectCategory=person)(objectClass=user))",
            raw.encode(),
            _at(day),
            _at(day),
            normalized={"users": users},
        ),
    )
    events = [
        {"account": f"KCDEMO\\{a}", "time": t, "by": "KCDEMO\\hr-beheer"}
        for a, t in disabled.items()
        if t[:10] <= day.isoformat()
    ]
    command = winrm_command("dc01", EVENTS_SCRIPT)
    run.add(
        "dc01",
        "winrm",
        Observation("ad.account_disabled_events", command, b"{}", _at(day), _at(day), normalized={"events": events}),
    )


def _stale_signatures(ws: str, day: date, many_findings: bool) -> bool:
    """Out-of-date signatures: ws-017 on one day, ws-023 all year; in a busy year every other ws-1nn often too."""
    if (ws, day.isoformat()) == STALE_AV or ws == "ws-023":
        return True
    if not many_findings or not ws.startswith("ws-1") or int(ws[3:]) % 2:
        return False
    return (day.isocalendar().week + int(ws[3:])) % 3 != 0  # two Mondays of every three


def _year_end_reads(run, day: date, workstations: tuple[str, ...]) -> None:
    """AD's computer objects (read on dc01), the anti-virus console's systems, a firewall change (see the docstring)."""
    computers = [{"name": w, "os": "Windows 11 Enterprise", "enabled": True} for w in workstations if w != NOT_IN_AD]
    run.add(
        "dc01",
        "ldap",
        Observation(
            "ad.computers", "(objectCategory=computer)", b"dn: ...\n", _at(day), _at(day), normalized={"computers": computers}
        ),
    )
    systems = [
        {"name": w, "last_contact": None if w == NO_CONTACT else f"{day}T05:00:00Z", "content_date": None}
        for w in workstations
        if w != NOT_IN_CONSOLE
    ]
    run.add(
        "epo01",
        "epo",
        Observation("epo.systems", "GET /remote/core.executeQuery", b"[]", _at(day), _at(day), normalized={"systems": systems}),
    )
    run.close_source("epo01", "ok", [], roles=[], connection="https")
    host, _ = UNNAMED_FIREWALL_CHANGE
    if host in workstations:
        change = {"event_id": 2004, "time": f"{day}T03:00:00Z"}  # a rule changed: which, how and by whom not recorded
        run.add(
            host,
            "import",
            Observation(
                "windows.firewall_events",
                "import evtx firewall.evtx",
                b"ElfFile\x00",
                _at(day),
                _at(day),
                normalized={"events": [change]},
            ),
        )


def _listing(server: str, day: date, year: int) -> list[dict]:
    """The repository as `borg list` shows it on DAY: the runs of the last LISTED_NIGHTS nights (older ones pruned)."""
    runs = []
    for back in range(LISTED_NIGHTS - 1, -1, -1):
        night = day - timedelta(days=back)
        if night.year != year or (server, night.isoformat()) == MISSING_BACKUP:
            continue  # the repository began on 1 January; the missed night left no archive
        failed = (server, night.isoformat()) in (FAILED_BACKUP, EXCEPTED_BACKUP)
        runs.append(
            {
                "server": server,
                "job": "nightly",
                "target": "local",
                "started": f"{night}T01:00:00Z",
                "ended": f"{night}T01:40:00Z",
                "result": "failure" if failed else "success",
            }
        )
    return runs


def build_year(root: Path, year: int = 2026, servers: int = 2, workstations: int = 3, *, many_findings: bool = False) -> Year:
    """One collection run a day: backups of every server, weekly firewall and anti-virus evidence."""
    leavers = [*LEAVERS, {**LONG_LEAVER, "row": len(LEAVERS) + 2}] if many_findings else LEAVERS
    accounts = {**ACCOUNTS, LONG_LEAVER["name"]: LONG_ACCOUNT} if many_findings else ACCOUNTS
    disabled = {**DISABLED, LONG_ACCOUNT: LONG_DISABLED} if many_findings else DISABLED
    last_logons = {**LAST_LOGONS, LONG_ACCOUNT: LONG_LEAVER["last_working_day"]} if many_findings else LAST_LOGONS
    store = EvidenceStore(root)
    server_names = tuple(["fs01", "dc01"][:servers] + [f"srv{n:03d}" for n in range(max(0, servers - 2))])
    ws_names = tuple(list(PEOPLE)[:workstations] + [f"ws-{100 + n:03d}" for n in range(max(0, workstations - 3))])
    registers = store.begin_run("tester")
    registers.started = _at(date(year, 1, 1), 5)
    registers.add(
        "registers",
        "import",
        Observation(
            "register.egress",
            "import egress-register egress.yaml",
            b"entries: ...\n",
            registers.started,
            registers.started,
            normalized=EGRESS,
        ),
    )
    csv = "naam,account,laatste werkdag\n" + "".join(f"{r['name']},{r['account']},{r['last_working_day']}\n" for r in leavers)
    registers.add(
        "registers",
        "import",
        Observation(
            "register.hr_leavers",
            "import register hr_leavers uitdienst.csv",
            csv.encode(),
            registers.started,
            registers.started,
            normalized={"register": "hr_leavers", "file": "uitdienst.csv", "rows": leavers},
        ),
    )
    registers.close_source("registers", "ok", [], connection="file")
    registers.commit()
    day = date(year, 1, 1)
    while day.year == year:
        run = store.begin_run("tester")
        run.started = _at(day)
        for server in server_names:
            runs = {"runs": _listing(server, day, year)}
            run.add(
                server,
                "ssh",
                Observation("backup.runs", "borg list --json /backup", b'{"archives": []}', _at(day), _at(day), normalized=runs),
            )
            if server == "dc01" and (day.day == 1 or day == date(year, 12, 31)):
                _accounts(run, day, accounts, disabled, last_logons)  # the domain controller's accounts, monthly and at year end
            if server == "dc01" and day.isoformat() == YEAR_END_READ:
                _year_end_reads(run, day, ws_names)
            roles = {"fs01": ["file_server", "server"], "dc01": ["domain_controller", "server"]}.get(server, ["server"])
            run.close_source(server, "ok", [], roles=roles, connection="ssh")
        if day.weekday() == 0:  # Mondays: the firewall and the workstations
            run.add(
                "fw01",
                "ssh",
                Observation(
                    "firewall.ruleset", "nft -j list ruleset", b'{"nftables": []}', _at(day), _at(day), normalized=_ruleset(day)
                ),
            )
            run.close_source("fw01", "ok", [], roles=["firewall"], connection="ssh")
            for ws in ws_names:
                if (ws, day.isoformat()) == UNREAD_WORKSTATION:
                    run.close_source(ws, "ok", [], roles=["workstation"], connection="winrm")  # answered, read nothing
                    continue
                signatures = day - timedelta(days=30 if _stale_signatures(ws, day, many_findings) else 1)
                status = {
                    "product": "Microsoft Defender Antivirus",
                    "realtime": True,
                    "signature_date": signatures.isoformat(),
                    "engine_version": "1.1.24090.11",
                }
                run.add(
                    ws,
                    "winrm",
                    Observation("av.host_status", winrm_command(ws, AV_SCRIPT), b"{}", _at(day), _at(day), normalized=status),
                )
                run.close_source(ws, "ok", [], roles=["workstation"], connection="winrm")
        run.commit()
        day += timedelta(days=1)
    return Year(store, year_period(year), server_names, ws_names, EXCEPTIONS)
