"""`auditpack schedule`: the units systemd itself accepts (systemd-analyze verify, offline), a dry run that changes
nothing, install and remove in a unit directory of the test's own, status read from a real store after a real
collection of this machine, and the cron line's lock that keeps two nights apart."""

from __future__ import annotations

import fcntl
import json
import os
import pwd
import shlex
import shutil
import subprocess
import time
from datetime import UTC, datetime
from datetime import time as clock
from pathlib import Path

import pytest

from auditpack.schedule import (
    Schedule,
    cron_line,
    lock_path,
    next_run,
    parse_at,
    protect_home,
    run_problems,
    service_unit,
    timer_time,
    timer_unit,
    unit_word,
)
from auditpack_lab.peers.sockets import refused_port
from conftest import auditpack_bin

needs_analyze = pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze (Debian: systemd)")


def _run(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([auditpack_bin(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _verify(*units: Path) -> subprocess.CompletedProcess:
    """systemd's own check of unit files; it exits 0 even on a setting it ignores, so its messages count too."""
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *map(str, units)], capture_output=True, text=True, timeout=120
    )


def _tree(root: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))}


def _schedule(tmp_path: Path, **changes) -> Schedule:
    values = dict(
        executable=Path(auditpack_bin()),
        at=clock(2, 30),
        working_dir=tmp_path,
        store=tmp_path / "evidence",
        config=tmp_path / "auditpack.toml",
    )
    return Schedule(**{**values, **changes})


@pytest.fixture
def env(cli_env, tmp_path):
    cli_env.pop("AUDITPACK_STORE", None)
    cli_env["AUDITPACK_CONFIG"] = str(tmp_path / "auditpack.toml")
    (tmp_path / "auditpack.toml").write_text("# the site's settings\n")  # a file AUDITPACK_CONFIG names must exist
    cli_env["HOME"] = str(tmp_path / "home")  # no unit, key or keyring of the tester's is touched
    return cli_env


# --- the unit texts ------------------------------------------------------------------------------------------------


def test_the_service_collects_then_alerts_even_after_a_failed_collection_and_writes_only_the_store(tmp_path):
    text = service_unit(_schedule(tmp_path))
    exe = auditpack_bin()
    lines = text.splitlines()
    assert lines.index(f"ExecStart=-{exe} collect --quiet") < lines.index(f"ExecStart={exe} notify run")
    for line in (
        "Type=oneshot",
        f"WorkingDirectory={tmp_path}",
        f"Environment=AUDITPACK_CONFIG={tmp_path}/auditpack.toml",
        f"Environment=AUDITPACK_STORE={tmp_path}/evidence",
        "ProtectSystem=strict",
        f"ReadWritePaths={tmp_path}/evidence",
        "NoNewPrivileges=yes",
        "PrivateDevices=yes",
        "UMask=0077",
        "SuccessExitStatus=1",
    ):
        assert line in lines
    assert [x for x in lines if x.startswith("ReadWritePaths=")] == [f"ReadWritePaths={tmp_path}/evidence"]
    # the test's files are in /tmp: a private /tmp would hide them from the job
    assert "PrivateTmp=no" in lines
    assert (
        "PrivateTmp=yes"
        in service_unit(
            _schedule(
                tmp_path, working_dir=Path("/srv/a"), store=Path("/srv/a/e"), executable=Path("/usr/bin/auditpack"), config=None
            )
        ).splitlines()
    )


def test_home_directories_are_hidden_unless_the_job_reads_from_one():
    elsewhere = dict(executable=Path("/usr/bin/auditpack"), at=clock(2, 30), working_dir=Path("/srv/audit"))
    assert protect_home(Schedule(**elsewhere, store=Path("/srv/audit/evidence"))) == "yes"
    assert protect_home(Schedule(**elsewhere, store=Path("/home/ict/evidence"))) == "read-only"
    assert protect_home(Schedule(**elsewhere, store=Path("/srv/e"), config=Path("/root/auditpack.toml"))) == "read-only"
    assert protect_home(Schedule(**elsewhere, store=Path("/srv/e"), system=False)) == "read-only"  # a user unit: in ~


def test_a_system_unit_for_an_operator_runs_as_that_operator_and_a_user_unit_never_names_one(tmp_path):
    assert "User=audit" in service_unit(_schedule(tmp_path, run_as="audit")).splitlines()
    user_unit = service_unit(_schedule(tmp_path, run_as="audit", system=False))
    assert "User=" not in user_unit and "network-online.target" not in user_unit


