"""`auditpack collect`, `check` and `doctor`: the commands that talk to the inventory's hosts."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from auditpack.errors import AuditpackError
from auditpack.wording import number

from .shared import (
    CONSOLE_LANG,
    Outcome,
    check_control_ids,
    collection_options,
    console,
    console_text,
    control_option,
    err_console,
    exceptions_option,
    host_option,
    inventory_option,
    lang_option,
    load_exceptions,
    load_inventory,
    load_profile,
    open_store,
    period_options,
    print_results,
    profile_option,
    resolve_period,
    results_outcome,
    role_option,
)

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from auditpack.collectors.credential_check import CheckRow
    from auditpack.controls.model import Control
    from auditpack.evidence import Observation
    from auditpack.inventory import Host, Inventory
    from auditpack.runner import HostOutcome, RunResult
    from auditpack.store import EvidenceStore

HOST_STYLE = {"ok": "green", "partial": "yellow", "unreachable": "red", "timeout": "red"}


def ask_prompted_passwords(hosts: list[Host]) -> None:
    """Ask for 'prompt' passwords now, in order, before worker threads and the progress display start."""
    from auditpack.credentials import CredentialError

    for host in hosts:
        asked = [
            (host.password, host.user, f"{host.user} on {host.name}"),
            (host.ldap_password, host.ldap_user or host.user, f"{host.ldap_user or host.user} on {host.name}"),
        ]
        asked += [(b.passphrase, b.key, f"the {b.tool} repository {b.repository} on {host.name}") for b in host.backups]
        for ref, user, label in asked:
            if ref is not None and ref.scheme == "prompt":
                try:
                    ref.resolve(user, label)
                except CredentialError as exc:
                    err_console.print(f"{host.name}: {exc}", style="yellow", markup=False, highlight=False)


def collect_with_progress(
    store: EvidenceStore,
    inventory: Inventory,
    hosts: tuple[str, ...],
    roles: tuple[str, ...],
    workers: int,
    operator: str,
    lang: str = CONSOLE_LANG,
) -> RunResult:
    """Collect from the chosen hosts with a progress row per host, then print the run's table (in LANG)."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from auditpack.reports.i18n import STATE_LABELS
    from auditpack.runner import run_collection

    chosen = inventory.select(list(hosts), list(roles))
    if not chosen:
        raise AuditpackError("No host in the inventory matches --host/--role; nothing to collect.")
    ask_prompted_passwords(chosen)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<24}"),
        BarColumn(bar_width=24),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
    )
    with Progress(*columns, console=err_console) as progress:
        result = run_collection(store, inventory, chosen, operator, workers, HostProgressRows(progress, lang))
    table = Table(title=console_text("run_title", lang, seq=result.manifest.seq, run_id=result.body["run_id"]))
    for col in ("host", "status", "items", "seconds", "problems"):
        table.add_column(console_text(col, lang))
    states = STATE_LABELS[lang]
    for o in result.outcomes:
        state = states.get(o.status, o.status)
        seconds = number(round(o.seconds, 1), lang)
        table.add_row(o.host, f"[{HOST_STYLE.get(o.status)}]{state}[/]", str(o.items), seconds, "; ".join(o.errors)[:200])
    console.print(table)
    console.print(console_text("manifest", lang, path=result.manifest.path), soft_wrap=True)
    if result.partial:
        console.print(console_text("run_partial", lang), style="yellow", markup=False)
    return result


class HostProgressRows:
    """The runner's progress callbacks drawn as one row per host: a pulsing bar while it runs, its verdict when done."""

    def __init__(self, progress: Progress, lang: str = CONSOLE_LANG):
        from auditpack.reports.i18n import STATE_LABELS

        self.progress = progress
        self.lang = lang
        self.states = STATE_LABELS[lang]
        self.tasks: dict[str, TaskID] = {}
        self.counts: dict[str, int] = {}

    def host_started(self, host: Host, steps: int) -> None:
        self.counts[host.name] = 0
        status = f"{host.connection} · {console_text('starting', self.lang)}"
        self.tasks[host.name] = self.progress.add_task(host.name, total=None, status=status)

    def item_done(self, host: Host, obs: Observation) -> None:
        self.counts[host.name] += 1
        items = console_text("items_done", self.lang, count=self.counts[host.name])
        self.progress.update(self.tasks[host.name], status=f"{items} · {obs.kind}")

    def host_finished(self, host: Host, outcome: HostOutcome) -> None:
        style = HOST_STYLE.get(outcome.status, "white")
        state = self.states.get(outcome.status, outcome.status)
        items = console_text("items_done", self.lang, count=outcome.items)
        self.progress.update(self.tasks[host.name], total=1, completed=1, status=f"[{style}]{state}[/] · {items}")


@click.command()
@collection_options
def collect(
    inventory_path: str | None, store_path: Path, hosts: tuple[str, ...], roles: tuple[str, ...], workers: int, operator: str
) -> Outcome:
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
    inventory = load_inventory(inventory_path)
    store = open_store(store_path, create=True)
    result = collect_with_progress(store, inventory, hosts, roles, workers, operator)
    return Outcome.FINDINGS if result.partial else Outcome.OK


