"""The lab's year of operation: the year model, the lab's clock, hosts and firewall answering as of a day, and
the wrapper that sets one auditpack process's clock. Real files, threads and processes; no lab needs to run.

The whole year replayed against the running lab is tests/test_demo_lab.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from cryptography import x509

from auditpack.store import EvidenceStore
from auditpack_lab.clock import APPLIED_FILE, LabClock, LabClockError, set_clock, watch_clock
from auditpack_lab.company import build_company
from auditpack_lab.firewall import egress_register_yaml, rules_on, ruleset_text
from auditpack_lab.peers.tls import make_pki
from auditpack_lab.runtime import STATE_FILE, LabState
from auditpack_lab.windows_hosts import epo_rows, handler_for
from auditpack_lab.year import OUTAGE_DAYS, OUTAGE_HOST, SPRAY_KEPT_HOURS, build_year

BUILT = datetime(2026, 12, 3, 14, 5, tzinfo=UTC)
FIRST = date(2025, 12, 4)


@pytest.fixture(scope="module")
def company():
    return build_company(built=BUILT)


def test_the_year_has_one_collection_a_month_and_the_mess_a_real_year_has():
    year = build_year(FIRST, BUILT)
    moments = [c.moment for c in year.collections]
    assert moments == sorted(moments) and FIRST <= year.collections[0].day and moments[-1] == BUILT
    monthly = [c for c in year.collections if c.complete_inventory]
    assert all(c.day.weekday() == 1 for c in monthly[:-1])  # the first Tuesday; the last is the audit's own, today
    months = {(c.day.year, c.day.month) for c in monthly}
    assert len(months) == 12 and (year.missed_month.year, year.missed_month.month) not in months  # 13 touched, one missed
    assert year.firewall_backup_day.month == year.missed_month.month
    # two collections on one day: the firewall again in the afternoon
    [again] = [c for c in year.collections if c.roles == ("firewall",)]
    assert any(c.day == again.day and c.complete_inventory for c in year.collections)
    # a host switched off for three days: the monthly run is partial, then retries of that host alone
    host, first_down, last_down = year.outage
    assert host == OUTAGE_HOST and (last_down - first_down).days == OUTAGE_DAYS - 1
    retries = [c for c in year.collections if c.hosts == (OUTAGE_HOST,)]
    assert [c.day for c in retries] == [first_down + timedelta(days=n) for n in range(1, OUTAGE_DAYS + 1)]
    assert [bool(c.down) for c in retries] == [True] * (OUTAGE_DAYS - 1) + [False]
    assert year.collected_days(OUTAGE_HOST, "workstation") == sorted({c.day for c in monthly if not c.down} | {retries[-1].day})
    assert year.host_down(OUTAGE_HOST, last_down) and not year.host_down(OUTAGE_HOST, last_down + timedelta(days=1))
    # the spray lies between two collections, so the next one finds the weeks before it overwritten
    assert any(c.moment < year.spray for c in year.collections) and any(c.moment > year.spray for c in year.collections)


def test_the_lab_clock_is_set_acknowledged_and_read_by_its_peers(tmp_path):
    built = datetime(2026, 12, 3, 12, tzinfo=UTC)
    clock = LabClock(tmp_path, built)
    assert clock.now() == built  # never set: the moment the lab was built
    applied: list[datetime] = []
    stop = threading.Event()
    watcher = threading.Thread(target=watch_clock, args=(tmp_path, clock, applied.append, stop))
    watcher.start()
    try:
        march = datetime(2026, 3, 3, 8, 30, tzinfo=UTC)
        set_clock(tmp_path, march)  # returns only once the lab's process has applied it
        assert clock.now() == march and applied[-1] == march
        set_clock(tmp_path, built)
        assert clock.now() == built and applied[-2:] == [march, built]
    finally:
        stop.set()
        watcher.join()


def test_a_clock_nobody_applies_is_an_error_not_a_hang(tmp_path, monkeypatch):
    monkeypatch.setattr("auditpack_lab.clock.APPLY_TIMEOUT", 0.3)
    with pytest.raises(LabClockError, match="did not take up the moment"):
        set_clock(tmp_path, datetime(2026, 3, 3, tzinfo=UTC))
    assert not (tmp_path / APPLIED_FILE).exists()


def test_a_lab_state_written_by_another_version_can_still_be_read(tmp_path, company):
    # Before: an unknown key in lab.json (a lab started by another version) raised TypeError, so `lab down`
    # could not stop that lab.
    fields = {
        "pid": 1, "seed": 2026, "built": BUILT.isoformat(), "first_day": FIRST.isoformat(), "today": "2026-12-03",
        "inventory": "i.yaml", "profile": "p.yaml", "exceptions": "e.yaml", "egress_register": "eg.yaml",
        "registers": {}, "endpoints": {}, "a_key_of_a_later_version": [1, 2],
    }  # fmt: skip
    known = {k: v for k, v in fields.items() if k in LabState.__dataclass_fields__}
    (tmp_path / STATE_FILE).write_text(json.dumps({**{k: "" for k in LabState.__dataclass_fields__}, **fields}))
    state = LabState.read(tmp_path)
    assert state is not None and state.pid == 1 and {k: getattr(state, k) for k in known} == known


def test_certificates_can_be_issued_for_the_whole_year(tmp_path, company):
    pki = make_pki(tmp_path, "epo.test", "127.0.0.1", valid_from=company.certificates_valid_from, valid_days=400)
    certificate = x509.load_pem_x509_certificate(pki.cert_file.read_bytes())
    assert certificate.not_valid_before_utc == company.certificates_valid_from
    assert certificate.not_valid_after_utc == company.certificates_valid_from + timedelta(days=400)
    assert certificate.not_valid_before_utc.date() < company.first_day and certificate.not_valid_after_utc > company.built


def test_the_firewall_has_the_unjustified_rule_only_from_the_day_it_was_added(company):
    added, rule = company.year.ftp_rule_added, company.known.unjustified_rule
    assert rule not in rules_on(company, added - timedelta(days=1)) and rule in rules_on(company, added)
    assert len(rules_on(company, added)) == len(rules_on(company, added - timedelta(days=1))) + 1
    assert rule.service.split("/")[-1] in ruleset_text(company, added) and ruleset_text(company, added) != ruleset_text(
        company, added - timedelta(days=1)
    )


def test_dc01_answers_as_of_the_clock_its_log_rolled_over_by_the_spray(company):
    moment = [company.year.spray - timedelta(days=1)]
    dc01 = handler_for(company, "dc01", lambda: moment[0])
    before = dc01.oldest_record(moment[0])
    assert (moment[0] - before).days >= 90  # a log that keeps months
    moment[0] = company.year.spray + timedelta(days=26)
    assert dc01.oldest_record(moment[0]) == company.year.spray - timedelta(hours=SPRAY_KEPT_HOURS)
    fs01 = handler_for(company, "fs01", lambda: moment[0])
    assert (moment[0] - fs01.oldest_record(moment[0])).days >= 365  # the spray hit the domain controller only


def test_the_console_forgets_the_workstation_whose_anti_virus_was_removed(company):
    without, removed = company.known.without_antivirus, company.year.antivirus_removed
    names = lambda moment: {r["EPOLeafNode.NodeName"] for r in epo_rows(company, moment)}  # noqa: E731
    assert without in names(datetime.combine(removed - timedelta(days=1), time(9), UTC))
    assert without not in names(datetime.combine(removed, time(9), UTC))
    assert len(names(company.built)) == len(company.workstations) - 1


def test_auditpack_runs_with_its_clock_set_to_the_moment_given(tmp_path, company):
    register = tmp_path / "egress-register.yaml"
    register.write_text(egress_register_yaml(company))
    store = tmp_path / "evidence"
    command = ["import", "egress-register", str(register), "--store", str(store), "--operator", "ict"]
    done = subprocess.run(
        [sys.executable, "-m", "auditpack_lab.at_moment", "2026-03-03T08:30:00+00:00", *command],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    evidence = EvidenceStore(store)
    manifest = evidence.load_manifest(evidence.manifest_refs()[-1])
    started = datetime.fromisoformat(manifest["started"].replace("Z", "+00:00"))
    assert datetime(2026, 3, 3, 8, 30, tzinfo=UTC) <= started < datetime(2026, 3, 3, 8, 32, tzinfo=UTC)
    local = subprocess.run(
        [sys.executable, "-m", "auditpack_lab.at_moment", "2026-03-03T08:30:00", *command],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert local.returncode != 0 and "offset" in local.stderr
    assert len(evidence.manifest_refs()) == 1  # nothing ran at a moment that could be read in local time
