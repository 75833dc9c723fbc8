"""Klantcontact Demo BV: the fictitious contact centre the lab plays, generated from a seed.

Pure: no I/O. Every peer of the lab (the directory, the Windows hosts, the backup
server, the firewall, the registers) is filled from one `Company`, so what the
lab holds is the same on every machine for a given seed and day. The year runs
up to the day the lab is built: dates are offsets from `today`, so the demo's
evidence always lies in the period it reports on.

The company's known deviations are decided here, on purpose and by name
(`Company.known`): the end-to-end test holds the report to exactly these.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

from .year import ANTIVIRUS_REMOVED_DAYS_BEFORE_END, Year, build_year

DEFAULT_SEED = 2026
YEAR_DAYS = 365
COMPANY_NAME = "Klantcontact Demo BV"
DOMAIN, REALM = "KCDEMO", "KCDEMO.TEST"

FIRST_NAMES = (
    "Anouk",
    "Bram",
    "Charlotte",
    "Daan",
    "Eva",
    "Fleur",
    "Gijs",
    "Hanna",
    "Isa",
    "Jesse",
    "Julia",
    "Kevin",
    "Lisa",
    "Lars",
    "Maud",
    "Milan",
    "Noor",
    "Niels",
    "Olivier",
    "Puck",
    "Roos",
    "Ruben",
    "Sanne",
    "Sem",
    "Tess",
    "Thijs",
    "Vera",
    "Wouter",
    "Yara",
    "Zoë",
    "Fatima",
    "Mohamed",
    "Yusuf",
    "Ayşe",
    "Priya",
    "Mei",
    "Sven",
    "Femke",
    "Joris",
    "Ilse",
    "Koen",
    "Marloes",
    "Pieter",
    "Renske",
    "Stijn",
    "Wendy",
)
LAST_NAMES = (
    "de Vries",
    "Jansen",
    "van den Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Smits",
    "de Graaf",
    "van der Meer",
    "Kok",
    "Jacobs",
    "de Haan",
    "Vermeulen",
    "van Dijk",
    "Schouten",
    "Yılmaz",
    "El Amrani",
    "Öztürk",
    "Hoekstra",
    "Postma",
    "Kuipers",
    "Veenstra",
    "Willems",
    "Prins",
    "Huisman",
)

# department: (AD group, staff count, badge role); badge roles "management" and "ict" may enter the server room
DEPARTMENTS = {
    "Klantenservice": ("GG-Klantenservice", 88, "medewerker"),
    "Teamleiding": ("GG-Teamleiding", 10, "teamleider"),
    "Kwaliteit": ("GG-Kwaliteit", 6, "medewerker"),
    "ICT": ("GG-ICT", 5, "ict"),
    "HR": ("GG-HR", 4, "medewerker"),
    "Financien": ("GG-Financien", 3, "medewerker"),
    "Directie": ("GG-Directie", 3, "management"),
}
# groups that give access to customers' personal data (O-NTK), with the departments in them
DATA_ACCESS_GROUPS = {
    "GG-Klantdata-Lezen": ("Klantenservice", "Teamleiding", "Kwaliteit"),
    "GG-Opnames": ("Teamleiding", "Kwaliteit"),
}
LEAVERS = 15
UPDATE_LAGS = (0, 0, 0, 1, 1, 2)  # days a healthy workstation's definitions lag behind
CERTIFICATE_DAYS = YEAR_DAYS + 400
WORKSTATIONS = 100


@dataclass(frozen=True)
class Person:
    account: str  # sAMAccountName
    name: str  # display name
    department: str
    hired: date
    badge_id: str
    nda_signed: date
    last_day: date | None = None  # leavers only: the last working day (HR register)
    disabled_on: date | None = None  # leavers only: the day the account was disabled (event 4725)
    badge_blocked: date | None = None
    badge_returned: date | None = None
    last_logon: datetime | None = None  # AD lastLogonTimestamp; None: no logon recorded

    @property
    def group(self) -> str:
        return DEPARTMENTS[self.department][0]

    @property
    def badge_role(self) -> str:
        return DEPARTMENTS[self.department][2]

    @property
    def is_leaver(self) -> bool:
        return self.last_day is not None


@dataclass(frozen=True)
class Workstation:
    name: str  # WS-001
    user: str  # the account that mostly works on it
    signature_date: date | None  # anti-virus definitions; None: no anti-virus at all
    last_contact: datetime | None  # with the anti-virus console; None: not in the console
    firewall_on: bool = True
    antivirus_removed: date | None = None  # the anti-virus was removed (and the machine left the console) that day


@dataclass(frozen=True)
class BackupNight:
    day: date
    outcome: str  # success | failure | missed
    started: datetime
    ended: datetime | None


@dataclass(frozen=True)
class FirewallRule:
    handle: str  # the rule's comment in the ruleset, also its name in the egress register
    source: str
    destination: str
    service: str  # tcp/443, udp/53
    reason: str | None  # the egress register's reason; None: no entry (unjustified)


@dataclass(frozen=True)
class Known:
    """The deviations the company has on purpose; everything else the lab holds is in order."""

    late_leavers: dict[str, int]  # account -> days between last working day and disabling
    logged_on_after_leaving: str  # account
    backup_failures: dict[str, list[date]]  # server -> failed nights
    backup_missed: dict[str, list[date]]  # server -> nights without any run: inside the listings, so deviations too
    unjustified_rule: FirewallRule
    old_signatures: dict[str, int]  # workstation -> age of its definitions in days on `today`
    without_antivirus: str  # workstation whose anti-virus was removed during the year; since then unknown to the console
    excepted_workstation: str  # one of old_signatures, covered by the active exception


@dataclass
class Company:
    seed: int
    built: datetime  # the moment the lab was built: nothing in it lies later
    staff: list[Person]
    workstations: list[Workstation]
    backups: dict[str, list[BackupNight]]  # server -> nights, oldest first (borg/Windows Server Backup)
    cloud_backups: list[BackupNight]  # dc01's nightly copy to the cloud (T-BAK-4)
    firewall_rules: list[FirewallRule]
    known: Known
    admins: list[str] = field(default_factory=list)  # accounts in Domain Admins

    @property
    def today(self) -> date:
        return self.built.date()

    @property
    def first_day(self) -> date:
        return self.today - timedelta(days=YEAR_DAYS - 1)

    @property
    def certificates_valid_from(self) -> datetime:
        """The lab's TLS certificates were issued before its year began: a collector whose clock is set to any day
        of it accepts them (they run for CERTIFICATE_DAYS)."""
        return datetime.combine(self.first_day - timedelta(days=30), time(0), UTC)

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range(YEAR_DAYS)]

    @cached_property
    def year(self) -> Year:
        """When the company collected its evidence during the year, and what went wrong in between."""
        return build_year(self.first_day, self.built)

    def signature_on(self, station: Workstation, day: date) -> date | None:
        """The date of STATION's anti-virus definitions on DAY; None: no anti-virus that day.

        On the last day, the date the company's known deviations are decided on; before it, a day or two behind
        DAY as updates come in, but never past the day a station's updates stopped (its last-day signature)."""
        if day >= self.today:
            return station.signature_date
        if station.antivirus_removed is not None and day >= station.antivirus_removed:
            return None
        fresh = day - timedelta(days=random.Random(f"{self.seed}:{station.name}:{day}").choice(UPDATE_LAGS))
        return min(fresh, station.signature_date) if station.signature_date else fresh

    def console_contact(self, station: Workstation, moment: datetime) -> datetime | None:
        """When STATION last spoke to the anti-virus console, as the console shows at MOMENT; None: unknown to it."""
        if moment >= self.built:
            return station.last_contact
        if station.antivirus_removed is not None and moment.date() >= station.antivirus_removed:
            return None
        minutes = random.Random(f"{self.seed}:{station.name}:{moment.date()}:contact").randint(30, 600)
        return _at(moment.date(), 0) - timedelta(minutes=minutes)

    @property
    def current_staff(self) -> list[Person]:
        return [p for p in self.staff if not p.is_leaver]

    @property
    def leavers(self) -> list[Person]:
        return [p for p in self.staff if p.is_leaver]

    def person(self, account: str) -> Person:
        return next(p for p in self.staff if p.account == account)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _account(first: str, last: str, taken: set[str]) -> str:
    base = f"{_ascii(first)[0]}.{_ascii(last).replace(' ', '')}".lower()
    account, n = base, 2
    while account in taken:
        account, n = f"{base}{n}", n + 1
    taken.add(account)
    return account


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), UTC)


