"""`auditpack config show|init`: the settings in force and where each comes from, and a starter file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from auditpack.config import (
    DEFAULT,
    DEFAULT_WORDS,
    LOCAL_CONFIG,
    SETTINGS,
    candidates,
    current,
    masked,
)
from auditpack.errors import AuditpackError

from .shared import OPTION_SPECS, RESOLVED, Outcome, console, json_option, setting_option


@click.group(name="config")
def config_group() -> None:
    """The configuration file: which settings are in force, and a starter file.

    Every setting comes from the command line, else its environment variable,
    else the configuration file, else the built-in default. The file is the one
    --config (before the command) or AUDITPACK_CONFIG names, else the first of
    ./auditpack.toml, ~/.config/auditpack/config.toml and
    /etc/auditpack/config.toml that exists. Paths in it are relative to the
    file's own directory. See docs/configuration.md.

    \b
    Examples:
      auditpack config init
      auditpack config show
      auditpack --config /etc/auditpack/site.toml config show --json
    """


def _shown(key: str, value: Any, source: str) -> Any:
    """The value as a person (or JSON) reads it: paths as text, passwords in URLs hidden, a default in words."""
    if value is None or value == []:
        return DEFAULT_WORDS.get(key, "none") if source == DEFAULT else value
    if key == "notify.urls":
        return [masked(url) for url in value]
    if key == "tsa.url":
        return masked(value)
    return str(value) if isinstance(value, Path) else value


def _show_options(func: Any) -> Any:
    """The settings' own command-line options, unchecked, so `config show --store X` says "command line"."""
    for key in reversed([s.key for s in SETTINGS if s.key in OPTION_SPECS]):
        decls, kwargs = OPTION_SPECS[key]
        func = setting_option(key, *decls, check=False, **kwargs)(func)
    return func


@config_group.command(name="show")
@_show_options
@json_option
def show(as_json: bool, **given: Any) -> Outcome:
    """Show every setting in force and where it came from.

    Sources: "command line", "environment AUDITPACK_…", "config FILE:LINE" or
    "default". Passwords in notification URLs are shown as ***. The options of
    other commands (--store, --inventory, --lang…) can be given here too, to see
    what they would change.

    \b
    Examples:
      auditpack config show
      auditpack config show --json
      AUDITPACK_STORE=/srv/evidence auditpack config show
    Exit codes: 0 shown, 2 the configuration file or a setting cannot be used.
    """
    settings = current()
    resolved = click.get_current_context().meta.get(RESOLVED, {})
    rows = [resolved.get(s.key) or settings.resolve(s.key) for s in SETTINGS]
    file = settings.file
    if as_json:
        data = {
            "config_file": str(file.path) if file.path else None,
            "found_as": file.found_as or None,
            "looked_for": [str(p) for p in candidates()],
            "settings": [
                {"key": r.key, "value": _shown(r.key, r.value, r.source), "source": r.source, "env": s.env}
                for r, s in zip(rows, SETTINGS, strict=True)
            ],
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return Outcome.OK
    from rich.table import Table

    if file.path:
        console.print(f"Configuration file: {file.path} ({file.found_as})", markup=False, highlight=False, soft_wrap=True)
    else:
        looked = ", ".join(str(p) for p in candidates())
        console.print(f"No configuration file (looked for {looked}).", markup=False, highlight=False, soft_wrap=True)
    table = Table()
    for col in ("setting", "value", "source", "environment variable"):
        table.add_column(col)
    for r, s in zip(rows, SETTINGS, strict=True):
        value = _shown(r.key, r.value, r.source)
        text = " ".join(value) if isinstance(value, list) else str(value)
        table.add_row(*(_plain(v) for v in (r.key, text, r.source, s.env)))
    console.print(table)
    return Outcome.OK


def _plain(text: str) -> Any:
    """A cell from a file or the environment: never read as console markup."""
    from rich.text import Text

    return Text(text)


STARTER = """\
# auditpack configuration (TOML). Every setting can also be given on the command line or in its environment
# variable, which win over this file. Relative paths are relative to this file's directory.
# `auditpack config show` shows what is in force and where each value comes from. See docs/configuration.md.

# The hosts to collect from (Ansible YAML inventory)          env AUDITPACK_INVENTORY
# inventory = "inventory.yaml"

# The evidence store: every run is kept here                   env AUDITPACK_STORE
# store = "evidence"

# The per-agreement profile and the accepted exceptions        env AUDITPACK_PROFILE, AUDITPACK_EXCEPTIONS
# profile = "profiles/customer.yaml"
# exceptions = "exceptions.yaml"

# Language of the reports and alerts: nl or en                 env AUDITPACK_LANG
# lang = "nl"

# Who runs the collections (recorded with every item)          env AUDITPACK_OPERATOR
# operator = "ICT beheer"

[keys]
# Both are made on first use; back them up (docs/operations.md).
# signing = "/etc/auditpack/keys/signing-key.pem"            # env AUDITPACK_SIGNING_KEY
# pseudonym = "/etc/auditpack/keys/pseudonym-key"            # env AUDITPACK_PSEUDONYM_KEY

[tsa]
# A Time-Stamp Authority (RFC 3161) for every run, and its CA certificate
# url = "https://freetsa.org/tsr"                            # env AUDITPACK_TSA_URL
# ca = "tsa-ca.pem"                                          # env AUDITPACK_TSA_CA

[notify]
# Where alerts go (apprise URLs); a password in a URL makes this file a secret: keep it 0600
# urls = ["mailtos://user@mail.example.org?to=ict@example.org", "json://alerts.example.org/auditpack"]
"""


@config_group.command(name="init")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path), default=LOCAL_CONFIG)
def init(path: Path) -> Outcome:
    """Write a starter configuration file, every setting in it explained and commented out.

    It never overwrites a file. It is made readable by you only (0600): a
    notification URL may hold a password.

    \b
    Examples:
      auditpack config init
      auditpack config init /etc/auditpack/config.toml
    Exit codes: 0 written, 2 the file exists or cannot be written.
    """
    if path.exists():
        raise AuditpackError(f"{path} exists; auditpack config init never overwrites a file (edit it, or remove it first).")
    path.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as out:
        out.write(STARTER)
    console.print(
        f"Wrote {path.resolve()}: uncomment and edit the settings you need; `auditpack config show` shows them in force.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    return Outcome.OK


COMMANDS = (config_group,)
