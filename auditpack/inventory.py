"""Inventory: hosts, roles, connection settings and credential references.

The file is an Ansible YAML inventory (``all: {hosts, vars, children}``), so an
existing Ansible inventory works as is. auditpack reads the ``ansible_*``
connection variables it understands and its own ``auditpack_*`` variables;
other variables are Ansible's business and are left alone. Every problem is
reported with file, line and key, and an inventory with any problem is refused
as a whole: nothing is collected from it.
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from ruamel.yaml.comments import CommentedMap, TaggedScalar

from .credentials import REFERENCE_HELP, CredentialError, CredentialRef, parse_reference
from .yamlfile import Problem, YamlFileError, line_of_key, load_yaml


class Role(StrEnum):
    DOMAIN_CONTROLLER = "domain_controller"
    FILE_SERVER = "file_server"
    WORKSTATION = "workstation"
    SERVER = "server"
    FIREWALL = "firewall"
    BACKUP_SERVER = "backup_server"
    LOCAL = "local"


ROLE_NAMES = [r.value for r in Role]

# Inventory key -> Host field. Ansible names first, so an Ansible inventory works unchanged.
FIELD_OF_KEY = {
    "ansible_host": "address",
    "ansible_port": "port",
    "ansible_user": "user",
    "ansible_connection": "connection",
    "ansible_ssh_private_key_file": "ssh_key_file",
    "ansible_private_key_file": "ssh_key_file",
    "ansible_winrm_scheme": "winrm_scheme",
    "ansible_winrm_transport": "winrm_transport",
    "ansible_winrm_server_cert_validation": "tls_verify",
    "auditpack_roles": "roles",
    "auditpack_password": "password",
    "auditpack_timeout": "timeout",
    "auditpack_connect_timeout": "connect_timeout",
    "auditpack_command_timeout": "command_timeout",
    "auditpack_tls_ca_file": "tls_ca_file",
    "auditpack_tls_insecure": "tls_insecure",
    "auditpack_tls_server_name": "tls_server_name",
    "auditpack_ldap_scheme": "ldap_scheme",
    "auditpack_ldap_port": "ldap_port",
    "auditpack_ldap_auth": "ldap_auth",
    "auditpack_ldap_user": "ldap_user",
    "auditpack_ldap_password": "ldap_password",
    "auditpack_ldap_base": "ldap_base",
    "auditpack_ldap_page_size": "ldap_page_size",
    "auditpack_data_access_groups": "data_access_groups",
    "auditpack_epo_url": "epo_url",
    "auditpack_ssh_known_hosts": "ssh_known_hosts",
    "auditpack_ssh_trust_on_first_use": "ssh_trust_on_first_use",
    "auditpack_ssh_jump": "ssh_jump",
    "auditpack_become": "become",
    "auditpack_firewall_type": "firewall_type",
    "auditpack_firewall_wan": "firewall_wan",
    "auditpack_data_paths": "data_paths",
    "auditpack_retention_days": "retention_days",
    "auditpack_backups": "backups",
    "auditpack_tls_endpoints": "tls_endpoints",
}
CREDENTIAL_FIELDS = {"password", "ldap_password"}
AUDITPACK_KEYS = sorted(k for k in FIELD_OF_KEY if k.startswith("auditpack_"))
# Ansible keys that would hold a literal secret: refused unless they hold a reference.
SECRET_KEYS = {
    "ansible_password",
    "ansible_ssh_pass",
    "ansible_ssh_password",
    "ansible_winrm_password",
    "ansible_become_pass",
    "ansible_become_password",
    "ansible_sudo_pass",
    "ansible_httpapi_pass",
}
SECRET_KEY_WORDS = ("password", "passwd", "secret", "token")
GROUP_KEYS = ("hosts", "vars", "children")
# "ldap" is auditpack's own: a domain controller reached over LDAP only (no shell access).
CONNECTION_ALIASES = {
    "local": "local",
    "ssh": "ssh",
    "paramiko": "ssh",
    "smart": "ssh",
    "winrm": "winrm",
    "psrp": "winrm",
    "ldap": "ldap",
}
DEFAULT_PORTS = {"ssh": 22}
DEFAULT_LDAP_PORTS = {"ldaps": 636, "starttls": 389, "plain": 389}
DEFAULT_WINRM_PORTS = {"https": 5986, "http": 5985}
# TLS endpoints (T-TLS): schemes that must speak TLS from the first byte, and plaintext schemes listed
# to show whether an unencrypted variant of a service answers. A bare host:port must speak TLS.
TLS_SCHEMES = {"https": 443, "ldaps": 636, "smtps": 465, "imaps": 993, "pop3s": 995}
PLAINTEXT_SCHEMES = {"http": 80, "ldap": 389, "smtp": 25, "imap": 143, "pop3": 110}
ENDPOINT_SCHEMES = sorted([*TLS_SCHEMES, *PLAINTEXT_SCHEMES])
ENDPOINT_FORMS = "write host:port (TLS) or scheme://host[:port] (e.g. ldaps://dc01, http://epo01:8080)"
HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$")


class BackupSource(BaseModel):
    """A backup repository or report on an SSH host, read with its own tool (list commands only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    tool: Literal["borg", "restic", "log"]
    repository: str  # repository path/URL, or the report file for tool "log"
    server: str | None = None  # the server this backs up (default: the host itself)
    job: str | None = None
    passphrase: CredentialRef | None = None  # a reference; sent on stdin, never on a command line

    @field_validator("passphrase", mode="before")
    @classmethod
    def _reference(cls, value: Any) -> Any:
        return None if value is None else parse_reference(value)

    @property
    def key(self) -> str:
        """Who the passphrase belongs to: the keyring user when none is named, and what a prompt is remembered by."""
        return f"{self.tool}:{self.repository}"


class TlsEndpoint(BaseModel):
    """One endpoint the TLS probe connects to: scheme ("" for a bare host:port), host and port."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    scheme: str = ""
    host: str
    port: int = Field(ge=1, le=65535)

    @property
    def address(self) -> str:
        """host:port as evidence names it (IPv6 in brackets)."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def expects_tls(self) -> bool:
        return self.scheme not in PLAINTEXT_SCHEMES

    def __str__(self) -> str:
        return f"{self.scheme}://{self.address}" if self.scheme else self.address


def _endpoint_host(host: str | None) -> str:
    if not host:
        raise ValueError("no host name")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not HOST_NAME.match(host):
        raise ValueError(f"{host!r} is not a host name or IP address")
    return host


def parse_tls_endpoint(text: Any) -> TlsEndpoint:
    """'dc01:636', 'ldaps://dc01', 'http://[2001:db8::5]:8080' -> TlsEndpoint; ValueError says what is wrong."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"an endpoint must be text; {ENDPOINT_FORMS}")
    scheme, sep, rest = text.strip().partition("://")
    if not sep:
        scheme, rest = "", text.strip()
    scheme = scheme.lower()
    if sep and scheme not in ENDPOINT_SCHEMES:
        raise ValueError(
            f"unknown scheme {scheme!r}, expected one of {', '.join(ENDPOINT_SCHEMES)}{_did_you_mean(scheme, ENDPOINT_SCHEMES)}"
        )
    if "@" in rest:  # never echo it: it may hold a password
        raise ValueError("a user or password in an endpoint is refused: the probe sends no credentials")
    if rest.count(":") > 1 and not rest.startswith("["):
        raise ValueError(f"{text!r}: write an IPv6 address in brackets, e.g. [2001:db8::5]:443")
    parts = urlsplit("//" + rest)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{text!r}: give only scheme://host[:port]; the probe fetches no page")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port is None and not scheme:
        raise ValueError(f"{text!r} has no port; {ENDPOINT_FORMS}")
    port = {**TLS_SCHEMES, **PLAINTEXT_SCHEMES}[scheme] if port is None else port
    if not 1 <= port <= 65535:
        raise ValueError(f"{text!r}: the port must be a whole number from 1 to 65535")
    try:
        host = _endpoint_host(parts.hostname)
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None
    return TlsEndpoint(scheme=scheme, host=host, port=port)


def parse_tls_endpoints(value: Any) -> tuple[TlsEndpoint, ...]:
    """The whole list; every bad entry is named (by number and text) in one message."""
    entries = [value] if isinstance(value, (str, TlsEndpoint)) else value
    if not isinstance(entries, (list, tuple)):
        raise ValueError(f"must be a list of endpoints; {ENDPOINT_FORMS}")
    parsed: list[TlsEndpoint] = []
    problems: list[str] = []
    for number, entry in enumerate(entries, 1):
        try:
            endpoint = entry if isinstance(entry, TlsEndpoint) else parse_tls_endpoint(entry)
        except ValueError as exc:
            problems.append(f"entry {number}: {exc}")
            continue
        if any(e.address == endpoint.address for e in parsed):
            problems.append(f"entry {number}: {endpoint.address} is listed twice")
        parsed.append(endpoint)
    if problems:
        raise ValueError("; ".join(problems))
    return tuple(parsed)


class Host(BaseModel):
    """One host, after group variables were merged the way Ansible merges them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    address: str
    connection: Literal["local", "ssh", "winrm", "ldap"]
    port: int | None = Field(default=None, ge=1, le=65535)
    user: str | None = None
    password: CredentialRef | None = None
    ssh_key_file: str | None = None
    roles: frozenset[Role] = frozenset()
    groups: tuple[str, ...] = ()
    timeout: float = Field(default=120.0, gt=0, le=86400)
    connect_timeout: float = Field(default=5.0, gt=0, le=600)
    command_timeout: float = Field(default=120.0, gt=0, le=3600)  # one SSH command; stopped and recorded after this
    winrm_scheme: Literal["http", "https"] = "https"
    winrm_transport: Literal["ntlm", "kerberos", "negotiate", "credssp", "certificate"] = "ntlm"
    tls_verify: bool = True
    tls_ca_file: str | None = None
    tls_insecure: bool = False  # explicit lab switch: no certificate verification; recorded in the evidence
    tls_server_name: str | None = None  # the name the certificate must carry when the host is reached by IP
    ldap_scheme: Literal["ldaps", "starttls", "plain"] = "ldaps"
    ldap_port: int | None = Field(default=None, ge=1, le=65535)
    ldap_auth: Literal["simple", "ntlm", "gssapi"] = "simple"
    ldap_user: str | None = None
    ldap_password: CredentialRef | None = None
    ldap_base: str | None = None
    ldap_page_size: int = Field(default=500, ge=1, le=10000)
    data_access_groups: tuple[str, ...] = ()
    epo_url: str | None = None  # this host runs the anti-virus console (ePO), e.g. https://epo01:8443
    ssh_known_hosts: str | None = None  # default ~/.ssh/known_hosts; unknown keys are refused unless trusted on first use
    ssh_trust_on_first_use: bool = False  # explicit switch: accept and remember an unknown host key; recorded in the evidence
    ssh_jump: str | None = None  # user@host[:port] of a jump host, reached with the same key
    become: Literal["sudo"] | None = None  # an SSH account without root: `sudo -n` for the commands that need it
    firewall_type: Literal["linux", "pfsense", "opnsense", "fortigate"] = "linux"
    firewall_wan: tuple[str, ...] = ()  # outside interfaces/zones: traffic leaving through them is outbound
    data_paths: tuple[str, ...] = ()  # locations with personal data whose file ages show retention (O-RET)
    retention_days: int = Field(default=92, ge=1, le=3650)
    backups: tuple[BackupSource, ...] = ()
    tls_endpoints: tuple[TlsEndpoint, ...] = ()  # probed with a TLS handshake only (T-TLS)

    @field_validator("connection", mode="before")
    @classmethod
    def _alias_connection(cls, value: Any) -> Any:
        if isinstance(value, str) and value in CONNECTION_ALIASES:
            return CONNECTION_ALIASES[value]
        return value

    @field_validator("roles", mode="before")
    @classmethod
    def _roles_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        return value

    @field_validator("tls_endpoints", mode="before")
    @classmethod
    def _tls_endpoints(cls, value: Any) -> Any:
        return () if value is None else parse_tls_endpoints(value)

    @field_validator("tls_verify", mode="before")
    @classmethod
    def _ansible_cert_validation(cls, value: Any) -> Any:
        # Ansible spells it ansible_winrm_server_cert_validation: validate|ignore
        return {"validate": True, "ignore": False}.get(value, value)

    @property
    def effective_port(self) -> int | None:
        if self.port is not None:
            return self.port
        if self.connection == "winrm":
            return DEFAULT_WINRM_PORTS[self.winrm_scheme]
        if self.connection == "ldap":
            return self.effective_ldap_port
        return DEFAULT_PORTS.get(self.connection)

    @property
    def effective_ldap_port(self) -> int:
        return self.ldap_port or DEFAULT_LDAP_PORTS[self.ldap_scheme]

    @property
    def verify_tls(self) -> bool:
        return self.tls_verify and not self.tls_insecure


class InventoryError(YamlFileError):
    """An inventory that cannot be used; every problem located by file, line and key."""


@dataclass
class Inventory:
    path: str
    sha256: str
    hosts: list[Host]
    ignored_keys: list[str] = field(default_factory=list)

    def select(self, names: list[str] | None = None, roles: list[str] | None = None) -> list[Host]:
        """The hosts named (host names match without regard to case, as DNS names do) with any of the roles."""
        chosen = self.hosts
        if names:
            wanted = {n.casefold() for n in names}
            known = {h.name.casefold() for h in chosen}
            unknown = sorted(n for n in names if n.casefold() not in known)
            if unknown:
                raise InventoryError([Problem(self.path, None, n, "no such host in the inventory") for n in unknown])
            chosen = [h for h in chosen if h.name.casefold() in wanted]
        if roles:
            chosen = [h for h in chosen if any(r in h.roles for r in roles)]
        return chosen


@dataclass
class _Var:
    value: Any
    line: int | None
    path: str


@dataclass
class _HostDraft:
    name: str
    groups: list[str] = field(default_factory=list)
    group_vars: list[dict[str, _Var]] = field(default_factory=list)  # outermost group first
    host_vars: dict[str, _Var] = field(default_factory=dict)
    line: int | None = None
    path: str = ""


def _did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    hint = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean '{hint[0]}'?" if hint else ""


def _line_of(node: Any) -> int | None:
    try:
        return node.lc.line + 1
    except AttributeError:
        return None


class _Loader:
    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []
        self.drafts: dict[str, _HostDraft] = {}
        self.folded: dict[str, _HostDraft] = {}  # by casefolded name: the host first named so
        self.ignored: set[str] = set()

    def problem(self, line: int | None, key: str, message: str) -> None:
        self.problems.append(Problem(self.file, line, key, message))

    def walk_group(
        self, name: str, body: Any, path: str, line: int | None, inherited: list[dict[str, _Var]], lineage: list[str]
    ) -> None:
        if body is None:
            return  # an empty group is legal in Ansible
        if not isinstance(body, dict):
            self.problem(line, path, f"a group must be a mapping with {', '.join(GROUP_KEYS)} (got {type(body).__name__})")
            return
        for key in body:
            if key not in GROUP_KEYS:
                self.problem(
                    line_of_key(body, key),
                    f"{path}.{key}",
                    f"unknown group key, expected one of {', '.join(GROUP_KEYS)}{_did_you_mean(str(key), GROUP_KEYS)}",
                )
        own_vars = self.read_vars(body.get("vars"), f"{path}.vars", line_of_key(body, "vars"))
        chain = inherited + [own_vars]
        groups = lineage + [name]
        hosts = self.mapping_under(
            body, "hosts", path, "hosts must be a mapping of host name to variables (a list is not Ansible YAML inventory syntax)"
        )
        for host_name, host_body in hosts.items():
            self.add_host(str(host_name), host_body, f"{path}.hosts.{host_name}", line_of_key(hosts, host_name), chain, groups)
        children = self.mapping_under(body, "children", path, "children must be a mapping of group name to group")
        for child, child_body in children.items():
            self.walk_group(str(child), child_body, f"{path}.children.{child}", line_of_key(children, child), chain, groups)

    def mapping_under(self, body: dict, key: str, path: str, message: str) -> dict:
        value = body.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(line_of_key(body, key), f"{path}.{key}", message)
            return {}
        return value

    def read_vars(self, node: Any, path: str, line: int | None) -> dict[str, _Var]:
        if node is None:
            return {}
        if not isinstance(node, dict):
            self.problem(line, path, "variables must be a mapping of name to value")
            return {}
        return {str(k): _Var(v, line_of_key(node, k), f"{path}.{k}") for k, v in node.items()}

    def add_host(
        self, name: str, body: Any, path: str, line: int | None, chain: list[dict[str, _Var]], groups: list[str]
    ) -> None:
        first = self.folded.setdefault(name.casefold(), self.drafts.get(name) or _HostDraft(name, line=line, path=path))
        if first.name != name:  # host names are matched without regard to case: these two would be one host
            where = f" (line {first.line})" if first.line else ""
            self.problem(line, path, f"host {name!r} differs from host {first.name!r}{where} only in case; name it once")
            return
        draft = self.drafts.setdefault(name, first)
        if body is not None and not isinstance(body, dict):
            self.problem(line, path, "host variables must be a mapping (or empty)")
            body = None
        draft.host_vars.update(self.read_vars(body, path, line))
        for group_vars in chain:
            if group_vars not in draft.group_vars:
                draft.group_vars.append(group_vars)
        for group in groups:
            if group not in draft.groups:
                draft.groups.append(group)

    def build(self, draft: _HostDraft) -> Host | None:
        merged: dict[str, _Var] = {}
        roles: set[str] = set()
        role_sources: list[_Var] = []
        for layer in [*draft.group_vars, draft.host_vars]:
            for key, var in layer.items():
                if key == "auditpack_roles":
                    role_sources.append(var)  # roles accumulate over groups instead of overriding
                merged[key] = var
        for group in draft.groups:  # a group named after a role (or its plural) implies that role
            for role in ROLE_NAMES:
                if group in (role, role + "s"):
                    roles.add(role)
        fields: dict[str, Any] = {"name": draft.name, "groups": tuple(draft.groups)}
        field_source: dict[str, _Var] = {}
        ok = True
        for key, var in merged.items():
            if not self.check_secret_key(key, var):
                ok = False
                continue
            if key == "auditpack_roles":
                continue
            target = FIELD_OF_KEY.get(key)
            if target is None:
                if key.startswith("auditpack_"):
                    extra = _did_you_mean(key, AUDITPACK_KEYS) or f"; known keys: {', '.join(AUDITPACK_KEYS)}"
                    self.problem(var.line, var.path, f"unknown auditpack variable{extra}")
                    ok = False
                elif key.startswith("ansible_"):
                    self.ignored.add(key)
                continue
            if target in CREDENTIAL_FIELDS:
                try:
                    fields[target] = parse_reference(var.value)
                except CredentialError as exc:
                    self.problem(var.line, var.path, f"literal or malformed password refused: {exc}")
                    ok = False
                    continue
            else:
                fields[target] = var.value
            field_source[target] = var
        for var in role_sources:
            values = var.value if isinstance(var.value, list) else [var.value]
            for value in values:
                if value not in ROLE_NAMES:
                    self.problem(
                        var.line,
                        var.path,
                        f"unknown role {value!r}, expected one of {', '.join(ROLE_NAMES)}{_did_you_mean(str(value), ROLE_NAMES)}",
                    )
                    ok = False
                else:
                    roles.add(value)
        fields.setdefault("address", draft.name)  # Ansible's default: the inventory name is the address
        fields.setdefault("connection", "local" if draft.name in ("localhost", "127.0.0.1") else "ssh")
        if fields["connection"] == "local":
            roles.add(Role.LOCAL.value)
        fields["roles"] = frozenset(roles)
        if not ok:
            return None
        try:
            host = Host(**fields)
        except ValidationError as exc:
            for err in exc.errors():
                target = str(err["loc"][0]) if err["loc"] else ""
                var = field_source.get(target)
                key = var.path if var else f"{draft.path}.{target}"
                # echo only plain scalars: a list or mapping may hold a secret (a backup passphrase, say)
                # (endpoint messages name the bad entries themselves, leaving out any user:password@ in them)
                echo = (
                    var is not None
                    and isinstance(var.value, (str, int, float, bool))
                    and target not in CREDENTIAL_FIELDS
                    and target != "tls_endpoints"
                )
                got = f" (got {var.value!r})" if echo else ""
                self.problem(var.line if var else draft.line, key, f"{_plain_message(target, err)}{got}")
            return None
        if host.become and (host.connection != "ssh" or host.firewall_type == "fortigate"):
            var = field_source["become"]
            self.problem(var.line, var.path, "auditpack_become applies to SSH hosts with a shell (Linux, pfSense, OPNsense) only")
            return None
        if host.connection == "winrm" and not host.user:
            self.problem(draft.line, draft.path, "a winrm host needs ansible_user (DOMAIN\\user or user@domain)")
            return None
        return host

    def check_secret_key(self, key: str, var: _Var) -> bool:
        looks_secret = key in SECRET_KEYS or (
            any(w in key.lower() for w in SECRET_KEY_WORDS) and FIELD_OF_KEY.get(key) not in CREDENTIAL_FIELDS
        )
        if not looks_secret:
            return True
        if isinstance(var.value, TaggedScalar):
            self.problem(
                var.line, var.path, f"Ansible Vault values are not read by auditpack; {REFERENCE_HELP} under auditpack_password"
            )
            return False
        if key in SECRET_KEYS or key.startswith(("ansible_", "auditpack_")):
            # Never echo the value: it may be a real password.
            self.problem(
                var.line,
                var.path,
                f"literal password refused: auditpack never reads secrets from the inventory; {REFERENCE_HELP} under auditpack_password",
            )
            return False
        return True  # a custom Ansible variable that merely looks secret is not ours to judge


def _plain_message(target: str, err: dict[str, Any]) -> str:
    if target == "port":
        return "must be a whole number from 1 to 65535"
    if target == "connection":
        return "must be local, ssh, winrm or ldap (Ansible's paramiko/smart mean ssh, psrp means winrm)"
    if target == "ldap_port":
        return "must be a whole number from 1 to 65535"
    if target in ("timeout", "connect_timeout", "command_timeout"):
        return "must be a number of seconds greater than 0"
    if target == "tls_endpoints" and "error" in err.get("ctx", {}):
        return str(err["ctx"]["error"])  # our own message, without pydantic's "Value error," prefix
    return err["msg"]


def load_inventory(path: str | Path) -> Inventory:
    path = Path(path)
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InventoryError([Problem(file, None, "-", f"cannot read inventory: {exc.strerror}")]) from None
    return parse_inventory(data, file)


def parse_inventory(data: bytes, file: str = "inventory.yaml") -> Inventory:
    try:
        doc = load_yaml(data, file)
    except YamlFileError as exc:
        raise InventoryError(exc.problems) from None
    loader = _Loader(file)
    if not isinstance(doc, CommentedMap):
        raise InventoryError([Problem(file, 1, "-", "the inventory must be a mapping of groups, starting with 'all:'")])
    for group, body in doc.items():
        loader.walk_group(str(group), body, str(group), line_of_key(doc, group), [], [])
    hosts = [h for h in (loader.build(d) for d in loader.drafts.values()) if h is not None]
    if not loader.drafts and not loader.problems:
        loader.problem(1, "all.hosts", "the inventory lists no hosts")
    if loader.problems:
        raise InventoryError(loader.problems)
    return Inventory(file, hashlib.sha256(data).hexdigest(), hosts, sorted(loader.ignored))
