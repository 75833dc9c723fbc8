"""`auditpack lab up|down|status` and `auditpack demo`: the fictitious contact centre, audited end to end.

Added to the auditpack command line through the `auditpack.commands` entry points of this distribution.
"""

from __future__ import annotations

import os
import time
from datetime import date, datetime
from pathlib import Path

import click
from rich.table import Table

from auditpack.commands.collect import collect_with_progress
from auditpack.commands.shared import (
    Outcome,
    console,
    default_operator,
    lang_option,
    load_inventory,
    open_store,
    print_results,
    results_outcome,
)
from auditpack.errors import AuditpackError

from .company import COMPANY_NAME, DEFAULT_SEED

LAB_DIR = Path("auditpack-lab")
DEMO_MARK = ".auditpack-demo"  # the demo empties its work directory only when it made it
dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=LAB_DIR,
    show_default=True,
    help="Where the lab keeps its directory, repositories, registers and inventory.",
)
seed_option = click.option(
    "--seed",
    type=int,
    default=DEFAULT_SEED,
    show_default=True,
    help="The same seed gives the same company, people and deviations on every machine.",
)


def _set_lab_secrets() -> None:
    """The lab's throwaway passwords, where its inventory's references look for them."""
    from . import layout

    os.environ.setdefault(layout.PASSWORD_ENV, layout.AUDIT_PASSWORD)
    os.environ.setdefault(layout.BORG_ENV, layout.BORG_PASSPHRASE)


def _start(directory: Path, seed: int):
    from .control import LabError, lab_up

    began = time.monotonic()
    with console.status(f"Starting the lab of {COMPANY_NAME}…") as status:

        def step(text: str) -> None:
            console.print(f"  [dim]{time.monotonic() - began:5.1f} s[/]  {text}", highlight=False, soft_wrap=True)
            status.update(f"{text}…")

        try:
            state = lab_up(directory, seed, step)
        except LabError as exc:
            raise AuditpackError(str(exc)) from None
    console.print(
        f"  [dim]{time.monotonic() - began:5.1f} s[/]  [green]lab up[/] (pid {state.pid}), inventory {state.inventory}",
        highlight=False,
        soft_wrap=True,
    )
    return state


@click.group()
def lab() -> None:
    """The demo lab: Klantcontact Demo BV, a fictitious contact centre on this machine's loopback addresses.

    A real Samba AD domain controller, OpenSSH hosts (a perimeter firewall with
    nftables in a network namespace, a backup server with borg repositories),
    WinRM hosts for the domain controller, the file server and 100 workstations,
    an ePO-style anti-virus console, and the company's registers, all generated
    from a seed. Needs root (privileged ports, network namespaces).

    \b
    Examples:
      sudo auditpack lab up           (writes ./auditpack.toml pointing at the lab)
      auditpack collect               (after exporting the two variables `lab up` prints)
      sudo auditpack lab down
    """


