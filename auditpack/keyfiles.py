"""Secret key files the processor keeps (signing key, pseudonym key): made on first use, readable by the owner only."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

from .atomic import write_atomic
from .errors import AuditpackError
from .private import PRIVATE_FILE, make_private_dirs

# Told the path of a key that was just made (the command line says where it is and that it must be backed up).
OnCreate = Callable[[Path], None]


class KeyFileError(AuditpackError, PermissionError):
    """A key file that must not be used as it is, said in words an operator can act on."""


def check_private(path: Path, what: str) -> None:
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"{what} {path} is not a regular file")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise KeyFileError(
            f"{what} {path} has permissions {stat.S_IMODE(info.st_mode):04o}: other users may read or change "
            f"it, so it is not used. Restrict it with 'chmod 600 {path}' (and make a new key if "
            f"someone else may have copied it)"
        )


def read_existing(path: Path, what: str) -> bytes:
    """The bytes of a key file that must already exist and be private."""
    if not path.exists():
        raise KeyFileError(
            f"there is no {what} at {path}: `auditpack key restore` puts back a backed-up one, `auditpack key init` makes a new one"
        )
    check_private(path, what)
    return path.read_bytes()


def write_new(path: Path, data: bytes) -> None:
    """A key file that appears whole (0600) and never replaces one that exists (FileExistsError)."""
    make_private_dirs(path.parent)
    write_atomic(path, data, mode=PRIVATE_FILE, overwrite=False)


def read_or_create(path: Path, make: Callable[[], bytes], what: str, on_create: OnCreate | None = None) -> bytes:
    """The key file's bytes; when it does not exist, `make()` is written to it (mode 0600) first and ON_CREATE told.

    Two processes creating it at once agree on one key: the file appears by link(),
    which never replaces a key another process made in the meantime.
    """
    if path.exists():
        check_private(path, what)
        return path.read_bytes()
    data = make()
    try:
        write_new(path, data)
    except FileExistsError:
        check_private(path, what)
        return path.read_bytes()
    if on_create is not None:
        on_create(path)
    return data
