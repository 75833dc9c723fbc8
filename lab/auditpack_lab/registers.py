"""The registers and the exceptions file of Klantcontact Demo BV, written from its `Company`.

Each register is written the way the office would really hand it over: HR and
management lists as Excel workbooks, system exports as CSV from Dutch Excel
("CSV UTF-8": BOM, ';', CRLF, dd-mm-yyyy), with the Dutch column headers the
importer accepts. Everything here is in order except what `Company.known`
names; the registers carry none of those deviations themselves.

Dates that are events of the year (badge records, tests, reviews, reports,
breaches) lie between `company.first_day` and `company.today` and never after
`company.built`. Dates that are history by nature (an NDA signed at hiring, a
processor agreement signed years ago) stay what they are, but never later.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
from dateutil.easter import easter
from openpyxl.styles import Font
from ruamel.yaml import YAML

from .company import DATA_ACCESS_GROUPS, DOMAIN, Company, Person

AMSTERDAM = ZoneInfo("Europe/Amsterdam")  # the office's clocks: registers hold local wall-clock time
MAIN_DOOR, SERVER_ROOM = "Hoofdingang", "Serverruimte"
SERVER_ROOM_ROLES = ("ict", "management")
SATURDAY_SHIFT = {"Klantenservice": 0.25, "Teamleiding": 0.3}  # only the phones are staffed on Saturdays
PRESENT_ON_WEEKDAY = 0.62  # most agents work part-time (three or four days), plus leave and sickness
MAIL_DOMAIN = "kcdemo.test"

Rows = list[list[Any]]


# --- writing files as the office does ------------------------------------------


def _dutch_day(day: date | None) -> str:
    return day.strftime("%d-%m-%Y") if day else ""


def _write_csv(path: Path, header: Sequence[str], rows: Rows) -> Path:
    """What Dutch Excel saves as 'CSV UTF-8 (door komma's gescheiden)': a BOM, ';' and CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8-sig"))
    return path


def _write_xlsx(path: Path, sheet: str, header: Sequence[str], rows: Rows) -> Path:
    """A workbook as a person keeps it: bold header, frozen first row, dates shown dd-mm-yyyy."""
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = sheet
    ws.append(list(header))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    for column in ws.iter_cols(min_row=2):
        for cell in column:
            if isinstance(cell.value, datetime):
                cell.number_format = "dd-mm-yyyy hh:mm"
            elif isinstance(cell.value, date):
                cell.number_format = "dd-mm-yyyy"
    for index, title in enumerate(header, 1):
        ws.column_dimensions[openpyxl.utils.get_column_letter(index)].width = max(14, len(title) + 4)
    ws.freeze_panes = "A2"
    workbook.save(path)
    return path


# --- the calendar of the office -------------------------------------------------


def public_holidays(year: int) -> set[date]:
    """Days the Dutch office is closed: the general holidays (Bevrijdingsdag only in lustrum years)."""
    paas = easter(year)
    koningsdag = date(year, 4, 27)
    if koningsdag.weekday() == 6:  # on a Sunday, King's Day moves to the Saturday before
        koningsdag -= timedelta(days=1)
    days = {
        date(year, 1, 1),
        paas,
        paas + timedelta(days=1),
        koningsdag,
        paas + timedelta(days=39),
        paas + timedelta(days=49),
        paas + timedelta(days=50),
        date(year, 12, 25),
        date(year, 12, 26),
    }
    if year % 5 == 0:
        days.add(date(year, 5, 5))
    return days


def open_days(company: Company) -> list[date]:
    """Monday to Saturday, except public holidays: the longest quiet stretch is Christmas on a Friday (4 days)."""
    closed = public_holidays(company.first_day.year) | public_holidays(company.today.year)
    return [d for d in company.days if d.weekday() < 6 and d not in closed]


def _local(day: date, minutes: int, seconds: int = 0) -> datetime:
    """A wall-clock moment in the office, `minutes` (and `seconds`) after midnight."""
    return datetime.combine(day, time()) + timedelta(minutes=minutes, seconds=seconds)


def _not_after_built(company: Company, moment: datetime) -> bool:
    return moment.replace(tzinfo=AMSTERDAM) <= company.built


