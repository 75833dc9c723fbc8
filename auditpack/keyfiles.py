"""Secret key files the processor keeps (signing key, pseudonym key): made on first use, readable by the owner only."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from .atomic import write_atomic
from .errors import AuditpackError


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


def _make_dirs(directory: Path) -> None:
    """Create missing directories as 0700; directories that already exist are left as they are."""
    missing = []
    probe = directory
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue  # made by someone else meanwhile: not ours to change
        os.chmod(path, 0o700)  # mkdir's mode is narrowed by the umask, never widened; be explicit


def read_or_create(path: Path, make: Callable[[], bytes], what: str) -> bytes:
    """The key file's bytes; when it does not exist, `make()` is written to it (mode 0600) first.

    Two processes creating it at once agree on one key: the file appears by link(),
    which never replaces a key another process made in the meantime.
    """
    if path.exists():
        check_private(path, what)
        return path.read_bytes()
    _make_dirs(path.parent)
    data = make()
    try:
        write_atomic(path, data, mode=0o600, overwrite=False)
    except FileExistsError:
        check_private(path, what)
        return path.read_bytes()
    return data
