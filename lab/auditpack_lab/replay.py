"""The demo's year of operation, replayed: every collection of `year.py` made against the running lab.

For each collection the lab's clock is set to its moment (the peers answer as of then, clock.py) and
`auditpack collect` runs as a process of its own with its clock set to the same moment (at_moment.py): the
product has no way to pretend another time, the lab's replay sets the clock of that one process. Before the
first collection ICT imports its egress register, which it kept before the year began: T-FWP tests each
collection's rules against the register as imported by then. The missed
month's firewall export is taken from fw01's real nftables (`nft -j list ruleset` in its namespace) with the
lab's clock on that day, and imported with `auditpack import firewall --date`, also at that moment.
The last collection of the year (the audit's own, today) is not replayed here: the demo makes it at the real time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from auditpack.store import EvidenceStore

from .clock import set_clock
from .firewall import DEVICE, WAN
from .runtime import LabState
from .year import Collection, Year

WORKERS = 16  # as the demo's own collection: the lab's peers answer many at once
STEP_TIMEOUT = 600
BACKUP_EXPORT_TIME = clock_time(11)  # UTC, on the firewall backup's day
REGISTER_LEAD = timedelta(minutes=10)  # the egress register is imported this long before the first collection


class ReplayError(RuntimeError):
    """A replayed step could not run at all (not: a host that failed, which the run records)."""


@dataclass(frozen=True)
class Replayed:
    moment: datetime
    what: str
    status: str  # complete | partial | imported
    hosts: Counter  # host status -> count
    seconds: float


def _at(moment: datetime, arguments: list[str], log: Path) -> int:
    """Run `auditpack ARGUMENTS` with its clock set to MOMENT (at_moment.py); its output goes to LOG.
    Returns the exit code: 0 or 1 (a partial run or a finding, recorded); 2, nothing usable, stops the replay."""
    env = {**os.environ, "COLUMNS": "160"}
    with open(log, "ab") as out:
        out.write(f"\n$ auditpack {' '.join(arguments)}   # clock set to {moment.isoformat()}\n".encode())
        out.flush()
        command = [sys.executable, "-m", "auditpack_lab.at_moment", moment.isoformat(), *arguments]
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=STEP_TIMEOUT)
    if done.returncode not in (0, 1):
        raise ReplayError(
            f"`auditpack {' '.join(arguments[:2])}` at {moment.isoformat()} failed (exit {done.returncode}); see {log}"
        )
    return done.returncode


def _collect(state: LabState, store: EvidenceStore, collection: Collection, operator: str, log: Path) -> Replayed:
    began = time.monotonic()
    selection = [*(f"--role={r}" for r in collection.roles), *(f"--host={h}" for h in collection.hosts)]
    command = ["collect", "-i", state.inventory, "--store", str(store.root), "--workers", str(WORKERS), "--operator", operator]
    _at(collection.moment, [*command, *selection], log)
    body = store.load_manifest(store.manifest_refs()[-1])
    hosts = Counter(h["status"] for h in body["hosts"].values())
    return Replayed(collection.moment, collection.why, body["status"], hosts, time.monotonic() - began)


def _firewall_backup(state: LabState, store: EvidenceStore, year: Year, operator: str, work: Path, log: Path) -> Replayed:
    """ICT's hand export of fw01's ruleset in the missed month, imported as the backup of that day."""
    began = time.monotonic()
    moment = datetime.combine(year.firewall_backup_day, BACKUP_EXPORT_TIME, UTC)
    lab = Path(state.inventory).parent
    set_clock(lab, moment)
    export = work / f"{DEVICE}-ruleset-{year.firewall_backup_day.isoformat()}.json"
    done = subprocess.run(
        ["nsenter", f"--net={state.firewall_netns}", "nft", "-j", "list", "ruleset"], capture_output=True, timeout=60
    )
    if done.returncode != 0:
        raise ReplayError(f"exporting {DEVICE}'s ruleset failed: {done.stderr.decode(errors='replace').strip()}")
    export.write_bytes(done.stdout)
    command = [
        "import", "firewall", str(export), "--type", "nftables", "--device", DEVICE, "--wan", WAN,
        "--date", year.firewall_backup_day.isoformat(), "--store", str(store.root), "--operator", operator,
    ]  # fmt: skip
    _at(moment, command, log)
    return Replayed(moment, f"{DEVICE}'s ruleset exported by hand and imported", "imported", Counter(), time.monotonic() - began)


def _egress_register(state: LabState, store: EvidenceStore, moment: datetime, operator: str, log: Path) -> Replayed:
    began = time.monotonic()
    command = ["import", "egress-register", state.egress_register, "--store", str(store.root), "--operator", operator]
    _at(moment, command, log)
    return Replayed(
        moment, "the egress register, as ICT kept it since before the year", "imported", Counter(), time.monotonic() - began
    )


def replay_year(
    state: LabState, store: EvidenceStore, year: Year, operator: str, work: Path, on_step: Callable[[Replayed], None]
) -> list[Replayed]:
    """The egress register, every collection of the year before the last and the missed month's firewall import,
    in time order."""
    work.mkdir(parents=True, exist_ok=True)
    log = work / "collections.log"
    lab = Path(state.inventory).parent
    done: list[Replayed] = []
    backup_pending = True
    set_clock(lab, year.simulated[0].moment - REGISTER_LEAD)
    done.append(_egress_register(state, store, year.simulated[0].moment - REGISTER_LEAD, operator, log))
    on_step(done[-1])
    for collection in year.simulated:
        if backup_pending and collection.day > year.firewall_backup_day:
            done.append(_firewall_backup(state, store, year, operator, work, log))
            on_step(done[-1])
            backup_pending = False
        set_clock(lab, collection.moment)
        done.append(_collect(state, store, collection, operator, log))
        on_step(done[-1])
    set_clock(lab, datetime.fromisoformat(state.built))  # back to today, for the audit's own collection
    return done
