"""`auditpack collect`, `check` and `doctor`: the commands that talk to the inventory's hosts."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from auditpack import __version__
from auditpack.errors import AuditpackError
from auditpack.wording import number

from .output import View, cell, host_output_options, literal, notice_console, print_json
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
    period_json,
    period_options,
    print_results,
    profile_option,
    resolve_period,
    results_json,
    results_outcome,
    results_problems,
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
                    err_console.print(cell(f"{host.name}: {exc}", "yellow"), highlight=False)


def collect_with_progress(
    store: EvidenceStore,
    inventory: Inventory,
    hosts: tuple[str, ...],
    roles: tuple[str, ...],
    workers: int,
    operator: str,
    lang: str = CONSOLE_LANG,
    view: View = View(),
) -> RunResult:
    """Collect from the chosen hosts with their progress, then show the run (in LANG) as VIEW asks.

    Up to SUMMARY_FROM hosts (or with --details) a progress row and a table row per host; from then on one
    progress bar for all, a line per host that is not ok as it finishes, and the table of those hosts only.
    Under --json and --quiet stdout gets nothing here (the command prints the JSON); --quiet names each host
    that is not ok on stderr, and nothing at all when every host is.
    """
    from rich.progress import Progress

    from auditpack.runner import Progress as NoProgress
    from auditpack.runner import run_collection

    chosen = inventory.select(list(hosts), list(roles))
    if not chosen:
        raise AuditpackError("No host in the inventory matches --host/--role; nothing to collect.")
    ask_prompted_passwords(chosen)
    summarised = view.summarised(len(chosen))
    if view.quiet:
        result = run_collection(store, inventory, chosen, operator, workers, NoProgress())
    else:
        columns = _progress_columns(summarised)
        with Progress(*columns, console=notice_console) as progress:
            rows = HostCount(progress, len(chosen), lang) if summarised else HostProgressRows(progress, lang)
            result = run_collection(store, inventory, chosen, operator, workers, rows)
    if view.human:
        print_run(result, lang, summarised)
    elif view.quiet:
        for o in result.outcomes:
            if o.status != "ok":
                err_console.print(cell(_problem_line(o, lang)), highlight=False, soft_wrap=True)
    return result


def _progress_columns(summarised: bool) -> tuple:
    from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, SpinnerColumn, Task, TextColumn, TimeElapsedColumn
    from rich.text import Text

    class StatusColumn(ProgressColumn):
        """The task's `status` field: a Text the rows below build (host text in it is never markup)."""

        def render(self, task: Task) -> Text:
            return task.fields.get("status") or Text()

    if summarised:  # one bar for the whole run
        return (SpinnerColumn(), BarColumn(bar_width=24), MofNCompleteColumn(), TimeElapsedColumn(), StatusColumn())
    description = TextColumn("{task.description:<24}", markup=False)  # the host's name, as the inventory has it
    return (SpinnerColumn(), description, BarColumn(bar_width=24), TimeElapsedColumn(), StatusColumn())


def _problem_line(o: HostOutcome, lang: str) -> str:
    """One host that is not ok, as one line: its name, its state and its first problems."""
    from auditpack.reports.i18n import STATE_LABELS

    return f"{o.host}: {STATE_LABELS[lang].get(o.status, o.status)} · {'; '.join(o.errors)[:300]}".rstrip(" ·")


def print_run(result: RunResult, lang: str, summarised: bool) -> None:
    """The run's table (every host, or when summarised those not ok), its total, the manifest and whether partial."""
    from rich.table import Table
    from rich.text import Text

    from auditpack.reports.i18n import STATE_LABELS

    states = STATE_LABELS[lang]
    shown = [o for o in result.outcomes if o.status != "ok"] if summarised else result.outcomes
    if shown:
        table = Table(title=console_text("run_title", lang, seq=result.manifest.seq, run_id=result.body["run_id"]))
        for col in ("host", "status", "items", "seconds", "problems"):
            table.add_column(console_text(col, lang), no_wrap=col == "host")
        for o in shown:
            state = Text(states.get(o.status, o.status), style=HOST_STYLE.get(o.status, ""))
            seconds = number(round(o.seconds, 1), lang)
            table.add_row(cell(o.host), state, str(o.items), seconds, cell("; ".join(o.errors)[:200]))
        console.print(table)
    console.print(cell(run_total(result, lang)), highlight=False, soft_wrap=True)
    console.print(cell(console_text("manifest", lang, path=result.manifest.path)), highlight=False, soft_wrap=True)
    if result.partial:
        console.print(console_text("run_partial", lang), style="yellow", markup=False)


