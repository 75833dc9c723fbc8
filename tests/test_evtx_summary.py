"""EVTX exports summarised into evidence shapes, on the real logs in ../shared/corpus and on damaged or foreign input.

The expected numbers per file are those of ../shared/corpus/SOURCES.md ("EVTX: records and Event IDs per
file"); 5140 is only listed there among the "other" IDs, so its zero for the files whose "other" list is cut
at 8 entries was checked against a full parse, as were the group-membership IDs 4728/4732/4756, which the table
does not list (4720 and 4726 are its columns).
"""

from __future__ import annotations

import re
import struct
import tracemalloc
import zlib
from datetime import UTC, datetime
from functools import cache

import pytest
from evtx_reencode import reencode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditpack.collectors.parsers.evtx_summary import COUNTED_EVENTS, EvtxSummary, _Errors, _Record, _Summariser, summarize_evtx
from conftest import CORPUS, corpus_file

SUFFIX = "-69ae-11d9-bed3-505054503030"

SB = "windows_security_evtx/sbousseaden__EVTX-ATTACK-SAMPLES/"
OMER = "windows_security_evtx/omerbenamram__evtx/"
DEFENDER_CHANNEL = "Microsoft-Windows-Windows Defender/Operational"
LOG_CLEARED = SB + "DE_1102_security_log_cleared.evtx"
DC_POLICY = SB + "ACL_ForcePwd_SPNAdd_User_Computer_Accounts.evtx"
LAB_VM = "windows_security_evtx/marvioncriddle__Authentication-Artifact-Analysis/Security.evtx"
ATOMIC_DEFENDER = "antivirus/sbousseaden__EVTX-ATTACK-SAMPLES/WinDefender_Events_1117_1116_AtomicRedTeam.evtx"
HOME_DEFENDER = "antivirus/4renwald__evtx-python/WindowsDefenderOperational.evtx"
LARGEST = OMER + "security.evtx"
SMALL = OMER + "Security_short_selected.evtx"

