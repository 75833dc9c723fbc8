"""`auditpack import …` and `attach`: evidence that arrives as files (registers, event logs, firewall backups, documents)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from auditpack.errors import AuditpackError

from .shared import LazyChoice, Outcome, check_control_ids, console, open_store, operator_option, store_option

existing_file = click.Path(dir_okay=False, exists=True, path_type=Path)


def _register_names() -> list[str]:
    from auditpack.collectors.parsers.registers import REGISTERS

    return sorted(REGISTERS)


def _firewall_types() -> list[str]:
    from auditpack.imports import FIREWALL_CONFIG_PARSERS

    return sorted(FIREWALL_CONFIG_PARSERS)


@click.group(name="import")
def import_group() -> None:
    """Import evidence kept in files (registers, event logs, firewall backups) into the evidence store.

    \b
    Examples:
      auditpack import register hr_leavers uitdienst-2026.xlsx
      auditpack import evtx dc01-security.evtx --host dc01
    Exit codes: 0 stored, 1 stored with errors (part of a file unreadable), 2 nothing stored.
    """


@import_group.command(name="register")
@click.argument("name", type=LazyChoice(_register_names))
@click.argument("file", type=existing_file)
@store_option
@operator_option
def import_register_command(name: str, file: Path, store_path: Path, operator: str) -> Outcome:
    """Validate a CSV or XLSX register and store it as evidence.

    Every problem is reported with its row and column, and nothing is stored
    from a register with problems. The file is kept byte for byte.

    \b
    Examples:
      auditpack import register hr_leavers uitdienst-2026.xlsx
      auditpack import register restore_tests restore-log.csv
    Exit codes: 0 stored, 2 the register has problems (nothing stored).
    """
    from auditpack.collectors.parsers.registers import RegisterError
    from auditpack.imports import import_register

    store = open_store(store_path, create=True)
    try:
        ref, meta, normalized = import_register(store, name, file, operator)
    except RegisterError as exc:
        raise AuditpackError(f"Register {file} (nothing was stored)", exc.problems) from None
    console.print(
        f"Stored {len(normalized['rows'])} rows of {name} as item {meta['id']} (sha256 {meta['raw']['sha256']}) "
        f"in run {ref.seq}.",
        soft_wrap=True,
        markup=False,
    )
    if normalized.get("ignored_columns"):
        console.print(f"Columns not used: {', '.join(normalized['ignored_columns'])}", style="yellow", markup=False)
    return Outcome.OK


@import_group.command(name="evtx")
@click.argument("files", nargs=-1, required=True, type=existing_file)
@click.option("--host", "host_name", metavar="NAME", help="The host the logs come from (default: the computer named in the log).")
@store_option
@operator_option
def import_evtx_command(files: tuple[Path, ...], host_name: str | None, store_path: Path, operator: str) -> Outcome:
    """Import Windows event logs exported as EVTX (Security, Defender) from hosts that cannot be reached.

    Produces the same daily event counts, log clears, policy changes, account
    disables and anti-virus detections as the live WinRM probe. The files are
    kept whole; a damaged file gives what can be read plus the errors.

    \b
    Examples:
      auditpack import evtx dc01-security-2026.evtx --host dc01
      auditpack import evtx ws-017-defender.evtx
    Exit codes: 0 stored, 1 stored but part of a file could not be read, 2 nothing stored.
    """
    from auditpack.imports import import_evtx

    store = open_store(store_path, create=True)
    try:
        ref, body = import_evtx(store, list(files), host_name, operator)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    for item in body["items"]:
        console.print(f"{item['host']}: {item['kind']} (item {item['id']})", soft_wrap=True, markup=False)
        for error in item["errors"][:5]:
            console.print(f"  {error}", style="yellow", soft_wrap=True, highlight=False, markup=False)
    console.print(f"Stored in run {ref.seq}.")
    return Outcome.FINDINGS if any(i["errors"] for i in body["items"]) else Outcome.OK


@import_group.command(name="egress-register")
@click.argument("file", type=existing_file)
@store_option
@operator_option
def import_egress_command(file: Path, store_path: Path, operator: str) -> Outcome:
    """Store the egress register: why each device may send traffic out (T-FWP).

    A YAML file you keep, one entry per reason. An entry names the device and a
    rule id, a service ("tcp/443", "udp/7078-7097", "icmp") or a port, and the
    reason. Outbound allow rules that no entry covers are reported by T-FWP;
    each collection is held against the register as last imported by its date.

    \b
    Example file:
      entries:
        - {device: fw01, service: tcp/443, reason: "Customer CRM (SaaS) over HTTPS"}
        - {device: fw01, port: 53, reason: "DNS to the provider's resolvers"}
        - {device: fw01, rule: "inet/filter/forward/12", reason: "Telephony platform, ticket CHG-2291"}
    \b
    Example:
      auditpack import egress-register egress-register.yaml
    Exit codes: 0 stored, 2 the file has problems (nothing stored).
    """
    from auditpack.imports import import_egress_register
    from auditpack.yamlfile import YamlFileError

    store = open_store(store_path, create=True)
    try:
        ref, meta, normalized = import_egress_register(store, file, operator)
    except YamlFileError as exc:
        raise AuditpackError(f"Egress register {file} (nothing was stored)", exc.problems) from None
    console.print(
        f"Stored {len(normalized['entries'])} egress reasons as item {meta['id']} "
        f"(sha256 {meta['raw']['sha256']}) in run {ref.seq}.",
        soft_wrap=True,
        markup=False,
    )
    return Outcome.OK


@import_group.command(name="firewall")
@click.argument("file", type=existing_file)
@click.option(
    "--type",
    "config_type",
    type=LazyChoice(_firewall_types),
    required=True,
    help="What the file is: a config.xml backup (pfsense/opnsense), a FortiGate config backup, "
    "`nft -j list ruleset` output or `iptables-save` output.",
)
@click.option("--device", required=True, metavar="NAME", help="The firewall's name, as in the inventory and the egress register.")
@click.option(
    "--wan", multiple=True, metavar="IFACE", help="An outside interface or zone (repeatable); default for pfSense/OPNsense: wan."
)
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The day the backup was made (YYYY-MM-DD); default: the date in the file "
    "(pfSense/OPNsense revision time, iptables-save's time), else today.",
)
@store_option
@operator_option
def import_firewall_command(
    file: Path, config_type: str, device: str, wan: tuple[str, ...], day: datetime | None, store_path: Path, operator: str
) -> Outcome:
    """Store a firewall configuration backup as that device's ruleset, for firewalls not reached over SSH.

    The backup counts as a collection of the device on the day it was made
    (T-FWP, firewall-diff): --date, else the date the file carries, else today.
    The command says which day it used and why.

    \b
    Examples:
      auditpack import firewall config-fw01-20261101.xml --type pfsense --device fw01
      auditpack import firewall fgt-backup.conf --type fortigate --device fgt01 --wan wan1 --date 2026-11-01
    Exit codes: 0 stored, 2 the file cannot be read as that type or is dated after today (nothing stored).
    """
    from auditpack.imports import FutureDateError, import_firewall_config

    store = open_store(store_path, create=True)
    try:
        ref, meta, normalized, why = import_firewall_config(
            store, file, config_type, device, wan, operator, day.date() if day else None
        )
    except FutureDateError as exc:
        raise AuditpackError(f"{file} was not stored: {exc}") from None
    except ValueError as exc:
        raise AuditpackError(f"{file} could not be read as {config_type} (nothing was stored): {exc}") from None
    console.print(
        f"Stored {len(normalized['rules'])} rules of {device} (default inbound {normalized['default_inbound']}, "
        f"outbound {normalized['default_outbound']}) as item {meta['id']} in run {ref.seq}; {why}.",
        soft_wrap=True,
        markup=False,
    )
    return Outcome.OK


@click.command()
@click.argument("control_id", metavar="CONTROL")
@click.argument("file", type=existing_file)
@click.option(
    "--date", "day", type=click.DateTime(["%Y-%m-%d"]), required=True, help="The date the document evidences (YYYY-MM-DD)."
)
@click.option("--note", required=True, help="What the document shows, in a sentence.")
@store_option
@operator_option
def attach(control_id: str, file: Path, day: datetime, note: str, store_path: Path, operator: str) -> Outcome:
    """Store a document (PDF, photo, e-mail export) as hashed manual evidence for a control.

    \b
    Example:
      auditpack attach T-CON-2 continuity-review-2026.pdf --date 2026-05-12 --note "Yearly review by Example ICT BV"
    Exit codes: 0 stored, 2 unusable input (unknown control, unreadable file).
    """
    from auditpack.imports import attach_document

    check_control_ids((control_id,))
    store = open_store(store_path, create=True)
    ref, meta = attach_document(store, control_id, file, day.date(), note, operator)
    console.print(
        f"Attached {file.name} to {control_id} as item {meta['id']} (sha256 {meta['raw']['sha256']}) in run {ref.seq}.",
        soft_wrap=True,
        markup=False,
    )
    return Outcome.OK


COMMANDS = (import_group, attach)
