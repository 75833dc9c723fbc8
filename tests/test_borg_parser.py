"""borg's JSON (list, info, create --json, --log-json) on the real outputs in ../shared/corpus/backup and on garbage."""

from __future__ import annotations

import json
from datetime import timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditpack.collectors.parsers.borg import borg_log_messages, parse_borg_info, parse_borg_list, parse_borg_log_json
from conftest import corpus_file

LISTING = "backup/borgbase__vorta/list_stdout.json"


def listing(*archives: dict) -> bytes:
    return json.dumps({"archives": list(archives), "repository": {"location": "/srv/borg"}}).encode()


def test_vorta_listing_gives_one_successful_local_run_per_archive():
    runs = parse_borg_list(corpus_file(LISTING).read_bytes(), server="nyx2.local")["runs"]
    assert [r["started"] for r in runs] == [
        "2018-11-04T23:19:15",
        "2018-11-05T22:12:45",
        "2018-11-05T22:13:32",
        "2018-11-05T23:05:09",
        "2018-11-06T09:35:10",
        "2018-11-06T12:35:09",
    ]
    assert runs[0] == {
        "server": "nyx2.local",
        "job": "borg",
        "target": "local",
        "started": "2018-11-04T23:19:15",
        "ended": None,
        "result": "success",
    }
    assert {(r["server"], r["job"], r["target"], r["result"], r["ended"]) for r in runs} == {
        ("nyx2.local", "borg", "local", "success", None)
    }


def test_vorta_listing_in_the_hosts_zone_keeps_the_local_day():
    data = corpus_file(LISTING).read_bytes()
    runs = parse_borg_list(data, server="nyx2", job="home", target="cloud", tz=ZoneInfo("Europe/Amsterdam"))["runs"]
    # 23:19 in Amsterdam on 4 November is still 4 November, although it is 22:19 UTC
    assert runs[0]["started"] == "2018-11-04T23:19:15+01:00"
    assert (runs[0]["job"], runs[0]["target"]) == ("home", "cloud")


def test_end_time_time_fallback_and_offsets_are_kept():
    data = listing(
        {"name": "a", "start": "2026-05-01T22:00:00.123456+02:00", "end": "2026-05-01T22:30:00+02:00"},
        {"name": "b", "time": "2026-05-02T22:00:00"},
    )
    a, b = parse_borg_list(data, "fs01")["runs"]
    assert (a["started"], a["ended"]) == ("2026-05-01T22:00:00.123456+02:00", "2026-05-01T22:30:00+02:00")
    assert (b["started"], b["ended"]) == ("2026-05-02T22:00:00", None)


def test_checkpoint_archive_is_an_interrupted_backup():
    data = listing(
        {"name": "fs01-2026-05-01.checkpoint", "start": "2026-05-01T22:00:00"},
        {"name": "fs01-2026-05-01.checkpoint.1", "start": "2026-05-01T23:00:00"},
        {"name": "fs01-2026-05-02", "start": "2026-05-02T22:00:00"},
    )
    assert [r["result"] for r in parse_borg_list(data, "fs01")["runs"]] == ["failure", "failure", "success"]


def test_empty_repository_has_no_runs():
    assert parse_borg_list(listing(), "fs01") == {"runs": []}


@pytest.mark.parametrize(
    "garbled",
    [
        b"",
        b"\xff\xfe\x00",
        b"[]",
        b"{}",
        b"null",
        b'{"archives": 3}',
        b'{"archives": {"name": "a"}}',
        b'{"archives": [1]}',
        b'{"archives": [{"start": "2026-05-01T22:00:00"}]}',
        b'{"archives": [{"name": "a"}]}',
        b'{"archives": [{"name": "a", "start": 1714600000}]}',
        b'{"archives": [{"name": "a", "start": "yesterday"}]}',
        b'{"archives": [{"name": "a", "start": "2026-05-01T22:00:00", "end": "soon"}]}',
        b'{"archives": [{"name": "a", "time": "2026-13-01T22:00:00"}]}',
        b'Repository /srv/borg does not exist.\n',
    ],
)
def test_garbled_output_is_refused_with_a_reason(garbled):
    with pytest.raises(ValueError):
        parse_borg_list(garbled, "fs01")


