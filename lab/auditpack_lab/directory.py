"""The lab's Active Directory: a real Samba AD DC provisioned and filled from a `Company`.

`build_directory` provisions the domain and seeds it with one `ldbmodify` run
on the local sam.ldb (no network, no daemon): OUs, every person, the audit
account, the department and data-access groups, Domain Admins, the computer
objects and the domain password policy. The runtime then calls `.dc.start()`.

Back-dating: Samba stamps whenCreated with the clock of the writing process and
ignores a value given on add, but a local write by the system user may replace
it afterwards. The seed therefore adds everyone and then replaces whenCreated
with the hiring date in the same run: exact to the day for every person and one
process instead of one faked clock per hiring date.

LDAPS uses a certificate the lab issues before the first start, where Samba
looks for its own (private/tls/: ca.pem, cert.pem, key.pem; Samba makes them
only when they are missing): a CA and a server certificate for <netbios
name>.<dns domain>, so the collector verifies it with that CA file and that
server name. They are back-dated to before the lab's year, so a collection
with its clock set to a day of that year accepts them too.
"""

from __future__ import annotations

import base64
import secrets
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from ldap3.utils.dn import escape_rdn

from . import layout
from .company import CERTIFICATE_DAYS, COMPANY_NAME, DATA_ACCESS_GROUPS, DEPARTMENTS, Company, Person, Workstation
from .peers.samba_dc import BASE_DN, REALM, SambaDC, provision
from .peers.tls import make_pki

DNS_DOMAIN = REALM.lower()
FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
TICKS_PER_DAY = 864_000_000_000  # 100 ns units, as AD stores intervals

# userAccountControl (MS-ADTS 2.2.16)
UF_ACCOUNTDISABLE = 0x2
UF_NORMAL_ACCOUNT = 0x200
UF_WORKSTATION_TRUST_ACCOUNT = 0x1000
UF_DONT_EXPIRE_PASSWD = 0x10000
GLOBAL_SECURITY_GROUP = "-2147483646"

STAFF_OU = f"OU=Medewerkers,{BASE_DN}"
LEAVERS_OU = f"OU=Uit dienst,{BASE_DN}"
GROUPS_OU = f"OU=Groepen,{BASE_DN}"
WORKSTATIONS_OU = f"OU=Werkplekken,{BASE_DN}"
SERVERS_OU = f"OU=Servers,{BASE_DN}"
SERVICE_OU = f"OU=Dienstaccounts,{BASE_DN}"
DOMAIN_ADMINS = f"CN=Domain Admins,CN=Users,{BASE_DN}"
ADMINISTRATOR = f"CN=Administrator,CN=Users,{BASE_DN}"

SERVER_OS = ("Windows Server 2022 Standard", "10.0 (20348)")
WORKSTATION_OS = ("Windows 11 Pro", "10.0 (22631)")
FILE_SERVER = "FS01"

# O-PWD's defaults ask for at least 8 characters, complexity, at most 90 days and locking within 10 attempts;
# the lab holds a stricter, common policy so the control passes with room to spare.
PASSWORD_POLICY = {
    "min_length": 12,
    "complexity": True,
    "max_age_days": 90,
    "min_age_days": 1,
    "history_length": 24,
    "lockout_threshold": 5,
    "lockout_minutes": 30,
}


@dataclass
class DirectoryInfo:
    """The provisioned, seeded (not yet started) DC and what the inventory needs to audit it."""

    dc: SambaDC
    server_name: str  # the name on Samba's LDAPS certificate (auditpack_tls_server_name)
    bind_user: str  # the audit account as the collector binds (auditpack_ldap_user)
    data_access_groups: list[str]  # auditpack_data_access_groups

    @property
    def ca_file(self) -> Path:
        """The CA of Samba's LDAPS certificate (auditpack_tls_ca_file)."""
        return self.dc.directory / "private" / "tls" / "ca.pem"


# --- LDIF -------------------------------------------------------------------


def _safe(value: str) -> bool:
    """RFC 2849 SAFE-STRING: plain ASCII without leading space, colon or '<' and no line breaks."""
    return (
        value.isascii()
        and value == value.strip()
        and not value.startswith((":", "<"))
        and "\n" not in value
        and "\r" not in value
        and "\0" not in value
    )


Value = str | bytes
Attributes = dict[str, Value | list[Value]]


def _line(attribute: str, value: Value) -> str:
    """One attribute line; binary and unsafe text values go base64-encoded (attribute:: ...)."""
    if isinstance(value, str) and _safe(value):
        return f"{attribute}: {value}"
    data = value if isinstance(value, bytes) else value.encode()
    return f"{attribute}:: {base64.b64encode(data).decode()}"


def _lines(attribute: str, values: Value | list[Value]) -> list[str]:
    return [_line(attribute, v) for v in (values if isinstance(values, list) else [values])]


def add_record(dn: str, attributes: Attributes) -> str:
    lines = [_line("dn", dn), "changetype: add"]
    for name, values in attributes.items():
        lines += _lines(name, values)
    return "\n".join(lines) + "\n\n"