# file: (records, counts of the counted IDs, hosts, first and last record time to the second, UTC)
SOURCES = {
    SB + "CA_4624_4625_LogonType2_LogonProc_chrome.evtx": (
        4,
        {4624: 3, 4625: 1},
        ["MSEDGEWIN10"],
        "2020-09-09T13:18:23",
        "2020-09-09T13:18:27",
    ),
    LOG_CLEARED: (112, {4663: 110, 1102: 1}, ["PC01.example.corp"], "2019-03-19T23:35:07", "2019-03-19T23:35:15"),
    SB + "DE_Fake_ComputerAccount_4720.evtx": (
        2,
        {4720: 2},
        ["01566s-win16-ir.threebeesco.com"],
        "2020-09-16T09:31:19",
        "2020-09-16T09:32:13",
    ),
    DC_POLICY: (55, {4719: 8, 1102: 1}, ["DC1.insecurebank.local"], "2019-03-25T09:09:14", "2019-03-25T13:01:41"),
    SB + "4624 LT3 AnonymousLogon Localhost - JuicyPotato.evtx": (
        3,
        {4624: 1, 4634: 1, 1102: 1},
        ["alice.insecurebank.local"],
        "2019-11-15T08:19:02",
        "2019-11-15T08:19:17",
    ),
    SB + "CA_chrome_firefox_opera_4663.evtx": (5, {4663: 4, 1102: 1}, ["IEWIN7"], "2019-04-27T19:27:55", "2019-04-27T19:33:50"),
    SB + "NTLM2SelfRelay-med0x2e-security_4624_4688.evtx": (
        11,
        {4624: 4, 4634: 1, 1102: 1},
        ["wind10.winlab.local"],
        "2022-05-01T04:40:18",
        "2022-05-01T04:42:11",
    ),
    LARGEST: (
        2261,
        {4624: 583, 4634: 11, 4647: 36, 4720: 2, 4728: 2, 4732: 6},
        ["37L4247F27-25", "WIN-03DLIIOFRRA"],
        "2016-07-08T18:12:51",
        "2017-04-14T01:21:10",
    ),
    OMER + "Security_with_size_t.evtx": (
        636,
        {4624: 126, 4634: 17, 4647: 1, 4625: 15},
        ["26L2233B1-02", "WIN-L0ZZQ76PMUF"],
        "2015-08-23T10:29:50",
        "2015-09-13T04:18:17",
    ),
    OMER + "post-Security.evtx": (
        126,
        {4624: 25, 4647: 1, 4720: 1, 4728: 1, 4732: 2},
        ["37L4247F27-25", "John-PC"],
        "2017-12-13T14:48:10",
        "2017-12-13T15:12:27",
    ),
    SMALL: (7, {4625: 1}, ["temporal"], "2016-06-29T15:24:34", "2016-06-29T15:25:08"),
    "windows_security_evtx/4renwald__evtx-python/Security.evtx": (
        398,
        {4624: 71, 4634: 20, 4625: 7},
        ["DESKTOP-SFBTEFS"],
        "2021-02-13T05:00:06",
        "2021-02-13T21:19:55",
    ),
    SB + "LM_5145_Remote_FileCopy.evtx": (869, {5145: 869}, ["PC01.example.corp"], "2019-03-18T14:23:22", "2019-03-18T14:24:10"),
    SB + "LM_ScheduledTask_ATSVC_target_host.evtx": (
        34,
        {4624: 6, 5145: 5, 1102: 1, 5140: 4},
        ["WIN-77LTAPHIQ1R.example.corp"],
        "2019-03-19T00:02:00",
        "2019-03-19T00:02:21",
    ),
    "windows_security_evtx/sesellis__ETWTool/Security.evtx": (
        100,
        {4624: 18, 4634: 8, 4647: 2},
        ["MBP"],
        "2017-03-23T05:25:56",
        "2017-03-24T17:45:03",
    ),
    HOME_DEFENDER: (43, {}, ["DESKTOP-SFBTEFS"], "2021-02-13T05:47:51", "2021-02-13T20:47:51"),
    ATOMIC_DEFENDER: (11, {}, ["MSEDGEWIN10"], "2019-07-18T20:40:00", "2019-07-18T20:53:31"),
    "windows_security_evtx/mdecrevoisier__EVTX-to-MITRE-Attack/ID4720-4726 Fast created-deleted user.evtx": (
        2,
        {4720: 1, 4726: 1},
        ["rootdc1.offsec.lan"],
        "2020-07-12T05:10:08",
        "2020-07-12T05:11:26",
    ),
    LAB_VM: (
        1261,
        {4624: 242, 4634: 29, 4647: 1, 4625: 23, 4740: 1, 4725: 1, 1102: 1, 4720: 2, 4728: 2, 4732: 4},
        ["WIN-K2PJV6RA7JR", "df1-vm"],
        "2026-06-07T08:04:44",
        "2026-07-01T03:22:40",
    ),
}
SECURITY_FILES = [name for name in SOURCES if name.startswith("windows_security_evtx/")]


@cache
def summary_of(relative: str) -> EvtxSummary:
    return summarize_evtx(corpus_file(relative))


@cache
def corpus_bytes(relative: str) -> bytes:
    return corpus_file(relative).read_bytes()


def counted(summary: EvtxSummary) -> dict[int, int]:
    """Counts per event ID over all days."""
    totals: dict[int, int] = {}
    for counts in summary.security_daily["days"].values():
        for event_id, n in counts.items():
            totals[int(event_id)] = totals.get(int(event_id), 0) + n
    return totals


def records_in_whole_chunks(data: bytes) -> int:
    """Records held by the complete chunks of a (cut) file, from the chunk headers' first/last record numbers."""
    total = 0
    for offset in range(4096, len(data) - 65536 + 1, 65536):
        if data[offset : offset + 8] == b"ElfChnk\x00":
            first, last = struct.unpack_from("<QQ", data, offset + 8)
            total += last - first + 1
    return total


# --- the real corpus ---------------------------------------------------------------------------------------------


def test_the_table_lists_every_evtx_file_of_the_corpus():
    if not CORPUS.exists():
        pytest.skip(f"shared corpus not available: {CORPUS}")
    present = {
        str(p.relative_to(CORPUS)) for folder in ("windows_security_evtx", "antivirus") for p in (CORPUS / folder).rglob("*.evtx")
    }
    assert present == set(SOURCES)