def _people(rng: random.Random, today: date) -> tuple[list[Person], dict[str, int], str]:
    first_day = today - timedelta(days=YEAR_DAYS - 1)
    taken: set[str] = set()
    names: set[str] = set()
    staff: list[Person] = []
    badge = iter(range(1001, 9999))

    def person(department: str, hired: date, **kw) -> Person:
        while True:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            if f"{first} {last}" not in names:
                names.add(f"{first} {last}")
                break
        return Person(
            _account(first, last, taken),
            f"{first} {last}",
            department,
            hired,
            f"B-{next(badge)}",
            hired + timedelta(days=rng.randint(0, 10)),
            **kw,
        )

    for department, (_, count, _) in DEPARTMENTS.items():
        for _ in range(count):
            hired = today - timedelta(days=rng.randint(40, 9 * 365))
            staff.append(
                person(department, hired, last_logon=_at(today - timedelta(days=rng.randint(1, 9)), 8, rng.randint(0, 59)))
            )
    # leavers: their last working days spread over the year, all in the contact centre's biggest department
    late = {2: 4, 7: 9, 11: 16}  # leaver number -> days late
    leavers: list[Person] = []
    for n in range(LEAVERS):
        last_day = first_day + timedelta(days=20 + n * 22 + rng.randint(0, 10))
        delay = late.get(n, rng.choice((0, 0, 1)))
        disabled = last_day + timedelta(days=delay)
        logon = _at(last_day, 16, rng.randint(0, 59))
        if n == 5:
            logon = _at(last_day + timedelta(days=3), 9, 12)  # logged on after leaving, disabled on time later
            disabled = last_day + timedelta(days=1)
        hired = last_day - timedelta(days=rng.randint(120, 1500))
        leavers.append(
            person(
                "Klantenservice",
                hired,
                last_day=last_day,
                disabled_on=disabled,
                badge_blocked=last_day + timedelta(days=rng.choice((0, 1))),
                badge_returned=last_day,
                last_logon=logon,
            )
        )
    known_late = {leavers[n].account: d for n, d in late.items()}
    staff += leavers
    # new hires of the year replace the leavers (their NDA signed within the 30 days allowed)
    return staff, known_late, leavers[5].account


