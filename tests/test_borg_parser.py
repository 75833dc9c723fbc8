"""`borg list --json` into backup runs, on the real listing in ../shared/corpus/backup and on garbled input."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest
from conftest import corpus_file
from hypothesis import given, settings
from hypothesis import strategies as st

from auditpack.collectors.parsers.borg import parse_borg_list

LISTING = "backup/borgbase__vorta/list_stdout.json"


def listing(*archives: dict) -> bytes:
    return json.dumps({"archives": list(archives), "repository": {"location": "/srv/borg"}}).encode()


def test_vorta_listing_gives_one_successful_local_run_per_archive():
    runs = parse_borg_list(corpus_file(LISTING).read_bytes(), server="nyx2.local")["runs"]
    assert [r["started"] for r in runs] == [
        "2018-11-04T23:19:15", "2018-11-05T22:12:45", "2018-11-05T22:13:32",
        "2018-11-05T23:05:09", "2018-11-06T09:35:10", "2018-11-06T12:35:09"]
    assert runs[0] == {"server": "nyx2.local", "job": "borg", "target": "local", "started": "2018-11-04T23:19:15",
                       "ended": None, "result": "success"}
    assert {(r["server"], r["job"], r["target"], r["result"], r["ended"]) for r in runs} == {
        ("nyx2.local", "borg", "local", "success", None)}


def test_vorta_listing_in_the_hosts_zone_keeps_the_local_day():
    data = corpus_file(LISTING).read_bytes()
    runs = parse_borg_list(data, server="nyx2", job="home", target="cloud", tz=ZoneInfo("Europe/Amsterdam"))["runs"]
    # 23:19 in Amsterdam on 4 November is still 4 November, although it is 22:19 UTC
    assert runs[0]["started"] == "2018-11-04T23:19:15+01:00"
    assert (runs[0]["job"], runs[0]["target"]) == ("home", "cloud")


def test_end_time_time_fallback_and_offsets_are_kept():
    data = listing({"name": "a", "start": "2026-05-01T22:00:00.123456+02:00", "end": "2026-05-01T22:30:00+02:00"},
                   {"name": "b", "time": "2026-05-02T22:00:00"})
    a, b = parse_borg_list(data, "fs01")["runs"]
    assert (a["started"], a["ended"]) == ("2026-05-01T22:00:00.123456+02:00", "2026-05-01T22:30:00+02:00")
    assert (b["started"], b["ended"]) == ("2026-05-02T22:00:00", None)


def test_checkpoint_archive_is_an_interrupted_backup():
    data = listing({"name": "fs01-2026-05-01.checkpoint", "start": "2026-05-01T22:00:00"},
                   {"name": "fs01-2026-05-01.checkpoint.1", "start": "2026-05-01T23:00:00"},
                   {"name": "fs01-2026-05-02", "start": "2026-05-02T22:00:00"})
    assert [r["result"] for r in parse_borg_list(data, "fs01")["runs"]] == ["failure", "failure", "success"]


def test_empty_repository_has_no_runs():
    assert parse_borg_list(listing(), "fs01") == {"runs": []}


@pytest.mark.parametrize("garbled", [
    b"", b"\xff\xfe\x00", b"[]", b"{}", b"null", b'{"archives": 3}', b'{"archives": {"name": "a"}}',
    b'{"archives": [1]}', b'{"archives": [{"start": "2026-05-01T22:00:00"}]}',
    b'{"archives": [{"name": "a"}]}', b'{"archives": [{"name": "a", "start": 1714600000}]}',
    b'{"archives": [{"name": "a", "start": "yesterday"}]}',
    b'{"archives": [{"name": "a", "start": "2026-05-01T22:00:00", "end": "soon"}]}',
    b'{"archives": [{"name": "a", "time": "2026-13-01T22:00:00"}]}',
    b'Repository /srv/borg does not exist.\n',
])
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


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=20)
times = st.one_of(st.datetimes().map(lambda d: d.isoformat()), st.text(max_size=30), json_values)
archives = st.fixed_dictionaries({}, optional={"name": st.one_of(st.text(max_size=20), json_values),
                                               "archive": st.text(max_size=20), "start": times, "time": times,
                                               "end": times})


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.lists(st.one_of(archives, json_values), max_size=5), json_values))
def test_borg_parser_on_near_borg_json_only_raises_value_error(archive_list):
    try:
        result = parse_borg_list(json.dumps({"archives": archive_list}).encode(), "fs01")
    except ValueError:
        return
    assert all(r["result"] in ("success", "failure") for r in result["runs"])
