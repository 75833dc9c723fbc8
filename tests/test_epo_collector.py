"""The ePO console collector against a real HTTPS server speaking the Web API's answer format."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from auditpack.collectors.base import CollectContext
from auditpack.collectors.epo import EpoCollector
from auditpack.collectors.guard import CommandGuard
from auditpack.collectors.parsers.epo import parse_epo_systems
from auditpack.inventory import parse_inventory
from auditpack_lab.peers.epo import running_epo

ROWS = [  # hand-built in the shape ePO's :output=json uses; not a capture
    {
        "EPOLeafNode.NodeName": "WS-001",
        "EPOLeafNode.LastUpdate": "2026-11-20T09:12:03+01:00",
        "EPOProdPropsView_VIRUSCAN.datdate": "2026-11-19",
    },
    {
        "EPOLeafNode.NodeName": "ws-002",
        "EPOLeafNode.LastUpdate": "2026-10-01T08:00:00+02:00",
        "EPOProdPropsView_VIRUSCAN.datdate": None,
    },
]


def epo_host(url: str, extra: str = "") -> object:
    text = (
        f"all:\n  hosts:\n    epo01:\n      ansible_host: 127.0.0.51\n      ansible_connection: winrm\n"
        f"      ansible_user: svc-epo-read\n      auditpack_password: env:AUDITPACK_TEST_EPO_PW\n"
        f"      auditpack_epo_url: {url}\n{extra}"
    )
    return parse_inventory(text.encode()).hosts[0]


def collect_both(host, history=None) -> dict:
    return {o.kind: o for o in EpoCollector().collect(host, CollectContext(time.monotonic() + 30, "tester", history=history))}


def collect(host) -> object:
    return collect_both(host)["epo.systems"]


@pytest.fixture
def epo(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDITPACK_TEST_EPO_PW", "Leesrecht-42")
    with running_epo(tmp_path / "pki", "127.0.0.51", "svc-epo-read", "Leesrecht-42", ROWS) as peer:
        yield peer


def test_systems_are_read_over_verified_https(epo):
    obs = collect(epo_host(epo.url, f"      auditpack_tls_ca_file: {epo.pki.ca_file}\n"))
    assert obs.status == "ok", obs.errors
    assert obs.normalized["systems"] == [
        {"name": "WS-001", "last_contact": "2026-11-20T09:12:03+01:00", "content_date": "2026-11-19", "product_enabled": None},
        {"name": "ws-002", "last_contact": "2026-10-01T08:00:00+02:00", "content_date": None, "product_enabled": None},
    ]
    assert obs.raw.startswith(b"OK:")
    [request, detections] = epo.requests
    assert request["path"] == "/remote/core.executeQuery" and request["query"]["target"] == ["EPOLeafNode"]
    assert detections["query"]["target"] == ["EPOEvents"] and "where" not in detections["query"]  # the first read: all
    assert b"Leesrecht-42" not in obs.raw and "Leesrecht-42" not in obs.command


def test_untrusted_certificate_wrong_password_and_plain_http_are_recorded(epo, monkeypatch):
    untrusted = collect(epo_host(epo.url))
    assert untrusted.status == "error" and "TLS" in untrusted.errors[0]
    monkeypatch.setenv("AUDITPACK_TEST_EPO_PW", "fout")
    refused = collect_both(epo_host(epo.url, f"      auditpack_tls_ca_file: {epo.pki.ca_file}\n"))
    assert refused["epo.systems"].status == "error" and "HTTP 401" in refused["epo.systems"].errors[0]
    # a refused password is not tried a second time (it could lock the account): the detections say why
    assert refused["av.detections"].status == "error" and "not tried after" in refused["av.detections"].errors[0]
    assert [r["query"]["target"] for r in epo.requests] == [["EPOLeafNode"]]
    plain = collect(epo_host(epo.url.replace("https://", "http://")))
    assert plain.status == "error" and "must be https" in plain.errors[0]


def test_unreachable_console_is_recorded(monkeypatch):
    from auditpack_lab.peers.sockets import refused_port

    monkeypatch.setenv("AUDITPACK_TEST_EPO_PW", "Leesrecht-42")
    obs = collect(epo_host(f"https://127.0.0.52:{refused_port('127.0.0.52')}"))
    assert obs.status == "unreachable" and "cannot reach" in obs.errors[0]


@pytest.mark.parametrize(
    "answer", [b"Error 0:\r\nInvalid query\r\n", b"OK:\r\n{not json", b"OK:\r\n{}", b'OK:\r\n[{"x": 1}]', b"\xff\xfe"]
)
def test_garbled_answers_are_refused_with_a_reason(answer):
    with pytest.raises((ValueError, UnicodeDecodeError)):
        parse_epo_systems(answer)


def test_answer_is_parsed_as_the_console_sends_it():
    """The pure parser on the answer's own shape: CRLF after "OK:", indented JSON, ePO's datdate with a time."""
    answer = (
        b'OK:\r\n[\r\n  {\r\n    "EPOLeafNode.NodeName": "ws-b",\r\n    "EPOLeafNode.LastUpdate": "2026-11-20T09:12:03+01:00",\r\n'
        b'    "EPOProdPropsView_VIRUSCAN.datdate": "2026-11-19T00:00:00"\r\n  },\r\n'
        b'  {"EPOLeafNode.NodeName": "WS-A", "EPOLeafNode.LastUpdate": null}\r\n]\r\n'
    )
    assert parse_epo_systems(answer) == {
        "systems": [
            {"name": "WS-A", "last_contact": None, "content_date": None, "product_enabled": None},
            {"name": "ws-b", "last_contact": "2026-11-20T09:12:03+01:00", "content_date": "2026-11-19", "product_enabled": None},
        ]
    }
    assert parse_epo_systems(b"OK:\r\n[]") == {"systems": []}  # a console without systems


def _event(host: str, ago: timedelta, threat: str, handled: bool) -> dict:
    detected = (datetime.now(UTC) - ago).replace(microsecond=0)
    return {
        "EPOEvents.TargetHostName": host,
        "EPOEvents.DetectedUTC": detected.isoformat(),
        "EPOEvents.ThreatName": threat,
        "EPOEvents.ThreatActionTaken": "deleted" if handled else "none",
        "EPOEvents.ThreatHandled": handled,
    }


def test_detections_are_read_again_only_since_the_day_before_the_last_read(tmp_path, monkeypatch):
    """The first read asks for every detection; once the store holds one, the next asks only from the day before it."""
    from auditpack.store import EvidenceStore

    monkeypatch.setenv("AUDITPACK_TEST_EPO_PW", "Leesrecht-42")
    events = [
        _event("WS-004", timedelta(days=40), "EICAR test file", True),
        _event("WS-009", timedelta(days=3), "Trojan-FRTA!1C2B", False),
        _event("WS-017", timedelta(hours=2), "JS/Miner.c", True),
    ]
    store = EvidenceStore(tmp_path / "store")
    with running_epo(tmp_path / "pki", "127.0.16.5", "svc-epo-read", "Leesrecht-42", ROWS, events=events) as peer:
        host = epo_host(peer.url, f"      auditpack_tls_ca_file: {peer.pki.ca_file}\n")
        first = collect_both(host, history=store)["av.detections"]
        run = store.begin_run("tester")
        run.add("epo01", "epo", first)
        run.close_host(host, "ok", [])
        run.commit()
        second = collect_both(host, history=store)["av.detections"]
    assert first.status == "ok" and second.status == "ok", (first.errors, second.errors)
    assert [d["host"] for d in first.normalized["detections"]] == ["WS-004", "WS-009", "WS-017"]
    assert "listed_from" not in first.normalized
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    assert second.normalized["listed_from"] == yesterday.isoformat()
    assert second.normalized["detections"] == [
        {
            "host": "WS-017",
            "time": events[2]["EPOEvents.DetectedUTC"],
            "threat": "JS/Miner.c",
            "action": "deleted",
            "resolved": True,
            "resolved_at": None,
        }
    ]
    [where] = peer.requests[-1]["query"]["where"]
    since_ms = int(where.split()[-1].rstrip(")"))
    expected = (datetime.now(UTC) - datetime.combine(yesterday, datetime.min.time(), UTC)).total_seconds() * 1000
    assert abs(since_ms - expected) < 60_000  # from yesterday's midnight, asked as the console's newerThan
    assert [(target, rows) for target, rows, _ in peer.answered if target == "EPOEvents"] == [("EPOEvents", 3), ("EPOEvents", 1)]
    assert all(CommandGuard.for_collector(EpoCollector()).allows(r) for r in _sent(peer))


def _sent(peer) -> list[str]:
    """The requests as the collector declares them, rebuilt from what the console received."""
    sent = []
    for r in peer.requests:
        q = r["query"]
        where = f"&where={q['where'][0]}" if "where" in q else ""
        sent.append(f"GET {peer.url}{r['path']}?target={q['target'][0]}&select={q['select'][0]}{where}&:output=json")
    return sent
