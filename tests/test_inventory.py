from __future__ import annotations

from pathlib import Path

import pytest

from auditpack.inventory import InventoryError, Role, load_inventory, parse_inventory

DATA = Path(__file__).parent / "data"


def problems_of(text: str, tmp_path: Path) -> list:
    path = tmp_path / "site.yaml"
    path.write_text(text)
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    return caught.value.problems


# (inventory text, line, key, part of the message) — one row per kind of mistake.
MISTAKES = [
    ("all:\n  hosts:\n    a: [1, 2\n", 4, "-", "not valid YAML"),
    ("all:\n  hosts:\n    a:\n    a:\n", 4, "-", "duplicate key"),
    ("- all\n", 1, "-", "must be a mapping of groups"),
    ("all:\n  hosts:\n    a:\n      ansible_port: twenty-two\n", 4, "all.hosts.a.ansible_port", "whole number from 1 to 65535"),
    ("all:\n  hosts:\n    a:\n      ansible_port: 70000\n", 4, "all.hosts.a.ansible_port", "whole number from 1 to 65535"),
    (
        "all:\n  hosts:\n    a:\n      ansible_connection: telnet\n",
        4,
        "all.hosts.a.ansible_connection",
        "must be local, ssh, winrm or ldap",
    ),
    (
        "all:\n  hosts:\n    a:\n      ansible_password: Zomer2026!\n",
        4,
        "all.hosts.a.ansible_password",
        "literal password refused",
    ),
    (
        "all:\n  vars:\n    ansible_ssh_pass: Zomer2026!\n  hosts:\n    a:\n",
        3,
        "all.vars.ansible_ssh_pass",
        "literal password refused",
    ),
    (
        "all:\n  hosts:\n    a:\n      auditpack_password: Zomer2026!\n",
        4,
        "all.hosts.a.auditpack_password",
        "not a credential reference",
    ),
    (
        "all:\n  hosts:\n    a:\n      auditpack_rols: [server]\n",
        4,
        "all.hosts.a.auditpack_rols",
        "did you mean 'auditpack_roles'",
    ),
    (
        "all:\n  hosts:\n    a:\n      auditpack_roles: [domain_controler]\n",
        4,
        "all.hosts.a.auditpack_roles",
        "did you mean 'domain_controller'",
    ),
    ("all:\n  hosts:\n    a:\n      auditpack_timeout: -5\n", 4, "all.hosts.a.auditpack_timeout", "greater than 0"),
    ("all:\n  children:\n    dcs:\n      host:\n        a:\n", 4, "all.children.dcs.host", "did you mean 'hosts'"),
    ("all:\n  hosts:\n    - a\n    - b\n", 2, "all.hosts", "a list is not Ansible YAML inventory syntax"),
    ("all:\n  hosts:\n    a:\n      ansible_connection: winrm\n", 3, "all.hosts.a", "winrm host needs ansible_user"),
    ("all:\n  vars: [x]\n  hosts:\n    a:\n", 2, "all.vars", "variables must be a mapping"),
    ("all:\n  hosts:\n    a: just-a-string\n", 3, "all.hosts.a", "host variables must be a mapping"),
    ("all:\n  hosts: {}\n", 1, "all.hosts", "lists no hosts"),
    (
        "all:\n  hosts:\n    a:\n      ansible_password: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        6162\n",
        4,
        "all.hosts.a.ansible_password",
        "Ansible Vault values are not read",
    ),
]


@pytest.mark.parametrize("text,line,key,fragment", MISTAKES, ids=[m[3][:30] for m in MISTAKES])
def test_each_kind_of_mistake_names_file_line_and_key(text, line, key, fragment, tmp_path):
    problems = problems_of(text, tmp_path)
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.file.endswith("site.yaml")
    assert (problem.line, problem.key) == (line, key)
    assert fragment in problem.message
    assert str(problem).startswith(f"{tmp_path / 'site.yaml'}:{line}: {key}: ")


def test_all_problems_are_reported_together_and_nothing_is_returned(tmp_path):
    text = "all:\n  hosts:\n    a: {ansible_port: x}\n    b: {ansible_connection: ftp}\n    c: {auditpack_timeout: 0}\n"
    problems = problems_of(text, tmp_path)
    assert sorted(p.line for p in problems) == [3, 4, 5]


