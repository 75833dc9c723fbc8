"""What every command shares: the consoles, the exit-code rule, the common options, and opening the inputs.

Commands return an `Outcome`; `auditpack.cli.main` turns it into the exit code and prints every
`AuditpackError` the same way, so no command calls sys.exit or prints a traceback for an expected fault.
Heavy libraries are imported inside the functions that need them: `auditpack --help` stays fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.text import Text

from auditpack.errors import AuditpackError
from auditpack.wording import fill

from .output import cell, console, err_console, literal, notice_console

if TYPE_CHECKING:
    from auditpack.controls.exceptions import ExceptionEntry
    from auditpack.controls.profiles import Profile
    from auditpack.controls.result import ControlResult
    from auditpack.inventory import Inventory
    from auditpack.periods import Period
    from auditpack.store import EvidenceStore

# The consoles (console, err_console, notice_console) live in .output; the commands import them from here.


class Outcome(IntEnum):
    """The exit codes, the same for every command."""

    OK = 0  # everything effective, nothing changed
    FINDINGS = 1  # deviations, a control not effective or not evidenced, a partial run, differences found
    ERROR = 2  # unusable input or an error


EXIT_CODES_HELP = (
    "Exit codes: 0 all effective / nothing changed, 1 deviations, missing evidence, partial or differences, 2 errors."
)

STATUS_STYLE = {
    "effective": "green",
    "effective_with_deviations": "yellow",
    "not_effective": "red",
    "not_evidenced": "bright_black",
    "not_applicable": "bright_black",
}
LANGUAGES = ("nl", "en")
CONSOLE_LANG = "en"  # the console of a command without --lang
# The console's own words, in the language --lang chooses; the documents' vocabulary is reports/i18n.py.
# Texts with placeholders are filled by auditpack.wording.fill ({count:maatregel|maatregelen}).
CONSOLE_WORDS = {
    "nl": {
        "controls": "Maatregelen",
        "control": "maatregel",
        "title": "titel",
        "result": "oordeel",
        "tested": "getoetst",
        "deviations": "afwijkingen",
        "not_evidenced": "niet aangetoond",
        # auditpack controls
        "catalogue_title": "{count:maatregel|maatregelen}",
        "id": "id",
        "frequency": "frequentie",
        "evidence": "bewijs",
        "references": "verwijzingen",
        "parameters": "parameters",
        # a collection run (auditpack check)
        "run_title": "Verzamelronde {seq} · {run_id}",
        "host": "host",
        "status": "status",
        "items": "bewijsstukken",
        "seconds": "seconden",
        "problems": "problemen",
        "manifest": "Manifest: {path}",
        "run_partial": "De verzamelronde is gedeeltelijk: de hosts hierboven die niet 'ok' zijn, zijn zo vastgelegd.",
        "starting": "start",
        "items_done": "{count:bewijsstuk|bewijsstukken}",
        "run_total": "Verzamelronde {seq}: {hosts:host|hosts}, {states}; {items}",
        "not_ok": "{count} niet ok",
        # report and pack
        "period_open": "De periode {period} is nog niet voorbij: beoordeeld op het bewijs tot en met vandaag, {today}.",
        "packing": "Evalueren, het rapport schrijven en het bewijs inpakken...",
        "pack": "Pakket:",
        "pack_size": "{size} MB, {items:bewijsstuk|bewijsstukken}",
        "pseudonymised": "gepseudonimiseerd",
        "signed_by": "Ondertekend door:",
        "public_key": "Publieke sleutel:",
        "send_separately": "(apart versturen)",
        "sample_drawn": "{control}, {period}: {size} van {population} (eenheid: {unit}), startwaarde {seed}, getrokken door "
        "{operator}; vastgelegd als bewijsstuk {item}",
        "outcome": "uitkomst",
        "result_counts": "{deviations:afwijking|afwijkingen}, {gaps} niet aangetoond",
        # a key made on first use (auditpack key init, report, pack, ...)
        "new_signing_key": "Nieuwe ondertekeningssleutel gemaakt: {path}. Maak er nu een reservekopie van met {command} en "
        "bewaar die buiten deze machine: raakt de sleutel kwijt, dan is van elk pakket dat u daarna maakt niet meer aan te "
        "tonen dat het van dezelfde verwerker komt (de publieke sleutel die de auditors hebben, past er niet meer bij).",
        "new_pseudonym_key": "Nieuwe pseudoniemsleutel gemaakt: {path}. Maak er nu een reservekopie van met {command} en "
        "bewaar die buiten deze machine: raakt de sleutel kwijt, dan kan geen enkel pseudoniem in een pakket dat ermee "
        "gemaakt is nog worden onthuld.",
    },
    "en": {
        "controls": "Controls",
        "control": "control",
        "title": "title",
        "result": "result",
        "tested": "tested",
        "deviations": "deviations",
        "not_evidenced": "not evidenced",
        "catalogue_title": "{count:control|controls}",
        "id": "id",
        "frequency": "frequency",
        "evidence": "evidence",
        "references": "references",
        "parameters": "parameters",
        "run_title": "Run {seq} · {run_id}",
        "host": "host",
        "status": "status",
        "items": "items",
        "seconds": "seconds",
        "problems": "problems",
        "manifest": "Manifest: {path}",
        "run_partial": "The run is partial: the hosts above that are not 'ok' are recorded as such.",
        "starting": "starting",
        "items_done": "{count:item|items}",
        "run_total": "Run {seq}: {hosts:host|hosts}, {states}; {items}",
        "not_ok": "{count} not ok",
        "period_open": "The period {period} has not ended: it is judged on the evidence up to today, {today}.",
        "packing": "Evaluating, writing the report and packing the evidence...",
        "pack": "Pack:",
        "pack_size": "{size} MB, {items:evidence item|evidence items}",
        "pseudonymised": "pseudonymised",
        "signed_by": "Signed by:",
        "public_key": "Public key:",
        "send_separately": "(send it separately)",
        "sample_drawn": "{control}, {period}: {size} of {population} (unit: {unit}), seed {seed}, drawn by {operator}; "
        "stored as item {item}",
        "outcome": "outcome",
        "result_counts": "{deviations:deviation|deviations}, {gaps} not evidenced",
        "new_signing_key": "Made a new signing key: {path}. Back it up now with {command} and keep the backup off this "
        "machine: if the key is lost, no pack you make after that can be shown to come from the same processor (the "
        "public key the auditors hold no longer matches).",
        "new_pseudonym_key": "Made a new pseudonym key: {path}. Back it up now with {command} and keep the backup off this "
        "machine: if the key is lost, no pseudonym in a pack made with it can ever be revealed.",
    },
}


def console_text(key: str, lang: str, **values: Any) -> str:
    """One of the console's own texts in LANG, its placeholders filled."""
    return fill(CONSOLE_WORDS[lang][key], values, lang)


