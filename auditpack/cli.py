"""The auditpack command line."""

from __future__ import annotations

import getpass
import json
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import __version__
from .canonical import parse_iso
from .controls.evaluate import evaluate_controls
from .periods import Period
from .controls.exceptions import ExceptionEntry, load_exceptions
from .controls.model import Control, load_catalogue
from .controls.profiles import DEFAULT_PROFILE, Profile, load_profile
from .controls.result import ControlResult, Status
from .credentials import CredentialError
from .evidence import Observation
from .inventory import ROLE_NAMES, Host, Inventory, InventoryError
from .collectors.parsers.registers import REGISTERS, RegisterError
from .imports import (FIREWALL_CONFIG_PARSERS, attach_document, import_egress_register, import_evtx,
                      import_firewall_config, import_register)
from .jobs import find_inventory, latest_run_year
from .periods import PeriodError, period_from_options
from .reports.i18n import STATUS_LABELS
from .runner import HostOutcome, RunResult, run_collection
from .runner import Progress as RunProgress
from .store import EvidenceStore, StoreError
from .yamlfile import YamlFileError

console = Console()
err_console = Console(stderr=True)

# Exit codes, the same for every command.
OK, DEVIATIONS, ERRORS = 0, 1, 2

STATUS_STYLE = {
    "effective": "green", "effective_with_deviations": "yellow", "not_effective": "red",
    "not_evidenced": "bright_black", "not_applicable": "bright_black",
}
HOST_STYLE = {"ok": "green", "partial": "yellow", "unreachable": "red", "timeout": "red"}


def _default_operator() -> str:
    return os.environ.get("AUDITPACK_OPERATOR") or getpass.getuser()


store_option = click.option("--store", "store_path", type=click.Path(file_okay=False, path_type=Path),
                            default=lambda: os.environ.get("AUDITPACK_STORE", "evidence"), show_default="./evidence or $AUDITPACK_STORE",
                            help="Evidence store directory (created on first collection).")
inventory_option = click.option("-i", "--inventory", "inventory_path", type=click.Path(dir_okay=False),
                                help="Inventory YAML (Ansible format). Default: ./inventory.yaml, else the built-in one (this machine).")
host_option = click.option("--host", "hosts", multiple=True, metavar="NAME", help="Only this host (repeatable).")
role_option = click.option("--role", "roles", multiple=True, type=click.Choice(ROLE_NAMES), help="Only hosts with this role (repeatable).")
workers_option = click.option("--workers", type=click.IntRange(1, 256), default=8, show_default=True, help="Hosts collected at the same time.")
operator_option = click.option("--operator", default=_default_operator, show_default="$AUDITPACK_OPERATOR or your login",
                               help="Who ran the collection; recorded with every evidence item.")


profile_option = click.option("--profile", "profile_path", type=click.Path(dir_okay=False, exists=True),
                              help="Per-agreement profile YAML overriding control parameters (default: catalogue defaults).")
exceptions_option = click.option("--exceptions", "exceptions_path", type=click.Path(dir_okay=False),
                                 help="Exceptions YAML (default: ./exceptions.yaml when present).")
control_option = click.option("--control", "control_ids", multiple=True, metavar="ID",
                              help="Only this control (repeatable), e.g. --control T-FWH.")


def _load_profile(path: str | None) -> Profile:
    if not path:
        return DEFAULT_PROFILE
    try:
        return load_profile(path, load_catalogue())
    except YamlFileError as exc:
        _refuse(f"Profile {path}", exc.problems)


def _load_exceptions(path: str | None) -> list[ExceptionEntry]:
    if path is None and not Path("exceptions.yaml").exists():
        return []
    try:
        return load_exceptions(path or "exceptions.yaml")
    except YamlFileError as exc:
        _refuse(f"Exceptions file {path or 'exceptions.yaml'}", exc.problems)


def _check_control_ids(ids: tuple[str, ...]) -> None:
    unknown = sorted(set(ids) - set(load_catalogue()))
    if unknown:
        raise click.UsageError(f"unknown control(s) {', '.join(unknown)}; 'auditpack controls' lists them")


def collection_options(func):
    """The options every command that collects shares."""
    for option in reversed((inventory_option, store_option, host_option, role_option, workers_option, operator_option)):
        func = option(func)
    return func


def _refuse(what: str, problems: list) -> None:
    err_console.print(f"[red bold]{what} has {len(problems)} problem(s):[/]")
    for problem in problems:
        err_console.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)
    sys.exit(ERRORS)