@pytest.mark.parametrize("relative", SOURCES)
def test_corpus_file_gives_the_numbers_of_sources_md(relative):
    records, counts, hosts, first, last = SOURCES[relative]
    summary = summary_of(relative)
    assert summary.errors == []
    assert summary.records == records
    assert counted(summary) == counts
    assert set(counted(summary)) <= set(COUNTED_EVENTS)
    assert summary.hosts == hosts
    assert (summary.first[:19], summary.last[:19]) == (first, last)
    expected_channel = DEFENDER_CHANNEL if relative.startswith("antivirus/") else "Security"
    assert summary.channels == [expected_channel]


@pytest.mark.parametrize("relative", SECURITY_FILES)
def test_coverage_is_the_oldest_and_newest_record_and_days_are_utc_dates_inside_it(relative):
    summary = summary_of(relative)
    daily = summary.security_daily
    assert (daily["covered_from"], daily["covered_to"]) == (summary.first, summary.last)
    assert daily["covered_from"].endswith("Z")
    start, end = (datetime.fromisoformat(daily[k]) for k in ("covered_from", "covered_to"))
    assert start.tzinfo == UTC
    assert all(start.date().isoformat() <= day <= end.date().isoformat() for day in daily["days"])


def test_largest_file_spreads_its_logons_over_utc_days():
    days = summary_of(LARGEST).security_daily["days"]
    assert len(days) > 1
    assert sum(c.get("4624", 0) for c in days.values()) == 583
    assert list(days) == sorted(days)
    assert all(set(c) <= {str(i) for i in COUNTED_EVENTS} and all(n > 0 for n in c.values()) for c in days.values())


def test_log_cleared_event_gives_time_and_who_cleared_it():
    daily = summary_of(LOG_CLEARED).security_daily
    assert daily["notable"] == [{"event_id": 1102, "time": "2019-03-19T23:35:07.524202Z", "by": "EXAMPLE\\user01"}]
    assert daily["days"] == {"2019-03-19": {"1102": 1, "4663": 110}}


def test_domain_controller_audit_policy_changes_are_notable():
    notable = summary_of(DC_POLICY).security_daily["notable"]
    by_dc = "insecurebank\\DC1$"
    # two subcategories change in the same second each time: each keeps its GUID and how it changed
    assert notable == [
        {"event_id": 1102, "time": "2019-03-25T09:09:14.916619Z", "by": "insecurebank\\bob"},
        *[
            {"event_id": 4719, "time": f"2019-03-25T{t}Z", "by": by_dc, "subcategory_guid": f"{guid}{SUFFIX}", "changes": changes}
            for t, guid, changes in (
                ("10:36:03.974608", "0cce9215", ["success added", "failure added"]),  # Logon
                ("10:36:03.974608", "0cce9244", ["success added"]),  # Detailed File Share
                ("11:14:50.755608", "0cce9235", ["success added"]),  # User Account Management
                ("11:14:50.755608", "0cce923a", ["success added"]),
                ("11:19:22.590620", "0cce9227", ["success added"]),
                ("11:19:22.590620", "0cce9236", ["success added"]),  # Computer Account Management
                ("12:33:59.275613", "0cce923b", ["failure added"]),
                ("12:33:59.275613", "0cce923c", ["failure added"]),
            )
        ],
    ]


def test_account_disabled_event_names_account_time_and_who():
    summary = summary_of(LAB_VM)
    admin = "WIN-K2PJV6RA7JR\\Administrator"
    assert summary.disabled_accounts == {"events": [{"account": admin, "time": "2026-06-07T08:04:47.084628Z", "by": admin}]}
    assert summary.security_daily["days"]["2026-06-07"]["4725"] == 1
    assert summary.security_daily["notable"] == [
        {"event_id": 1102, "time": "2026-06-07T08:04:45.200780Z", "by": "WIN-K2PJV6RA7JR\\Administrator"}
    ]


