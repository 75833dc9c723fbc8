"""The lab's Windows hosts and anti-virus console, read by the real collectors and judged by the real controls.

Real: the WinRM peers (HTTP, NTLM, message encryption, WS-Man) and the ePO
HTTPS peer, pywinrm and requests, the inventory parser, run_collection, the
evidence store and the evaluators. What the hosts answer is the lab's model
(lab/auditpack_lab/windows_hosts.py) of Klantcontact Demo BV.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from datetime import UTC, date, datetime, time, timedelta

import pytest

from auditpack.collectors import windows_probes as ps
from auditpack.collectors.parsers import windows as parse
from auditpack.collectors.windows import script_allowed
from auditpack.controls.evaluate import evaluate_controls
from auditpack.inventory import parse_inventory
from auditpack.periods import Period
from auditpack.runner import run_collection
from auditpack_lab import layout
from auditpack_lab.company import DOMAIN, build_company
from auditpack_lab.peers.epo import running_epo
from auditpack_lab.peers.winrm import running_winrm
from auditpack_lab.windows_hosts import FS01_DATA_PATHS, epo_rows, handler_for, windows_hosts
from auditpack_lab.year import SPRAY_KEPT_HOURS

PASSWORD_ENV = "AUDITPACK_TEST_LAB_WINDOWS_PW"
SERVERS = {"dc01": "127.0.4.20", "fs01": "127.0.4.21"}
WORKSTATION_ADDRESSES = ("127.0.4.22", "127.0.4.23", "127.0.4.24", "127.0.4.25", "127.0.4.26")
CONSOLE = "127.0.4.27"
CONTROLS = ["T-LOG-1", "T-LOG-2", "T-FWH", "T-AV", "O-RET", "T-BAK-1"]


def served_workstations(company) -> list[str]:
    """A healthy workstation, every one with old signatures (WS-017 among them) and the one without anti-virus."""
    known = company.known
    healthy = next(
        w.name for w in company.workstations if w.name not in known.old_signatures and w.name != known.without_antivirus
    )
    return [healthy, *sorted(known.old_signatures), known.without_antivirus]


def inventory_text(peers: dict, epo) -> bytes:
    def winrm(name: str, **extra) -> dict:
        return {"ansible_host": peers[name].address, "ansible_port": peers[name].port, **extra}

    workstations = {name: winrm(name) for name in peers if name.startswith("WS-")}
    document = {
        "all": {
            "vars": {
                "ansible_connection": "winrm",
                "ansible_winrm_scheme": "http",
                "ansible_user": f"{DOMAIN}\\{layout.AUDIT_ACCOUNT}",
                "auditpack_password": f"env:{PASSWORD_ENV}",
            },
            "children": {
                "domain_controllers": {"hosts": {"dc01": winrm("dc01")}},
                "file_servers": {"hosts": {"fs01": winrm("fs01", auditpack_data_paths=list(FS01_DATA_PATHS))}},
                "workstations": {"hosts": workstations},
                "av_console": {
                    "hosts": {"epo01": winrm("epo01", auditpack_epo_url=epo.url, auditpack_tls_ca_file=str(epo.pki.ca_file))}
                },
            },
        }
    }
    return json.dumps(document, indent=1).encode()  # JSON is YAML


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The company's servers, five workstations and the console, collected once like `auditpack collect` does."""
    from auditpack.store import EvidenceStore

    tmp = tmp_path_factory.mktemp("lab-windows")
    company = build_company()
    names = served_workstations(company)
    addresses = {**SERVERS, **dict(zip(names, WORKSTATION_ADDRESSES, strict=True)), "epo01": CONSOLE}
    users = {f"{DOMAIN}\\{layout.AUDIT_ACCOUNT}": layout.AUDIT_PASSWORD}
    with pytest.MonkeyPatch.context() as mp, ExitStack() as stack:
        mp.setenv(PASSWORD_ENV, layout.AUDIT_PASSWORD)
        peers = {
            name: stack.enter_context(
                running_winrm(tmp / "winrm" / name, address, users, handler_for(company, name), poll_interval=0.5)
            )
            for name, address in addresses.items()
        }
        # this test's console knows only the workstations the test serves, as a smaller company's would
        rows = [r for r in epo_rows(company) if r["EPOLeafNode.NodeName"] in names]
        epo = stack.enter_context(
            running_epo(tmp / "epo", CONSOLE, f"{DOMAIN}\\{layout.AUDIT_ACCOUNT}", layout.AUDIT_PASSWORD, rows)
        )
        inventory = parse_inventory(inventory_text(peers, epo))
        store = EvidenceStore(tmp / "evidence")
        run = run_collection(store, inventory, inventory.hosts, "tester")
    period = Period(
        datetime.combine(company.first_day, time(0), UTC), datetime.combine(company.today + timedelta(days=1), time(0), UTC)
    )
    results = {r.control_id: r for r in evaluate_controls(store, period, control_ids=CONTROLS, today=company.today)}
    return {"company": company, "names": names, "peers": peers, "store": store, "run": run, "results": results}


