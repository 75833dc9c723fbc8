"""Wall time of `auditpack demo` (the README's first command) by phase, and the largest process's peak RSS.

Runs the real demo (lab up, the year's replayed collections, registers and today's collection, report and
pack, verify, lab down)
in a fresh work directory, reads the phase times it prints, and repeats.
Needs root and the lab's packages (scripts/demo.sh installs them).

    .venv/bin/python bench/bench_demo.py --runs 3
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHASE = re.compile(r"─ (\d)/6 (.+?) · (\d+) s ─")
TOTAL = re.compile(r"Time taken:\s+([\d.]+) s")
FULL_REPLAYED = re.compile(r"^\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+(?:complete|partial)\s+10[45] ok.*?([\d.]+) s$", re.M)


def one_run(auditpack: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "COLUMNS": "200", "AUDITPACK_SIGNING_KEY": f"{work}/unused.pem"}
        began = time.monotonic()
        done = subprocess.run(
            [str(auditpack), "demo", "--workdir", f"{work}/demo"], capture_output=True, text=True, env=env, cwd=work
        )
        wall = time.monotonic() - began
    if done.returncode not in (0, 1):  # 1: the report names the demo company's deliberate deviations
        sys.exit(f"demo failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    starts = {f"{n} {name}": int(seconds) for n, name, seconds in PHASE.findall(done.stdout)}
    total = float(TOTAL.search(done.stdout).group(1))
    marks = list(starts.items()) + [("end", total)]
    phases = {name: marks[i + 1][1] - start for i, (name, start) in enumerate(marks[:-1])}
    replayed = sorted(float(s) for s in FULL_REPLAYED.findall(done.stdout))
    median = replayed[len(replayed) // 2] if replayed else float("nan")
    return {**phases, "demo says": total, "wall (process)": wall, f"median of {len(replayed)} replayed full collections": median}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    auditpack = Path(sys.executable).with_name("auditpack")
    print(f"{os.cpu_count()} CPUs; {args.runs} runs of `auditpack demo`")
    for n in range(1, args.runs + 1):
        result = one_run(auditpack)
        print(f"run {n}: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.items()))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS of the largest process (the demo, the lab's process or a peer): {peak:.0f} MB")


if __name__ == "__main__":
    main()