def test_atomic_red_team_defender_detections_pair_with_their_actions():
    detections = summary_of(ATOMIC_DEFENDER).detections["detections"]
    host = "MSEDGEWIN10"
    assert detections == [
        # the file's quarantine of this one failed with 0x80508023 (threat not found): not shown to be resolved
        {
            "host": host,
            "time": "2019-07-18T20:40:00.730676Z",
            "threat": "Trojan:PowerShell/Powersploit.M",
            "action": "quarantine (Action ID 2) failed: 0x80508023",
            "resolved": False,
            "resolved_at": None,
        },
        {
            "host": host,
            "time": "2019-07-18T20:40:16.396422Z",
            "threat": "Trojan:XML/Exeselrun.gen!A",
            "action": "allow (Action ID 6) failed: 0x80508023",
            "resolved": False,
            "resolved_at": None,
        },
        # detected twice with the same Detection ID (20:41:16 and again 20:51:50): one detection
        {
            "host": host,
            "time": "2019-07-18T20:41:16.418508Z",
            "threat": "HackTool:JS/Jsprat",
            "action": "quarantine (Action ID 2)",
            "resolved": True,
            "resolved_at": "2019-07-18T20:53:31.905406Z",
        },
        {
            "host": host,
            "time": "2019-07-18T20:41:17.508276Z",
            "threat": "Backdoor:ASP/Ace.T",
            "action": "quarantine (Action ID 2)",
            "resolved": True,
            "resolved_at": "2019-07-18T20:53:31.900809Z",
        },
        {
            "host": host,
            "time": "2019-07-18T20:41:48.236136Z",
            "threat": "Trojan:Win32/Sehyioa.A!cl",
            "action": "quarantine (Action ID 2)",
            "resolved": True,
            "resolved_at": "2019-07-18T20:53:31.902610Z",
        },
    ]


def test_same_threat_three_times_is_three_detections_told_apart_by_detection_id():
    detections = summary_of(HOME_DEFENDER).detections["detections"]
    assert [(d["time"], d["resolved_at"]) for d in detections] == [
        ("2021-02-13T18:13:02.798141Z", "2021-02-13T18:13:32.450432Z"),
        ("2021-02-13T19:07:56.983843Z", "2021-02-13T19:08:23.745738Z"),
        ("2021-02-13T19:08:44.603751Z", "2021-02-13T19:09:07.752402Z"),
    ]
    assert {(d["host"], d["threat"], d["action"], d["resolved"]) for d in detections} == {
        ("DESKTOP-SFBTEFS", "Trojan:PowerShell/Mountsi.A!ml", "quarantine (Action ID 2)", True)
    }


def test_defender_log_claims_no_security_log_coverage():
    daily = summary_of(HOME_DEFENDER).security_daily
    assert daily == {"covered_from": None, "covered_to": None, "days": {}, "notable": []}
    assert summary_of(HOME_DEFENDER).disabled_accounts == {"events": []}


def test_security_log_has_no_detections():
    assert summary_of(LAB_VM).detections == {"detections": []}


def test_bytes_and_path_give_the_same_summary():
    assert summarize_evtx(corpus_bytes(DC_POLICY)) == summary_of(DC_POLICY)