def items(lab, host: str, kind: str) -> list:
    return [i for i in lab["store"].items(host=host) if i.kind == kind]


def normalized(lab, host: str, kind: str):
    [item] = items(lab, host, kind)
    assert item.status == "ok", item.errors
    return lab["store"].read_json(item.normalized_sha256)


def test_every_host_answers_every_probe_it_is_sent(lab):
    outcomes = {o.host: o for o in lab["run"].outcomes}
    # dc01's only failure is LDAP: the directory is another peer of the lab, not served in this test
    assert [e for e in outcomes["dc01"].errors if not e.startswith("ad: ")] == []
    for name in ["fs01", "epo01", *lab["names"]]:
        assert outcomes[name].status == "ok", (name, outcomes[name].errors)
    for name, peer in lab["peers"].items():
        assert peer.received and all(script_allowed(s) for s in peer.received), name
    assert ps.retention_script(FS01_DATA_PATHS[0], 92) in lab["peers"]["fs01"].received
    [wsb] = items(lab, "fs01", "backup.runs")
    assert wsb.status == "absent"  # fs01 is backed up by the Linux backup server, not by Windows Server Backup


def oldest_kept(company) -> date:
    """The first day dc01's Security log still holds: the password spray of the lab's year rolled it over."""
    return (company.year.spray - timedelta(hours=SPRAY_KEPT_HOURS)).date()


def test_audit_policy_security_log_and_retention_are_clean(lab):
    results, company = lab["results"], lab["company"]
    for control in ("T-LOG-1", "O-RET"):  # clean on the day collected, but one collection is one month of the year
        result = results[control]
        assert (result.deviations, result.gaps) == ([], []), control
        assert result.status == "not_evidenced" and result.reason.code == "reason.thin_coverage"
    assert set(results["T-LOG-1"].population) == {"dc01", "fs01"}
    # fs01's log covers the year; dc01's, read once at its end, holds nothing from before the spray rolled it
    # over: those days are not evidenced (its oldest day only in part), never a pass and never a deviation
    log = results["T-LOG-2"]
    lost = {
        (company.first_day + timedelta(days=n)).isoformat() for n in range((oldest_kept(company) - company.first_day).days + 1)
    }
    assert log.deviations == [] and {(g.subject, g.date, g.code) for g in log.gaps} == {
        ("dc01", d, "evidence.no_day") for d in lost
    }
    assert log.tested == 2 * 365 - len(lost) and log.observations == []
    location = normalized(lab, "fs01", "retention.files")["locations"][0]
    age = (company.today - datetime.fromisoformat(location["oldest_mtime"]).date()).days
    assert location["path"] == "D:\\Opnames" and location["file_count"] > 1000
    assert 80 <= age <= 92 and location["older_than_limit"] == 0


def test_weekdays_are_busier_than_sundays_and_no_log_was_cleared(lab):
    company = lab["company"]
    for host in ("dc01", "fs01"):
        daily = normalized(lab, host, "windows.security_events_daily")
        logons = {date.fromisoformat(d): c["4624"] for d, c in daily["days"].items()}
        first = oldest_kept(company) + timedelta(days=1) if host == "dc01" else company.first_day
        if host == "dc01":
            assert min(logons) == oldest_kept(company)
        else:  # fs01 keeps more than the year
            assert min(logons) < company.first_day
        period = [d for d in company.days if first <= d < company.today]
        weekdays = [logons[d] for d in period if d.weekday() < 5]
        sundays = [logons[d] for d in period if d.weekday() == 6]
        assert min(weekdays) > 3 * max(sundays) > 0, host
        assert daily["notable"] == []
        log = normalized(lab, host, "windows.security_log")
        assert log["max_size_bytes"] == 4 << 30 and log["retention"] == "overwrite"


def test_the_leavers_are_disabled_on_their_days_by_ict(lab):
    company = lab["company"]
    events = normalized(lab, "dc01", "ad.account_disabled_events")["events"]
    found = {(e["account"], datetime.fromisoformat(e["time"]).date()) for e in events}
    in_log = [p for p in company.leavers if p.disabled_on > oldest_kept(company)]  # the rest rolled out of the log
    assert in_log and found == {(f"{DOMAIN}\\{p.account}", p.disabled_on) for p in in_log}
    ict = {f"{DOMAIN}\\{a}" for a in company.admins}
    assert {e["by"] for e in events} <= ict
    daily = normalized(lab, "dc01", "windows.security_events_daily")["days"]
    for person in in_log:
        assert daily[person.disabled_on.isoformat()]["4725"] >= 1
    assert normalized(lab, "fs01", "ad.account_disabled_events")["events"] == []  # only a DC logs account changes