def _working(person: Person, day: date) -> bool:
    return person.hired <= day and (person.last_day is None or day <= person.last_day)


# --- people registers -------------------------------------------------------------


def hr_leavers(company: Company, directory: Path) -> Path:
    """HR's own workbook of leavers, oldest first, with real date cells."""
    rows = [
        [p.name, f"{DOMAIN}\\{p.account}", p.department, p.last_day]
        for p in sorted(company.leavers, key=lambda p: p.last_day or p.hired)
    ]
    return _write_xlsx(
        directory / "hr-uitdiensttredingen.xlsx", "Uit dienst", ("Naam", "Gebruikersnaam", "Afdeling", "Laatste werkdag"), rows
    )


def nda(company: Company, directory: Path) -> Path:
    rows = [[p.name, p.account, _dutch_day(p.nda_signed)] for p in sorted(company.staff, key=lambda p: p.nda_signed)]
    return _write_csv(directory / "geheimhoudingsverklaringen.csv", ("Naam", "Gebruikersnaam", "Getekend op"), rows)


def badges(company: Company, directory: Path) -> Path:
    """The access-control system's list of passes; only ICT and management open the server room."""
    rows = [
        [
            p.badge_id,
            p.name,
            p.account,
            p.badge_role,
            "ja" if p.badge_role in SERVER_ROOM_ROLES else "nee",
            p.badge_blocked,
            p.badge_returned,
        ]
        for p in company.staff
    ]
    return _write_xlsx(
        directory / "toegangspassen.xlsx",
        "Passen",
        ("Pasnummer", "Pashouder", "Gebruikersnaam", "Rol", "Toegang serverruimte", "Geblokkeerd op", "Ingeleverd op"),
        rows,
    )


# --- the badge log ------------------------------------------------------------------


def _present(rng: random.Random, person: Person, day: date) -> bool:
    if day.weekday() == 5:
        return rng.random() < SATURDAY_SHIFT.get(person.department, 0.0)
    return rng.random() < PRESENT_ON_WEEKDAY


def _visit(rng: random.Random, person: Person, day: date) -> list[tuple[datetime, str, str, str]]:
    """One person's day: in and out at the main door, and for ICT now and then the server room."""
    start = rng.randint(7 * 60 + 30, 10 * 60)  # shifts start between 07:30 and 10:00
    end = start + rng.randint(4 * 60, 9 * 60)
    records = [
        (_local(day, start, rng.randrange(60)), person.badge_id, MAIN_DOOR, "in"),
        (_local(day, end, rng.randrange(60)), person.badge_id, MAIN_DOOR, "uit"),
    ]
    if person.badge_role == "ict" and rng.random() < 0.2:
        inside = rng.randint(start + 15, end - 45)
        records += [
            (_local(day, inside, rng.randrange(60)), person.badge_id, SERVER_ROOM, "in"),
            (_local(day, inside + rng.randint(5, 40), rng.randrange(60)), person.badge_id, SERVER_ROOM, "uit"),
        ]
    return records


def badge_records(company: Company, rng: random.Random) -> list[tuple[datetime, str, str, str]]:
    """Every entry and exit of the year, in time order, up to the moment the lab was built."""
    records = []
    for day in open_days(company):
        for person in company.staff:
            if _working(person, day) and _present(rng, person, day):
                records += _visit(rng, person, day)
    return sorted(r for r in records if _not_after_built(company, r[0]))


def badge_log(company: Company, directory: Path, rng: random.Random) -> Path:
    rows = [
        [moment.strftime("%d-%m-%Y %H:%M:%S"), badge, door, direction]
        for moment, badge, door, direction in badge_records(company, rng)
    ]
    return _write_csv(directory / "toegangslog-export.csv", ("Tijdstip", "Pasnummer", "Deur", "Richting"), rows)


# --- privacy registers -----------------------------------------------------------------