def test_memory_does_not_hold_the_records():
    path = corpus_file(LARGEST)
    tracemalloc.start()
    try:
        summarize_evtx(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the file's 2,261 records are several MB as JSON; keeping them would show here
    assert peak < 1_000_000


# --- damaged input -----------------------------------------------------------------------------------------------


def test_truncated_file_keeps_the_records_of_its_complete_chunks_and_says_it_is_truncated():
    data = corpus_bytes(LARGEST)
    cut = data[: int(len(data) * 0.6)]
    summary = summarize_evtx(cut)
    assert 0 < summary.records < 2261
    assert summary.records == records_in_whole_chunks(cut) == 1682
    assert len(summary.errors) == 1
    assert re.search(r"truncated.*declares 26 chunks.*only 19 complete.*offset 1249280", summary.errors[0])
    full = counted(summary_of(LARGEST))
    assert all(n <= full[event_id] for event_id, n in counted(summary).items())
    assert summary.first == summary_of(LARGEST).first


def test_file_cut_inside_its_last_used_chunk_says_so():
    data = corpus_bytes(SMALL)  # one chunk, declared in the header
    summary = summarize_evtx(data[: 4096 + 30000])
    assert summary.records == 0
    assert summary.errors and "declares 1 chunks but only 0 complete" in summary.errors[0]


def test_flipped_bytes_lose_only_the_damaged_records_and_name_where():
    data = bytearray(corpus_bytes(LARGEST))
    middle = len(data) // 2
    data[middle : middle + 2000] = bytes(b ^ 0xFF for b in data[middle : middle + 2000])
    summary = summarize_evtx(bytes(data))
    assert 2000 < summary.records < 2261
    assert summary.errors
    assert all(re.search(r"record \d+|chunk \d+ \(offset \d+\)", e) for e in summary.errors)
    assert any("record number 1452" in e for e in summary.errors)
    assert any(e.startswith(f"chunk {(middle - 4096) // 65536} ") and "checksum mismatch" in e for e in summary.errors)


def test_altered_record_that_still_parses_is_caught_by_the_chunk_checksum():
    data = corpus_bytes(LOG_CLEARED).replace("user01".encode("utf-16-le"), "user99".encode("utf-16-le"))
    summary = summarize_evtx(data)
    assert summary.records == 112
    assert summary.security_daily["notable"][0]["by"] == "EXAMPLE\\user99"  # the parser alone would not notice
    assert summary.errors == ["chunk 0 (offset 4096): checksum mismatch; its records were read but may be damaged or altered"]


def test_damaged_file_header_is_reported():
    data = bytearray(corpus_bytes(SMALL))
    data[24] ^= 0x01  # next record number: the parser does not need it, the header checksum covers it
    summary = summarize_evtx(bytes(data))
    assert summary.records == 7
    assert summary.errors == ["file header checksum mismatch: the header is damaged, so its chunk count may be wrong"]


def test_damaged_chunk_header_is_an_error_and_the_other_chunks_still_count():
    data = bytearray(corpus_bytes(LARGEST))
    chunk3 = 4096 + 3 * 65536
    data[chunk3 : chunk3 + 8] = b"XXXXXXXX"
    summary = summarize_evtx(bytes(data))
    assert any("chunk number 3" in e for e in summary.errors)
    lost = records_in_whole_chunks(corpus_bytes(LARGEST)) - records_in_whole_chunks(bytes(data))
    assert lost > 0 and summary.records == 2261 - lost


@pytest.mark.parametrize(
    "data",
    [b"", b"hello", b"MZ\x90\x00" + bytes(5000), b"<Events><Event/></Events>" * 300, "Datum;Ereignis-ID\n".encode("utf-16")],
)
def test_input_that_is_not_evtx_raises_value_error(data):
    with pytest.raises(ValueError, match="not an EVTX file"):
        summarize_evtx(data)


def test_path_to_a_text_file_raises_value_error(tmp_path):
    text = tmp_path / "Security.evtx"
    text.write_text("TimeCreated,Id\n2026-01-01,4624\n")
    with pytest.raises(ValueError, match="ElfFile"):
        summarize_evtx(text)


def test_evtx_signature_without_a_whole_header_raises_value_error():
    with pytest.raises(ValueError, match="shorter than the 4096-byte file header"):
        summarize_evtx(corpus_bytes(SMALL)[:1000])


def test_header_without_chunks_is_an_empty_log_not_an_error():
    header = bytearray(corpus_bytes(SMALL)[:4096])
    header[42:44] = b"\x00\x00"  # an exported log with no records
    header[124:128] = struct.pack("<I", zlib.crc32(header[:120]))
    summary = summarize_evtx(bytes(header))
    assert (summary.records, summary.errors, summary.first, summary.security_daily["covered_from"]) == (0, [], None, None)


# --- fuzz --------------------------------------------------------------------------------------------------------

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def summary_or_value_error(data: bytes) -> EvtxSummary | None:
    try:
        return summarize_evtx(data)
    except ValueError:
        return None


@FUZZ
@given(st.binary(max_size=10_000))
def test_random_bytes_raise_value_error_or_report_errors(data):
    summary = summary_or_value_error(data)
    assert summary is None or summary.errors


@FUZZ
@given(st.binary(max_size=140_000))
def test_random_body_after_a_real_header_reports_errors(body):
    summary = summary_or_value_error(corpus_bytes(SMALL)[:4096] + body)
    assert summary is None or summary.errors


def checksummed_offsets(data: bytes) -> list[int]:
    """Offsets of a one-chunk file that a CRC covers: file header, chunk header, event records up to free space."""
    (free,) = struct.unpack_from("<I", data, 4096 + 48)
    chunk_header = [*range(4096, 4096 + 120), *range(4096 + 124, 4096 + 512)]
    return [*range(0, 120), *range(124, 128), *chunk_header, *range(4096 + 512, 4096 + free)]


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), min_size=1, max_size=40))
def test_any_change_to_a_real_file_raises_value_error_or_reports_errors(flips):
    data = bytearray(corpus_bytes(ATOMIC_DEFENDER))
    covered = checksummed_offsets(bytes(data))
    changes = {covered[where % len(covered)]: mask for where, mask in flips}  # one change per byte: two could cancel
    for offset, mask in changes.items():
        data[offset] ^= mask
    summary = summary_or_value_error(bytes(data))
    if summary is not None:
        assert summary.errors
        assert summary.records <= 11 + len(flips)
        assert sum(counted(summary).values()) <= summary.records


