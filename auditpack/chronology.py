"""The chronology of the evidence: run manifests chained by hash, each dated by an RFC 3161 token.

One link check and one token judgement, used by the store's verify, the pack's verify and the report, so
the three cannot disagree on what a broken chain or a late timestamp is. Beside each manifest
`runs/NNNNNN-<sha256>.json` a store (and a pack) may hold:

    NNNNNN-<sha256>.json.tsr              the TSA's time-stamp reply over the manifest's bytes
    NNNNNN-<sha256>.json.not-timestamped  why no token could be had at commit (JSON: reason, tsa, tried_at)
    NNNNNN-<sha256>.json.withheld         a pseudonymised pack only: the manifest names people, so it is left out
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509

from .canonical import iso, parse_iso, sha256_hex
from .timestamping import LATE_AFTER, TimestampError, check_token, stated_time

MANIFEST_FORMAT = "auditpack-manifest/1"
MANIFEST_NAME = re.compile(r"^(\d{6,})-([0-9a-f]{64})\.json$")
TOKEN_SUFFIX = ".tsr"
NOT_TIMESTAMPED_SUFFIX = ".not-timestamped"
WITHHELD_SUFFIX = ".withheld"
SIDECAR_NAME = re.compile(r"^(\d{6,})-([0-9a-f]{64})\.json(\.tsr|\.not-timestamped|\.withheld)$")


def check_link(
    seq: int, sha: str, data: bytes, expected_seq: int | None, prev_sha: str | None, check_prev: bool = True
) -> tuple[dict[str, Any] | None, list[str]]:
    """One manifest as a link of the chain: its name's hash, the sequence number inside, its `prev`.

    EXPECTED_SEQ is the number the chain needs here (None: any, at the start of a pack's chain); PREV_SHA the
    hash of the manifest before it (None for run 1). Returns the manifest (None when unreadable) and the problems.
    """
    problems = []
    if expected_seq is not None and seq != expected_seq:
        missing = f"run {expected_seq}" if seq == expected_seq + 1 else f"runs {expected_seq} to {seq - 1}"
        problems.append(f"{missing} {'is' if seq == expected_seq + 1 else 'are'} missing from the chain (found run {seq} next)")
    if sha256_hex(data) != sha:
        problems.append("content does not match the SHA-256 in its name: the manifest was changed or damaged")
    try:
        body = json.loads(data)
        if not isinstance(body, dict) or not isinstance(body["items"], list):
            raise TypeError
    except (ValueError, KeyError, TypeError) as exc:
        problems.append(f"not a readable manifest ({exc.__class__.__name__}); items unknown")
        return None, problems
    if body.get("format") != MANIFEST_FORMAT or body.get("seq") != seq:
        problems.append("format or sequence number inside does not match the file name")
    if check_prev and body.get("prev") != prev_sha:
        problems.append(
            f"previous-manifest hash {str(body.get('prev'))[:12]}… does not match "
            f"the manifest before it ({str(prev_sha)[:12]}…): the chain is broken"
        )
    return body, problems


@dataclass(frozen=True)
class TokenVerdict:
    """What a run's timestamp proves. state: at_commit, late, not_timestamped, unchecked (no TSA certificate
    given) or invalid; `text` says it in a sentence for the console and the verify output."""

    state: str
    time: datetime | None
    text: str

    @property
    def problem(self) -> bool:
        return self.state == "invalid"


def judge_token(
    token: bytes | None,
    roots: tuple[x509.Certificate, ...] | None,
    *,
    ended: str | None,
    note: dict[str, Any] | None = None,
    data: bytes | None = None,
    digest: bytes | None = None,
) -> TokenVerdict:
    """Check a run's token (over DATA, or its DIGEST when the manifest is withheld) and say whether it dates the
    run at commit or later; ENDED is the run's end as its manifest says, NOTE why it was not timestamped then."""
    reason = f"; at commit: {note.get('reason')}" if isinstance(note, dict) and note.get("reason") else ""
    if token is None:
        why = reason.removeprefix("; at commit: ") or "no TSA was configured, or auditpack stopped before it answered"
        return TokenVerdict("not_timestamped", None, f"not timestamped ({why}); `auditpack timestamp` adds a late timestamp")
    if roots is None:
        moment = stated_time(token)
        return TokenVerdict(
            "unchecked", moment, f"token of {iso(moment) if moment else '?'} not checked: no TSA certificate given"
        )
    try:
        moment = check_token(token, roots, data=data, digest=digest)
    except TimestampError as exc:
        return TokenVerdict("invalid", None, f"the timestamp token does not hold: {exc}")
    if ended is None:
        return TokenVerdict("at_commit", moment, f"timestamped {iso(moment)}")
    gap = moment - parse_iso(ended)
    if is_late(moment, ended, note):
        return TokenVerdict(
            "late", moment, f"timestamped late: {iso(moment)}, {_duration(gap)} after the run ended ({ended}){reason}"
        )
    if -gap > LATE_AFTER:
        return TokenVerdict(
            "at_commit", moment, f"timestamped {iso(moment)}, {_duration(-gap)} before the run ended: a clock was wrong"
        )
    return TokenVerdict("at_commit", moment, f"timestamped {iso(moment)}")


def is_late(moment: datetime, ended: str | None, note: dict[str, Any] | None) -> bool:
    """A token asked for after the commit: the run was marked not timestamped then, or the token is much younger."""
    return bool(note) or (ended is not None and moment - parse_iso(ended) > LATE_AFTER)


def stated_timestamp(token: bytes | None, ended: str | None, note: dict[str, Any] | None) -> dict[str, Any]:
    """A run's timestamp as the report states it (read, not checked: `auditpack verify` checks): its time or None,
    whether it was set late, and the kind of reason there was none at commit (a TimestampError code, or no_tsa)."""
    moment = stated_time(token) if token is not None else None
    code = str(note.get("code") or "invalid") if note else None
    if moment is None:
        return {"time": None, "late": False, "reason": code or "no_tsa"}
    return {"time": iso(moment), "late": is_late(moment, ended, note), "reason": code}


def _duration(gap: Any) -> str:
    seconds = int(gap.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 7200:
        return f"{seconds // 3600} hours"
    if seconds >= 120:
        return f"{seconds // 60} minutes"
    return f"{max(seconds, 0)} seconds"


def read_note(data: bytes | None) -> dict[str, Any] | None:
    """A `.not-timestamped` note; an unreadable one still says that the run was not timestamped."""
    if data is None:
        return None
    try:
        note = json.loads(data)
    except ValueError:
        return {"reason": "(the note saying why is unreadable)"}
    return note if isinstance(note, dict) else {"reason": "(the note saying why is unreadable)"}
