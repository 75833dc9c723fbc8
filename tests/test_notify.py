"""`auditpack notify`: the day's new findings sent once, through a real SMTP server (aiosmtpd) and a real HTTP
receiver of apprise's json:// POST, both on loopback (127.0.16.25 and 127.0.16.80, used by nothing else).

The store is written night by night through the store's own writer, as a collection would: one run a day at
06:00 UTC with fs01's backup listing, ws-017's anti-virus status, fw01's rule set, dc01's Security log counts and
accounts; each test says what goes wrong on which night.
"""

from __future__ import annotations

import email
import json
import os
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from language_scan import LANGS, language_texts, words

from auditpack.alert_message import WORDS, compose
from auditpack.alerts import STATE_FILE, day_findings
from auditpack.delivery import mask_url
from auditpack.evidence import Observation
from auditpack.reports.i18n import GLOSSARY
from auditpack.store import EvidenceStore
from auditpack_lab.peers.http_server import serving
from auditpack_lab.peers.sockets import refused_port
from conftest import auditpack_bin

SMTP_ADDRESS = "127.0.16.25"
HTTP_ADDRESS = "127.0.16.80"
FIRST = date(2026, 11, 30)  # a Monday
SECRET = "s3cr3t-Pa55"


# --- the peers ------------------------------------------------------------------------------------------------------


