"""What `auditpack doctor` tests: every credential of every host, tried once, read-only, and nothing stored.

Each host gets the checks of the collectors that apply to it, over the same transports and
through the same guards, so nothing goes out that a collector does not declare:
- reachable: the reachability probe (no credentials);
- ssh host key and ssh logon: the key checked against known_hosts (an unknown or changed key
  is named as such), the logon with the key file or password, then `id -un`;
- sudo (hosts with `auditpack_become: sudo`): `sudo -n -l COMMAND` for each command the collection
  sends through sudo, which lists nothing and runs nothing; the refused ones are named;
- winrm logon: NTLM (or the inventory's transport) and one script that prints the account and computer;
- ldap bind: the bind account over LDAPS/StartTLS, then the rootDSE (naming context, the DC's name);
- epo login: the console's core.help, which lists what the account may run (no systems are read);
- tls: a handshake with each TLS endpoint, the certificate verified, its days to expiry;
- backup passphrase: the reference is looked up (the repository is opened by a collection only).

Where an account is refused, the same account (user and reference) is not tried on the hosts
after it: with a hundred workstations sharing one domain account, a wrong password tried on
each would lock it. Trust on first use is tried against a copy of known_hosts, so doctor
writes nothing; a key the collection would trust is reported with its fingerprint.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditpack.credentials import CredentialError, CredentialRef, Secret
from auditpack.inventory import Host, Role, TlsEndpoint

from .guard import CommandGuard, CommandRefused

if TYPE_CHECKING:  # the transports load their libraries: imported where a check runs
    from .transports.ldap import LdapError
    from .transports.winrm import WinrmError

OK, FAILED, NOT_TRIED = "ok", "failed", "not tried"
SCRIPT_TIMEOUT = 30.0  # seconds for doctor's one command over SSH or WinRM
WORKERS = 8


@dataclass(frozen=True)
class CheckRow:
    """One thing tested on one host; `credential` names the reference or key file, never a secret."""

    host: str
    check: str  # reachable, ssh host key, ssh logon, sudo, winrm logon, ldap bind, epo login, tls, backup passphrase, local
    target: str  # where: address:port, URL or endpoint
    credential: str  # the reference or key used; "" where none is needed
    status: str  # ok, failed, not tried
    detail: str  # one line: what answered, or what failed and why (may hold text from the host)
    reason: str = ""  # for a failure: auth_refused, host_key_unknown, host_key_changed, tls, credential_missing, ...
    facts: dict[str, Any] = field(default_factory=dict)  # what was learnt: naming context, host key, days to expiry

    @property
    def ok(self) -> bool:
        return self.status == OK


class AccountGate:
    """One try at a time per domain account; after a refusal, no further try (each could count toward a lockout)."""

    _TRYING = "trying"

    def __init__(self) -> None:
        self._settled = threading.Condition()
        self._state: dict[tuple[str, str], str] = {}  # key -> trying | accepted | the host that refused it

    @contextmanager
    def turn(self, key: tuple[str, str] | None, host: str) -> Iterator[tuple[str | None, list[bool]]]:
        """Yields (refused_on, outcome): refused_on names the host that refused this account (then do not try);
        else try, and append True to outcome when refused, False when accepted (nothing: undecided)."""
        if key is None:
            yield None, []
            return
        with self._settled:
            while self._state.get(key) == self._TRYING:
                self._settled.wait()
            state = self._state.get(key)
            if state not in (None, "accepted"):
                refused_on = state
            else:
                refused_on = None
                if state is None:
                    self._state[key] = self._TRYING
        outcome: list[bool] = []
        try:
            yield refused_on, outcome
        finally:
            with self._settled:
                if self._state.get(key) == self._TRYING:
                    if outcome:
                        self._state[key] = host if outcome[-1] else "accepted"
                    else:
                        del self._state[key]  # unreachable or another fault: the next host tries
                self._settled.notify_all()


def check_hosts(hosts: list[Host], workers: int = WORKERS) -> list[CheckRow]:
    """Every host's rows, in the order of HOSTS; hosts are checked side by side."""
    gate = AccountGate()
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(hosts) or 1))) as pool:
        per_host = list(pool.map(lambda h: check_host(h, gate), hosts))
    return [row for rows in per_host for row in rows]