def _load_inventory(path: str | None) -> Inventory:
    try:
        inventory = find_inventory(path)
    except InventoryError as exc:
        _refuse("The inventory (nothing was collected)", exc.problems)
    if inventory.path.startswith("<"):
        err_console.print("[dim]No inventory given and no ./inventory.yaml: using the built-in inventory (this machine only).[/]")
    return inventory


def _open_store(path: Path, create: bool) -> EvidenceStore:
    try:
        return EvidenceStore(path, create=create)
    except StoreError as exc:
        err_console.print(f"[red]{exc}[/]")
        sys.exit(ERRORS)


class _RichProgress(RunProgress):
    """One progress row per host: a pulsing bar while it runs, its verdict when done."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.tasks: dict[str, int] = {}
        self.counts: dict[str, int] = {}

    def host_started(self, host: Host, steps: int) -> None:
        self.counts[host.name] = 0
        self.tasks[host.name] = self.progress.add_task(host.name, total=None, status=f"{host.connection} · starting")

    def item_done(self, host: Host, obs: Observation) -> None:
        self.counts[host.name] += 1
        self.progress.update(self.tasks[host.name], status=f"{self.counts[host.name]} items · {obs.kind}")

    def host_finished(self, host: Host, outcome: HostOutcome) -> None:
        style = HOST_STYLE.get(outcome.status, "white")
        self.progress.update(self.tasks[host.name], total=1, completed=1,
                             status=f"[{style}]{outcome.status}[/] · {outcome.items} items")


def _ask_prompted_passwords(hosts: list[Host]) -> None:
    """Ask for 'prompt' passwords now, in order, before worker threads and the progress display start."""
    for host in hosts:
        asked = [(host.password, host.user, f"{host.user} on {host.name}"),
                 (host.ldap_password, host.ldap_user or host.user, f"{host.ldap_user or host.user} on {host.name}")]
        asked += [(b.passphrase, b.key, f"the {b.tool} repository {b.repository} on {host.name}") for b in host.backups]
        for ref, user, label in asked:
            if ref is not None and ref.scheme == "prompt":
                try:
                    ref.resolve(user, label)
                except CredentialError as exc:
                    err_console.print(f"[yellow]{host.name}: {exc}[/]")


def _collect(store: EvidenceStore, inventory: Inventory, hosts: tuple[str, ...], roles: tuple[str, ...], workers: int,
             operator: str) -> RunResult:
    try:
        chosen = inventory.select(list(hosts), list(roles))
    except InventoryError as exc:
        err_console.print(f"[red]{exc}[/]")
        sys.exit(ERRORS)
    if not chosen:
        err_console.print("[red]No host in the inventory matches --host/--role; nothing to collect.[/]")
        sys.exit(ERRORS)
    _ask_prompted_passwords(chosen)
    columns = (SpinnerColumn(), TextColumn("{task.description:<24}"), BarColumn(bar_width=24),
               TimeElapsedColumn(), TextColumn("{task.fields[status]}"))
    with Progress(*columns, console=err_console) as progress:
        result = run_collection(store, inventory, chosen, operator, workers, _RichProgress(progress))
    table = Table(title=f"Run {result.manifest.seq} · {result.body['run_id']}")
    for col in ("host", "status", "items", "seconds", "problems"):
        table.add_column(col)
    for o in result.outcomes:
        table.add_row(o.host, f"[{HOST_STYLE.get(o.status)}]{o.status}[/]", str(o.items), f"{o.seconds:.1f}", "; ".join(o.errors)[:200])
    console.print(table)
    console.print(f"Manifest: {result.manifest.path}", soft_wrap=True)
    if result.partial:
        console.print("[yellow]The run is partial: the hosts above that are not 'ok' are recorded as such.[/]")
    return result


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="auditpack")
def cli() -> None:
    """Collect evidence that the promised security measures are in place, evaluate it
    over a period, and report on it.

    \b
    Typical use:
      auditpack doctor              can every host be reached, are credentials referenced?
      auditpack check               spot check: collect now and show each control's result
      auditpack collect             collect evidence into the store (e.g. daily from cron)
      auditpack report --period 2026   the annual report over everything collected
      auditpack verify              prove that no evidence was changed or lost

    Exit codes: 0 all fine, 1 deviations (or a partial run), 2 errors.
    """


@cli.command()
@collection_options
def collect(inventory_path: str | None, store_path: Path, hosts: tuple[str, ...], roles: tuple[str, ...], workers: int,
            operator: str) -> None:
    """Collect evidence from the inventory's hosts into the evidence store.

    Every output is kept byte for byte, hashed, and listed in a manifest that is
    chained to the previous run's. A host that cannot be reached, or runs out of
    time, is recorded as such and the run goes on; the run is then partial.

    \b
    Examples:
      auditpack collect
      auditpack collect -i site.yaml --role domain_controller --workers 4
    Exit codes: 0 complete, 1 partial (some host or item failed), 2 unusable input.
    """
    inventory = _load_inventory(inventory_path)
    store = _open_store(store_path, create=True)
    result = _collect(store, inventory, hosts, roles, workers, operator)
    sys.exit(DEVIATIONS if result.partial else OK)


def _results_table(results: list[ControlResult], lang: str) -> Table:
    catalogue = load_catalogue()
    table = Table(title="Controls")
    for col in ("control", "title", "result", "tested", "deviations", "not evidenced"):
        table.add_column(col)
    for r in results:
        style = STATUS_STYLE[r.status]
        table.add_row(r.control_id, catalogue[r.control_id].title.in_(lang), f"[{style}]{STATUS_LABELS[lang][r.status]}[/]",
                      str(r.tested), str(len(r.deviations)), str(len(r.gaps)))
    return table


def _print_results(results: list[ControlResult], lang: str) -> None:
    console.print(_results_table(results, lang))
    for r in results:
        for d in r.deviations + r.gaps:
            console.print(f"  {r.control_id} {d.subject} {d.date}: {d.text(lang)}", markup=False, highlight=False, soft_wrap=True)


period_options = [
    click.option("--period", "year", type=click.IntRange(1990, 2999), help="Calendar year."),
    click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day (YYYY-MM-DD)."),
    click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day, inclusive (YYYY-MM-DD)."),
]


def _with_period(func):
    for option in reversed(period_options):
        func = option(func)
    return func


def _period(store: EvidenceStore, year: int | None, start: datetime | None, end: datetime | None) -> Period:
    try:
        return period_from_options(year, start.date() if start else None, end.date() if end else None,
                                   latest_run_year(store) or datetime.now().year)
    except PeriodError as exc:
        raise click.UsageError(str(exc)) from None


def _relevant_controls(catalogue: dict[str, Control], hosts: list[Host]) -> list[str]:
    """A spot check on some hosts tests the controls that apply to those hosts' roles."""
    roles = {r for h in hosts for r in h.roles}
    return [cid for cid, c in catalogue.items() if roles & set(c.applies_to_roles)]


