"""Running read-only local programs with a time limit and an output bound."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from auditpack.canonical import utcnow
from auditpack.evidence import ItemStatus, Observation

from .guard import CommandGuard

MAX_OUTPUT = 64 * 1024 * 1024  # a ruleset or listing larger than this is not evidence anyone reads


@dataclass
class CommandResult:
    argv: list[str]
    returncode: int | None
    stdout: bytes
    stderr: bytes
    error: str = ""


def run_command(argv: list[str], timeout: float, guard: CommandGuard | None = None) -> CommandResult:
    """Run argv once it has passed the guard (None: not a collector's command, such as a test's)."""
    if guard is not None:
        guard.check(" ".join(argv))
    if shutil.which(argv[0]) is None:
        return CommandResult(argv, None, b"", b"", f"{argv[0]} is not installed")
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=max(timeout, 0.1), stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired as exc:
        return CommandResult(argv, None, exc.stdout or b"", exc.stderr or b"", f"no answer within {timeout:.0f} s")
    except OSError as exc:
        return CommandResult(argv, None, b"", b"", f"cannot run {argv[0]}: {exc.strerror}")
    out = proc.stdout
    error = ""
    if len(out) > MAX_OUTPUT:
        out, error = out[:MAX_OUTPUT], f"output cut at {MAX_OUTPUT} bytes"
    return CommandResult(argv, proc.returncode, out, proc.stderr, error)


def command_observation(
    kind: str, argv: list[str], timeout: float, parse, tool_version: str = "", guard: CommandGuard | None = None
) -> Observation:
    """Run argv and turn its output into an observation; unparseable output is kept raw and flagged."""
    started = utcnow()
    result = run_command(argv, timeout, guard=guard)
    ended = utcnow()
    obs = Observation(
        kind=kind, command=" ".join(argv), raw=result.stdout, started=started, ended=ended, tool_version=tool_version
    )
    if result.returncode is None:
        obs.status = ItemStatus.ABSENT if "not installed" in result.error else ItemStatus.ERROR
        obs.errors.append(result.error)
        return obs
    if result.returncode != 0:
        obs.status = ItemStatus.ERROR
        message = result.stderr.decode(errors="replace").strip()[:500]
        obs.errors.append(f"exit code {result.returncode}: {message}")
        return obs
    if result.error:
        obs.errors.append(result.error)
    try:
        obs.normalized = parse(result.stdout)
    except ValueError as exc:
        obs.status = ItemStatus.GARBLED
        obs.errors.append(f"output could not be parsed: {exc}")
    return obs
