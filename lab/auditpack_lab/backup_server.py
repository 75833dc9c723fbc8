"""backup01, the lab's Linux backup server: real borg repositories and the backup wrapper's reports.

From a `Company`, under one directory laid out like the server's disk:

    srv/borg/fs01, srv/borg/backup01     borg repositories (repokey-blake2), one archive per
                                         successful night, back-dated with `borg create --timestamp`
    var/log/backup-report.jsonl          the wrapper around borg: one line per run, failures too
    var/log/dc01-cloudkopie.jsonl        dc01's nightly copy to the cloud (target "cloud", T-BAK-4)
    var/log/lab/borg-fill-<server>.log   what borg said while the lab was built
    data/<server>/…                      what the nightly jobs back up: a few tiny files that change
    borg-home/                           borg's keys and cache: root's home in backup01's sessions, which
                                         sudo gives borg as HOME (runtime.py)

A failed night leaves no archive, only the wrapper's "failure" line; a missed night leaves nothing
(the formats: collectors/parsers/backup_logs.py and borg.py). The archives are filled by
borg_fill.py, one process per repository under the interpreter borg is installed for, both
repositories at once, in memory (/dev/shm) when the machine has it.

borg 1.2 lists archive times as naive local time, and the collector keeps them as written, so the
day of a backup is the day on the backup server's clock. The lab's clock is UTC: borg_fill runs
with TZ=UTC, and backup01's sshd must give its sessions TZ=UTC too (`sshd_config`), or a night on
a machine in another zone could land on the neighbouring day.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from . import layout
from .company import COMPANY_NAME, BackupNight, Company

BORG_PYTHON = "/usr/bin/python3"  # Debian's borgbackup lives in the system interpreter, not in the venv
FILL_SCRIPT = Path(__file__).with_name("borg_fill.py")
BORG_SERVERS = ("fs01", "backup01")  # the nightly borg jobs backup01 runs
BACKED_UP = {"fs01": ["srv"], "backup01": ["etc", "var"]}  # the directories each nightly job saves
JOB = "borg-nightly"
CLOUD_JOB = "cloudkopie"
CLOUD_SERVER = "dc01"
WRAPPER_REPORT = "var/log/backup-report.jsonl"
CLOUD_REPORT = "var/log/dc01-cloudkopie.jsonl"
FAILURE_MESSAGES = ("Failed to create/acquire the lock (timeout)", "Connection closed by remote host", "No space left on device")
FILL_TIMEOUT = 300
SCRATCH_PARENT = "/dev/shm"


def borg_unavailable() -> str | None:
    """Why the backup server cannot be built here, or None."""
    if shutil.which("borg") is None:
        return "borgbackup is not installed (scripts/test.sh installs it)"
    probe = subprocess.run([BORG_PYTHON, "-c", "import borg.archiver"], capture_output=True, check=False)
    if probe.returncode != 0:
        return f"{BORG_PYTHON} cannot import borg: {probe.stderr.decode(errors='replace').strip()[-200:]}"
    return None


@dataclass
class BackupServer:
    root: Path
    repositories: dict[str, Path]  # server -> borg repository
    wrapper_report: Path
    cloud_report: Path
    borg_home: Path
    archives: dict[str, int] = field(default_factory=dict)

    def inventory_backups(self) -> list[dict]:
        """`auditpack_backups` for backup01 in the lab inventory; the passphrase by reference only."""
        passphrase = f"env:{layout.BORG_ENV}"
        entries: list[dict] = [
            {"tool": "borg", "repository": str(repo), "server": server, "job": JOB, "passphrase": passphrase}
            for server, repo in self.repositories.items()
        ]
        entries.append({"tool": "log", "repository": str(self.wrapper_report), "job": JOB})
        entries.append({"tool": "log", "repository": str(self.cloud_report), "server": CLOUD_SERVER, "job": CLOUD_JOB})
        return entries


def backup_sshd_config() -> str:
    """What backup01's sshd adds to its config: the sessions' clock, which
    decides the day of each borg archive (sudo keeps TZ). Borg's home is root's: `running_sshd(root_home=...)`."""
    return "SetEnv TZ=UTC\n"


def _stamp(moment: datetime) -> str:
    """borg --timestamp reads a time without offset as UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _static_files(server: str) -> dict[str, str]:
    if server == "fs01":
        return {
            "srv/klantdata/contracten.csv": "klant,contract,ingang\nGemeente Voorbeeld,KC-2024-07,2024-07-01\n",
            "srv/ict/README.txt": f"Bestandsshares van {COMPANY_NAME}\n",
        }
    return {"etc/borg/jobs.conf": f"# nightly borg jobs\n{JOB} fs01 01:00\n{JOB} backup01 03:00\n"}


def _night_files(server: str, night: BackupNight, number: int) -> dict[str, str]:
    """What changed since the previous night: a day sheet, and a new monthly file on the first."""
    day = night.day
    share = "srv/klantdata" if server == "fs01" else "var/lib/backup"
    files = {f"{share}/dagstaat.txt": f"{server} {day.isoformat()} dossiers={1000 + number * 7 % 97}\n"}
    if day.day == 1 or number == 0:
        files[f"{share}/maand-{day:%Y-%m}.csv"] = f"maand,{day:%Y-%m}\nregels,{number}\n"
    return files


