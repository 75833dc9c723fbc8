"""The work of a Windows collection against the new days, not the year: incremental Security log reads.

Run:  .venv/bin/python bench/bench_incremental.py [--repeat 3]
Prints one row per case; results with the command go in docs/benchmarks.md.

The host is the lab's dc01 (lab/auditpack_lab/windows_hosts.py), a year and more of Security log (420 days; the
moment is before the lab's password spray, so nothing has rolled over), served by the WinRM peer on 127.0.16.20
and read by the real runner, WindowsCollector and pywinrm over NTLM with message encryption into an evidence
store. The clock of this process is moved with time-machine, as the demo's replay does.

Cases: the first collection (nothing in the store: the whole log), then for 1, 30 and 365 new days a store
whose last collection of dc01 lies that many days before, and the collection that follows it. Per case, of
that one collection: the records the Security events probe read on the host (the peer's counter: what the
event log service handed the script's ReadEvent loop), the bytes of that probe's answer, the bytes of every
answer of the collection, and the wall time of the collection (best of --repeat).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import time_machine

ADDRESS = "127.0.16.20"
PASSWORD_ENV = "AUDITPACK_BENCH_INCREMENTAL_PW"
NEW_DAYS = (1, 30, 365)


def _inventory(peer, user: str):
    from auditpack.inventory import parse_inventory

    text = (
        f"all:\n  hosts:\n    dc01:\n      ansible_host: {peer.address}\n      ansible_port: {peer.port}\n"
        f"      ansible_connection: winrm\n      ansible_winrm_scheme: http\n      ansible_user: '{user}'\n"
        f"      auditpack_password: env:{PASSWORD_ENV}\n      auditpack_roles: [domain_controller]\n"
    )
    return parse_inventory(text.encode())


def _collect(store, inventory, moment: datetime) -> float:
    from auditpack.runner import run_collection

    with time_machine.travel(moment, tick=True):
        started = time.perf_counter()
        run_collection(store, inventory, inventory.hosts, "bench")
        return time.perf_counter() - started


def _case(peer, inventory, moment: datetime, new_days: int | None, repeat: int) -> dict:
    from auditpack.collectors import windows_probes as ps
    from auditpack.store import EvidenceStore

    best: dict | None = None
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            store = EvidenceStore(Path(tmp) / "store")
            if new_days is not None:
                _collect(store, inventory, moment - timedelta(days=new_days))
            peer.work.clear()
            seconds = _collect(store, inventory, moment)
        [events] = [w for w in peer.work if ps.since_of(ps.SECURITY_EVENTS, w.script)[0]]
        row = {
            "records": events.records_read,
            "events_bytes": events.answer_bytes,
            "all_bytes": sum(w.answer_bytes for w in peer.work),
            "seconds": seconds,
        }
        if best is None or row["seconds"] < best["seconds"]:
            best = row
    assert best is not None
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from auditpack_lab import layout
    from auditpack_lab.company import DOMAIN, build_company
    from auditpack_lab.peers.winrm import running_winrm
    from auditpack_lab.windows_hosts import LOG_DAYS, handler_for

    company = build_company()
    moment = datetime.combine(company.year.spray.date() - timedelta(days=2), clock_time(2, 30), UTC)
    user = f"{DOMAIN}\\{layout.AUDIT_ACCOUNT}"
    os.environ[PASSWORD_ENV] = layout.AUDIT_PASSWORD
    host = handler_for(company, "dc01", lambda: datetime.now(UTC))
    print(f"dc01 at {moment.isoformat()}: Security log of {LOG_DAYS['dc01']} days; best of {args.repeat}")
    print(f"{'collection':<28} {'records read':>13} {'events answer':>14} {'all answers':>12} {'seconds':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        with running_winrm(Path(tmp) / "winrm", ADDRESS, {user: layout.AUDIT_PASSWORD}, host) as peer:
            inventory = _inventory(peer, user)
            cases = [("first (whole log)", None)] + [(f"{n} new day{'s' if n > 1 else ''}", n) for n in NEW_DAYS]
            for label, new_days in cases:
                row = _case(peer, inventory, moment, new_days, args.repeat)
                print(
                    f"{label:<28} {row['records']:>13,} {row['events_bytes']:>12,} B {row['all_bytes']:>10,} B"
                    f" {row['seconds']:>8.2f}"
                )


if __name__ == "__main__":
    main()
