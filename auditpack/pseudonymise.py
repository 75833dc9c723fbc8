"""Stable keyed pseudonyms for the people in an evidence pack (GDPR data minimisation).

Each personal name or account name becomes "P-" + the first 10 hex digits of
HMAC-SHA256(key, normalised name): the same person gets the same pseudonym in
every file and every pack made with the same key, so an auditor can follow a
person across evidence without learning who it is. Only the processor holds the
key; `reveal` finds the name behind a pseudonym by recomputing it over the names
in the store. The names come from the evidence itself (registers, AD, local
accounts, event summaries), so nothing depends on a list kept by hand.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .keyfiles import KeyFileError, OnCreate, read_existing, read_or_create
from .store import EvidenceStore

# Fields whose values name a person or an account, in any evidence kind's normalised JSON.
PERSON_FIELDS = frozenset(
    {
        "name",
        "account",
        "holder",
        "display_name",
        "displayName",
        "sAMAccountName",
        "sam_account_name",
        "user_principal_name",
        "userPrincipalName",
        "cn",
        "by",
        "user",
        "username",
        "owner_name",
        "performed_by",
        "reviewer",
        "members",
        "member",
        "manager",
    }
)
# Kinds whose "name" is not a person (a host, a group, a product, a job).
NOT_PEOPLE_KINDS = (
    "host.",
    "network.",
    "firewall.",
    "host_firewall.",
    "windows.firewall",
    "epo.",
    "backup.",
    "register.subprocessors",
    "register.processing_locations",
    "ad.computers",
    "ad.groups",
    "av.",
)
SYSTEM_ACCOUNTS = frozenset(
    {
        "root",
        "daemon",
        "bin",
        "sys",
        "sync",
        "games",
        "man",
        "lp",
        "mail",
        "news",
        "uucp",
        "proxy",
        "www-data",
        "backup",
        "list",
        "irc",
        "gnats",
        "nobody",
        "systemd-network",
        "systemd-resolve",
        "messagebus",
        "sshd",
        "_apt",
        "system",
        "administrator",
        "guest",
        "krbtgt",
        "local service",
        "network service",
    }
)
MIN_LENGTH = 3  # shorter values are initials or codes: replacing them would garble unrelated text


KEY_BYTES = 32


def default_key_path() -> Path:
    """The key the settings name: $AUDITPACK_PSEUDONYM_KEY, `pseudonym` under [keys], else ~/.config/auditpack/."""
    from .config import setting

    return Path(setting("keys.pseudonym"))


def key_file_bytes(key: bytes) -> bytes:
    """The key as its file holds it: hex, one line."""
    return (key.hex() + "\n").encode()


def parse_key_file(data: bytes, where: str | Path) -> bytes:
    try:
        key = bytes.fromhex(data.decode().strip())
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyFileError(
            f"the pseudonym key {where} is not a key written by auditpack (64 hex digits); restore it "
            f"from your backup (`auditpack key restore`): without it no pseudonym can be revealed"
        )
    return key


def load_or_create_key(path: Path | None = None, on_create: OnCreate | None = None) -> bytes:
    """The processor's pseudonymisation key (32 random bytes, hex in a 0600 file), created on first use
    (ON_CREATE is then told its path).

    Raises KeyFileError when others may read the file or it does not hold a key.
    """
    path = Path(path).expanduser() if path is not None else default_key_path()
    return parse_key_file(
        read_or_create(path, lambda: key_file_bytes(secrets.token_bytes(KEY_BYTES)), "pseudonym key", on_create), path
    )


def load_existing_key(path: Path | None = None) -> bytes:
    """The pseudonym key, which must exist: a new one could reveal nothing."""
    path = Path(path).expanduser() if path is not None else default_key_path()
    return parse_key_file(read_existing(path, "pseudonym key"), path)


def key_id(key: bytes) -> str:
    """A name for the key that is not the key: the first 16 hex digits of a SHA-256 over it, apart from pseudonyms."""
    return "K-" + hashlib.sha256(b"auditpack pseudonym key id\0" + key).hexdigest()[:16]


def _normal(name: str) -> str:
    return " ".join(name.split()).casefold()


def pseudonym(key: bytes, name: str) -> str:
    return "P-" + hmac.new(key, _normal(name).encode("utf-8"), hashlib.sha256).hexdigest()[:10]


def _walk(value: Any, in_person_field: bool = False) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k in PERSON_FIELDS)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, in_person_field)
    elif isinstance(value, str) and in_person_field:
        yield value


def names_in(kind: str, normalized: Any) -> set[str]:
    """Person and account names in one item's normalised JSON; DOMAIN\\user also gives user."""
    if kind.startswith(NOT_PEOPLE_KINDS):
        return set()
    found = set()
    for value in _walk(normalized):
        for name in (value, value.rsplit("\\", 1)[-1], value.split("@", 1)[0]):
            name = name.strip()
            if len(name) >= MIN_LENGTH and _normal(name) not in SYSTEM_ACCOUNTS and not name.endswith("$"):
                found.add(name)
    return found


def names_in_store(store: EvidenceStore) -> set[str]:
    names: set[str] = set()
    for item in store.items():
        if item.normalized_sha256 and item.status == "ok":
            names |= names_in(item.kind, store.read_json(item.normalized_sha256))
    return names


class Pseudonymiser:
    """Replaces every known name, longest first and case-insensitively, in text and in bytes."""

    def __init__(self, key: bytes, names: Iterable[str]):
        self.key = key
        self.names = sorted({n for n in names if len(n) >= MIN_LENGTH}, key=lambda n: (-len(n), n))
        by_normal = {_normal(n): pseudonym(key, n) for n in self.names}
        # whole words only: the account "jan" must not turn "January" into nonsense
        alternatives = "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in self.names)
        self._text = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE) if self.names else None
        self._by_normal = by_normal

    def text(self, value: str) -> str:
        if self._text is None:
            return value
        return self._text.sub(lambda m: self._by_normal.get(_normal(m.group(0)), m.group(0)), value)

    def data(self, value: Any) -> Any:
        """A JSON-able value with every string pseudonymised (keys too: a register may be keyed by account)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {self.text(k): self.data(v) for k, v in value.items()}
        return value

    def blob(self, raw: bytes) -> bytes:
        """UTF-8 text (JSON, CSV, command output) is rewritten; other bytes are withheld (see pack notes)."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return WITHHELD
        return self.text(text).encode("utf-8")


WITHHELD = (
    b"auditpack: this raw output is binary (an EVTX or XLSX file, say) and may hold personal names;\n"
    b"it is withheld from a pseudonymised pack. Its normalised form is included, pseudonymised, and the\n"
    b"processor can show the original on request (its SHA-256 is in the item's metadata).\n"
)


def reveal(key: bytes, wanted: str, candidates: Iterable[str]) -> list[str]:
    """The names (from CANDIDATES) whose pseudonym is WANTED."""
    return sorted({n for n in candidates if pseudonym(key, n) == wanted.strip()}, key=_normal)
