"""`auditpack import evtx` on real exported logs from ../shared/corpus, through to the evaluation."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path

from evtx_reencode import reencode
from test_evtx_summary import firewall_event

from auditpack.collectors.parsers.evtx_summary import summarize_evtx
from auditpack.store import EvidenceStore
from conftest import auditpack_bin, corpus_file
from evidence_factory import evaluate, item

LAB_LOG = "windows_security_evtx/marvioncriddle__Authentication-Artifact-Analysis/Security.evtx"  # clock set to 2026
DEFENDER = "antivirus/sbousseaden__EVTX-ATTACK-SAMPLES/WinDefender_Events_1117_1116_AtomicRedTeam.evtx"


def test_import_stores_the_file_whole_and_the_summaries(tmp_path, cli_env):
    log, defender = corpus_file(LAB_LOG), corpus_file(DEFENDER)
    done = subprocess.run(
        [auditpack_bin(), "import", "evtx", str(log), str(defender), "--host", "dc01"],
        cwd=tmp_path,
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    store = EvidenceStore(tmp_path / "evidence", create=False)
    items = {(i.kind, i.command.split()[2]): i for i in store.items(host="dc01")}
    daily = items[("windows.security_events_daily", log.name)]
    assert store.read_blob(daily.raw_sha256) == log.read_bytes()  # the exported file, byte for byte
    counts = store.read_json(daily.normalized_sha256)["days"]
    assert counts["2026-07-01"]["4624"] == 220 and counts["2026-06-07"]["1102"] == 1
    disabled = store.read_json(items[("ad.account_disabled_events", log.name)].normalized_sha256)["events"]
    assert [e["account"] for e in disabled] == ["WIN-K2PJV6RA7JR\\Administrator"]
    assert ("windows.security_events_daily", defender.name) not in items  # a Defender log says nothing of Security coverage
    detections = store.read_json(items[("av.detections", defender.name)].normalized_sha256)["detections"]
    assert len(detections) == 5 and {d["resolved"] for d in detections} == {True, False}


def test_t_log_2_on_a_real_security_log():
    daily = summarize_evtx(corpus_file(LAB_LOG)).security_daily
    result = evaluate("T-LOG-2", [item("windows.security_events_daily", daily, "win-k2pj", "2026-07-20")])
    # the log spans 7 June 08:04 to 1 July 03:22 2026: 8 to 30 June are covered whole (23 days); 1 July only
    # in part, so it is not evidenced (341 days of 2026 are not); 7 June is tested by its log clear, a deviation,
    # so it is evidenced (a subject-date tested is never also a gap)
    assert result.tested == 24 and len(result.gaps) == 341
    gap_days = {g.date for g in result.gaps}
    assert "2026-07-01" in gap_days and "2026-06-07" not in gap_days
    codes = [(d.date, d.code) for d in result.deviations]
    assert codes[0] == ("2026-06-07", "log2.cleared")  # the log was cleared when the lab started
    assert ("2026-06-30", "log2.no_logons") not in codes and ("2026-06-15", "log2.no_logons") in codes
    assert len([c for c in codes if c[1] == "log2.no_logons"]) == 22  # days in the span without a single logon
    assert result.status == "not_effective"


def test_a_log_of_two_computers_needs_a_host_name(tmp_path, cli_env):
    mixed = corpus_file("windows_security_evtx/omerbenamram__evtx/security.evtx")
    assert len(summarize_evtx(mixed).hosts) == 2
    done = subprocess.run(
        [auditpack_bin(), "import", "evtx", str(mixed)], cwd=tmp_path, env=cli_env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and "name the host with --host" in done.stderr


# --- through the command line: import, then the control's verdict and finding in the JSON report -----------------

HOME_DEFENDER = "antivirus/4renwald__evtx-python/WindowsDefenderOperational.evtx"
DC_POLICY = "windows_security_evtx/sbousseaden__EVTX-ATTACK-SAMPLES/ACL_ForcePwd_SPNAdd_User_Computer_Accounts.evtx"
LOG_CLEARED = "windows_security_evtx/sbousseaden__EVTX-ATTACK-SAMPLES/DE_1102_security_log_cleared.evtx"
CREATED_DELETED = "windows_security_evtx/mdecrevoisier__EVTX-to-MITRE-Attack/ID4720-4726 Fast created-deleted user.evtx"


def run(tmp_path: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [auditpack_bin(), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False
    )


def reports(tmp_path: Path, env: dict, controls: list[str], first: str, last: str, *extra: str) -> tuple[int, dict[str, dict]]:
    """`auditpack report --control X… --from FIRST --to LAST --format json`: its exit code and each control's part."""
    out = tmp_path / f"report-{'-'.join(controls)}-{first}-{last}"
    chosen = [arg for control in controls for arg in ("--control", control)]
    done = run(tmp_path, env, "report", *chosen, "--from", first, "--to", last, "--format", "json", "--out", str(out), *extra)
    assert done.returncode in (0, 1), done.stderr
    (document,) = [json.loads(p.read_text()) for p in out.glob("*.json")]
    return done.returncode, {c["id"]: c for c in document["controls"] if c["id"] in controls}