SUBPROCESSORS = (  # fictitious suppliers: (name, service, country, agreement years before the year)
    ("Stemlijn Telecom B.V.", "SIP-trunk en gespreksopnames", "NL", 4),
    ("Wolkenkast Rechenzentrum GmbH", "Cloudopslag van de back-upkopie", "DE", 3),
    ("Postbode Mail Services Ltd.", "E-mailhosting en mailrelay", "IE", 5),
    ("Archiefdepot Noord B.V.", "Vernietiging van papieren archief", "NL", 2),
)
LOCATIONS = (
    ("CRM Klantcontact", "NL", "Eigen serverruimte, Utrecht"),
    ("Telefonieplatform", "NL", "Datacentrum leverancier, Amsterdam"),
    ("Gespreksopnames", "NL", "Datacentrum leverancier, Amsterdam"),
    ("Back-up cloudkopie", "DE", "Frankfurt am Main"),
    ("E-mail", "IE", "Dublin"),
)


def _between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _workday(day: date) -> date:
    """The first working day from `day` on: at most 4 days later (Christmas on a Thursday)."""
    while day.weekday() >= 5 or day in public_holidays(day.year):
        day += timedelta(days=1)
    return day


def breach_rows(company: Company, rng: random.Random) -> Rows:
    """Two breaches, each told to the customer well within 24 hours; only the first needed the AP."""
    rows = []
    cases = (
        ("ja", "Overzicht met klantgegevens naar verkeerde externe ontvanger gemaild"),
        ("nee", "Laptop met versleutelde schijf verloren in de trein"),
    )
    for n, (authority, description) in enumerate(cases):
        middle = company.first_day + timedelta(days=90 + n * 150)
        # found during office hours and told the same day, so no time falls in a night the clocks change
        detected = _local(_between(rng, middle, middle + timedelta(days=30)), rng.randint(8 * 60, 15 * 60))
        notified = detected + timedelta(minutes=rng.randint(60, 7 * 60))
        rows.append([f"DL-{detected.year}-{n + 1:03d}", detected, notified, authority, description])
    return rows


def breaches(company: Company, directory: Path, rng: random.Random) -> Path:
    return _write_xlsx(
        directory / "datalekregister.xlsx",
        "Datalekken",
        ("Incidentnummer", "Ontdekt op", "Klant geïnformeerd op", "Gemeld bij AP", "Omschrijving"),
        breach_rows(company, rng),
    )


def subprocessors(company: Company, directory: Path, rng: random.Random) -> Path:
    """All in use, all with a signed agreement; the privacy officer reviewed the list this year."""
    reviewed = _workday(_between(rng, company.today - timedelta(days=120), company.today - timedelta(days=60)))
    rows = [
        [
            name,
            service,
            _between(
                rng, company.first_day - timedelta(days=365 * years), company.first_day - timedelta(days=365 * (years - 1) + 1)
            ),
            country,
            "ja",
            reviewed,
        ]
        for name, service, country, years in SUBPROCESSORS
    ]
    return _write_xlsx(
        directory / "subverwerkers.xlsx",
        "Subverwerkers",
        ("Subverwerker", "Dienst", "Verwerkersovereenkomst getekend op", "Land", "In gebruik", "Laatst beoordeeld op"),
        rows,
    )


def processing_locations(company: Company, directory: Path) -> Path:
    rows = [list(location) for location in LOCATIONS]
    return _write_csv(directory / "verwerkingslocaties.csv", ("Systeem", "Land", "Opmerkingen"), rows)


# --- ICT registers -------------------------------------------------------------------------


def restore_test_days(company: Company, rng: random.Random) -> list[date]:
    """Every 6 to 8 weeks on a working day: at most 60 days apart (T-BAK-2 allows 62), from the year's start to today."""
    days, day = [], company.first_day + timedelta(days=rng.randint(14, 35))
    while (test := _workday(day)) <= company.today:
        days.append(test)
        day = test + timedelta(days=rng.randint(42, 56))
    return days


def restore_tests(company: Company, directory: Path, rng: random.Random) -> Path:
    testers = [p.name for p in company.current_staff if p.department == "ICT"][:2]
    rows = []
    for n, day in enumerate(restore_test_days(company, rng)):
        server = ("fs01", "dc01")[n % 2]
        what = "map Klantenservice\\Scripts teruggezet" if server == "fs01" else "systeemstatus teruggezet in testomgeving"
        rows.append([_dutch_day(day), server, "geslaagd", testers[n % len(testers)], what])
    return _write_csv(
        directory / "hersteltests.csv", ("Testdatum", "Server", "Resultaat", "Uitgevoerd door", "Opmerkingen"), rows
    )


