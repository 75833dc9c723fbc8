"""`auditpack lab up|down|status`: the lab as a process of its own that outlives the command."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .runtime import LAB_MARK, STATE_FILE, LabState, fresh_directory

STOP_SECONDS = 60


class LabError(Exception):
    """The lab could not be started, stopped or found; the message says what to do."""


def _alive(pid: int) -> bool:
    try:  # when `demo` started the lab itself, the ended process must be reaped or it lingers as a zombie
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_state(directory: Path) -> LabState | None:
    """The state of a lab that is still running in `directory`, or None."""
    state = LabState.read(directory)
    return state if state is not None and _alive(state.pid) else None


def lab_up(directory: Path, seed: int, on_step: Callable[[str], None] = lambda step: None) -> LabState:
    """Start the lab's process and wait until every peer answers; raises LabError with the reason."""
    from .runtime import lab_unavailable

    if (state := running_state(directory)) is not None:
        raise LabError(f"a lab is already running in {directory} (pid {state.pid}); `auditpack lab down` stops it")
    if (reason := lab_unavailable()) is not None:
        raise LabError(f"the lab cannot run here: {reason}")
    directory = directory.resolve()
    try:
        fresh_directory(directory, LAB_MARK)  # refused here already, before anything starts
    except RuntimeError as exc:
        raise LabError(str(exc)) from None
    start_log = directory.parent / f"{directory.name}-start.log"
    with open(start_log, "wb") as errors:
        # a session of its own: Ctrl-C in this terminal does not reach it, and `down` can stop its whole group
        process = subprocess.Popen(
            [sys.executable, "-m", "auditpack_lab.serve", str(directory), str(seed)],
            stdout=subprocess.PIPE,
            stderr=errors,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    assert process.stdout is not None
    try:
        for line in process.stdout:
            message = json.loads(line)
            if "step" in message:
                on_step(message["step"])
            elif "ready" in message:
                process.stdout.close()
                start_log.unlink(missing_ok=True)
                return LabState(**message["ready"])
            elif "failed" in message:
                process.wait(STOP_SECONDS)  # it unwinds what it started, then ends
                raise LabError(f"the lab did not start: {message['failed']}")
    except KeyboardInterrupt:  # the lab runs in a session of its own: take it down with us
        process.terminate()
        process.wait(STOP_SECONDS)
        raise
    process.wait()
    raise LabError(
        f"the lab's process ended before it was ready (exit code {process.returncode}); "
        f"its errors: {start_log.read_text(errors='replace')[-3000:]}"
    )


def _stop_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def lab_down(directory: Path) -> bool:
    """Stop the lab running in `directory`; False when none was running."""
    state = LabState.read(directory)
    if state is None or not _alive(state.pid):
        (directory / STATE_FILE).unlink(missing_ok=True)
        return False
    os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while _alive(state.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(state.pid):  # the peers did not stop in time: end the whole process group
        _stop_group(state.pid)
    (directory / STATE_FILE).unlink(missing_ok=True)
    return True


@dataclass(frozen=True)
class EndpointStatus:
    host: str
    endpoint: str
    answers: bool


def lab_status(state: LabState, timeout: float = 1.0) -> list[EndpointStatus]:
    """Whether each of the lab's endpoints accepts a TCP connection."""
    found = []
    for host, endpoints in state.endpoints.items():
        for endpoint in endpoints:
            address, port = endpoint.rsplit(":", 1)
            try:
                socket.create_connection((address, int(port)), timeout=timeout).close()
                found.append(EndpointStatus(host, endpoint, True))
            except OSError:
                found.append(EndpointStatus(host, endpoint, False))
    return found
