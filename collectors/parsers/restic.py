"""Parse `restic snapshots --json` into backup runs (the `backup.runs` shape). Pure: bytes in, dict out.

restic saves a snapshot only when `restic backup` has finished, so every snapshot is a successful
run; a failed backup leaves none (its trace is a wrapper's report, see backup_logs). restic
writes times with their offset and up to nanoseconds; they are kept to the microsecond. Since
restic 0.17 a snapshot carries a `summary` whose `backup_end` is when the run ended.

One repository may hold snapshots of several machines. A snapshot whose `hostname` names another
machine than SERVER is that machine's run: another machine's backup must not make this server's
day pass. A hostname and a server name are the same machine when their first DNS labels match
(`fs01` and `fs01.example.local`), since restic records the short host name by default.
"""

from __future__ import annotations

from typing import Any

from .backup_logs import aware_moment, backup_run, check_target, load_json


def _server(hostname: str | None, server: str) -> str:
    """SERVER when the snapshot's hostname names the same machine (or none), else the hostname."""
    same = not hostname or hostname.split(".", 1)[0].lower() == server.split(".", 1)[0].lower()
    return server if same else hostname


def _run(snapshot: Any, number: int, server: str, job: str, target: str) -> dict[str, Any]:
    if not isinstance(snapshot, dict):
        raise ValueError(f"snapshot {number} is not an object")
    hostname = snapshot.get("hostname")
    if hostname is not None and not isinstance(hostname, str):
        raise ValueError(f"snapshot {number}: hostname is not text")
    summary = snapshot.get("summary")
    if summary is not None and not isinstance(summary, dict):
        raise ValueError(f"snapshot {number}: summary is not an object")
    started = aware_moment(snapshot.get("time"), f"snapshot {number} time")
    end = (summary or {}).get("backup_end")
    ended = aware_moment(end, f"snapshot {number} backup_end") if end is not None else None
    return backup_run(_server(hostname, server), job, target, started, ended, "success")


def parse_restic_snapshots(data: bytes, server: str, job: str = "restic", *, target: str = "local") -> dict[str, Any]:
    """Each snapshot of a `restic snapshots --json` listing as one successful run of SERVER's backup JOB."""
    check_target(target)
    snapshots = load_json(data, "restic snapshots JSON output")
    if not isinstance(snapshots, list):
        raise ValueError("not restic snapshots JSON output: not a list of snapshots")
    return {"runs": [_run(s, n, server, job, target) for n, s in enumerate(snapshots)]}