def report(tmp_path: Path, env: dict, control: str, day: str) -> tuple[int, dict]:
    """`auditpack report --control X --from D --to D --format json`: its exit code and the control's part of the JSON."""
    code, results = reports(tmp_path, env, [control], day, day)
    return code, results[control]


def findings(result: dict, bucket: str = "deviations") -> set[tuple[str, str, str]]:
    return {(d["subject"], d["date"], d["code"]) for d in result[bucket]}


def test_defender_health_reports_let_t_av_judge_the_imported_host(tmp_path, cli_env):
    done = run(tmp_path, cli_env, "import", "evtx", str(corpus_file(HOME_DEFENDER)), "--host", "ws-017")
    assert done.returncode == 0, done.stderr
    assert "43 records read, 2021-02-13 to 2021-02-13 (1 days), host ws-017" in done.stdout
    assert "found: 3 detections, 16 health reports" in done.stdout
    assert "records of other events, not used: 21 of Microsoft-Windows-Windows Defender/Operational" in done.stdout
    code, result = report(tmp_path, cli_env, "T-AV", "2021-02-13")
    # the day's last health report (20:47) says real-time protection is off: the host's deviation of that day
    assert (code, result["status"]) == (1, "not_effective")
    assert findings(result) == {("ws-017", "2021-02-13", "av.realtime_off")}
    # --host: the detections are the named host's, not the computer name inside the log (DESKTOP-SFBTEFS)
    assert "ws-017 · Trojan:PowerShell/Mountsi.A!ml" in result["population"]["subjects"]


def test_the_detections_behind_t_av_deviations_are_in_the_reports_evidence(tmp_path, cli_env):
    assert run(tmp_path, cli_env, "import", "evtx", str(corpus_file(DEFENDER)), "--host", "ws-020").returncode == 0
    _, result = report(tmp_path, cli_env, "T-AV", "2019-07-18")
    unresolved = [d for d in result["deviations"] if d["code"] == "av.unresolved"]
    assert {d["subject"] for d in unresolved} == {
        "ws-020 · Trojan:PowerShell/Powersploit.M",
        "ws-020 · Trojan:XML/Exeselrun.gen!A",
    }
    cited = {i for d in unresolved for i in d["evidence"]}
    assert cited and cited <= {e["item_id"] for e in result["evidence"]}  # what the pack carries