def _relevant_controls(catalogue: dict[str, Control], hosts: list[Host]) -> list[str]:
    """A spot check on some hosts tests the controls that apply to those hosts' roles."""
    roles = {r for h in hosts for r in h.roles}
    return [cid for cid, c in catalogue.items() if roles & set(c.applies_to_roles)]


@click.command()
@collection_options
@control_option
@period_options
@profile_option
@exceptions_option
@lang_option
def check(
    inventory_path: str | None,
    store_path: Path,
    hosts: tuple[str, ...],
    roles: tuple[str, ...],
    workers: int,
    operator: str,
    control_ids: tuple[str, ...],
    year: int | None,
    start: datetime | None,
    end: datetime | None,
    profile_path: str | None,
    exceptions_path: str | None,
    lang: str,
) -> Outcome:
    """Spot check: collect now, then evaluate and show each control's result.

    Without a period only this collection is evaluated ("today"); with --period
    or --from/--to the whole stored period is, including this collection.
    Without --control, the controls that apply to the checked hosts' roles are
    evaluated. The evidence is kept in the store like any collection.

    \b
    Examples:
      auditpack check
      auditpack check --host ws-017 --control T-FWH --lang en
      auditpack check --control T-BAK-1 --from 2026-01-01 --to 2026-03-31
    Exit codes: 0 every control effective (or not applicable), 1 deviations,
                missing evidence or a partial run, 2 unusable input.
    """
    from auditpack.canonical import parse_iso
    from auditpack.controls.evaluate import evaluate_controls
    from auditpack.controls.model import load_catalogue
    from auditpack.periods import Period

    check_control_ids(control_ids)
    inventory = load_inventory(inventory_path)
    profile, exceptions = load_profile(profile_path), load_exceptions(exceptions_path)
    store = open_store(store_path, create=True)
    result = collect_with_progress(store, inventory, hosts, roles, workers, operator, lang)
    checked = [o.host for o in result.outcomes]
    catalogue = load_catalogue()
    selected = list(control_ids) or _relevant_controls(catalogue, inventory.select(checked))
    if year is None and start is None and end is None:
        started, ended = parse_iso(result.body["started"]), parse_iso(result.body["ended"])
        period, only_seq = Period(started, ended + timedelta(seconds=1)), result.manifest.seq
    else:
        period, only_seq = resolve_period(year, start, end), None
    results = evaluate_controls(
        store,
        period,
        catalogue,
        profile,
        exceptions,
        only_seq=only_seq,
        control_ids=selected,
        hosts=checked if hosts or roles else None,
    )
    print_results(results, lang)
    return Outcome.FINDINGS if result.partial else results_outcome(results)


@click.command()
@inventory_option
@host_option
@role_option
def doctor(inventory_path: str | None, hosts: tuple[str, ...], roles: tuple[str, ...]) -> Outcome:
    """Test every host's connection and every credential, read-only, without collecting.

    Each host is reached as a collection would reach it, and each credential
    tried once: the LDAP bind and the rootDSE, the WinRM logon and a script that
    only names the account, the SSH host key against known_hosts and the logon
    with `id -un`, the ePO login (core.help), a TLS handshake with each listed
    endpoint (certificate verified, days to expiry). A failure names the host,
    the credential reference (never its value) and why. A domain account refused
    once is not tried on the next hosts, so a wrong password cannot lock it.
    Nothing is written to the store.

    \b
    Examples:
      auditpack doctor
      auditpack doctor -i site.yaml --role firewall
      auditpack doctor --host dc01 --host fs01
    Exit codes: 0 every credential works, 1 some host or credential fails, 2 bad input.
    """
    from auditpack.collectors.credential_check import check_hosts

    inventory = load_inventory(inventory_path)
    chosen = inventory.select(list(hosts), list(roles))
    if not chosen:
        raise AuditpackError("No host in the inventory matches --host/--role; nothing to check.")
    ask_prompted_passwords(chosen)
    rows = check_hosts(chosen)
    print_check_rows(rows)
    return Outcome.OK if all(row.ok for row in rows) else Outcome.FINDINGS


CHECK_STYLE = {"ok": "green", "failed": "red", "not tried": "yellow"}


def print_check_rows(rows: list[CheckRow]) -> None:
    """doctor's table: one row per thing tested. Every cell is plain text (details hold what hosts sent)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="auditpack doctor")
    for col in ("host", "check", "target", "credential", "result", "detail"):
        table.add_column(col)
    for row in rows:
        style = CHECK_STYLE.get(row.status, "")
        table.add_row(
            Text(row.host),
            Text(row.check),
            Text(row.target),
            Text(row.credential),
            Text(row.status, style=style),
            Text(row.detail),
        )
    console.print(table)
    failed = [row for row in rows if not row.ok]
    if failed:
        hosts = sorted({row.host for row in failed})
        console.print(f"{len(failed)} of {len(rows)} checks did not pass, on: {', '.join(hosts)}", style="yellow", markup=False)


COMMANDS = (collect, check, doctor)
