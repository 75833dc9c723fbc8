"""`auditpack report`, `pack`, `sample` and `controls`: the commands that evaluate the store and write for the auditor."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from auditpack import __version__
from auditpack.reports.formats import FORMAT_NAMES

from .output import View, cell, literal, output_options, print_json, print_line
from .shared import (
    CONSOLE_WORDS,
    Outcome,
    StepTimes,
    check_control_ids,
    console,
    console_text,
    control_option,
    err_console,
    exceptions_option,
    json_option,
    lang_option,
    load_exceptions,
    load_profile,
    open_store,
    operator_option,
    out_option,
    period_json,
    period_options,
    print_results,
    profile_option,
    pseudonym_key,
    resolve_period,
    results_json,
    results_outcome,
    signing_key,
    signing_key_option,
    store_option,
    warn_if_open,
)

if TYPE_CHECKING:
    from auditpack.pack import PackSummary


@click.command()
@store_option
@period_options
@profile_option
@exceptions_option
@control_option
@lang_option
@out_option
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(FORMAT_NAMES),
    help=f"Only these formats (repeatable; default all: {', '.join(FORMAT_NAMES)}).",
)
@signing_key_option
@output_options
def report(
    store_path: Path,
    year: int | None,
    start: datetime | None,
    end: datetime | None,
    profile_path: str | None,
    exceptions_path: str | None,
    control_ids: tuple[str, ...],
    lang: str,
    out_dir: Path,
    formats: tuple[str, ...],
    key_path: Path | None,
    view: View,
) -> Outcome:
    """Evaluate every control over a period and write the audit report in every format.

    HTML and PDF for people, an Excel workbook for auditors (every tested item,
    the evidence index, exceptions, samples), JSON in a published schema, and
    for GRC tools OSCAL assessment results (with the assessment plan, system
    security plan, profile and catalogue they import, so every reference
    resolves) and OCSF Compliance Findings. All come from the same report
    document, so they cannot disagree. Without --period or --from/--to the
    period is the last full calendar year. No host is contacted.

    \b
    Examples:
      auditpack report --period 2026
      auditpack report --period 2026 --profile profiles/klant-a.yaml --exceptions exceptions.yaml
      auditpack report --from 2026-01-01 --to 2026-06-30 --lang en --format html --format xlsx
      auditpack report --period 2026 --quiet     (prints only the paths written, one a line)
      auditpack report --period 2026 --json      (results and paths, for other tools)
    Exit codes: 0 every control effective (or not applicable), 1 deviations or
                missing evidence (the report is written all the same), 2 errors.
    """
    from auditpack.annual import make_document, write_formats
    from auditpack.signing import fingerprint

    check_control_ids(control_ids)
    profile, exceptions = load_profile(profile_path), load_exceptions(exceptions_path)
    store = open_store(store_path, create=False)
    period = resolve_period(year, start, end)
    warn_if_open(period, lang)
    key = signing_key(key_path, lang)
    progress = StepTimes()
    document, results = make_document(
        store,
        period,
        lang,
        profile,
        exceptions,
        control_ids=control_ids or None,
        signing_fingerprint=fingerprint(key),
        progress=progress,
    )
    files = write_formats(document, out_dir, formats or FORMAT_NAMES, progress)
    progress("done")
    if view.json:
        document_json = {"auditpack_version": __version__, "command": "report", "period": period_json(period), "lang": lang}
        print_json({**document_json, "results": results_json(results, lang), "files": {k: str(v) for k, v in files.items()}})
    elif view.quiet:
        for path in files.values():
            print_line(str(path))
    else:
        print_results(results, lang)
        width = max(map(len, files), default=0)
        for name, path in files.items():
            console.print(cell(f"{name:>{width}}: {path}"), soft_wrap=True, highlight=False)
    return results_outcome(results)


@click.command()
@store_option
@period_options
@profile_option
@exceptions_option
@lang_option
@out_option
@signing_key_option
@click.option(
    "--pseudonymise",
    is_flag=True,
    help="Replace every person and account name in the pack with a keyed pseudonym (P-…); "
    "the key stays with you ($AUDITPACK_PSEUDONYM_KEY, [keys] pseudonym in the configuration file, or "
    "~/.config/auditpack/pseudonym-key).",
)
@output_options
def pack(
    store_path: Path,
    year: int | None,
    start: datetime | None,
    end: datetime | None,
    profile_path: str | None,
    exceptions_path: str | None,
    lang: str,
    out_dir: Path,
    key_path: Path | None,
    pseudonymise: bool,
    view: View,
) -> Outcome:
    """Build the signed evidence pack for the auditors: the report in every format and the evidence it cites.

    One zip with the report (HTML, PDF, workbook, JSON, OSCAL, OCSF), every evidence
    item the findings cite (raw output byte for byte and its normalised form),
    a manifest with the SHA-256 of every file, a SHA256SUMS file that
    `sha256sum -c` accepts, the Ed25519 signature, and VERIFY.txt for auditors.
    Send the public key (printed below) to the auditors by another channel.

    \b
    Examples:
      auditpack pack --period 2026
      auditpack pack --period 2026 --pseudonymise --lang en
      auditpack pack --period 2026 --quiet       (prints the pack's path, then the public key's)
      auditpack pack --period 2026 --json
    Exit codes: 0 every control effective (or not applicable), 1 deviations or
                missing evidence (the pack is built all the same), 2 errors.
    """
    from auditpack.annual import annual_pack
    from auditpack.atomic import write_atomic
    from auditpack.private import PUBLIC_FILE
    from auditpack.signing import public_key_pem

    profile, exceptions = load_profile(profile_path), load_exceptions(exceptions_path)
    store = open_store(store_path, create=False)
    period = resolve_period(year, start, end)
    warn_if_open(period, lang)
    key = signing_key(key_path, lang)
    secret = pseudonym_key(lang) if pseudonymise else None
    progress = StepTimes()
    annual, summary = annual_pack(
        store, period, out_dir, key, lang=lang, profile=profile, exceptions=exceptions, pseudonym_key=secret, progress=progress
    )
    progress("done")
    public = write_atomic(out_dir / "signing-key.pub", public_key_pem(key), mode=PUBLIC_FILE)  # the one file meant for all
    if view.json:
        timestamped = store.tsa is not None and summary.timestamp_error is None
        packed = pack_json(summary, public, secret is not None, timestamped)
        document = {"auditpack_version": __version__, "command": "pack", "period": period_json(period), "lang": lang}
        print_json({**document, "results": results_json(annual.results, lang), "pack": packed})
    elif view.quiet:
        print_line(str(summary.path))
        print_line(str(public))
    else:
        print_results(annual.results, lang)
        print_pack(summary, public, secret is not None, lang)
    if summary.timestamp_error:
        err_console.print(
            f"The pack's MANIFEST.json is NOT timestamped: {literal(summary.timestamp_error)}. Build the pack again when the TSA answers.",
            style="yellow",
            soft_wrap=True,
            markup=False,
        )
    return results_outcome(annual.results)


def print_pack(summary: PackSummary, public: Path, pseudonymised: bool, lang: str) -> None:
    """The pack for people: its path, size, hash, signer and the public key to send."""
    size = console_text("pack_size", lang, size=round(summary.size / 1e6, 1), items=summary.items)
    suffix = f", {console_text('pseudonymised', lang)}" if pseudonymised else ""
    labels = {key: console_text(key, lang) for key in ("pack", "signed_by", "public_key")}
    width = max(len(label) for label in (*labels.values(), "SHA-256:")) + 1
    text = (
        f"{labels['pack']:<{width}}{summary.path} ({size}{suffix})\n{'SHA-256:':<{width}}{summary.sha256}\n"
        f"{labels['signed_by']:<{width}}{summary.fingerprint}\n"
        f"{labels['public_key']:<{width}}{public} {console_text('send_separately', lang)}"
    )
    for line in text.splitlines():  # each line literal: the paths are the user's, the store's
        console.print(cell(line), soft_wrap=True, highlight=False)


def pack_json(summary: PackSummary, public: Path, pseudonymised: bool, timestamped: bool) -> dict:
    """The pack for --json (docs/console.md); timestamped: MANIFEST.json carries a TSA's token."""
    return {
        "path": str(summary.path),
        "sha256": summary.sha256,
        "bytes": summary.size,
        "evidence_items": summary.items,
        "signed_by": summary.fingerprint,
        "public_key": str(public),
        "pseudonymised": pseudonymised,
        "timestamped": timestamped,
        "timestamp_error": summary.timestamp_error,
    }


