"""Backup runs from real borg and restic repositories, restic's and the report's parsers, and T-BAK-1 over them.

The real-tool tests need Debian's `borgbackup` and `restic` (borg 1.2.4, restic 0.14.0 on Debian 12)
and skip with the reason when they are missing. Failures are produced for real (a wrong passphrase,
a source that is not there), because a failed backup is exactly what a listing never shows.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
from datetime import UTC, date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_borg_parser import json_values  # the same near-JSON values that fuzz the borg parsers

from auditpack.collectors.parsers import backup_logs
from auditpack.collectors.parsers.backup_logs import parse_backup_log
from auditpack.collectors.parsers.borg import borg_log_messages, parse_borg_info, parse_borg_list, parse_borg_log_json
from auditpack.collectors.parsers.restic import parse_restic_snapshots
from auditpack.controls.result import Status
from auditpack.periods import period_from_options
from evidence_factory import evaluate, item, run

PASSPHRASE = "test passphrase, not a secret"
aware_times = st.one_of(st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()), st.text(max_size=30), json_values)


# -- restic snapshots --json ----------------------------------------------------------------------


def snapshot(time: str, hostname: str | None = "web01", **extra) -> dict:
    """A snapshot as restic 0.14 prints it."""
    snap = {
        "time": time,
        "tree": "b0afc758",
        "paths": ["/srv/data"],
        "hostname": hostname,
        "username": "root",
        "id": "f15e00dee4fc6c35c5032442f573e85e398d1abeb2c5e56849c9cbdb8d4bbd56",
        "short_id": "f15e00de",
        **extra,
    }
    return {k: v for k, v in snap.items() if v is not None}


def snapshots(*snaps: dict) -> bytes:
    return json.dumps(list(snaps)).encode()


def test_restic_snapshots_are_successful_runs_with_their_offset_kept():
    data = snapshots(snapshot("2026-03-01T22:00:00Z"), snapshot("2026-03-02T23:30:01.026126856+01:00"))
    assert parse_restic_snapshots(data, "web01") == {
        "runs": [
            {
                "server": "web01",
                "job": "restic",
                "target": "local",
                "started": "2026-03-01T22:00:00Z",
                "ended": None,
                "result": "success",
            },
            # nanoseconds cut to microseconds, and 23:30 in Amsterdam stays on 2 March
            {
                "server": "web01",
                "job": "restic",
                "target": "local",
                "started": "2026-03-02T23:30:01.026126+01:00",
                "ended": None,
                "result": "success",
            },
        ]
    }


def test_restic_summary_gives_the_end_of_the_run():
    summary = {"backup_start": "2026-03-01T22:00:00.5+01:00", "backup_end": "2026-03-01T22:41:07.817532575+01:00"}
    [r] = parse_restic_snapshots(
        snapshots(snapshot("2026-03-01T22:00:00+01:00", summary=summary)), "web01", "nightly", target="cloud"
    )["runs"]
    assert (r["job"], r["target"], r["ended"]) == ("nightly", "cloud", "2026-03-01T22:41:07.817532+01:00")


@pytest.mark.parametrize(
    "hostname,server,expected",
    [
        ("web01", "web01", "web01"),
        ("WEB01", "web01", "web01"),
        (None, "web01", "web01"),
        ("", "web01", "web01"),
        ("web01", "web01.example.local", "web01.example.local"),  # the same machine: the inventory's name wins
        ("db01", "web01", "db01"),  # a shared repository: db01's snapshot cannot make web01's day pass
    ],
)
def test_restic_snapshot_of_another_machine_is_that_machines_run(hostname, server, expected):
    [r] = parse_restic_snapshots(snapshots(snapshot("2026-03-01T22:00:00Z", hostname)), server)["runs"]
    assert r["server"] == expected


def test_empty_restic_repository_has_no_runs():
    assert parse_restic_snapshots(b"[]", "web01") == {"runs": []}


@pytest.mark.parametrize(
    "garbled",
    [
        b"",
        b"\xff\xfe\x00",
        b"null",
        b"{}",
        b'{"time": "2026-03-01T22:00:00Z"}',
        b"[1]",
        b"[{}]",
        snapshots(snapshot("2026-03-01T22:00:00")),  # no offset: the day would be a guess
        snapshots(snapshot("yesterday")),
        snapshots(snapshot(1772402400)),
        snapshots(snapshot("2026-03-01T22:00:00Z", 7)),
        snapshots(snapshot("2026-03-01T22:00:00Z", summary=[])),
        snapshots(snapshot("2026-03-01T22:00:00Z", summary={"backup_end": "later"})),
        b'[{"group_key": {"hostname": "web01"}, "snapshots": []}]',  # `--group-by` output is not a listing
        b"Fatal: unable to open config file: Is there a repository at the following location?\n",
    ],
)
def test_garbled_restic_output_is_refused_with_a_reason(garbled):
    with pytest.raises(ValueError):
        parse_restic_snapshots(garbled, "web01")


def test_restic_with_unknown_target_is_refused():
    with pytest.raises(ValueError):
        parse_restic_snapshots(b"[]", "web01", target="tape")


snapshot_docs = st.fixed_dictionaries(
    {},
    optional={
        "time": aware_times,
        "hostname": st.one_of(st.text(max_size=12), json_values),
        "paths": json_values,
        "summary": st.one_of(st.fixed_dictionaries({}, optional={"backup_end": json_values}), json_values),
    },
)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300), st.lists(st.one_of(snapshot_docs, json_values), max_size=4).map(lambda s: json.dumps(s).encode())
    )
)
def test_restic_parser_on_garbled_input_only_raises_value_error(data):
    try:
        result = parse_restic_snapshots(data, "web01")
    except ValueError:
        return
    assert all(r["result"] == "success" for r in result["runs"])


# -- auditpack's own backup report ------------------------------------------------------------------


def report(*lines: dict | str) -> bytes:
    return "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines).encode()


def test_the_documented_example_line_is_a_valid_report():
    example = next(line.strip() for line in backup_logs.__doc__.splitlines() if line.strip().startswith('{"time"'))
    assert parse_backup_log(example.encode(), "nas01") == {
        "runs": [
            {
                "server": "fs01",
                "job": "rsync-nas",
                "target": None,
                "started": "2026-03-04T22:00:03+01:00",
                "ended": None,
                "result": "failure",
            }
        ]
    }


def test_report_lines_default_to_the_inventorys_server_and_job():
    data = report(
        {
            "time": "2026-03-01T22:00:00+01:00",
            "ended": "2026-03-01T22:31:00+01:00",
            "result": "success",
            "rc": 0,
            "message": "extra fields are the wrapper's own",
        },
        "",
        {"time": "2026-03-02T21:00:00Z", "result": "warning", "target": "cloud", "job": "offsite"},
        {"time": "2026-03-03T22:00:00+00:00", "result": "failure", "server": "fs02"},
    )
    assert parse_backup_log(data, "fs01", "rsync") == {
        "runs": [
            {
                "server": "fs01",
                "job": "rsync",
                "target": None,
                "started": "2026-03-01T22:00:00+01:00",
                "ended": "2026-03-01T22:31:00+01:00",
                "result": "success",
            },
            {
                "server": "fs01",
                "job": "offsite",
                "target": "cloud",
                "started": "2026-03-02T21:00:00Z",
                "ended": None,
                "result": "warning",
            },
            {
                "server": "fs02",
                "job": "rsync",
                "target": None,
                "started": "2026-03-03T22:00:00Z",
                "ended": None,
                "result": "failure",
            },
        ]
    }
    assert parse_backup_log(b"", "fs01") == {"runs": []}


@pytest.mark.parametrize(
    "garbled,line",
    [
        (b"\xff\xfe\x00", None),
        (report({"time": "2026-03-01T22:00:00Z", "result": "success"}, "backup done"), "line 2"),
        (report("[]"), "line 1"),
        (report({"result": "success"}), "line 1"),
        (report({"time": "2026-03-01T22:00:00", "result": "success"}), "no UTC offset"),
        (report({"time": "2026-03-01", "result": "success"}), "no UTC offset"),
        (report({"time": 1772402400, "result": "success"}), "line 1 time"),
        (report({"time": "2026-03-01T22:00:00Z", "result": "ok"}), "result must be one of"),
        (report({"time": "2026-03-01T22:00:00Z", "result": "success", "ended": "soon"}), "line 1 ended"),
        (report({"time": "2026-03-01T22:00:00Z", "result": "success", "server": ""}), "'server' is not a name"),
        (report({"time": "2026-03-01T22:00:00Z", "result": "success", "job": ["a"]}), "'job' is not a name"),
        (report({"time": "2026-03-01T22:00:00Z", "result": "success", "target": "tape"}), "target must be one of"),
    ],
)
def test_garbled_report_is_refused_naming_the_line(garbled, line):
    with pytest.raises(ValueError, match=line):
        parse_backup_log(garbled, "fs01")


report_lines = st.fixed_dictionaries(
    {},
    optional={
        "time": aware_times,
        "ended": aware_times,
        "result": st.sampled_from(backup_logs.RESULTS) | json_values,
        "server": json_values,
        "job": json_values,
        "target": st.sampled_from(backup_logs.TARGETS) | json_values,
    },
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.lists(st.one_of(report_lines, json_values, st.text(max_size=20)), max_size=5)))
def test_report_parser_on_garbled_input_only_raises_value_error(data):
    if isinstance(data, list):
        data = report(*data)
    try:
        result = parse_backup_log(data, "fs01")
    except ValueError:
        return
    assert all(r["result"] in backup_logs.RESULTS for r in result["runs"])


# -- the real tools ---------------------------------------------------------------------------------


def installed(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (the test command installs Debian's borgbackup and restic)")
    return path


def tool_env(home: Path) -> dict[str, str]:
    """The tools' settings, nothing from the machine: TZ=UTC because borg prints archive times in local
    time without an offset and restic reads --time as local time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BORG_", "RESTIC_"))}
    return {
        **env,
        "TZ": "UTC",
        "BORG_BASE_DIR": str(home / "borg-home"),
        "BORG_PASSPHRASE": PASSPHRASE,
        "RESTIC_PASSWORD": PASSPHRASE,
        "RESTIC_CACHE_DIR": str(home / "restic-cache"),
    }