def _iso_mondays(company: Company) -> Iterator[date]:
    monday = company.first_day - timedelta(days=company.first_day.weekday())
    while monday <= company.today:
        yield monday
        monday += timedelta(days=7)


def _week_succeeded(company: Company, monday: date) -> bool:
    """Whether every backup night of the week before this Monday succeeded, as the report tells management."""
    week = {monday - timedelta(days=n) for n in range(1, 8)}
    return all(night.outcome == "success" for nights in company.backups.values() for night in nights if night.day in week)


def backup_reports(company: Company, directory: Path) -> Path:
    """One report each ISO week, sent on its Monday (the first week's on the year's first day)."""
    rows = [
        [
            _dutch_day(max(monday, company.first_day)),
            f"directie@{MAIL_DOMAIN}",
            "ja" if _week_succeeded(company, monday) else "nee",
        ]
        for monday in _iso_mondays(company)
    ]
    return _write_csv(directory / "backuprapportages.csv", ("Verzonden op", "Ontvanger", "Alles geslaagd"), rows)


def continuity_reviews(company: Company, directory: Path, rng: random.Random) -> Path:
    reviewed = _workday(_between(rng, company.first_day + timedelta(days=120), company.today - timedelta(days=60)))
    rows = [
        [
            reviewed,
            "ing. M. Verbeek",
            "Verbeek ICT-advies",
            "Continuïteit voldoende geborgd; aanbeveling: tweede back-uplocatie jaarlijks testen",
        ]
    ]
    return _write_xlsx(
        directory / "continuiteitsreviews.xlsx", "Reviews", ("Beoordeeld op", "Beoordelaar", "Organisatie", "Conclusie"), rows
    )


def generator_tests(company: Company, directory: Path, rng: random.Random) -> Path:
    """A quarterly test run of the emergency generator, the last well before today."""
    rows = []
    for quarter in range(4):
        start = company.first_day + timedelta(days=quarter * 91 + 10)
        day = _workday(_between(rng, start, start + timedelta(days=40)))
        if day <= company.today:
            rows.append([_dutch_day(day), "geslaagd", f"Proefdraaien onder belasting, {rng.randint(30, 60)} minuten"])
    return _write_csv(directory / "aggregaattests.csv", ("Testdatum", "Resultaat", "Opmerkingen"), rows)


def access_reviews(company: Company, directory: Path, rng: random.Random) -> Path:
    """Each data-access group reviewed twice in the year, by the head of the department that owns the data."""
    reviewer = next(p.name for p in company.current_staff if p.department == "Directie")
    rows = []
    for group in DATA_ACCESS_GROUPS:
        for window in ((200, 150), (60, 10)):
            first, last = (company.today - timedelta(days=d) for d in window)
            rows.append([group, _workday(_between(rng, first, last)), reviewer])
    rows.sort(key=lambda r: r[1])
    return _write_xlsx(directory / "toegangsbeoordelingen.xlsx", "Beoordelingen", ("Groep", "Beoordeeld op", "Beoordelaar"), rows)


# --- the public API --------------------------------------------------------------------------

Writer = Callable[[Company, Path, random.Random], Path]

# --- management's responses to the year's deviations -----------------------------------------

ANSWERED_LEAVERS = 2  # of the late leavers, the first this many are answered; the rest, and the logon after leaving, stay open