@click.command()
@click.argument("control_id", metavar="CONTROL")
@click.option("--size", type=click.IntRange(min=1), required=True, help="How many items to draw.")
@click.option(
    "--seed",
    type=int,
    default=None,
    help="The seed that makes the draw reproducible: the auditor's own (default: a new one, printed).",
)
@store_option
@period_options
@profile_option
@exceptions_option
@operator_option
@lang_option
@json_option
def sample(
    control_id: str,
    size: int,
    seed: int | None,
    store_path: Path,
    year: int | None,
    start: datetime | None,
    end: datetime | None,
    profile_path: str | None,
    exceptions_path: str | None,
    operator: str,
    lang: str,
    as_json: bool,
) -> Outcome:
    """Draw a reproducible sample from what a control tested, for the auditor to reperform.

    The population is every subject-date the control tested: each server on each
    day for a daily control (backup days), each workstation on each collection,
    each leaver on the last working day. The same control, period, size, seed and
    evidence always draw the same items. Each drawn item is listed with its
    result, the attributes the test used and the evidence ids; the sample is stored
    as evidence with who drew it (--operator), so the report and the workbook list it.

    \b
    Examples:
      auditpack sample T-BAK-1 --size 25 --seed 2026 --period 2026
      auditpack sample O-LVR --size 5 --seed 7 --operator "J. Jansen (auditor)" --lang en
    Exit codes: 0 drawn and stored, 2 unusable input (unknown control, a sample larger than the population).
    """
    from auditpack.controls.evaluate import evaluate_controls
    from auditpack.controls.model import load_catalogue
    from auditpack.sampling import draw_sample, store_sample

    check_control_ids((control_id,))
    profile, exceptions = load_profile(profile_path), load_exceptions(exceptions_path)
    store = open_store(store_path, create=False)
    period = resolve_period(year, start, end)
    warn_if_open(period)
    catalogue = load_catalogue()
    [result] = evaluate_controls(store, period, catalogue, profile, exceptions, control_ids=[control_id])
    seed = seed if seed is not None else int.from_bytes(os.urandom(3), "big")
    try:
        drawn = draw_sample(result, catalogue[control_id].frequency, period, size, seed, operator)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    meta = store_sample(store, drawn)
    if as_json:
        click.echo(json.dumps({**drawn, "item_id": meta["id"]}, indent=2, ensure_ascii=False))
    else:
        print_sample(drawn, meta["id"], period.label, lang)
    return Outcome.OK