def test_unknown_target_is_refused():
    with pytest.raises(ValueError):
        parse_borg_list(listing(), "fs01", target="tape")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_borg_parser_on_random_bytes_only_raises_value_error(data):
    try:
        parse_borg_list(data, "fs01")
    except ValueError:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
times = st.one_of(st.datetimes().map(lambda d: d.isoformat()), st.text(max_size=30), json_values)
archives = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.text(max_size=20), json_values),
        "archive": st.text(max_size=20),
        "start": times,
        "time": times,
        "end": times,
    },
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.lists(st.one_of(archives, json_values), max_size=5), json_values))
def test_borg_parser_on_near_borg_json_only_raises_value_error(archive_list):
    try:
        result = parse_borg_list(json.dumps({"archives": archive_list}).encode(), "fs01")
    except ValueError:
        return
    assert all(r["result"] in ("success", "failure") for r in result["runs"])


# -- borg info --json and borg create --json ------------------------------------------------------

VORTA = "backup/borgbase__vorta/"
VORTA_REPOSITORY = {
    "id": "daf2e2b94a1b57f0effc96939813ef58d0af04414f92f87c3e092a99adaa90eb",
    "location": "ssh://w66xh7lj@w66xh7lj.repo.borgbase.com/./repo",
    "last_modified": "2018-11-06T14:24:14",
}


def test_vorta_info_names_the_repository_its_encryption_and_sizes():
    assert parse_borg_info(corpus_file(VORTA + "info_stdout.json").read_bytes()) == {
        "repository": VORTA_REPOSITORY,
        "encryption": "repokey-blake2",
        "original_size": 27955635,
        "stored_size": 13435127,
        "archives": None,
    }


def test_vorta_create_summary_is_the_info_document_with_its_one_archive():
    info = parse_borg_info(corpus_file(VORTA + "create_stdout.json").read_bytes())
    assert (info["repository"], info["encryption"]) == (VORTA_REPOSITORY, "repokey-blake2")
    assert info["archives"] == [
        {
            "name": "test-snapadkkfdddasdf",
            "started": "2018-11-06T14:24:04",
            "ended": "2018-11-06T14:24:09",
            "hostname": None,
            "original_size": 3038309,
            "deduplicated_size": 2954077,
            "nfiles": 10,
        }
    ]


def test_vorta_listing_read_as_info_names_its_own_repository_and_archives():
    info = parse_borg_info(corpus_file(LISTING).read_bytes())
    # a second BorgBase repository: the id tells it apart from the one of info_stdout.json
    assert info["repository"] == {
        "id": "3c1861de5908546a65409ed6b98024c0a4845d5348496010896798368c2424dd",
        "location": "ssh://i0fis593@i0fis593.repo.borgbase.com/./repo",
        "last_modified": "2018-11-06T12:35:11",
    }
    assert (info["encryption"], info["original_size"], len(info["archives"])) == ("repokey-blake2", None, 6)
    assert info["archives"][-1] == {
        "name": "nyx2.local-2018-11-06T12:35:00.087922",
        "started": "2018-11-06T12:35:09",
        "ended": None,
        "hostname": None,
        "original_size": None,
        "deduplicated_size": None,
        "nfiles": None,
    }


def test_info_in_the_hosts_zone_and_archive_hostname():
    data = json.dumps(
        {
            "repository": {"id": "ab", "location": "/srv/borg", "last_modified": "2026-05-01T23:00:00"},
            "encryption": {"mode": "none"},
            "archives": [{"name": "a", "start": "2026-05-01T22:00:00", "hostname": "fs01"}],
        }
    ).encode()
    info = parse_borg_info(data, tz=ZoneInfo("Europe/Amsterdam"))
    assert info["repository"]["last_modified"] == "2026-05-01T23:00:00+02:00"
    assert info["archives"] == [
        {
            "name": "a",
            "started": "2026-05-01T22:00:00+02:00",
            "ended": None,
            "hostname": "fs01",
            "original_size": None,
            "deduplicated_size": None,
            "nfiles": None,
        }
    ]
    assert (info["original_size"], info["stored_size"]) == (None, None)


REPO = b'"repository": {"id": "ab", "location": "/r"}, "encryption": {"mode": "none"}'


