"""Benchmark: the yearly report in every format plus the signed pack, for a year of daily evidence.

For each size (servers with a daily backup item, plus the weekly firewall and
workstation items of tests/year_store.py) a child process writes the year into
a fresh store (not timed), and another child, started fresh so its peak RSS is
its own, evaluates, writes HTML, PDF, workbook, JSON and OSCAL and builds the pack.

Run:  .venv/bin/python bench/bench_report.py [--hosts 300 600]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def build(store: str, hosts: int) -> None:
    from year_store import build_year

    began = time.perf_counter()
    year = build_year(Path(store), servers=hosts)
    print(json.dumps({"seconds": time.perf_counter() - began, "items": len(year.store.items())}))


def measure(store_path: str, out: str) -> None:
    from auditpack.annual import make_document, write_formats
    from auditpack.pack import build_pack
    from auditpack.periods import year_period
    from auditpack.reports.formats import FORMAT_NAMES
    from auditpack.signing import fingerprint, load_or_create_key
    from auditpack.store import EvidenceStore
    from year_store import EXCEPTIONS

    store, period = EvidenceStore(Path(store_path)), year_period(2026)
    key = load_or_create_key(Path(out) / "signing-key.pem")
    times: dict[str, float] = {}
    began = time.perf_counter()
    document, _ = make_document(
        store, period, "nl", exceptions=EXCEPTIONS, signing_fingerprint=fingerprint(key), today=date(2027, 1, 20)
    )
    times["evaluate + document"] = time.perf_counter() - began
    files = {}
    for fmt in FORMAT_NAMES:
        began = time.perf_counter()
        files.update(write_formats(document, Path(out) / "report", [fmt]))
        times[fmt] = time.perf_counter() - began
    began = time.perf_counter()
    summary = build_pack(store, document, {p.name: p for p in files.values()}, Path(out) / "pack.zip", key)
    times["pack"] = time.perf_counter() - began
    print(
        json.dumps(
            {
                "times": times,
                "total": sum(times.values()),
                "pack_mb": summary.size / 1e6,
                "pack_files": summary.files,
                "cited_items": summary.items,
                "sizes_mb": {k: p.stat().st_size / 1e6 for k, p in files.items()},
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, nargs="+", default=[300, 600])
    parser.add_argument("--build", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        build(args.build[0], int(args.build[1]))
        return
    if args.measure:
        measure(*args.measure)
        return
    for hosts in args.hosts:
        with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
            built = child("--build", f"{tmp}/evidence", str(hosts))
            result = child("--measure", f"{tmp}/evidence", tmp)
            steps = ", ".join(f"{k} {v:.1f} s" for k, v in result["times"].items())
            print(
                f"{hosts} servers, {built['items']} items (store written in {built['seconds']:.0f} s): "
                f"report + pack {result['total']:.1f} s ({steps}); peak RSS {result['peak_rss_mb']:.0f} MB; "
                f"pack {result['pack_mb']:.1f} MB, {result['pack_files']} files, {result['cited_items']} items cited; "
                f"formats MB {json.dumps({k: round(v, 2) for k, v in result['sizes_mb'].items()})}",
                flush=True,
            )


if __name__ == "__main__":
    main()
