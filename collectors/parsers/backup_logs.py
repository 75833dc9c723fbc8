"""auditpack's own backup report for any other backup tool, and the pieces all backup parsers share.

Pure: bytes in, dict out (the `backup.runs` shape of controls/EVIDENCE.md); garbled input raises ValueError.

The report (inventory: `auditpack_backups: [{tool: log, repository: /var/log/backup-report.jsonl}]`)
is written by a wrapper script around a backup tool that auditpack cannot read itself. After every
run, also a failed one, the wrapper appends one JSON object as one line of UTF-8:

    {"time": "2026-03-04T22:00:03+01:00", "result": "failure", "server": "fs01", "job": "rsync-nas"}

| field    |          | meaning |
|----------|----------|---------|
| `time`   | required | when the run started: ISO 8601 with an offset (`date -Iseconds`) |
| `result` | required | `success`; `warning` (backup made, the tool reported problems); `failure` (no backup) |
| `ended`  | optional | when the run ended, ISO 8601 with an offset |
| `server` | optional | the server backed up; default: the report's `server` in the inventory, else the host |
| `job`    | optional | default: the report's `job` in the inventory, else `log` |
| `target` | optional | `local` or `cloud`; default null (the report does not say) |

Empty lines are skipped and other fields are ignored, so a wrapper may add `rc` or `message`.
Anything else refuses the whole report, naming the line: a report read in part could hide a failure.
A time without an offset is refused too, because the day of the run would have to be guessed.

A wrapper for a tool whose exit code 0 means success (a sketch; restic also uses 3 for "snapshot
made, some files unreadable", which is a warning):

    start=$(date -Iseconds)
    if restic backup /srv; then result=success; elif [ $? -eq 3 ]; then result=warning; else result=failure; fi
    printf '{"time":"%s","ended":"%s","result":"%s","job":"srv"}\\n' "$start" "$(date -Iseconds)" "$result" \\
        >> /var/log/backup-report.jsonl
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from typing import Any

RESULTS = ("success", "warning", "failure")
TARGETS = ("local", "cloud")


# -- shared by the backup parsers -----------------------------------------------------------------


def load_json(data: bytes | str, what: str) -> Any:
    """One JSON document, or ValueError naming what it should have been."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:  # ValueError covers JSONDecodeError and UnicodeDecodeError
        raise ValueError(f"not {what}: {exc.__class__.__name__}: {exc}") from None


def shown(value: Any) -> str:
    """A bad value for an error message, short: a nested structure only by its type."""
    if isinstance(value, str):
        return repr(value[:40])
    return repr(value) if value is None or isinstance(value, (bool, int, float)) else type(value).__name__


def text_lines(data: bytes, what: str) -> list[tuple[int, str]]:
    """The non-empty lines of a UTF-8 log with their line numbers (1-based, as an editor shows them)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{what} is not UTF-8: {exc}") from None
    return [(n, line) for n, line in enumerate(text.split("\n"), 1) if line.strip()]  # JSON lines end in \n only


def moment(value: Any, what: str, tz: tzinfo | None = None) -> datetime:
    """An ISO 8601 time; a zone is attached only when the source gave none and the caller knows it.

    Python 3.11 reads `Z` and cuts restic's nanoseconds to microseconds (cut, not rounded,
    so 23:59:59.9999999 stays on its day).
    """
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} is not a time: {shown(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{what} is not an ISO 8601 time: {shown(value)}") from None
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None and tz is not None else parsed


def aware_moment(value: Any, what: str) -> datetime:
    """A time that must carry its offset: without one the day of the run would be a guess."""
    parsed = moment(value, what)
    if parsed.tzinfo is None:
        raise ValueError(f"{what} has no UTC offset: {shown(value)}")
    return parsed


def epoch_moment(value: Any, what: str, tz: tzinfo | None = None) -> datetime:
    """Seconds since 1970 (borg's log times) as a moment in TZ, UTC when the caller does not know the zone."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} is not a number of seconds: {shown(value)}")
    try:
        return datetime.fromtimestamp(value, tz or UTC)
    except (OverflowError, OSError, ValueError):  # NaN, infinity, or beyond the years datetime can hold
        raise ValueError(f"{what} is not a usable time: {shown(value)}") from None


def iso(value: datetime) -> str:
    """A moment as the contract writes it: UTC as `Z`, other offsets as given, a naive time as the source wrote it."""
    text = value.isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def check_target(target: str | None, what: str = "target") -> None:
    if target is not None and target not in TARGETS:
        raise ValueError(f"{what} must be one of {TARGETS}, not {shown(target)}")


def backup_run(
    server: str, job: str, target: str | None, started: datetime, ended: datetime | None, result: str
) -> dict[str, Any]:
    """One run in the `backup.runs` shape."""
    return {
        "server": server,
        "job": job,
        "target": target,
        "started": iso(started),
        "ended": iso(ended) if ended is not None else None,
        "result": result,
    }


# -- the report -----------------------------------------------------------------------------------


def _name(entry: dict[str, Any], key: str, default: str, where: str) -> str:
    value = entry.get(key)
    if value is None:
        return default
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {key!r} is not a name: {shown(value)}")
    return value


def _report_run(line: str, where: str, server: str, job: str) -> dict[str, Any]:
    entry = load_json(line, f"a JSON object ({where})")
    if not isinstance(entry, dict):
        raise ValueError(f"{where} is not a JSON object")
    result, target, ended = entry.get("result"), entry.get("target"), entry.get("ended")
    if result not in RESULTS:
        raise ValueError(f"{where}: result must be one of {RESULTS}, not {shown(result)}")
    check_target(target, f"{where}: target")
    return backup_run(
        _name(entry, "server", server, where),
        _name(entry, "job", job, where),
        target,
        aware_moment(entry.get("time"), f"{where} time"),
        aware_moment(ended, f"{where} ended") if ended is not None else None,
        result,
    )


def parse_backup_log(data: bytes, server: str, job: str = "log") -> dict[str, Any]:
    """Every line of a backup report as one run; SERVER and JOB are the defaults for lines that do not name them."""
    return {"runs": [_report_run(line, f"line {n}", server, job) for n, line in text_lines(data, "the backup report")]}