def test_literal_password_is_never_echoed(tmp_path):
    problems = problems_of("all:\n  hosts:\n    a:\n      ansible_password: S3cret-Value-42\n", tmp_path)
    assert "S3cret-Value-42" not in "\n".join(str(p) for p in problems)
    assert "env:" in problems[0].message and "keyring:" in problems[0].message and "prompt" in problems[0].message


def test_a_literal_backup_passphrase_is_refused_and_never_echoed(tmp_path):
    text = "all:\n  hosts:\n    bk01:\n      auditpack_backups:\n        - {tool: borg, repository: /srv/borg, passphrase: Zomer-2026-Geheim}\n"
    problems = problems_of(text, tmp_path)
    assert [(p.line, p.key) for p in problems] == [(4, "all.hosts.bk01.auditpack_backups")]
    assert "not a credential reference" in problems[0].message
    assert "Zomer-2026-Geheim" not in str(problems[0])


def test_existing_ansible_inventory_works_as_is():
    inventory = load_inventory(DATA / "ansible_inventory.yaml")
    hosts = {h.name: h for h in inventory.hosts}
    assert sorted(hosts) == ["bk01", "dc01", "fs01", "fw01", "localhost", "ws-001", "ws-002"]
    assert hosts["dc01"].connection == "winrm" and hosts["dc01"].effective_port == 5986
    assert hosts["dc01"].roles == {Role.DOMAIN_CONTROLLER}  # from the group name
    assert str(hosts["dc01"].password) == "env:KCDEMO_AUDIT_PASSWORD"
    assert hosts["dc01"].user == "KCDEMO\\svc-audit"
    assert hosts["fs01"].effective_port == 5985 and hosts["fs01"].winrm_scheme == "http"
    assert hosts["ws-001"].timeout == 30 and hosts["ws-002"].timeout == 45  # host beats group
    assert hosts["fw01"].roles == {Role.FIREWALL, Role.SERVER} and hosts["fw01"].connection == "ssh"
    assert hosts["fw01"].effective_port == 22 and hosts["fw01"].ssh_key_file == "~/.ssh/audit_ed25519"
    assert hosts["bk01"].roles == {Role.BACKUP_SERVER} and hosts["bk01"].port == 2222
    assert hosts["localhost"].connection == "local" and Role.LOCAL in hosts["localhost"].roles
    assert inventory.ignored_keys == ["ansible_python_interpreter"]
    assert len(inventory.sha256) == 64


def test_select_by_role_and_unknown_host():
    inventory = load_inventory(DATA / "ansible_inventory.yaml")
    assert [h.name for h in inventory.select(roles=["workstation"])] == ["ws-001", "ws-002"]
    with pytest.raises(InventoryError, match="no such host"):
        inventory.select(names=["nope"])


def test_host_names_match_without_regard_to_case():
    inventory = parse_inventory(b"all:\n  hosts:\n    WS-017:\n    fs01:\n")
    assert [h.name for h in inventory.select(names=["ws-017"])] == ["WS-017"]
    assert [h.name for h in inventory.select(names=["Ws-017", "FS01"])] == ["WS-017", "fs01"]
    with pytest.raises(InventoryError, match="no such host"):
        inventory.select(names=["ws-018"])


def test_two_hosts_that_differ_only_in_case_are_an_inventory_error(tmp_path):
    text = "all:\n  hosts:\n    ws-017:\n  children:\n    workstations:\n      hosts:\n        WS-017:\n"
    [problem] = problems_of(text, tmp_path)
    assert problem.line == 7 and problem.key == "all.children.workstations.hosts.WS-017"
    assert "differs from host 'ws-017' (line 3) only in case" in problem.message
    # the same name in two groups is one host, as in Ansible
    twice = "all:\n  hosts:\n    ws-017:\n  children:\n    workstations:\n      hosts:\n        ws-017:\n"
    assert [h.name for h in parse_inventory(twice.encode()).hosts] == ["ws-017"]


def test_the_repository_inventory_is_valid():
    inventory = load_inventory(Path(__file__).parent.parent / "inventory.yaml")
    assert any(h.connection == "local" for h in inventory.hosts)


def test_insecure_tls_switch_is_explicit():
    inventory = parse_inventory(
        b"all:\n  hosts:\n    w: {ansible_connection: winrm, ansible_user: u, ansible_winrm_server_cert_validation: ignore}\n"
    )
    assert inventory.hosts[0].tls_verify is False
    default = parse_inventory(b"all:\n  hosts:\n    w: {ansible_connection: winrm, ansible_user: u}\n")
    assert default.hosts[0].tls_verify is True