class Mailbox:
    """What the SMTP server received: each message as parsed from its bytes, with its envelope."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage, bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook: one call per message
        raw = envelope.original_content or envelope.content
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(raw, policy=policy.default), raw))
        return "250 OK"


def _free_port(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, str]]:
    box = Mailbox()
    port = _free_port(SMTP_ADDRESS)
    controller = Controller(box, hostname=SMTP_ADDRESS, port=port)
    controller.start()
    try:
        yield box, f"mailto://{SMTP_ADDRESS}:{port}?from=auditpack@example.nl&to=ict@example.nl&name=auditpack"
    finally:
        controller.stop()


class Receiver(BaseHTTPRequestHandler):
    posts: list[dict]
    answer = 200

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append({"path": self.path, "json": json.loads(body)})
        self.send_response(self.server.answer)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[ThreadingHTTPServer, str]]:
    server = ThreadingHTTPServer((HTTP_ADDRESS, 0), Receiver)
    server.posts, server.answer = [], 200
    with serving(server):
        yield server, f"json://{HTTP_ADDRESS}:{server.server_port}/hooks/{SECRET}"


# --- the store, night by night --------------------------------------------------------------------------------------


@dataclass
class Nights:
    """What goes wrong when: failed backup nights, days with old signatures, unjustified rules, a log clear..."""

    failed_backups: set[date] = field(default_factory=set)
    missed_backups: set[date] = field(default_factory=set)  # nights the listing shows no run of
    no_antivirus: set[date] = field(default_factory=set)  # days ws-017 reports no anti-virus product
    old_signatures: set[date] = field(default_factory=set)
    unreachable: dict[date, str] = field(default_factory=dict)  # day -> host not reached that day
    extra_rules: dict[date, list[str]] = field(default_factory=dict)  # day -> services allowed without a reason
    cleared: dict[date, str] = field(default_factory=dict)  # day -> moment dc01's Security log was cleared
    leaver_enabled: set[date] = field(default_factory=set)  # days the leaver's account is still enabled in AD


def _at(day: date, hour: int = 6) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _obs(kind: str, day: date, normalized: dict, command: str = "test") -> Observation:
    return Observation(kind, command, json.dumps(normalized).encode(), _at(day), _at(day), normalized=normalized)


def _rule(rid: str, service: str) -> dict:
    return {
        "id": rid,
        "interface": "eth1->eth0",
        "direction": "out",
        "source": "10.0.0.0/16",
        "destination": "any",
        "service": service,
        "action": "allow",
        "enabled": True,
        "description": service,
    }


def registers(store: EvidenceStore) -> None:
    run = store.begin_run("tester")
    run.started = _at(FIRST - timedelta(days=30), 5)
    egress = {"entries": [{"device": "fw01", "rule": None, "service": "tcp/443", "port": None, "reason": "CRM"}]}
    run.add("registers", "import", _obs("register.egress", FIRST, egress))
    leavers = [{"name": "Jan de Vries", "account": "KCDEMO\\jdevries", "last_working_day": "2026-11-20", "row": 2}]
    run.add(
        "registers", "import", _obs("register.hr_leavers", FIRST, {"register": "hr_leavers", "file": "hr.csv", "rows": leavers})
    )
    run.close_source("registers", "ok", [], connection="file")
    run.commit()


def night(store: EvidenceStore, day: date, plan: Nights) -> None:
    """The collection of DAY at 06:00 UTC; the backup listing shows the last three nights (01:00 each)."""
    run = store.begin_run("tester")
    run.started = _at(day)
    down = plan.unreachable.get(day)
    listing = [
        {
            "server": "fs01",
            "job": "nightly",
            "target": "local",
            "started": f"{n}T01:00:00Z",
            "ended": f"{n}T01:40:00Z",
            "result": "failure" if n in plan.failed_backups else "success",
        }
        for n in (day - timedelta(days=back) for back in (2, 1, 0))
        if n not in plan.missed_backups
    ]
    run.add("fs01", "ssh", _obs("backup.runs", day, {"runs": listing}, "borg list --json /backup"))
    run.close_source("fs01", "ok", [], roles=["file_server", "server"], connection="ssh")
    if down == "ws-017":
        run.close_source("ws-017", "unreachable", ["ws-017: connection refused (port 5985)"], roles=["workstation"])
    else:
        signatures = day - timedelta(days=30 if day in plan.old_signatures else 1)
        status = {"product": "Microsoft Defender Antivirus", "realtime": True, "signature_date": signatures.isoformat()}
        if day in plan.no_antivirus:
            status = {"product": None, "realtime": False, "signature_date": None}
        run.add("ws-017", "winrm", _obs("av.host_status", day, status, "Get-MpComputerStatus"))
        run.close_source("ws-017", "ok", [], roles=["workstation"], connection="winrm")
    rules = [_rule("1", "tcp/443")] + [_rule(str(n + 2), s) for n, s in enumerate(plan.extra_rules.get(day, []))]
    ruleset = {"device": "fw01", "default_inbound": "drop", "default_outbound": "drop", "rules": rules}
    run.add("fw01", "ssh", _obs("firewall.ruleset", day, {**ruleset, "any_to_any": [], "unjustified": []}, "nft -j list ruleset"))
    run.close_source("fw01", "ok", [], roles=["firewall"], connection="ssh")
    counts = {(day - timedelta(days=b)).isoformat(): {"4624": 50, "4634": 40} for b in (3, 2, 1)}
    notable = [{"event_id": 1102, "time": plan.cleared[day], "by": "KCDEMO\\admin"}] if day in plan.cleared else []
    events = {"covered_from": f"{day - timedelta(days=3)}T00:00:00Z", "covered_to": f"{day}T06:00:00Z", "days": counts}
    run.add("dc01", "winrm", _obs("windows.security_events_daily", day, {**events, "notable": notable}))
    enabled = day in plan.leaver_enabled
    users = [{"account": "jdevries", "name": "Jan de Vries", "enabled": enabled, "last_logon": "2026-11-19T08:00:00Z"}]
    run.add("dc01", "ldap", _obs("ad.users", day, {"users": users}))
    disabled = [] if enabled else [{"account": "KCDEMO\\jdevries", "time": "2026-11-20T16:00:00Z", "by": "KCDEMO\\hr"}]
    run.add("dc01", "winrm", _obs("ad.account_disabled_events", day, {"events": disabled}))
    run.close_source("dc01", "ok", [], roles=["domain_controller"], connection="winrm")
    run.commit()


def build(root: Path, plan: Nights, days: int) -> Path:
    store = EvidenceStore(root / "evidence")
    registers(store)
    for n in range(days):
        night(store, FIRST + timedelta(days=n), plan)
    return root / "evidence"


def notify(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("AUDITPACK_NOTIFY_URLS", "AUDITPACK_STORE")}
    environment.update(env or {})
    return subprocess.run(
        [auditpack_bin(), "notify", *args], cwd=root, env=environment, capture_output=True, text=True, timeout=300
    )


def day(n: int) -> str:
    return (FIRST + timedelta(days=n)).isoformat()


# --- the tests ------------------------------------------------------------------------------------------------------


def test_a_failed_backup_is_mailed_once_in_dutch_with_its_evidence(tmp_path, smtp):
    box, url = smtp
    failed = FIRST + timedelta(days=2)
    store = build(tmp_path, Nights(failed_backups={failed}), days=4)
    first = notify(tmp_path, "run", "--date", day(2), "--url", url, "--store", str(store))
    assert first.returncode == 1, first.stderr
    [(rcpt, message, _raw)] = box.messages
    assert rcpt == ["ict@example.nl"]
    assert message["Subject"] == f"auditpack: 1 nieuwe bevinding op {day(2)}"
    body = message.get_content()
    assert f"* Back-up mislukt: fs01, {failed}" in body
    assert "geen geslaagde back-up die nacht: de runs zijn mislukt (job nightly)" in body
    assert "Maatregel: T-BAK-1" in body
    assert f"(backup.runs, fs01, verzameld {day(2)} 06:00 UTC)" in body  # the evidence item it rests on
    assert "failed" not in body and "Backup" not in body  # wholly Dutch
    # the next night the failure is still in the window: nothing new, nothing sent
    second = notify(tmp_path, "run", "--date", day(3), "--url", url, "--store", str(store))
    assert second.returncode == 0, second.stdout + second.stderr
    assert len(box.messages) == 1
    assert "Geen nieuwe bevindingen" in second.stdout


def test_the_json_webhook_gets_english_and_the_url_is_never_printed_whole(tmp_path, webhook):
    server, url = webhook
    store = build(tmp_path, Nights(old_signatures={FIRST + timedelta(days=1)}), days=2)
    done = notify(tmp_path, "run", "--date", day(1), "--lang", "en", "--url", url, "--store", str(store))
    assert done.returncode == 1, done.stderr
    [post] = server.posts
    assert post["path"] == f"/hooks/{SECRET}"
    assert post["json"]["title"] == f"auditpack: 1 new finding on {day(1)}"
    message = post["json"]["message"]
    assert f"* Anti-virus signatures too old: ws-017, {day(1)}" in message
    assert "signatures of" in message and "30 days old (at most 7)" in message
    assert "Control: T-AV" in message and "(av.host_status, ws-017, collected " in message
    assert "bevinding" not in message and "Maatregel" not in message  # wholly English
    assert SECRET not in done.stdout + done.stderr
    state = (store / STATE_FILE).read_text()
    assert SECRET not in state and [c.split(" #")[0] for c in json.loads(state)["channels"]] == [mask_url(url)]
    assert oct((store / STATE_FILE).stat().st_mode & 0o777) == "0o600"


def test_a_finding_that_went_away_and_came_back_is_sent_again(tmp_path, webhook):
    server, url = webhook
    old = {FIRST, FIRST + timedelta(days=2)}  # old on day 0, current on day 1, old again on day 2
    store = build(tmp_path, Nights(old_signatures=old), days=3)
    codes = [notify(tmp_path, "run", "--date", day(n), "--url", url, "--store", str(store)).returncode for n in (0, 0, 1, 2)]
    assert codes == [1, 0, 0, 1]
    assert [p["json"]["title"] for p in server.posts] == [
        f"auditpack: 1 nieuwe bevinding op {day(0)}",
        f"auditpack: 1 nieuwe bevinding op {day(2)}",
    ]


def test_each_failed_backup_night_is_a_finding_of_its_own(tmp_path, webhook):
    server, url = webhook
    # fs01 fails on night 1, succeeds on night 2, fails again on night 3: the window of two nights overlaps, yet
    # the second failure is a new one
    store = build(tmp_path, Nights(failed_backups={FIRST + timedelta(days=1), FIRST + timedelta(days=3)}), days=4)
    codes = [notify(tmp_path, "run", "--date", day(n), "--url", url, "--store", str(store)).returncode for n in (1, 2, 3)]
    assert codes == [1, 0, 1]
    assert [f"Back-up mislukt: fs01, {day(n)}" in p["json"]["message"] for p, n in zip(server.posts, (1, 3), strict=True)] == [
        True,
        True,
    ]


def test_a_subject_without_evidence_keeps_its_finding_it_is_not_repaired(tmp_path, webhook):
    server, url = webhook
    # old signatures on day 0, ws-017 not reached on day 1 (not evidenced: no repair), still old on day 2
    plan = Nights(old_signatures={FIRST, FIRST + timedelta(days=2)}, unreachable={FIRST + timedelta(days=1): "ws-017"})
    store = build(tmp_path, plan, days=3)
    codes = [notify(tmp_path, "run", "--date", day(n), "--url", url, "--store", str(store)).returncode for n in (0, 1, 2)]
    assert codes == [1, 1, 0]  # day 1 sends the unreachable host, day 2 nothing new
    titles = [p["json"]["message"] for p in server.posts]
    assert "Verzameling mislukt of gedeeltelijk: ws-017" in titles[1]
    assert "status: onbereikbaar): ws-017: connection refused (port 5985)" in titles[1]
    assert "Virusdefinities te oud" not in titles[1]


def test_a_partial_run_a_cleared_log_an_unjustified_rule_and_an_enabled_leaver_alert(tmp_path, webhook):
    server, url = webhook
    d = FIRST + timedelta(days=1)
    plan = Nights(
        unreachable={d: "ws-017"},
        extra_rules={d: ["tcp/25"]},
        cleared={d: f"{FIRST}T22:10:00Z"},
        leaver_enabled={d},
    )
    store = build(tmp_path, plan, days=2)
    done = notify(tmp_path, "run", "--date", day(1), "--lang", "en", "--url", url, "--store", str(store))
    assert done.returncode == 1, done.stderr
    [post] = server.posts
    message = post["json"]["message"]
    assert post["json"]["title"] == f"auditpack: 4 new findings on {day(1)}"
    assert f"* Collection failed or partial: ws-017, {day(1)}" in message
    assert "collection run " in message and "manifest 0000" in message  # the run manifest it rests on
    assert f"* Log cleared: dc01, {FIRST}" in message and "Security log cleared (1102) at" in message
    assert f"* Firewall rule without a reason: fw01, {day(1)}" in message and "rule 2 (" in message
    assert "* A leaver's account is still enabled: KCDEMO\\jdevries, 2026-11-20" in message
    assert "account still enabled 11 days after the last working day (2026-11-20)" in message


def test_a_delivery_failure_exits_2_masked_and_is_retried_next_run(tmp_path, webhook):
    server, url = webhook
    store = build(tmp_path, Nights(failed_backups={FIRST}), days=1)
    down = f"json://user:{SECRET}@{HTTP_ADDRESS}:{refused_port(HTTP_ADDRESS)}/hooks/{SECRET}"
    failed = notify(tmp_path, "run", "--date", day(0), "--url", down, "--store", str(store))
    assert failed.returncode == 2
    assert "not delivered" in failed.stderr and mask_url(down) in failed.stderr
    assert SECRET not in failed.stdout + failed.stderr
    assert "Traceback" not in failed.stderr
    server.answer = 500  # the receiver answers, but refuses
    refused = notify(tmp_path, "run", "--date", day(0), "--url", url, "--store", str(store))
    assert refused.returncode == 2 and len(server.posts) == 1
    server.answer = 200
    retried = notify(tmp_path, "run", "--date", day(0), "--url", url, "--store", str(store))
    assert retried.returncode == 1, retried.stderr
    assert len(server.posts) == 2 and "Back-up mislukt: fs01" in server.posts[1]["json"]["message"]


def test_two_webhooks_of_one_host_are_two_channels(tmp_path, webhook):
    server, url = webhook
    store = build(tmp_path, Nights(failed_backups={FIRST}), days=1)
    other = url.replace(SECRET, "another-token")
    assert mask_url(other) == mask_url(url)  # the path is hidden: alike when printed
    for hook in (url, other):
        assert notify(tmp_path, "run", "--date", day(0), "--url", hook, "--store", str(store)).returncode == 1
    assert [p["path"] for p in server.posts] == [f"/hooks/{SECRET}", "/hooks/another-token"]


def test_a_channel_that_received_them_is_not_sent_them_again_while_another_fails(tmp_path, webhook):
    server, url = webhook
    store = build(tmp_path, Nights(failed_backups={FIRST}), days=1)
    down = f"json://{HTTP_ADDRESS}:{refused_port(HTTP_ADDRESS)}/hooks/{SECRET}"
    for _ in range(2):
        done = notify(tmp_path, "run", "--date", day(0), "--url", url, "--url", down, "--store", str(store))
        assert done.returncode == 2 and mask_url(down) in done.stderr
    assert len(server.posts) == 1  # the working channel got them once; the failing one is retried each run


def test_each_url_gets_its_findings_once_from_the_environment(tmp_path, smtp, webhook):
    box, mail = smtp
    server, hook = webhook
    store = build(tmp_path, Nights(failed_backups={FIRST}), days=1)
    env = {"AUDITPACK_NOTIFY_URLS": f"{mail}\n{hook}", "AUDITPACK_STORE": str(store)}
    assert notify(tmp_path, "run", "--date", day(0), env=env).returncode == 1
    assert notify(tmp_path, "run", "--date", day(0), env=env).returncode == 0
    assert len(box.messages) == 1 and len(server.posts) == 1


def test_nothing_new_sends_nothing_and_a_dry_run_records_nothing(tmp_path, webhook):
    server, url = webhook
    store = build(tmp_path, Nights(failed_backups={FIRST + timedelta(days=2)}), days=3)
    quiet = notify(tmp_path, "run", "--date", day(1), "--url", url, "--store", str(store))
    assert quiet.returncode == 0 and server.posts == []
    dry = notify(tmp_path, "run", "--date", day(2), "--url", url, "--store", str(store), "--dry-run")
    assert dry.returncode == 1 and server.posts == [] and "Back-up mislukt: fs01" in dry.stdout
    assert notify(tmp_path, "run", "--date", day(2), "--url", url, "--store", str(store)).returncode == 1
    assert len(server.posts) == 1


def test_a_day_without_a_collection_is_a_finding(tmp_path, webhook):
    server, url = webhook
    store = build(tmp_path, Nights(), days=1)
    done = notify(tmp_path, "run", "--date", day(3), "--url", url, "--store", str(store), "--lang", "en")
    assert done.returncode == 1
    assert f"* No collection run: store, {day(3)}" in server.posts[0]["json"]["message"]


def test_the_state_file_is_no_damage_to_verify(tmp_path, webhook):
    _server, url = webhook
    store = build(tmp_path, Nights(failed_backups={FIRST}), days=1)
    assert notify(tmp_path, "run", "--date", day(0), "--url", url, "--store", str(store)).returncode == 1
    assert (store / STATE_FILE).exists()
    verify = subprocess.run([auditpack_bin(), "verify", "--store", str(store)], capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout
    assert "Evidence store intact" in verify.stdout and "ERROR" not in verify.stdout


def test_notify_test_delivers_and_says_why_not(tmp_path, smtp):
    box, url = smtp
    done = notify(tmp_path, "test", "--url", url, "--lang", "en")
    assert done.returncode == 0, done.stderr
    [(_rcpt, message, _raw)] = box.messages
    assert message["Subject"] == "auditpack: test message"
    down = f"mailtos://alerts:{SECRET}@{SMTP_ADDRESS}:{refused_port(SMTP_ADDRESS)}?to=ict@example.nl"
    failed = notify(tmp_path, "test", "--url", down)
    assert failed.returncode == 2
    assert "Test message not delivered" in failed.stderr and f"alerts:****@{SMTP_ADDRESS}" in failed.stderr
    assert "Connection refused" in failed.stderr  # apprise's reason, the socket's error under its warning
    assert SECRET not in failed.stdout + failed.stderr
    unknown = notify(tmp_path, "test", "--url", f"nosuchscheme://{SECRET}@host")
    assert unknown.returncode == 2 and "not a URL apprise can send to" in unknown.stderr and SECRET not in unknown.stderr


def test_no_url_is_unusable_input(tmp_path):
    store = build(tmp_path, Nights(), days=1)
    done = notify(tmp_path, "run", "--store", str(store))
    assert done.returncode == 2 and "AUDITPACK_NOTIFY_URLS" in done.stderr


def test_what_an_exception_covers_is_not_sent(tmp_path):
    from auditpack.controls.exceptions import ExceptionEntry

    d = FIRST + timedelta(days=1)
    store = EvidenceStore(build(tmp_path, Nights(failed_backups={d}, old_signatures={d}), days=2))
    assert {a.kind for a in day_findings(store, d).alerts} == {"backup_failed", "definitions_old"}
    covered = ExceptionEntry(
        control="T-AV",
        scope="ws-017",
        justification="replaced this week",
        owner="ICT",
        approver="Director",
        expires=date(2027, 3, 31),
    )
    assert {a.kind for a in day_findings(store, d, exceptions=[covered]).alerts} == {"backup_failed"}


def test_every_kind_of_finding_is_said_wholly_in_one_language(tmp_path):
    """Each kind of alert, rendered in Dutch and in English, carries no word only the other language uses (the
    catalogue's, the report's and the alert's own vocabulary) and no variant of a glossary term."""
    d = FIRST + timedelta(days=2)
    plan = Nights(
        failed_backups={d},
        missed_backups={d - timedelta(days=1)},
        no_antivirus={d},
        extra_rules={d: ["tcp/25"]},
        cleared={d: f"{d}T03:10:00Z"},
        leaver_enabled={d},
    )
    store = EvidenceStore(build(tmp_path, plan, days=3))
    found = day_findings(store, d)
    kinds = {a.kind for a in found.alerts}
    assert kinds == {"backup_failed", "backup_missed", "no_antivirus", "rule_unjustified", "log_cleared", "leaver_enabled"}
    found.alerts += day_findings(store, d + timedelta(days=5)).alerts  # no collection that day
    used = {
        lang: set().union(*(words(t) for t in language_texts(lang)), *(words(w) for w in WORDS[lang].values())) for lang in LANGS
    }
    # what the message quotes: subjects, control and item ids, evidence kinds, the backup job and the rule's own syntax
    evidence = {a.subject for a in found.alerts} | {a.control for a in found.alerts} | {"nightly", "allow 10.0.0.0/16 -> any"}
    evidence |= {part for a in found.alerts for e in a.evidence for part in (e.kind, e.item_id)}
    for lang in LANGS:
        other = set().union(*(used[o] for o in LANGS if o != lang)) - used[lang]
        title, body = compose(found.alerts, d.isoformat(), lang)
        text = "\n".join([title, body])
        for quoted in sorted(evidence, key=len, reverse=True):
            text = text.replace(quoted, " ")
        assert words(text) & other == set(), lang
        variants = [v.lower() for terms in GLOSSARY.values() for v in terms[lang][1:]]
        assert [v for v in variants if v in text.lower()] == [], lang
    assert "* Back-up ontbreekt: fs01" in compose(found.alerts, d.isoformat(), "nl")[1]
    assert "* No anti-virus: ws-017" in compose(found.alerts, d.isoformat(), "en")[1]


@pytest.mark.parametrize(
    ("url", "shown", "hidden"),
    [
        (f"mailtos://alerts:{SECRET}@smtp.example.org:587?to=ict@example.org", "mailtos://alerts:****@smtp.example.org", SECRET),
        (f"json://hooks.example.org/hooks/{SECRET}?-X-Token=abc123456789", "json://hooks.example.org/****", SECRET),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#alerts", "slack://T...2/A...D/T...Q", "TIiajkdnlazkcOXrIdevi7FQ"),
        (f"https://outlook.office.com/webhook/{SECRET}/IncomingWebhook/abc/def", "https://outlook.office.com/****", SECRET),
        (f"nosuchscheme://user:{SECRET}@host/x", "nosuchscheme://user:****@host/****", SECRET),
    ],
)
def test_urls_are_masked(url, shown, hidden):
    masked = mask_url(url)
    assert masked.startswith(shown) and hidden not in masked
