"""Parse borg's JSON output. Pure: bytes in, dict out; garbled input raises ValueError.

- `borg list --json`: each archive as one run (the `backup.runs` shape). borg writes an archive
  only when `borg create` has finished, so every archive is a completed backup. The exception is a
  checkpoint archive (`<name>.checkpoint` or `<name>.checkpoint.N`): borg 1.x leaves it behind when
  a backup was interrupted, so it counts as a failed run.
- `borg info --json`, and `borg create --json` (the same document with one `archive`): which
  repository it is, how it is encrypted, and the archives it describes.
- `borg create --log-json` (its stderr, one JSON object per line): the run it logged. A failed
  backup leaves no archive to list, so this log is the only trace of a failure.

borg 1.x prints archive times in the local time of the host that ran borg without an offset;
borg 2 adds the offset. A naive time is kept as the source wrote it unless the caller knows the
host's zone (`tz`): inventing an offset here could move a backup to another day. Log times are
seconds since 1970, so they are exact: UTC unless the caller gives the host's zone.
"""

from __future__ import annotations

import re
from datetime import tzinfo
from typing import Any

from .backup_logs import backup_run, check_target, epoch_moment, iso, load_json, moment, shown, text_lines

CHECKPOINT = re.compile(r"\.checkpoint(\.\d+)?$")
SHOW_RC = re.compile(r"terminating with \w+ status, rc (\d{1,4})\b")  # the last line of `borg --show-rc`
ERROR_LEVELS = frozenset({"ERROR", "CRITICAL"})


def _document(data: bytes, what: str) -> dict[str, Any]:
    doc = load_json(data, what)
    if not isinstance(doc, dict):
        raise ValueError(f"not {what}: not a JSON object")
    return doc


def _field(obj: dict[str, Any], key: str, kind: type, where: str, required: bool = True) -> Any:
    """OBJ[KEY] if it is of KIND (None when optional and absent), else ValueError naming WHERE."""
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ValueError(f"{where}: {key!r} is not {kind.__name__}: {shown(value)}")
    return value


# -- borg list --------------------------------------------------------------------------------------


def _run(archive: Any, number: int, server: str, job: str, target: str, tz: tzinfo | None) -> dict[str, Any]:
    if not isinstance(archive, dict):
        raise ValueError(f"archive {number} is not an object")
    name = archive.get("name", archive.get("archive"))
    if not isinstance(name, str):
        raise ValueError(f"archive {number} has no name")
    started = archive.get("start", archive.get("time"))  # `start` since borg 1.1; older listings only have `time`
    end = archive.get("end")
    return backup_run(
        server,
        job,
        target,
        moment(started, f"archive {name!r} start", tz),
        moment(end, f"archive {name!r} end", tz) if end is not None else None,
        "failure" if CHECKPOINT.search(name) else "success",
    )


def parse_borg_list(
    data: bytes, server: str, job: str = "borg", *, target: str = "local", tz: tzinfo | None = None
) -> dict[str, Any]:
    """Each archive of a `borg list --json` listing as one run of SERVER's backup JOB."""
    check_target(target)
    archives = _document(data, "borg list JSON output").get("archives")
    if not isinstance(archives, list):
        raise ValueError("not borg list JSON output: 'archives' is not a list")
    return {"runs": [_run(a, n, server, job, target, tz) for n, a in enumerate(archives)]}


# -- borg info / borg create --json ---------------------------------------------------------------------


def _archive_info(archive: Any, number: int, tz: tzinfo | None) -> dict[str, Any]:
    if not isinstance(archive, dict):
        raise ValueError(f"archive {number} is not an object")
    name = _field(archive, "name", str, f"archive {number}")
    stats = _field(archive, "stats", dict, f"archive {name!r}", required=False) or {}
    end = archive.get("end")
    return {
        "name": name,
        "started": iso(moment(archive.get("start"), f"archive {name!r} start", tz)),
        "ended": iso(moment(end, f"archive {name!r} end", tz)) if end is not None else None,
        "hostname": _field(archive, "hostname", str, f"archive {name!r}", required=False),
        **{
            key: _field(stats, key, int, f"archive {name!r} stats", required=False)
            for key in ("original_size", "deduplicated_size", "nfiles")
        },
    }


