"""The day's findings worth an alert, from the evaluation and the run manifests; and which of them are new.

An alert is a finding ICT must act on the same day: a failed or missing backup, definitions too old or no
anti-virus, a firewall rule without a reason, a leaver's account still enabled, a log cleared, a collection that
failed or came back partial. The verdicts are not derived again here: each control is evaluated
(controls/evaluate.py) over a short window ending on the day, and its deviations of the codes below are the alerts.

A finding is known by its key (control, subject, kind and, where one subject can have several, the fact that tells
them apart: a firewall rule, the moment a log was cleared, the night of a backup), never by a value that drifts from
day to day ("12 days old", "13 days old"). A state that lasts (old signatures, an enabled account, a host not
reached) is one finding however long it lasts; each failed backup night is a finding of its own. The keys already sent are kept per channel in a small state file in the store; a key is
dropped once its subject was tested again without it (it went away), so a finding that comes back is sent again.
A subject not tested that day (no evidence) keeps its key: missing evidence is not a repair.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .atomic import write_atomic
from .canonical import iso, utcnow
from .periods import Period
from .store import EvidenceStore

STATE_FILE = "alerts-sent.json"  # in the store's root, beside STORE; verify checks only blobs/, runs/ and tmp/
STATE_FORMAT = "auditpack-alerts/1"
COLLECTION = "collection"  # the pseudo-control of a collection's own findings (the run manifest)
STORE_SUBJECT = "store"  # the subject of "no collection that day"


@dataclass(frozen=True)
class AlertRule:
    """Which deviations of a control are alerts, over how many days ending on the day, and what tells them apart."""

    control: str
    window_days: int
    kinds: dict[str, str]  # message code -> kind of alert
    identity: tuple[str, ...] = ()  # facts that tell two findings of one subject apart
    per_day: bool = False  # an event of its day (a backup night), not a state that lasts: its date is part of the key


# Windows: a backup night is dated the night it ran, read the morning after; the workstations and the firewall are
# judged on the day's collection; a leaver is judged on the last working day, so the window reaches back far
# enough for a blocking that is late; a log clear is dated when it happened, the day before the read at the latest.
RULES = (
    AlertRule(
        "T-BAK-1",
        2,
        {"bak1.failed": "backup_failed", "bak1.not_repaired": "backup_failed", "bak1.missed": "backup_missed"},
        per_day=True,
    ),
    AlertRule(
        "T-AV", 1, {"av.signatures_old": "definitions_old", "av.no_product": "no_antivirus", "av.realtime_off": "realtime_off"}
    ),
    AlertRule("T-FWP", 1, {"fwp.unjustified": "rule_unjustified"}, identity=("rule",)),
    AlertRule("O-LVR", 60, {"lvr.enabled": "leaver_enabled"}),
    AlertRule("T-LOG-2", 2, {"log2.cleared": "log_cleared", "log2.other_log_cleared": "log_cleared"}, identity=("time",)),
)


@dataclass(frozen=True)
class EvidenceCited:
    """An evidence item an alert rests on, as the message names it."""

    item_id: str
    host: str
    kind: str
    collected: str


@dataclass
class Alert:
    control: str
    subject: str
    date: str  # YYYY-MM-DD, the day the finding concerns
    kind: str  # backup_failed, definitions_old, ..., host_failed, no_run
    code: str  # the deviation's message code (catalogue), or the collection's own kind
    facts: dict[str, Any] = field(default_factory=dict)
    evidence: list[EvidenceCited] = field(default_factory=list)
    detail: str = ""  # the identity fact's value, when the rule names one

    @property
    def key(self) -> str:
        return "|".join((self.control, self.subject, self.kind, self.detail))


@dataclass
class DayFindings:
    """The alerts of one day, and the (control, subject) pairs tested that day: a sent key of a tested subject
    that is no longer among the alerts went away."""

    day: date
    alerts: list[Alert]
    tested: set[tuple[str, str]]
    runs: int  # collection runs that started that day


def _window(day: date, days: int) -> Period:
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return Period(end - timedelta(days=days), end)


def _control_alerts(result: Any, rule: AlertRule) -> tuple[list[Alert], set[tuple[str, str]]]:
    from .controls.result import ItemResult

    cited = {ref.item_id: EvidenceCited(ref.item_id, ref.host, ref.kind, ref.collected) for ref in result.evidence}
    alerts = []
    for found in result.deviations:  # what an exception covers is in result.excepted: never alerted
        kind = rule.kinds.get(found.code)
        if kind is None:
            continue
        detail = "|".join([found.date] * rule.per_day + [str(found.facts.get(name, "")) for name in rule.identity])
        evidence = [cited.get(i) or EvidenceCited(i, "", "", "") for i in found.evidence]
        alerts.append(Alert(rule.control, found.subject, found.date, kind, found.code, dict(found.facts), evidence, detail))
    tested = {(rule.control, t.subject) for t in result.tested_items if t.result != ItemResult.NOT_EVIDENCED}
    return alerts, tested


def _latest_per_host(store: EvidenceStore, day: date) -> tuple[int, dict[str, tuple[str, dict[str, Any], str]]]:
    """The day's runs, and per host (or imported source) how the last of them that reached it left it:
    (run id, the host's entry in the manifest, the manifest's file name)."""
    today = _window(day, 1)
    found = store.manifests_started(today.start, today.end)
    latest: dict[str, tuple[str, dict[str, Any], str]] = {}
    for ref, body in found:  # oldest first: a later run of the day decides
        for host, info in body["hosts"].items():
            latest[host] = (body["run_id"], info, ref.path.name)
    return len(found), latest


def collection_alerts(store: EvidenceStore, day: date) -> tuple[list[Alert], set[tuple[str, str]], int]:
    """A host the day's collection did not read whole (its status in the run manifest), or no collection at all."""
    runs, latest = _latest_per_host(store, day)
    if runs == 0:
        return [Alert(COLLECTION, STORE_SUBJECT, day.isoformat(), "no_run", "no_run")], set(), 0
    alerts = []
    for host, (run_id, info, manifest) in sorted(latest.items()):
        if info.get("status", "ok") == "ok":
            continue
        facts = {"status": info.get("status"), "errors": list(info.get("errors") or []), "run_id": run_id, "manifest": manifest}
        alerts.append(Alert(COLLECTION, host, day.isoformat(), "host_failed", "host_failed", facts))
    tested = {(COLLECTION, host) for host in latest} | {(COLLECTION, STORE_SUBJECT)}
    return alerts, tested, runs


