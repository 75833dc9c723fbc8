"""The yearly audit from the command line: report in every format, sample, signed pack, verify, diff, pseudonyms.

One synthetic year (tests/year_store.py) in a real store; every step runs the
installed `auditpack` command as a user would.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding

from auditpack.pack import extract_pack
from auditpack.pseudonymise import names_in_store
from conftest import auditpack_bin
from oscal_chain import unresolved
from year_store import ACCOUNTS, FAILED_BACKUP, MISSING_BACKUP, build_year

PDFTOTEXT = shutil.which("pdftotext")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("annual")
    year = build_year(root / "ev")
    (root / "exceptions.yaml").write_text(
        "exceptions:\n"
        "  - {control: T-BAK-1, scope: dc01, justification: backup disk replaced that night, owner: ICT manager,"
        " approver: Director, expires: 2027-03-31}\n"
        "  - {control: T-AV, scope: ws-023, justification: lab machine replaced in Q2, owner: Service desk,"
        " approver: ICT manager, expires: 2026-05-31}\n"
    )
    return root, year


def cli(root: Path, env: dict, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {
        **env,
        "AUDITPACK_SIGNING_KEY": str(root / "keys" / "signing.pem"),
        "AUDITPACK_PSEUDONYM_KEY": str(root / "keys" / "pseudonym-key"),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [auditpack_bin(), *args, "--store", "ev"], cwd=root, env=env, capture_output=True, text=True, timeout=timeout
    )


def pdf_text(path: Path) -> str:
    return subprocess.run([PDFTOTEXT, "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed; scripts/test.sh installs it")
def test_report_sample_pack_verify_and_diff(site, cli_env):
    root, year = site
    sampled = cli(root, cli_env, "sample", "T-BAK-1", "--size", "4", "--seed", "2026", "--period", "2026")
    assert sampled.returncode == 0, sampled.stderr
    drawn = [line.strip() for line in sampled.stdout.splitlines() if line.startswith("  ") and not line.startswith("    ")]

    done = cli(root, cli_env, "report", "--period", "2026", "--exceptions", "exceptions.yaml", "--out", "out")
    assert done.returncode == 1, done.stderr  # written, with the year's known deviations: exit 1 by the rule
    base = "report-20260101-20261231-nl"
    files = {key: root / "out" / f"{base}{key}" for key in (".html", ".pdf", ".xlsx", ".json")}
    files |= {key: root / "out" / f"{base}-{key}.json" for key in ("oscal", "ocsf")}
    oscal_parts = [root / "out" / f"{base}-oscal-{part}.json" for part in ("plan", "ssp", "profile", "catalogue")]
    assert sorted((root / "out").iterdir()) == sorted([*files.values(), *oscal_parts])
    host, day = FAILED_BACKUP
    # the known deviation, with its date, in every format
    assert day in files[".html"].read_text() and drawn[0] in files[".html"].read_text()
    assert re.search(rf"{host}.*{day}|{day}.*{host}", pdf_text(files[".pdf"]))
    document = json.loads(files[".json"].read_text())
    bak = next(c for c in document["controls"] if c["id"] == "T-BAK-1")
    assert [(d["subject"], d["date"]) for d in bak["deviations"]] == [FAILED_BACKUP, MISSING_BACKUP]  # failed, missed
    assert [s["drawn"] for s in bak["samples"]] == [drawn]
    [stored] = bak["samples"]
    assert stored["drawn_by"] == "test-operator"  # AUDITPACK_OPERATOR, recorded with the sample
    tested = {(t["subject"], t["date"]): t for t in bak["tested_items"]}
    assert [{k: v for k, v in i.items() if k != "unit"} for i in stored["items"]] == [
        tested[tuple(unit.split())] for unit in drawn
    ]  # each drawn day as the report tested it: result, attributes, evidence
    sheet = load_workbook(files[".xlsx"])["T-BAK-1"]
    dated = [
        row
        for row in sheet.iter_rows(values_only=True)
        if host in row and any(getattr(v, "isoformat", lambda: "")()[:10] == day for v in row)
    ]
    assert dated, "the deviation's row carries its date as a real date"
    oscal = files["oscal"].read_text()
    assert day in oscal and '"assessment-results"' in oscal
    assert any(f["finding_info"]["title"].endswith(f"{host} op {day}") for f in json.loads(files["ocsf"].read_text()))

    packed = cli(root, cli_env, "pack", "--period", "2026", "--exceptions", "exceptions.yaml", "--out", "packs")
    assert packed.returncode == 1, packed.stderr
    # each step shown as it begins (before: a spinner for the whole 20-50 s)
    for step in ("evaluating 22 controls", "writing PDF", "writing OSCAL", "evidence items and signing", "done"):
        assert step in packed.stderr, packed.stderr
    [pack] = (root / "packs").glob("auditpack-*.zip")
    public = root / "packs" / "signing-key.pub"
    ok = subprocess.run([auditpack_bin(), "verify", str(pack), "--key", str(public)], capture_output=True, text=True)
    assert ok.returncode == 0 and "Pack intact" in ok.stdout, ok.stdout + ok.stderr
    # the pack's OSCAL resolves inside it, and its OCSF findings are what the library's model reads
    unpacked = extract_pack(pack, root / "unpacked") / "report"
    assert unresolved(unpacked / files["oscal"].name) == []
    for finding in json.loads((unpacked / files["ocsf"].name).read_text()):
        ComplianceFinding.model_validate(finding)
    # one changed byte in one evidence blob: verify fails and names the file
    tampered = root / "packs" / "tampered.zip"
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(tampered, "w") as dst:
        victim = next(n for n in src.namelist() if n.startswith("evidence/raw/"))
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, data[:-1] + bytes([data[-1] ^ 1]) if info.filename == victim else data)
    bad = subprocess.run([auditpack_bin(), "verify", str(tampered), "--key", str(public)], capture_output=True, text=True)
    assert bad.returncode == 1 and victim in bad.stdout

    half = cli(root, cli_env, "pack", "--from", "2026-01-01", "--to", "2026-04-30", "--out", "packs-q1")
    assert half.returncode == 1, half.stderr
    [old] = (root / "packs-q1").glob("auditpack-*.zip")
    diff = subprocess.run([auditpack_bin(), "diff", str(old), str(pack), "--lang", "en"], capture_output=True, text=True)
    assert diff.returncode == 1 and "tcp/8443" in diff.stdout and "T-AV" in diff.stdout


def strings_in_pack(pack: Path, workdir: Path) -> dict[str, str]:
    """Every file's text: zip members as UTF-8 (lossy), the workbook's XML parts, the PDF's text."""
    found = {}
    with zipfile.ZipFile(pack) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            found[name] = data.decode("utf-8", errors="replace")
            if name.endswith(".xlsx"):
                with zipfile.ZipFile(io.BytesIO(data)) as book:
                    for part in book.namelist():
                        found[f"{name}!{part}"] = book.read(part).decode("utf-8", errors="replace")
            if name.endswith(".pdf") and PDFTOTEXT:
                (workdir / "report.pdf").write_bytes(data)
                found[f"{name}!text"] = pdf_text(workdir / "report.pdf")
    return found