def default_operator() -> str:
    """Who runs the command when --operator is not given: AUDITPACK_OPERATOR, the configuration file, else the login."""
    return setting("operator")


# --- options -------------------------------------------------------------------------------------------------------


class LazyChoice(click.Choice):
    """A choice whose names come from a module that is imported only when the option is used or its help is shown."""

    def __init__(self, names: Callable[[], Iterable[str]]):
        self._names = names
        self._loaded: tuple[str, ...] | None = None
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        if self._loaded is None:
            self._loaded = tuple(self._names())
        return self._loaded

    @choices.setter
    def choices(self, value: Iterable[str]) -> None:  # click's __init__ assigns (); the names come from _names
        pass


RESOLVED = "auditpack.resolved"  # click's shared meta: each setting an option resolved, with its source
MUST_EXIST = ("inventory", "profile", "exceptions", "tsa.ca")  # named in the environment or the file: must be there
OPTION_SPECS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {}  # key -> the option's declaration (config show)


def setting_option(key: str, *decls: str, check: bool = True, **kwargs: Any) -> Callable[[Any], Any]:
    """A command-line option for a setting: its value, else the environment's, the configuration file's, the default.

    The command receives the value in force; where it came from is kept for `config show` and the new-store notice.
    CHECK: a file the environment or the configuration names must exist (off for `config show`, which shows it).
    """
    from auditpack.config import BY_KEY, COMMAND_LINE, ConfigError, current

    OPTION_SPECS.setdefault(key, (decls, kwargs))
    setting = BY_KEY[key]

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        from click.core import ParameterSource

        given = value if ctx.get_parameter_source(param.name or "") is ParameterSource.COMMANDLINE else None
        resolved = current().resolve(key, given)
        ctx.meta.setdefault(RESOLVED, {})[key] = resolved
        found = resolved.value
        if found is None or resolved.source == COMMAND_LINE:
            return found
        if check and key in MUST_EXIST and not Path(found).exists():
            raise ConfigError(f"The {key} file {found} does not exist (named by {resolved.source}).")
        if isinstance(found, Path) and getattr(param.type, "type", None) is None:  # click.Path's path_type
            return str(found)  # the option gives text when typed on the command line; so does the setting
        return found

    about = f" Without the option: ${setting.env}, else `{key}` in the configuration file, else the default."
    kwargs = {**kwargs, "help": kwargs.get("help", "") + about}
    return click.option(*decls, default=None, callback=callback, **kwargs)