def run_total(result: RunResult, lang: str) -> str:
    """'Run 4: 105 hosts, 100 ok, 5 unreachable; 1234 items' in LANG."""
    from auditpack.reports.i18n import STATE_LABELS

    counts = Counter(o.status for o in result.outcomes)
    ordered = sorted(counts.items(), key=lambda pair: (pair[0] != "ok", pair[0]))  # ok first
    states = ", ".join(f"{n} {STATE_LABELS[lang].get(status, status)}" for status, n in ordered)
    items = console_text("items_done", lang, count=sum(o.items for o in result.outcomes))
    return console_text("run_total", lang, seq=result.manifest.seq, hosts=len(result.outcomes), states=states, items=items)


def run_json(result: RunResult) -> dict:
    """The run for --json (docs/console.md): its id, sequence number, status, manifest, and each host."""
    counts = Counter(o.status for o in result.outcomes)
    return {
        "run_id": result.body["run_id"],
        "seq": result.manifest.seq,
        "status": "partial" if result.partial else "complete",
        "started": result.body["started"],
        "ended": result.body["ended"],
        "manifest": str(result.manifest.path),
        "hosts": [
            {"host": o.host, "status": o.status, "items": o.items, "seconds": round(o.seconds, 3), "problems": o.errors}
            for o in result.outcomes
        ],
        "totals": {"hosts": len(result.outcomes), "items": sum(o.items for o in result.outcomes), "status": dict(counts)},
    }


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
        status = cell(f"{host.connection} · {console_text('starting', self.lang)}")
        self.tasks[host.name] = self.progress.add_task(literal(host.name), total=None, status=status)

    def item_done(self, host: Host, obs: Observation) -> None:
        self.counts[host.name] += 1
        items = console_text("items_done", self.lang, count=self.counts[host.name])
        self.progress.update(self.tasks[host.name], status=cell(f"{items} · {obs.kind}"))

    def host_finished(self, host: Host, outcome: HostOutcome) -> None:
        from rich.text import Text

        state = Text(self.states.get(outcome.status, outcome.status), style=HOST_STYLE.get(outcome.status, "white"))
        items = console_text("items_done", self.lang, count=outcome.items)
        status = Text.assemble(state, f" · {items}")
        self.progress.update(self.tasks[host.name], total=1, completed=1, status=status)


class HostCount:
    """The progress of a large run: one bar over all hosts, and a line for each host that is not ok as it finishes."""

    def __init__(self, progress: Progress, hosts: int, lang: str = CONSOLE_LANG):
        self.progress = progress
        self.lang = lang
        self.task = progress.add_task("hosts", total=hosts, status="")
        self.not_ok = 0

    def host_started(self, host: Host, steps: int) -> None: ...

    def item_done(self, host: Host, obs: Observation) -> None: ...

    def host_finished(self, host: Host, outcome: HostOutcome) -> None:
        if outcome.status != "ok":
            self.not_ok += 1
            style = HOST_STYLE.get(outcome.status, "")
            self.progress.console.print(cell(_problem_line(outcome, self.lang), style), highlight=False, soft_wrap=True)
        status = console_text("not_ok", self.lang, count=self.not_ok) if self.not_ok else ""
        self.progress.update(self.task, advance=1, status=cell(status))


@click.command()
@collection_options
@host_output_options
def collect(
    inventory_path: str | None,
    store_path: Path,
    hosts: tuple[str, ...],
    roles: tuple[str, ...],
    workers: int,
    operator: str,
    view: View,
) -> Outcome:
    """Collect evidence from the inventory's hosts into the evidence store.

    Every output is kept byte for byte, hashed, and listed in a manifest that is
    chained to the previous run's. A host that cannot be reached, or runs out of
    time, is recorded as such and the run goes on; the run is then partial.

    \b
    Examples:
      auditpack collect
      auditpack collect -i site.yaml --role domain_controller --workers 4
      auditpack collect --quiet          (from cron: silent unless a host is not ok)
      auditpack collect --json > run.json
    From 21 hosts on, only the hosts that are not ok are listed, with a total;
    --details lists every host.
    Exit codes: 0 complete, 1 partial (some host or item failed), 2 unusable input.
    """
    inventory = load_inventory(inventory_path)
    store = open_store(store_path, create=True)
    result = collect_with_progress(store, inventory, hosts, roles, workers, operator, view=view)
    if view.json:
        print_json({"auditpack_version": __version__, "command": "collect", "run": run_json(result)})
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
@host_output_options
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
    view: View,
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
      auditpack check --quiet --lang en   (only the hosts and controls that are not ok, on stderr)
      auditpack check --json | jq '.results[] | select(.status != "effective")'
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
    result = collect_with_progress(store, inventory, hosts, roles, workers, operator, lang, view)
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
    if view.json:
        document = {"auditpack_version": __version__, "command": "check", "run": run_json(result)}
        print_json({**document, "period": period_json(period), "results": results_json(results, lang)})
    elif view.quiet:
        results_problems(results, lang)
    else:
        print_results(results, lang)
    return Outcome.FINDINGS if result.partial else results_outcome(results)