def test_pseudonymised_pack_holds_no_name_and_the_key_reveals_them(site, cli_env, tmp_path):
    root, year = site
    done = cli(root, cli_env, "pack", "--period", "2026", "--pseudonymise", "--out", "pseudo", "--lang", "en")
    assert done.returncode == 1, done.stderr
    [pack] = (root / "pseudo").glob("auditpack-*-pseudonymised.zip")
    names = names_in_store(year.store)
    assert {"Jan de Vries", "jdevries", "KCDEMO\\jdevries"} <= names
    texts = strings_in_pack(pack, tmp_path)
    assert any(k.endswith(".pdf!text") for k in texts) or PDFTOTEXT is None
    leaks = [(name, where) for where, text in texts.items() for name in names if name.casefold() in text.casefold()]
    assert leaks == []
    document = json.loads(texts["report/document.json"])
    lvr = next(c for c in document["controls"] if c["id"] == "O-LVR")
    [late] = lvr["deviations"]
    assert late["date"] == "2026-04-30" and late["subject"].startswith("P-")  # followable, not readable
    pseudonym = re.search(r"P-[0-9a-f]{10}", late["subject"]).group(0)
    revealed = cli(root, cli_env, "reveal", pseudonym)
    assert revealed.returncode == 0 and "jdevries" in revealed.stdout
    assert set(ACCOUNTS.values()) <= {n.rsplit("\\", 1)[-1] for n in names}