def test_dc01_local_backups_every_night(lab):
    company = lab["company"]
    result = lab["results"]["T-BAK-1"]
    assert [d for d in result.deviations if d.subject == "dc01"] == []
    unfinished = {n.day.isoformat() for n in company.backups["dc01"] if n.ended is None or n.ended > company.built}
    assert {g.date for g in result.gaps if g.subject == "dc01"} == unfinished  # only tonight's job, if still running
    runs = normalized(lab, "dc01", "backup.runs")["runs"]
    assert len(runs) == len(company.backups["dc01"]) - len(unfinished)


def test_workstation_firewalls_block_inbound(lab):
    result = lab["results"]["T-FWH"]
    # every firewall passes; the workstation unknown to the console is listed, but is T-AV's finding, not T-FWH's
    assert (result.deviations, result.gaps) == ([], []) and result.tested == len(lab["names"])
    without = lab["company"].known.without_antivirus
    assert result.completeness["missing"] == [{"host": without.lower(), "missing_from": ["console"]}]


def test_the_console_and_the_hosts_report_the_companys_anti_virus(lab):
    company = lab["company"]
    systems = {s["name"]: s for s in normalized(lab, "epo01", "epo.systems")["systems"]}
    without = company.known.without_antivirus
    assert set(systems) == set(lab["names"]) - {without}
    for name in systems:
        workstation = next(w for w in company.workstations if w.name == name)
        assert systems[name]["content_date"] == workstation.signature_date.isoformat()
        assert datetime.fromisoformat(systems[name]["last_contact"]) == workstation.last_contact
        status = normalized(lab, name, "av.host_status")
        assert (status["product"], status["realtime"]) == ("McAfee Endpoint Security", True)
        [product] = normalized(lab, name, "windows.security_center")["antivirus"]
        assert product["up_to_date"] == (name not in company.known.old_signatures)
    assert normalized(lab, without, "av.host_status") == {
        "product": None,
        "realtime": False,
        "signature_date": None,
        "engine_version": None,
    }
    codes = sorted(d.code for d in lab["results"]["T-AV"].deviations if d.subject == without)
    assert codes == ["av.no_product", "av.not_in_console"]  # one finding per fact, not one per missing reading


def test_t_av_deviates_exactly_for_the_old_signatures_and_the_workstation_without_anti_virus(lab):
    known = lab["company"].known
    deviating = {d.subject.upper() for d in lab["results"]["T-AV"].deviations}  # the population check names hosts in lower case
    assert deviating == {*known.old_signatures, known.without_antivirus} & set(lab["names"])


def test_handlers_for_the_whole_company():
    company = build_company()
    hosts = windows_hosts(company)
    assert len(hosts) == len(company.workstations) + 3 and {"dc01", "fs01", "epo01", "WS-100"} <= set(hosts)
    assert len(epo_rows(company)) == len(company.workstations) - 1
    with pytest.raises(KeyError):
        handler_for(company, "ws-999")
    unknown = handler_for(company, "WS-001")("Remove-Item C:\\ -Recurse")
    assert unknown.exit_code != 0 and unknown.stdout == b""


@pytest.mark.parametrize("built", [datetime(2026, 3, 2, 0, 4, 30, tzinfo=UTC), datetime(2026, 7, 15, 23, 58, tzinfo=UTC)])
def test_nothing_a_host_reports_lies_after_the_build(built):
    """Just after midnight tonight's backup and today's signatures may not exist yet; late at night they do."""
    company = build_company(built=built)
    limit = company.built
    dc, fs = handler_for(company, "dc01"), handler_for(company, "fs01")
    daily, disabled = parse.security_events(dc(ps.security_events_script(None)).stdout)
    moments = [daily["covered_to"], *(e["time"] for e in disabled["events"])]
    moments += [parse.security_log(h(ps.SECURITY_LOG).stdout)["oldest_record"] for h in (dc, fs)]
    for run in parse.windows_backup_jobs(dc(ps.with_since(ps.WINDOWS_BACKUP, None)).stdout, "dc01")["runs"]:
        moments += [run["started"], run["ended"]]
    retention = fs(ps.retention_script(FS01_DATA_PATHS[0], 92))
    moments.append(parse.retention_files(retention.stdout, FS01_DATA_PATHS[0], 92, limit)["locations"][0]["oldest_mtime"])
    assert all(datetime.fromisoformat(m) <= limit for m in moments)
    assert max(date.fromisoformat(d) for d in daily["days"]) == company.today
    for workstation in company.workstations:
        center = parse.security_center(handler_for(company, workstation.name)(ps.ANTIVIRUS).stdout)[0]
        for product in center["antivirus"]:
            stamp = datetime.strptime(product["timestamp"], "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
            assert stamp <= limit and stamp.date() == workstation.signature_date
    assert all(datetime.fromisoformat(r["EPOLeafNode.LastUpdate"]) <= limit for r in epo_rows(company))