@lab.command(name="up")
@dir_option
@seed_option
def lab_up_command(directory: Path, seed: int) -> Outcome:
    """Build and start the lab; it keeps running until `auditpack lab down`.

    \b
    Example:
      auditpack lab up --dir /tmp/kcdemo --seed 7
    """
    from . import layout

    state = _start(directory, seed)
    config, prefix = _write_lab_config(state)
    console.print(
        f"\nThe lab's year: {state.first_day} to {state.today}. To audit it by hand:\n"
        f"  export {layout.PASSWORD_ENV}='{layout.AUDIT_PASSWORD}' {layout.BORG_ENV}='{layout.BORG_PASSPHRASE}'\n"
        f"  {prefix} doctor\n"
        f"  {prefix} collect\n"
        f"  {prefix} import register hr_leavers {state.registers.get('hr_leavers', '…')}   (and the other registers in "
        f"{Path(state.inventory).parent / 'registers'})\n"
        f"  {prefix} report --from {state.first_day} --to {state.today}\n"
        f"The configuration {config} names the lab's inventory, evidence store, profile, exceptions and "
        f"Time-Stamp Authority (`{prefix} config show`).\n"
        f"The passwords above are the lab's own throwaway secrets; nothing outside this machine's loopback uses them.",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
    return Outcome.OK


def _write_lab_config(state) -> tuple[Path, str]:
    """The lab's auditpack.toml in its directory, and in ./ unless a file there is someone else's; returns the
    file the tour uses and how to call auditpack with it."""
    from .runtime import CONFIG_FILE, CONFIG_MARK, lab_config_text

    text = lab_config_text(state)
    own = Path(state.inventory).parent / CONFIG_FILE
    own.write_text(text)
    local = Path(CONFIG_FILE)
    if not local.exists() or local.read_text(errors="replace").startswith(CONFIG_MARK):
        local.write_text(text)
        console.print(f"Wrote {local.resolve()} (as {own}): auditpack uses it here without -i.", highlight=False, soft_wrap=True)
        return local.resolve(), "auditpack"
    console.print(
        f"./{CONFIG_FILE} exists and is not the lab's, so it is left alone. It would say:\n{text}"
        f"Use the lab's own copy: `auditpack --config {own} …` (or export AUDITPACK_CONFIG={own}).",
        highlight=False,
        soft_wrap=True,
        markup=False,
    )
    return own, f"auditpack --config {own}"


@lab.command(name="down")
@dir_option
def lab_down_command(directory: Path) -> Outcome:
    """Stop every peer of the lab and end its process.

    \b
    Example:
      auditpack lab down --dir /tmp/kcdemo
    """
    from .control import lab_down

    if lab_down(directory):
        console.print(f"Lab in {directory} stopped.", markup=False)
    else:
        console.print(f"No lab is running in {directory}.", markup=False)
    _say_what_of_config(directory)
    return Outcome.OK


def _say_what_of_config(directory: Path) -> None:
    """A ./auditpack.toml the lab wrote still points at it: say so, or the next command audits a stopped lab."""
    from .runtime import CONFIG_FILE, CONFIG_MARK

    local = Path(CONFIG_FILE)
    try:
        text = local.read_text(errors="replace")
    except OSError:
        return
    if text.startswith(CONFIG_MARK) and str(directory.resolve()) in text:
        console.print(
            f"{local.resolve()} still points auditpack at this lab (its inventory, store and Time-Stamp Authority): "
            f"remove it (`rm {CONFIG_FILE}`) before auditing other systems from here; the next `auditpack lab up` "
            f"writes it again. The lab's evidence store in {directory / 'evidence'} stays until the next `lab up`.",
            highlight=False,
            soft_wrap=True,
            markup=False,
        )


@lab.command(name="status")
@dir_option
def lab_status_command(directory: Path) -> Outcome:
    """Show whether the lab runs and whether each of its services answers.

    \b
    Example:
      auditpack lab status
    Exit codes: 0 running and every service answers, 1 some do not, 2 no lab running.
    """
    from .control import lab_status, running_state

    state = running_state(directory)
    if state is None:
        raise AuditpackError(f"No lab is running in {directory}; `auditpack lab up` starts one.")
    found = lab_status(state)
    answering = sum(e.answers for e in found)
    hosts: dict[str, list] = {}
    for e in found:
        hosts.setdefault(e.host, []).append(e)
    table = Table(title=f"{COMPANY_NAME} · seed {state.seed} · built {state.built} · pid {state.pid}")
    for col in ("host", "endpoints", "answers"):
        table.add_column(col)
    for host, endpoints in hosts.items():
        ok = all(e.answers for e in endpoints)
        table.add_row(host, " ".join(e.endpoint for e in endpoints), "[green]yes[/]" if ok else "[red]NO[/]")
    console.print(table)
    console.print(f"{answering} of {len(found)} endpoints answer. Inventory: {state.inventory}", soft_wrap=True)
    return Outcome.OK if answering == len(found) else Outcome.FINDINGS


def _print_replayed(step) -> None:
    hosts = ", ".join(f"{n} {status}" for status, n in sorted(step.hosts.items())) or "-"
    console.print(
        f"  {step.moment:%Y-%m-%d %H:%M}  {step.status:<9} {hosts:<28} {step.what}  [dim]{step.seconds:.1f} s[/]",
        highlight=False,
        soft_wrap=True,
    )


def _import_registers(store, state, operator: str) -> None:
    from auditpack.collectors.parsers.registers import RegisterError
    from auditpack.imports import import_egress_register, import_register

    for name, path in state.registers.items():
        try:
            _, _, normalized = import_register(store, name, Path(path), operator)
        except RegisterError as exc:
            raise AuditpackError(f"Register {path}", exc.problems) from None
        console.print(f"  {name:<22} {len(normalized['rows']):>6} rows  {Path(path).name}", highlight=False)
    _, _, egress = import_egress_register(store, Path(state.egress_register), operator)
    console.print(
        f"  {'egress register':<22} {len(egress['entries']):>6} reasons  {Path(state.egress_register).name}", highlight=False
    )


@click.command()
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("auditpack-demo"),
    show_default=True,
    help="Where the demo's lab, evidence store, report and pack go (emptied first).",
)
@lang_option
@seed_option
@click.option(
    "--keep-lab", is_flag=True, help="Leave the lab running afterwards, to explore it (`auditpack lab down --dir WORKDIR/lab`)."
)
def demo(workdir: Path, lang: str, seed: int, keep_lab: bool) -> Outcome:
    """Audit the demo lab end to end: lab up, collect, evaluate, report, pack, verify, lab down.

    Needs no customer system: it starts the lab of Klantcontact Demo BV (see
    `auditpack lab --help`), imports its registers, collects from its 105 hosts,
    evaluates every control over the lab's year, writes the report in every
    format, builds the signed evidence pack (with a demo signing key kept in the
    work directory), verifies the store and the pack, and stops the lab.

    \b
    Example:
      sudo auditpack demo --workdir /tmp/auditpack-demo --lang en
    Exit codes, as for `auditpack pack`: 1 when the report has deviations (the
    demo company's deliberate ones: the report and a verified pack were made),
    0 when every control is effective, 2 when something failed.
    """
    from auditpack.annual import annual_pack
    from auditpack.controls.exceptions import load_exceptions
    from auditpack.controls.model import load_catalogue
    from auditpack.controls.profiles import load_profile
    from auditpack.pack import verify_pack
    from auditpack.periods import Period, period_from_options
    from auditpack.signing import load_or_create_key, public_key_pem

    from .company import build_company
    from .control import lab_down, running_state
    from .replay import replay_year
    from .runtime import fresh_directory
    from .year import COLLECTION_FREQUENCY, MINIMUM_COVERAGE

    began = time.monotonic()

    def phase(title: str) -> None:
        from rich.rule import Rule

        # a rule spans the console: in a pipe, whose console is wide so that nothing wraps, keep it to 100 columns
        console.print(Rule(f"{title} · {time.monotonic() - began:.0f} s"), width=min(console.width, 100))

    if running_state(workdir / "lab") is not None:
        raise click.UsageError(f"a lab is still running in {workdir / 'lab'}: `auditpack lab down --dir {workdir / 'lab'}` first")
    try:
        fresh_directory(workdir, DEMO_MARK)
    except RuntimeError as exc:
        raise click.UsageError(str(exc)) from None
    phase("1/6 lab up")
    state = _start(workdir / "lab", seed)
    operator = default_operator()
    try:
        _set_lab_secrets()
        os.environ.update(state.tsa_environment())  # every run of the year and the pack timestamped by the lab's TSA
        store = open_store(workdir / "evidence", create=True)
        company = build_company(seed, datetime.fromisoformat(state.built))
        year = company.year
        phase(f"2/6 the year of collections: {len(year.simulated)} with the lab's clock set to their day")
        console.print(
            f"The company collects {COLLECTION_FREQUENCY}; the profile asks for {MINIMUM_COVERAGE:.0%} of the "
            f"{COLLECTION_FREQUENCY.removesuffix('ly')}s of the period evidenced. Each collection's output: "
            f"{workdir / 'year' / 'collections.log'}",
            highlight=False,
            soft_wrap=True,
        )
        replay_year(state, store, year, operator, workdir / "year", _print_replayed)
        phase("3/6 registers and the audit's own collection, today")
        _import_registers(store, state, operator)
        collect_with_progress(store, load_inventory(state.inventory), (), (), 16, operator)
        phase("4/6 evaluate, report and pack")
        period: Period = period_from_options(None, date.fromisoformat(state.first_day), date.fromisoformat(state.today), 0)
        key = load_or_create_key(workdir / "keys" / "signing-key.pem")
        annual, summary = annual_pack(
            store,
            period,
            workdir / "reports",
            key,
            lang=lang,
            profile=load_profile(state.profile, load_catalogue()),
            exceptions=load_exceptions(state.exceptions),
        )
        print_results(annual.results, lang)
        phase("5/6 verify the store and the pack")
        check_result = store.verify()
        console.print("[green]evidence store intact[/]" if check_result.ok else "[red]evidence store NOT intact[/]")
        public = workdir / "keys" / "signing-key.pub"
        public.write_bytes(public_key_pem(key))
        tsa_ca = workdir / "keys" / "tsa-ca.pem"  # what the auditor gets from the TSA, as the public key from the company
        tsa_ca.write_bytes(Path(state.tsa_ca).read_bytes())
        pack_check = verify_pack(summary.path, public, tsa_ca)
        console.print(
            f"[green]pack intact, signed by {pack_check.fingerprint}[/]"
            if pack_check.ok
            else f"[red]pack NOT intact: {'; '.join(pack_check.problems[:3])}[/]",
            soft_wrap=True,
        )
        console.print(f"chronology: {pack_check.chronology}", soft_wrap=True, highlight=False, markup=False)
    finally:
        if keep_lab:
            console.print(f"The lab keeps running: `auditpack lab down --dir {workdir / 'lab'}` stops it.")
        else:
            phase("6/6 lab down")
            lab_down(workdir / "lab")
            console.print("lab stopped")
    files = "\n".join(f"{fmt.upper():<15} {path.resolve()}" for fmt, path in annual.files.items())
    console.print(
        f"\n{files}\nPACK            {summary.path.resolve()}\nPUBLIC KEY      {public.resolve()}\nTSA CA          {tsa_ca.resolve()}\n"
        f"EVIDENCE STORE  {store.root.resolve()}\nTime taken:     {time.monotonic() - began:.1f} s",
        soft_wrap=True,
        highlight=False,
    )
    if not (check_result.ok and pack_check.ok):
        raise AuditpackError("The demo's evidence store or pack did not verify (see above).")
    outcome = results_outcome(annual.results)
    if outcome is Outcome.FINDINGS:
        console.print("Exit code 1: the report names deviations, as the demo company was built to have.", highlight=False)
    return outcome
