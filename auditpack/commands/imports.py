"""`auditpack import …` and `attach`: evidence that arrives as files (registers, event logs, firewall backups, documents)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from auditpack.errors import AuditpackError

if TYPE_CHECKING:
    from auditpack.imports import EvtxFileReport, Provenance
    from auditpack.store import EvidenceStore

from .shared import LazyChoice, Outcome, check_control_ids, console, open_store, operator_option, provenance_options, store_option

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
      auditpack import auditpol dc02-auditpol.csv --host dc02 --date 2026-11-02
    Exit codes: 0 stored, 1 stored with errors (part of a file unreadable), 2 nothing stored.
    """


def provenance_from(source: str | None, exported: datetime | None) -> Provenance:
    """--source/--exported as the import records them; an export cannot be dated after today."""
    from auditpack.imports import Provenance

    if exported is not None and exported.date() > date.today():
        raise click.BadParameter(
            f"{exported.date()} lies after today: a file cannot have been exported then", param_hint="--exported"
        )
    return Provenance(source.strip() if source and source.strip() else None, exported.date() if exported else None)


@import_group.command(name="register")
@click.argument("name", type=LazyChoice(_register_names))
@click.argument("file", type=existing_file)
@provenance_options
@store_option
@operator_option
def import_register_command(
    name: str, file: Path, source: str | None, exported: datetime | None, store_path: Path, operator: str
) -> Outcome:
    """Validate a CSV or XLSX register and store it as evidence.

    Every problem is reported with its row and column, and nothing is stored
    from a register with problems. The file is kept byte for byte.

    \b
    Examples:
      auditpack import register hr_leavers uitdienst-2026.xlsx
      auditpack import register restore_tests restore-log.csv
      auditpack import register hr_leavers uit-dienst.xlsx --source AFAS --exported 2027-01-04
    Exit codes: 0 stored, or the same as the register's newest import (nothing stored then),
    2 the register has problems (nothing stored).
    """
    from auditpack.collectors.parsers.registers import RegisterError
    from auditpack.imports import read_register, store_register

    provenance = provenance_from(source, exported)
    try:
        raw, normalized = read_register(name, file, provenance)
    except RegisterError as exc:
        raise AuditpackError(f"Register {file} (nothing was stored)", exc.problems) from None
    store = open_store(store_path, create=True)
    if _already_imported(store, f"register.{name}", file, raw, normalized):
        return Outcome.OK
    ref, meta = store_register(store, name, file.name, raw, normalized, operator)
    console.print(
        f"Stored {len(normalized['rows'])} rows of {name} as item {meta['id']} (sha256 {meta['raw']['sha256']}) "
        f"in run {ref.seq}.",
        soft_wrap=True,
        markup=False,
    )
    if normalized.get("ignored_columns"):
        console.print(f"Columns not used: {', '.join(normalized['ignored_columns'])}", style="yellow", markup=False)
    return Outcome.OK


def _already_imported(store: EvidenceStore, kind: str, file: Path, raw: bytes, normalized: dict) -> bool:
    """Say so when the register's newest import holds the same file: storing it again would add only a copy."""
    from auditpack.imports import same_as_newest

    same = same_as_newest(store, kind, raw, normalized)
    if same is not None:
        console.print(
            f"{file.name} is the same as the {kind.removeprefix('register.')} register imported in run {same.run_seq} "
            f"(item {same.id}, {same.started[:10]}): nothing was stored.",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )
    return same is not None