def test_the_timer_runs_daily_at_the_time_asked_and_catches_up_a_missed_night(tmp_path):
    text = timer_unit(_schedule(tmp_path, at=clock(3, 5)))
    assert "OnCalendar=*-*-* 03:05:00" in text.splitlines() and "Persistent=true" in text.splitlines()
    assert timer_time(text) == clock(3, 5)


def test_times_of_day():
    assert parse_at("02:30") == clock(2, 30) and parse_at("7:05") == clock(7, 5) and parse_at("23:59") == clock(23, 59)
    for bad in ("24:00", "2:3", "02:60", "half past two", ""):
        with pytest.raises(ValueError, match="HH:MM"):
            parse_at(bad)
    evening = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
    assert next_run(clock(2, 30), evening) == datetime(2026, 12, 7, 2, 30, tzinfo=UTC)
    assert next_run(clock(22, 0), evening) == datetime(2026, 12, 6, 22, 0, tzinfo=UTC)
    assert next_run(clock(21, 0), evening) == datetime(2026, 12, 7, 21, 0, tzinfo=UTC)  # now is not "after now"


def test_unit_words_keep_specifiers_variables_and_spaces_literal():
    assert unit_word("/srv/audit") == "/srv/audit"
    assert unit_word("/srv/100%/x") == "/srv/100%%/x"
    assert unit_word("/srv/my audit") == '"/srv/my audit"'
    assert unit_word("/srv/$HOME", exec_line=True) == "/srv/$$HOME"
    with pytest.raises(ValueError, match="line break"):
        unit_word("/srv/a\nExecStart=/bin/evil")


def test_a_newest_run_that_is_partial_or_old_is_a_problem():
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    fresh = {"seq": 4, "ended": "2026-12-07T02:31:10Z", "status": "complete"}
    assert run_problems(fresh, now) == []
    assert run_problems({**fresh, "status": "partial"}, now) == ["run 4 was partial"]
    old = run_problems({**fresh, "ended": "2026-12-05T02:31:10Z"}, now)
    assert len(old) == 1 and "a night was missed" in old[0]
    assert run_problems(None, now) == ["no collection in the store yet"]


def test_what_systemctl_show_says_is_read_by_name():
    from auditpack.schedule import parse_systemctl_show

    shown = (
        "ActiveState=active\nLastTriggerUSec=Sun 2026-12-06 02:30:04 UTC\nNextElapseUSecRealtime=Mon 2026-12-07 02:30:00 UTC\n"
    )
    assert parse_systemctl_show(shown) == {
        "ActiveState": "active",
        "LastTriggerUSec": "Sun 2026-12-06 02:30:04 UTC",
        "NextElapseUSecRealtime": "Mon 2026-12-07 02:30:00 UTC",
    }
    assert parse_systemctl_show("Result=exit-code\nExecMainStatus=2\n\nnoise") == {"Result": "exit-code", "ExecMainStatus": "2"}


# --- systemd's own check ------------------------------------------------------------------------------------------