def check_host(host: Host, gate: AccountGate | None = None) -> list[CheckRow]:
    gate = gate or AccountGate()
    rows: list[CheckRow] = []
    if host.connection == "local":
        rows.append(CheckRow(host.name, "local", "this machine", "", OK, "this machine: no credential needed"))
    else:
        reach = reachable_row(host)
        rows.append(reach)
        logon = {"ssh": ssh_rows, "winrm": winrm_rows, "ldap": ldap_rows}[host.connection]
        if reach.ok:
            rows += logon(host, gate)
        else:
            rows.append(_not_tried(host, host.connection, "not tried: the host failed the reachability check"))
    if Role.DOMAIN_CONTROLLER in host.roles and host.connection != "ldap":
        rows += ldap_rows(host, gate)
    if host.epo_url:
        rows.append(epo_row(host))
    rows += [tls_row(host, e) for e in host.tls_endpoints if e.expects_tls]
    rows += passphrase_rows(host)
    return rows


def _not_tried(host: Host, connection: str, why: str) -> CheckRow:
    check = {"ssh": "ssh logon", "winrm": "winrm logon", "ldap": "ldap bind"}[connection]
    ref = host.ldap_password or host.password if connection == "ldap" else host.password
    return CheckRow(host.name, check, f"{host.address}:{host.effective_port}", _reference(ref), NOT_TRIED, why)


def _reference(ref: CredentialRef | None) -> str:
    return str(ref) if ref is not None else ""


def _resolve(ref: CredentialRef, user: str | None, host: Host) -> Secret:
    return ref.resolve(user, f"{user} on {host.name}")


def _domain_account(user: str | None, ref: CredentialRef | None) -> tuple[str, str] | None:
    """The gate's key: a domain account (DOMAIN\\user, user@domain, a DN) with a password; local accounts are per host."""
    if not user or ref is None or not any(mark in user for mark in ("\\", "@", "=")):
        return None
    return user.lower(), str(ref)


def _refused_elsewhere(host: Host, check: str, target: str, credential: str, user: str, refused_on: str) -> CheckRow:
    return CheckRow(
        host.name,
        check,
        target,
        credential,
        NOT_TRIED,
        f"{user} with {credential} was refused on {refused_on}; not tried again (each try could count toward a lockout)",
        "auth_refused",
    )


# --- reachability ---------------------------------------------------------------------------------------------------


def _logon_failed(exc: WinrmError | LdapError, user: str | None, credential: str, outcome: list[bool]) -> tuple[str, str]:
    """A failed WinRM or LDAP logon as (detail, reason); a refused account is told to the gate through OUTCOME."""
    if exc.reason == "auth_refused":
        outcome.append(True)
        return f"{user} with {credential}: {exc} (wrong password, unknown or locked account)", exc.reason
    return str(exc), exc.reason or ("unreachable" if exc.unreachable else "error")


def reachable_row(host: Host) -> CheckRow:
    from .reachability import ReachabilityCollector, describe_probe, probe_host

    CommandGuard.for_collector(ReachabilityCollector).check(describe_probe(host))
    probe = probe_host(host)
    target = f"{host.address}:{host.effective_port}"
    detail = f"{probe.detail} ({probe.seconds:.2f} s)" if probe.reachable else probe.detail  # a failure says its own time
    return CheckRow(
        host.name, "reachable", target, "", OK if probe.reachable else FAILED, detail, "" if probe.reachable else "unreachable"
    )


# --- SSH ------------------------------------------------------------------------------------------------------------


