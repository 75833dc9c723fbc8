"""Benchmark: evaluating a year of daily evidence (pure evaluators, no store).

Run:  .venv/bin/python bench/bench_evaluate.py [--servers 100] [--dcs 4] [--users 5000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from evidence_factory import evaluate, item, register, run  # noqa: E402

DAYS = [date(2026, 1, 1) + timedelta(days=n) for n in range(365)]


def timed(label: str, func) -> None:
    began = time.perf_counter()
    result = func()
    took = time.perf_counter() - began
    print(
        f"{label}: {took:.2f} s, status {result.status}, tested {result.tested}, deviations {len(result.deviations)}, "
        f"gaps {len(result.gaps)}, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--servers", type=int, default=100)
    parser.add_argument("--dcs", type=int, default=4)
    parser.add_argument("--users", type=int, default=5000)
    args = parser.parse_args()
    servers = [f"srv{i:03d}" for i in range(args.servers)]
    runs = [
        {
            "server": s,
            "job": "daily",
            "target": "local",
            "started": f"{d}T22:00:00Z",
            "ended": f"{d}T23:00:00Z",
            "result": "failure" if (i + d.toordinal()) % 97 == 0 else "success",
        }
        for i, s in enumerate(servers)
        for d in DAYS
        if (i + d.toordinal()) % 89
    ]
    backup = item("backup.runs", {"runs": runs}, "backup01", "2026-12-31")
    inventory = [run(1, "2026-12-31", {s: ["server"] for s in servers})]
    timed(f"T-BAK-1, {len(servers)} servers x 365 days ({len(runs)} runs)", lambda: evaluate("T-BAK-1", [backup], inventory))

    dcs = {f"dc{i}": ["domain_controller"] for i in range(args.dcs)}
    events = [
        item(
            "windows.security_events_daily",
            {
                "covered_from": "2026-01-01T00:00:00Z",
                "covered_to": "2026-12-31T23:00:00Z",
                "days": {d.isoformat(): {"4624": 500, "4634": 480} for d in DAYS},
                "notable": [],
            },
            dc,
            "2026-12-31",
        )
        for dc in dcs
    ]
    timed(f"T-LOG-2, {args.dcs} DCs x 365 days", lambda: evaluate("T-LOG-2", events, [run(1, "2026-12-31", dcs)]))

    users = [
        {
            "account": f"u{i:05d}",
            "name": f"User {i}",
            "enabled": i % 10 != 0,
            "password_never_expires": i % 500 == 0,
            "password_not_required": False,
            "locked": False,
            "expires": None,
            "pwd_last_set": None,
            "last_logon": None,
            "created": "2024-01-01T00:00:00Z",
            "changed": "2026-01-01T00:00:00Z",
            "member_of": [],
        }
        for i in range(args.users)
    ]
    ad = item("ad.users", {"users": users}, "dc0", "2026-12-31")
    nda = register(
        "nda", [{"name": u["name"], "account": u["account"], "signed_on": "2024-01-02"} for u in users if u["account"][-1] != "7"]
    )
    timed(f"O-NDA, {args.users} users", lambda: evaluate("O-NDA", [ad, nda]))


if __name__ == "__main__":
    main()