@pytest.mark.parametrize(
    "garbled",
    [
        b"",
        b"[]",
        b"{}",
        b'{"repository": {"id": "ab", "location": "/r"}}',
        b'{"repository": {"id": "ab", "location": "/r"}, "encryption": {}}',
        b'{"repository": {"id": 1, "location": "/r"}, "encryption": {"mode": "none"}}',
        b'{"repository": "x", "encryption": {"mode": "none"}}',
        b"{" + REPO + b', "archives": {}}',
        b"{" + REPO + b', "archives": [{"name": "a"}]}',
        b"{" + REPO + b', "cache": {"stats": {"total_size": true}}}',
        b"{" + REPO + b', "archive": {"name": "a", "start": "2026-05-01T22:00:00", "stats": {"nfiles": "10"}}}',
    ],
)
def test_garbled_info_is_refused_with_a_reason(garbled):
    with pytest.raises(ValueError):
        parse_borg_info(garbled)


# -- borg create --log-json -----------------------------------------------------------------------


def log(*events: dict | str) -> bytes:
    return "".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in events).encode()


def message(text: str, level: str = "INFO", name: str = "borg.archiver", at: float = 1777672800.0) -> dict:
    return {"type": "log_message", "time": at, "message": text, "levelname": level, "name": name}


def show_rc(rc: int, at: float = 1777672900.0) -> dict:
    status = {0: "success", 1: "warning"}.get(rc, "error")
    return message(f"terminating with {status} status, rc {rc}", "INFO" if rc == 0 else "ERROR", "borg.output.show-rc", at)


STATS = message("Archive name: fs01-2026-05-01", name="borg.output.stats", at=1777672850.0)
CACHE_COMMITTED = {"operation": 2, "msgid": "cache.commit", "type": "progress_message", "finished": True, "time": 1777672860.0}


def test_vorta_create_log_is_one_successful_run_from_its_first_to_its_last_line():
    data = corpus_file(VORTA + "create_stderr.json").read_bytes()
    assert parse_borg_log_json(data, "nyx2.local") == {
        "runs": [
            {
                "server": "nyx2.local",
                "job": "borg",
                "target": "local",
                "started": "2018-11-06T06:24:04.889130Z",
                "ended": "2018-11-06T06:24:15.276112Z",
                "result": "success",
            }
        ]
    }
    # in the zone of the host that ran it, the log starts in the second that `borg create --json` reports
    [run] = parse_borg_log_json(data, "nyx2.local", tz=timezone(timedelta(hours=8)))["runs"]
    assert run["started"] == "2018-11-06T14:24:04.889130+08:00"
    assert [(m["level"], m["message"]) for m in borg_log_messages(data)] == [
        ("INFO", "Remote: Storage quota: 10.48 MB out of 1.00 GB used."),
        ("INFO", "Remote: Storage quota: 13.44 MB out of 1.00 GB used."),
    ]


@pytest.mark.parametrize(
    "name,started,ended",
    [
        # the remote repository's lines come first in the file, but the local check started earlier
        ("check_stderr.json", "2018-11-29T14:23:47.141906Z", "2018-11-29T14:23:50.631774Z"),
        ("prune_stderr.json", "2018-11-29T11:01:19.046873Z", "2018-11-29T11:01:22.103036Z"),
    ],
)
def test_vorta_check_and_prune_logs_prove_no_archive(name, started, ended):
    # read as the log of a backup they would be a run that never saved an archive: only create logs belong here
    [run] = parse_borg_log_json(corpus_file(VORTA + name).read_bytes(), "nyx2.local")["runs"]
    assert (run["started"], run["ended"], run["result"]) == (started, ended, "failure")


def test_vorta_check_log_messages_in_borgs_words():
    messages = borg_log_messages(corpus_file(VORTA + "check_stderr.json").read_bytes())
    assert [m["message"] for m in messages] == [
        "Remote: Starting repository check",
        "Remote: Starting repository index check",
        "Remote: Completed repository check, no problems found.",
        "Starting archive consistency check...",
        "Analyzing archive nyx2.local-1-2018-11-26T15:33:25 (1/1)",
        "Archive consistency check complete, no problems found.",
    ]
    assert messages[0] == {
        "time": "2018-11-29T14:23:47.399186Z",
        "level": "INFO",
        "name": "borg.repository",
        "message": "Remote: Starting repository check",
    }


