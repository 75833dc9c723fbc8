"""Evaluators of T-LOG-1, T-LOG-2, T-AV, T-FWP, T-TLS, O-RET and the workstation population reconciliation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from auditpack.collectors.parsers.auditpol import parse_auditpol_text
from auditpack.collectors.parsers.iptables import parse_iptables_save
from auditpack.controls.exceptions import ExceptionEntry
from auditpack.controls.model import load_catalogue
from auditpack.controls.result import Status
from conftest import corpus_file
from evidence_factory import YEAR_2026, evaluate, evaluate_snapshot, item, run

G = "-69ae-11d9-bed3-505054503030"
DC = {"dc01": ["domain_controller"]}


def full_policy(**off: tuple[bool, bool]) -> dict:
    required = load_catalogue()["T-LOG-1"].parameters["required_subcategories"].default
    subs = {r["guid"]: {"name": r["name"], "success": True, "failure": True} for r in required}
    for name, (success, failure) in off.items():
        guid = next(r["guid"] for r in required if r["name"] == name)
        subs[guid] = {"name": name, "success": success, "failure": failure}
    return {"subcategories": subs}


def log_config(size_mb: int, oldest: str = "2025-01-01T00:00:00Z") -> dict:
    return {"max_size_bytes": size_mb * 1024 * 1024, "retention": "overwrite", "oldest_record": oldest, "record_count": 10}


# -- T-LOG-1 ---------------------------------------------------------------------------------------


def test_t_log_1_full_policy_and_large_log_pass():
    r = evaluate_snapshot(
        "T-LOG-1",
        [
            item("windows.audit_policy", full_policy(), "dc01", "2026-02-01"),
            item("windows.security_log", log_config(4096), "dc01", "2026-02-01"),
        ],
        [run(1, "2026-02-01", DC)],
    )
    assert r.status == Status.EFFECTIVE and r.tested == 1 and r.population == ["dc01"]


def test_t_log_1_missing_failure_auditing_is_a_deviation():
    r = evaluate(
        "T-LOG-1",
        [item("windows.audit_policy", full_policy(Logon=(True, False)), "dc01", "2026-02-01")],
        [run(1, "2026-02-01", DC)],
    )
    assert r.status == Status.NOT_EFFECTIVE
    [dev] = r.deviations
    assert (dev.subject, dev.date, dev.facts["missing"]) == ("dc01", "2026-02-01", ["Logon (failure)"])
    assert dev.text("nl") == "auditbeleid mist Logon (failure)"


@pytest.mark.parametrize("size_mb,ok", [(1024, True), (1023, False)])
def test_t_log_1_log_size_boundary(size_mb, ok):
    r = evaluate_snapshot(
        "T-LOG-1",
        [
            item("windows.audit_policy", full_policy(), "dc01", "2026-02-01"),
            item("windows.security_log", log_config(size_mb), "dc01", "2026-02-01"),
        ],
        [run(1, "2026-02-01", DC)],
    )
    assert (r.status == Status.EFFECTIVE) is ok
    if not ok:
        assert r.deviations[0].facts == {"size_mb": 1023, "required_mb": 1024}


def test_t_log_1_unreachable_dc_is_not_evidenced():
    r = evaluate("T-LOG-1", [], [run(1, "2026-02-01", DC, {"dc01": "unreachable"})])
    assert r.status == Status.NOT_EVIDENCED and r.gaps[0].subject == "dc01"


def test_t_log_1_on_a_real_server_2019_dc_without_auditing():
    policy = parse_auditpol_text(corpus_file("windows_audit_policy/y3man__WS19_DC_CIS/auditpol.txt").read_bytes())
    r = evaluate("T-LOG-1", [item("windows.audit_policy", policy, "dc01", "2026-02-01")], [run(1, "2026-02-01", DC)])
    assert r.status == Status.NOT_EFFECTIVE
    missing = r.deviations[0].facts["missing"]
    assert "Logon (success)" in missing and "Detailed File Share (failure)" in missing
    assert not any(m.startswith("Credential Validation") for m in missing)  # the one subcategory that DC audited
    assert len(missing) == 13


# -- T-LOG-2 ---------------------------------------------------------------------------------------


def daily_events(first: date, last: date, skip: set[date] = frozenset(), notable=()) -> dict:
    days, day = {}, first
    while day <= last:
        days[day.isoformat()] = {"4624": 0, "4634": 0} if day in skip else {"4624": 120, "4634": 100}
        day += timedelta(days=1)
    # the log spans FIRST to LAST whole: from FIRST's midnight to the midnight that ends LAST
    end = last + timedelta(days=1)
    return {"covered_from": f"{first}T00:00:00Z", "covered_to": f"{end}T00:00:00Z", "days": days, "notable": list(notable)}


def test_t_log_2_year_with_a_quiet_day_an_uncovered_week_and_a_log_clear():
    quiet = date(2026, 5, 5)
    first_half = daily_events(
        date(2026, 1, 1),
        date(2026, 6, 30),
        {quiet},
        [
            {"event_id": 1102, "time": "2026-03-03T22:10:00Z", "by": "KC\\admin"},
            {"event_id": 4719, "time": "2026-03-04T07:00:00Z", "by": "SYSTEM"},
        ],
    )
    second_half = daily_events(date(2026, 7, 8), date(2026, 12, 31))
    r = evaluate(
        "T-LOG-2",
        [
            item("windows.security_events_daily", first_half, "dc01", "2026-07-01", seq=1),
            item("windows.security_events_daily", second_half, "dc01", "2027-01-01", seq=2),
        ],
        [run(1, "2026-07-01", DC)],
    )
    assert [g.date for g in r.gaps] == [f"2026-07-0{d}" for d in range(1, 8)]
    assert [(d.date, d.code) for d in r.deviations] == [("2026-03-03", "log2.cleared"), ("2026-05-05", "log2.no_logons")]
    assert [(o.date, o.code) for o in r.observations] == [("2026-03-04", "log2.policy_changed")]
    assert r.tested == 365 - 7  # the log-clear day was tested already; it is not counted twice
    assert r.status == Status.NOT_EFFECTIVE  # 2 deviating and 7 unevidenced of 365 days: 2.5 % > 2 %
    lenient = evaluate(
        "T-LOG-2",
        [
            item("windows.security_events_daily", first_half, "dc01", "2026-07-01", seq=1),
            item("windows.security_events_daily", second_half, "dc01", "2027-01-01", seq=2),
        ],
        [run(1, "2026-07-01", DC)],
        tolerated_deviation_rate=0.05,
    )
    assert lenient.status == Status.EFFECTIVE_WITH_DEVIATIONS


@pytest.mark.parametrize("age,ok", [(90, True), (89, False)])
def test_t_log_2_retention_boundary(age, ok):
    collected = date(2026, 12, 31)
    oldest = (collected - timedelta(days=age)).isoformat() + "T12:00:00Z"
    events = daily_events(date(2026, 1, 1), collected)
    r = evaluate(
        "T-LOG-2",
        [
            item("windows.security_events_daily", events, "dc01", "2026-12-31"),
            item("windows.security_log", log_config(4096, oldest), "dc01", "2026-12-31"),
        ],
        [run(1, "2026-12-31", DC)],
    )
    assert [d.code for d in r.deviations] == ([] if ok else ["log2.retention"])


def test_t_log_2_without_events_every_day_is_not_evidenced():
    r = evaluate("T-LOG-2", [], [run(1, "2026-06-01", DC)])
    assert r.status == Status.NOT_EVIDENCED and len(r.gaps) == 365


# -- T-AV ------------------------------------------------------------------------------------------

WS = {"ws-001": ["workstation"], "ws-002": ["workstation"]}


def console(*systems: tuple[str, str, str]) -> dict:
    return {"systems": [{"name": n, "last_contact": c, "content_date": d, "product_enabled": True} for n, c, d in systems]}


def test_t_av_current_and_in_contact_passes():
    epo = item(
        "epo.systems",
        console(("WS-001.kc.local", "2026-04-10T08:00:00Z", "2026-04-09"), ("ws-002", "2026-04-09T08:00:00Z", "2026-04-03")),
        "epo01",
        "2026-04-10",
    )
    r = evaluate_snapshot("T-AV", [epo], [run(1, "2026-04-10", WS)])
    assert r.status == Status.EFFECTIVE and r.tested == 2  # ws-002's signatures are exactly 7 days old


def test_t_av_old_signatures_silence_and_absence_are_deviations():
    epo = item("epo.systems", console(("ws-001", "2026-04-01T08:00:00Z", "2026-04-02")), "epo01", "2026-04-10")
    r = evaluate("T-AV", [epo], [run(1, "2026-04-10", WS)])
    codes = {(d.subject, d.code) for d in r.deviations}
    assert ("ws-001", "av.silent") in codes and ("ws-001", "av.signatures_old") in codes
    assert ("ws-002", "av.not_in_console") in codes
    assert next(d for d in r.deviations if d.code == "av.signatures_old").facts["days"] == 8
    # ws-002's absence from the console is one finding, the day's test; not again as a population finding
    assert [d.code for d in r.deviations if d.subject == "ws-002"] == ["av.not_in_console"]
    assert r.tested == 2 and r.status == Status.NOT_EFFECTIVE


def test_t_av_a_console_entry_without_a_last_contact_is_no_contact_on_record():
    # Before: "no contact with the console since - (? days)".
    epo = item(
        "epo.systems",
        console(("ws-001", None, "2026-04-09"), ("ws-002", "2026-04-10T08:00:00Z", "2026-04-09")),
        "epo01",
        "2026-04-10",
    )
    r = evaluate_snapshot("T-AV", [epo], [run(1, "2026-04-10", WS)])
    [silent] = r.deviations
    assert (silent.subject, silent.code, silent.facts) == ("ws-001", "av.no_contact", {})
    assert silent.text("nl") == "geen contact met de antivirusconsole vastgelegd"


def test_t_av_a_workstation_without_anti_virus_is_one_finding_per_fact():
    # Before: "signature date unknown", "real-time protection is off (?)" and a population finding, besides
    # "not known to the console", all for one removed product.
    epo = item("epo.systems", console(("ws-001", "2026-04-10T08:00:00Z", "2026-04-09")), "epo01", "2026-04-10")
    removed = {"product": None, "realtime": False, "signature_date": None, "engine_version": None}
    status = item("av.host_status", removed, "ws-002", "2026-04-10")
    r = evaluate_snapshot("T-AV", [epo, status], [run(1, "2026-04-10", WS)])
    assert sorted((d.subject, d.code) for d in r.deviations) == [("ws-002", "av.no_product"), ("ws-002", "av.not_in_console")]
    assert {d.text("en") for d in r.deviations} == {
        "no anti-virus product active on the workstation",
        "workstation not known to the anti-virus console",
    }
    fwh = evaluate_snapshot("T-FWH", [epo], [run(1, "2026-04-10", WS)])
    assert [d.code for d in fwh.deviations if d.subject == "ws-002"] == []  # firewalls do not hang on the console


def test_t_av_host_status_realtime_off_and_unresolved_detection():
    status = item(
        "av.host_status",
        {"product": "Trellix ENS", "realtime": False, "signature_date": "2026-04-10", "engine_version": "6"},
        "ws-001",
        "2026-04-10",
    )
    detections = item(
        "av.detections",
        {
            "detections": [
                {
                    "host": "ws-001",
                    "time": "2026-04-02T10:00:00Z",
                    "threat": "EICAR",
                    "action": "quarantined",
                    "resolved": True,
                    "resolved_at": None,
                },
                {
                    "host": "ws-001",
                    "time": "2026-04-03T10:00:00Z",
                    "threat": "Emotet",
                    "action": "failed",
                    "resolved": False,
                    "resolved_at": None,
                },
            ]
        },
        "ws-001",
        "2026-04-10",
    )
    r = evaluate("T-AV", [status, detections], [run(1, "2026-04-10", {"ws-001": ["workstation"]})])
    assert {(d.subject, d.code) for d in r.deviations} == {("ws-001", "av.realtime_off"), ("ws-001 · Emotet", "av.unresolved")}
    assert "ws-001 · EICAR" in r.population
    # the detections item a deviation cites is among the evidence used, which the pack carries
    unresolved = next(d for d in r.deviations if d.code == "av.unresolved")
    assert unresolved.evidence == [detections.item_id]
    assert detections.item_id in {ref.item_id for ref in r.evidence}


def test_t_log_2_lists_each_policy_change_of_one_second():
    change = {"event_id": 4719, "time": "2026-03-04T07:00:00Z", "by": "SYSTEM"}
    notable = [
        change | {"subcategory_guid": "0cce9215-69ae-11d9-bed3-505054503030", "changes": ["success removed"]},
        change | {"subcategory_guid": "0cce9224-69ae-11d9-bed3-505054503030", "changes": ["failure removed"]},
    ]
    daily = daily_events(date(2026, 3, 1), date(2026, 3, 31), notable=notable)
    r = evaluate("T-LOG-2", [item("windows.security_events_daily", daily, "dc01", "2026-04-01")], [])
    assert sorted((o.code, o.facts["subcategory"], o.facts["changes"]) for o in r.observations) == [
        ("log2.subcategory_changed", "0cce9215-69ae-11d9-bed3-505054503030", ["success removed"]),
        ("log2.subcategory_changed", "0cce9224-69ae-11d9-bed3-505054503030", ["failure removed"]),
    ]


def test_t_av_nothing_read_is_not_evidenced():
    assert evaluate("T-AV", [], [run(1, "2026-04-10", WS)]).status == Status.NOT_EVIDENCED


def test_workstation_population_is_reconciled_across_inventory_ad_and_console():
    ad = item(
        "ad.computers",
        {
            "computers": [
                {"name": "WS-001", "os": "Windows 11 Pro", "enabled": True, "last_logon": None},
                {"name": "WS-003", "os": "Windows 11 Pro", "enabled": True, "last_logon": None},
                {"name": "DC01", "os": "Windows Server 2022 Standard", "enabled": True, "last_logon": None},
                {"name": "WS-OLD", "os": "Windows 10 Pro", "enabled": False, "last_logon": None},
            ]
        },
        "dc01",
        "2026-04-10",
    )
    epo = item(
        "epo.systems",
        console(("ws-001", "2026-04-10T08:00:00Z", "2026-04-09"), ("ws-002", "2026-04-10T08:00:00Z", "2026-04-09")),
        "epo01",
        "2026-04-10",
    )
    r = evaluate("T-AV", [ad, epo], [run(1, "2026-04-10", WS)])
    assert r.completeness["missing"] == [
        {"host": "ws-002", "missing_from": ["ad"]},
        {"host": "ws-003", "missing_from": ["inventory", "console"]},
    ]
    assert r.completeness["not_provided"] == []
    texts = {d.subject: d.text("en") for d in r.deviations if d.code == "pop.missing"}
    assert texts["ws-003"] == "workstation missing from: inventory and anti-virus console (present in: Active Directory)"
    fwh = evaluate("T-FWH", [ad], [run(1, "2026-04-10", WS)])
    assert fwh.completeness["not_provided"] == ["console"]
    assert [m["host"] for m in fwh.completeness["missing"]] == ["ws-002", "ws-003"]


# -- T-FWP -----------------------------------------------------------------------------------------


def ruleset(outbound="drop", unjustified=(), any_to_any=(), rules=None) -> dict:
    rules = rules or [
        {
            "id": "1",
            "interface": "lan",
            "direction": "out",
            "source": "10.0.5.10",
            "destination": "any",
            "service": "tcp/443",
            "action": "allow",
            "enabled": True,
            "description": "alarm",
        }
    ]
    return {
        "device": "fw01",
        "default_inbound": "drop",
        "default_outbound": outbound,
        "rules": rules,
        "any_to_any": list(any_to_any),
        "unjustified": list(unjustified),
    }


FW = {"fw01": ["firewall"]}


def egress(day: str, *entries: dict) -> object:
    return item(
        "register.egress", {"entries": [{"rule": None, "service": None, "port": None, **e} for e in entries]}, "registers", day
    )


ALARM = {"device": "fw01", "service": "tcp/443", "reason": "alarm centre"}


def test_t_fwp_deny_by_default_with_justified_rules_passes():
    r = evaluate_snapshot(
        "T-FWP",
        [egress("2026-01-02", ALARM), item("firewall.ruleset", ruleset(), "fw01", "2026-01-05")],
        [run(1, "2026-01-05", FW)],
    )
    assert r.status == Status.EFFECTIVE
    assert any(ref.kind == "register.egress" for ref in r.evidence)


def test_t_fwp_holds_each_collection_against_the_register_in_force_that_day():
    items = [
        item("firewall.ruleset", ruleset(), "fw01", "2026-01-05", seq=1),
        egress("2026-02-01", {"device": "fw01", "port": 443, "reason": "alarm centre"}),
        item("firewall.ruleset", ruleset(), "fw01", "2026-03-05", seq=2),
        egress("2026-04-01", {"device": "fw02", "service": "tcp/443", "reason": "another device"}),
        item("firewall.ruleset", ruleset(), "fw01", "2026-05-05", seq=3),
    ]
    r = evaluate("T-FWP", items, [run(1, "2026-01-05", FW), run(2, "2026-03-05", FW), run(3, "2026-05-05", FW)])
    assert [(d.date, d.code, d.facts["rule"]) for d in r.deviations] == [
        ("2026-01-05", "fwp.unjustified", "1"),
        ("2026-05-05", "fwp.unjustified", "1"),
    ]
    assert "tcp/443" in r.deviations[0].text("en") and "egress register" in r.deviations[0].text("en")


def test_t_fwp_open_outbound_unjustified_and_any_to_any_rules_are_deviations():
    rules = [{**ruleset()["rules"][0], "source": "any", "service": "any"}]
    r = evaluate(
        "T-FWP",
        [egress("2026-01-01", ALARM), item("firewall.ruleset", ruleset("accept", [], ["1"], rules), "fw01", "2026-01-05")],
        [run(1, "2026-01-05", FW)],
    )
    assert [d.code for d in r.deviations] == ["fwp.any_to_any", "fwp.default_open", "fwp.unjustified"]
    assert r.deviations[1].text("nl") == "uitgaand verkeer wordt standaard toegelaten (accept)"
    assert r.tested == 1


def test_t_fwp_lists_rule_changes_between_collections():
    extra = {
        "id": "2",
        "interface": "lan",
        "direction": "out",
        "source": "any",
        "destination": "1.2.3.4",
        "service": "tcp/22",
        "action": "allow",
        "enabled": True,
        "description": "vendor",
    }
    first = item("firewall.ruleset", ruleset(), "fw01", "2026-01-05", seq=1)
    second = item("firewall.ruleset", ruleset(rules=[*ruleset()["rules"], extra]), "fw01", "2026-02-05", seq=2)
    r = evaluate("T-FWP", [first, second], [run(1, "2026-01-05", FW), run(2, "2026-02-05", FW)])
    assert [(o.date, o.code, o.facts["rule"]) for o in r.observations] == [("2026-02-05", "fwp.rule_added", "2")]
    widened = {**ruleset()["rules"][0], "service": "tcp/443,tcp/8443"}
    third = item("firewall.ruleset", ruleset(rules=[widened]), "fw01", "2026-03-05", seq=3)
    r = evaluate("T-FWP", [first, second, third], [run(1, "2026-01-05", FW), run(2, "2026-02-05", FW), run(3, "2026-03-05", FW)])
    assert sorted((o.date, o.code, o.facts["rule"]) for o in r.observations)[1:] == [
        ("2026-03-05", "fwp.rule_changed", "1"),
        ("2026-03-05", "fwp.rule_removed", "2"),
    ]
    [changed] = [o for o in r.observations if o.code == "fwp.rule_changed"]
    assert changed.text("en") == "rule changed: 1 (service), now allow 10.0.5.10 -> any tcp/443,tcp/8443"
    assert changed.text("nl") == "regel gewijzigd: 1 (dienst), nu allow 10.0.5.10 -> any tcp/443,tcp/8443"


def test_t_fwp_on_a_real_iptables_gateway():
    summary = parse_iptables_save(corpus_file("firewall/batfish__batfish/host1.iptables").read_bytes())
    r = evaluate(
        "T-FWP", [item("host_firewall.iptables", summary, "fw01", "2026-01-05")], [run(1, "2026-01-05", FW)], require_ipv6=False
    )
    details = sorted(d.facts["detail"] for d in r.deviations)
    assert details == ["forward ipv4", "forward ipv4, output ipv4"]  # INPUT drops; FORWARD and OUTPUT accept
    assert r.status == Status.NOT_EFFECTIVE


def test_t_fwp_unreadable_firewall_is_not_evidenced():
    r = evaluate(
        "T-FWP",
        [item("firewall.ruleset", None, "fw01", "2026-01-05", status="garbled", errors=("bad xml",))],
        [run(1, "2026-01-05", FW)],
    )
    assert r.status == Status.NOT_EVIDENCED and "bad xml" in r.gaps[0].text("en")


# -- T-TLS -----------------------------------------------------------------------------------------


def endpoint(name="portal:443", protocol="TLSv1.3", valid=True, not_after="2026-12-01T00:00:00Z", plaintext=False, error=None):
    return {
        "endpoint": name,
        "protocol": protocol,
        "plaintext": plaintext,
        "certificate_valid": valid,
        "not_after": not_after,
        "error": error,
    }


def test_t_tls_outcomes():
    eps = [
        endpoint(),
        endpoint("mail:25", plaintext=True, protocol=None),
        endpoint("old:443", protocol="TLSv1.1"),
        endpoint("exp:443", not_after="2026-05-31T00:00:00Z"),
        endpoint("soon:443", not_after="2026-07-01T00:00:00Z"),
        endpoint("later:443", not_after="2026-07-02T00:00:00Z"),
        endpoint("down:443", error="connection refused"),
    ]
    r = evaluate("T-TLS", [item("tls.endpoints", {"endpoints": eps}, "prober", "2026-06-01")])
    assert {(d.subject, d.code) for d in r.deviations} == {
        ("mail:25", "tls.plaintext"),
        ("old:443", "tls.old_version"),
        ("exp:443", "tls.expired"),
    }
    assert [(o.subject, o.facts["days"]) for o in r.observations] == [("soon:443", 30)]  # exactly at the warning window
    assert [g.subject for g in r.gaps] == ["down:443"]
    assert r.tested == 6 and r.status == Status.NOT_EFFECTIVE


def test_t_tls_without_endpoints_is_not_applicable():
    assert evaluate("T-TLS", []).status == Status.NOT_APPLICABLE


# -- O-RET -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("age,ok", [(92, True), (93, False)])
def test_o_ret_boundary(age, ok):
    oldest = (date(2026, 6, 1) - timedelta(days=age)).isoformat() + "T10:00:00Z"
    files = {
        "limit_days": 92,
        "locations": [{"path": "/data/calls", "file_count": 1200, "oldest_mtime": oldest, "older_than_limit": 0 if ok else 3}],
    }
    r = evaluate_snapshot(
        "O-RET", [item("retention.files", files, "fs01", "2026-06-01")], [run(1, "2026-06-01", {"fs01": ["file_server"]})]
    )
    assert (r.status == Status.EFFECTIVE) is ok
    if not ok:
        assert r.deviations[0].text("en").endswith("; 3 files are too old")


def test_o_ret_without_evidence_is_not_evidenced():
    r = evaluate("O-RET", [], [run(1, "2026-06-01", {"fs01": ["file_server"]})])
    assert r.status == Status.NOT_EVIDENCED


# -- exceptions --------------------------------------------------------------------------------------


def waiver(scope: str, expires: date, control="T-FWP") -> ExceptionEntry:
    return ExceptionEntry(
        control=control,
        scope=scope,
        justification="vendor support line, replaced in Q3",
        owner="ICT manager",
        approver="Director",
        expires=expires,
    )


def test_exceptions_active_expired_unused_and_expiring_soon():
    fw = [
        item("firewall.ruleset", ruleset(unjustified=["1"]), "fw01", "2026-01-05", seq=1),
        item("firewall.ruleset", ruleset(unjustified=["1"]), "fw01", "2026-09-05", seq=2),
    ]
    runs = [run(1, "2026-01-05", FW), run(2, "2026-09-05", FW)]
    active = waiver("FW*", date(2027, 2, 10))
    r = evaluate_snapshot("T-FWP", fw, runs, [active, waiver("other-*", date(2027, 6, 1))], today=date(2027, 1, 20))
    assert not r.deviations and [e.deviation.date for e in r.excepted] == ["2026-01-05", "2026-09-05"]
    assert r.status == Status.EFFECTIVE  # excepted items are shown, not counted as failures
    assert [(e.scope, e.state, e.matched) for e in r.exceptions] == [("FW*", "expiring_soon", 2), ("other-*", "unused", 0)]
    lapsed = waiver("fw01", date(2026, 6, 30))
    r = evaluate_snapshot("T-FWP", fw, runs, [lapsed], today=date(2027, 1, 20))
    assert [d.date for d in r.deviations] == ["2026-09-05"] and [e.deviation.date for e in r.excepted] == ["2026-01-05"]
    assert r.exceptions[0].state == "expired"
    r = evaluate_snapshot("T-FWP", fw, runs, [waiver("fw01", date(2027, 12, 31))], today=date(2027, 1, 20))
    assert r.exceptions[0].state == "active"


def test_period_reaching_into_the_future_stops_today():
    r = evaluate("T-LOG-2", [], [run(1, "2026-03-01", DC)], today=date(2026, 3, 10))
    assert len(r.gaps) == 69 and YEAR_2026.start.date().isoformat() == r.gaps[0].date