# --- pairing rules on single records ------------------------------------------------------------------------------


def defender(event_id: int, time: str, threat: str, **fields: str) -> _Record:
    moment = datetime.fromisoformat(time).replace(tzinfo=UTC)
    return _Record(
        number=1,
        event_id=event_id,
        time=moment,
        computer="WS01",
        channel=DEFENDER_CHANNEL,
        fields={"Threat Name": threat, **fields},
    )


def detections_of(*records: _Record) -> list[dict]:
    summariser = _Summariser()
    for record in records:
        summariser.add(record)
    return summariser.result().detections["detections"]


def test_action_without_its_detection_still_counts_from_the_detection_time():
    fields = {"Action ID": "3", "Error Code": "0x00000000", "Detection Time": "2026-03-02T09:59:58.000Z"}
    found = detections_of(defender(1117, "2026-03-02T10:00:00", "Virus:DOS/EICAR_Test_File", **fields))
    assert found == [
        {
            "host": "WS01",
            "time": "2026-03-02T09:59:58.000000Z",
            "threat": "Virus:DOS/EICAR_Test_File",
            "action": "remove (Action ID 3)",
            "resolved": True,
            "resolved_at": "2026-03-02T10:00:00.000000Z",
        }
    ]


def test_without_detection_ids_a_detection_after_a_resolved_one_is_new_and_open():
    ok = {"Action ID": "2", "Error Code": "0x00000000"}
    found = detections_of(
        defender(1116, "2026-03-02T10:00:00", "Virus:DOS/EICAR_Test_File", **{"Action ID": "9"}),
        defender(1117, "2026-03-02T10:00:05", "Virus:DOS/EICAR_Test_File", **ok),
        defender(1116, "2026-03-03T08:00:00", "Virus:DOS/EICAR_Test_File", **{"Action ID": "9"}),
    )
    assert [(d["time"], d["resolved"], d["action"]) for d in found] == [
        ("2026-03-02T10:00:00.000000Z", True, "quarantine (Action ID 2)"),
        ("2026-03-03T08:00:00.000000Z", False, "no action (Action ID 9)"),
    ]


def test_a_failed_action_after_success_does_not_unresolve():
    same = {"Detection ID": "{A}"}
    found = detections_of(
        defender(1116, "2026-03-02T10:00:00", "T", **same, **{"Action ID": "9"}),
        defender(1117, "2026-03-02T10:00:05", "T", **same, **{"Action ID": "2", "Error Code": "0x0"}),
        defender(1117, "2026-03-02T10:00:09", "T", **same, **{"Action ID": "3", "Error Code": "0x80508023"}),
    )
    assert [(d["resolved"], d["resolved_at"], d["action"]) for d in found] == [
        (True, "2026-03-02T10:00:05.000000Z", "quarantine (Action ID 2)")
    ]


