"""Incremental Windows reads: each collection asks a host's Security log (and backup history) only for the days
since the last day read from it, one day overlapping, and T-LOG-2 joins the reads.

Real: unmodified pywinrm over NTLM with message encryption to the WinRM peer (lab/auditpack_lab/peers/winrm.py),
run_collection, the evidence store and its index, the T-LOG-2 evaluator. Simulated: the host, the lab's model of
dc01 (windows_hosts.py: a year and more of Security log, and the password spray that rolls it over). The product's
clock is moved with time-machine, as the demo's replay does (at_moment.py); the host reads the same clock.
Loopback addresses 127.0.16.1-127.0.16.9 are this file's.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from auditpack.collectors import windows_probes as ps
from auditpack.collectors.guard import CommandGuard
from auditpack.collectors.parsers import windows as parse
from auditpack.collectors.windows import WindowsCollector
from auditpack.controls.evaluate import evaluate_controls
from auditpack.inventory import parse_inventory
from auditpack.periods import period_from_options
from auditpack.runner import run_collection
from auditpack.store import EvidenceStore
from auditpack_lab import layout
from auditpack_lab.company import DOMAIN, build_company
from auditpack_lab.peers.winrm import ScriptResult, running_winrm
from auditpack_lab.windows_hosts import handler_for
from auditpack_lab.year import SPRAY_KEPT_HOURS

PASSWORD_ENV = "AUDITPACK_TEST_INCREMENTAL_PW"
USER = f"{DOMAIN}\\{layout.AUDIT_ACCOUNT}"


@pytest.fixture(scope="module")
def company():
    return build_company()


@pytest.fixture(autouse=True)
def password(monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, layout.AUDIT_PASSWORD)


def dc01(peer):
    text = json.dumps(
        {
            "all": {
                "hosts": {
                    "dc01": {
                        "ansible_host": peer.address,
                        "ansible_port": peer.port,
                        "ansible_connection": "winrm",
                        "ansible_winrm_scheme": "http",
                        "ansible_user": USER,
                        "auditpack_password": f"env:{PASSWORD_ENV}",
                        "auditpack_roles": ["domain_controller"],
                    }
                }
            }
        }
    )
    return parse_inventory(text.encode())


def lab_dc01(tmp_path, company, address):
    return running_winrm(tmp_path / "winrm", address, {USER: layout.AUDIT_PASSWORD}, handler_for(company, "dc01", _now))


def _now() -> datetime:
    return datetime.now(UTC)  # under time_machine: the moment the test collects at


def collect_at(store, inventory, moment: datetime):
    with time_machine.travel(moment, tick=True):
        return run_collection(store, inventory, inventory.hosts, "tester")


def events_script(peer) -> str:
    [script] = [s for s in peer.received if ps.since_of(ps.SECURITY_EVENTS, s)[0]]
    return script


def daily_items(store):
    return [i for i in store.items(kinds=["windows.security_events_daily"]) if i.status == "ok"]


def t_log_2(store, first: date, last: date):
    with time_machine.travel(datetime.combine(last + timedelta(days=1), time(12), UTC), tick=True):
        [result] = evaluate_controls(store, period_from_options(None, first, last, 2026), control_ids=["T-LOG-2"], hosts=["dc01"])
    return result


def test_first_collection_reads_all_the_log_holds_then_only_from_the_last_day_less_one(tmp_path, company):
    store = EvidenceStore(tmp_path / "store")
    first = datetime.combine(company.year.spray.date() - timedelta(days=60), time(2, 30), UTC)
    with lab_dc01(tmp_path, company, "127.0.16.1") as peer:
        inventory = dc01(peer)
        collect_at(store, inventory, first)
        first_script, first_work = events_script(peer), _events_work(peer)
        peer.received.clear()
        peer.work.clear()
        collect_at(store, inventory, first + timedelta(days=3))
        second_script, second_work = events_script(peer), _events_work(peer)
    assert first_script == ps.security_events_script(None)  # nothing in the store: no start day, the whole log
    assert second_script == ps.security_events_script(first.date() - timedelta(days=1))
    assert ps.with_since(ps.WINDOWS_BACKUP, first.date() - timedelta(days=1)) in peer.received  # the backup history too
    [whole, since] = [store.read_json(i.normalized_sha256) for i in daily_items(store)]
    oldest = handler_for(company, "dc01").oldest_record(first)
    assert (whole["requested_from"], whole["covered_from"][:16]) == (None, oldest.isoformat()[:16])
    assert len(whole["days"]) > 400  # a year and more: what the log held
    assert since["requested_from"] == (first.date() - timedelta(days=1)).isoformat()
    assert sorted(since["days"]) == [(first.date() + timedelta(days=n)).isoformat() for n in range(-1, 4)]
    # the work follows the days asked for: 5 days against 400 and more
    assert second_work.records_read * 50 < first_work.records_read
    assert second_work.answer_bytes * 20 < first_work.answer_bytes


def _events_work(peer):
    [work] = [w for w in peer.work if ps.since_of(ps.SECURITY_EVENTS, w.script)[0]]
    return work


def test_t_log_2_joins_the_days_of_daily_collections(tmp_path, company):
    store = EvidenceStore(tmp_path / "store")
    start = datetime.combine(company.year.spray.date() - timedelta(days=40), time(2, 30), UTC)
    with lab_dc01(tmp_path, company, "127.0.16.2") as peer:
        inventory = dc01(peer)
        for n in range(4):
            collect_at(store, inventory, start + timedelta(days=n))
    reads = [store.read_json(i.normalized_sha256) for i in daily_items(store)]
    assert [r["requested_from"] for r in reads] == [None] + [(start.date() + timedelta(days=n - 1)).isoformat() for n in range(3)]
    result = t_log_2(store, start.date() - timedelta(days=10), start.date() + timedelta(days=2))
    assert (result.status.value, result.gaps, result.deviations) == ("effective", [], [])
    assert result.tested == 13
    # the overlap day is counted once, from a read that covered it whole: the lab's count of that whole day
    tested = {i.date: i for i in result.tested_items}
    day = start.date() + timedelta(days=1)
    whole_day = handler_for(company, "dc01").day_counts(day)
    assert tested[day.isoformat()].attributes["logon_events"] == whole_day["4624"] + whole_day["4634"] + whole_day["4625"]


def test_a_rollover_between_two_collections_is_a_gap_with_its_dates(tmp_path, company):
    store = EvidenceStore(tmp_path / "store")
    spray = company.year.spray
    before = datetime.combine(spray.date() - timedelta(days=3), time(2, 30), UTC)
    after = datetime.combine(spray.date() + timedelta(days=2), time(2, 30), UTC)
    with lab_dc01(tmp_path, company, "127.0.16.3") as peer:
        inventory = dc01(peer)
        collect_at(store, inventory, before)
        collect_at(store, inventory, after)
    second = store.read_json(daily_items(store)[-1].normalized_sha256)
    oldest = spray - timedelta(hours=SPRAY_KEPT_HOURS)
    assert second["requested_from"] == (before.date() - timedelta(days=1)).isoformat()  # it asked for the lost days
    assert second["covered_from"][:16] == oldest.isoformat()[:16]  # but the log began later
    result = t_log_2(store, before.date() - timedelta(days=5), after.date() - timedelta(days=1))
    gaps = {(g.date, g.code) for g in result.gaps}
    lost = [(before.date() + timedelta(days=n)).isoformat() for n in range((oldest.date() - before.date()).days + 1)]
    assert gaps == {(d, "log2.rolled_over") for d in lost}
    facts = result.gaps[0].facts
    assert facts["read_until"][:16] == before.isoformat()[:16] and facts["oldest_record"][:16] == oldest.isoformat()[:16]
    assert result.status.value != "effective"


def test_a_failed_read_is_asked_for_again(tmp_path, company):
    """A collection whose Security log read failed does not move the start: the next asks from the last good one."""
    store = EvidenceStore(tmp_path / "store")
    start = datetime.combine(company.year.spray.date() - timedelta(days=30), time(2, 30), UTC)
    model = handler_for(company, "dc01", _now)
    failing = {"on": False}

    def host(script):
        if failing["on"] and ps.since_of(ps.SECURITY_EVENTS, script)[0]:
            return ScriptResult(stderr=b"The RPC server is unavailable", exit_code=1)
        return model(script)

    with running_winrm(tmp_path / "winrm", "127.0.16.4", {USER: layout.AUDIT_PASSWORD}, host) as peer:
        inventory = dc01(peer)
        collect_at(store, inventory, start)
        failing["on"] = True
        collect_at(store, inventory, start + timedelta(days=1))
        failing["on"] = False
        peer.received.clear()
        collect_at(store, inventory, start + timedelta(days=2))
    assert events_script(peer) == ps.security_events_script(start.date() - timedelta(days=1))


def test_a_last_read_later_than_now_makes_a_whole_read(tmp_path, company):
    """A store whose last read of the host lies after now (the clock went back): nothing is left out."""
    store = EvidenceStore(tmp_path / "store")
    now = datetime.combine(company.year.spray.date() - timedelta(days=20), time(2, 30), UTC)
    with lab_dc01(tmp_path, company, "127.0.16.6") as peer:
        inventory = dc01(peer)
        collect_at(store, inventory, now + timedelta(days=5))
        peer.received.clear()
        collect_at(store, inventory, now)
    assert events_script(peer) == ps.security_events_script(None)


def test_the_start_day_is_a_declared_placeholder_of_strict_dates():
    declared = CommandGuard.for_collector(WindowsCollector())
    assert declared.allows(ps.security_events_script(None))
    assert declared.allows(ps.security_events_script(date(2026, 2, 28)))
    assert declared.allows(ps.with_since(ps.VEEAM, date(2026, 2, 28)))
    for value in ("'2026-13-01'", "'2026-02-28'; Remove-Item C:\\x", "(Get-Date)", "'2026-2-8'", "$true"):
        assert not declared.allows(ps.SECURITY_EVENTS.replace("__SINCE__", value)), value
    assert ps.since_of(ps.SECURITY_EVENTS, ps.security_events_script(date(2026, 2, 28))) == (True, date(2026, 2, 28))
    assert ps.since_of(ps.SECURITY_EVENTS, ps.FIREWALL) == (False, None)


def test_a_backup_listing_since_a_day_covers_its_nights_from_that_day(company):
    """Get-WBJob's jobs since the start day; the listing says from when it is complete (listed_from)."""
    dc = handler_for(company, "dc01")
    since = company.built.date() - timedelta(days=5)
    whole = parse.windows_backup_jobs(dc(ps.with_since(ps.WINDOWS_BACKUP, None)).stdout, "dc01")
    recent = parse.windows_backup_jobs(dc(ps.with_since(ps.WINDOWS_BACKUP, since)).stdout, "dc01")
    assert "listed_from" not in whole and recent["listed_from"] == since.isoformat()
    assert recent["runs"] == [r for r in whole["runs"] if r["started"][:10] >= since.isoformat()]
    assert 0 < len(recent["runs"]) <= 6 < len(whole["runs"])