def resolved_source(key: str) -> str | None:
    """Where the running command's KEY came from, when one of its options resolved it."""
    ctx = click.get_current_context(silent=True)
    found = ctx.meta.get(RESOLVED, {}).get(key) if ctx is not None else None
    return found.source if found is not None else None


def setting(key: str) -> Any:
    from auditpack.config import setting as value

    return value(key)


def _role_names() -> list[str]:
    from auditpack.inventory import ROLE_NAMES

    return ROLE_NAMES


store_option = setting_option(
    "store",
    "--store",
    "store_path",
    type=click.Path(file_okay=False, path_type=Path),
    help="Evidence store directory (created on first collection; the command says so). Default: ./evidence.",
)
inventory_option = setting_option(
    "inventory",
    "-i",
    "--inventory",
    "inventory_path",
    type=click.Path(dir_okay=False),
    help="Inventory YAML (Ansible format). Default: ./inventory.yaml, else the built-in one (this machine).",
)
host_option = click.option("--host", "hosts", multiple=True, metavar="NAME", help="Only this host (repeatable).")
role_option = click.option(
    "--role", "roles", multiple=True, type=LazyChoice(_role_names), help="Only hosts with this role (repeatable)."
)
workers_option = click.option(
    "--workers", type=click.IntRange(1, 256), default=8, show_default=True, help="Hosts collected at the same time."
)
operator_option = setting_option(
    "operator",
    "--operator",
    help="Who ran the collection; recorded with every evidence item. Default: your login.",
)
profile_option = setting_option(
    "profile",
    "--profile",
    "profile_path",
    type=click.Path(dir_okay=False, exists=True),
    help="Per-agreement profile YAML overriding control parameters (default: catalogue defaults).",
)
exceptions_option = setting_option(
    "exceptions",
    "--exceptions",
    "exceptions_path",
    type=click.Path(dir_okay=False),
    help="Exceptions YAML (default: ./exceptions.yaml when present).",
)
control_option = click.option(
    "--control", "control_ids", multiple=True, metavar="ID", help="Only this control (repeatable), e.g. --control T-FWH."
)
# One language option for every command: Dutch by default, as the reports are.
lang_option = setting_option(
    "lang",
    "--lang",
    type=click.Choice(LANGUAGES),
    help="Language of the output and documents: nl (Dutch, the default) or en (English).",
)
out_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports-out"),
    show_default=True,
    help="Where the report files (and the pack) are written.",
)
signing_key_option = setting_option(
    "keys.signing",
    "--signing-key",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The Ed25519 signing key (created on first use; default ~/.config/auditpack/signing-key.pem). Kept outside every pack.",
)
tsa_ca_option = setting_option(
    "tsa.ca",
    "--tsa-ca",
    "tsa_ca",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The Time-Stamp Authority's certificate (PEM) as the TSA publishes it; the RFC 3161 tokens are checked "
    "against it (a pack: else against the pack's own copy, which is said).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON for other tools.")
_period_options = (
    click.option("--period", "year", type=click.IntRange(1990, 2999), help="Calendar year."),
    click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First day (YYYY-MM-DD)."),
    click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last day, inclusive (YYYY-MM-DD)."),
)


def _apply(options: Iterable[Callable[[Any], Any]], func: Any) -> Any:
    for option in reversed(tuple(options)):
        func = option(func)
    return func


def period_options(func: Any) -> Any:
    """--period YEAR or --from/--to."""
    return _apply(_period_options, func)


_provenance_options = (
    click.option(
        "--source",
        metavar="SYSTEM",
        help="The system the file was exported from (e.g. AFAS, the badge system, a mailbox), as the processor says; "
        "shown in the report's scope.",
    ),
    click.option(
        "--exported",
        type=click.DateTime(["%Y-%m-%d"]),
        help="The day the file was exported from that system (YYYY-MM-DD), as the processor says.",
    ),
)


def provenance_options(func: Any) -> Any:
    """--source and --exported: where a file the processor supplies comes from."""
    return _apply(_provenance_options, func)


def collection_options(func: Any) -> Any:
    """The options every command that collects shares."""
    return _apply((inventory_option, store_option, host_option, role_option, workers_option, operator_option), func)


# --- opening the inputs ----------------------------------------------------------------------------------------------


def load_inventory(path: str | None) -> Inventory:
    from auditpack.inventory import InventoryError
    from auditpack.jobs import find_inventory

    try:
        inventory = find_inventory(path)
    except InventoryError as exc:
        raise AuditpackError("The inventory (nothing was collected)", exc.problems) from None
    if inventory.path.startswith("<"):
        notice_console.print(
            "No inventory given and no ./inventory.yaml: using the built-in inventory (this machine only).",
            style="dim",
            markup=False,
        )
    return inventory


