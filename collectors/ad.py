"""The `ad` collector: users, password policies, privileged groups, computers and data-access groups over LDAP.

Read-only by construction (ldap3 read_only connection) and by declaration:
the searches in `allowed_commands` are all it sends (the transport checks each, guard.py). Every search is its own evidence item,
with the exact base, filter and attributes; the raw answer is streamed to a
spooled file (as JSON lines of the attributes exactly as sent), so memory holds
only the normalised records.
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from ldap3.core import exceptions as ldap_errors
from ldap3.utils.conv import escape_filter_chars

from auditpack.canonical import canonical_json, utcnow
from auditpack.credentials import CredentialError
from auditpack.evidence import ItemStatus, Observation
from auditpack.inventory import Host, Role

from .base import CollectContext
from .guard import DN, LDAP_VALUE, NUMBER, CommandGuard
from .parsers import ad as parse
from .transports import ldap as lt

USERS_FILTER = "(&(objectCategory=person)(objectClass=user))"
COMPUTERS_FILTER = "(objectClass=computer)"
PSO_FILTER = "(objectClass=msDS-PasswordSettings)"
IN_CHAIN = "1.2.840.113556.1.4.1941"  # LDAP_MATCHING_RULE_IN_CHAIN: transitive group membership
GROUP_BY_SID = "(&(objectClass=group)(objectSid={sid}))"
GROUP_BY_NAME = "(&(objectClass=group)(sAMAccountName={group}))"
MEMBERS_FILTER = f"(&(objectClass=user)(memberOf:{IN_CHAIN}:=GROUP_DN))"
PSO_CONTAINER = "CN=Password Settings Container,CN=System,{base}"
# Privileged groups by SID, so a Dutch or German DC ("Domeinadministrators") is read the same way.
PRIVILEGED = {
    "-512": "Domain Admins",
    "-518": "Schema Admins",
    "-519": "Enterprise Admins",
    "-520": "Group Policy Creator Owners",
    "S-1-5-32-544": "Administrators",
    "S-1-5-32-548": "Account Operators",
    "S-1-5-32-549": "Server Operators",
    "S-1-5-32-550": "Print Operators",
    "S-1-5-32-551": "Backup Operators",
}
LOGON_LAG_NOTE = (
    "last_logon is the later of this DC's lastLogon (exact, but only the logons this DC handled; never replicated) and "
    "lastLogonTimestamp, which the DC updates only when the stored value is older than msDS-LogonTimeSyncInterval "
    "(14 days by default, minus up to 5 random days): it can be 9-14 days behind; last_logon_source says which. "
    "Deleted objects (isDeleted) are not listed, only counted in deleted"
)
SPOOL_IN_MEMORY = 4 * 1024 * 1024
# what auditpack doctor reads of the rootDSE after its bind: the domain and the DC that answered
ROOTDSE_CHECK = ["defaultNamingContext", "dnsHostName"]


def _raw_value(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(value).decode()}
    return value


def _raw_line(entry: dict[str, Any]) -> bytes:
    attrs = {k: [_raw_value(v) for v in vs] for k, vs in entry["attributes"].items()}
    return json.dumps({"dn": entry["dn"], "attributes": attrs}, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def target_of(host: Host) -> lt.LdapTarget:
    return lt.LdapTarget(
        address=host.address,
        port=host.effective_ldap_port,
        scheme=host.ldap_scheme,
        auth=host.ldap_auth,
        user=host.ldap_user or host.user,
        verify_tls=host.verify_tls,
        ca_file=host.tls_ca_file,
        timeout=host.connect_timeout,
        server_name=host.tls_server_name,
    )


class _Search:
    """One search as evidence: streams entries to a spool while turning each into a record."""

    def __init__(self, kind: str, command: str):
        self.kind, self.command = kind, command
        self.started = utcnow()
        self.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
        self.count = 0

    def feed(self, entries: Iterable[dict[str, Any]], record: Callable[[dict[str, Any]], Any]) -> Iterator[Any]:
        for entry in entries:
            self.spool.write(_raw_line(entry))
            self.count += 1
            yield record(entry)

    def observation(
        self, normalized: Any = None, status: ItemStatus = ItemStatus.OK, errors: list[str] | None = None
    ) -> Observation:
        return Observation(
            kind=self.kind,
            command=self.command,
            raw=self.spool,
            started=self.started,
            ended=utcnow(),
            normalized=normalized,
            status=status,
            errors=errors or [],
            tool_version=_ldap3_version(),
        )

    def failed(self, exc: BaseException) -> Observation:
        """A search cut short keeps what arrived, raw, flagged; the records are dropped as incomplete."""
        what = "could not be read" if isinstance(exc, ValueError) else "was interrupted"
        status = ItemStatus.GARBLED if isinstance(exc, ValueError) else ItemStatus.ERROR
        return self.observation(
            status=status, errors=[f"search {what} after {self.count} entries: {exc.__class__.__name__}: {exc}"]
        )


def _ldap3_version() -> str:
    import ldap3

    return f"ldap3 {ldap3.__version__}"


class AdCollector:
    name = "ad"
    transport = "ldap"
    # The searches after the bind (simple over TLS, NTLM or GSSAPI), as the transport describes each one it sends.
    allowed_commands = (
        lt.describe_search("", "(objectClass=*)", ["defaultNamingContext"], scope="base"),  # rootDSE
        lt.describe_search("", "(objectClass=*)", ROOTDSE_CHECK, scope="base"),  # rootDSE, by auditpack doctor
        lt.describe_search("{base}", USERS_FILTER, parse.USER_ATTRIBUTES, page_size="{page_size}"),
        lt.describe_search("{base}", "(objectClass=*)", parse.POLICY_ATTRIBUTES, scope="base"),  # password and lockout policy
        lt.describe_search(PSO_CONTAINER, PSO_FILTER, parse.PSO_ATTRIBUTES, page_size="{page_size}"),
        lt.describe_search("{base}", GROUP_BY_SID, parse.GROUP_ATTRIBUTES, page_size="{page_size}"),  # privileged groups
        lt.describe_search("{base}", GROUP_BY_NAME, parse.GROUP_ATTRIBUTES, page_size="{page_size}"),  # data-access groups
        lt.describe_search("{base}", MEMBERS_FILTER, ["sAMAccountName"], page_size="{page_size}"),  # members, nested too
        lt.describe_search("{base}", COMPUTERS_FILTER, parse.COMPUTER_ATTRIBUTES, page_size="{page_size}"),
    )
    command_placeholders = {
        "{base}": DN,
        "{page_size}": NUMBER,
        "{sid}": r"S-1(?:-[0-9]+)+",
        "{group}": LDAP_VALUE,
        "GROUP_DN": LDAP_VALUE,
    }  # filter values as escape_filter_chars writes them

    def applies_to(self, host: Host) -> bool:
        return Role.DOMAIN_CONTROLLER in host.roles

    def collect(self, host: Host, ctx: CollectContext) -> Iterator[Observation]:
        target = target_of(host)
        started = utcnow()
        facts = {"url": target.url, "tls": target.tls_mode, "auth": target.auth, "bind_user": target.user}
        try:
            secret = None
            ref = host.ldap_password or host.password
            if target.auth != "gssapi" and ref is not None:
                secret = ref.resolve(target.user, f"{target.user} on {host.name}")
            guard = ctx.guard_for(self)
            conn = lt.open_connection(target, secret)
            base = host.ldap_base or lt.default_naming_context(conn, guard=guard)
        except (lt.LdapError, CredentialError) as exc:
            status = ItemStatus.UNREACHABLE if getattr(exc, "unreachable", False) else ItemStatus.ERROR
            yield Observation(
                "ad.connection",
                f"LDAP bind to {target.url} as {target.user} ({target.auth}, TLS {target.tls_mode})",
                canonical_json({**facts, "error": str(exc)}),
                started,
                utcnow(),
                {**facts, "error": str(exc)},
                status,
                [f"ad: {exc}"],
                _ldap3_version(),
            )
            return
        facts["base"] = base
        yield Observation(
            "ad.connection",
            f"LDAP bind to {target.url} as {target.user} ({target.auth}, TLS {target.tls_mode})",
            canonical_json(facts),
            started,
            utcnow(),
            facts,
            ItemStatus.OK,
            [],
            _ldap3_version(),
        )
        try:
            yield self._users(conn, guard, base, host.ldap_page_size, host.name)
            policy = self._policy(conn, guard, base)
            yield policy
            yield self._fine_grained(conn, guard, base, host.ldap_page_size)
            domain_sid = (policy.normalized or {}).get("domain_sid")
            yield self._groups(
                conn, guard, base, host.ldap_page_size, "ad.privileged_groups", self._privileged_searches(domain_sid)
            )
            yield self._computers(conn, guard, base, host.ldap_page_size, host.name)
            if host.data_access_groups:
                searches = {g: GROUP_BY_NAME.format(group=escape_filter_chars(g)) for g in host.data_access_groups}
                yield self._groups(conn, guard, base, host.ldap_page_size, "ad.groups", searches)
        finally:
            conn.unbind()

    @staticmethod
    def _list(
        conn,
        guard: CommandGuard,
        kind: str,
        base: str,
        search_filter: str,
        attributes: list[str],
        page_size: int,
        record: Callable[[dict[str, Any]], Any],
        wrap: Callable[[list[Any]], Any],
    ) -> Observation:
        """One paged search as one evidence item: every entry decoded by record, the list shaped by wrap."""
        search = _Search(kind, lt.describe_search(base, search_filter, attributes, page_size=page_size))
        try:
            records = list(search.feed(lt.paged_entries(conn, base, search_filter, attributes, page_size, guard=guard), record))
        except (ldap_errors.LDAPException, OSError, ValueError) as exc:
            return search.failed(exc)
        return search.observation(wrap(records))

    def _users(self, conn, guard: CommandGuard, base: str, page_size: int, dc: str) -> Observation:
        now = datetime.now(UTC)
        return self._list(
            conn,
            guard,
            "ad.users",
            base,
            USERS_FILTER,
            parse.USER_ATTRIBUTES,
            page_size,
            lambda e: parse.live_user(e, now, dc),
            lambda found: self._listing(base, "users", found),
        )

    @staticmethod
    def _listing(base: str, key: str, found: list[dict[str, Any] | None]) -> dict[str, Any]:
        live, deleted = parse.without_deleted(found)
        return {"base": base, key: live, "deleted": deleted, "note": LOGON_LAG_NOTE}

    def _policy(self, conn, guard: CommandGuard, base: str) -> Observation:
        search = _Search("ad.password_policy", lt.describe_search(base, "(objectClass=*)", parse.POLICY_ATTRIBUTES, scope="base"))
        try:
            entry = lt.read_entry(conn, base, parse.POLICY_ATTRIBUTES, guard=guard)
            if entry is None:
                raise ValueError(f"domain root {base} not found")
            [policy] = list(search.feed([entry], parse.domain_policy))
        except (ldap_errors.LDAPException, OSError, ValueError) as exc:
            return search.failed(exc)
        return search.observation(policy)

    def _fine_grained(self, conn, guard: CommandGuard, base: str, page_size: int) -> Observation:
        container = PSO_CONTAINER.format(base=base)
        return self._list(
            conn,
            guard,
            "ad.fine_grained_policies",
            container,
            PSO_FILTER,
            parse.PSO_ATTRIBUTES,
            page_size,
            parse.fine_grained_policy,
            lambda found: {"policies": sorted(found, key=lambda p: (p["precedence"] or 0, p["name"] or ""))},
        )

    @staticmethod
    def _privileged_searches(domain_sid: str | None) -> dict[str, str]:
        """Group name -> filter on its SID; the domain-relative ones need the domain SID from the policy read."""
        searches = {}
        for sid, name in PRIVILEGED.items():
            if sid.startswith("S-") or domain_sid:
                searches[name] = GROUP_BY_SID.format(sid=sid if sid.startswith("S-") else domain_sid + sid)
        return searches

    def _groups(self, conn, guard: CommandGuard, base: str, page_size: int, kind: str, searches: dict[str, str]) -> Observation:
        """Groups found by the given filters, each with its transitive user members (nested groups resolved by the DC)."""
        members_search = lt.describe_search(base, MEMBERS_FILTER, ["sAMAccountName"], page_size=page_size)
        command = "; ".join(
            [lt.describe_search(base, f, parse.GROUP_ATTRIBUTES) for f in searches.values()]
            + [members_search + " for each group found"]
        )
        search = _Search(kind, command)
        groups, not_found, deleted = [], [], 0
        try:
            for name, group_filter in searches.items():
                entries = search.feed(
                    lt.paged_entries(conn, base, group_filter, parse.GROUP_ATTRIBUTES, page_size, guard=guard), lambda e: e
                )
                found, tombstones = parse.without_deleted(None if parse.is_deleted(e) else e for e in entries)
                deleted += tombstones  # a deleted group grants nothing: not listed, no members asked for
                if not found:
                    not_found.append(name)
                for entry in found:
                    members_filter = MEMBERS_FILTER.replace("GROUP_DN", escape_filter_chars(entry["dn"]))
                    members = list(
                        search.feed(
                            lt.paged_entries(conn, base, members_filter, ["sAMAccountName"], page_size, guard=guard),
                            parse.member_account,
                        )
                    )
                    groups.append(parse.group_record(entry, [m for m in members if m]))
        except (ldap_errors.LDAPException, OSError, ValueError) as exc:
            return search.failed(exc)
        return search.observation({"groups": groups, "not_found": not_found, "deleted": deleted})

    def _computers(self, conn, guard: CommandGuard, base: str, page_size: int, dc: str) -> Observation:
        return self._list(
            conn,
            guard,
            "ad.computers",
            base,
            COMPUTERS_FILTER,
            parse.COMPUTER_ATTRIBUTES,
            page_size,
            lambda e: parse.live_computer(e, dc),
            lambda found: self._listing(base, "computers", found),
        )