@pytest.mark.parametrize(
    "events,result",
    [
        ((show_rc(0),), "success"),
        ((message("/srv/x: [Errno 2] No such file or directory", "WARNING"), show_rc(1)), "warning"),
        ((message("Archive fs01 already exists", "ERROR"), show_rc(2)), "failure"),
        ((show_rc(143),), "failure"),  # killed by SIGTERM
        ((STATS,), "success"),  # --stats without --show-rc
        ((CACHE_COMMITTED,), "success"),  # --progress without --show-rc
        ((message("file changed while we backed it up", "WARNING"), STATS), "warning"),
        ((message("Failed to create/acquire the lock", "ERROR"),), "failure"),
        ((message("Remote: Borg 1.2.4: exception in RPC call", "CRITICAL"), CACHE_COMMITTED), "failure"),
        (({"type": "archive_progress", "finished": True, "time": 1777672800.0},), "failure"),  # walked, never saved
        ((message("Initializing cache transaction"), "Traceback (most recent call last):", "MemoryError"), "failure"),
    ],
)
def test_log_verdict(events, result):
    [run] = parse_borg_log_json(log(*events), "fs01", "nightly", target="cloud")["runs"]
    assert (run["server"], run["job"], run["target"], run["result"]) == ("fs01", "nightly", "cloud", result)


def test_an_empty_log_describes_no_run():
    assert parse_borg_log_json(b"", "fs01") == {"runs": []}
    assert parse_borg_log_json(b"\n  \n", "fs01") == {"runs": []}


@pytest.mark.parametrize(
    "garbled",
    [
        b"\xff\xfe\x00",
        b"Repository /srv/borg does not exist.\n",
        b"[1, 2]\n3\n",
        b'{"type": "file_status"}\n',
        log({"type": "log_message", "time": "yesterday"}),
        log({"type": "log_message", "time": True}),
        log({"type": "log_message", "time": 1e300}),
        b'{"time": NaN}\n',
        b'{"time": Infinity}\n',
    ],
)
def test_garbled_log_is_refused_with_a_reason(garbled):
    with pytest.raises(ValueError):
        parse_borg_log_json(garbled, "fs01")


def test_log_with_unknown_target_is_refused():
    with pytest.raises(ValueError):
        parse_borg_log_json(log(show_rc(0)), "fs01", target="tape")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_info_and_log_parsers_on_random_bytes_only_raise_value_error(data):
    for parse in (parse_borg_info, lambda d: parse_borg_log_json(d, "fs01"), borg_log_messages):
        try:
            parse(data)
        except ValueError:
            pass


log_events = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["log_message", "progress_message", "archive_progress", "file_status"]) | json_values,
        "time": st.one_of(st.floats(), st.integers(), json_values),
        "levelname": st.sampled_from(["INFO", "ERROR"]) | json_values,
        "name": st.sampled_from(["borg.output.show-rc", "borg.output.stats"]) | json_values,
        "message": st.one_of(st.sampled_from(["terminating with error status, rc 2", "Archive name: a"]), json_values),
        "msgid": st.just("cache.commit") | json_values,
        "finished": json_values,
    },
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(log_events, json_values, st.text(max_size=20)), max_size=6))
def test_log_parser_on_near_borg_lines_only_raises_value_error(lines):
    data = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines).encode()
    try:
        result = parse_borg_log_json(data, "fs01")
        borg_log_messages(data)
    except ValueError:
        return
    assert all(r["result"] in ("success", "warning", "failure") for r in result["runs"])


info_docs = st.fixed_dictionaries(
    {},
    optional={
        "repository": st.fixed_dictionaries(
            {}, optional={"id": st.text(max_size=8) | json_values, "location": json_values, "last_modified": times}
        )
        | json_values,
        "encryption": st.fixed_dictionaries({}, optional={"mode": json_values}) | json_values,
        "cache": st.fixed_dictionaries(
            {}, optional={"stats": st.dictionaries(st.sampled_from(["total_size", "unique_csize"]), json_values)}
        )
        | json_values,
        "archive": st.one_of(archives, json_values),
        "archives": st.lists(st.one_of(archives, json_values), max_size=3),
    },
)


@settings(max_examples=400, deadline=None)
@given(info_docs)
def test_info_parser_on_near_borg_json_only_raises_value_error(doc):
    try:
        parse_borg_info(json.dumps(doc).encode())
    except ValueError:
        pass