def management_responses(company: Company, directory: Path) -> Path:
    """What management answered by the audit: two of the late leavers, fs01's failed nights, the FTP rule.
    Left open on purpose: the other late leaver, the logon after leaving, the missed backup night, the anti-virus
    and the log findings (the report lists them as open)."""
    known, year = company.known, company.year
    ict_lead = next(p.name for p in company.current_staff if p.department == "ICT")
    hr = next(p.name for p in company.current_staff if p.department == "HR")
    late = sorted(known.late_leavers, key=lambda a: company.person(a).last_day)[:ANSWERED_LEAVERS]
    rows = [
        [
            "O-LVR", account, _dutch_day(company.person(account).last_day), "",
            "HR meldde het vertrek pas na de laatste werkdag aan ICT",
            "vertrek wordt nu via het HR-formulier op de dag van de opzegging aan ICT gemeld",
            hr, _dutch_day(company.person(account).last_day + timedelta(days=known.late_leavers[account])), "", "",
        ]
        for account in late
    ]  # fmt: skip
    rows += [
        [
            "T-BAK-1", "fs01", _dutch_day(night), "", "back-upschijf vol: oude archieven niet opgeschoond",
            "archieven opgeschoond; melding bij 80 % bezetting ingesteld", ict_lead,
            _dutch_day(night + timedelta(days=1)), _dutch_day(night + timedelta(days=2)), "geslaagd",
        ]
        for night in known.backup_failures["fs01"]
    ]  # fmt: skip
    rows.append(
        [
            "T-FWP", "fw01", _dutch_day(year.ftp_rule_added), _dutch_day(company.today),
            "FTP naar de oude leverancier opengezet zonder reden in het register uitgaand verkeer",
            "de regel wordt verwijderd zodra de leverancier SFTP levert", ict_lead, "", "", "",
        ]
    )  # fmt: skip
    header = (
        "Maatregel", "Onderwerp", "Datum", "Tot en met", "Oorzaak", "Corrigerende maatregel", "Eigenaar",
        "Opgelost op", "Hertest op", "Hertest resultaat",
    )  # fmt: skip
    return _write_csv(directory / "reacties-management.csv", header, rows)


WRITERS: dict[str, Writer] = {
    "hr_leavers": lambda c, d, r: hr_leavers(c, d),
    "nda": lambda c, d, r: nda(c, d),
    "badges": lambda c, d, r: badges(c, d),
    "badge_log": badge_log,
    "breaches": breaches,
    "subprocessors": subprocessors,
    "processing_locations": lambda c, d, r: processing_locations(c, d),
    "restore_tests": restore_tests,
    "backup_reports": lambda c, d, r: backup_reports(c, d),
    "continuity_reviews": continuity_reviews,
    "generator_tests": generator_tests,
    "access_reviews": access_reviews,
    "management_responses": lambda c, d, r: management_responses(c, d),
}


def write_registers(company: Company, directory: Path, names: Iterable[str] | None = None) -> dict[str, Path]:
    """Write every register auditpack imports (or only `names`); register name -> file written.

    Each register draws from its own seeded generator, so one register's content
    does not depend on which others were written.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return {name: WRITERS[name](company, directory, random.Random(f"{company.seed}:{name}")) for name in (names or WRITERS)}


def exception_entries(company: Company) -> list[dict[str, Any]]:
    """One exception in force for the known workstation, and one whose maintenance window has passed."""
    director = next(p.name for p in company.current_staff if p.department == "Directie")
    ict_lead = next(p.name for p in company.current_staff if p.department == "ICT")
    workstation = company.known.excepted_workstation
    window = company.today - timedelta(days=75)
    return [
        {
            "control": "T-AV",
            "scope": workstation,
            "justification": f"{workstation} stuurt de belcomputer in de opnameruimte aan en heeft geen internettoegang; "
            "de virusdefinities worden wekelijks handmatig bijgewerkt tot de werkplek in het volgende "
            "kwartaal wordt vervangen.",
            "owner": ict_lead,
            "approver": director,
            "expires": company.today + timedelta(days=100),
        },
        {
            "control": "T-BAK-1",
            "scope": "backup01",
            "justification": "Onderhoudsvenster: vervanging van de schijven in de back-upserver; nachtelijke back-up "
            "mag in dat venster uitvallen.",
            "owner": ict_lead,
            "approver": director,
            "starts": window,
            "expires": window + timedelta(days=14),
        },
    ]


def write_exceptions(company: Company, path: Path) -> Path:
    """The exceptions file (controls/exceptions.py's schema) as the ICT lead keeps it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    yaml = YAML()
    yaml.width = 4096  # one justification per line, as a person types it
    with path.open("w", encoding="utf-8") as out:
        out.write(f"# Uitzonderingen op maatregelen, {company.first_day:%d-%m-%Y} t/m {company.today:%d-%m-%Y}\n")
        yaml.dump({"exceptions": exception_entries(company)}, out)
    return path