@click.command()
@inventory_option
@host_option
@role_option
@host_output_options
def doctor(inventory_path: str | None, hosts: tuple[str, ...], roles: tuple[str, ...], view: View) -> Outcome:
    """Test every host's connection and every credential, read-only, without collecting.

    Each host is reached as a collection would reach it, and each credential
    tried once: the LDAP bind and the rootDSE, the WinRM logon and a script that
    only names the account, the SSH host key against known_hosts and the logon
    with `id -un`, the ePO login (core.help), a TLS handshake with each listed
    endpoint (certificate verified, days to expiry). A failure names the host,
    the credential reference (never its value) and why. A domain account refused
    once is not tried on the next hosts, so a wrong password cannot lock it.
    Nothing is written to the store. From 21 hosts on, only the hosts with a
    failing check are listed (--details: all).

    \b
    Examples:
      auditpack doctor
      auditpack doctor -i site.yaml --role firewall
      auditpack doctor --host dc01 --host fs01
      auditpack doctor --quiet           (only the checks that fail, on stderr)
      auditpack doctor --json
    Exit codes: 0 every credential works, 1 some host or credential fails, 2 bad input.
    """
    from auditpack.collectors.credential_check import check_hosts

    inventory = load_inventory(inventory_path)
    chosen = inventory.select(list(hosts), list(roles))
    if not chosen:
        raise AuditpackError("No host in the inventory matches --host/--role; nothing to check.")
    ask_prompted_passwords(chosen)
    rows = check_hosts(chosen)
    show_check_rows(rows, len(chosen), view)
    return Outcome.OK if all(row.ok for row in rows) else Outcome.FINDINGS


CHECK_STYLE = {"ok": "green", "failed": "red", "not tried": "yellow"}


def show_check_rows(rows: list[CheckRow], hosts: int, view: View) -> None:
    """doctor's rows as VIEW asks: a table (when HOSTS are many, only the hosts with a failing check), JSON, or on
    stderr one line per check that did not pass. Every cell is literal text (details hold what hosts sent)."""
    from dataclasses import asdict

    from rich.table import Table

    failed = [row for row in rows if not row.ok]
    failing = sorted({row.host for row in failed})
    if view.json:
        checks = [{**asdict(row), "ok": row.ok} for row in rows]
        print_json({"auditpack_version": __version__, "command": "doctor", "ok": not failed, "checks": checks})
        return
    if view.quiet:
        for row in failed:
            used = f" ({row.credential})" if row.credential else ""
            err_console.print(cell(f"{row.host}: {row.check}{used} {row.status} · {row.detail}"), highlight=False)
        return
    shown = [row for row in rows if row.host in failing] if view.summarised(hosts) else rows
    if shown:
        table = Table(title="auditpack doctor")
        for col in ("host", "check", "target", "credential", "result", "detail"):
            table.add_column(col, no_wrap=col == "host")
        for row in shown:
            result = cell(row.status, CHECK_STYLE.get(row.status))
            table.add_row(cell(row.host), cell(row.check), cell(row.target), cell(row.credential), result, cell(row.detail))
        console.print(table)
    if failed:
        said = f"{len(failed)} of {len(rows)} checks did not pass, on: {', '.join(failing)}"
        console.print(cell(said, "yellow"), highlight=False, soft_wrap=True)
    else:
        console.print(f"All {len(rows)} checks passed, on {hosts} hosts.", style="green", markup=False, highlight=False)


COMMANDS = (collect, check, doctor)