def call(env: dict[str, str], *args: str | Path, log: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run a tool; its stderr goes to LOG when given (a per-run log file, as a cron job keeps it)."""
    argv = [str(a) for a in args]
    if log is None:
        return subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    with log.open("wb") as stderr:
        return subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, timeout=120)


def checked(env: dict[str, str], *args: str | Path) -> bytes:
    done = call(env, *args)
    assert done.returncode == 0, (args, done.returncode, done.stderr)
    return done.stdout


def data_to_back_up(root: Path) -> Path:
    source = root / "data"
    (source / "finance").mkdir(parents=True)
    (source / "finance" / "invoices-2026.csv").write_text("number,amount\n2026-001,1250.00\n")
    (source / "contracts.txt").write_text("processing agreement, signed 2026-01-12\n")
    return source


def repository_id(borg_repo: Path) -> str:
    config = configparser.ConfigParser()
    config.read(borg_repo / "config")
    return config["repository"]["id"]


@pytest.fixture(scope="module")
def borg_repo(tmp_path_factory) -> tuple[str, dict[str, str], Path, Path]:
    borg = installed("borg")
    root = tmp_path_factory.mktemp("borg")
    env = tool_env(root)
    checked(env, borg, "init", "--encryption=repokey-blake2", root / "repo")
    return borg, env, root / "repo", data_to_back_up(root)


@pytest.mark.parametrize(
    "flags,source,passphrase,rc,result,saved",
    [
        (("--show-rc", "--stats"), "data", PASSPHRASE, 0, "success", True),
        (("--progress",), "data", PASSPHRASE, 0, "success", True),
        (("--stats",), "data", PASSPHRASE, 0, "success", True),
        # borg 1.2 takes a missing source as a warning (rc 1) and still saves an (empty) archive
        (("--show-rc",), "not-mounted", PASSPHRASE, 1, "warning", True),
        (("--show-rc",), "data", "last year's passphrase", 2, "failure", False),
        ((), "data", "last year's passphrase", 2, "failure", False),
    ],
)
def test_real_borg_create_logs_get_the_verdict_the_repository_confirms(
    borg_repo, tmp_path, flags, source, passphrase, rc, result, saved
):
    borg, env, repo, data = borg_repo
    name = f"fs01-{tmp_path.name}"
    log = tmp_path / "create.log"
    done = call(
        {**env, "BORG_PASSPHRASE": passphrase},
        borg,
        "create",
        "--log-json",
        *flags,
        f"{repo}::{name}",
        data.parent / source,
        log=log,
    )
    [r] = parse_borg_log_json(log.read_bytes(), "fs01", "nightly")["runs"]
    assert (done.returncode, r["result"]) == (rc, result)
    names = [a["name"] for a in parse_borg_info(checked(env, borg, "list", "--json", repo))["archives"]]
    assert (name in names) == saved


def test_real_borg_create_logs_that_cannot_tell_when_or_how(borg_repo, tmp_path):
    borg, env, repo, data = borg_repo
    quiet, listed = tmp_path / "quiet.log", tmp_path / "list.log"
    assert call(env, borg, "create", "--log-json", f"{repo}::quiet", data, log=quiet).returncode == 0
    assert call(env, borg, "create", "--log-json", "--list", f"{repo}::listed", data, log=listed).returncode == 0
    assert parse_borg_log_json(quiet.read_bytes(), "fs01") == {"runs": []}  # borg logged nothing: no run to judge
    with pytest.raises(ValueError, match="carries a time"):  # file lines have no time: the run cannot be dated
        parse_borg_log_json(listed.read_bytes(), "fs01")


def restic_wrapper(env: dict[str, str], restic: str, repo: Path, source: Path, day: date) -> str:
    """The line a nightly wrapper around restic appends to its report; the test plays its clock at 22:00 UTC."""
    done = call(env, restic, "-r", repo, "backup", "--host", "web01", "--time", f"{day} 22:00:00", source)
    result = {0: "success", 3: "warning"}.get(done.returncode, "failure")  # restic 3: snapshot made, files unreadable
    return json.dumps({"time": f"{day}T22:00:00+00:00", "result": result, "job": "restic", "rc": done.returncode})


def test_real_repositories_prove_t_bak_1_day_by_day(tmp_path):
    borg, restic = installed("borg"), installed("restic")
    env = tool_env(tmp_path)
    source = data_to_back_up(tmp_path)
    borg_repo, restic_repo, logs = tmp_path / "borg-repo", tmp_path / "restic-repo", tmp_path / "logs"
    logs.mkdir()
    checked(env, borg, "init", "--encryption=repokey-blake2", borg_repo)

    # tonight fs01's backup fails for real: the cron job still has last year's passphrase
    failed_log = logs / "fs01-nightly.log"
    assert (
        call(
            {**env, "BORG_PASSPHRASE": "last year's passphrase"},
            borg,
            "create",
            "--log-json",
            "--show-rc",
            f"{borg_repo}::fs01-tonight",
            source,
            log=failed_log,
        ).returncode
        == 2
    )
    [failure] = parse_borg_log_json(failed_log.read_bytes(), "fs01", "nightly")["runs"]
    # borg logs the real clock, so "tonight" is today (UTC) and the other nights are back-dated from it
    tonight = date.fromisoformat(failure["started"][:10])
    first, second, third = (tonight - timedelta(days=n) for n in (3, 2, 1))
    assert failure["result"] == "failure"
    assert [(m["level"], m["name"], m["message"]) for m in borg_log_messages(failed_log.read_bytes())] == [
        (
            "ERROR",
            "borg.archiver",
            "passphrase supplied in BORG_PASSPHRASE, by BORG_PASSCOMMAND or via BORG_PASSPHRASE_FD is incorrect.",
        ),
        ("ERROR", "borg.output.show-rc", "terminating with error status, rc 2"),
    ]

    # fs01 was backed up on the first two nights and switched off on the third
    for night in (first, second):
        checked(env, borg, "create", "--timestamp", f"{night}T22:00:00", f"{borg_repo}::fs01-{night}", source)
    # web01 (restic): the second night the data disk was not mounted, restic failed and left no snapshot
    checked(env, restic, "-r", restic_repo, "init")
    wrapper_report = logs / "backup-report.jsonl"
    wrapper_report.write_text(
        "".join(
            restic_wrapper(env, restic, restic_repo, path, night) + "\n"
            for night, path in ((first, source), (second, tmp_path / "not-mounted"), (third, source))
        )
    )

    borg_runs = parse_borg_list(checked(env, borg, "list", "--json", borg_repo), "fs01", "nightly", tz=UTC)["runs"]
    assert borg_runs == [
        {
            "server": "fs01",
            "job": "nightly",
            "target": "local",
            "started": f"{night}T22:00:00Z",
            "ended": None,
            "result": "success",
        }
        for night in (first, second)
    ]
    info = parse_borg_info(checked(env, borg, "info", "--json", borg_repo), tz=UTC)
    assert info["repository"]["id"] == repository_id(borg_repo)
    assert (info["repository"]["location"], info["encryption"], info["archives"]) == (str(borg_repo), "repokey-blake2", None)
    [archive] = parse_borg_info(checked(env, borg, "info", "--json", f"{borg_repo}::fs01-{first}"), tz=UTC)["archives"]
    assert (archive["name"], archive["started"], archive["nfiles"], archive["original_size"]) == (
        f"fs01-{first}",
        f"{first}T22:00:00Z",
        2,
        sum(f.stat().st_size for f in source.rglob("*") if f.is_file()),
    )

    listing = checked(env, restic, "-r", restic_repo, "snapshots", "--json")
    assert [(s["hostname"], s["paths"], len(s["short_id"])) for s in json.loads(listing)] == [("web01", [str(source)], 8)] * 2
    restic_runs = parse_restic_snapshots(listing, "web01")["runs"]
    assert [(r["server"], r["job"], r["started"], r["result"]) for r in restic_runs] == [
        ("web01", "restic", f"{night}T22:00:00Z", "success") for night in (first, third)
    ]
    report_runs = parse_backup_log(wrapper_report.read_bytes(), "web01")["runs"]
    assert [(r["server"], r["started"], r["result"]) for r in report_runs] == [
        ("web01", f"{first}T22:00:00Z", "success"),
        ("web01", f"{second}T22:00:00Z", "failure"),
        ("web01", f"{third}T22:00:00Z", "success"),
    ]

    evidence = [
        item("backup.runs", {"runs": runs}, host=host, day=str(tonight))
        for host, runs in (("fs01", borg_runs), ("fs01", [failure]), ("web01", restic_runs), ("web01", report_runs))
    ]
    result = evaluate(
        "T-BAK-1",
        evidence,
        [run(1, str(tonight), {"fs01": ["file_server"], "web01": ["server"]})],
        period=period_from_options(None, first, tonight, first.year),
        today=tonight + timedelta(days=1),
    )

    deviations = sorted((d.subject, d.date, d.code) for d in result.deviations)
    gaps = sorted((g.subject, g.date, g.code) for g in result.gaps)
    assert deviations == [
        ("fs01", str(third), "bak1.missed"),  # borg's listing, read tonight, holds fs01 from the first night on
        ("fs01", str(tonight), "bak1.not_repaired"),
        ("web01", str(second), "bak1.failed"),
    ]
    assert gaps == [("web01", str(tonight), "evidence.no_day")]  # read tonight: tonight is not over, and no run yet
    server_days = {(server, str(night)) for server in ("fs01", "web01") for night in (first, second, third, tonight)}
    passed = server_days - {d[:2] for d in deviations} - {g[:2] for g in gaps}
    assert passed == {("fs01", str(first)), ("fs01", str(second)), ("web01", str(first)), ("web01", str(third))}
    assert result.tested == len(passed) + len(deviations)
    facts = {d.subject: d.facts for d in result.deviations if d.code != "bak1.missed"}
    assert (facts["fs01"]["results"], facts["fs01"]["jobs"], facts["fs01"]["next_success"]) == (["failure"], ["nightly"], "—")
    assert (facts["web01"]["next_success"], facts["web01"]["repair_days"]) == (str(third), 1)
    assert result.status == Status.NOT_EFFECTIVE  # 4 of 8 server-days not proven
