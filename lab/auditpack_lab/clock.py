"""The lab's clock: the moment the lab's peers answer as of.

The lab stands still at the moment it was built, unless the demo sets its clock to a day of the lab's year
(`set_clock`), to collect as the company did on that day. The peers then answer as of that moment: the Windows
hosts' logs, anti-virus and backups, the console's systems, fw01's ruleset, which hosts are switched off. Only
the lab has such a clock: auditpack itself always collects at the real time (the demo sets the collector's clock
with faketime, for the lab's collections only).

The clock lives in a file of the lab's directory, read by the lab's process on every question (a stat, and a
read when it changed); the lab's process applies what a moment changes beyond answers (fw01's ruleset) and
acknowledges the moment in a second file, which `set_clock` waits for.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

CLOCK_FILE = "clock.json"
APPLIED_FILE = "clock-applied.json"
POLL_SECONDS = 0.05
APPLY_TIMEOUT = 30.0


class LabClockError(RuntimeError):
    """The lab did not take up a new moment in time."""


def _write(path: Path, moment: datetime) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"now": moment.isoformat()}))
    tmp.replace(path)


def _read(path: Path) -> datetime:
    return datetime.fromisoformat(json.loads(path.read_text())["now"])


class LabClock:
    """What time it is for the lab's peers: the moment set in DIRECTORY's clock file, else BUILT. Thread-safe."""

    def __init__(self, directory: Path, built: datetime) -> None:
        self.path, self.built = directory / CLOCK_FILE, built
        self._stamp: tuple[int, int] | None = None
        self._moment = built
        self._lock = threading.Lock()

    def now(self) -> datetime:
        try:
            found = self.path.stat()
            stamp = (found.st_ino, found.st_mtime_ns)  # each write replaces the file: a new inode
        except FileNotFoundError:
            return self.built
        with self._lock:
            if stamp != self._stamp:
                self._moment, self._stamp = _read(self.path), stamp
            return self._moment

    def ticking(self) -> datetime | None:
        """The moment set, advanced by the real seconds since it was set; None at the lab's own moment (today).

        For the lab's Time-Stamp Authority: a token must come after what it dates, and a collection set to a
        moment ends seconds after it. At the lab's own moment the real time is the lab's time.
        """
        try:
            set_at = self.path.stat().st_mtime
        except FileNotFoundError:
            return None
        moment = self.now()
        if moment == self.built:
            return None
        return moment + timedelta(seconds=max(0.0, time.time() - set_at))


def watch_clock(directory: Path, clock: LabClock, apply: Callable[[datetime], None], stop: threading.Event) -> None:
    """In the lab's process: apply each new moment (fw01's ruleset), then acknowledge it; until STOP is set."""
    applied: datetime | None = None
    while not stop.wait(POLL_SECONDS):
        moment = clock.now()
        if moment != applied:
            apply(moment)
            applied = moment
            _write(directory / APPLIED_FILE, moment)


def set_clock(directory: Path, moment: datetime) -> None:
    """Set the running lab's clock to MOMENT and wait until its process has applied it."""
    _write(directory / CLOCK_FILE, moment)
    deadline = time.monotonic() + APPLY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if _read(directory / APPLIED_FILE) == moment:
                return
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            pass  # not acknowledged yet
        time.sleep(POLL_SECONDS)
    raise LabClockError(f"the lab in {directory} did not take up the moment {moment} within {APPLY_TIMEOUT:.0f} s")
