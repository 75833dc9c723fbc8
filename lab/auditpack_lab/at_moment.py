"""`python -m auditpack_lab.at_moment MOMENT ARGUMENT…`: run `auditpack ARGUMENT…` with its clock set to MOMENT.

For the demo's year only: each replayed collection is an ordinary `auditpack collect` whose clock reads the
day it stands for, as the lab's peers do (clock.py). auditpack itself has no way to pretend another time;
this wrapper sets the clock of its one process with time-machine, which patches Python's wall clocks
(time.time, datetime.now, date.today) from MOMENT on, ticking; the monotonic clock is left alone, so
timeouts stay real. libfaketime did the same through LD_PRELOAD but made the collector's 16 threads spin on
futexes: a collection of the lab took 32 s under it, 6 s under time-machine (docs/benchmarks.md).
"""

from __future__ import annotations

import sys
from datetime import datetime

import time_machine


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit("usage: python -m auditpack_lab.at_moment MOMENT(ISO 8601, with offset) AUDITPACK-ARGUMENT…")
    moment = datetime.fromisoformat(argv[0])
    if moment.tzinfo is None:
        raise SystemExit(f"{argv[0]}: give the moment with its offset (e.g. +00:00), so it cannot be read in local time")
    sys.argv = ["auditpack", *argv[1:]]
    with time_machine.travel(moment, tick=True):
        from auditpack.cli import main as auditpack

        auditpack()


if __name__ == "__main__":
    main(sys.argv[1:])
