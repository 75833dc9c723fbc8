"""The settings in force, and where each comes from: the command line, else the environment, else the
configuration file, else the built-in default.

The configuration file is TOML (docs/configuration.md): the one `--config` or `AUDITPACK_CONFIG` names (it must
exist), else the first of ./auditpack.toml, ~/.config/auditpack/config.toml and /etc/auditpack/config.toml that
exists. Paths in it are relative to its own directory, so a file can be moved with what it names. Every mistake is
reported as file:line: key: what, and a file with any mistake is not used at all.

Only the standard library here: every command reads its settings, and `auditpack --help` stays fast.
"""

from __future__ import annotations

import difflib
import getpass
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from .errors import AuditpackError

CONFIG_ENV = "AUDITPACK_CONFIG"
LOCAL_CONFIG = Path("auditpack.toml")
SYSTEM_CONFIG = Path("/etc/auditpack/config.toml")
LANGUAGES = ("nl", "en")
COMMAND_LINE = "command line"
DEFAULT = "default"


def user_config() -> Path:
    return Path.home() / ".config" / "auditpack" / "config.toml"


def candidates() -> tuple[Path, ...]:
    """Where a configuration file is looked for when none is named, in this order."""
    return (LOCAL_CONFIG, user_config(), SYSTEM_CONFIG)


@dataclass(frozen=True)
class Setting:
    key: str  # as written in the file, dotted for a table: "keys.signing" is `signing` under [keys]
    env: str
    kind: str  # path, text, lang, url or urls (a list of URLs)
    about: str  # one line, for `config show` and `config init`


SETTINGS = (
    Setting("inventory", "AUDITPACK_INVENTORY", "path", "the inventory YAML (Ansible format)"),
    Setting("store", "AUDITPACK_STORE", "path", "the evidence store directory"),
    Setting("profile", "AUDITPACK_PROFILE", "path", "the per-agreement profile YAML"),
    Setting("exceptions", "AUDITPACK_EXCEPTIONS", "path", "the exceptions YAML"),
    Setting("lang", "AUDITPACK_LANG", "lang", "language of the reports and the console: nl or en"),
    Setting("operator", "AUDITPACK_OPERATOR", "text", "who runs the commands; recorded with every evidence item"),
    Setting("keys.signing", "AUDITPACK_SIGNING_KEY", "path", "the Ed25519 key that signs the packs"),
    Setting("keys.pseudonym", "AUDITPACK_PSEUDONYM_KEY", "path", "the key of the pseudonyms (--pseudonymise, reveal)"),
    Setting("tsa.url", "AUDITPACK_TSA_URL", "url", "the Time-Stamp Authority (RFC 3161) every run is timestamped by"),
    Setting("tsa.ca", "AUDITPACK_TSA_CA", "path", "the PEM certificate of the TSA's CA"),
    Setting("notify.urls", "AUDITPACK_NOTIFY_URLS", "urls", "where alerts go (apprise URLs)"),
)
BY_KEY = {s.key: s for s in SETTINGS}
TABLES = sorted({s.key.split(".")[0] for s in SETTINGS if "." in s.key})
KIND_WORDS = {
    "path": "a path as text, in quotes",
    "text": "text, in quotes",
    "lang": "nl or en, in quotes",
    "url": "a URL as text, in quotes",
    "urls": 'a list of URLs, e.g. ["mailto://…", "json://…"]',
}


def _default(key: str) -> Any:
    """The built-in value; None where the command decides (no profile, ./exceptions.yaml when present, …)."""
    home = Path.home() / ".config" / "auditpack"
    return {
        "store": Path("evidence"),
        "lang": "nl",
        "operator": getpass.getuser(),
        "keys.signing": home / "signing-key.pem",
        "keys.pseudonym": home / "pseudonym-key",
        "notify.urls": [],
    }.get(key)


DEFAULT_WORDS = {  # what a None default means, for `config show`
    "inventory": "./inventory.yaml when present, else the built-in inventory (this machine)",
    "profile": "none: the catalogue's parameters",
    "exceptions": "./exceptions.yaml when present",
    "tsa.url": "none: runs are not timestamped",
    "tsa.ca": "none",
}


class ConfigError(AuditpackError):
    """A configuration file, or a setting in the environment, that cannot be used."""


@dataclass(frozen=True)
class Resolved:
    """A setting's value and where it came from: "command line", "environment AUDITPACK_STORE",
    "config /etc/auditpack/config.toml:3" or "default"."""

    key: str
    value: Any
    source: str