@needs_analyze
def test_systemd_analyze_verify_accepts_the_units_and_would_catch_a_bad_one(tmp_path):
    units = tmp_path / "units"
    units.mkdir()
    odd = _schedule(tmp_path / "a dir with 100% spaces", run_as="root", env_file=tmp_path / "secrets.env")
    (tmp_path / "a dir with 100% spaces").mkdir()
    (tmp_path / "secrets.env").write_text("AD_PASSWORD=x\n")
    for schedule in (_schedule(tmp_path), odd):
        (units / "auditpack.service").write_text(service_unit(schedule))
        (units / "auditpack.timer").write_text(timer_unit(schedule))
        done = _verify(units / "auditpack.service", units / "auditpack.timer")
        assert (done.returncode, done.stdout + done.stderr) == (0, "")
    # a user's own unit, checked as the user manager would load it (which needs a runtime directory)
    user = _schedule(tmp_path, system=False)
    (units / "auditpack.service").write_text(service_unit(user))
    (units / "auditpack.timer").write_text(timer_unit(user))
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    argv = ["systemd-analyze", "--user", "verify", "--man=no", str(units / "auditpack.service"), str(units / "auditpack.timer")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
    # the same check, shown to see a mistake: a misspelt setting and a bad value
    broken = service_unit(_schedule(tmp_path)).replace("ProtectSystem=strict", "ProtectSystem=sometimes\nProtectSytem=yes")
    (units / "auditpack.service").write_text(broken)
    done = _verify(units / "auditpack.service", units / "auditpack.timer")
    assert "ProtectSytem" in done.stderr and "sometimes" in done.stderr


# --- the command ---------------------------------------------------------------------------------------------------


@needs_analyze
def test_install_writes_units_systemd_accepts_then_remove_removes_them(tmp_path, env):
    units = tmp_path / "units"
    done = _run(tmp_path, env, "schedule", "install", "--at", "03:15", "--unit-dir", str(units))
    assert done.returncode == 0, done.stderr
    service, timer = units / "auditpack.service", units / "auditpack.timer"
    assert f"Environment=AUDITPACK_CONFIG={tmp_path}/auditpack.toml" in service.read_text().splitlines()
    assert "OnCalendar=*-*-* 03:15:00" in timer.read_text()
    assert (tmp_path / "evidence" / "STORE").exists(), "the job may write only its store: it must exist before the night"
    assert f"Created a new evidence store at {tmp_path}/evidence" in done.stderr
    # no systemd as PID 1 here: said, with the cron line in its place
    assert "systemd is not running" in done.stdout and "15 3 * * * " in done.stdout
    checked = _verify(service, timer)
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")
    again = _run(tmp_path, env, "schedule", "install", "--at", "03:15", "--unit-dir", str(units))
    assert again.returncode == 0 and f"Unchanged: {service}" in again.stdout
    later = _run(tmp_path, env, "schedule", "install", "--at", "04:00", "--unit-dir", str(units))
    assert later.returncode == 0 and f"Updated {timer}" in later.stdout and "04:00:00" in timer.read_text()
    removed = _run(tmp_path, env, "schedule", "remove", "--unit-dir", str(units))
    assert removed.returncode == 0, removed.stderr
    assert not service.exists() and not timer.exists() and (tmp_path / "evidence" / "STORE").exists()
    nothing = _run(tmp_path, env, "schedule", "remove", "--unit-dir", str(units))
    assert nothing.returncode == 0 and "nothing removed" in nothing.stdout


def test_a_unit_of_the_same_name_written_by_someone_else_is_left_alone(tmp_path, env):
    units = tmp_path / "units"
    units.mkdir()
    theirs = "[Service]\nExecStart=/usr/local/bin/their-auditpack\n"
    (units / "auditpack.service").write_text(theirs)
    for args in (("install",), ("remove",)):
        done = _run(tmp_path, env, "schedule", *args, "--unit-dir", str(units))
        assert done.returncode == 2 and "was not written by `auditpack schedule install`" in done.stderr
        assert "Traceback" not in done.stderr
    assert (units / "auditpack.service").read_text() == theirs and not (units / "auditpack.timer").exists()


def test_a_dry_run_prints_the_units_and_changes_nothing(tmp_path, env):
    before = _tree(tmp_path)
    done = _run(tmp_path, env, "schedule", "install", "--dry-run", "--unit-dir", str(tmp_path / "units"))
    assert done.returncode == 0, done.stderr
    assert _tree(tmp_path) == before
    assert f"# {tmp_path}/units/auditpack.service" in done.stdout and "[Timer]" in done.stdout
    assert "30 2 * * * " in done.stdout and "nothing was written" in done.stderr


def test_a_time_that_is_no_time_or_a_user_that_is_not_there_is_refused(tmp_path, env):
    done = _run(tmp_path, env, "schedule", "install", "--at", "25:00", "--dry-run")
    assert done.returncode == 2 and "HH:MM" in done.stderr and "Traceback" not in done.stderr
    nobody = _run(tmp_path, env, "schedule", "install", "--run-as", "no-such-user-here", "--unit-dir", str(tmp_path / "u"))
    assert nobody.returncode == 2 and "no such user" in nobody.stderr and "Traceback" not in nobody.stderr
    assert not (tmp_path / "u").exists() and not (tmp_path / "evidence").exists()


def test_status_reads_the_last_run_from_a_real_store_without_systemd(tmp_path, env):
    units = tmp_path / "units"
    assert _run(tmp_path, env, "schedule", "install", "--at", "01:45", "--unit-dir", str(units)).returncode == 0
    empty = _run(tmp_path, env, "schedule", "status", "--unit-dir", str(units))
    assert empty.returncode == 1 and "Last collection: none" in empty.stdout
    collected = _run(tmp_path, env, "collect")  # the built-in inventory: this machine
    assert collected.returncode == 0, collected.stderr
    done = _run(tmp_path, env, "schedule", "status", "--unit-dir", str(units))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Last collection: run 1," in done.stdout and ": ok" in done.stdout
    facts = json.loads(_run(tmp_path, env, "schedule", "status", "--unit-dir", str(units), "--json").stdout)
    assert facts["at"] == "01:45" and facts["timer"] == str(units / "auditpack.timer")
    assert facts["last"]["seq"] == 1 and facts["last"]["status"] == "complete" and facts["problems"] == []
    assert datetime.fromisoformat(facts["next"]).strftime("%H:%M") == "01:45"
    # an import is a run too, but not a collection: status still speaks of run 1
    (tmp_path / "restore.csv").write_text("tested_on,server,result\n2026-01-20,fs01,success\n")
    assert _run(tmp_path, env, "import", "register", "restore_tests", "restore.csv").returncode == 0
    facts = json.loads(_run(tmp_path, env, "schedule", "status", "--unit-dir", str(units), "--json").stdout)
    assert facts["last"]["seq"] == 1
    # a partial collection (a host that refuses) is reported, exit 1
    (tmp_path / "partial.yaml").write_text(
        f"all:\n  hosts:\n    localhost:\n    gone: {{ansible_host: 127.0.0.1, ansible_port: {refused_port()}}}\n"
    )
    assert _run(tmp_path, env, "collect", "-i", "partial.yaml").returncode == 1
    partial = _run(tmp_path, env, "schedule", "status", "--unit-dir", str(units))
    assert partial.returncode == 1 and "run 3 was partial" in partial.stdout


def test_status_of_a_directory_that_is_no_store_is_an_error(tmp_path, env):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("x")
    done = _run(tmp_path, env, "schedule", "status", "--store", "notes")
    assert done.returncode == 2 and "not an auditpack evidence store" in done.stderr


def test_the_cron_line_never_runs_two_nights_at_once(tmp_path, env):
    """The crontab line's command, run by sh as cron would: while a night holds the lock, the next one is skipped."""
    done = _run(tmp_path, env, "schedule", "install", "--cron")
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip().splitlines()[-1]
    minute, hour, *days, command = line.split(" ", 5)
    assert (minute, hour, days) == ("30", "2", ["*", "*", "*"])
    assert f"AUDITPACK_STORE={tmp_path}/evidence" in command and f"AUDITPACK_CONFIG={tmp_path}/auditpack.toml" in command
    assert shlex.join([auditpack_bin(), "collect", "--quiet"]) in command and "notify run" in command
    lock = lock_path(tmp_path / "evidence")
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        began = time.monotonic()
        skipped = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=60)
        assert skipped.returncode == 1 and time.monotonic() - began < 5
    assert not (tmp_path / "evidence").exists(), "the night that found the lock taken ran nothing"
    # free, the same command runs the collection (the whole line is the job cron starts, --quiet and all)
    ran = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=300)
    assert (tmp_path / "evidence" / "STORE").exists(), ran.stderr
    assert "Run 1" not in ran.stdout  # collect --quiet printed no table of the run


