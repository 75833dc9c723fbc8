"""Benchmark of the evidence store and the local collector.

Run:  .venv/bin/python bench/bench_store.py [--items 20000] [--runs 10]
Prints one line per measurement; results with the command go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from auditpack.canonical import utcnow
from auditpack.evidence import Observation
from auditpack.inventory import parse_inventory
from auditpack.runner import run_collection
from auditpack.store import EvidenceStore


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_store(root: Path, items: int, runs: int) -> None:
    store = EvidenceStore(root / "evidence")
    host = parse_inventory(b"all:\n  hosts:\n    h:\n").hosts[0]
    per_run = items // runs
    payload = os.urandom(1500)
    began = time.perf_counter()
    for r in range(runs):
        run = store.begin_run("bench")
        for i in range(per_run):
            now = utcnow()
            raw = payload + f"{r}-{i}".encode()  # distinct blobs, like real outputs
            run.add("h", "bench", Observation("bench.kind", "bench", raw, now, now, normalized={"run": r, "i": i}))
        run.close_host(host, "ok", [])
        run.commit()
    took = time.perf_counter() - began
    print(f"write: {items} items in {runs} runs: {took:.1f} s, {items / took:.0f} items/s, peak RSS {peak_rss_mb():.0f} MB")
    began = time.perf_counter()
    found = store.items(kinds=["bench.kind"])
    print(f"index query of all {len(found)} items: {time.perf_counter() - began:.2f} s")
    began = time.perf_counter()
    report = store.verify()
    took = time.perf_counter() - began
    assert report.ok, report.findings
    print(
        f"verify: {report.blobs} blobs, {report.blob_bytes / 1e6:.1f} MB, {report.manifests} manifests in {took:.1f} s "
        f"({report.blob_bytes / 1e6 / took:.0f} MB/s), peak RSS {peak_rss_mb():.0f} MB"
    )


def bench_local(root: Path, repeat: int) -> None:
    store = EvidenceStore(root / "local")
    inventory = parse_inventory(b"all:\n  hosts:\n    localhost:\n")
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        run_collection(store, inventory, inventory.hosts, "bench")
        times.append(time.perf_counter() - began)
    print(
        f"local collection (8 items) x{repeat}: median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_local(Path(tmp), args.repeat)
        bench_store(Path(tmp), args.items, args.runs)


if __name__ == "__main__":
    main()