def parse_borg_info(data: bytes, *, tz: tzinfo | None = None) -> dict[str, Any]:
    """The repository of `borg info --json` or `borg create --json`: id, location, encryption, sizes, archives.

    `archives` is None when the output describes none (`borg info` of a whole repository);
    `original_size` (all archives) and `stored_size` (deduplicated, compressed) come from borg's cache.
    """
    doc = _document(data, "borg info JSON output")
    repository = _field(doc, "repository", dict, "borg info")
    stats = _field(_field(doc, "cache", dict, "borg info", required=False) or {}, "stats", dict, "cache", required=False) or {}
    archives = doc.get("archives", [doc["archive"]] if "archive" in doc else None)
    if archives is not None and not isinstance(archives, list):
        raise ValueError("borg info: 'archives' is not a list")
    modified = repository.get("last_modified")
    return {
        "repository": {
            "id": _field(repository, "id", str, "repository"),
            "location": _field(repository, "location", str, "repository"),
            "last_modified": iso(moment(modified, "repository last_modified", tz)) if modified is not None else None,
        },
        "encryption": _field(_field(doc, "encryption", dict, "borg info"), "mode", str, "encryption"),
        "original_size": _field(stats, "total_size", int, "cache stats", required=False),
        "stored_size": _field(stats, "unique_csize", int, "cache stats", required=False),
        "archives": None if archives is None else [_archive_info(a, n, tz) for n, a in enumerate(archives)],
    }


# -- borg create --log-json ---------------------------------------------------------------------------


def _log_events(data: bytes) -> list[dict[str, Any]]:
    """The JSON objects of a --log-json log. Other lines are skipped: ssh warnings and a crashing
    Python's traceback reach the same stderr, and the verdict below does not depend on them."""
    events = []
    for _, line in text_lines(data, "the borg log"):
        try:
            event = load_json(line, "JSON")
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def _text(event: dict[str, Any], key: str) -> str | None:
    value = event.get(key)
    return value if isinstance(value, str) else None


def _message(event: dict[str, Any]) -> str:
    return _text(event, "message") or ""


def _return_code(events: list[dict[str, Any]]) -> int | None:
    """borg's own verdict, when it ran with --show-rc: 0 success, 1 warning, 2 error, 128+N killed by signal N."""
    codes = [int(m.group(1)) for e in events if e.get("name") == "borg.output.show-rc" and (m := SHOW_RC.search(_message(e)))]
    return codes[-1] if codes else None


def _archive_saved(event: dict[str, Any]) -> bool:
    """A line borg writes only after the archive was saved: the --stats block, or (with --progress)
    the cache commit that ends `Archive.save`. The final `archive_progress` line is no proof: borg 1.2
    writes it before saving."""
    if event.get("type") == "progress_message":
        return event.get("msgid") == "cache.commit" and event.get("finished") is True
    return event.get("name") == "borg.output.stats" and _message(event).startswith("Archive name:")


def _verdict(events: list[dict[str, Any]]) -> str:
    rc = _return_code(events)
    if rc is not None:
        return "success" if rc == 0 else "warning" if rc == 1 else "failure"
    levels = {_text(e, "levelname") for e in events if e.get("type") == "log_message"}
    if levels & ERROR_LEVELS or not any(_archive_saved(e) for e in events):
        return "failure"  # an error, or a log that stops before an archive exists (killed, out of disk, ...)
    return "warning" if "WARNING" in levels else "success"


def parse_borg_log_json(
    data: bytes, server: str, job: str = "borg", *, target: str = "local", tz: tzinfo | None = None
) -> dict[str, Any]:
    """The one run that a `borg create --log-json` log (stderr, one file per run) describes.

    Its verdict: borg's return code when it ran with `--show-rc` (recommended); otherwise a failure
    when an ERROR or CRITICAL line was logged or no line proves a saved archive (run with `--stats`
    or `--progress`), a warning after a WARNING line, else a success. The run starts at the earliest
    time logged (a remote repository's lines arrive late, see the corpus check log) and ends at the
    latest. An empty log describes no run; a log none of whose lines carries a time is refused.
    """
    check_target(target)
    events = _log_events(data)
    times = [epoch_moment(e["time"], "log line time", tz) for e in events if "time" in e]
    if times:
        return {"runs": [backup_run(server, job, target, min(times), max(times), _verdict(events))]}
    if data.strip():
        raise ValueError("no line of the borg log carries a time (file_status lines have none): log borg create with --show-rc")
    return {"runs": []}


def borg_log_messages(data: bytes, *, tz: tzinfo | None = None) -> list[dict[str, Any]]:
    """The log_message lines of a --log-json log as borg wrote them: why a run failed, in borg's words."""
    return [
        {
            "time": iso(epoch_moment(e["time"], "log line time", tz)) if "time" in e else None,
            "level": _text(e, "levelname"),
            "name": _text(e, "name"),
            "message": _message(e),
        }
        for e in _log_events(data)
        if e.get("type") == "log_message"
    ]
