"""Parsers for the Windows probes' output. Inputs are hand-built in the formats the notes record
(base64 of UTF-8 JSON as the probes print it; auditpol /backup CSV), not captures from a host."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditpack.collectors.parsers import windows as parse
from auditpack.collectors.parsers.auditpol import parse_auditpol_csv


def printed(obj) -> bytes:
    """What a probe prints: base64 of UTF-8 JSON, with the CRLF PowerShell adds."""
    return base64.b64encode(json.dumps(obj, ensure_ascii=False).encode("utf-8")) + b"\r\n"


def test_firewall_profiles_from_active_store_enums():
    out = printed(
        {
            "profiles": [
                {"name": "Domain", "enabled": 1, "inbound": 4, "outbound": 2, "log_allowed": 0, "log_blocked": 1},
                {"name": "Private", "enabled": 1, "inbound": 4, "outbound": 2},
                {"name": "Public", "enabled": 0, "inbound": 2, "outbound": 2},
            ],
            "third_party": "Trellix Firewall",
        }
    )  # one element: ConvertTo-Json makes it a bare value
    profiles = parse.firewall_profiles(out)
    assert profiles["profiles"]["domain"] == {
        "enabled": True,
        "default_inbound": "block",
        "default_outbound": "allow",
        "log_allowed": False,
        "log_blocked": True,
    }
    assert profiles["profiles"]["public"]["enabled"] is False and profiles["profiles"]["public"]["default_inbound"] == "allow"
    assert profiles["third_party"] == ["Trellix Firewall"]


def test_security_log_modes():
    log = parse.security_log(
        printed(
            {
                "max_size_bytes": 4294967296,
                "log_mode": 1,
                "record_count": 1234567,
                "oldest_record": "2025-08-01T10:00:00.0000000Z",
            }
        )
    )
    assert log == {
        "max_size_bytes": 4294967296,
        "retention": "archive",
        "oldest_record": "2025-08-01T10:00:00.0000000Z",
        "record_count": 1234567,
    }


def test_security_events_with_dutch_account_names():
    daily, disabled = parse.security_events(
        printed(
            {
                "covered_from": "2026-01-01T00:00:00Z",
                "covered_to": "2026-11-23T08:00:00Z",
                "days": {"2026-03-02": {"4624": 512, "4634": 498}, "2026-03-03": {"4624": 7, "1102": 1}},
                "notable": {"event_id": 1102, "time": "2026-03-03T22:10:00Z", "by": "KCDEMO\\beheerder"},
                "disabled": [
                    {"account": "j.van.dijk", "domain": "KCDEMO", "time": "2026-10-02T07:01:00Z", "by": "KCDEMO\\hr-beheer"}
                ],
            }
        )
    )
    assert daily["days"]["2026-03-02"] == {"4624": 512, "4634": 498}
    assert daily["notable"] == [{"event_id": 1102, "time": "2026-03-03T22:10:00Z", "by": "KCDEMO\\beheerder"}]
    assert disabled == {"events": [{"account": "KCDEMO\\j.van.dijk", "time": "2026-10-02T07:01:00Z", "by": "KCDEMO\\hr-beheer"}]}


@pytest.mark.parametrize(
    "state,enabled,current",
    [(397568, True, True), (393472, False, True), (397584, True, False), (266240, True, True), (262144, False, True)],
)
def test_product_state_heuristic(state, enabled, current):
    decoded = parse.decode_product_state(state)
    assert (decoded["enabled"], decoded["up_to_date"]) == (enabled, current) and "heuristic" in decoded["decoding"]


def test_defender_status_wins_and_mcafee_agent_is_read():
    center, status = parse.security_center(
        printed(
            {
                "antivirus": [{"name": "Windows Defender", "state": 397568, "timestamp": "Mon, 23 Nov 2026 07:00:00 GMT"}],
                "defender": {
                    "enabled": True,
                    "realtime": True,
                    "engine": "1.1.24090.11",
                    "signature": "2026-11-22T21:04:00.0000000Z",
                },
                "mcafee_agent": "Component: McAfee Agent\nVersion: 5.7.9.182\nLastASCTime: 20261123064512\nEpoServerList: epo01",
            }
        )
    )
    assert status == {
        "product": "Microsoft Defender Antivirus",
        "realtime": True,
        "signature_date": "2026-11-22",
        "engine_version": "1.1.24090.11",
    }
    assert center["mcafee_agent"]["LastASCTime"] == "20261123064512"


def test_no_active_product_is_a_host_without_protection():
    _, status = parse.security_center(printed({"antivirus": [{"name": "Windows Defender", "state": 393472}], "defender": None}))
    assert status == {"product": None, "realtime": False, "signature_date": None, "engine_version": None}


def test_windows_server_backup_jobs():
    assert parse.windows_backup_jobs(printed({"available": False, "jobs": []}), "fs01") is None
    runs = parse.windows_backup_jobs(
        printed(
            {
                "available": True,
                "jobs": [
                    {"type": "Backup", "start": "2026-11-22T21:00:00Z", "end": "2026-11-22T21:40:00Z", "hresult": 0},
                    {"type": "Backup", "start": "2026-11-21T21:00:00Z", "end": "2026-11-21T21:05:00Z", "hresult": -2147024784},
                    {"type": "Recovery", "start": "2026-11-20T10:00:00Z", "end": None, "hresult": 0},
                ],
            }
        ),
        "fs01",
    )
    assert [(r["started"][:10], r["result"]) for r in runs["runs"]] == [("2026-11-22", "success"), ("2026-11-21", "failure")]
    assert runs["runs"][0]["server"] == "fs01" and runs["runs"][0]["target"] == "local"


def test_veeam_task_sessions_become_backup_runs():
    assert parse.veeam_sessions(printed({"available": False, "runs": []})) is None
    runs = parse.veeam_sessions(
        printed(
            {
                "available": True,
                "runs": [
                    {
                        "server": "fs01",
                        "job": "Dagelijks servers",
                        "start": "2026-11-22T21:00:00Z",
                        "end": "2026-11-22T22:10:00Z",
                        "status": "Success",
                    },
                    {
                        "server": "dc01",
                        "job": "Dagelijks servers",
                        "start": "2026-11-22T21:00:00Z",
                        "end": "2026-11-22T22:10:00Z",
                        "status": "Warning",
                    },
                    {
                        "server": "app01",
                        "job": "Dagelijks servers",
                        "start": "2026-11-22T21:00:00Z",
                        "end": None,
                        "status": "Failed",
                    },
                    {
                        "server": "fs01",
                        "job": "Dagelijks servers",
                        "start": "2026-11-23T21:00:00Z",
                        "end": None,
                        "status": "InProgress",
                    },
                ],
            }
        )
    )["runs"]
    assert [(r["server"], r["result"]) for r in runs] == [("fs01", "success"), ("dc01", "warning"), ("app01", "failure")]


BACKUP_CSV = (  # auditpol /backup layout; the German labels show that only the GUID and the number are read
    "Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting,Setting Value\r\n"
    "DC01,System,Anmelden,{0CCE9215-69AE-11D9-BED3-505054503030},Erfolg und Fehler,,3\r\n"
    "DC01,System,Abmelden,{0CCE9216-69AE-11D9-BED3-505054503030},Erfolg,,1\r\n"
    "DC01,System,Dateisystem,{0CCE921D-69AE-11D9-BED3-505054503030},Keine Überwachung,,0\r\n"
)


def test_auditpol_backup_csv_is_read_by_guid_and_number():
    policy = parse_auditpol_csv(BACKUP_CSV.encode("utf-8"))["subcategories"]
    assert policy["0cce9215-69ae-11d9-bed3-505054503030"] == {"name": "Anmelden", "success": True, "failure": True}
    assert policy["0cce9216-69ae-11d9-bed3-505054503030"]["failure"] is False
    assert policy["0cce921d-69ae-11d9-bed3-505054503030"]["success"] is False
    localized_without_number = BACKUP_CSV.replace(",3\r\n", "\r\n").replace(",1\r\n", "\r\n").replace(",0\r\n", "\r\n")
    # without the number, the /r wording is read in the languages of the table (German is one of them) ...
    assert parse_auditpol_csv(localized_without_number.encode("utf-8"))["subcategories"] == policy
    # ... and wording in any other language is refused, never guessed (Swedish)
    swedish = localized_without_number.replace("Erfolg und Fehler", "Lyckade och misslyckade")
    with pytest.raises(ValueError, match="numeric /backup column"):
        parse_auditpol_csv(swedish.encode("utf-8"))


@pytest.mark.parametrize(
    "out",
    [
        b"",
        b"not base64!!",
        base64.b64encode(b"\xff\xfe"),
        base64.b64encode(b"[1, 2]"),
        printed({"profiles": [{"name": "Domain"}]}),
        printed("text"),
    ],
)
def test_garbled_probe_output_raises_value_error(out):
    with pytest.raises((ValueError, KeyError, TypeError)):
        parse.firewall_profiles(out)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_decoding_arbitrary_output_only_raises_value_error(data):
    try:
        parse.decode_json(data)
    except ValueError:
        pass
