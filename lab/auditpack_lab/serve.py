"""The lab's own process: `python -m auditpack_lab.serve DIRECTORY SEED`.

Prints one JSON line per step on stdout, then {"ready": ...} once every peer
answers, and from then on writes only to DIRECTORY/lab.log, so `lab up` may
go away. Runs until SIGTERM or SIGINT (`auditpack lab down`), then stops every peer.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from dataclasses import asdict
from pathlib import Path

from .runtime import running_lab


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _say(**message: object) -> None:
    print(json.dumps(message), flush=True)


def main(argv: list[str]) -> int:
    directory, seed = Path(argv[0]), int(argv[1])
    for sig in (signal.SIGTERM, signal.SIGINT):  # unwinds the peers' contexts, during start-up too
        signal.signal(sig, _stop)
    try:
        with running_lab(directory, seed, lambda step: _say(step=step)) as state:
            _say(ready=asdict(state))
            log = os.open(directory / "lab.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.dup2(log, 1)  # `lab up` stops reading: nothing may write to its pipe any more
            os.dup2(log, 2)
            while True:
                time.sleep(3600)
    except SystemExit:
        return 0
    except Exception as exc:  # the parent shows this and the log
        _say(failed=f"{exc.__class__.__name__}: {exc}", trace=traceback.format_exc())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