def _ssh_credential(host: Host) -> str:
    parts = [f"key {host.ssh_key_file}"] if host.ssh_key_file else []
    if host.password is not None:
        parts.append(f"password {host.password}")
    return ", ".join(parts)


@contextmanager
def _known_hosts_copy(host: Host) -> Iterator[str | None]:
    """For trust on first use: a throwaway copy of known_hosts, so an accepted key is not remembered by doctor."""
    if not host.ssh_trust_on_first_use:
        yield host.ssh_known_hosts
        return
    original = Path(host.ssh_known_hosts).expanduser() if host.ssh_known_hosts else Path.home() / ".ssh" / "known_hosts"
    with tempfile.TemporaryDirectory(prefix="auditpack-doctor-") as scratch:
        copy = Path(scratch) / "known_hosts"
        if original.exists():
            shutil.copyfile(original, copy)
        yield str(copy)


def ssh_rows(host: Host, gate: AccountGate) -> list[CheckRow]:
    from .ssh import LOGON_CHECK, SshCollector, target_of
    from .transports.ssh import SshError, SshSession

    user = host.user or "root"
    where = f"{host.address}:{host.effective_port or 22}"
    credential = _ssh_credential(host)
    known = host.ssh_known_hosts or "~/.ssh/known_hosts"
    secret = None
    if host.password is not None:  # a collection resolves it before connecting, key file or not
        try:
            secret = _resolve(host.password, host.user, host)
        except CredentialError as exc:
            return [CheckRow(host.name, "ssh logon", where, credential, FAILED, f"{host.password}: {exc}", "credential_missing")]

    def row(check: str, status: str, detail: str, reason: str = "", **facts: Any) -> CheckRow:
        return CheckRow(host.name, check, where, credential, status, detail, reason, facts)

    with _known_hosts_copy(host) as known_hosts:
        target = replace(target_of(host.model_copy(update={"password": None})), password=secret, known_hosts=known_hosts)
        if target.jump is not None:
            target = replace(target, jump=replace(target.jump, known_hosts=known_hosts))
        try:
            session = SshSession(target, guard=CommandGuard.for_collector(SshCollector))
        except SshError as exc:
            if exc.reason.startswith("host_key") or not exc.reason:
                return [
                    row("ssh host key", FAILED, str(exc), exc.reason or "connection"),
                    row("ssh logon", NOT_TRIED, "not tried: the host key was not accepted"),
                ]
            return [row("ssh host key", OK, f"accepted ({known})"), row("ssh logon", FAILED, str(exc), exc.reason)]
        with session:
            if session.trusted_on_first_use:
                key = row(
                    "ssh host key",
                    OK,
                    f"unknown to {known}: the next collection trusts it on first use (auditpack_ssh_trust_on_first_use) "
                    f"and records it: {session.host_key}",
                    host_key=session.host_key,
                    trusted_on_first_use=True,
                )
            else:
                key = row("ssh host key", OK, f"{session.host_key} matches {known}", host_key=session.host_key)
            if host.firewall_type != "linux":  # an appliance's shell runs no `id`: the logon is the test
                return [key, row("ssh logon", OK, f"logged on as {user} with {credential} (an appliance: no command run)")]
            try:
                result = session.run(LOGON_CHECK, timeout=min(SCRIPT_TIMEOUT, host.command_timeout), max_output=4096)
                sudo = [_sudo_row(session, host, row)] if host.become == "sudo" and result.exit_code == 0 else []
            except SshError as exc:
                return [key, row("ssh logon", FAILED, f"logged on as {user}, but {LOGON_CHECK!r} failed: {exc}", "command")]
    answer = result.stdout.decode("utf-8", errors="replace").strip()[:80]
    if result.exit_code != 0:
        stderr = result.stderr.decode("utf-8", errors="replace").strip()[:200]
        return [
            key,
            row(
                "ssh logon",
                FAILED,
                f"logged on as {user}, but {LOGON_CHECK!r} ended with {result.exit_code}: {stderr}",
                "command",
            ),
        ]
    return [
        key,
        row("ssh logon", OK, f"logged on as {user} with {credential}; {LOGON_CHECK!r} answered {answer!r}", account=answer),
        *sudo,
    ]


