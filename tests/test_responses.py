"""Management responses, scope and sign-off: the register matched to the report's deviations, what the report
does not cover, and the page to sign, in every format (real CLI, real store).

The year is tests/year_store.py's: fs01's failed backup of 2026-03-10 and its missed night of 2026-07-01,
fw01's unjustified rules every Monday, ws-017's old signatures, jdevries disabled late. The register answers
some of them (one on a date range, one by account without its domain), leaves others open, and has one row
that answers nothing (a typo in the workstation's name).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from openpyxl import load_workbook

from conftest import auditpack_bin
from year_store import FAILED_BACKUP, MISSING_BACKUP, STALE_AV, build_year

RESPONSES = (
    "Maatregel;Onderwerp;Datum;Tot en met;Oorzaak;Corrigerende maatregel;Eigenaar;Opgelost op;Hertest op;Hertest resultaat\r\n"
    "T-BAK-1;fs01;10-03-2026;;schijf vol;opgeschoond en bewaking ingesteld;ICT-beheer;11-03-2026;20-03-2026;geslaagd\r\n"
    "o-lvr;jdevries;30-04-2026;;HR meldde het vertrek te laat;vertrek in het HR-proces gemeld;HR;15-05-2026;;\r\n"
    "T-FWP;fw01;01-01-2026;31-12-2026;oude regels niet opgeruimd;regelbeoordeling per kwartaal;ICT-beheer;;;\r\n"
    "T-AV;ws-099;14-09-2026;;typefout;-;ICT-beheer;;;\r\n"
)
BROKEN = (
    "control;subject;date;until;cause;corrective_action;owner;retest_result\r\n"
    "T-XYZ;fs01;2026-03-10;;c;a;o;\r\n"
    "T-BAK-1;fs01;2026-03-10;2026-03-01;c;a;o;\r\n"
    "T-BAK-1;fs01;2026-03-10;;c;a;o;geslaagd\r\n"
)


def run(cwd, env, *args):
    return subprocess.run([auditpack_bin(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def reported(tmp_path_factory):
    root = tmp_path_factory.mktemp("responses")
    env = {**os.environ, "AUDITPACK_OPERATOR": "test-operator", "AUDITPACK_SIGNING_KEY": str(root / "keys" / "key.pem")}
    env.pop("AUDITPACK_STORE", None)
    build_year(root / "evidence", servers=2, workstations=3)
    (root / "reacties.csv").write_text(RESPONSES, encoding="utf-8")
    imported = run(root, env, "import", "register", "management_responses", "reacties.csv", "--source", "SharePoint-lijst",
                   "--exported", "2026-12-01")  # fmt: skip
    assert imported.returncode == 0, imported.stdout + imported.stderr
    (root / "review.pdf").write_bytes(b"%PDF-1.4\n% yearly continuity review\n")
    attached = run(root, env, "attach", "T-CON-2", "review.pdf", "--date", "2026-05-12", "--note", "review")
    assert attached.returncode == 0, attached.stdout + attached.stderr
    out = {}
    for lang in ("nl", "en"):
        done = run(root, env, "report", "--period", "2026", "--lang", lang, "--format", "json", "--format", "html",
                   "--format", "xlsx", "--format", "oscal", "--format", "ocsf", "--out", f"out-{lang}")  # fmt: skip
        assert done.returncode == 1, done.stdout + done.stderr
        found = sorted((root / f"out-{lang}").iterdir())
        out[lang] = {p.suffix: p for p in found if p.suffix != ".json" or p.stem.endswith(f"-{lang}")}
        out[lang] |= {p.stem.rsplit("-", 1)[1]: p for p in found if p.stem.endswith(("-oscal", "-ocsf"))}
        out[lang]["stderr"] = done.stderr
    return root, env, out


def controls(document):
    return {c["id"]: c for c in document["controls"]}


def test_each_deviation_carries_its_response_or_is_open(reported):
    _, _, out = reported
    document = json.loads(out["en"][".json"].read_text())
    by_id = controls(document)
    backups = {(d["subject"], d["date"]): d["response"] for d in by_id["T-BAK-1"]["deviations"]}
    failed = backups[FAILED_BACKUP]
    assert (failed["cause"], failed["fixed_on"], failed["retest_on"], failed["retest_result"], failed["row"]) == (
        "schijf vol", "2026-03-11", "2026-03-20", "success", 2,
    )  # fmt: skip
    assert backups[MISSING_BACKUP] is None  # not answered: open
    [late] = [d for d in by_id["O-LVR"]["deviations"] if "jdevries" in d["subject"]]
    assert late["response"]["owner"] == "HR" and late["response"]["row"] == 3  # o-lvr, and the account without domain
    firewall = by_id["T-FWP"]["deviations"]
    assert firewall and all(d["response"]["row"] == 4 for d in firewall)  # one row answers the whole range
    assert [d["response"] for d in by_id["T-AV"]["deviations"] if (d["subject"], d["date"]) == STALE_AV] == [None]
    assert by_id["T-BAK-1"]["responses"] == {"answered": 1, "open": 2}  # the missed night; dc01 (no exceptions given)
    assert document["responses"]["unmatched"] == [
        {"row": 5, "control": "T-AV", "subject": "ws-099", "date": "2026-09-14", "until": None}
    ]
    # the pack must carry the register the responses rest on: it is cited as evidence where a response is used
    register = document["responses"]["register"]["item_id"]
    assert any(e["item_id"] == register for e in by_id["T-BAK-1"]["evidence"])
    assert not any(e["item_id"] == register for e in by_id["T-AV"]["evidence"])  # no response used there


def test_the_report_shows_responses_beside_deviations_in_each_language(reported):
    _, _, out = reported
    english, dutch = out["en"][".html"].read_text(), out["nl"][".html"].read_text()
    assert "<th>Management response</th>" in english and "<th>Reactie van het management</th>" in dutch
    assert "Cause: schijf vol. Corrective action: opgeschoond en bewaking ingesteld" in english
    assert "retest 2026-03-20: passed" in english and "hertest 2026-03-20: geslaagd" in dutch
    assert english.count("open: no response yet") >= 2 and "open: nog geen reactie" in dutch
    unmatched = english[english.index('id="responses"') :]
    assert "ws-099" in unmatched[: unmatched.index("</section>")]


def test_the_workbook_lists_every_deviation_with_its_response(reported):
    _, _, out = reported
    document = json.loads(out["en"][".json"].read_text())
    sheet = load_workbook(out["en"][".xlsx"])["Responses"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = next(i for i, r in enumerate(rows) if r[0] == "Control")
    body = [r for r in rows[header + 1 :] if r[0]]
    total = sum(len(c["deviations"]) for c in document["controls"])
    assert len([r for r in body if r[4] in ("Answered", "Open")]) == total
    [failed] = [r for r in body if r[0] == "T-BAK-1" and r[1] == FAILED_BACKUP[0] and str(r[2])[:10] == FAILED_BACKUP[1]]
    assert failed[4:8] == ["Answered", "schijf vol", "opgeschoond en bewaking ingesteld", "ICT-beheer"]
    assert failed[10] == "passed" and failed[11] == 2
    assert any("ws-099" in (r[0] or "") for r in rows[header:])  # the row that answers nothing, named


def test_a_broken_responses_register_is_refused_with_every_problem_named(reported, tmp_path):
    root, env, _ = reported
    (tmp_path / "broken.csv").write_text(BROKEN, encoding="utf-8")
    done = run(
        root, env, "import", "register", "management_responses", str(tmp_path / "broken.csv"), "--store", str(tmp_path / "ev")
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    text = done.stdout + done.stderr
    assert "broken.csv:row 2: control: 'T-XYZ' is not a control of the catalogue" in text
    assert "broken.csv:row 3: until: 2026-03-01 lies before the first day answered (2026-03-10)" in text
    assert "broken.csv:row 4: retest_result: a retest result needs the retest's date" in text
    assert not (tmp_path / "ev").exists() or not list((tmp_path / "ev").rglob("*.json"))  # nothing stored


def test_report_shows_its_steps_as_they_begin(reported):
    # Before: `report` printed nothing for the 20-50 s it took; now each step on stderr, with the time since the start.
    _, _, out = reported
    steps = [line.split("s  ", 1)[1] for line in out["en"]["stderr"].splitlines() if " s  " in line]
    assert steps == [
        "evaluating 22 controls over 2026-01-01 – 2026-12-31",
        "writing HTML",
        "writing XLSX",
        "writing JSON",
        "writing OSCAL",
        "writing OCSF",
        "done",
    ]


def test_the_scope_says_what_the_verdicts_do_not_cover(reported):
    _, _, out = reported
    scope = json.loads(out["en"][".json"].read_text())["scope"]
    assert {limit["measure"] for limit in scope["not_tested"]} >= {"O-SRV", "O-RET", "T-AV"}
    assert all(limit["why"] and limit["what"] for limit in scope["not_tested"])
    based = {d["control"] for d in scope["document_based"]}
    assert {"O-BRE", "T-BAK-2", "T-CON-1", "T-SUP"} <= based and not based & {"T-AV", "T-BAK-1", "O-LVR", "O-NDA"}
    # every control without a verdict, with its reason
    document = json.loads(out["en"][".json"].read_text())
    unjudged = {c["id"] for c in document["controls"] if c["status"] in ("not_applicable", "not_evidenced")}
    assert {w["control"] for w in scope["without_verdict"]} == unjudged and all(w["reason"] for w in scope["without_verdict"])
    supplied = {f["kind"]: f for f in scope["supplied"]}
    responses = supplied["register.management_responses"]
    assert (responses["source"], responses["exported"], responses["supplied_by"], responses["file"]) == (
        "SharePoint-lijst", "2026-12-01", "processor", "reacties.csv",
    )  # fmt: skip
    assert supplied["manual.evidence"]["source"] is None and supplied["manual.evidence"]["file"] == "review.pdf"
    english = out["en"][".html"].read_text()
    assert "<h2>Scope and limitations</h2>" in english and "SharePoint-lijst" in english and "not given" in english
    assert "<h2>Reikwijdte en beperkingen</h2>" in out["nl"][".html"].read_text()
    sheet = load_workbook(out["nl"][".xlsx"])["Reikwijdte"]
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("SharePoint-lijst" in t for t in texts) and any("aangeleverd door de verwerker" in t for t in texts)
    sections = {row[0].value for row in sheet.iter_rows(min_row=2) if row[0].value}
    assert {"Toezeggingen die niet of niet volledig worden getoetst", "Aangeleverde bestanden"} <= sections


def test_the_sign_off_page_leaves_room_for_the_processor_and_the_auditor(reported):
    _, _, out = reported
    english, dutch = out["en"][".html"].read_text(), out["nl"][".html"].read_text()
    page = english[english.index('id="signoff"') :]
    page = page[: page.index("</section>")]
    assert "Management statement and sign-off" in page and "states that the measures of" in page
    for label in ("Name", "Role", "Place", "Date", "Signature", "Overall conclusion", "Auditor"):
        assert f"<th>{label}</th>" in page or f">{label}</th>" in page, label
    document = json.loads(out["en"][".json"].read_text())
    assert page.count('class="blank"') == len(document["controls"]) + 1  # one per control, and overall
    assert "Verklaring van het management en ondertekening" in dutch
    sheet = load_workbook(out["en"][".xlsx"])["Sign-off"]
    values = [c.value for row in sheet.iter_rows() for c in row if c.value]
    assert "Overall conclusion" in values and "T-BAK-1" in values and "Signature" in values


def test_an_export_date_after_today_is_refused(reported, tmp_path):
    root, env, _ = reported
    done = run(root, env, "import", "register", "management_responses", "reacties.csv", "--exported", "2999-01-01",
               "--store", str(tmp_path / "ev"))  # fmt: skip
    assert done.returncode == 2 and "--exported" in done.stderr and "Traceback" not in done.stderr


def test_oscal_and_ocsf_carry_the_response_and_its_state(reported):
    _, _, out = reported
    results = json.loads(out["en"]["oscal"].read_text())["assessment-results"]
    observations = [o for r in results["results"] for o in r.get("observations", [])]

    def observation(subject: str, date: str) -> dict:
        [found] = [
            o for o in observations
            if {p["name"]: p["value"] for p in o["props"]}.get("subject") == subject
            and {p["name"]: p["value"] for p in o["props"]}.get("date") == date
            and {p["name"]: p["value"] for p in o["props"]}.get("finding-kind") == "deviation"
        ]  # fmt: skip
        return found

    failed = observation(*FAILED_BACKUP)
    named = {p["name"]: p["value"] for p in failed["props"]}
    assert (named["response"], named["response-owner"], named["response-retest-result"]) == ("answered", "ICT-beheer", "success")
    assert failed["remarks"] == "schijf vol — opgeschoond en bewaking ingesteld"
    assert {p["name"]: p["value"] for p in observation(*MISSING_BACKUP)["props"]}["response"] == "open"
    findings = json.loads(out["en"]["ocsf"].read_text())

    def workflow(subject: str, date: str) -> str:
        [found] = [
            f["status"] for f in findings
            if f.get("unmapped", {}).get("auditpack", {}).get("kind") == "deviation"
            and f["unmapped"]["auditpack"]["subject"] == subject and f["unmapped"]["auditpack"]["date"] == date
        ]  # fmt: skip
        return found

    assert workflow(*FAILED_BACKUP) == "Resolved"  # answered, and its retest passed
    assert workflow(*MISSING_BACKUP) == "New"
    assert workflow("fw01", "2026-01-05") == "InProgress"  # answered, not retested


def test_a_subject_matches_with_or_without_its_domain_but_a_path_only_whole():
    # Before: anything after the last backslash was compared, so fs02's E:\\Opnames answered fs01's D:\\Opnames.
    from auditpack.responses import same_subject

    assert same_subject("KCDEMO\\jdevries", "jdevries") and same_subject("JDevries", "kcdemo\\JDEVRIES")
    assert not same_subject("fs01:D:\\Opnames", "fs02:E:\\Opnames")
    assert same_subject("fs01:D:\\Opnames", "FS01:d:\\opnames") and not same_subject("jdevries", "pjansen")
