"""Files and directories only their owner may read: the store, the reports, the packs and the keys hold personal data.

Modes are set explicitly, never left to the umask: a umask of 000 (some cron set-ups) or 022 (the usual one) would
otherwise make evidence readable by every user of the machine. Directories that already existed before auditpack made
them (a home directory, the folder a report is written to) are not ours to change and are left alone.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
PUBLIC_FILE = 0o644  # only what is meant to be handed out: the signing public key


def make_private_dirs(directory: Path) -> None:
    """Create DIRECTORY and its missing parents as 0700; directories that already exist are left as they are."""
    missing = []
    probe = Path(directory)
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue  # made by someone else meanwhile: not ours to change
        os.chmod(path, PRIVATE_DIR)  # mkdir's mode is narrowed by the umask, never widened; be explicit


def touch_private(path: Path) -> None:
    """Make PATH an empty 0600 file unless it exists (SQLite then gives its journal and WAL files the same mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def is_open(path: Path) -> bool:
    """Whether others than its owner may read, write or enter PATH (a symlink's own mode means nothing)."""
    info = path.lstat()
    return not stat.S_ISLNK(info.st_mode) and bool(stat.S_IMODE(info.st_mode) & 0o077)


def too_open(root: Path) -> list[Path]:
    """ROOT and everything under it that others than its owner may read, write or enter."""
    return [path for path in (Path(root), *sorted(Path(root).rglob("*"))) if is_open(path)]


def tighten(root: Path) -> list[Path]:
    """Take every permission for group and others off ROOT and what is under it; returns what was changed."""
    changed = []
    for path in too_open(root):
        try:
            os.chmod(path, stat.S_IMODE(path.lstat().st_mode) & ~0o077)
        except PermissionError:
            continue  # another user's file: `verify` keeps naming it
        changed.append(path)
    return changed
