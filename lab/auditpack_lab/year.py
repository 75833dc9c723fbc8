"""The lab's year of operation: when Klantcontact Demo BV collected its evidence, and what went wrong in between.

Pure: no I/O. The demo replays this year against the lab (each collection with the lab's clock and the
collector's clock set to its moment, the last one at the real moment the demo runs), and the year-in-operation
test holds the report to it. The company collects monthly, on the first Tuesday of the month, and the year has
the mess a real one has:

- a missed month: no collection ran (the collection server was being replaced); ICT exported fw01's ruleset by
  hand that month and imported it (`auditpack import firewall --date`);
- two collections on one day: the firewall collected again in the afternoon after a change;
- a workstation unreachable for three days: the monthly collection is partial, ICT retried the one host the next
  two days (still down) and on the third (back);
- a domain controller whose Security log rolled over between two collections: a password-spray attack filled
  dc01's log, overwriting the weeks the previous collection had not read yet;
- a firewall rule added during the year without a reason in the egress register, and a workstation whose
  anti-virus was removed near the end of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

COLLECTION_FREQUENCY = "monthly"  # the demo profile's collection_frequency
MINIMUM_COVERAGE = 0.9  # the demo profile's minimum_coverage: 12 of 13 months is enough, 11 is not
COLLECTION_TIME = time(8, 30)  # UTC: the monthly job starts at 09:30 in Amsterdam
TUESDAY = 1
MISSED_MONTH = 6  # the seventh month of the year has no collection
DOUBLE_MONTH = 3  # the fourth month's collection day has a second, afternoon collection of the firewall
OUTAGE_MONTH = 4  # the fifth month's collection finds OUTAGE_HOST switched off, for three days
OUTAGE_HOST = "WS-058"
OUTAGE_DAYS = 3
SPRAY_DAYS_BEFORE_END = 120  # the password spray that rolled dc01's log over, this many days before the last day
SPRAY_KEPT_HOURS = 20  # what the log still held of the time before the spray
FTP_RULE_DAYS_BEFORE_END = 75  # the unjustified FTP rule was added this many days before the last day
ANTIVIRUS_REMOVED_DAYS_BEFORE_END = 20  # WS-093's anti-virus removed (and the machine gone from the console)


@dataclass(frozen=True)
class Collection:
    """One `auditpack collect` of the year; no roles and no hosts: the whole inventory."""

    moment: datetime  # UTC; the last collection's moment is when the demo runs (the lab's built moment)
    why: str
    roles: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    down: tuple[str, ...] = ()  # hosts switched off at that moment

    @property
    def day(self) -> date:
        return self.moment.date()

    @property
    def complete_inventory(self) -> bool:
        return not self.roles and not self.hosts

    def reaches(self, host: str, role: str) -> bool:
        """Whether this collection asks HOST (of ROLE) for evidence, and it answers."""
        asked = self.complete_inventory or host in self.hosts or role in self.roles
        return asked and host not in self.down


@dataclass(frozen=True)
class Year:
    first_day: date
    last_day: date
    collections: list[Collection]  # in time order; the last one is the real one, at the demo's own moment
    firewall_backup_day: date  # fw01's ruleset exported by hand and imported, in the missed month
    missed_month: date  # its first day
    outage: tuple[str, date, date]  # host, first and last day switched off
    spray: datetime  # dc01's log holds nothing older than SPRAY_KEPT_HOURS before this after it
    ftp_rule_added: date
    antivirus_removed: date

    @property
    def simulated(self) -> list[Collection]:
        """The collections made with a set clock: all but the last."""
        return self.collections[:-1]

    def host_down(self, host: str, day: date) -> bool:
        name, first, last = self.outage
        return host == name and first <= day <= last

    def collected_days(self, host: str, role: str) -> list[date]:
        """The days HOST answered a collection, each once."""
        return sorted({c.day for c in self.collections if c.reaches(host, role)})


def _months(first: date, last: date) -> list[date]:
    """The first day of every calendar month the period touches."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _first_tuesday(month: date, not_before: date) -> date:
    day = max(month, not_before)
    return day + timedelta(days=(TUESDAY - day.weekday()) % 7)


def _at(day: date, moment: time = COLLECTION_TIME) -> datetime:
    return datetime.combine(day, moment, UTC)


def build_year(first_day: date, built: datetime) -> Year:
    """The year up to BUILT: a collection on the first Tuesday of every month before the last one, the messy cases,
    and the last collection at BUILT itself (it covers the last month)."""
    last_day = built.date()
    months = _months(first_day, last_day)
    collections: list[Collection] = []
    outage_start = None
    for n, month in enumerate(months[:-1]):
        day = _first_tuesday(month, first_day)
        if n == MISSED_MONTH:
            continue
        if n == OUTAGE_MONTH:
            outage_start = day
            collections.append(Collection(_at(day), "monthly collection; WS-058 is switched off", down=(OUTAGE_HOST,)))
            for retry in range(1, OUTAGE_DAYS + 1):
                back = retry == OUTAGE_DAYS
                collections.append(
                    Collection(
                        _at(day + timedelta(days=retry), time(10)),
                        f"retry of {OUTAGE_HOST}" + ("; it is back" if back else "; still switched off"),
                        hosts=(OUTAGE_HOST,),
                        down=() if back else (OUTAGE_HOST,),
                    )
                )
            continue
        collections.append(Collection(_at(day), "monthly collection"))
        if n == DOUBLE_MONTH:
            collections.append(Collection(_at(day, time(14)), "the firewall again, after a change", roles=("firewall",)))
    collections.append(Collection(built, "the audit's own collection, today"))
    collections.sort(key=lambda c: c.moment)
    missed = months[MISSED_MONTH]
    assert outage_start is not None, "the lab's year is too short for its outage month"
    return Year(
        first_day=first_day,
        last_day=last_day,
        collections=collections,
        firewall_backup_day=_first_tuesday(missed, first_day) + timedelta(days=1),
        missed_month=missed,
        outage=(OUTAGE_HOST, outage_start, outage_start + timedelta(days=OUTAGE_DAYS - 1)),
        spray=_at(last_day - timedelta(days=SPRAY_DAYS_BEFORE_END), time(2, 40)),
        ftp_rule_added=last_day - timedelta(days=FTP_RULE_DAYS_BEFORE_END),
        antivirus_removed=last_day - timedelta(days=ANTIVIRUS_REMOVED_DAYS_BEFORE_END),
    )
