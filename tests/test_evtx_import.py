"""`auditpack import evtx` on real exported logs from ../shared/corpus, through to the evaluation."""

from __future__ import annotations

import subprocess

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
    # the log spans 7 June 08:04 to 1 July 03:22 2026: 8 to 30 June are covered whole (23 days); 7 June and
    # 1 July only in part, so they are not evidenced (342 days of 2026), and 7 June is tested by its log clear
    assert result.tested == 24 and len(result.gaps) == 342
    assert {"2026-06-07", "2026-07-01"} <= {g.date for g in result.gaps}
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