def _workstations(rng: random.Random, today: date, staff: list[Person]) -> tuple[list[Workstation], dict[str, int], str]:
    desk_users = [p.account for p in staff if not p.is_leaver]
    old = {17: 12, 42: 19, 77: 33}  # workstation number -> age of the definitions
    missing = 93
    stations = []
    for n in range(1, WORKSTATIONS + 1):
        name = f"WS-{n:03d}"
        if n == missing:
            removed = today - timedelta(days=ANTIVIRUS_REMOVED_DAYS_BEFORE_END)
            stations.append(Workstation(name, desk_users[n % len(desk_users)], None, None, antivirus_removed=removed))
            continue
        age = old.get(n, rng.choice(UPDATE_LAGS))
        contact = _at(today, 0) - timedelta(minutes=rng.randint(30, 600))
        stations.append(Workstation(name, desk_users[n % len(desk_users)], today - timedelta(days=age), contact))
    return stations, {f"WS-{n:03d}": age for n, age in old.items()}, f"WS-{missing:03d}"


def _nights(
    rng: random.Random, days: list[date], job_hour: int, failures: list[int], missed: list[int], built: datetime
) -> list[BackupNight]:
    nights = []
    for n, day in enumerate(days):
        start = _at(day, job_hour, rng.randint(0, 20))
        if start + timedelta(minutes=90) > built:  # tonight's job has not run yet when the lab is built early
            start = max(_at(day, 0), built - timedelta(minutes=95))
        if n in missed:
            nights.append(BackupNight(day, "missed", start, None))
        elif n in failures:
            nights.append(BackupNight(day, "failure", start, start + timedelta(minutes=rng.randint(3, 15))))
        else:
            nights.append(BackupNight(day, "success", start, start + timedelta(minutes=rng.randint(20, 90))))
    return nights


EGRESS = (
    FirewallRule("dns-resolver", "10.20.0.53", "9.9.9.9", "udp/53", "DNS-resolver haalt namen op bij Quad9"),
    FirewallRule("ntp", "10.20.0.1", "any", "udp/123", "Tijdsynchronisatie van de firewall zelf"),
    FirewallRule("proxy-https", "10.20.0.80", "any", "tcp/443", "Webproxy: enige weg naar internet voor werkplekken"),
    FirewallRule("smtp-relay", "10.20.0.25", "198.51.100.25", "tcp/25", "Mailrelay naar de mailprovider"),
    FirewallRule("backup-cloud", "10.20.0.20", "203.0.113.40", "tcp/443", "Dagelijkse cloudkopie van de back-ups"),
    FirewallRule("telefonie-sip", "10.20.0.60", "198.51.100.60", "udp/5060", "SIP-trunk van de telefonieleverancier"),
)
UNJUSTIFIED = FirewallRule("ftp-oud", "10.20.0.11", "192.0.2.21", "tcp/21", None)


def build_company(seed: int = DEFAULT_SEED, built: datetime | None = None) -> Company:
    """The company as it stands at `built` (default: now), with the year of history that led there."""
    built = (built or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    today = built.date()
    rng = random.Random(seed)
    staff, late, logged_on = _people(rng, today)
    stations, old, without = _workstations(rng, today, staff)
    days = [today - timedelta(days=YEAR_DAYS - 1 - n) for n in range(YEAR_DAYS)]
    fs_fail, fs_missed = [48, 131, 266], [203]
    backups = {
        "fs01": _nights(rng, days, 1, fs_fail, fs_missed, built),
        "backup01": _nights(rng, days, 3, [], [], built),
        "dc01": _nights(rng, days, 0, [], [], built),
    }
    cloud = _nights(rng, days, 4, [], [], built)
    admins = [p.account for p in staff if p.department == "ICT" and not p.is_leaver][:2]
    known = Known(
        late_leavers=late,
        logged_on_after_leaving=logged_on,
        backup_failures={"fs01": [days[n] for n in fs_fail]},
        backup_missed={"fs01": [days[n] for n in fs_missed]},
        unjustified_rule=UNJUSTIFIED,
        old_signatures=old,
        without_antivirus=without,
        excepted_workstation="WS-077",
    )
    return Company(seed, built, staff, stations, backups, cloud, [*EGRESS[:4], UNJUSTIFIED, *EGRESS[4:]], known, admins)