def test_a_firewall_profile_turned_off_is_a_t_fwh_deviation_of_that_day(tmp_path, cli_env):
    # re-encoded from a real record: see tests/test_evtx_summary.py firewall_event
    fields = {"Profiles": "4", "SettingType": "1", "SettingValueSize": "4", "SettingValue": "0", "Origin": "1"}
    fields |= {"ModifyingUser": "S-1-5-21-1-2-3-1106", "ModifyingApplication": "C:\\Windows\\System32\\netsh.exe"}
    log = tmp_path / "ws-017-firewall.evtx"
    log.write_bytes(firewall_event(2003, fields, datetime(2026, 3, 4, 9, 30)))
    done = run(tmp_path, cli_env, "import", "evtx", str(log), "--host", "ws-017")
    assert done.returncode == 0 and "found: 1 firewall changes" in done.stdout, done.stdout + done.stderr
    code, result = report(tmp_path, cli_env, "T-FWH", "2026-03-04")
    assert (code, result["status"]) == (1, "not_effective")
    assert findings(result) == {("ws-017", "2026-03-04", "fw.windows_turned_off")}


def test_a_system_log_clear_is_a_t_log_2_deviation(tmp_path, cli_env):
    log = tmp_path / "dc01-system.evtx"
    log.write_bytes(reencode(corpus_file(LOG_CLEARED).read_bytes(), 104))  # see test_evtx_summary.py: no System log in the corpus
    done = run(tmp_path, cli_env, "import", "evtx", str(log), "--host", "dc01")
    assert done.returncode == 0 and "found: 1 log clears" in done.stdout, done.stdout + done.stderr
    code, result = report(tmp_path, cli_env, "T-LOG-2", "2019-03-19")
    assert code == 1 and ("dc01", "2019-03-19", "log2.other_log_cleared") in findings(result)


def test_audit_policy_changes_of_one_second_are_each_listed_with_their_subcategory(tmp_path, cli_env):
    assert run(tmp_path, cli_env, "import", "evtx", str(corpus_file(DC_POLICY)), "--host", "dc01").returncode == 0
    code, result = report(tmp_path, cli_env, "T-LOG-2", "2019-03-25")
    # the verdict: the log's first record is a 1102 (09:09:14, by insecurebank\bob); the log spans 09:09 to 13:01,
    # so no whole day is covered and the clear is the day's one test
    assert (code, result["status"]) == (1, "not_effective") and result["gaps"] == []
    assert findings(result) == {("dc01", "2019-03-25", "log2.cleared")}
    changed = [o for o in result["observations"] if o["code"] == "log2.subcategory_changed"]
    assert len(changed) == 8  # four seconds, two subcategories each: none collapses into another
    logon = "0cce9215-69ae-11d9-bed3-505054503030"
    # the Dutch report says the parser's changes in Dutch
    assert any(
        logon in o["text"] and "geslaagde pogingen toegevoegd en mislukte pogingen toegevoegd" in o["text"] for o in changed
    )


def test_account_changes_are_listed_by_o_ntk(tmp_path, cli_env):
    done = run(tmp_path, cli_env, "import", "evtx", str(corpus_file(CREATED_DELETED)), "--host", "dc01")
    assert done.returncode == 0 and "found: 2 account changes" in done.stdout
    _, result = report(tmp_path, cli_env, "O-NTK", "2020-07-12")
    assert findings(result, "observations") == {
        ("OFFSEC\\admin-kriss", "2020-07-12", "ntk.account_created"),
        ("OFFSEC\\admin-kriss", "2020-07-12", "ntk.account_deleted"),
    }


def test_a_log_with_nothing_a_control_reads_exits_1(tmp_path, cli_env):
    log = tmp_path / "ws-017-firewall.evtx"
    log.write_bytes(firewall_event(2011, {"ReasonCode": "1"}, datetime(2026, 3, 4, 9, 30)))  # a notification only
    done = run(tmp_path, cli_env, "import", "evtx", str(log), "--host", "ws-017")
    assert done.returncode == 1
    assert "records of other events, not used: 1 of Security" in done.stdout
    assert "Nothing in these files could be used by a control." in done.stdout