@cli.command()
@collection_options
@control_option
@_with_period
@profile_option
@exceptions_option
@click.option("--lang", type=click.Choice(["nl", "en"]), default="en", show_default=True, help="Language of the table.")
def check(inventory_path: str | None, store_path: Path, hosts: tuple[str, ...], roles: tuple[str, ...], workers: int,
          operator: str, control_ids: tuple[str, ...], year: int | None, start: datetime | None, end: datetime | None,
          profile_path: str | None, exceptions_path: str | None, lang: str) -> None:
    """Spot check: collect now, then evaluate and show each control's result.

    Without a period only this collection is evaluated ("today"); with --period
    or --from/--to the whole stored period is, including this collection.
    Without --control, the controls that apply to the checked hosts' roles are
    evaluated. The evidence is kept in the store like any collection.

    \b
    Examples:
      auditpack check
      auditpack check --host ws-017 --control T-FWH --lang nl
      auditpack check --control T-BAK-1 --from 2026-01-01 --to 2026-03-31
    Exit codes: 0 every control effective (or not applicable), 1 deviations
                or missing evidence, 2 errors (unreachable hosts, bad input).
    """
    _check_control_ids(control_ids)
    inventory = _load_inventory(inventory_path)
    profile, exceptions = _load_profile(profile_path), _load_exceptions(exceptions_path)
    store = _open_store(store_path, create=True)
    result = _collect(store, inventory, hosts, roles, workers, operator)
    checked = [o.host for o in result.outcomes]
    catalogue = load_catalogue()
    selected = list(control_ids) or _relevant_controls(catalogue, inventory.select(checked))
    if year is None and start is None and end is None:
        started, ended = parse_iso(result.body["started"]), parse_iso(result.body["ended"])
        period, only_seq = Period(started, ended + timedelta(seconds=1)), result.manifest.seq
    else:
        period, only_seq = _period(store, year, start, end), None
    results = evaluate_controls(store, period, catalogue, profile, exceptions, only_seq=only_seq,
                                control_ids=selected, hosts=checked if hosts or roles else None)
    _print_results(results, lang)
    if result.partial:
        sys.exit(ERRORS)
    if any(r.status not in (Status.EFFECTIVE, Status.NOT_APPLICABLE) for r in results):
        sys.exit(DEVIATIONS)
    sys.exit(OK)


