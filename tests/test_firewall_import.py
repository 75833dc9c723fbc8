"""`auditpack import firewall`: a backup of a firewall that cannot be reached counts as a collection of its own day.

Real backups from ../shared/corpus/firewall go through the command line; T-FWP's verdict is read back from
`auditpack report --format json`, and `firewall-diff` compares two backups imported on one day.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

from auditpack.canonical import utcnow
from auditpack.collectors.parsers.firewall_backup_dates import backup_date
from auditpack.store import EvidenceStore
from conftest import auditpack_bin, corpus_file

PFSENSE = "firewall/pfsense__pfsense/config.xml"
FORTIGATE = "firewall/acidjunk__fortigate-config-parser/example.conf"
IPTABLES = "firewall/batfish__batfish/host1.iptables"
REVISION = 1772359200  # 2026-03-01 10:00:00 UTC


def cli(tmp_path: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [auditpack_bin(), *args], cwd=tmp_path, env={**env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=120
    )


def import_firewall(tmp_path: Path, env: dict, path: Path, kind: str, device: str, *extra: str) -> subprocess.CompletedProcess:
    return cli(tmp_path, env, "import", "firewall", str(path), "--type", kind, "--device", device, "--store", "ev", *extra)


def with_revision(tmp_path: Path, moment: int = REVISION) -> Path:
    """The factory config.xml as pfSense saves it after a change: with the <revision> block every save writes."""
    config = corpus_file(PFSENSE).read_bytes()
    revision = f"<revision><time>{moment}</time><description>admin: rules edited</description></revision>".encode()
    path = tmp_path / "config-fw01.xml"
    path.write_bytes(config.replace(b"<pfsense>", b"<pfsense>" + revision, 1))
    return path


def fwp_report(tmp_path: Path, env: dict, day: str) -> dict:
    """T-FWP over one day, as `auditpack report --format json` writes it."""
    out = f"report-{day}"
    done = cli(
        tmp_path,
        env,
        "report",
        "--store",
        "ev",
        "--control",
        "T-FWP",
        "--from",
        day,
        "--to",
        day,
        "--format",
        "json",
        "--out",
        out,
    )
    assert done.returncode in (0, 1), done.stderr
    [path] = (tmp_path / out).glob("*.json")
    [control] = [c for c in json.loads(path.read_text(encoding="utf-8"))["controls"] if c["id"] == "T-FWP"]
    return control


def item_of(tmp_path: Path, device: str) -> list:
    return EvidenceStore(tmp_path / "ev", create=False).items(kinds=["firewall.ruleset"], host=device)


def test_a_pfsense_backup_is_dated_by_its_revision_and_judged_on_that_day(tmp_path, cli_env):
    done = import_firewall(tmp_path, cli_env, with_revision(tmp_path), "pfsense", "fw01")
    assert done.returncode == 0, done.stderr
    assert "dated 2026-03-01 from the backup's revision time (2026-03-01 10:00 UTC)" in done.stdout
    [stored] = item_of(tmp_path, "fw01")
    assert stored.as_of == "2026-03-01" and stored.started[:10] == utcnow().date().isoformat()
    manifest = json.loads(next((tmp_path / "ev" / "runs").iterdir()).read_bytes())
    assert manifest["hosts"]["fw01"]["roles"] == ["firewall"] and manifest["hosts"]["fw01"]["connection"] == "file"

    control = fwp_report(tmp_path, cli_env, "2026-03-01")
    assert control["status"] == "not_effective" and control["population"]["subjects"] == ["fw01"]
    assert control["tested"] == 1 and control["gaps"] == []
    # the factory LAN rules allow anything out, and no egress register was in force on 1 March
    assert [(d["subject"], d["date"], d["code"], d["evidence"]) for d in control["deviations"]] == [
        ("fw01", "2026-03-01", "fwp.default_open", [stored.id]),
        ("fw01", "2026-03-01", "fwp.unjustified", [stored.id]),
        ("fw01", "2026-03-01", "fwp.unjustified", [stored.id]),
    ]
    assert [e["item_id"] for e in control["evidence"]] == [stored.id]
    other_day = fwp_report(tmp_path, cli_env, "2026-03-02")  # the backup speaks for its own day only
    assert other_day["status"] == "not_applicable" and other_day["deviations"] == []


def test_a_fortigate_backup_carries_no_date_so_it_is_dated_today_unless_given(tmp_path, cli_env):
    backup = corpus_file(FORTIGATE)
    today = utcnow().date().isoformat()
    undated = import_firewall(tmp_path, cli_env, backup, "fortigate", "fgt01")
    assert undated.returncode == 0, undated.stderr
    assert f"no date in the file: dated today, {today}; give --date" in undated.stdout
    dated = import_firewall(tmp_path, cli_env, backup, "fortigate", "fgt01", "--date", "2026-03-02")
    assert dated.returncode == 0 and "dated 2026-03-02, as given with --date" in dated.stdout
    assert sorted(i.as_of for i in item_of(tmp_path, "fgt01")) == sorted([today, "2026-03-02"])

    control = fwp_report(tmp_path, cli_env, "2026-03-02")
    [given] = [i for i in item_of(tmp_path, "fgt01") if i.as_of == "2026-03-02"]
    assert control["status"] == "not_effective" and control["population"]["subjects"] == ["fgt01"]
    [deviation] = control["deviations"]
    assert (deviation["subject"], deviation["date"], deviation["code"], deviation["evidence"]) == (
        "fgt01",
        "2026-03-02",
        "fwp.unjustified",
        [given.id],
    )
    assert "root/1" in deviation["text"]


def test_an_iptables_save_file_is_dated_by_the_time_it_was_saved(tmp_path, cli_env):
    done = import_firewall(tmp_path, cli_env, corpus_file(IPTABLES), "iptables", "fw09")
    assert done.returncode == 0, done.stderr
    # only the last table's header carries the time: "# Generated by iptables-save v1.4.7 on Thu Dec 5 07:40:27 2013"
    assert "dated 2013-12-05 from the time iptables-save wrote in it (2013-12-05 07:40, the firewall's clock)" in done.stdout
    [stored] = item_of(tmp_path, "fw09")
    control = fwp_report(tmp_path, cli_env, "2013-12-05")
    assert control["status"] == "not_effective" and control["population"]["subjects"] == ["fw09"]
    assert [(d["subject"], d["date"], d["code"], d["evidence"]) for d in control["deviations"]] == [
        ("fw09", "2013-12-05", "fwp.default_open", [stored.id]),  # FORWARD ACCEPT: transit traffic in
        ("fw09", "2013-12-05", "fwp.default_open", [stored.id]),  # and OUTPUT ACCEPT: out
    ]


def test_a_backup_of_a_day_to_come_is_refused(tmp_path, cli_env):
    done = import_firewall(tmp_path, cli_env, corpus_file(FORTIGATE), "fortigate", "fgt01", "--date", "2999-01-01")
    assert done.returncode == 2 and "dated 2999-01-01, as given with --date, which is after today" in done.stderr
    future = import_firewall(tmp_path, cli_env, with_revision(tmp_path, 32503680000), "pfsense", "fw01")  # 3000-01-01
    assert future.returncode == 2 and "dated 3000-01-01 from the backup's revision time" in future.stderr
    assert not (tmp_path / "ev" / "runs").exists() or not list((tmp_path / "ev" / "runs").iterdir())


def test_an_unreachable_firewall_is_judged_on_its_backup_of_that_day(tmp_path, cli_env):
    store = EvidenceStore(tmp_path / "ev")
    for day, status in ((date(2026, 3, 2), "unreachable"), (date(2026, 3, 3), "unreachable")):
        run = store.begin_run("tester")
        run.started = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)  # the collection of that morning
        run.close_source("fw01", status, ["ssh: connection timed out"], roles=["firewall"], connection="ssh")
        run.commit()
    done = import_firewall(tmp_path, cli_env, corpus_file(PFSENSE), "pfsense", "fw01", "--date", "2026-03-02")
    assert done.returncode == 0, done.stderr
    [backup] = item_of(tmp_path, "fw01")

    control = fwp_report(tmp_path, cli_env, "2026-03-02")
    assert control["gaps"] == [] and control["tested"] == 1  # judged on the backup, not "not evidenced"
    assert {(d["subject"], d["date"]) for d in control["deviations"]} == {("fw01", "2026-03-02")}
    assert all(d["evidence"] == [backup.id] for d in control["deviations"])
    unreached = fwp_report(tmp_path, cli_env, "2026-03-03")  # no backup of that day: still not evidenced
    assert [(g["subject"], g["date"], g["code"]) for g in unreached["gaps"]] == [("fw01", "2026-03-03", "evidence.missing")]


def test_firewall_diff_compares_two_backups_imported_on_one_day_by_the_days_they_were_made(tmp_path, cli_env):
    march = corpus_file(PFSENSE)
    april = tmp_path / "config-april.xml"
    april.write_bytes(march.read_bytes().replace(b"<tracker>0100000101</tracker>", b"<tracker>0100000199</tracker>"))
    # the newer backup is imported first: the order of import must not matter, only the days they were made
    assert import_firewall(tmp_path, cli_env, april, "pfsense", "fw01", "--date", "2026-04-01").returncode == 0
    assert import_firewall(tmp_path, cli_env, march, "pfsense", "fw01", "--date", "2026-03-01").returncode == 0
    done = cli(
        tmp_path, cli_env, "firewall-diff", "fw01", "--store", "ev", "--old", "2026-03-15", "--new", "2026-04-15", "--json"
    )
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert (result["old"]["day"], result["new"]["day"]) == ("2026-03-01", "2026-04-01")
    assert result["old"]["collected"][:10] == result["new"]["collected"][:10]  # both imported today
    assert [r["id"] for r in result["added"]] == ["0100000199"] and [r["id"] for r in result["removed"]] == ["0100000101"]
    table = cli(tmp_path, cli_env, "firewall-diff", "fw01", "--store", "ev", "--old", "2026-03-15", "--new", "2026-04-15")
    assert "fw01: rules of 2026-03-01 (imported " in table.stdout and "against 2026-04-01 (imported " in table.stdout
    same = cli(tmp_path, cli_env, "firewall-diff", "fw01", "--store", "ev", "--old", "2026-03-01", "--new", "2026-03-31")
    assert same.returncode == 0, same.stderr  # both moments see the March backup
    before = cli(tmp_path, cli_env, "firewall-diff", "fw01", "--store", "ev", "--old", "2026-02-28", "--new", "2026-03-31")
    assert before.returncode == 2 and "no readable firewall.ruleset of fw01" in before.stderr


def test_backup_dates_read_from_each_corpus_format():
    assert backup_date("pfsense", corpus_file(PFSENSE).read_bytes()) is None  # a factory default: never saved
    assert backup_date("opnsense", corpus_file("firewall/opnsense__core/config.xml.sample").read_bytes()) is None
    assert backup_date("fortigate", corpus_file(FORTIGATE).read_bytes()) is None  # the header names a build, not a day
    assert backup_date("nftables", corpus_file("firewall/debiansid__nftables-fullcone/nat_addr_port.nft").read_bytes()) is None
    assert backup_date("iptables", corpus_file(IPTABLES).read_bytes())[0] == date(2013, 12, 5)
    # ctime pads a one-digit day with a space; the latest stamp of the file wins
    saved = b"# Generated by iptables-save v1.8.7 on Tue Mar  1 10:00:00 2026\n*filter\nCOMMIT\n# Completed on Tue Mar  1 10:00:01 2026\n"
    assert backup_date("iptables", saved)[0] == date(2026, 3, 1)
    assert backup_date("iptables", b"# Generated by iptables-save v1.8.7 on some day\n*filter\nCOMMIT\n") is None