def test_record_without_a_time_is_an_error_not_a_day():
    summariser = _Summariser()
    summariser.add(_Record(number=77, event_id=4624, time=None, computer="DC01", channel="Security", fields={}))
    result = summariser.result()
    assert result.records == 1 and result.security_daily["days"] == {}
    assert result.errors == ["record 77: no readable TimeCreated/SystemTime; read but not placed on a day"]


def test_error_list_is_capped_and_says_how_many_more():
    errors = _Errors()
    for n in range(105):
        errors.add(f"record {n}: unreadable")
    listed = errors.result()
    assert len(listed) == 101
    assert listed[99] == "record 99: unreadable" and listed[100] == "... and 5 more errors not listed"


# --- health reports, account changes, log clears of other logs, firewall changes ---------------------------------

CREATED_DELETED = "windows_security_evtx/mdecrevoisier__EVTX-to-MITRE-Attack/ID4720-4726 Fast created-deleted user.evtx"
FIREWALL_GUID = "{d1bc9aff-2abf-4d71-9146-ecb2a986eb85}"
EVENTLOG_GUID = "{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}"


def test_defender_health_reports_give_the_hosts_status_as_of_the_day():
    summary = summary_of(HOME_DEFENDER)
    assert summary.health_reports == 16
    # the day's latest report (20:47) is kept: real-time protection was turned off at 19:09 (event 5001)
    assert summary.health == [
        {
            "host": "DESKTOP-SFBTEFS",
            "day": "2021-02-13",
            "status": {
                "product": "Windows Defender Antivirus",
                "realtime": False,
                "signature_date": "2021-02-12",  # the report's day less "Last AV security intelligence age" (1)
                "engine_version": "1.1.17800.5",
                "signature_version": "1.331.857.0",
                "signature_age_days": 1,
                "reported_at": "2021-02-13T20:47:51.868082Z",
            },
        }
    ]
    # what the Defender log holds besides detections and health reports is said, not silently dropped
    assert summary.unused_channels == {DEFENDER_CHANNEL: 43 - 16 - 3 - 3}


def test_account_created_and_deleted_are_listed_with_who_did_it():
    summary = summary_of(CREATED_DELETED)
    assert summary.security_daily["days"] == {"2020-07-12": {"4720": 1, "4726": 1}}
    common = {"account": "OFFSEC\\admin-kriss", "sid": "S-1-5-21-4230534742-2542757381-3142984815-1166"}
    assert summary.account_changes["events"] == [
        {"event_id": 4720, "change": "created", "time": "2020-07-12T05:10:08.442192Z", **common, "group": None}
        | {"group_sid": None, "by": "OFFSEC\\lambda-user"},
        {"event_id": 4726, "change": "deleted", "time": "2020-07-12T05:11:26.431601Z", **common, "group": None}
        | {"group_sid": None, "by": "OFFSEC\\lambda-user"},
    ]


def test_members_added_to_security_groups_name_the_group_by_its_sid():
    added = [e for e in summary_of(LAB_VM).account_changes["events"] if e["event_id"] in (4728, 4732)]
    assert [(e["account"], e["group"], e["group_sid"]) for e in added][-2:] == [
        ("S-1-5-21-944049504-3068507572-2194890940-1000", "Builtin\\Remote Desktop Users", "S-1-5-32-555"),
        ("S-1-5-21-944049504-3068507572-2194890940-1001", "Builtin\\Remote Desktop Users", "S-1-5-32-555"),
    ]
    assert len(added) == 6 and {e["by"] for e in added} == {"df1-vm\\df1admin"}


def test_another_log_cleared_104_is_a_log_clear():
    # The corpus has no System log: the real 1102 record of LOG_CLEARED (the first of its chunk, so its template is
    # inline) re-encoded with event ID 104 of the same provider (tests/evtx_reencode.py). Its channel stays "Security",
    # a literal of the template; the summariser keys 104 on the provider's GUID and the ID, not on the channel's name.
    data = reencode(corpus_bytes(LOG_CLEARED), 104)
    summary = summarize_evtx(data)
    assert summary.errors == [] and summary.records == 1
    assert summary.security_daily["notable"] == [
        {"event_id": 104, "time": "2019-03-19T23:35:07.524202Z", "by": "EXAMPLE\\user01", "log": "Security"}
    ]
    assert summary.security_daily["days"] == {"2019-03-19": {"104": 1}}