def _sudo_row(session: Any, host: Host, row: Any) -> CheckRow:
    """`sudo -n -l COMMAND` for each command the collection sends through sudo: which ones the account may not run."""
    from .ssh import SUDO_LIST, root_commands

    commands = root_commands(host)
    refused = []
    for command in commands:
        answer = session.run(SUDO_LIST + command, timeout=min(SCRIPT_TIMEOUT, host.command_timeout), max_output=65536)
        if answer.exit_code != 0:
            refused.append(command)
    if refused:
        return row(
            "sudo",
            FAILED,
            f"sudo -n refuses {len(refused)} of {len(commands)} commands: {'; '.join(refused)} "
            "(`auditpack sudoers` prints the lines; docs/service-accounts.md)",
            "sudo_refused",
        )
    return row("sudo", OK, f"sudo -n -l allows all {len(commands)} commands that need root")


# --- WinRM ----------------------------------------------------------------------------------------------------------

PASSWORDLESS_WINRM = {"kerberos": "the system's Kerberos ticket", "certificate": "a client certificate"}


def winrm_rows(host: Host, gate: AccountGate) -> list[CheckRow]:
    from .parsers.windows import logon_check
    from .transports.winrm import PywinrmTransport, WinrmError
    from .windows import WindowsCollector
    from .windows_probes import LOGON_CHECK

    endpoint = f"{host.winrm_scheme}://{host.address}:{host.effective_port}/wsman"
    credential = _reference(host.password) or PASSWORDLESS_WINRM.get(host.winrm_transport, "")

    def row(status: str, detail: str, reason: str = "", **facts: Any) -> list[CheckRow]:
        return [CheckRow(host.name, "winrm logon", endpoint, credential, status, detail, reason, facts)]

    secret = None
    if host.password is not None:  # a collection resolves it whatever the transport
        try:
            secret = _resolve(host.password, host.user, host)
        except CredentialError as exc:
            return row(FAILED, f"{host.password}: {exc}", "credential_missing")
    elif host.winrm_transport not in PASSWORDLESS_WINRM:
        return row(
            FAILED,
            f"no password referenced for {host.user} ({host.winrm_transport}): set auditpack_password",
            "credential_missing",
        )
    key = _domain_account(host.user, host.password) if secret is not None else None
    with gate.turn(key, host.name) as (refused_on, outcome):
        if refused_on is not None:
            return [_refused_elsewhere(host, "winrm logon", endpoint, credential, host.user or "", refused_on)]
        try:
            transport = PywinrmTransport(host, secret, SCRIPT_TIMEOUT, guard=CommandGuard.for_collector(WindowsCollector))
            out = transport.run_ps(LOGON_CHECK)
        except WinrmError as exc:
            return row(FAILED, *_logon_failed(exc, host.user, credential, outcome))
        outcome.append(False)
    if out.exit_code != 0:
        stderr = out.stderr.decode("utf-8", errors="replace").strip()[:200]
        return row(FAILED, f"logged on as {host.user}, but the check script ended with {out.exit_code}: {stderr}", "command")
    try:
        said = logon_check(out.stdout)
    except ValueError as exc:
        return row(FAILED, f"logged on as {host.user}, but the check script's answer could not be read: {exc}", "command")
    return row(
        OK,
        f"logged on as {host.user} with {credential}; Windows says {said['account']} on {said['computer']}"
        + (f", PowerShell {said['powershell']}" if said["powershell"] else ""),
        **said,
    )


# --- LDAP -----------------------------------------------------------------------------------------------------------