@dataclass(frozen=True)
class ConfigFile:
    """The file in use (None: no file), its values (paths made absolute) and the line each key is on."""

    path: Path | None
    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    found_as: str = ""  # how it was chosen: --config, AUDITPACK_CONFIG, or the candidate it was found as

    def source(self, key: str) -> str:
        line = self.lines.get(key)
        return f"config {self.path}:{line}" if line else f"config {self.path}"


def find_config(explicit: Path | None, environ: Mapping[str, str]) -> tuple[Path | None, str]:
    """The configuration file to use and how it was chosen; a file that is named must exist."""
    named = [(explicit, "--config")] if explicit is not None else []
    if not named and environ.get(CONFIG_ENV, "").strip():
        named = [(Path(environ[CONFIG_ENV].strip()), CONFIG_ENV)]
    for path, how in named:
        path = path.expanduser()
        if not path.exists():
            raise ConfigError(f"The configuration file {path} ({how}) does not exist; `auditpack config init {path}` writes one.")
        if path.is_dir():
            raise ConfigError(f"The configuration file {path} ({how}) is a directory, not a TOML file.")
        return path, how
    for path in candidates():
        if path.is_file():
            return path, str(path)
    return None, ""


# --- reading the file ------------------------------------------------------------------------------------------------

_HEADER = re.compile(r"^\s*\[(?!\[)\s*([^\[\]]+?)\s*\]")
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_KEY = re.compile(rf"^\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=")
_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _key_parts(text: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in re.findall(_KEY_PART, text))


def key_lines(text: str) -> dict[str, int]:
    """The first line of each dotted key and table in TOML TEXT (tomllib keeps no positions)."""
    lines: dict[str, int] = {}
    table: tuple[str, ...] = ()
    in_string = False  # inside a multi-line string, nothing is a key
    for number, line in enumerate(text.splitlines(), 1):
        toggles = (line.count('"""') + line.count("'''")) % 2 == 1
        if in_string:
            in_string = not toggles
            continue
        if header := _HEADER.match(line):
            table = _key_parts(header[1])
            lines.setdefault(".".join(table), number)
        elif key := _KEY.match(line):
            parts = table + _key_parts(key[1])
            for end in range(len(table) + 1, len(parts) + 1):
                lines.setdefault(".".join(parts[:end]), number)
        in_string = toggles
    return lines


def _line_of(key: str, lines: dict[str, int]) -> int | None:
    parts = key.split(".")
    while parts:
        if (found := lines.get(".".join(parts))) is not None:
            return found
        parts.pop()
    return None


def _type_words(value: Any) -> str:
    for kind, words in (
        (bool, "true/false"),
        (str, "text"),
        (int, "a whole number"),
        (float, "a number"),
        (list, "a list"),
        (dict, "a table"),
        (datetime, "a date and time"),
        (date, "a date"),
        (time, "a time of day"),
    ):
        if isinstance(value, kind):
            return words
    return type(value).__name__


def _convert(setting: Setting, value: Any, base: Path) -> tuple[Any, str | None]:
    """The value as auditpack uses it, or the reason it cannot be (None when fine)."""
    expected = f"expected {KIND_WORDS[setting.kind]}, not {_type_words(value)}"
    if setting.kind == "urls":
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            return None, expected if not isinstance(value, list) else f"expected {KIND_WORDS['urls']}: every entry a URL as text"
        return [v.strip() for v in value], None
    if not isinstance(value, str):
        return None, expected
    if not value.strip():
        return None, "is empty; leave the key out for the default"
    if setting.kind == "lang" and value not in LANGUAGES:
        return None, f"{value!r} is not a language auditpack writes: nl or en"
    if setting.kind == "path":
        return base / Path(value).expanduser(), None
    return value.strip(), None


def _unknown(key: str) -> str:
    known = [s.key for s in SETTINGS] + TABLES
    leaf = [s.key for s in SETTINGS if s.key.split(".")[-1] == key.split(".")[-1] and s.key != key]
    if leaf:
        table, name = leaf[0].split(".")
        return f"unknown key; {name} belongs in the [{table}] table"
    hint = difflib.get_close_matches(key, known, n=1)
    return f"unknown key; did you mean '{hint[0]}'?" if hint else f"unknown key; known keys: {', '.join(s.key for s in SETTINGS)}"


