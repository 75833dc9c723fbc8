"""`auditpack verify`, `timestamp`, `diff`, `firewall-diff` and `reveal`: checking and comparing what was kept."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from auditpack.errors import AuditpackError

from .shared import (
    Outcome,
    console,
    err_console,
    json_option,
    lang_option,
    open_store,
    operator_option,
    pseudonym_key,
    store_option,
    tsa_ca_option,
)

if TYPE_CHECKING:
    from auditpack.store import EvidenceStore, ItemRecord


@click.command()
@click.argument("pack_path", metavar="[PACK.zip]", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--key",
    "key_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The processor's public key (PEM), received apart from the pack. Needed for a pack.",
)
@tsa_ca_option
@store_option
def verify(pack_path: Path | None, key_path: Path | None, tsa_ca: Path | None, store_path: Path) -> Outcome:
    """Check an evidence pack offline, or (without PACK.zip) every hash in the evidence store.

    A pack: the Ed25519 signature of its manifest with the key you were given,
    then every file against the manifest; each file that changed, is missing or
    was added is named. Then the chronology: the period's run manifests, each
    chained to the one before by its hash from the last run before the period
    to the last one of the period, the report's runs and latest manifest
    against that chain, and each RFC 3161 timestamp token against the TSA's
    certificate. The store: every blob and manifest, the chain of run
    manifests and their tokens; leftovers of an interrupted run are reported
    as harmless. A run timestamped late or not at all is said, not a fault.

    \b
    Examples:
      auditpack verify auditpack-2026.zip --key klantcontact-demo.pub --tsa-ca tsa-ca.pem
      auditpack verify --store /srv/auditpack/evidence
    Exit codes: 0 intact, 1 something was changed, missing or added, 2 not a pack or store.
    """
    if pack_path is not None:
        return _verify_pack(pack_path, key_path, tsa_ca)
    from auditpack.timestamping import load_tsa_certificates

    store = open_store(store_path, create=False)
    result = store.verify(load_tsa_certificates(tsa_ca) if tsa_ca else None)
    style = {"error": "red", "warning": "yellow", "info": "dim"}
    for finding in result.findings:
        console.print(str(finding), style=style[finding.severity], highlight=False, markup=False, soft_wrap=True)
    summary = f"{result.manifests} runs, {result.items} items, {result.blobs} blobs ({result.blob_bytes / 1e6:.1f} MB)"
    if result.timestamps:
        summary += "; timestamps: " + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(result.timestamps.items()))
    _print_reveals(store)
    if result.ok:
        console.print(f"[green]Evidence store intact:[/] {summary}", soft_wrap=True)
        return Outcome.OK
    console.print(
        f"[red bold]Evidence store NOT intact[/] ({sum(f.severity == 'error' for f in result.findings)} problem(s)); {summary}",
        soft_wrap=True,
    )
    return Outcome.FINDINGS


def _print_reveals(store: EvidenceStore) -> None:
    """Each recorded use of `reveal`: looking behind pseudonyms is part of what the store shows."""
    from auditpack.reveals import reveals_in

    for use in reveals_in(store):
        asked = ", ".join(p["pseudonym"] for p in use["pseudonyms"])
        why = f", reason: {use['reason']}" if use["reason"] else ", no reason given"
        console.print(
            f"Revealed: {asked} by {use['revealed_by']} at {use['at']}{why} (run {use['run']}, item {use['item']})",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


def _verify_pack(pack_path: Path, key_path: Path | None, tsa_ca: Path | None) -> Outcome:
    from auditpack.pack import verify_pack

    if key_path is None:
        raise click.UsageError(
            "a pack is verified with the processor's public key: add --key KEY.pub "
            "(the key inside the pack proves nothing by itself)"
        )
    if not pack_path.exists():
        raise AuditpackError(f"{pack_path} does not exist")
    if tsa_ca is not None:
        from auditpack.timestamping import load_tsa_certificates

        load_tsa_certificates(tsa_ca)  # a file that holds no certificate is unusable input (2), not a finding
    result = verify_pack(pack_path, key_path, tsa_ca)
    for problem in result.problems:
        console.print(problem, style="red", highlight=False, soft_wrap=True, markup=False)
    for notice in result.notices:
        console.print(notice, style="yellow", highlight=False, soft_wrap=True, markup=False)
    if result.chronology:
        console.print(f"Chronology: {result.chronology}", highlight=False, soft_wrap=True, markup=False)
    if result.ok:
        console.print(
            f"[green]Pack intact and signed by {result.fingerprint}:[/] {result.files_checked} files checked", soft_wrap=True
        )
        return Outcome.OK
    not_a_pack = not result.signature_ok and result.manifest is None
    console.print(
        f"[red bold]Pack NOT intact[/]: {len(result.changed)} changed, {len(result.missing)} missing, "
        f"{len(result.added)} added, signature {'valid' if result.signature_ok else 'NOT valid'}"
    )
    return Outcome.ERROR if not_a_pack else Outcome.FINDINGS


@click.command(name="timestamp")
@store_option
def timestamp_command(store_path: Path) -> Outcome:
    """Timestamp, late, the runs that have no RFC 3161 token yet.

    Every run is timestamped when it is committed, by the Time-Stamp Authority
    that AUDITPACK_TSA_URL or [tsa] url in the configuration file names (its
    answers checked against the certificate in AUDITPACK_TSA_CA or [tsa] ca). A run whose TSA could not be reached then is kept
    and marked "not timestamped" with the reason. This command asks the TSA
    again for each run without a token. Such a token proves only that the
    manifest existed at the token's time, after the run: verify and the pack
    state it as timestamped late, with the reason it was not timestamped then.

    \b
    Examples:
      auditpack timestamp
      AUDITPACK_TSA_URL=https://tsa.example.org/tsr AUDITPACK_TSA_CA=tsa-ca.pem auditpack timestamp --store evidence
    Exit codes: 0 every run has a token, 1 some run still has none (the TSA did not answer), 2 no TSA configured or no store.
    """
    from auditpack.timestamping import TSA_CA_ENV, TSA_URL_ENV

    store = open_store(store_path, create=False)
    if store.tsa is None:
        raise AuditpackError(
            f"No Time-Stamp Authority is configured: set {TSA_URL_ENV} to its URL and {TSA_CA_ENV} to its CA "
            f"certificate (PEM), or url and ca under [tsa] in the configuration file, then run `auditpack timestamp` again."
        )
    todo = store.untimestamped()
    still = 0
    for ref in todo:
        failed = store.timestamp_run(ref)
        if failed is None:
            console.print(f"run {ref.seq}: {store.run_timestamp(ref).text}", highlight=False, soft_wrap=True, markup=False)
        else:
            still += 1
            console.print(f"run {ref.seq}: still not timestamped: {failed}", style="yellow", soft_wrap=True, markup=False)
    if not todo:
        console.print("Every run already has a timestamp.")
    elif still:
        console.print(f"[yellow]{still} of {len(todo)} run(s) still without a timestamp; try again when the TSA answers.[/]")
    else:
        console.print(f"[green]{len(todo)} run(s) timestamped late[/] (their notes keep saying why not at commit).")
    return Outcome.FINDINGS if still else Outcome.OK


@click.command(name="diff")
@click.argument("old", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@lang_option
@json_option
def diff_command(old: Path, new: Path, lang: str, as_json: bool) -> Outcome:
    """Show what changed between two evidence packs: results, populations, exceptions, firewall rules.

    Signatures are not checked here: run `auditpack verify` on both packs first.

    \b
    Example:
      auditpack diff auditpack-2025.zip auditpack-2026.zip --lang en
    Exit codes: 0 nothing changed, 1 something changed, 2 not a pack.
    """
    from auditpack.pack_diff import diff_packs, format_diff, has_changes

    try:
        result = diff_packs(old, new)
    except (ValueError, KeyError, TypeError) as exc:  # a document.json that is not a report document
        raise AuditpackError(f"{old} and {new} cannot be compared: {exc!r}") from None
    click.echo(json.dumps(result, indent=2, ensure_ascii=False) if as_json else format_diff(result, lang))
    return Outcome.FINDINGS if has_changes(result) else Outcome.OK


def _moment(item: ItemRecord) -> str:
    """When a ruleset was read; an imported backup also says the day it was made."""
    return f"{item.day} (imported {item.started})" if item.as_of else item.started


@click.command(name="firewall-diff")
@click.argument("host")
@click.option(
    "--old",
    "old_day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The earlier moment (YYYY-MM-DD); default: 365 days before --new.",
)
@click.option("--new", "new_day", type=click.DateTime(["%Y-%m-%d"]), default=None, help="The later moment; default: today.")
@json_option
@store_option
def firewall_diff(host: str, old_day: datetime | None, new_day: datetime | None, as_json: bool, store_path: Path) -> Outcome:
    """Show the firewall rules added, removed and changed between two moments.

    Each moment takes the last ruleset collected or imported on or before that
    day, so the default compares today's rules with those of a year ago.

    \b
    Examples:
      auditpack firewall-diff fw01
      auditpack firewall-diff fw01 --old 2026-10-01 --new 2026-11-01
    Exit codes: 0 no change, 1 rules changed, 2 no ruleset for a moment.
    """
    from rich.table import Table

    from auditpack.rule_history import rules_diff

    new = (new_day or datetime.now()).date()
    old = old_day.date() if old_day else new - timedelta(days=365)
    store = open_store(store_path, create=False)
    try:
        before, after, diff = rules_diff(store, host, old, new)
    except ValueError as exc:
        raise AuditpackError(str(exc)) from None
    outcome = Outcome.FINDINGS if any(diff.values()) else Outcome.OK
    if as_json:
        click.echo(
            json.dumps(
                {
                    "host": host,
                    "old": {"item": before.item.id, "collected": before.item.started, "day": before.item.day},
                    "new": {"item": after.item.id, "collected": after.item.started, "day": after.item.day},
                    **diff,
                },
                indent=2,
            )
        )
        return outcome
    console.print(
        f"{host}: rules of {_moment(before.item)} (item {before.item.id}) against {_moment(after.item)} (item {after.item.id})",
        soft_wrap=True,
        markup=False,
    )
    table = Table()
    for col in ("change", "rule", "direction", "source", "destination", "service", "action", "description"):
        table.add_column(col)
    rows = [("added", r) for r in diff["added"]] + [("removed", r) for r in diff["removed"]]
    rows += [(f"changed: {', '.join(c['fields'])}", c["after"]) for c in diff["changed"]]
    for change, rule in rows:
        table.add_row(
            *(
                _plain(v)
                for v in (
                    change,
                    rule["id"],
                    rule["direction"],
                    rule["source"],
                    rule["destination"],
                    rule["service"],
                    rule["action"] if rule["enabled"] else f"{rule['action']} (disabled)",
                    rule["description"],
                )
            )
        )
    console.print(table if rows else "No rule changed.")
    return outcome


def _plain(text: str):
    """A cell from evidence (a rule's description may hold '[…]'), never read as console markup."""
    from rich.text import Text

    return Text(str(text))


@click.command(name="reveal")
@click.argument("pseudonyms", nargs=-1, required=True)
@click.option("--reason", metavar="TEXT", help="Why the names are needed (e.g. the auditor's question); kept in the record.")
@store_option
@operator_option
def reveal_command(pseudonyms: tuple[str, ...], reason: str | None, store_path: Path, operator: str) -> Outcome:
    """Show which person or account is behind a pseudonym in a pseudonymised pack (needs your key).

    Every use is recorded in the store first, as evidence of its own: who
    revealed which pseudonyms, when, whether each was found, and --reason.
    The names shown are not kept in that record. `auditpack verify` lists
    the recorded uses.

    \b
    Examples:
      auditpack reveal P-3b1e2016c9
      auditpack reveal P-3b1e2016c9 P-77c0a1e2d4 --reason "auditor's question 4 on leaver accounts"
    Exit codes: 0 every pseudonym found, 1 some not found, 2 no store or key.
    """
    from auditpack.pseudonymise import names_in_store, reveal
    from auditpack.reveals import record_reveal

    store = open_store(store_path, create=False)
    secret = pseudonym_key(create=False)  # a new key would reveal nothing
    names = names_in_store(store)
    found = {wanted.strip(): reveal(secret, wanted, names) for wanted in pseudonyms}
    seq, meta = record_reveal(store, operator, {p: bool(n) for p, n in found.items()}, reason)  # before anything is shown
    for wanted, names_found in found.items():
        console.print(
            f"{wanted}: {', '.join(names_found) if names_found else 'not found among the names in this store'}",
            highlight=False,
            markup=False,
        )
    err_console.print(f"This use is recorded as item {meta['id']} in run {seq}.", style="dim", markup=False, highlight=False)
    return Outcome.OK if all(found.values()) else Outcome.FINDINGS


COMMANDS = (verify, timestamp_command, diff_command, firewall_diff, reveal_command)
