"""The README's first command, end to end: `auditpack demo` on the lab of Klantcontact Demo BV.

Everything runs for real: the lab's own process (Samba AD DC, sshd with nftables in a
network namespace, borg repositories, WinRM peers, the ePO peer), collection over
LDAP/WinRM/SSH/HTTPS, evaluation, the five report formats, the signed pack and its
verification. The company's deviations are decided in lab/auditpack_lab/company.py
(`Company.known`); the report must show exactly those and flag nothing else.
The test also takes the README's screenshot of the report in headless Chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from auditpack_lab.company import build_company
from auditpack_lab.runtime import lab_unavailable
from conftest import auditpack_bin

REPO = Path(__file__).resolve().parent.parent
SCREENSHOT = REPO / "docs" / "images" / "demo-report.png"
CHROMIUM = shutil.which("chromium")
FLAGGED = {"O-LVR", "T-BAK-1", "T-FWP", "T-AV", "T-FWH"}

pytestmark = pytest.mark.skipif(lab_unavailable() is not None, reason=f"the lab cannot run here: {lab_unavailable()}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "AUDITPACK_SIGNING_KEY": str(workdir / "unused.pem"), "COLUMNS": "200"}
    done = subprocess.run(
        [auditpack_bin(), "demo", "--workdir", str(workdir / "run"), "--lang", "en"],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        cwd=workdir,
    )
    document = None
    if (workdir / "run" / "reports").exists():
        found = sorted((workdir / "run" / "reports").rglob("report-*-en.json"))
        document = json.loads(found[0].read_text()) if found else None
    if document is None:
        pytest.fail(f"the demo wrote no report: {done.stdout[-3000:]}{done.stderr[-3000:]}")
    # the company as the lab built it: its dates follow from the last day of the period it reported on
    built = datetime.combine(date.fromisoformat(document["period"]["end"]), time(23, 59), UTC)
    return done, document, workdir / "run", build_company(built=built)


def _account(subject: str) -> str:
    return subject.rsplit("\\", 1)[-1]  # HR writes DOMAIN\\account


def _controls(document: dict) -> dict[str, dict]:
    return {c["id"]: c for c in document["controls"]}


def test_the_demo_ends_with_a_report_and_a_verified_pack(demo):
    done, document, workdir, _ = demo
    # 1, by the exit-code rule: the report names the company's deliberate deviations
    assert done.returncode == 1, done.stdout[-4000:] + done.stderr[-4000:]
    assert "the report names deviations" in done.stdout
    assert "pack intact, signed by" in done.stdout and "evidence store intact" in done.stdout
    assert "Time taken:" in done.stdout and "lab stopped" in done.stdout
    for fmt in ("HTML", "PDF", "XLSX", "JSON", "OSCAL", "PACK"):
        line = next(line for line in done.stdout.splitlines() if line.startswith(fmt))
        assert Path(line.split(maxsplit=1)[1].strip()).exists(), line
    assert not (workdir / "lab" / "lab.json").exists()  # the lab was stopped


def test_every_host_of_the_lab_was_collected(demo):
    done, document, _, company = demo
    runs = document["evidence_store"]["runs"]
    collection = [r for r in runs if r["hosts"] > 1]
    assert len(collection) == 1 and collection[0]["status"] == "complete", runs
    assert collection[0]["hosts"] == len(company.workstations) + 5  # dc01, fs01, fw01, backup01, epo01


def test_the_known_deviations_appear_and_nothing_else(demo):
    _, document, _, company = demo
    known = company.known
    controls = _controls(document)
    # the lab's year ends today: the report says it is judged only up to today
    assert document["period"] == {"start": company.first_day.isoformat(), "end": company.today.isoformat(), "ended": False}

    leavers = controls["O-LVR"]
    late = {_account(d["subject"]): d for d in leavers["deviations"] if d["code"] == "lvr.disabled_late"}
    assert set(late) == set(known.late_leavers)
    for account, delay in known.late_leavers.items():
        assert f"{delay} days after the last working day" in late[account]["text"]
    logons = [_account(d["subject"]) for d in leavers["deviations"] if d["code"] == "lvr.logon_after"]
    assert logons == [known.logged_on_after_leaving]
    assert len(leavers["deviations"]) == len(known.late_leavers) + 1 and leavers["gaps"] == []

    backups = controls["T-BAK-1"]
    failed = {("fs01", day.isoformat()) for day in known.backup_failures["fs01"]}
    # no run at all on a night the backup listing covers: a missed backup, a deviation (not "not evidenced")
    missed = {("fs01", day.isoformat()) for day in known.backup_missed["fs01"]}
    assert {(d["subject"], d["date"]) for d in backups["deviations"]} == failed | missed
    assert {d["code"] for d in backups["deviations"] if (d["subject"], d["date"]) in missed} == {"bak1.missed"}
    assert backups["gaps"] == []
    assert backups["status"] == "effective_with_deviations"

    firewall = controls["T-FWP"]
    assert len(firewall["deviations"]) == 1 and firewall["gaps"] == []
    assert known.unjustified_rule.service in firewall["deviations"][0]["text"]

    antivirus = controls["T-AV"]
    flagged = {d["subject"].upper() for d in antivirus["deviations"]}
    assert flagged == (set(known.old_signatures) - {known.excepted_workstation}) | {known.without_antivirus}
    assert [e["subject"].upper() for e in antivirus["excepted"]] == [known.excepted_workstation]
    assert antivirus["population"]["size"] == len(company.workstations)

    # the workstation population is reconciled in T-FWH too: the one unknown to the console is its only finding
    host_firewalls = controls["T-FWH"]
    assert [(d["subject"].upper(), d["code"]) for d in host_firewalls["deviations"]] == [(known.without_antivirus, "pop.missing")]
    assert host_firewalls["gaps"] == []

    states = sorted(e["state"] for c in document["controls"] for e in c["exceptions"])
    assert states == ["active", "expired"]

    for control_id, control in controls.items():
        # One collection in the lab's year covers one week of it: a control tested on each collection cannot be
        # effective over the year on that, and says why (the year of collections comes with the lab's operation).
        thin = control["reason"] is not None and control["reason"]["code"] == "reason.thin_coverage"
        if control["frequency"] == "per_collection" and control["coverage"]:
            assert control["coverage"]["evidenced"] == 1 and control["coverage"]["expected"] >= 52, control_id
        if control_id in FLAGGED:
            assert control["status"] in ("effective_with_deviations", "not_effective") or (
                control["status"] == "not_evidenced" and thin
            ), control_id
            continue
        if control["frequency"] == "per_collection" and control["coverage"]:
            assert (control_id, control["status"], thin, control["deviations"]) == (control_id, "not_evidenced", True, [])
            continue
        assert (control_id, control["status"], control["deviations"], control["gaps"]) == (control_id, "effective", [], []), (
            control_id
        )


def test_the_report_in_a_browser_makes_the_readme_screenshot(demo, tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium (Debian package chromium) is not installed")
    _, _, workdir, _ = demo
    [page] = sorted((workdir / "reports").rglob("report-*-en.html"))
    shot = tmp_path / "report.png"
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            "--window-size=1200,1500",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 30_000
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, SCREENSHOT)