def ldap_rows(host: Host, gate: AccountGate) -> list[CheckRow]:
    from ldap3.core import exceptions as ldap_errors

    from .ad import ROOTDSE_CHECK, AdCollector, target_of
    from .transports import ldap as lt

    target = target_of(host)
    ref = host.ldap_password or host.password
    credential = "the system's Kerberos ticket (gssapi)" if target.auth == "gssapi" else _reference(ref)

    def row(status: str, detail: str, reason: str = "", **facts: Any) -> list[CheckRow]:
        return [CheckRow(host.name, "ldap bind", target.url, credential, status, detail, reason, facts)]

    secret = None
    if target.auth != "gssapi":
        if ref is None:
            return row(
                FAILED,
                f"no password referenced for the bind as {target.user}: set auditpack_ldap_password or auditpack_password",
                "credential_missing",
            )
        try:
            secret = _resolve(ref, target.user, host)
        except CredentialError as exc:
            return row(FAILED, f"{ref}: {exc}", "credential_missing")
    key = _domain_account(target.user, ref) if secret is not None else None
    with gate.turn(key, host.name) as (refused_on, outcome):
        if refused_on is not None:
            return [_refused_elsewhere(host, "ldap bind", target.url, credential, target.user or "", refused_on)]
        try:
            conn = lt.open_connection(target, secret)
        except lt.LdapError as exc:
            return row(FAILED, *_logon_failed(exc, target.user, credential, outcome))
        outcome.append(False)
    try:
        entry = lt.read_entry(conn, "", ROOTDSE_CHECK, guard=CommandGuard.for_collector(AdCollector))
    except (ldap_errors.LDAPException, OSError) as exc:
        return row(FAILED, f"bound as {target.user}, but the rootDSE could not be read: {exc}", "error")
    finally:
        conn.unbind()
    found = {name: _first(entry, name) for name in ROOTDSE_CHECK}
    context, dc = found["defaultNamingContext"], found["dnsHostName"]
    if not context:
        return row(
            FAILED, f"bound as {target.user}, but the rootDSE names no defaultNamingContext: set auditpack_ldap_base", "error"
        )
    return row(
        OK,
        f"bound as {target.user} with {credential}, TLS {target.tls_mode}; naming context {context}, DC {dc or 'not named'}",
        naming_context=context,
        dc=dc,
    )


def _first(entry: dict[str, Any] | None, name: str) -> str | None:
    values = (entry or {}).get("attributes", {}).get(name) or []
    if not values:
        return None
    return values[0].decode("utf-8", errors="replace") if isinstance(values[0], bytes) else str(values[0])


# --- ePO ------------------------------------------------------------------------------------------------------------


def epo_row(host: Host) -> CheckRow:
    import requests

    from .epo import HELP_REQUEST, EpoCollector

    console = (host.epo_url or "").rstrip("/")
    url = f"{console}/remote/core.help"
    credential = _reference(host.password)

    def row(status: str, detail: str, reason: str = "", **facts: Any) -> CheckRow:
        return CheckRow(host.name, "epo login", console, credential, status, detail, reason, facts)

    if not console.startswith("https://"):
        return row(FAILED, "the console URL must be https:// (the API uses Basic authentication)", "config")
    if host.password is None or not host.user:
        return row(FAILED, "the ePO API needs ansible_user and auditpack_password (a credential reference)", "credential_missing")
    try:
        secret = _resolve(host.password, host.user, host)
    except CredentialError as exc:
        return row(FAILED, f"{host.password}: {exc}", "credential_missing")
    try:
        CommandGuard.for_collector(EpoCollector).check(HELP_REQUEST.format(console=console))
    except CommandRefused as exc:
        return row(FAILED, str(exc), "refused")
    try:
        response = requests.get(
            url,
            auth=(host.user, secret.reveal()),
            verify=(host.tls_ca_file or True) if host.verify_tls else False,
            timeout=host.connect_timeout * 6,
        )
    except requests.exceptions.SSLError as exc:
        return row(FAILED, f"TLS with {console} failed: {_verify_message(exc)}; give the CA with auditpack_tls_ca_file", "tls")
    except requests.exceptions.RequestException as exc:
        return row(FAILED, f"cannot reach {console}: {exc.__class__.__name__}", "unreachable")
    if response.status_code == 401:
        return row(
            FAILED,
            f"{host.user} with {credential}: ePO refused the login (HTTP 401: wrong password or unknown user)",
            "auth_refused",
        )
    text = response.content.decode("utf-8", errors="replace")
    if response.status_code != 200 or not text.startswith("OK:"):
        return row(FAILED, f"HTTP {response.status_code} from {url}: {text.strip()[:120]}", "error")
    commands = {line.split(" ", 1)[0] for line in text.splitlines()[1:] if line.strip()}
    if "core.executeQuery" not in commands:
        return row(
            FAILED,
            f"logged on as {host.user}, but this account may not run core.executeQuery (not in its core.help): "
            "give it the permission to run queries",
            "permission",
        )
    return row(OK, f"logged on as {host.user} with {credential}; the account may run core.executeQuery", commands=len(commands))