def load_config(path: Path, found_as: str = "") -> ConfigFile:
    """Read and check PATH; a ConfigError lists every problem as file:line: key: what."""
    shown = path.resolve()
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read the configuration file {shown}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"The configuration file {shown} is not UTF-8 text (TOML is UTF-8).") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = _TOML_AT.search(message)
        where = f"{shown}:{at[1]}" if at else str(shown)
        said = _TOML_AT.sub("", message)
        column = f" (column {at[2]})" if at else ""
        key = ""
        if at and (match := _KEY.match(text.splitlines()[int(at[1]) - 1] if int(at[1]) <= len(text.splitlines()) else "")):
            key = " " + ".".join(_key_parts(match[1])) + ":"
        raise ConfigError(f"The configuration file {shown}", [f"{where}:{key} not valid TOML: {said}{column}"]) from None
    lines = key_lines(text)
    problems: list[str] = []
    values: dict[str, Any] = {}

    def problem(key: str, message: str) -> None:
        line = _line_of(key, lines)
        problems.append(f"{shown}:{line}: {key}: {message}" if line else f"{shown}: {key}: {message}")

    flat: list[tuple[str, Any]] = []
    for name, value in data.items():
        if name in TABLES:
            if not isinstance(value, dict):
                problem(name, f"expected a table ([{name}]), not {_type_words(value)}")
                continue
            flat += [(f"{name}.{sub}", v) for sub, v in value.items()]
        else:
            flat.append((name, value))
    for key, value in flat:
        setting = BY_KEY.get(key)
        if setting is None:
            problem(key, _unknown(key))
            continue
        converted, wrong = _convert(setting, value, shown.parent)
        if wrong:
            problem(key, wrong)
        else:
            values[key] = converted
    if problems:
        raise ConfigError(f"The configuration file {shown}", problems)
    return ConfigFile(shown, values, {k: _line_of(k, lines) or 0 for k in values}, found_as)


# --- resolving ---------------------------------------------------------------------------------------------------


def _from_environment(setting: Setting, text: str) -> Any:
    if setting.kind == "urls":
        return text.split()
    if setting.kind == "path":
        return Path(text).expanduser()
    if setting.kind == "lang" and text not in LANGUAGES:
        raise ConfigError(f"{setting.env}={text!r} is not a language auditpack writes: set it to nl or en.")
    return text


class Settings:
    """The configuration file in use and the environment, asked one setting at a time."""

    def __init__(self, file: ConfigFile, environ: Mapping[str, str] | None = None):
        self.file = file
        self.environ = os.environ if environ is None else environ

    def resolve(self, key: str, given: Any = None) -> Resolved:
        """KEY's value: GIVEN (from the command line) when not None, else the environment, the file, the default."""
        setting = BY_KEY[key]
        if given is not None:
            return Resolved(key, given, COMMAND_LINE)
        text = self.environ.get(setting.env, "").strip()
        if text:
            return Resolved(key, _from_environment(setting, text), f"environment {setting.env}")
        if key in self.file.values:
            return Resolved(key, self.file.values[key], self.file.source(key))
        return Resolved(key, _default(key), DEFAULT)

    def value(self, key: str, given: Any = None) -> Any:
        return self.resolve(key, given).value


def load_settings(explicit: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    path, how = find_config(explicit, environ)
    return Settings(load_config(path, how) if path is not None else ConfigFile(None), environ)


# The command line names its file once (the root group's --config); every option and module then asks current().
_explicit: Path | None = None
_active: Settings | None = None
_in_command = False


def activate(explicit: Path | None) -> None:
    """Use EXPLICIT (or the file found) for the command now starting; read when a setting is first asked."""
    global _explicit, _active, _in_command
    _explicit, _active, _in_command = explicit, None, True


def deactivate() -> None:
    global _explicit, _active, _in_command
    _explicit, _active, _in_command = None, None, False


def current() -> Settings:
    """The settings of the running command (read once), or, outside a command, read afresh."""
    global _active
    if not _in_command:
        return load_settings()
    if _active is None:
        _active = load_settings(_explicit)
    return _active


def setting(key: str, given: Any = None) -> Any:
    """One setting's value in force (GIVEN: what the command line said, if anything)."""
    return current().value(key, given)


def notify_urls() -> list[str]:
    """Where alerts are sent: AUDITPACK_NOTIFY_URLS (whitespace-separated), else `urls` under [notify]."""
    return list(setting("notify.urls"))


def masked(url: str) -> str:
    """A URL with its password, if any, hidden: what `config show` prints of a notification URL."""
    return re.sub(r"(?<=://)([^/@:]*):[^/@]*@", r"\1:***@", url)
