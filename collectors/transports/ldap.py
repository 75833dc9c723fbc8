"""LDAP to a domain controller with ldap3: TLS verified by default, read-only, paged searches that stream.

Transport only: what is searched for, and what the answers mean, lives in
collectors/ad.py and collectors/parsers/ad.py.
"""

from __future__ import annotations

import math
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ldap3
from ldap3.core import exceptions as ldap_errors

from auditpack.credentials import Secret

from ..guard import CommandGuard


class LdapError(Exception):
    """A connection or bind that failed, said plainly; `unreachable` when the DC never answered."""

    def __init__(self, message: str, unreachable: bool = False, reason: str = ""):
        super().__init__(message)
        self.unreachable = unreachable
        self.reason = reason  # auth_refused, tls or no_credential where that is what failed; "" otherwise


@dataclass(frozen=True)
class LdapTarget:
    address: str
    port: int
    scheme: str  # ldaps | starttls | plain
    auth: str  # simple | ntlm | gssapi
    user: str | None
    verify_tls: bool
    ca_file: str | None
    timeout: float
    server_name: str | None = None

    @property
    def url(self) -> str:
        return f"{'ldaps' if self.scheme == 'ldaps' else 'ldap'}://{self.address}:{self.port}"

    @property
    def tls_mode(self) -> str:
        if self.scheme == "plain":
            return "none (plain LDAP)"
        return "certificate verified" if self.verify_tls else "INSECURE: certificate not verified (lab switch)"


def _tls(target: LdapTarget) -> ldap3.Tls:
    names = [target.server_name] if target.server_name else None
    return ldap3.Tls(
        validate=ssl.CERT_REQUIRED if target.verify_tls else ssl.CERT_NONE, ca_certs_file=target.ca_file, valid_names=names
    )


def _tls_failure(target: LdapTarget, exc: Exception) -> LdapError:
    text = str(exc)
    if "doesn't match any name" in text:
        subject = text.split("'commonName', '", 1)[-1].split("'", 1)[0] if "'commonName', '" in text else "another name"
        return LdapError(
            f"TLS with {target.url}: the certificate is for {subject}, not {target.server_name or target.address}; "
            "connect by that name or set auditpack_tls_server_name",
            reason="tls",
        )
    return LdapError(
        f"TLS with {target.url} failed: {text}; give the CA with auditpack_tls_ca_file "
        "(or, in a lab only, auditpack_tls_insecure: true)",
        reason="tls",
    )


def _auth(target: LdapTarget, password: Secret | None) -> dict[str, Any]:
    if target.auth == "gssapi":  # a Kerberos ticket of the system; no password is sent
        return {"authentication": ldap3.SASL, "sasl_mechanism": ldap3.KERBEROS}
    if not target.user:
        raise LdapError(
            "no bind user: set ansible_user or auditpack_ldap_user (DN, user@domain or DOMAIN\\user)", reason="no_credential"
        )
    if target.scheme == "plain" and target.verify_tls:
        raise LdapError(
            "plain LDAP would send the password unencrypted: use auditpack_ldap_scheme ldaps or starttls "
            "(or, in a lab only, auditpack_tls_insecure: true)"
        )
    secret = password.reveal() if password else ""
    kind = ldap3.NTLM if target.auth == "ntlm" else ldap3.SIMPLE
    return {"user": target.user, "password": secret, "authentication": kind}


