"""Fill one borg repository with a year of back-dated nightly archives, fast: one process, borg's own API.

Run by the interpreter borg is installed for (Debian: /usr/bin/python3), outside auditpack's
virtualenv, so this file imports nothing of auditpack. It reads one JSON job on stdin:

    {"repository": "/srv/borg/fs01", "passphrase": "…", "base_dir": "/…/borg-home",
     "cwd": "/…/data/fs01", "paths": ["srv"], "files": {"srv/a.txt": "…"},
     "archives": [{"name": "fs01-2026-01-01", "timestamp": "2026-01-01T01:07:00",
                   "files": {"srv/dagstaat.txt": "…"}}, …]}

creates the repository (repokey-blake2), writes `files`, and for every archive writes that night's
files and runs `borg create --timestamp` (UTC, as borg reads it). It prints {"archives": N, "seconds": S}.
The passphrase comes on stdin so it never shows in a process list.

Why this is fast: a `borg` process costs ~0.5 s to start, most of it imports and the argument
parser; here both happen once. The key file's PBKDF2 (100 000 rounds, half of what is left per
archive) is remembered for the same passphrase and salt, which changes no byte borg writes.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from pathlib import Path


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _archiver():
    os.environ["BORG_SELFTEST"] = "disabled"  # the self test costs ~0.1 s per run and checks borg, not our data
    import borg

    if not borg.__version__.startswith("1."):
        raise SystemExit(f"borg_fill drives borg 1.x's command line; found borg {borg.__version__}")
    from borg.archiver import Archiver
    from borg.crypto import key

    if hasattr(key, "Passphrase") and hasattr(key.Passphrase, "kdf"):
        key.Passphrase.kdf = functools.lru_cache(maxsize=4)(key.Passphrase.kdf)
    archiver = Archiver()
    parser = archiver.build_parser()
    archiver.build_parser = lambda: parser  # run() builds it again for every command otherwise
    return archiver


def _borg(archiver, *args: str) -> None:
    rc = archiver.run(archiver.parse_args(list(args)))
    if rc != 0:
        raise SystemExit(f"borg {args[0]} failed with exit code {rc}")


def fill(job: dict) -> dict:
    os.environ.update(BORG_PASSPHRASE=job["passphrase"], BORG_BASE_DIR=job["base_dir"], TZ="UTC")
    time.tzset()
    archiver = _archiver()
    started = time.monotonic()
    cwd = Path(job["cwd"])
    cwd.mkdir(parents=True, exist_ok=True)
    _write(cwd, job.get("files", {}))
    os.chdir(cwd)  # archives hold paths relative to the data directory, as a nightly job's would
    repository = job["repository"]
    _borg(archiver, "init", "--encryption=repokey-blake2", repository)
    for archive in job["archives"]:
        _write(cwd, archive.get("files", {}))
        _borg(archiver, "create", "--timestamp", archive["timestamp"], f"{repository}::{archive['name']}", *job["paths"])
    return {"archives": len(job["archives"]), "seconds": round(time.monotonic() - started, 2)}


def main() -> None:
    result = fill(json.load(sys.stdin))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
