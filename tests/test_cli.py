"""The command line as a user meets it: help, exit codes, errors (doctor against real peers: tests/test_doctor.py)."""

from __future__ import annotations

import re
import subprocess

import pytest

from auditpack_lab.peers.sockets import refused_port
from conftest import auditpack_bin

COMMANDS = [
    "collect",
    "check",
    "report",
    "verify",
    "doctor",
    "demo",
    "controls",
    "attach",
    "import register",
    "import evtx",
    "import auditpol",
    "import egress-register",
    "import firewall",
    "firewall-diff",
    "sample",
    "pack",
    "diff",
    "reveal",
    "schedule",
    "schedule install",
    "schedule status",
    "schedule remove",
    "notify run",
    "notify test",
    "lab",
    "lab up",
    "lab down",
    "lab status",
    "config",
    "config show",
    "config init",
]


def run(args, cwd, env, timeout=120):
    return subprocess.run([auditpack_bin(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command, tmp_path, cli_env):
    done = run([*command.split(), "--help"], tmp_path, cli_env)
    assert done.returncode == 0
    assert "Example" in done.stdout and f"auditpack {command}" in done.stdout


def test_invalid_inventory_exits_2_and_collects_nothing(tmp_path, cli_env):
    (tmp_path / "site.yaml").write_text("all:\n  hosts:\n    a: {ansible_port: x}\n    b: {ansible_password: Welkom01}\n")
    done = run(["collect", "-i", "site.yaml", "--store", "ev"], tmp_path, cli_env)
    assert done.returncode == 2
    assert "site.yaml:3: all.hosts.a.ansible_port:" in done.stderr
    assert "site.yaml:4: all.hosts.b.ansible_password: literal password refused" in done.stderr
    assert "Welkom01" not in done.stderr + done.stdout
    assert not (tmp_path / "ev").exists()


def test_partial_run_exit_codes(tmp_path, cli_env):
    port = refused_port()
    (tmp_path / "inventory.yaml").write_text(
        f"all:\n  hosts:\n    localhost:\n    gone: {{ansible_host: 127.0.0.1, ansible_port: {port}}}\n"
    )
    collected = run(["collect"], tmp_path, cli_env)  # ./inventory.yaml is picked up by default
    assert collected.returncode == 1
    assert "gone" in collected.stdout and "unreachable" in collected.stdout and "partial" in collected.stdout
    checked = run(["check"], tmp_path, cli_env)
    assert checked.returncode == 1  # a partial run is a finding, not an error: the rule is the same for every command
    verified = run(["verify"], tmp_path, cli_env)
    assert verified.returncode == 0 and "2 runs" in verified.stdout


def test_the_console_speaks_the_language_asked_for(tmp_path, cli_env):
    """Table titles, headers, host states and notes follow --lang (before: the run's and the catalogue's stayed English)."""
    port = refused_port()
    (tmp_path / "inventory.yaml").write_text(
        f"all:\n  hosts:\n    localhost:\n    gone: {{ansible_host: 127.0.0.1, ansible_port: {port}}}\n"
    )
    env = {**cli_env, "COLUMNS": "250"}  # no header wraps
    checked = run(["check", "--lang", "nl"], tmp_path, env)
    assert checked.returncode == 1, checked.stderr
    for said in (
        "Verzamelronde 1 · ",
        "┃ host ",
        "┃ bewijsstukken ┃ seconden ┃ problemen",
        "│ onbereikbaar",
        "gedeeltelijk",
        "maatregel",
    ):
        assert said in checked.stdout, said
    headers = next(line for line in checked.stdout.splitlines() if "seconden" in line)
    assert not {"items", "seconds", "problems"} & set(re.findall(r"\w+", headers))
    listed = {lang: run(["controls", "--lang", lang], tmp_path, env).stdout for lang in ("nl", "en")}
    assert "22 maatregelen" in listed["nl"] and "frequentie" in listed["nl"] and "verwijzingen" in listed["nl"]
    assert "│ dagelijks " in listed["nl"] and "│ daily " not in listed["nl"] and "references" not in listed["nl"]
    assert "22 controls" in listed["en"] and "frequency" in listed["en"] and "│ daily " in listed["en"]


def test_verify_names_a_damaged_blob_and_exits_1(tmp_path, cli_env):
    assert run(["collect"], tmp_path, cli_env).returncode in (0, 1)
    blob = next(p for p in (tmp_path / "evidence" / "blobs").rglob("*") if p.is_file())
    blob.write_bytes(blob.read_bytes() + b"!")
    done = run(["verify"], tmp_path, cli_env)
    assert done.returncode == 1
    assert blob.name in done.stdout and "NOT intact" in done.stdout


def test_verify_of_a_non_store_exits_2(tmp_path, cli_env):
    done = run(["verify", "--store", "nothing-here"], tmp_path, cli_env)
    assert done.returncode == 2 and "not an auditpack evidence store" in done.stderr


def test_report_period_options_are_checked(tmp_path, cli_env):
    assert run(["collect"], tmp_path, cli_env).returncode in (0, 1)
    both = run(["report", "--period", "2026", "--from", "2026-01-01", "--to", "2026-02-01"], tmp_path, cli_env)
    assert both.returncode == 2 and "either --period or --from/--to" in both.stderr
    backwards = run(["report", "--from", "2026-03-01", "--to", "2026-02-01"], tmp_path, cli_env)
    assert backwards.returncode == 2 and "lies before" in backwards.stderr
    empty_year = run(["report", "--period", "2001", "--lang", "en"], tmp_path, cli_env)
    assert empty_year.returncode == 1  # every control "not evidenced": the report is written, and it is not all fine
    html = (tmp_path / "reports-out" / "report-20010101-20011231-en.html").read_text()
    assert "No collection runs in this period" in html and "Not evidenced" in html


def test_lab_status_and_down_name_a_missing_lab(tmp_path, cli_env):
    status = run(["lab", "status", "--dir", "nolab"], tmp_path, cli_env)
    assert status.returncode == 2 and "No lab is running in nolab" in status.stderr
    down = run(["lab", "down", "--dir", "nolab"], tmp_path, cli_env)
    assert down.returncode == 0 and "No lab is running in nolab" in down.stdout


def test_demo_and_lab_never_empty_a_directory_they_did_not_make(tmp_path, cli_env):
    for name in ("work", "lab"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "keep.txt").write_text("mine")
    demo = run(["demo", "--workdir", "work"], tmp_path, cli_env)
    assert demo.returncode == 2 and "not empty and was not made by auditpack" in demo.stderr
    lab = run(["lab", "up", "--dir", "lab"], tmp_path, cli_env)
    assert lab.returncode == 2 and ("not empty and was not made by auditpack" in lab.stderr or "cannot run here" in lab.stderr)
    assert (tmp_path / "work" / "keep.txt").read_text() == (tmp_path / "lab" / "keep.txt").read_text() == "mine"


def test_egress_register_with_a_mistake_is_refused_by_line_and_key(tmp_path, cli_env):
    (tmp_path / "egress.yaml").write_text(
        "entries:\n  - {device: fw01, service: tcp/443, reason: CRM}\n"
        "  - {device: fw01, service: any, reason: everything}\n  - {device: fw01, reason: DNS}\n"
    )
    done = run(["import", "egress-register", "egress.yaml", "--store", "ev"], tmp_path, cli_env)
    assert done.returncode == 2, done.stderr
    assert "egress.yaml:3: entries.1" in done.stderr and "'any' is not a justification" in done.stderr
    assert "egress.yaml:4: entries.2" in done.stderr and "needs a rule, service or port" in done.stderr
    from auditpack.store import EvidenceStore

    assert not (tmp_path / "ev").exists() or EvidenceStore(tmp_path / "ev").items(kinds=["register.egress"]) == []
    (tmp_path / "egress.yaml").write_text("entries:\n  - {device: fw01, service: tcp/443, reason: CRM}\n")
    done = run(["import", "egress-register", "egress.yaml", "--store", "ev"], tmp_path, cli_env)
    assert done.returncode == 0 and "Stored 1 egress reasons" in done.stdout


def test_firewall_backup_file_is_imported_as_that_devices_rules(tmp_path, cli_env):
    from conftest import corpus_file

    config = corpus_file("firewall/pfsense__pfsense/config.xml")
    done = run(["import", "firewall", str(config), "--type", "pfsense", "--device", "fw01", "--store", "ev"], tmp_path, cli_env)
    assert done.returncode == 0, done.stderr
    assert "rules of fw01 (default inbound drop, outbound" in done.stdout
    (tmp_path / "broken.xml").write_bytes(config.read_bytes()[:500])
    done = run(["import", "firewall", "broken.xml", "--type", "opnsense", "--device", "fw01", "--store", "ev"], tmp_path, cli_env)
    assert done.returncode != 0 and "could not be read as opnsense (nothing was stored)" in done.stderr