def test_the_cron_line_quotes_paths_and_escapes_percent(tmp_path):
    odd = tmp_path / "it's 100%"
    line = cron_line(_schedule(odd, env_file=odd / "secrets.env"))
    assert "\\%" in line and "%" not in line.replace("\\%", "")
    command = line.split(" ", 5)[5].replace("\\%", "%")
    assert shlex.split(command)[:2] == ["cd", str(odd)]


@needs_analyze
def test_systemd_rates_the_service_exposure_ok(tmp_path):
    """systemd's own score of the sandbox (0 locked down, 10 unprotected): at most 3.0, "OK", for a server install."""
    service = tmp_path / "auditpack.service"
    server = dict(executable=Path(auditpack_bin()), at=clock(2, 30), working_dir=Path("/srv/auditpack"))
    for schedule in (
        Schedule(**server, store=Path("/srv/auditpack/evidence"), config=Path("/etc/auditpack/config.toml")),
        Schedule(**server, store=Path("/srv/auditpack/evidence"), run_as="audit"),
    ):
        service.write_text(service_unit(schedule))
        argv = ["systemd-analyze", "security", "--offline=true", "--no-pager", "--threshold=30", str(service)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr
        assert "Overall exposure level for auditpack.service: " in done.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the store to another account")
def test_install_warns_when_the_job_could_not_write_the_store(tmp_path, env):
    assert _run(tmp_path, env, "collect").returncode == 0
    os.chown(tmp_path / "evidence", pwd.getpwnam("nobody").pw_uid, -1)
    done = _run(tmp_path, env, "schedule", "install", "--unit-dir", str(tmp_path / "units"))
    assert done.returncode == 0, done.stderr
    assert "but the job runs as root: it may not be able to write it" in " ".join(done.stdout.split())