def _fill_job(server: str, nights: list[BackupNight], repo: Path, data: Path, borg_home: Path) -> dict:
    archives = [
        {"name": f"{server}-{night.day.isoformat()}", "timestamp": _stamp(night.started), "files": _night_files(server, night, n)}
        for n, night in enumerate(nights)
        if night.outcome == "success"
    ]
    return {
        "repository": str(repo),
        "passphrase": layout.BORG_PASSPHRASE,
        "base_dir": str(borg_home),
        "cwd": str(data),
        "paths": BACKED_UP[server],
        "files": _static_files(server),
        "archives": archives,
    }


def _report_line(server: str, job: str, night: BackupNight, target: str | None, number: int) -> dict:
    line: dict = {"time": night.started.isoformat(), "result": night.outcome, "server": server, "job": job}
    if night.ended is not None:
        line["ended"] = night.ended.isoformat()
    if target:
        line["target"] = target
    line["rc"] = 0 if night.outcome == "success" else 2
    if night.outcome == "failure":
        line["message"] = FAILURE_MESSAGES[number % len(FAILURE_MESSAGES)]
    return line


def wrapper_report(company: Company) -> list[dict]:
    """The wrapper's line per run of the nightly borg jobs, oldest first; a missed night wrote nothing."""
    lines = [
        (night.started, _report_line(server, JOB, night, None, n))
        for server in BORG_SERVERS
        for n, night in enumerate(company.backups[server])
        if night.outcome != "missed"
    ]
    return [line for _, line in sorted(lines, key=lambda pair: pair[0])]


def cloud_report(company: Company) -> list[dict]:
    """dc01's nightly copy to the cloud, one line per run that took place."""
    return [
        _report_line(CLOUD_SERVER, CLOUD_JOB, night, "cloud", n)
        for n, night in enumerate(company.cloud_backups)
        if night.outcome != "missed"
    ]


def _write_jsonl(path: Path, lines: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))


def _run_fills(jobs: dict[str, dict], logs: Path) -> dict[str, int]:
    """One borg_fill process per repository, all at once; the passphrase goes in on stdin.

    borg's chatter goes to a log file per repository: a pipe nobody reads while we wait could fill up."""
    env = {**os.environ, "TZ": "UTC"}
    env.pop("BORG_PASSPHRASE", None)
    logs.mkdir(parents=True, exist_ok=True)
    procs = {}
    for server, job in jobs.items():
        with open(logs / f"borg-fill-{server}.log", "wb") as log:
            procs[server] = subprocess.Popen(
                [BORG_PYTHON, str(FILL_SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env, text=True
            )
        # the job is read whole before borg starts, so this write cannot wait on the other process
        assert procs[server].stdin is not None
        procs[server].stdin.write(json.dumps(job))
        procs[server].stdin.close()
    counts = {}
    for server, proc in procs.items():
        out = proc.stdout.read()  # type: ignore[union-attr]
        if proc.wait(FILL_TIMEOUT) != 0:
            error = (logs / f"borg-fill-{server}.log").read_text(errors="replace").strip()[-1500:]
            raise RuntimeError(f"filling the borg repository of {server} failed: {error}")
        counts[server] = json.loads(out)["archives"]
    return counts


def _scratch() -> Path | None:
    """A directory in memory to build in, when the machine has one (/dev/shm)."""
    shm = Path(SCRATCH_PARENT)
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        return None
    return Path(tempfile.mkdtemp(prefix="auditpack-borg-", dir=shm))


def _fill(company: Company, root: Path, build: Path, repositories: dict[str, Path]) -> dict[str, int]:
    """Fill the repositories in BUILD (in memory, or ROOT itself), then put them where the lab serves them.

    A repository moves without borg noticing: borg remembers where it saw a repository in its home
    (BORG_BASE_DIR), so the builder's home stays behind and the sessions start with an empty one."""
    jobs = {
        s: _fill_job(s, company.backups[s], build / "repos" / s, build / "data" / s, build / "borg-build-home")
        for s in repositories
    }
    (build / "repos").mkdir(parents=True, exist_ok=True)
    counts = _run_fills(jobs, root / "var" / "log" / "lab")
    for server, repo in repositories.items():
        shutil.copytree(build / "repos" / server, repo, symlinks=True)
        shutil.copytree(build / "data" / server, root / "data" / server, symlinks=True)
    return counts


def build_backup_server(company: Company, root: Path) -> BackupServer:
    """Build backup01's repositories and reports under ROOT (what was there from an earlier build is replaced).

    The repositories are filled in memory when the machine has /dev/shm and copied to ROOT after: on a
    journalling disk borg's many small synchronous writes per archive make the build four times slower."""
    root.mkdir(parents=True, exist_ok=True)
    for part in ("srv", "var", "data", "borg-home"):
        shutil.rmtree(root / part, ignore_errors=True)
    server = BackupServer(
        root, {s: root / "srv" / "borg" / s for s in BORG_SERVERS}, root / WRAPPER_REPORT, root / CLOUD_REPORT, root / "borg-home"
    )
    server.repositories["fs01"].parent.mkdir(parents=True)
    server.borg_home.mkdir(mode=0o700)
    _write_jsonl(server.wrapper_report, wrapper_report(company))
    _write_jsonl(server.cloud_report, cloud_report(company))
    scratch = _scratch()
    try:
        server.archives = _fill(company, root, scratch or root / "build", server.repositories)
    finally:
        shutil.rmtree(scratch or root / "build", ignore_errors=True)
    return server


def success_days(company: Company, server: str) -> list[date]:
    """The nights that left an archive: what `borg list` of SERVER's repository must show."""
    return [n.day for n in company.backups[server] if n.outcome == "success"]
