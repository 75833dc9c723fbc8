"""The README's first command, end to end: `auditpack demo` on the lab of Klantcontact Demo BV.

Everything runs for real: the lab's own process (Samba AD DC, sshd with nftables in a
network namespace, borg repositories, WinRM peers, the ePO peer), collection over
LDAP/WinRM/SSH/HTTPS, evaluation, the five report formats, the signed pack and its
verification. The company's deviations are decided in lab/auditpack_lab/company.py
(`Company.known`); the report must show exactly those and flag nothing else.
The test also takes the README's screenshot of the report in headless Chromium.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from auditpack.pack import extract_pack
from auditpack_lab.company import build_company
from auditpack_lab.registers import ANSWERED_LEAVERS
from auditpack_lab.runtime import lab_unavailable
from auditpack_lab.year import MINIMUM_COVERAGE, SPRAY_KEPT_HOURS
from conftest import auditpack_bin

REPO = Path(__file__).resolve().parent.parent
SCREENSHOT = REPO / "docs" / "images" / "demo-report.png"
CHROMIUM = shutil.which("chromium")

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


def test_every_run_of_the_year_and_the_pack_carry_an_rfc3161_timestamp_openssl_reads(demo):
    """The lab's TSA dates each replayed collection as of its day, within seconds of the run's end (none late)."""
    done, document, workdir, _ = demo
    runs = document["evidence_store"]["runs"]
    assert runs and all(r["timestamp"]["time"] and not r["timestamp"]["late"] for r in runs), runs
    assert all(r["started"][:10] == r["timestamp"]["time"][:10] for r in runs)
    pattern = rf"chronology: chain of runs \d+–{runs[-1]['seq']}; run timestamps: \d+ at commit; pack manifest: timestamped "
    assert re.search(pattern, done.stdout), done.stdout[-3000:]
    [pack] = (workdir / "reports").glob("auditpack-*.zip")
    unpacked = extract_pack(pack, workdir / "pack-check")
    ca = workdir / "keys" / "tsa-ca.pem"
    for name in ("MANIFEST.json", f"runs/{runs[0]['seq']:06d}-{runs[0]['manifest_sha256']}.json"):
        checked = subprocess.run(
            ["openssl", "ts", "-verify", "-in", f"{name}.tsr", "-data", name, "-CAfile", str(ca)],
            cwd=unpacked,
            capture_output=True,
            text=True,
        )
        assert "Verification: OK" in checked.stdout, (name, checked.stdout, checked.stderr)


def test_the_year_was_collected_as_its_model_says(demo):
    done, document, _, company = demo
    year = company.year
    runs = document["evidence_store"]["runs"]
    collections = [r for r in runs if r["hosts"] == len(company.workstations) + 5]  # dc01, fs01, fw01, backup01, epo01
    monthly = [c for c in year.collections if c.complete_inventory]
    assert [r["started"][:10] for r in collections] == [c.day.isoformat() for c in monthly]
    assert [r["status"] for r in collections] == ["partial" if c.down else "complete" for c in monthly]
    # the retries of the switched-off workstation, the firewall's afternoon run and the hand-made backup import
    singles = {r["started"][:10] for r in runs if r["hosts"] == 1 and r["started"][:10] != year.last_day.isoformat()}
    others = {c.day for c in year.collections if not c.complete_inventory}
    assert singles == {d.isoformat() for d in others | {year.firewall_backup_day, year.simulated[0].day}}
    assert not any(r["started"][:7] == year.missed_month.isoformat()[:7] and r["hosts"] > 1 for r in runs)
    # the console says how the year was collected, and both settings the coverage rests on
    assert "The company collects monthly; the profile asks for 90% of the months of the period evidenced" in done.stdout
    for c in year.simulated:
        assert f"{c.moment:%Y-%m-%d %H:%M}" in done.stdout


def _months(first: date, last: date) -> list[tuple[date, date]]:
    months, month = [], first.replace(day=1)
    while month <= last:
        following = (month + timedelta(days=32)).replace(day=1)
        months.append((month, following - timedelta(days=1)))
        month = following
    return months


def _expected(company) -> dict[str, tuple[str, set[tuple[str, str, str]], set[tuple[str, str]]]]:
    """Per flagged control, from the lab's year and its known deviations: (verdict, deviations as (subject, date,
    code), gaps as (subject, date)). Every other control is effective, without deviations or gaps."""
    known, year = company.known, company.year
    last = year.last_day.isoformat()
    leavers = {(f"KCDEMO\\{a}", company.person(a).last_day.isoformat(), "lvr.disabled_late") for a in known.late_leavers}
    leavers.add(
        (
            f"KCDEMO\\{known.logged_on_after_leaving}",
            company.person(known.logged_on_after_leaving).last_day.isoformat(),
            "lvr.logon_after",
        )
    )
    backups = {("fs01", d.isoformat(), "bak1.failed") for d in known.backup_failures["fs01"]}
    backups |= {("fs01", d.isoformat(), "bak1.missed") for d in known.backup_missed["fs01"]}
    ftp = {
        ("fw01", d.isoformat(), "fwp.unjustified") for d in year.collected_days("fw01", "firewall") if d >= year.ftp_rule_added
    }
    antivirus = {(ws, last, "av.signatures_old") for ws in set(known.old_signatures) - {known.excepted_workstation}}
    antivirus |= {(known.without_antivirus, last, "av.no_product"), (known.without_antivirus, last, "av.not_in_console")}
    host, first_down, last_down = year.outage
    down = [first_down + timedelta(days=n) for n in range((last_down - first_down).days + 1)]
    # the switched-off workstation: the monthly run read the console (enough for T-AV that day); the retries
    # read only the host (down, then back without its definitions' date, which only the console knows)
    retried = {(host, c.day.isoformat()) for c in year.collections if host in c.hosts}
    # the spray rolled dc01's log over: from the last collection before it to the oldest record kept, nothing
    oldest = year.spray - timedelta(hours=SPRAY_KEPT_HOURS)
    before = max(c.moment for c in year.collections if c.moment < year.spray)
    lost = {("dc01", (before.date() + timedelta(days=n)).isoformat()) for n in range((oldest.date() - before.date()).days + 1)}
    short = {
        ("dc01", d.isoformat(), "log2.retention")
        for d in year.collected_days("dc01", "dc")
        if d > year.spray.date() and (d - oldest.date()).days < 90
    }
    return {
        "O-LVR": ("not_effective", leavers, set()),
        "T-BAK-1": ("effective_with_deviations", backups, set()),
        "T-FWP": ("not_effective", ftp, set()),
        "T-AV": ("effective_with_deviations", antivirus, retried),
        "T-FWH": ("effective_with_deviations", set(), {(host, d.isoformat()) for d in down}),
        "T-LOG-2": ("effective_with_deviations", short, lost),
    }  # fmt: skip


def test_every_control_has_the_verdict_coverage_and_findings_the_year_had(demo):
    _, document, _, company = demo
    year = company.year
    # the lab's year ends today: the report says it is judged only up to today
    assert document["period"] == {"start": company.first_day.isoformat(), "end": company.today.isoformat(), "ended": False}
    controls = _controls(document)
    expected = _expected(company)
    months = _months(year.first_day, year.last_day)
    missed = [[year.missed_month.isoformat(), next(e for s, e in months if s == year.missed_month).isoformat()]]
    for control_id, control in controls.items():
        verdict, deviations, gaps = expected.get(control_id, ("effective", set(), set()))
        found = {(d["subject"], d["date"], d["code"]) for d in control["deviations"]}
        assert (control_id, control["status"], found) == (control_id, verdict, deviations)
        assert (control_id, {(g["subject"], g["date"]) for g in control["gaps"]}) == (control_id, gaps)
        assert len(found) == len(control["deviations"]), f"{control_id}: a finding listed twice"
        coverage = control["coverage"]
        if control["frequency"] == "per_collection" and coverage:
            # monthly, one month without a collection; the hand-made firewall backup covers it for T-FWP
            gap = [] if control_id == "T-FWP" else missed
            assert (control_id, coverage["unit"], coverage["expected"], coverage["missing"]) == (
                control_id,
                "month",
                len(months),
                gap,
            )
            assert coverage["evidenced"] == len(months) - len(gap) and coverage["minimum"] == MINIMUM_COVERAGE
        elif control["frequency"] == "daily":
            assert (control_id, coverage["expected"], coverage["evidenced"]) == (control_id, len(company.days), len(company.days))


def test_the_findings_say_what_the_year_did(demo):
    _, document, _, company = demo
    known, controls = company.known, _controls(document)
    late = {_account(d["subject"]): d for d in controls["O-LVR"]["deviations"] if d["code"] == "lvr.disabled_late"}
    for account, delay in known.late_leavers.items():
        assert f"{delay} days after the last working day" in late[account]["text"]
    assert all(known.unjustified_rule.service in d["text"] for d in controls["T-FWP"]["deviations"])
    antivirus = controls["T-AV"]
    assert [e["subject"].upper() for e in antivirus["excepted"]] == [known.excepted_workstation]
    assert antivirus["population"]["size"] == len(company.workstations)
    assert antivirus["population"]["completeness"]["missing"] == [
        {"host": known.without_antivirus.lower(), "missing_from": ["console"]}
    ]
    states = sorted(e["state"] for c in document["controls"] for e in c["exceptions"])
    assert states == ["active", "expired"]
    # the spray's days are lost to the rollover between two (incremental) collections, and the report says so
    spray_kept = (company.year.spray - timedelta(hours=SPRAY_KEPT_HOURS)).date().isoformat()
    lost = controls["T-LOG-2"]["gaps"]
    assert lost and {g["code"] for g in lost} == {"log2.rolled_over"}
    assert all(spray_kept in g["text"] for g in lost), lost[0]["text"]


def test_managements_responses_stand_beside_the_deviations_they_answer(demo):
    _, document, _, company = demo
    known, controls = company.known, _controls(document)
    answered = {(c["id"], d["subject"], d["date"]) for c in document["controls"] for d in c["deviations"] if d["response"]}
    late = sorted(known.late_leavers, key=lambda a: company.person(a).last_day)[:ANSWERED_LEAVERS]
    expected = {("O-LVR", f"KCDEMO\\{a}", company.person(a).last_day.isoformat()) for a in late}
    expected |= {("T-BAK-1", "fs01", d.isoformat()) for d in known.backup_failures["fs01"]}
    expected |= {("T-FWP", d["subject"], d["date"]) for d in controls["T-FWP"]["deviations"]}  # one row, a date range
    assert answered == expected
    assert document["responses"]["unmatched"] == []
    fixed = [d["response"] for d in controls["T-BAK-1"]["deviations"] if d["response"]]
    assert {r["retest_result"] for r in fixed} == {"success"} and all(r["fixed_on"] for r in fixed)
    assert controls["O-LVR"]["responses"] == {
        "answered": ANSWERED_LEAVERS,
        "open": len(known.late_leavers) + 1 - ANSWERED_LEAVERS,
    }
    assert controls["T-AV"]["responses"]["answered"] == 0 and controls["T-AV"]["responses"]["open"] > 0
    # the statement is signed by the company's director (the profile's signatory); the scope names what is
    # not tested, and the month-long retries of the switched-off workstation as runs that missed a host
    assert document["profile"]["signatory"]["role"] == "directeur" and document["profile"]["signatory"]["name"]
    missed = {(r["started"][:10], h["host"]) for r in document["scope"]["incomplete_runs"] for h in r["hosts"]}
    host, first, last = company.year.outage
    assert missed == {((first + timedelta(days=n)).isoformat(), host) for n in range((last - first).days + 1)}


def test_the_same_store_reported_twice_gives_identical_documents(demo, tmp_path):
    _, document, workdir, company = demo
    period = ["--from", document["period"]["start"], "--to", document["period"]["end"]]
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1796428800"}
    digests = []
    for n in (1, 2):
        done = subprocess.run(
            [auditpack_bin(), "report", "--store", str(workdir / "evidence"), *period, "--lang", "en",
             "--format", "json", "--format", "oscal", "--format", "html", "--out", str(tmp_path / str(n))],
            capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
        assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((tmp_path / str(n)).iterdir())})
    assert len(digests[0]) == 7 and digests[0] == digests[1]  # JSON, HTML, and OSCAL's results with the four files they import
    [json_name] = [name for name in digests[0] if name.endswith("-en.json")]
    assert json.loads((tmp_path / "1" / json_name).read_text())["generated_at"] == "2026-12-05T00:00:00.000000Z"


PDFTOTEXT, PDFTOPPM = shutil.which("pdftotext"), shutil.which("pdftoppm")
PAGE_IMAGES = {"sign-off": "Management statement and sign-off", "control": "T-AV · "}  # docs/images/report-<key>.png


def test_the_demo_pdf_is_readable_and_short(demo):
    # Before the print layout of issue 15 the demo's PDF ran to 402 pages (T-AV alone 99).
    if PDFTOTEXT is None or PDFTOPPM is None:
        pytest.skip("pdftotext/pdftoppm (Debian package poppler-utils) are not installed")
    _, _, workdir, _ = demo
    [pdf] = sorted((workdir / "reports").rglob("report-*-en.pdf"))
    pages = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split("\f")
    pages = [p for p in pages if p.strip()]
    assert len(pages) <= 60, len(pages)
    text = "\f".join(pages)
    assert not re.search(r"KCDEMO\\[\w.\-]+\n\s+\d{4}-\d{2}-\d{2}", text)  # no account name pushed over its date
    # the sign-off page and a control page as the suite rendered them, for the README and the closing note
    for key, heading in PAGE_IMAGES.items():
        number = next(n for n, page in enumerate(pages, start=1) if page.lstrip().startswith(heading))
        out = REPO / "docs" / "images" / f"report-{key}"
        subprocess.run(
            [PDFTOPPM, "-png", "-r", "70", "-f", str(number), "-l", str(number), "-singlefile", str(pdf), str(out)], check=True
        )
        assert out.with_suffix(".png").read_bytes().startswith(b"\x89PNG")


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
