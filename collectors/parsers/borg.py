"""Parse `borg list --json` into backup runs (the `backup.runs` shape). Pure: bytes in, dict out.

borg writes an archive only when `borg create` has finished, so every archive in
the listing is a completed backup. The exception is a checkpoint archive
(`<name>.checkpoint` or `<name>.checkpoint.N`): borg 1.x leaves it behind when a
backup was interrupted, so it counts as a failed run.

borg 1.x prints archive times in the local time of the host that ran `borg list`
without an offset; borg 2 adds the offset. A naive time is kept as the source
wrote it unless the caller knows the host's zone (`tz`): inventing an offset
here could move a backup to another day.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, tzinfo
from typing import Any

TARGETS = ("local", "cloud")
CHECKPOINT = re.compile(r"\.checkpoint(\.\d+)?$")


def _moment(value: Any, what: str, tz: tzinfo | None) -> str:
    """An archive time as ISO 8601; the zone is attached only when borg gave none and the caller knows it."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} is not a time: {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{what} is not an ISO 8601 time: {value[:40]!r}") from None
    if moment.tzinfo is None and tz is not None:
        moment = moment.replace(tzinfo=tz)
    return moment.isoformat()


def _run(archive: Any, number: int, server: str, job: str, target: str, tz: tzinfo | None) -> dict[str, Any]:
    if not isinstance(archive, dict):
        raise ValueError(f"archive {number} is not an object")
    name = archive.get("name", archive.get("archive"))
    if not isinstance(name, str):
        raise ValueError(f"archive {number} has no name")
    started = archive.get("start", archive.get("time"))  # `start` since borg 1.1; older listings only have `time`
    end = archive.get("end")
    return {
        "server": server,
        "job": job,
        "target": target,
        "started": _moment(started, f"archive {name!r} start", tz),
        "ended": _moment(end, f"archive {name!r} end", tz) if end is not None else None,
        "result": "failure" if CHECKPOINT.search(name) else "success",
    }


def parse_borg_list(data: bytes, server: str, job: str = "borg", *, target: str = "local",
                    tz: tzinfo | None = None) -> dict[str, Any]:
    """Each archive of a `borg list --json` listing as one run of SERVER's backup JOB."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, not {target!r}")
    try:
        archives = json.loads(data)["archives"]
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ValueError(f"not borg list JSON output: {exc.__class__.__name__}: {exc}") from None
    if not isinstance(archives, list):
        raise ValueError("not borg list JSON output: 'archives' is not a list")
    return {"runs": [_run(a, n, server, job, target, tz) for n, a in enumerate(archives)]}