@import_group.command(name="evtx")
@click.argument("files", nargs=-1, required=True, type=existing_file)
@click.option(
    "--host",
    "host_name",
    metavar="NAME",
    help="The host the logs come from: every item of the files is that host's (default: the computer named in the log).",
)
@store_option
@operator_option
def import_evtx_command(files: tuple[Path, ...], host_name: str | None, store_path: Path, operator: str) -> Outcome:
    """Import Windows event logs exported as EVTX (Security, System, Defender, Windows Firewall) from hosts that cannot be reached.

    Produces the same daily event counts, log clears (1102, System 104), audit
    policy changes (4719, per subcategory), account changes (4720/4726/4728/
    4732/4756), account disables, anti-virus detections (1116-1119) and Defender health
    reports (1151, as of their day) as the live WinRM probe, and the Windows
    Firewall's setting and rule changes (2003-2006, 2033, 4950). The files are
    kept whole; a damaged file gives what can be read plus the errors. Prints
    per file what was found and what could not be used.

    \b
    Examples:
      auditpack import evtx dc01-security-2026.evtx --host dc01
      auditpack import evtx ws-017-defender.evtx ws-017-firewall.evtx --host ws-017
    Exit codes: 0 stored, 1 stored but part of a file could not be read, or nothing in the files could be used,
    2 nothing stored (not EVTX, or whose host is unclear).
    """
    from auditpack.imports import import_evtx

    store = open_store(store_path, create=True)
    try:
        ref, body, reports = import_evtx(store, list(files), host_name, operator)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    for report in reports:
        _print_evtx_report(report)
    console.print(f"Stored in run {ref.seq}.")
    if not any(r.used for r in reports):
        console.print("Nothing in these files could be used by a control.", style="yellow")
        return Outcome.FINDINGS
    return Outcome.FINDINGS if any(i["errors"] for i in body["items"]) else Outcome.OK


def _print_evtx_report(report: EvtxFileReport) -> None:
    summary, days = report.summary, report.days
    span = f"{days[0]} to {days[-1]} ({len(days)} days)" if days else "no day"
    logged = ", ".join(summary.hosts) or "none"
    console.print(
        f"{report.path.name}: {summary.records} records read, {span}, host {report.host} (computers in the log: {logged})",
        soft_wrap=True,
        markup=False,
    )
    found = [f"{n} {what}" for what, n in report.notable.items() if n]
    console.print(f"  found: {', '.join(found) or 'nothing the controls read'}", soft_wrap=True, markup=False)
    if summary.health:
        console.print(
            f"  health reports: {summary.health_reports} read, the latest of each day kept ({len(summary.health)} day(s))",
            soft_wrap=True,
            markup=False,
        )
    for item in report.items:
        console.print(f"  {item['kind']} (item {item['id']})", soft_wrap=True, highlight=False, markup=False)
    if summary.unused_channels:
        other = ", ".join(f"{n} of {channel}" for channel, n in summary.unused_channels.items())
        console.print(f"  records of other events, not used: {other}", style="yellow", soft_wrap=True, markup=False)
    if summary.errors:
        console.print(f"  unreadable: {len(summary.errors)} problem(s):", style="yellow", markup=False)
    for error in summary.errors[:5]:
        console.print(f"    {error}", style="yellow", soft_wrap=True, highlight=False, markup=False)


