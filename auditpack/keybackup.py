"""An encrypted backup of the processor's two secret keys, for the operator to keep off the machine.

One JSON file: what it is and how to restore it in words, the public facts of the keys (the signing key's
fingerprint, the pseudonym key's id: enough to tell which backup holds which keys without the passphrase), and
the keys themselves sealed with AES-256-GCM under a key derived from a passphrase by scrypt. Everything outside the
ciphertext is authenticated with it, so a changed fingerprint or parameter makes the backup fail to open.
Pure: bytes in, bytes out; reading the key files and asking the passphrase is the command's.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from .canonical import canonical_json, iso, utcnow
from .errors import AuditpackError

FORMAT = "auditpack-key-backup/1"
ABOUT = (
    "The signing key and the pseudonym key of an auditpack installation, encrypted with a passphrase "
    "(scrypt, then AES-256-GCM). Keep it off the machine and the passphrase apart from it. "
    "Restore with: auditpack key restore THIS-FILE"
)
SCRYPT = {"n": 2**17, "r": 8, "p": 1}  # 128 MiB and about half a second per try: slow for a guesser, fine once
MIN_PASSPHRASE = 12


class KeyBackupError(AuditpackError):
    """A backup that cannot be written or opened, said in words."""


def _derive(passphrase: str, salt: bytes, params: dict[str, int]) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=params["n"], r=params["r"], p=params["p"]).derive(passphrase.encode("utf-8"))


def seal(secrets: dict[str, str], facts: dict[str, dict[str, Any]], passphrase: str) -> bytes:
    """The backup file's bytes: SECRETS ({"signing": PEM text, "pseudonym": hex}) sealed, FACTS in the clear."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyBackupError(f"the passphrase has {len(passphrase)} characters; a key backup needs at least {MIN_PASSPHRASE}")
    salt, nonce = os.urandom(16), os.urandom(12)
    header = {
        "format": FORMAT,
        "about": ABOUT,
        "created": iso(utcnow()),
        "keys": facts,
        "kdf": {"name": "scrypt", **SCRYPT, "salt": base64.b64encode(salt).decode()},
        "cipher": {"name": "AES-256-GCM", "nonce": base64.b64encode(nonce).decode()},
    }
    sealed = AESGCM(_derive(passphrase, salt, SCRYPT)).encrypt(nonce, canonical_json(secrets), canonical_json(header))
    body = {**header, "ciphertext": base64.b64encode(sealed).decode()}
    return json.dumps(body, indent=1, ensure_ascii=False).encode("utf-8") + b"\n"


def read_header(data: bytes, where: str) -> dict[str, Any]:
    """The backup's clear part (format, date, the keys' public facts), checked to be an auditpack key backup."""
    try:
        body = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        body = None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise KeyBackupError(f"{where} is not an auditpack key backup ({FORMAT})")
    return body


def unseal(data: bytes, passphrase: str, where: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The backup's clear part and its secrets; a wrong passphrase or a changed file is one error (they look alike)."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    body = read_header(data, where)
    header = {k: v for k, v in body.items() if k != "ciphertext"}
    try:
        kdf, cipher = body["kdf"], body["cipher"]
        key = _derive(passphrase, base64.b64decode(kdf["salt"]), {k: int(kdf[k]) for k in ("n", "r", "p")})
        plain = AESGCM(key).decrypt(
            base64.b64decode(cipher["nonce"]), base64.b64decode(body["ciphertext"]), canonical_json(header)
        )
    except InvalidTag:
        raise KeyBackupError(f"{where} cannot be opened: the passphrase is wrong, or the file was changed") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise KeyBackupError(f"{where} is damaged ({exc})") from None
    return header, json.loads(plain)