def firewall_event(event_id: int, fields: dict[str, str], when: datetime) -> bytes:
    """The corpus has no Windows Firewall log (SOURCES.md: holdout only): the real 1102 record of LOG_CLEARED,
    re-encoded with the firewall provider's GUID (same length as the Eventlog GUID it replaces), this event ID and
    time, and the event's fields as its UserData (the fields' names as in the provider's manifest)."""
    return reencode(corpus_bytes(LOG_CLEARED), event_id, fields, "FirewallEvent", (EVENTLOG_GUID, FIREWALL_GUID), when)


def test_firewall_profile_turned_off_2003():
    fields = {"Profiles": "5", "SettingType": "1", "SettingValueSize": "4", "SettingValue": "0", "Origin": "1"}
    fields |= {"ModifyingUser": "S-1-5-21-1-2-3-1106", "ModifyingApplication": "C:\\Windows\\System32\\netsh.exe"}
    summary = summarize_evtx(firewall_event(2003, fields, datetime(2026, 3, 4, 9, 30)))
    assert summary.errors == []
    assert summary.firewall_events["events"] == [
        {
            "event_id": 2003,
            "time": "2026-03-04T09:30:00.000000Z",
            "what": "profile setting changed",
            "by": "S-1-5-21-1-2-3-1106",
            "application": "C:\\Windows\\System32\\netsh.exe",
            "profiles": ["domain", "public"],
            "setting": "enable_firewall",
            "value": 0,
        }
    ]
    assert summary.security_daily["notable"] == []  # not read as the 1102 it was made from


def test_firewall_rule_added_2004_and_other_ids_of_the_channel():
    fields = {"RuleId": "{A1B2}", "RuleName": "Open 3389", "Direction": "1", "Action": "3", "Profiles": "4"}
    added = summarize_evtx(firewall_event(2004, fields, datetime(2026, 3, 4, 10, 0)))
    assert [(e["what"], e["rule"], e["profiles"]) for e in added.firewall_events["events"]] == [
        ("rule added", "Open 3389", ["public"])
    ]
    other = summarize_evtx(firewall_event(2011, {"ReasonCode": "1"}, datetime(2026, 3, 4, 10, 0)))
    assert other.firewall_events["events"] == [] and other.unused_channels == {"Security": 1}


def test_security_4950_firewall_setting_is_listed_as_its_text():
    fields = {"ProfileChanged": "Public", "SettingType": "Enable Windows Defender Firewall", "SettingValue": "No"}
    data = reencode(corpus_bytes(LOG_CLEARED), 4950, fields, "EventData", None, datetime(2026, 3, 4, 11, 0))
    events = summarize_evtx(data).firewall_events["events"]
    assert [(e["event_id"], e["setting"], e["value"]) for e in events] == [
        (4950, "text: Public / Enable Windows Defender Firewall / No", None)
    ]


def test_a_failed_remediation_1119_is_an_unresolved_detection():
    # The corpus has no 1118/1119: the real first record of ATOMIC_DEFENDER (a 1116 with Action ID 9 "no action" and
    # its Detection ID) re-encoded as 1119 (critical remediation failure), alone in its file (tests/evtx_reencode.py).
    summary = summarize_evtx(reencode(corpus_bytes(ATOMIC_DEFENDER), 1119))
    assert summary.errors == [] and summary.unused_channels == {}
    assert summary.detections["detections"] == [
        {
            "host": "MSEDGEWIN10",
            "time": "2019-07-18T20:40:00.580000Z",  # its Detection Time field: the 1116 is not in this file
            "threat": "Trojan:PowerShell/Powersploit.M",
            "action": "no action (Action ID 9)",
            "resolved": False,
            "resolved_at": None,
        }
    ]