def _verify_message(exc: BaseException) -> str:
    """The certificate check's own words from under requests' and urllib3's wrappers, else the error's text."""
    import ssl

    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        current = todo.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return f"certificate not accepted: {current.verify_message}"
        todo += [*current.args, current.__cause__, current.__context__, getattr(current, "reason", None)]
    return str(exc)[:200]


# --- TLS endpoints --------------------------------------------------------------------------------------------------


def tls_row(host: Host, endpoint: TlsEndpoint) -> CheckRow:
    import ssl

    from cryptography import x509

    from .tls import ENDPOINT_PROBE, TlsCollector, handshake, verifying_context

    name = host.tls_server_name or endpoint.host
    trust = f"CA file {host.tls_ca_file}" if host.tls_ca_file else "the system CAs"

    def row(status: str, detail: str, reason: str = "", **facts: Any) -> CheckRow:
        return CheckRow(host.name, "tls", str(endpoint), "", status, detail, reason, facts)

    try:
        verifying = verifying_context(host.tls_ca_file)
    except (OSError, ssl.SSLError) as exc:
        return row(FAILED, f"cannot read auditpack_tls_ca_file {host.tls_ca_file}: {exc}", "config")
    CommandGuard.for_collector(TlsCollector).check(ENDPOINT_PROBE.format(endpoint=endpoint, name=name))
    shake = handshake(endpoint, name, verifying, host.connect_timeout)
    if shake.verify_error:
        return row(FAILED, f"TLS verify failed: {shake.verify_error} (name {name}, trusted: {trust})", "tls_verify")
    if not shake.protocol or not shake.certificate:
        return row(FAILED, shake.failure or "no TLS handshake", "unreachable" if not shake.connected else "tls")
    expires = x509.load_der_x509_certificate(shake.certificate).not_valid_after_utc
    days = (expires - datetime.now(UTC)).days
    return row(
        OK,
        f"{shake.protocol}, certificate verified for {name} against {trust}; expires {expires:%Y-%m-%d} "
        f"(in {days} {'day' if days == 1 else 'days'})",
        days_left=days,
        expires=expires.isoformat(),
    )


# --- backup passphrases ---------------------------------------------------------------------------------------------


def passphrase_rows(host: Host) -> list[CheckRow]:
    rows = []
    for source in host.backups:
        if source.passphrase is None:
            continue
        found, said = source.passphrase.describe_availability(source.key)
        rows.append(
            CheckRow(
                host.name,
                "backup passphrase",
                f"{source.tool} {source.repository}",
                str(source.passphrase),
                OK if found else FAILED,
                f"{said} (looked up only: a collection opens the repository)",
                "" if found else "credential_missing",
            )
        )
    return rows