def modify_record(dn: str, operation: str, attributes: Attributes) -> str:
    """One modify record; operation is replace or add, applied to every attribute given."""
    lines = [_line("dn", dn), "changetype: modify"]
    for name, values in attributes.items():
        lines += [f"{operation}: {name}", *_lines(name, values), "-"]
    return "\n".join(lines) + "\n\n"


def delete_record(dn: str) -> str:
    return f"{_line('dn', dn)}\nchangetype: delete\n\n"


def filetime(moment: datetime) -> str:
    return str((moment - FILETIME_EPOCH) // timedelta(microseconds=1) * 10)


def generalized_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S.0Z")


def unicode_pwd(password: str) -> bytes:
    """AD takes a new password as the UTF-16LE encoding of the quoted password."""
    return f'"{password}"'.encode("utf-16-le")


def random_password() -> str:
    """Nobody logs on as the lab's staff: a fresh, complex secret per account that nobody knows."""
    return f"{secrets.token_urlsafe(18)}-Aa1"


# --- what the directory holds -------------------------------------------------


def person_dn(person: Person) -> str:
    ou = LEAVERS_OU if person.is_leaver else f"OU={escape_rdn(person.department)},{STAFF_OU}"
    return f"CN={escape_rdn(person.name)},{ou}"


def group_dn(name: str) -> str:
    return f"CN={escape_rdn(name)},{GROUPS_OU}"


def organisational_units() -> str:
    units = [
        STAFF_OU,
        *(f"OU={escape_rdn(d)},{STAFF_OU}" for d in DEPARTMENTS),
        LEAVERS_OU,
        GROUPS_OU,
        WORKSTATIONS_OU,
        SERVERS_OU,
        SERVICE_OU,
    ]
    return "".join(add_record(dn, {"objectClass": "organizationalUnit"}) for dn in units)


def person_record(person: Person, password: str) -> str:
    given, _, surname = person.name.partition(" ")
    uac = UF_NORMAL_ACCOUNT | (UF_ACCOUNTDISABLE if person.is_leaver else 0)
    attributes: Attributes = {
        "objectClass": "user",
        "sAMAccountName": person.account,
        "userPrincipalName": f"{person.account}@{DNS_DOMAIN}",
        "displayName": person.name,
        "givenName": given,
        "sn": surname or given,
        "department": person.department,
        "company": COMPANY_NAME,
        "userAccountControl": str(uac),
        "unicodePwd": unicode_pwd(password),
    }
    if person.last_logon:
        attributes["lastLogonTimestamp"] = filetime(person.last_logon)
    return add_record(person_dn(person), attributes)


def audit_account_record() -> str:
    """The read-only audit account: an ordinary domain user, no group beyond Domain Users."""
    attributes: Attributes = {
        "objectClass": "user",
        "sAMAccountName": layout.AUDIT_ACCOUNT,
        "userPrincipalName": f"{layout.AUDIT_ACCOUNT}@{DNS_DOMAIN}",
        "displayName": "auditpack (alleen lezen)",
        "description": "Dienstaccount voor de jaarlijkse audit: alleen leesrechten",
        "userAccountControl": str(UF_NORMAL_ACCOUNT | UF_DONT_EXPIRE_PASSWD),
        "unicodePwd": unicode_pwd(layout.AUDIT_PASSWORD),
    }
    return add_record(f"CN={layout.AUDIT_ACCOUNT},{SERVICE_OU}", attributes)


def group_record(name: str, description: str, members: Iterable[str]) -> str:
    attributes: Attributes = {
        "objectClass": "group",
        "sAMAccountName": name,
        "groupType": GLOBAL_SECURITY_GROUP,
        "description": description,
    }
    if listed := sorted(members):
        attributes["member"] = list(listed)
    return add_record(group_dn(name), attributes)


def group_records(company: Company) -> str:
    """Department groups hold current staff (leavers leave their groups); data-access groups nest departments."""
    text = ""
    for department, (group, _, _) in DEPARTMENTS.items():
        members = [person_dn(p) for p in company.current_staff if p.department == department]
        text += group_record(group, f"Afdeling {department}", members)
    for group, departments in DATA_ACCESS_GROUPS.items():
        text += group_record(
            group, f"Toegang tot klantgegevens voor {', '.join(departments)}", [group_dn(DEPARTMENTS[d][0]) for d in departments]
        )
    return text


def computer_record(name: str, ou: str, system: tuple[str, str], last_logon: datetime) -> str:
    return add_record(
        f"CN={escape_rdn(name)},{ou}",
        {
            "objectClass": "computer",
            "sAMAccountName": f"{name}$",
            "dNSHostName": f"{name.lower()}.{DNS_DOMAIN}",
            "operatingSystem": system[0],
            "operatingSystemVersion": system[1],
            "userAccountControl": str(UF_WORKSTATION_TRUST_ACCOUNT),
            "lastLogonTimestamp": filetime(last_logon),
        },
    )


def workstation_logon(station: Workstation, built: datetime) -> datetime:
    """A workstation's machine account logs on at every boot: shortly before its last console contact."""
    return (station.last_contact or built - timedelta(hours=20)) - timedelta(minutes=5)


def computer_records(company: Company) -> str:
    text = computer_record(FILE_SERVER, SERVERS_OU, SERVER_OS, company.built - timedelta(days=3))
    for station in company.workstations:
        text += computer_record(station.name, WORKSTATIONS_OU, WORKSTATION_OS, workstation_logon(station, company.built))
    return text


def hired_at(person: Person) -> datetime:
    return datetime.combine(person.hired, time(9, 0), UTC)


def backdating_records(company: Company) -> str:
    return "".join(modify_record(person_dn(p), "replace", {"whenCreated": generalized_time(hired_at(p))}) for p in company.staff)


def policy_record() -> str:
    """The domain root's password and lockout policy (intervals are negative 100 ns counts)."""
    p, minute = PASSWORD_POLICY, TICKS_PER_DAY // (24 * 60)
    return modify_record(
        BASE_DN,
        "replace",
        {
            "minPwdLength": str(p["min_length"]),
            "pwdProperties": "1" if p["complexity"] else "0",
            "maxPwdAge": str(-p["max_age_days"] * TICKS_PER_DAY),
            "minPwdAge": str(-p["min_age_days"] * TICKS_PER_DAY),
            "pwdHistoryLength": str(p["history_length"]),
            "lockoutThreshold": str(p["lockout_threshold"]),
            "lockoutDuration": str(-p["lockout_minutes"] * minute),
            "lockOutObservationWindow": str(-p["lockout_minutes"] * minute),
        },
    )


def builtin_records(company: Company, netbios: str) -> str:
    """Domain Admins gets the ICT admins; the built-in Administrator is disabled (personal admin accounts only).

    The DC's own object says Windows Server, as the company's DC does (and so the workstation
    reconciliation does not count it). Samba's dns-<host> account goes: the lab runs no DNS, a
    Windows DC has no such account, and as an enabled account without an NDA it would be a finding.
    """
    admins = [person_dn(company.person(a)) for a in company.admins]
    dc_dn = f"CN={escape_rdn(netbios)},OU=Domain Controllers,{BASE_DN}"
    return "".join(
        [
            modify_record(DOMAIN_ADMINS, "add", {"member": list(admins)}) if admins else "",
            modify_record(ADMINISTRATOR, "replace", {"userAccountControl": str(UF_NORMAL_ACCOUNT | UF_ACCOUNTDISABLE)}),
            modify_record(dc_dn, "replace", {"operatingSystem": SERVER_OS[0], "operatingSystemVersion": SERVER_OS[1]}),
            delete_record(f"CN=dns-{escape_rdn(netbios.lower())},CN=Users,{BASE_DN}"),
        ]
    )


def directory_ldif(company: Company, netbios: str, password_of: Callable[[str], str] = lambda account: random_password()) -> str:
    """Everything the seed writes, in an order the directory accepts (members after their objects)."""
    return "".join(
        [
            organisational_units(),
            *(person_record(p, password_of(p.account)) for p in company.staff),
            audit_account_record(),
            group_records(company),
            computer_records(company),
            backdating_records(company),
            builtin_records(company, netbios),
            policy_record(),
        ]
    )


# --- building -----------------------------------------------------------------


def _netbios_name(dc: SambaDC) -> str:
    for line in Path(dc.conf).read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip().lower() == "netbios name":
            return value.strip()
    raise RuntimeError(f"{dc.conf} names no netbios name")


def seed(dc: SambaDC, ldif: str) -> None:
    """One local ldbmodify for all adds and modifies: the database is opened and its modules loaded once."""
    done = subprocess.run(
        ["ldbmodify", "--nosync", "-H", str(dc.directory / "private" / "sam.ldb")],
        input=ldif,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seeding the directory failed: {done.stderr.strip()[-2000:]}")


def build_directory(company: Company, directory: Path, address: str) -> DirectoryInfo:
    """Provision and seed the lab's domain in `directory`, to listen on `address`; needs root and samba-ad-dc."""
    dc = provision(directory, address, host_name="dc01")
    netbios = _netbios_name(dc)
    seed(dc, directory_ldif(company, netbios))
    server_name = f"{netbios}.{DNS_DOMAIN}"
    make_pki(
        dc.directory / "private" / "tls",
        server_name,
        address,
        valid_from=company.certificates_valid_from,
        valid_days=CERTIFICATE_DAYS,
        names=("ca.pem", "cert.pem", "key.pem"),
    )
    return DirectoryInfo(
        dc=dc,
        server_name=server_name,
        bind_user=f"{layout.AUDIT_ACCOUNT}@{DNS_DOMAIN}",
        data_access_groups=list(DATA_ACCESS_GROUPS),
    )
