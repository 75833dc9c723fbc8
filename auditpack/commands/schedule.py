"""`auditpack schedule install|status|remove`: the nightly collection and alerts, as a systemd timer or a cron line.

The unit texts are auditpack/schedule.py's; this module finds the settings in force, writes and removes the files,
and asks systemctl where systemd runs. Where it does not, it prints the crontab line that does the same.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from auditpack.errors import AuditpackError

from .shared import Outcome, console, err_console, inventory_option, json_option, open_store, store_option

if TYPE_CHECKING:
    from auditpack.schedule import Schedule

# The settings contract's variables a night's job reads; AUDITPACK_NOTIFY_URLS is left out on purpose: apprise URLs
# may hold passwords, and a unit file or crontab is readable by others (name them in the configuration file).
CARRIED_SETTINGS = (
    "AUDITPACK_PROFILE",
    "AUDITPACK_EXCEPTIONS",
    "AUDITPACK_LANG",
    "AUDITPACK_OPERATOR",
    "AUDITPACK_TSA_URL",
    "AUDITPACK_TSA_CA",
    "AUDITPACK_SIGNING_KEY",
    "AUDITPACK_PSEUDONYM_KEY",
)
COLLECTED = ("local", "ssh", "winrm", "ldap")  # how a collection reaches its hosts (a file, an auditor: not one)


def _config_in_force() -> Path | None:
    """The configuration file this command reads (--config, $AUDITPACK_CONFIG, else the first that exists of
    ./auditpack.toml, ~/.config/auditpack/config.toml, /etc/auditpack/config.toml), checked; None when there is none."""
    from auditpack.config import current

    return current().file.path


def _auditpack_executable() -> Path:
    """The auditpack that runs now (the one beside this Python, a venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "auditpack"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside.absolute()
    found = shutil.which("auditpack")
    if found is None:
        raise AuditpackError("No auditpack executable found beside this Python or on PATH: install auditpack first.")
    return Path(found).absolute()


def _is_root() -> bool:
    return os.geteuid() == 0


def _default_unit_dir() -> Path:
    return Path("/etc/systemd/system") if _is_root() else Path.home() / ".config" / "systemd" / "user"


def _systemd_running() -> bool:
    """systemd is PID 1 (its own test, sd_booted) and systemctl is there to ask it."""
    return Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None


def _systemctl(system: bool, *args: str) -> subprocess.CompletedProcess:
    argv = ["systemctl", *(() if system else ("--user",)), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def _systemctl_or_fail(system: bool, *args: str) -> None:
    done = _systemctl(system, *args)
    if done.returncode != 0:
        scope = "" if system else "--user "
        raise AuditpackError(f"`systemctl {scope}{' '.join(args)}` failed: {done.stderr.strip() or done.returncode}")


def _parse_at(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    from auditpack.schedule import parse_at

    if value is None:
        return None
    try:
        return parse_at(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


at_option = click.option(
    "--at",
    "at",
    default="02:30",
    show_default=True,
    metavar="HH:MM",
    callback=_parse_at,
    help="The time of day (local, 24-hour clock) the collection starts.",
)
unit_dir_option = click.option(
    "--unit-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the units go; default /etc/systemd/system as root, else ~/.config/systemd/user.",
)


@click.group(name="schedule")
def schedule_group() -> None:
    """Run the collection every night, then send the day's new findings as alerts.

    Installs a systemd service and timer (or, where systemd does not run, prints
    the crontab line that does the same), shows when it last ran and with which
    outcome, and removes it again.

    \b
    Examples:
      auditpack schedule install --at 02:30
      auditpack schedule install --dry-run
      auditpack schedule status
      auditpack schedule remove
    Exit codes: 0 done / the last run complete and on time, 1 the last run partial, failed or missed, 2 errors.
    """


def _settings(
    at: Any, store_path: Path, inventory_path: str | None, env_file: Path | None, run_as: str | None, system: bool
) -> Schedule:
    from auditpack.schedule import Schedule

    config = _config_in_force()
    carried = tuple((name, os.environ[name]) for name in CARRIED_SETTINGS if os.environ.get(name))
    files = [
        Path(v).expanduser().absolute()
        for k, v in carried
        if k not in ("AUDITPACK_LANG", "AUDITPACK_OPERATOR", "AUDITPACK_TSA_URL")
    ]
    return Schedule(
        executable=_auditpack_executable(),
        at=at,
        working_dir=Path.cwd(),
        store=store_path.expanduser().absolute(),
        config=config,
        inventory=Path(inventory_path).expanduser().absolute() if inventory_path else None,
        env_file=env_file.expanduser().absolute() if env_file else None,
        environment=carried,
        run_as=run_as if system else None,
        system=system,
        extra_paths=tuple(files),
    )


def _default_run_as(system: bool) -> str | None:
    """A system unit installed with sudo runs as the operator who asked for it, not as root."""
    user = os.environ.get("SUDO_USER")
    return user if system and _is_root() and user and user != "root" else None


def _ours(path: Path) -> bool:
    from auditpack.schedule import HEADER

    return path.read_text(errors="replace").startswith(HEADER)


def _refuse_foreign(paths: list[Path]) -> None:
    foreign = [p for p in paths if p.exists() and not _ours(p)]
    if foreign:
        raise AuditpackError(
            f"{', '.join(map(str, foreign))} was not written by `auditpack schedule install`; left alone. "
            "Move it away first if it should be replaced."
        )


def _job_user(schedule: Schedule) -> str:
    """Who the job runs as: User= of a system unit, else whoever installs it (root, or the user's own manager)."""
    return schedule.run_as or pwd.getpwuid(os.geteuid()).pw_name


def _make_store(schedule: Schedule) -> None:
    """The job may write only its store, so the store must exist before the first night (and be the job's user's)."""
    if (schedule.store / "STORE").exists():
        owner, runner = schedule.store.stat().st_uid, pwd.getpwnam(_job_user(schedule)).pw_uid
        if owner != runner:
            console.print(
                f"The store {schedule.store} belongs to user id {owner}, but the job runs as "
                f"{_job_user(schedule)}: it may not be able to write it.",
                style="yellow",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        return
    open_store(schedule.store, create=True)  # which says it made the store, with its path
    if schedule.run_as:
        for path in [schedule.store, *schedule.store.rglob("*")]:
            shutil.chown(path, user=schedule.run_as)


def _print_cron(schedule: Schedule, heading: str) -> None:
    from auditpack.schedule import cron_line

    who = _job_user(schedule)
    console.print(heading.format(who=who), markup=False, highlight=False, soft_wrap=True)
    click.echo(cron_line(schedule))


@schedule_group.command(name="install")
@at_option
@unit_dir_option
@click.option("--dry-run", is_flag=True, help="Print the units and the crontab line; write and change nothing.")
@click.option("--cron", "cron_only", is_flag=True, help="Only print the crontab line (for a machine without systemd).")
@inventory_option
@store_option
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="A file of NAME=value lines (owner-only) with the secrets the inventory's env: references name; "
    "read by the job, never copied into the unit.",
)
@click.option(
    "--run-as",
    metavar="USER",
    default=None,
    help="The account a system unit runs as (default: $SUDO_USER when installed with sudo, else root).",
)
def install(
    at: Any,
    unit_dir: Path | None,
    dry_run: bool,
    cron_only: bool,
    inventory_path: str | None,
    store_path: Path,
    env_file: Path | None,
    run_as: str | None,
) -> Outcome:
    """Write auditpack.service and auditpack.timer: every night the collection, then the day's alerts.

    The service is a oneshot that runs `auditpack collect --quiet`, then
    `auditpack notify run` (also after a partial or failed collection,
    which is what the alert is about), with the configuration in force now
    ($AUDITPACK_CONFIG or the first of ./auditpack.toml,
    ~/.config/auditpack/config.toml, /etc/auditpack/config.toml) and this
    directory as its working directory. It may write only the evidence store:
    the rest of the system is read-only to it, home directories hidden or
    read-only, no new privileges, no devices. The timer is Persistent, so a
    night the machine was off runs at the next boot.

    Where systemd runs, the timer is enabled and started; elsewhere the units
    are written and the equivalent crontab line is printed.

    \b
    Examples:
      auditpack schedule install
      auditpack schedule install --at 03:15 -i /srv/auditpack/inventory.yaml --store /srv/auditpack/evidence
      sudo auditpack schedule install --run-as audit --env-file /etc/auditpack/secrets.env
      auditpack schedule install --dry-run
      auditpack schedule install --cron
    Exit codes: 0 written (or printed), 2 unusable input or a unit directory that cannot be written.
    """
    from auditpack.schedule import SERVICE_NAME, TIMER_NAME, service_unit, timer_unit

    system = _is_root()
    schedule = _settings(at, store_path, inventory_path, env_file, run_as or _default_run_as(system), system)
    if cron_only:
        _print_cron(schedule, "# the crontab line for {who} (crontab -e):")
        return Outcome.OK
    directory = (unit_dir or _default_unit_dir()).expanduser().absolute()
    units = {directory / SERVICE_NAME: service_unit(schedule), directory / TIMER_NAME: timer_unit(schedule)}
    if dry_run:
        for path, text in units.items():
            click.echo(f"# {path}\n{text}")
        _print_cron(schedule, "# without systemd, the same as a crontab line for {who}:")
        err_console.print("Dry run: nothing was written.", style="dim", markup=False)
        return Outcome.OK
    _refuse_foreign(list(units))
    if schedule.run_as:
        try:
            pwd.getpwnam(schedule.run_as)
        except KeyError:
            raise AuditpackError(f"--run-as {schedule.run_as}: there is no such user on this machine") from None
    directory.mkdir(parents=True, exist_ok=True)
    _make_store(schedule)
    _write_units(units)
    if _systemd_running():
        _systemctl_or_fail(system, "daemon-reload")
        _systemctl_or_fail(system, "enable", "--now", TIMER_NAME)
        console.print(f"Enabled {TIMER_NAME}: every day at {at:%H:%M}.", markup=False, highlight=False)
        return Outcome.OK
    scope = "" if system else "--user "
    console.print(
        f"systemd is not running on this machine, so the timer was not started. Where it runs: "
        f"systemctl {scope}daemon-reload && systemctl {scope}enable --now {TIMER_NAME}",
        style="yellow",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    _print_cron(schedule, "Without systemd, add this line to the crontab of {who} (crontab -e):")
    return Outcome.OK


def _write_units(units: dict[Path, str]) -> None:
    from auditpack.atomic import write_atomic

    for path, text in units.items():
        if path.exists() and path.read_text() == text:
            console.print(f"Unchanged: {path}", markup=False, highlight=False, soft_wrap=True)
            continue
        verb = "Updated" if path.exists() else "Wrote"
        write_atomic(path, text, mode=0o644, sync_dir=True)  # a unit file holds no secret: the manager reads it
        console.print(f"{verb} {path}", markup=False, highlight=False, soft_wrap=True)


@schedule_group.command(name="remove")
@unit_dir_option
def remove(unit_dir: Path | None) -> Outcome:
    """Stop the nightly job and remove auditpack.service and auditpack.timer.

    The evidence store is left as it is.

    \b
    Examples:
      auditpack schedule remove
      auditpack schedule remove --unit-dir ~/.config/systemd/user
    Exit codes: 0 removed, or nothing to remove; 2 a unit not written by auditpack, or systemctl failed.
    """
    from auditpack.schedule import SERVICE_NAME, TIMER_NAME

    directory = (unit_dir or _default_unit_dir()).expanduser().absolute()
    paths = [directory / TIMER_NAME, directory / SERVICE_NAME]
    present = [p for p in paths if p.exists()]
    if not present:
        console.print(f"No auditpack units in {directory}; nothing removed.", markup=False, highlight=False, soft_wrap=True)
        return Outcome.OK
    _refuse_foreign(present)
    system = _is_root()
    running = _systemd_running()
    if running:
        _systemctl_or_fail(system, "disable", "--now", TIMER_NAME)
    for path in present:
        path.unlink()
        console.print(f"Removed {path}", markup=False, highlight=False, soft_wrap=True)
    if running:
        _systemctl_or_fail(system, "daemon-reload")
    else:
        console.print("If the crontab holds auditpack's line, remove it too (crontab -e).", markup=False)
    return Outcome.OK


def _systemd_facts(system: bool) -> dict[str, str]:
    """What systemd says of the timer and the last run of the service."""
    from auditpack.schedule import SERVICE_NAME, TIMER_NAME, parse_systemctl_show

    timer = _systemctl(system, "show", TIMER_NAME, "-p", "ActiveState", "-p", "LastTriggerUSec", "-p", "NextElapseUSecRealtime")
    service = _systemctl(system, "show", SERVICE_NAME, "-p", "Result", "-p", "ExecMainStatus", "-p", "ActiveState")
    timer_facts = parse_systemctl_show(timer.stdout)
    service_facts = parse_systemctl_show(service.stdout)
    return {
        "timer": timer_facts.get("ActiveState", "unknown"),
        "last_trigger": timer_facts.get("LastTriggerUSec", ""),
        "next_elapse": timer_facts.get("NextElapseUSecRealtime", ""),
        "result": service_facts.get("Result", ""),
        "exit_status": service_facts.get("ExecMainStatus", ""),
        "service": service_facts.get("ActiveState", ""),
    }


def _newest_collection(store_path: Path) -> dict[str, Any] | None:
    """The newest run that collected from hosts (imports, samples and records of reveals are runs too)."""
    store = open_store(store_path, create=False)
    for ref in reversed(store.manifest_refs()):
        body = store.load_manifest(ref)
        if any(h.get("connection") in COLLECTED for h in body.get("hosts", {}).values()):
            return {"seq": ref.seq, "started": body["started"], "ended": body["ended"], "status": body["status"]}
    return None


@schedule_group.command(name="status")
@at_option
@unit_dir_option
@store_option
@json_option
def status(at: Any, unit_dir: Path | None, store_path: Path, as_json: bool) -> Outcome:
    """When the collection last ran and with which outcome, and when it runs next.

    From the evidence store always (its newest collection: when, complete or
    partial), so it works without systemd too; from systemd as well where it
    runs (the timer's last and next trigger, the service's result and exit
    status). The next run is the installed timer's time (else --at).

    \b
    Examples:
      auditpack schedule status
      auditpack schedule status --store /srv/auditpack/evidence --json
    Exit codes: 0 the last collection complete and less than 26 hours old, 1 partial, failed, missed or none yet,
    2 the store is not an evidence store.
    """
    from auditpack.canonical import parse_iso
    from auditpack.schedule import TIMER_NAME, next_run, run_problems, timer_time

    directory = (unit_dir or _default_unit_dir()).expanduser().absolute()
    timer_file = directory / TIMER_NAME
    installed = timer_file.exists()
    when = (timer_time(timer_file.read_text()) if installed else None) or at
    now = datetime.now().astimezone()
    facts: dict[str, Any] = {
        "timer": str(timer_file) if installed else None,
        "at": f"{when:%H:%M}",
        "next": next_run(when, now).isoformat(timespec="minutes"),
        "store": str(store_path.absolute()),
    }
    problems = []
    if _systemd_running():
        facts["systemd"] = _systemd_facts(_is_root())
        if facts["systemd"]["result"] not in ("", "success"):
            problems.append(f"systemd: the last run ended with {facts['systemd']['result']}")
    last = _newest_collection(store_path) if store_path.exists() else None
    facts["last"] = last
    if last is not None:
        last["age_hours"] = round((datetime.now(UTC) - parse_iso(last["ended"])).total_seconds() / 3600, 1)
    problems += run_problems(last, datetime.now(UTC))
    facts["problems"] = problems
    if as_json:
        click.echo(json.dumps(facts, indent=2))
    else:
        _print_status(facts)
    return Outcome.FINDINGS if problems else Outcome.OK


def _print_status(facts: dict[str, Any]) -> None:
    say = lambda text, **kw: console.print(text, markup=False, highlight=False, soft_wrap=True, **kw)  # noqa: E731
    if facts["timer"]:
        say(f"Schedule: {facts['timer']}, every day at {facts['at']}")
    else:
        say(f"Schedule: no auditpack timer installed here (a crontab line is not seen); times below assume {facts['at']}")
    if "systemd" in facts:
        sd = facts["systemd"]
        say(
            f"systemd: timer {sd['timer']}; last triggered {sd['last_trigger'] or 'never'}, next {sd['next_elapse'] or 'none'}; "
            f"last run result {sd['result'] or 'none'}, exit status {sd['exit_status'] or '-'}"
        )
    last = facts["last"]
    if last is None:
        say(f"Last collection: none in {facts['store']}")
    else:
        state = "ok" if last["status"] == "complete" else last["status"]
        say(f"Last collection: run {last['seq']}, {last['started']} to {last['ended']} ({last['age_hours']} hours ago): {state}")
    say(f"Next collection: {facts['next']}")
    for problem in facts["problems"]:
        say(f"  {problem}", style="yellow")


COMMANDS = (schedule_group,)
