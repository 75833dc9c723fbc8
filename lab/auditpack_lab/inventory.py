"""The lab's inventory.yaml: the same Ansible-style file a real site writes, pointing at the lab's peers."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from . import layout
from .company import COMPANY_NAME, DOMAIN, Company


@dataclass
class LabHosts:
    """What the builders and peers report back, for the inventory."""

    ldap_ca_file: Path
    ldap_server_name: str
    ldap_bind_user: str
    data_access_groups: list[str]
    ssh_key_file: Path
    ssh_ports: dict[str, int]
    known_hosts: Path
    firewall_vars: dict[str, Any]
    backups: list[dict[str, Any]]
    fs01_data_paths: list[str]
    epo_url: str
    epo_ca_file: Path


def windows_addresses(company: Company) -> dict[str, str]:
    """Every Windows host of the lab (the WinRM peers) and its address."""
    servers = {"dc01": layout.DOMAIN_CONTROLLER, "fs01": layout.FILE_SERVER, "epo01": layout.AV_CONSOLE}
    return servers | {w.name: layout.workstation_address(n) for n, w in enumerate(company.workstations, start=1)}


def _winrm(address: str, **extra: Any) -> dict[str, Any]:
    return {
        "ansible_host": address,
        "ansible_connection": "winrm",
        "ansible_port": layout.WINRM_PORT,
        "ansible_winrm_scheme": "http",
        "ansible_user": f"{DOMAIN}\\{layout.AUDIT_ACCOUNT}",
        **extra,
    }


def ssh_account() -> dict[str, Any]:
    """How the lab's SSH hosts are logged on to: the audit account without root, sudo for what needs it."""
    return {"ansible_user": layout.AUDIT_ACCOUNT, "auditpack_become": "sudo"}


def sudoers_of(name: str, **host_vars: Any) -> str:
    """The sudoers file an SSH host of the lab gets: docs/service-accounts.md's lines for this host's commands."""
    from auditpack.collectors.sudoers import sudoers_for
    from auditpack.inventory import parse_inventory

    document = {"all": {"hosts": {name: {"ansible_host": "127.0.0.1", **ssh_account(), **host_vars}}}}
    text = io.StringIO()
    YAML().dump(document, text)
    [host] = parse_inventory(text.getvalue().encode()).hosts
    return sudoers_for(host)


def _ssh(name: str, address: str, hosts: LabHosts, **extra: Any) -> dict[str, Any]:
    return {
        "ansible_host": address,
        "ansible_port": hosts.ssh_ports[name],
        **ssh_account(),
        "ansible_ssh_private_key_file": str(hosts.ssh_key_file),
        **extra,
    }


def inventory_document(company: Company, hosts: LabHosts) -> dict[str, Any]:
    dc = _winrm(
        layout.DOMAIN_CONTROLLER,
        auditpack_ldap_user=hosts.ldap_bind_user,
        auditpack_tls_ca_file=str(hosts.ldap_ca_file),
        auditpack_tls_server_name=hosts.ldap_server_name,
        auditpack_data_access_groups=list(hosts.data_access_groups),
        auditpack_tls_endpoints=[f"ldaps://{layout.DOMAIN_CONTROLLER}:636"],
    )
    addresses = windows_addresses(company)
    workstations = {w.name: _winrm(addresses[w.name]) for w in company.workstations}
    return {
        "all": {
            "vars": {
                "auditpack_password": f"env:{layout.PASSWORD_ENV}",
                "auditpack_ssh_known_hosts": str(hosts.known_hosts),
                "auditpack_timeout": 300,
            },
            "children": {
                "domain_controllers": {"hosts": {"dc01": dc}},
                "file_servers": {"hosts": {"fs01": _winrm(layout.FILE_SERVER, auditpack_data_paths=hosts.fs01_data_paths)}},
                "firewalls": {"hosts": {"fw01": _ssh("fw01", layout.FIREWALL, hosts, **hosts.firewall_vars)}},
                "backup_servers": {
                    "hosts": {"backup01": _ssh("backup01", layout.BACKUP_SERVER, hosts, auditpack_backups=hosts.backups)}
                },
                "av_console": {
                    "hosts": {
                        "epo01": _winrm(
                            layout.AV_CONSOLE,
                            auditpack_epo_url=hosts.epo_url,
                            auditpack_tls_ca_file=str(hosts.epo_ca_file),
                            auditpack_tls_endpoints=[hosts.epo_url],
                        )
                    }
                },
                "workstations": {"hosts": workstations},
            },
        }
    }


def write_inventory(company: Company, hosts: LabHosts, path: Path) -> Path:
    yaml = YAML()
    yaml.default_flow_style = False
    text = io.StringIO()
    yaml.dump(inventory_document(company, hosts), text)
    header = (
        f"# {COMPANY_NAME}: the demo lab's inventory, written by `auditpack lab up` (seed {company.seed}, "
        f"built {company.built.isoformat()}).\n# Every address is a loopback address of this machine; the "
        f"passwords are read from ${layout.PASSWORD_ENV} and ${layout.BORG_ENV}.\n"
    )
    path.write_text(header + text.getvalue())
    return path