lang_option = click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True,
                           help="Report language (Dutch by default).")
out_option = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports-out"),
                          show_default=True, help="Where the report files (and the pack) are written.")
key_option = click.option("--signing-key", "key_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                          help="The Ed25519 signing key (created on first use; default $AUDITPACK_SIGNING_KEY or "
                               "~/.config/auditpack/signing-key.pem). Kept outside every pack.")


def _signing_key(key_path: Path | None):
    from .signing import SigningKeyError, load_or_create_key

    try:
        return load_or_create_key(key_path)
    except (SigningKeyError, PermissionError) as exc:
        raise click.ClickException(str(exc)) from None


def _pseudonym_key() -> bytes:
    from .pseudonymise import load_or_create_key

    try:
        return load_or_create_key()
    except PermissionError as exc:
        raise click.ClickException(str(exc)) from None


def _report_period(store: EvidenceStore, year: int | None, start: datetime | None, end: datetime | None) -> Period:
    """The period asked for; by default the last full calendar year."""
    if year is None and start is None and end is None:
        year = datetime.now().year - 1
    return _period(store, year, start, end)


@cli.command()
@store_option
@_with_period
@profile_option
@exceptions_option
@control_option
@lang_option
@out_option
@click.option("--format", "formats", multiple=True, type=click.Choice(["html", "pdf", "xlsx", "json", "oscal"]),
              help="Only these formats (repeatable; default all five).")
@key_option
def report(store_path: Path, year: int | None, start: datetime | None, end: datetime | None, profile_path: str | None,
           exceptions_path: str | None, control_ids: tuple[str, ...], lang: str, out_dir: Path, formats: tuple[str, ...],
           key_path: Path | None) -> None:
    """Evaluate every control over a period and write the audit report in every format.

    HTML and PDF for people, an Excel workbook for auditors (every tested item,
    the evidence index, exceptions, samples), JSON in a published schema and an
    OSCAL assessment-results file for GRC tools. All five come from the same
    report document, so they cannot disagree. Without --period or --from/--to
    the period is the last full calendar year. No host is contacted.

    \b
    Examples:
      auditpack report --period 2026
      auditpack report --period 2026 --profile profiles/klant-a.yaml --exceptions exceptions.yaml
      auditpack report --from 2026-01-01 --to 2026-06-30 --lang en --format html --format xlsx
    """
    from .annual import FORMATS, make_document, write_formats
    from .signing import fingerprint

    _check_control_ids(control_ids)
    profile, exceptions = _load_profile(profile_path), _load_exceptions(exceptions_path)
    store = _open_store(store_path, create=False)
    period = _report_period(store, year, start, end)
    key = _signing_key(key_path)
    document, results = make_document(store, period, lang, profile, exceptions, control_ids=control_ids or None,
                                      signing_fingerprint=fingerprint(key))
    files = write_formats(document, out_dir, formats or FORMATS)
    _print_results(results, lang)
    for fmt, path in files.items():
        console.print(f"{fmt:>5}: {path}", soft_wrap=True, highlight=False)


@cli.command()
@store_option
@_with_period
@profile_option
@exceptions_option
@lang_option
@out_option
@key_option
@click.option("--pseudonymise", is_flag=True,
              help="Replace every person and account name in the pack with a keyed pseudonym (P-…); "
                   "the key stays with you ($AUDITPACK_PSEUDONYM_KEY or ~/.config/auditpack/pseudonym-key).")
def pack(store_path: Path, year: int | None, start: datetime | None, end: datetime | None, profile_path: str | None,
         exceptions_path: str | None, lang: str, out_dir: Path, key_path: Path | None, pseudonymise: bool) -> None:
    """Build the signed evidence pack for the auditors: the report in every format and the evidence it cites.

    One zip with the report (HTML, PDF, workbook, JSON, OSCAL), every evidence
    item the findings cite (raw output byte for byte and its normalised form),
    a manifest with the SHA-256 of every file, a SHA256SUMS file that
    `sha256sum -c` accepts, the Ed25519 signature, and VERIFY.txt for auditors.
    Send the public key (printed below) to the auditors by another channel.

    \b
    Examples:
      auditpack pack --period 2026
      auditpack pack --period 2026 --pseudonymise --lang en
    """
    from .annual import annual_pack
    from .signing import public_key_pem

    profile, exceptions = _load_profile(profile_path), _load_exceptions(exceptions_path)
    store = _open_store(store_path, create=False)
    period = _report_period(store, year, start, end)
    key = _signing_key(key_path)
    secret = _pseudonym_key() if pseudonymise else None
    with console.status("Evaluating, writing the report and packing the evidence..."):
        annual, summary = annual_pack(store, period, out_dir, key, lang=lang, profile=profile, exceptions=exceptions,
                                      pseudonym_key=secret)
    _print_results(annual.results, lang)
    public = out_dir / "signing-key.pub"
    public.write_bytes(public_key_pem(key))
    console.print(f"Pack:        {summary.path} ({summary.size / 1e6:.1f} MB, {summary.items} evidence items"
                  f"{', pseudonymised' if secret else ''})\nSHA-256:     {summary.sha256}\n"
                  f"Signed by:   {summary.fingerprint}\nPublic key:  {public} (send it separately)", soft_wrap=True)


@cli.command(name="reveal")
@click.argument("pseudonyms", nargs=-1, required=True)
@store_option
def reveal_command(pseudonyms: tuple[str, ...], store_path: Path) -> None:
    """Show which person or account is behind a pseudonym in a pseudonymised pack (needs your key).

    \b
    Example:
      auditpack reveal P-3b1e2016c9
    """
    from .pseudonymise import names_in_store, reveal

    store = _open_store(store_path, create=False)
    secret = _pseudonym_key()
    names = names_in_store(store)
    found_all = True
    for wanted in pseudonyms:
        found = reveal(secret, wanted, names)
        found_all &= bool(found)
        console.print(f"{wanted}: {', '.join(found) if found else 'not found among the names in this store'}",
                      highlight=False)
    sys.exit(OK if found_all else DEVIATIONS)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON for other tools.")
@click.option("--lang", type=click.Choice(["nl", "en"]), default="en", show_default=True, help="Language of the table.")
def controls(as_json: bool, lang: str) -> None:
    """List the control catalogue: ids, titles, references and parameters.

    \b
    Examples:
      auditpack controls
      auditpack controls --json > catalogue.json
    """
    catalogue = load_catalogue()
    if as_json:
        data = [c.model_dump(mode="json") for c in catalogue.values()]
        click.echo(json.dumps({"auditpack_version": __version__, "controls": data}, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"{len(catalogue)} controls")
    for col in ("id", "title", "frequency", "evidence", "references", "parameters"):
        table.add_column(col)
    for c in catalogue.values():
        params = ", ".join(f"{k}={v.default}" for k, v in c.parameters.items() if not isinstance(v.default, (list, dict)))
        table.add_row(c.id, c.title.in_(lang), c.frequency, ", ".join(c.evidence_kinds),
                      ", ".join(c.references.gdpr + c.references.iso27001_2022), params)
    console.print(table)


@cli.group(name="import")
def import_group() -> None:
    """Import evidence kept in files (registers) into the evidence store."""


@import_group.command(name="register")
@click.argument("name", type=click.Choice(sorted(REGISTERS)))
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@store_option
@operator_option
def import_register_command(name: str, file: Path, store_path: Path, operator: str) -> None:
    """Validate a CSV or XLSX register and store it as evidence.

    Every problem is reported with its row and column, and nothing is stored
    from a register with problems. The file is kept byte for byte.

    \b
    Examples:
      auditpack import register hr_leavers uitdienst-2026.xlsx
      auditpack import register restore_tests restore-log.csv
    """
    store = _open_store(store_path, create=True)
    try:
        ref, meta, normalized = import_register(store, name, file, operator)
    except RegisterError as exc:
        _refuse(f"Register {file} (nothing was stored)", exc.problems)
    console.print(f"Stored {len(normalized['rows'])} rows of {name} as item {meta['id']} (sha256 {meta['raw']['sha256']}) "
                  f"in run {ref.seq}.", soft_wrap=True)
    if normalized.get("ignored_columns"):
        console.print(f"[yellow]Columns not used: {', '.join(normalized['ignored_columns'])}[/]")


@import_group.command(name="evtx")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--host", "host_name", metavar="NAME", help="The host the logs come from (default: the computer named in the log).")
@store_option
@operator_option
def import_evtx_command(files: tuple[Path, ...], host_name: str | None, store_path: Path, operator: str) -> None:
    """Import Windows event logs exported as EVTX (Security, Defender) from hosts that cannot be reached.

    Produces the same daily event counts, log clears, policy changes, account
    disables and anti-virus detections as the live WinRM probe. The files are
    kept whole; a damaged file gives what can be read plus the errors.

    \b
    Examples:
      auditpack import evtx dc01-security-2026.evtx --host dc01
      auditpack import evtx ws-017-defender.evtx
    """
    store = _open_store(store_path, create=True)
    try:
        ref, body = import_evtx(store, list(files), host_name, operator)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    for item in body["items"]:
        console.print(f"{item['host']}: {item['kind']} (item {item['id']})", soft_wrap=True)
        for error in item["errors"][:5]:
            console.print(f"  [yellow]{error}[/]", soft_wrap=True, highlight=False)
    console.print(f"Stored in run {ref.seq}.")
    sys.exit(DEVIATIONS if any(i["errors"] for i in body["items"]) else OK)


@import_group.command(name="egress-register")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@store_option
@operator_option
def import_egress_command(file: Path, store_path: Path, operator: str) -> None:
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
    """
    store = _open_store(store_path, create=True)
    try:
        ref, meta, normalized = import_egress_register(store, file, operator)
    except YamlFileError as exc:
        _refuse(f"Egress register {file} (nothing was stored)", exc.problems)
    console.print(f"Stored {len(normalized['entries'])} egress reasons as item {meta['id']} "
                  f"(sha256 {meta['raw']['sha256']}) in run {ref.seq}.", soft_wrap=True)


@import_group.command(name="firewall")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--type", "config_type", type=click.Choice(sorted(FIREWALL_CONFIG_PARSERS)), required=True,
              help="What the file is: a config.xml backup (pfsense/opnsense), a FortiGate config backup, "
                   "`nft -j list ruleset` output or `iptables-save` output.")
@click.option("--device", required=True, metavar="NAME", help="The firewall's name, as in the inventory and the egress register.")
@click.option("--wan", multiple=True, metavar="IFACE", help="An outside interface or zone (repeatable); default for pfSense/OPNsense: wan.")
@store_option
@operator_option
def import_firewall_command(file: Path, config_type: str, device: str, wan: tuple[str, ...], store_path: Path,
                            operator: str) -> None:
    """Store a firewall configuration backup as that device's ruleset, for firewalls not reached over SSH.

    \b
    Examples:
      auditpack import firewall config-fw01-20261101.xml --type pfsense --device fw01
      auditpack import firewall fgt-backup.conf --type fortigate --device fgt01 --wan wan1
    """
    store = _open_store(store_path, create=True)
    try:
        ref, meta, normalized = import_firewall_config(store, file, config_type, device, wan, operator)
    except ValueError as exc:
        raise click.ClickException(f"{file} could not be read as {config_type} (nothing was stored): {exc}") from None
    console.print(f"Stored {len(normalized['rules'])} rules of {device} (default inbound {normalized['default_inbound']}, "
                  f"outbound {normalized['default_outbound']}) as item {meta['id']} in run {ref.seq}.", soft_wrap=True)


@cli.command()
@click.argument("control_id", metavar="CONTROL")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), required=True, help="The date the document evidences (YYYY-MM-DD).")
@click.option("--note", required=True, help="What the document shows, in a sentence.")
@store_option
@operator_option
def attach(control_id: str, file: Path, day: datetime, note: str, store_path: Path, operator: str) -> None:
    """Store a document (PDF, photo, e-mail export) as hashed manual evidence for a control.

    \b
    Example:
      auditpack attach T-CON-2 continuity-review-2026.pdf --date 2026-05-12 --note "Yearly review by Example ICT BV"
    """
    _check_control_ids((control_id,))
    store = _open_store(store_path, create=True)
    ref, meta = attach_document(store, control_id, file, day.date(), note, operator)
    console.print(f"Attached {file.name} to {control_id} as item {meta['id']} (sha256 {meta['raw']['sha256']}) in run {ref.seq}.",
                  soft_wrap=True)


@cli.command()
@click.argument("pack_path", metavar="[PACK.zip]", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", "key_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The processor's public key (PEM), received apart from the pack. Needed for a pack.")
@store_option
def verify(pack_path: Path | None, key_path: Path | None, store_path: Path) -> None:
    """Check an evidence pack offline, or (without PACK.zip) every hash in the evidence store.

    A pack: the Ed25519 signature of its manifest with the key you were given,
    then every file against the manifest; each file that changed, is missing or
    was added is named. The store: every blob and manifest and the chain of
    run manifests; leftovers of an interrupted run are reported as harmless.

    \b
    Examples:
      auditpack verify auditpack-2026.zip --key klantcontact-demo.pub
      auditpack verify --store /srv/auditpack/evidence
    Exit codes: 0 intact, 1 something was changed, missing or added, 2 not a pack or store.
    """
    if pack_path is not None:
        _verify_pack(pack_path, key_path)
    store = _open_store(store_path, create=False)
    result = store.verify()
    for finding in result.findings:
        style = "red" if finding.severity == "error" else "dim"
        console.print(f"[{style}]{finding}[/]", highlight=False)
    summary = f"{result.manifests} runs, {result.items} items, {result.blobs} blobs ({result.blob_bytes / 1e6:.1f} MB)"
    if result.ok:
        console.print(f"[green]Evidence store intact:[/] {summary}")
        sys.exit(OK)
    console.print(f"[red bold]Evidence store NOT intact[/] ({sum(f.severity == 'error' for f in result.findings)} problem(s)); {summary}")
    sys.exit(DEVIATIONS)


def _verify_pack(pack_path: Path, key_path: Path | None) -> None:
    from .pack import verify_pack

    if key_path is None:
        raise click.UsageError("a pack is verified with the processor's public key: add --key KEY.pub "
                               "(the key inside the pack proves nothing by itself)")
    if not pack_path.exists():
        err_console.print(f"[red]{pack_path} does not exist[/]")
        sys.exit(ERRORS)
    result = verify_pack(pack_path, key_path)
    for problem in result.problems:
        console.print(f"[red]{problem}[/]", highlight=False, soft_wrap=True)
    if result.ok:
        console.print(f"[green]Pack intact and signed by {result.fingerprint}:[/] {result.files_checked} files checked",
                      soft_wrap=True)
        sys.exit(OK)
    not_a_pack = not result.signature_ok and result.manifest is None
    console.print(f"[red bold]Pack NOT intact[/]: {len(result.changed)} changed, {len(result.missing)} missing, "
                  f"{len(result.added)} added, signature {'valid' if result.signature_ok else 'NOT valid'}")
    sys.exit(ERRORS if not_a_pack else DEVIATIONS)


@cli.command(name="diff")
@click.argument("old", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the difference as JSON.")
def diff_command(old: Path, new: Path, lang: str, as_json: bool) -> None:
    """Show what changed between two evidence packs: results, populations, exceptions, firewall rules.

    Signatures are not checked here: run `auditpack verify` on both packs first.

    \b
    Example:
      auditpack diff auditpack-2025.zip auditpack-2026.zip --lang en
    Exit codes: 0 nothing changed, 1 something changed, 2 not a pack.
    """
    from .pack import PackError
    from .pack_diff import diff_packs, format_diff

    try:
        result = diff_packs(old, new)
    except (PackError, ValueError, KeyError) as exc:
        err_console.print(f"[red]{exc}[/]")
        sys.exit(ERRORS)
    print(json.dumps(result, indent=2, ensure_ascii=False) if as_json else format_diff(result, lang))
    rules_changed = any(d["added"] or d["removed"] or d["changed"] for d in result["firewall"])
    sys.exit(DEVIATIONS if rules_changed or any(result[k] for k in ("controls", "populations", "exceptions")) else OK)


@cli.command()
@inventory_option
@host_option
@role_option
def doctor(inventory_path: str | None, hosts: tuple[str, ...], roles: tuple[str, ...]) -> None:
    """Test connectivity and credential references for every host, without collecting.

    For SSH hosts the server's identification line is read; for WinRM hosts an
    empty, unauthenticated WS-Management request shows which logon methods the
    server offers. Credentials are only looked up, never sent or shown.

    \b
    Examples:
      auditpack doctor
      auditpack doctor -i site.yaml --role firewall
    Exit codes: 0 every host ready, 1 some host not ready, 2 bad input.
    """
    from auditpack.collectors.reachability import probe_host

    inventory = _load_inventory(inventory_path)
    chosen = inventory.select(list(hosts), list(roles))
    table = Table(title="auditpack doctor")
    for col in ("host", "connection", "address", "reachable", "answer", "credential"):
        table.add_column(col)
    all_ok = True
    for host in chosen:
        if host.connection == "local":
            table.add_row(host.name, "local", "-", "[green]yes[/]", "this machine", "not needed")
            continue
        probe = probe_host(host)
        cred_ok, cred_text = True, "none referenced" if host.connection == "ssh" else "[red]missing[/]"
        if host.password is not None:
            try:
                cred_ok, cred_text = host.password.describe_availability(host.user)
            except CredentialError as exc:
                cred_ok, cred_text = False, str(exc)
        elif host.connection == "winrm":
            cred_ok = False
        all_ok &= probe.reachable and cred_ok
        table.add_row(host.name, host.connection, f"{host.address}:{host.effective_port}",
                      "[green]yes[/]" if probe.reachable else "[red]no[/]", f"{probe.detail} ({probe.seconds:.2f} s)",
                      cred_text if cred_ok else f"[red]{cred_text}[/]")
    console.print(table)
    sys.exit(OK if all_ok else DEVIATIONS)


@cli.command()
@click.argument("control_id", metavar="CONTROL")
@click.option("--size", type=click.IntRange(min=1), required=True, help="How many items to draw.")
@click.option("--seed", type=int, default=None, help="The seed that makes the draw reproducible (default: a new one, printed).")
@store_option
@_with_period
@profile_option
@exceptions_option
@operator_option
def sample(control_id: str, size: int, seed: int | None, store_path: Path, year: int | None, start: datetime | None,
           end: datetime | None, profile_path: str | None, exceptions_path: str | None, operator: str) -> None:
    """Draw a reproducible sample from a control's population for the auditor.

    The population is what the control tests: each server on each day for a
    daily control (backup days), otherwise each subject (leavers, workstations).
    The same control, period, size and seed always draw the same items. The
    sample is stored as evidence, so the report and the workbook list it.

    \b
    Examples:
      auditpack sample T-BAK-1 --size 25 --seed 2026 --period 2026
      auditpack sample O-LVR --size 5 --seed 7
    """
    from .sampling import draw_sample, store_sample

    _check_control_ids((control_id,))
    profile, exceptions = _load_profile(profile_path), _load_exceptions(exceptions_path)
    store = _open_store(store_path, create=False)
    period = _period(store, year, start, end)
    catalogue = load_catalogue()
    [result] = evaluate_controls(store, period, catalogue, profile, exceptions, control_ids=[control_id])
    seed = seed if seed is not None else int.from_bytes(os.urandom(3), "big")
    try:
        drawn = draw_sample(result, catalogue[control_id].frequency, period, size, seed)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    meta = store_sample(store, drawn, operator)
    console.print(f"{control_id}, {period.label}: {size} of {drawn['population_size']} ({drawn['unit']}s), seed {seed}; "
                  f"stored as item {meta['id']}", soft_wrap=True)
    for unit in drawn["drawn"]:
        console.print(f"  {unit}", highlight=False)


@cli.command(name="firewall-diff")
@click.argument("host")
@click.option("--old", "old_day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The earlier moment (YYYY-MM-DD); default: 365 days before --new.")
@click.option("--new", "new_day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="The later moment; default: today.")
@click.option("--json", "as_json", is_flag=True, help="Print the difference as JSON.")
@store_option
def firewall_diff(host: str, old_day: datetime | None, new_day: datetime | None, as_json: bool, store_path: Path) -> None:
    """Show the firewall rules added, removed and changed between two moments.

    Each moment takes the last ruleset collected or imported on or before that
    day, so the default compares today's rules with those of a year ago.

    \b
    Examples:
      auditpack firewall-diff fw01
      auditpack firewall-diff fw01 --old 2026-10-01 --new 2026-11-01
    Exit codes: 0 no change, 1 rules changed, 2 no ruleset for a moment.
    """
    from .rule_history import rules_diff

    new = (new_day or datetime.now()).date()
    old = old_day.date() if old_day else new - timedelta(days=365)
    store = _open_store(store_path, create=False)
    try:
        before, after, diff = rules_diff(store, host, old, new)
    except ValueError as exc:
        err_console.print(f"[red]{exc}[/]")
        sys.exit(ERRORS)
    changed = any(diff.values())
    if as_json:
        print(json.dumps({"host": host, "old": {"item": before.item.id, "collected": before.item.started},
                          "new": {"item": after.item.id, "collected": after.item.started}, **diff}, indent=2))
        sys.exit(DEVIATIONS if changed else OK)
    console.print(f"{host}: rules of {before.item.started} (item {before.item.id}) against {after.item.started} "
                  f"(item {after.item.id})", soft_wrap=True)
    table = Table()
    for col in ("change", "rule", "direction", "source", "destination", "service", "action", "description"):
        table.add_column(col)
    rows = [("added", r) for r in diff["added"]] + [("removed", r) for r in diff["removed"]]
    rows += [(f"changed: {', '.join(c['fields'])}", c["after"]) for c in diff["changed"]]
    for change, rule in rows:
        table.add_row(change, rule["id"], rule["direction"], rule["source"], rule["destination"], rule["service"],
                      rule["action"] if rule["enabled"] else f"{rule['action']} (disabled)", rule["description"])
    console.print(table if rows else "No rule changed.")
    sys.exit(DEVIATIONS if changed else OK)


from . import lab_commands  # noqa: E402,F401  (registers `lab` and `demo` on the group above)


def main() -> None:
    cli()
