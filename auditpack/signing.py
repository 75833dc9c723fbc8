"""Ed25519 signing keys for evidence packs.

The private key lives outside every pack, by default in
~/.config/auditpack/signing-key.pem (or wherever $AUDITPACK_SIGNING_KEY or `signing` under [keys] points),
as an unencrypted PKCS#8 PEM readable by its owner only. It is made on first
use. An auditor receives the public key by a separate channel and checks the
fingerprint printed in the report against it.

A fingerprint is "SHA256:" followed by the unpadded base64 of the SHA-256 of
the raw 32-byte public key, the way OpenSSH writes fingerprints. (OpenSSH hashes
its own key encoding, so `ssh-keygen -l` shows a different value for the same key.)
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import AuditpackError
from .keyfiles import KeyFileError, OnCreate, read_existing, read_or_create

ALGORITHM = "Ed25519"

SigningKey = Ed25519PrivateKey
PublicKey = Ed25519PublicKey


class SigningKeyError(AuditpackError):
    """A key that cannot be used, said in words an operator can act on."""


def default_key_path() -> Path:
    """The key the settings name: $AUDITPACK_SIGNING_KEY, `signing` under [keys], else ~/.config/auditpack/."""
    from .config import setting

    return Path(setting("keys.signing"))


def _private_key(pem: bytes, path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except TypeError as exc:  # an encrypted PEM
        raise SigningKeyError(
            f"signing key {path} is protected by a passphrase; auditpack needs an unencrypted "
            f"PKCS#8 key in a file only you can read"
        ) from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(f"signing key {path} is not a readable PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"signing key {path} is a {type(key).__name__.removeprefix('_')}, not an Ed25519 key")
    return key


def _new_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_or_create_key(path: Path | None = None, on_create: OnCreate | None = None) -> Ed25519PrivateKey:
    """The signing key at `path` (default: the keys.signing setting, see default_key_path), made if absent
    (ON_CREATE is then told its path)."""
    path = Path(path).expanduser() if path is not None else default_key_path()
    try:
        pem = read_or_create(path, _new_pem, "signing key", on_create)
    except KeyFileError as exc:
        raise SigningKeyError(str(exc)) from exc
    return _private_key(pem, path)


def load_existing_key(path: Path | None = None) -> Ed25519PrivateKey:
    """The signing key at `path` (default as above), which must exist: nothing is made."""
    path = Path(path).expanduser() if path is not None else default_key_path()
    try:
        pem = read_existing(path, "signing key")
    except KeyFileError as exc:
        raise SigningKeyError(str(exc)) from exc
    return _private_key(pem, path)


def private_key_from_pem(pem: bytes, where: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM bytes read elsewhere (a backup), checked as a key file is."""
    return _private_key(pem, Path(where))


def _public(key: Ed25519PrivateKey | Ed25519PublicKey) -> Ed25519PublicKey:
    if isinstance(key, Ed25519PrivateKey):
        return key.public_key()
    if isinstance(key, Ed25519PublicKey):
        return key
    raise TypeError(f"expected an Ed25519 key, not {type(key).__name__}")


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The public half as a SubjectPublicKeyInfo PEM (what openssl's -pubin reads)."""
    return _public(key).public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(public_key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    raw = _public(public_key).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    """The 64-byte Ed25519 signature of `data` (deterministic: same key and data, same signature)."""
    return key.sign(data)


def load_public_key(source: str | Path | bytes | Ed25519PublicKey | Ed25519PrivateKey) -> Ed25519PublicKey:
    """A public key from a PEM file or its bytes; an OpenSSH 'ssh-ed25519 …' line is accepted too."""
    if isinstance(source, Ed25519PublicKey):
        return source
    if isinstance(source, Ed25519PrivateKey):
        return source.public_key()
    if isinstance(source, (str, Path)):
        try:
            data = Path(source).expanduser().read_bytes()
        except OSError as exc:
            raise SigningKeyError(f"cannot read public key {source}: {exc.strerror or exc}") from exc
        where = str(source)
    else:
        data, where = bytes(source), "the public key given"
    if b"PRIVATE KEY" in data:
        raise SigningKeyError(f"{where} holds a private key; verify with the public key (signing-key.pub)")
    try:
        if data.lstrip().startswith(b"ssh-ed25519"):
            key = serialization.load_ssh_public_key(data.strip())
        else:
            key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(f"{where} is not a readable public key (PEM expected)") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{where} is not an Ed25519 public key")
    return key


def verify_signature(pub: Ed25519PublicKey | Ed25519PrivateKey, data: bytes, sig: bytes) -> bool:
    try:
        _public(pub).verify(sig, data)
    except InvalidSignature:
        return False
    return True
