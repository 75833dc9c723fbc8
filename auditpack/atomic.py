"""Files that appear whole or not at all: written under a temporary name, synced to disk, then renamed into place.

One helper for every writer: the evidence store, the signed pack, the key files and the report formats.
What they write holds personal data, so a file is the owner's only (0600) unless a writer asks for another mode,
and directories it makes are 0700 (auditpack/private.py), whatever the umask.
A reader of the final name sees the old file or the complete new one, never a half-written one; a
writer that fails (or is killed) leaves at worst a temporary file, which is removed when it can be.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .private import PRIVATE_FILE, make_private_dirs

NAME_KEPT = 100  # characters of the final name in the temporary one: a long name plus the suffix stays a legal name


def fsync_dir(directory: Path) -> None:
    """Make the directory's entries (a rename into it) durable, not only the files' bytes."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


@contextmanager
def atomic_path(
    path: Path,
    *,
    mode: int | None = PRIVATE_FILE,
    temp_dir: Path | None = None,
    overwrite: bool = True,
    sync_dir: bool = False,
    before_rename: Callable[[], None] | None = None,
) -> Iterator[Path]:
    """A fresh temporary file to write PATH's new content to (by name: some writers only take a path).

    When the block ends without an error the file is synced to disk and renamed to PATH; on any
    error it is removed and PATH is left as it was.

    mode: the file's mode, set exactly whatever the umask (default 0600: the owner's only); it is created
        owner-only first, so a secret is never readable by others, not even briefly. None creates the file
        like open() does (0666 narrowed by the umask).
    temp_dir: where the temporary file lives (default: PATH's directory); must be on PATH's file system.
    overwrite: False never replaces an existing PATH (raises FileExistsError): the first writer wins.
    sync_dir: also sync PATH's directory after the rename, so the new name itself survives a power cut.
    before_rename: called after the bytes are synced, just before the rename (the store's crash-test hook).
    """
    path = Path(path)
    if temp_dir is None:
        make_private_dirs(path.parent)
    tmp = (path.parent if temp_dir is None else Path(temp_dir)) / f".{path.name[:NAME_KEPT]}.{secrets.token_hex(6)}.tmp"
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else 0o600))
    try:
        yield tmp
        _fsync_file(tmp)
        if mode is not None:
            os.chmod(tmp, mode)
        if before_rename is not None:
            before_rename()
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # unlike a rename, never replaces a file another process made meanwhile
    finally:
        tmp.unlink(missing_ok=True)
    if sync_dir:
        fsync_dir(path.parent)


def write_atomic(
    path: Path,
    data: bytes | str,
    *,
    mode: int | None = PRIVATE_FILE,
    temp_dir: Path | None = None,
    overwrite: bool = True,
    sync_dir: bool = False,
    before_rename: Callable[[], None] | None = None,
) -> Path:
    """Write DATA (text as UTF-8) to PATH through `atomic_path`, with its options; returns PATH."""
    content = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(
        path, mode=mode, temp_dir=temp_dir, overwrite=overwrite, sync_dir=sync_dir, before_rename=before_rename
    ) as tmp:
        tmp.write_bytes(content)
    return Path(path)