@import_group.command(name="auditpol")
@click.argument("file", type=existing_file)
@click.option("--host", "host_name", required=True, metavar="NAME", help="The server the export was made on.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), required=True, help="The day the export was made (YYYY-MM-DD).")
@store_option
@operator_option
def import_auditpol_command(file: Path, host_name: str, day: datetime, store_path: Path, operator: str) -> Outcome:
    """Import a saved audit policy (auditpol export) of a server that cannot be reached, for T-LOG-1.

    Reads `auditpol /backup /file:F` CSV (by its numeric Setting Value) and
    `auditpol /get /category:* /r` CSV (by its Inclusion Setting, in English,
    Dutch, German or French), as UTF-16 or UTF-8, with or without the console's
    code-page line; subcategories are keyed on their GUID. Saved English
    `auditpol /get /category:*` text is read too. The policy counts as that
    server's on --date, as if it had been read then.

    \b
    Examples:
      auditpol /backup /file:dc02-auditpol.csv   (on the server, as administrator)
      auditpack import auditpol dc02-auditpol.csv --host dc02 --date 2026-11-02
    Exit codes: 0 stored, 1 the export holds no subcategory (nothing stored), 2 not an auditpol export or a
    date in the future (nothing stored).
    """
    from auditpack.controls.model import load_catalogue
    from auditpack.imports import import_auditpol, parse_auditpol_export

    if day.date() > date.today():
        raise AuditpackError(f"--date {day.date()} is in the future: an export cannot speak for a day that has not come")
    try:
        found = parse_auditpol_export(file.read_bytes())
    except ValueError as exc:
        raise AuditpackError(f"{file} could not be read as an auditpol export (nothing was stored): {exc}") from None
    subcategories = found["subcategories"]
    if not subcategories:
        console.print(f"{file.name}: no subcategory in the export; nothing stored.", style="yellow", markup=False)
        return Outcome.FINDINGS
    store = open_store(store_path, create=True)
    ref, meta, normalized = import_auditpol(store, file, host_name, day.date(), operator)
    required = load_catalogue()["T-LOG-1"].parameter_values(None)["required_subcategories"]
    short = [r["name"] for r in required if not _meets(subcategories.get(r["guid"].lower().strip("{}"), {}), r)]
    form = {"backup": "/backup CSV", "r": "/r CSV", "csv": "CSV"}.get(normalized.get("form", ""), "/get text")
    console.print(
        f"Stored the audit policy of {host_name} as of {day.date()} ({form}, {len(subcategories)} subcategories) "
        f"as item {meta['id']} in run {ref.seq}.",
        soft_wrap=True,
        markup=False,
    )
    console.print(
        f"T-LOG-1: {len(required) - len(short)} of the {len(required)} required subcategories meet the required settings"
        + (f"; not: {', '.join(short)}" if short else "."),
        soft_wrap=True,
        markup=False,
    )
    return Outcome.OK


def _meets(have: dict, required: dict) -> bool:
    return all(have.get(kind) for kind in ("success", "failure") if required[kind])


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
    Exit codes: 0 stored, or the same as the newest import (nothing stored then), 2 the file has problems.
    """
    from auditpack.imports import read_egress_register, store_egress_register
    from auditpack.yamlfile import YamlFileError

    try:
        raw, normalized = read_egress_register(file)
    except YamlFileError as exc:
        raise AuditpackError(f"Egress register {file} (nothing was stored)", exc.problems) from None
    store = open_store(store_path, create=True)
    if _already_imported(store, "register.egress", file, raw, normalized):
        return Outcome.OK
    ref, meta = store_egress_register(store, file.name, raw, normalized, operator)
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
@provenance_options
@store_option
@operator_option
def attach(
    control_id: str,
    file: Path,
    day: datetime,
    note: str,
    source: str | None,
    exported: datetime | None,
    store_path: Path,
    operator: str,
) -> Outcome:
    """Store a document (PDF, photo, e-mail export) as hashed manual evidence for a control.

    \b
    Example:
      auditpack attach T-CON-2 continuity-review-2026.pdf --date 2026-05-12 --note "Yearly review by Example ICT BV"
    Exit codes: 0 stored, 2 unusable input (unknown control, unreadable file, a --date after today).
    """
    from auditpack.collectors.parsers.auditpol import is_auditpol_csv
    from auditpack.imports import attach_document

    check_control_ids((control_id,))
    if day.date() > date.today():
        raise AuditpackError(
            f"--date {day.date()} is in the future: a document can only evidence a day that has come (nothing was stored)"
        )
    if is_auditpol_csv(file.read_bytes()):
        # attached, a document is only shown: T-LOG-1 evaluates an audit policy only when it is imported as one
        console.print(
            f"{file.name} is an auditpol export: `auditpack import auditpol {file.name} --host HOST --date "
            f"{day.date()}` makes it the audit policy T-LOG-1 evaluates; attached as a document only.",
            style="yellow",
            soft_wrap=True,
            markup=False,
        )
    store = open_store(store_path, create=True)
    ref, meta = attach_document(store, control_id, file, day.date(), note, operator, provenance_from(source, exported))
    console.print(
        f"Attached {file.name} to {control_id} as item {meta['id']} (sha256 {meta['raw']['sha256']}) in run {ref.seq}.",
        soft_wrap=True,
        markup=False,
    )
    return Outcome.OK


COMMANDS = (import_group, attach)
