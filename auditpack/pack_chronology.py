"""The chronology a pack carries: the period's run manifests with their RFC 3161 tokens, and how it is checked.

The pack holds, under runs/, every run manifest from the last run before the period (the anchor the period's
first run is chained to; none when the period starts at run 1) to the period's last run, each with its
`.tsr` token or `.not-timestamped` note (auditpack/chronology.py), and the TSA's certificate as configured
(tsa-ca.pem, informational like signing-key.pub). Checked offline: each manifest's hash and `prev` link,
that the chain starts at run 1 or before the period, that the report's runs and latest manifest are the
chain's, and each token against the TSA certificate. VERIFY.txt says the same with shell tools
(CHAIN_RECIPE, TOKEN_RECIPE; tests/test_pack_chronology.py runs them).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from .chronology import (
    MANIFEST_NAME,
    NOT_TIMESTAMPED_SUFFIX,
    SIDECAR_NAME,
    TOKEN_SUFFIX,
    WITHHELD_SUFFIX,
    check_link,
    judge_token,
    read_note,
)
from .errors import AuditpackError
from .store import EvidenceStore
from .timestamping import certificate_fingerprint, load_tsa_certificates

RUNS = "runs/"
PACK_TOKEN = "MANIFEST.json.tsr"
TSA_CERTIFICATE = "tsa-ca.pem"
LISTED_RUN = r"^[0-9]+-[0-9a-f]{64}\.json(\.withheld)?$"  # a run in the pack, carried or withheld (shell grep -E)

# Run inside the unpacked pack; START is the period's first day, TSA-CA.pem the TSA's certificate as the TSA
# publishes it. Each line prints OK lines, or a line in capitals that names what is wrong.
CHAIN_RECIPE = (
    f"q=; p=; for f in $(LC_ALL=C ls runs | grep -E '{LISTED_RUN}'); do s=$((10#${{f%%-*}})); h=${{f#*-}}; h=${{h:0:64}}; "
    f'[ -z "$q" ] || [ "$s" -eq $((q + 1)) ] || echo "MISSING: run(s) $((q + 1)) to $((s - 1)), before runs/$f"; '
    f'if [ "${{f%.withheld}}" != "$f" ]; then echo "WITHHELD: runs/$f (pseudonymised pack; its hash is the next run\'s prev)"; '
    f'else [ "$(sha256sum < "runs/$f" | cut -c1-64)" = "$h" ] || echo "CHANGED: runs/$f"; '
    f"l=$(grep -m1 '^ \"prev\": ' \"runs/$f\" | tr -d ' \",' | cut -d: -f2); "
    f'[ -z "$q" ] || [ "$l" = "$p" ] || echo "BROKEN: runs/$f does not follow run $q"; fi; p=$h; q=$s; done; '
    f'echo "OK: chain checked up to run $q"',
    f"f=$(LC_ALL=C ls runs | grep -E '{LISTED_RUN}' | head -1); "
    'if [ "${f%.withheld}" != "$f" ]; then echo "WITHHELD: runs/$f, the chain\'s first run: its start is not shown"; '
    "elif grep -q '^ \"prev\": null,$' \"runs/$f\" || [[ \"$(grep -m1 '^ \"started\": ' \"runs/$f\" | cut -d'\"' -f4)\" < START ]]; "
    'then echo "OK: the chain starts at runs/$f"; '
    'else echo "MISSING: the run(s) before runs/$f: the chain must start at run 1 or at the last run before START"; fi',
    "for h in $(grep -o '\"manifest_sha256\": \"[0-9a-f]*\"' report/document.json | cut -d'\"' -f4); do "
    'ls runs | grep -q -- "-$h\\.json" || echo "MISSING: the report\'s run manifest $h is not in runs/"; done; '
    "h=$(grep -o '\"chain_head\": \"[0-9a-f]*\"' report/document.json | cut -d'\"' -f4); "
    f"f=$(LC_ALL=C ls runs | grep -E '{LISTED_RUN}' | tail -1); "
    '[ "$h" = "$(echo "$f" | cut -d- -f2 | cut -c1-64)" ] && echo "OK: the report\'s latest manifest is runs/$f" '
    '|| echo "DIFFERENT: the report\'s latest manifest $h is not the chain\'s last, runs/$f"',
)
TOKEN_RECIPE = (
    "openssl x509 -in TSA-CA.pem -outform DER | sha256sum | cut -c1-64",
    f"for f in $(LC_ALL=C ls runs | grep -E '{LISTED_RUN}'); do m=runs/${{f%.withheld}}; h=${{f#*-}}; h=${{h:0:64}}; "
    'if [ ! -e "$m.tsr" ]; then echo "NOT TIMESTAMPED: $m $(cat "$m.not-timestamped" 2>/dev/null)"; '
    'elif if [ -e "$m" ]; then openssl ts -verify -in "$m.tsr" -data "$m" -CAfile TSA-CA.pem; '
    'else openssl ts -verify -in "$m.tsr" -digest "$h" -CAfile TSA-CA.pem; fi >/dev/null 2>&1; '
    "then echo \"OK: $m timestamped $(openssl ts -reply -in \"$m.tsr\" -text 2>/dev/null | sed -n 's/^Time stamp: //p'); "
    "run ended $(grep -m1 '^ \"ended\": ' \"$m\" 2>/dev/null | cut -d'\"' -f4)"
    "$(tr -d '\\n' < \"$m.not-timestamped\" 2>/dev/null | sed 's/^/; set late, at commit: /')\"; "
    'else echo "FAILED: $m.tsr does not verify: the token or the manifest was changed"; fi; done',
    f"[ ! -e {PACK_TOKEN} ] && echo \"NOT TIMESTAMPED: MANIFEST.json\" || "
    f"openssl ts -verify -in {PACK_TOKEN} -data MANIFEST.json -CAfile TSA-CA.pem",
)


class ChronologyError(AuditpackError):
    """A report whose runs the store cannot back."""


# --- building ---------------------------------------------------------------------------------------------------


@dataclass
class ChainFiles:
    """What goes into the pack: (pack path, source file or bytes), and the summary MANIFEST.json keeps."""

    files: list[tuple[str, Path | bytes]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def chain_files(store: EvidenceStore, document: dict[str, Any], meta_transform: Callable[[Any], Any] | None) -> ChainFiles:
    """The manifests from the run before the report's first run to its last, with their tokens and notes.

    A pseudonymised pack (META_TRANSFORM) withholds a manifest that names people: its hash is still the next
    run's `prev`, and its token is checked against that hash.
    """
    listed = {r["seq"]: r["manifest_sha256"] for r in document["evidence_store"]["runs"]}
    refs = {ref.seq: ref for ref in store.manifest_refs()}
    for seq, sha in sorted(listed.items()):
        if seq not in refs or refs[seq].sha256 != sha:
            raise ChronologyError(
                f"the report lists run {seq} (manifest {sha[:12]}…), which the evidence store does not hold; "
                f"was the report made from another store? ('auditpack verify' checks the store)"
            )
    out = ChainFiles()
    first, last = min(listed, default=1), max(listed, default=0)
    before = [s for s in refs if s < first]  # the anchor: the last run the store holds before the report's first
    seqs = before[-1:] + [s for s in range(first, last + 1) if s in refs]
    states: Counter[str] = Counter()
    withheld: list[int] = []
    for seq in seqs:
        ref = refs[seq]
        path = f"{RUNS}{ref.path.name}"
        body = json.loads(ref.path.read_bytes()) if meta_transform is not None else None
        if meta_transform is not None and meta_transform(body) != body:
            reason = {"seq": seq, "sha256": ref.sha256, "reason": "the manifest names people; this pack is pseudonymised"}
            out.files.append((path + WITHHELD_SUFFIX, json.dumps(reason, indent=1, sort_keys=True).encode() + b"\n"))
            withheld.append(seq)
        else:
            out.files.append((path, ref.path))
        for sidecar in (ref.token_path, ref.note_path):
            if sidecar.exists():
                out.files.append((f"{RUNS}{sidecar.name}", sidecar))
        states["timestamped" if ref.token_path.exists() else "not_timestamped"] += 1
    if store.tsa is not None:
        out.files.append((TSA_CERTIFICATE, store.tsa.ca_pem))
    out.summary = {
        "runs": [seqs[0], seqs[-1]] if seqs else None,
        "anchor": seqs[0] if seqs and seqs[0] not in listed else None,
        "timestamped": states["timestamped"],
        "not_timestamped": states["not_timestamped"],
        "withheld": withheld,
        "tsa": {"url": store.tsa.url, "ca_sha256": certificate_fingerprint(store.tsa.roots)} if store.tsa else None,
    }
    return out


# --- checking ---------------------------------------------------------------------------------------------------


@dataclass
class ChronologyCheck:
    problems: list[str] = field(default_factory=list)  # the chain or a token does not hold
    notices: list[str] = field(default_factory=list)  # true, and worth knowing: a run timestamped late, not at all
    summary: str = ""


@dataclass(frozen=True)
class _Run:
    seq: int
    sha: str
    manifest: str  # runs/NNNNNN-<sha>.json, whether carried or withheld
    withheld: bool


def tsa_roots(given: Path | None, read: Callable[[str], bytes | None]) -> tuple[tuple[x509.Certificate, ...] | None, str | None]:
    """The certificates tokens are checked against: the auditor's own (GIVEN), else the pack's copy (said so)."""
    if given is not None:
        return load_tsa_certificates(given), None
    carried = read(TSA_CERTIFICATE)
    if carried is None:
        return None, None
    try:
        roots = tuple(x509.load_pem_x509_certificates(carried))
    except ValueError:
        return None, f"{TSA_CERTIFICATE} in the pack holds no readable certificate; give the TSA's own with --tsa-ca"
    return roots, (
        f"the timestamps were checked against the pack's own copy of the TSA certificate ({TSA_CERTIFICATE}, SHA-256 "
        f"{certificate_fingerprint(roots)}): they prove the times once that is the TSA's published certificate; "
        f"or give it with --tsa-ca"
    )


def _runs_in(names: Iterable[str], check: ChronologyCheck) -> dict[int, _Run]:
    runs: dict[int, _Run] = {}
    for name in sorted(names):
        if not name.startswith(RUNS):
            continue
        base = name.removeprefix(RUNS)
        manifest, sidecar = MANIFEST_NAME.match(base), SIDECAR_NAME.match(base)
        if manifest:
            runs[int(manifest.group(1))] = _Run(int(manifest.group(1)), manifest.group(2), name, False)
        elif sidecar and sidecar.group(3) == WITHHELD_SUFFIX:
            seq = int(sidecar.group(1))
            runs.setdefault(seq, _Run(seq, sidecar.group(2), name.removesuffix(WITHHELD_SUFFIX), True))
        elif not sidecar:
            check.problems.append(f"{name} is not a run manifest, token or note: it does not belong in {RUNS}")
    for name in sorted(names):
        sidecar = SIDECAR_NAME.match(name.removeprefix(RUNS)) if name.startswith(RUNS) else None
        if sidecar and not any(r.manifest == RUNS + f"{sidecar.group(1)}-{sidecar.group(2)}.json" for r in runs.values()):
            check.problems.append(f"{name} belongs to run manifest {sidecar.group(1)}, which is not in the pack")
    return runs


def check_chronology(
    read: Callable[[str], bytes | None],
    names: Iterable[str],
    manifest: dict[str, Any],
    manifest_bytes: bytes,
    document: dict[str, Any] | None,
    roots: tuple[x509.Certificate, ...] | None,
) -> ChronologyCheck:
    """Check the pack's chain of run manifests and every token; READ gives a member's bytes (None: absent)."""
    check = ChronologyCheck()
    if "chronology" not in manifest:
        check.notices.append(
            "this pack carries no run manifests (made by an older auditpack): its chronology cannot be checked offline"
        )
        return check
    names = list(names)
    runs = _runs_in(names, check)
    start = str((manifest.get("period") or {}).get("start") or "")
    bodies = _check_chain(read, runs, start, check)
    if document is not None:
        _check_report_runs(document, runs, check)
    states = _check_tokens(read, runs, bodies, roots, check)
    pack_token = read(PACK_TOKEN)
    if pack_token is None:
        check.notices.append(
            "MANIFEST.json is not timestamped (no TSA was configured, or it did not answer, when the pack was made)"
        )
        pack_state = "not timestamped"
    else:
        verdict = judge_token(pack_token, roots, ended=None, data=manifest_bytes)
        if verdict.problem:
            check.problems.append(f"{PACK_TOKEN}: {verdict.text}")
        pack_state = verdict.text
    seqs = sorted(runs)
    chain = f"runs {seqs[0]}–{seqs[-1]}" if seqs else "no runs"
    told = ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in sorted(states.items())) or "none"
    check.summary = f"chain of {chain}; run timestamps: {told}; pack manifest: {pack_state}"
    return check


def _check_chain(read: Callable[[str], bytes | None], runs: dict[int, _Run], start: str, check: ChronologyCheck) -> dict:
    bodies: dict[int, tuple[dict | None, bytes | None]] = {}
    expected: int | None = None
    prev: str | None = None
    for seq in sorted(runs):
        run = runs[seq]
        if run.withheld:
            if expected is not None and seq != expected:
                check.problems.append(f"{run.manifest}: runs {expected} to {seq - 1} are missing from the chain")
            check.notices.append(f"run {seq} is withheld from this pseudonymised pack (its manifest names people)")
            bodies[seq] = (None, None)
        else:
            data = read(run.manifest)
            if data is None:
                check.problems.append(f"{run.manifest} cannot be read from the pack")
                bodies[seq] = (None, None)
            else:
                first = expected is None
                body, problems = check_link(seq, run.sha, data, expected, prev, check_prev=not first or seq == 1)
                check.problems += [f"{run.manifest}: {p}" for p in problems]
                bodies[seq] = (body, data)
                started = str((body or {}).get("started", ""))
                if first and seq != 1 and body is not None and not started < start:
                    check.problems.append(
                        f"{run.manifest}: the chain starts at run {seq}, which started in the period ({started[:10]}): "
                        f"run {seq - 1} and any run of the period before this one are missing"
                    )
        expected, prev = seq + 1, run.sha
    return bodies


def _check_report_runs(document: dict[str, Any], runs: dict[int, _Run], check: ChronologyCheck) -> None:
    try:
        listed = {int(r["seq"]): str(r["manifest_sha256"]) for r in document["evidence_store"]["runs"]}
        head = document["evidence_store"]["chain_head"]
    except (KeyError, TypeError, ValueError):
        check.problems.append("report/document.json does not list its runs: the chain cannot be matched to the report")
        return
    for seq, sha in sorted(listed.items()):
        if seq not in runs or runs[seq].sha != sha:
            check.problems.append(f"the report lists run {seq} (manifest {sha[:12]}…), which is not in the pack's chain")
    anchor = min(runs, default=None) if min(runs, default=0) not in listed else None
    for seq in sorted(set(runs) - set(listed) - {anchor}):
        check.problems.append(f"run {seq} is in the pack's chain but not among the report's runs")
    last = runs[max(runs)].sha if runs else None
    if head != last:
        check.problems.append(
            f"the report's latest manifest ({str(head)[:12]}…) is not the last of the pack's chain ({str(last)[:12]}…)"
        )


def _check_tokens(
    read: Callable[[str], bytes | None],
    runs: dict[int, _Run],
    bodies: dict,
    roots: tuple[x509.Certificate, ...] | None,
    check: ChronologyCheck,
) -> Counter[str]:
    states: Counter[str] = Counter()
    for seq in sorted(runs):
        run = runs[seq]
        body, data = bodies.get(seq, (None, None))
        note = read_note(read(run.manifest + NOT_TIMESTAMPED_SUFFIX))
        verdict = judge_token(
            read(run.manifest + TOKEN_SUFFIX),
            roots,
            ended=(body or {}).get("ended"),
            note=note,
            data=data,
            digest=None if data is not None else bytes.fromhex(run.sha),
        )
        states[verdict.state] += 1
        if verdict.problem:
            check.problems.append(f"{run.manifest}{TOKEN_SUFFIX}: {verdict.text}")
        elif verdict.state in ("late", "not_timestamped"):
            check.notices.append(f"run {seq}: {verdict.text}")
    if states["unchecked"]:
        check.notices.append(f"{states['unchecked']} timestamp token(s) not checked: give the TSA's certificate with --tsa-ca")
    return states