def open_connection(target: LdapTarget, password: Secret | None) -> ldap3.Connection:
    """Connect, secure and bind; every failure becomes an LdapError that names the cause but no secret."""
    server = ldap3.Server(
        target.address,
        port=target.port,
        use_ssl=target.scheme == "ldaps",
        tls=_tls(target),
        get_info=ldap3.NONE,
        connect_timeout=target.timeout,
    )
    # ldap3 packs the receive timeout into a socket option that takes whole seconds
    conn = ldap3.Connection(
        server,
        read_only=True,
        receive_timeout=math.ceil(target.timeout),
        raise_exceptions=True,
        auto_bind=ldap3.AUTO_BIND_NONE,
        **_auth(target, password),
    )
    try:
        conn.open()
        if target.scheme == "starttls":
            conn.start_tls()
        conn.bind()
    except ldap_errors.LDAPStartTLSError as exc:
        raise _tls_failure(target, exc) from None
    except ldap_errors.LDAPSocketOpenError as exc:
        if "certificate" in str(exc).lower() or "ssl" in str(exc).lower():
            raise _tls_failure(target, exc) from None
        raise LdapError(f"cannot connect to {target.url}: {exc}", unreachable=True) from None
    except ldap_errors.LDAPInvalidCredentialsResult:
        raise LdapError(f"bind as {target.user} refused: invalid credentials", reason="auth_refused") from None
    except ldap_errors.LDAPStrongerAuthRequiredResult:
        raise LdapError(f"{target.url} requires an encrypted connection: use auditpack_ldap_scheme ldaps or starttls") from None
    except ldap_errors.LDAPSessionTerminatedByServerError:
        raise LdapError(
            f"{target.url} closed the connection during the {target.auth} bind "
            "(Samba does not offer the NTLM bind ldap3 uses; use simple over TLS, or gssapi)"
        ) from None
    except (ldap_errors.LDAPException, ssl.SSLError, OSError) as exc:
        raise LdapError(f"{target.url}: {exc.__class__.__name__}: {exc}") from None
    return conn


def describe_search(
    base: str, search_filter: str, attributes: list[str], scope: str = "subtree", page_size: int | str | None = None
) -> str:
    """A search as evidence names it and as the guard checks it (page_size a str: a declared template's marker)."""
    paged = f" page_size={page_size}" if page_size else ""
    return f"LDAP search base='{base}' scope={scope} filter='{search_filter}' attributes={','.join(attributes)}{paged}"


def read_entry(
    conn: ldap3.Connection, dn: str, attributes: list[str], guard: CommandGuard | None = None
) -> dict[str, Any] | None:
    """One object by DN (scope base), or None when it does not exist. The search passes the guard first
    (a collector always gives its own; None: not a collector's search)."""
    if guard is not None:
        guard.check(describe_search(dn, "(objectClass=*)", attributes, scope="base"))
    try:
        conn.search(dn, "(objectClass=*)", search_scope=ldap3.BASE, attributes=attributes)
    except ldap_errors.LDAPNoSuchObjectResult:
        return None
    return {"dn": conn.response[0]["dn"], "attributes": conn.response[0]["raw_attributes"]} if conn.response else None


def paged_entries(
    conn: ldap3.Connection,
    base: str,
    search_filter: str,
    attributes: list[str],
    page_size: int,
    guard: CommandGuard | None = None,
) -> Iterator[dict[str, Any]]:
    """Entries one by one as pages arrive, so memory does not grow with the directory; the search passes the guard first."""
    if guard is not None:
        guard.check(describe_search(base, search_filter, attributes, page_size=page_size))
    try:
        for answer in conn.extend.standard.paged_search(
            base, search_filter, search_scope=ldap3.SUBTREE, attributes=attributes, paged_size=page_size, generator=True
        ):
            if answer.get("type") == "searchResEntry":
                yield {"dn": answer["dn"], "attributes": answer["raw_attributes"]}
    except ldap_errors.LDAPNoSuchObjectResult:
        return  # an absent container (e.g. no Password Settings Container) holds nothing


def default_naming_context(conn: ldap3.Connection, guard: CommandGuard | None = None) -> str:
    entry = read_entry(conn, "", ["defaultNamingContext"], guard)
    values = (entry or {}).get("attributes", {}).get("defaultNamingContext") or []
    if not values:
        raise LdapError("the DC's rootDSE names no defaultNamingContext; set auditpack_ldap_base")
    return values[0].decode() if isinstance(values[0], bytes) else values[0]