def open_store(path: Path, create: bool) -> EvidenceStore:
    """The store, with the TSA the settings name (none when unset). A store made now is said, with its path: a
    mistyped --store would otherwise start an empty year in silence."""
    from auditpack.store import EvidenceStore
    from auditpack.timestamping import configured_tsa

    store = EvidenceStore(path, create=create, tsa=configured_tsa(), on_timestamp=say_timestamp)
    if store.created:
        source = resolved_source("store")
        named = ""
        if source == "default":
            named = " (the default: --store, AUDITPACK_STORE or `store` in the configuration file name another)"
        elif source not in (None, "command line"):
            named = f" (the store named by {source})"
        err_console.print(
            f"Created a new evidence store at {store.root.resolve()}{named}.",
            style="yellow",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if create:  # a command that writes to the store makes it private (evidence holds personal data); others only read
        tightened = store.make_private()
        if tightened:
            err_console.print(
                f"{len(tightened)} file(s) and folder(s) of the store {path} could be read by other users of this "
                f"machine; they are now private to you (0600 files, 0700 folders).",
                style="yellow",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    return store


def say_timestamp(ref: Any, failed: Exception | None) -> None:
    """After a commit: the run's timestamp, or why it has none (the run is kept either way)."""
    if failed is None:
        notice_console.print(
            f"Run {ref.seq} timestamped (RFC 3161 token {ref.token_path.name}).", style="dim", markup=False, soft_wrap=True
        )
    else:
        err_console.print(
            f"Run {ref.seq} is committed but NOT timestamped: {literal(failed)}. Run `auditpack timestamp` when the TSA answers "
            f"again; the token will be marked late.",
            style="yellow",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def load_profile(path: str | None) -> Profile:
    from auditpack.controls.model import load_catalogue
    from auditpack.controls.profiles import DEFAULT_PROFILE
    from auditpack.controls.profiles import load_profile as load
    from auditpack.yamlfile import YamlFileError

    if not path:
        return DEFAULT_PROFILE
    try:
        return load(path, load_catalogue())
    except YamlFileError as exc:
        raise AuditpackError(f"Profile {path}", exc.problems) from None


def load_exceptions(path: str | None) -> list[ExceptionEntry]:
    from auditpack.controls.exceptions import load_exceptions as load
    from auditpack.yamlfile import YamlFileError

    if path is None and not Path("exceptions.yaml").exists():
        return []
    try:
        return load(path or "exceptions.yaml")
    except YamlFileError as exc:
        raise AuditpackError(f"Exceptions file {path or 'exceptions.yaml'}", exc.problems) from None


def check_control_ids(ids: Iterable[str]) -> None:
    from auditpack.controls.model import load_catalogue

    unknown = sorted(set(ids) - set(load_catalogue()))
    if unknown:
        raise click.UsageError(f"unknown control(s) {', '.join(unknown)}; 'auditpack controls' lists them")


def resolve_period(year: int | None, start: datetime | None, end: datetime | None) -> Period:
    """The period asked for; without --period or --from/--to, the last full calendar year (the same for every command)."""
    from auditpack.periods import PeriodError, period_from_options

    try:
        return period_from_options(year, start.date() if start else None, end.date() if end else None, datetime.now().year - 1)
    except PeriodError as exc:
        raise click.UsageError(str(exc)) from None


def warn_if_open(period: Period, lang: str = CONSOLE_LANG) -> None:
    """A period that has not ended is judged only up to today: say so, so nobody reads it as the whole year."""
    today = datetime.now(UTC).date()
    if period.last_day.date() >= today:
        notice_console.print(
            console_text("period_open", lang, period=period.label, today=today),
            style="yellow",
            markup=False,
            highlight=False,
        )


def period_json(period: Period) -> dict[str, Any]:
    """The period for --json: its bounds (end exclusive), its first and last day, and whether it has ended."""
    return {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "first_day": period.start.date().isoformat(),
        "last_day": period.last_day.date().isoformat(),
        "ended": period.last_day.date() < datetime.now(UTC).date(),
    }


def announce_new_key(which: str, lang: str = CONSOLE_LANG) -> Callable[[Path], None]:
    """What a command says on stderr when it made a key (WHICH: signing, pseudonym): where, and to back it up now."""

    def say(path: Path) -> None:
        text = console_text(f"new_{which}_key", lang, path=path, command="`auditpack key backup`")
        err_console.print(text, style="yellow bold", markup=False, highlight=False, soft_wrap=True)

    return say


def signing_key(path: Path | None, lang: str = CONSOLE_LANG) -> Any:
    """The signing key, made (and said) when there is none yet."""
    from auditpack.signing import load_or_create_key

    return load_or_create_key(path, on_create=announce_new_key("signing", lang))


def pseudonym_key(lang: str = CONSOLE_LANG, create: bool = True) -> bytes:
    """The pseudonym key, made (and said) when there is none yet; with CREATE false it must exist."""
    from auditpack.pseudonymise import load_existing_key, load_or_create_key

    if not create:
        return load_existing_key()
    return load_or_create_key(on_create=announce_new_key("pseudonym", lang))


# --- results -----------------------------------------------------------------------------------------------------------


def results_outcome(results: Iterable[ControlResult]) -> Outcome:
    """OK only when every control is effective or does not apply; anything else is a finding."""
    from auditpack.controls.result import Status

    fine = (Status.EFFECTIVE, Status.NOT_APPLICABLE)
    return Outcome.OK if all(r.status in fine for r in results) else Outcome.FINDINGS


def print_results(results: list[ControlResult], lang: str) -> None:
    from rich.table import Table

    from auditpack.controls.model import load_catalogue
    from auditpack.reports.i18n import STATUS_LABELS

    catalogue = load_catalogue()
    words = CONSOLE_WORDS[lang]
    table = Table(title=words["controls"])
    for col in ("control", "title", "result", "tested", "deviations", "not_evidenced"):
        table.add_column(words[col])
    for r in results:
        table.add_row(
            Text(r.control_id),
            Text(catalogue[r.control_id].title.in_(lang)),
            Text(STATUS_LABELS[lang][r.status], style=STATUS_STYLE[r.status]),
            str(r.tested),
            str(len(r.deviations)),
            str(len(r.gaps)),
        )
    console.print(table)
    for r in results:
        for d in r.deviations + r.gaps:
            console.print(cell(f"  {r.control_id} {d.subject} {d.date}: {d.text(lang)}"), highlight=False, soft_wrap=True)


def results_json(results: list[ControlResult], lang: str) -> list[dict[str, Any]]:
    """The controls' results for --json: verdict, counts, and each deviation and gap with its text in LANG."""
    from auditpack.controls.model import load_catalogue
    from auditpack.reports.i18n import STATUS_LABELS

    catalogue = load_catalogue()

    def finding(d: Any) -> dict[str, Any]:
        return {"subject": d.subject, "date": d.date, "code": d.code, "text": d.text(lang), "evidence": d.evidence}

    return [
        {
            "control": r.control_id,
            "title": catalogue[r.control_id].title.in_(lang),
            "status": str(r.status),
            "status_label": STATUS_LABELS[lang][r.status],
            "tested": r.tested,
            "deviations": [finding(d) for d in r.deviations],
            "gaps": [finding(d) for d in r.gaps],
            "reason": r.reason.text(lang) if r.reason else None,
        }
        for r in results
    ]


def results_problems(results: list[ControlResult], lang: str) -> None:
    """Under --quiet: one line on stderr per control that is not effective (or not applicable), nothing else."""
    from auditpack.controls.result import Status
    from auditpack.reports.i18n import STATUS_LABELS

    for r in results:
        if r.status not in (Status.EFFECTIVE, Status.NOT_APPLICABLE):
            counts = console_text("result_counts", lang, deviations=len(r.deviations), gaps=len(r.gaps))
            err_console.print(
                cell(f"{r.control_id}: {STATUS_LABELS[lang][r.status]} ({counts})"), highlight=False, soft_wrap=True
            )


def print_error(exc: AuditpackError) -> None:
    """The one way an expected fault is shown: what, then each located problem on a line of its own."""
    if exc.problems:
        err_console.print(cell(f"{exc.message} has {len(exc.problems)} problem(s):", "red bold"), highlight=False)
        for problem in exc.problems:
            err_console.print(cell(f"  {problem}"), highlight=False, soft_wrap=True)
    else:
        err_console.print(cell(exc, "red"), highlight=False, soft_wrap=True)


class StepTimes:
    """Progress of a long command on stderr: each step as it begins, with the time since the command began
    (`report` and `pack` take tens of seconds, most of it in the PDF)."""

    def __init__(self) -> None:
        self.began = time.monotonic()

    def __call__(self, step: str) -> None:
        seconds = Text(f"{time.monotonic() - self.began:6.1f} s", style="dim")
        notice_console.print(Text.assemble(seconds, "  ", cell(step)), highlight=False, soft_wrap=True)