def day_findings(
    store: EvidenceStore,
    day: date,
    profile: Any = None,
    exceptions: Sequence[Any] = (),
    rules: Sequence[AlertRule] = RULES,
) -> DayFindings:
    """Every alert of DAY: the controls' deviations over their windows, then the collection's own."""
    from .controls.evaluate import evaluate_controls
    from .controls.model import load_catalogue
    from .controls.profiles import DEFAULT_PROFILE

    catalogue = load_catalogue()
    alerts, tested = [], set()
    for rule in rules:
        window = _window(day, rule.window_days)
        [result] = evaluate_controls(
            store,
            window,
            catalogue,
            profile or DEFAULT_PROFILE,
            exceptions,
            control_ids=[rule.control],
            today=day,
            collected_before=window.end,  # what was known by the end of the day, also when a past day is asked for
        )
        found, seen = _control_alerts(result, rule)
        alerts += found
        tested |= seen
    found, seen, runs = collection_alerts(store, day)
    return DayFindings(day, alerts + found, tested | seen, runs)


# --- what was sent ---------------------------------------------------------------------------------------------------


class SentState:
    """The keys already sent, per channel: its masked URL and a salted digest of the whole URL, so two URLs that
    mask alike (two webhooks of one host) stay apart while the state never holds a secret."""

    def __init__(self, store: EvidenceStore):
        self.store = store
        self.path = store.root / STATE_FILE
        body = json.loads(self.path.read_bytes()) if self.path.exists() else {}
        self.salt: str = body.get("salt") or secrets.token_hex(16)
        self.channels: dict[str, dict[str, dict[str, Any]]] = body.get("channels", {})

    def channel(self, url: str, masked: str) -> str:
        digest = hashlib.sha256(f"{self.salt}\n{url}".encode()).hexdigest()[:12]
        return f"{masked} #{digest}"

    def new_for(self, channel: str, findings: DayFindings) -> list[Alert]:
        sent = self.channels.get(channel, {})
        return [a for a in findings.alerts if a.key not in sent]

    def record(self, channel: str, findings: DayFindings, sent: list[Alert]) -> None:
        """After CHANNEL received SENT: keep what is still found or could not be tested again, add what was sent."""
        current = {a.key for a in findings.alerts}
        kept = {
            key: entry
            for key, entry in self.channels.get(channel, {}).items()
            if key in current or (entry["control"], entry["subject"]) not in findings.tested
        }
        for alert in sent:
            kept[alert.key] = {
                "control": alert.control,
                "subject": alert.subject,
                "kind": alert.kind,
                "detail": alert.detail,
                "date": alert.date,
                "sent": iso(utcnow()),
            }
        self.channels[channel] = kept

    def save(self) -> None:
        body = {"format": STATE_FORMAT, "salt": self.salt, "channels": self.channels}
        data = json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"
        write_atomic(self.path, data, mode=0o600, temp_dir=self.store.root / "tmp")