def print_sample(drawn: dict, item_id: str, period_label: str, lang: str) -> None:
    """The sample as the auditor works through it: each drawn item, its outcome and evidence ids, then the attributes."""
    from auditpack.controls.model import attribute_labels, load_catalogue
    from auditpack.reports.html import attributes_text
    from auditpack.reports.i18n import ITEM_RESULT_LABELS, STRINGS, WORKBOOK_STRINGS

    words = CONSOLE_WORDS[lang]
    labels = {key: text.in_(lang) for key, text in attribute_labels(load_catalogue()[drawn["control"]]).items()}
    unit = WORKBOOK_STRINGS[lang][f"unit_{drawn['unit']}"]
    header = words["sample_drawn"].format(
        control=drawn["control"],
        period=period_label,
        size=drawn["size"],
        population=drawn["population_size"],
        unit=unit,
        seed=drawn["seed"],
        operator=drawn["drawn_by"],
        item=item_id,
    )
    console.print(header, soft_wrap=True, highlight=False, markup=False)
    for item in drawn["items"]:
        console.print(f"  {item['subject']} {item['date']}", highlight=False, markup=False)
        outcome = ITEM_RESULT_LABELS[lang][item["result"]]
        evidence = ", ".join(item["evidence"]) or "—"
        console.print(
            f"    {words['outcome']}: {outcome} · {words['evidence']}: {evidence}", highlight=False, markup=False, soft_wrap=True
        )
        if item["attributes"]:
            text = attributes_text(item["attributes"], labels, STRINGS[lang])
            console.print(f"    {text}", highlight=False, markup=False, soft_wrap=True)


@click.command()
@json_option
@lang_option
def controls(as_json: bool, lang: str) -> Outcome:
    """List the control catalogue: ids, titles, references and parameters.

    \b
    Examples:
      auditpack controls
      auditpack controls --json > catalogue.json
    Exit codes: 0 listed, 2 the catalogue cannot be read.
    """
    from rich.table import Table

    from auditpack.controls.model import load_catalogue
    from auditpack.reports.i18n import FREQUENCY_LABELS

    catalogue = load_catalogue()
    if as_json:
        data = [c.model_dump(mode="json") for c in catalogue.values()]
        click.echo(json.dumps({"auditpack_version": __version__, "controls": data}, indent=2, ensure_ascii=False))
        return Outcome.OK
    table = Table(title=console_text("catalogue_title", lang, count=len(catalogue)))
    for col in ("id", "title", "frequency", "evidence", "references", "parameters"):
        table.add_column(console_text(col, lang))
    for c in catalogue.values():
        params = ", ".join(f"{k}={v.default}" for k, v in c.parameters.items() if not isinstance(v.default, (list, dict)))
        table.add_row(
            c.id,
            c.title.in_(lang),
            FREQUENCY_LABELS[lang][c.frequency],
            ", ".join(c.evidence_kinds),
            ", ".join(c.references.gdpr + c.references.iso27001_2022),
            params,
        )
    console.print(table)
    return Outcome.OK


COMMANDS = (report, pack, sample, controls)
