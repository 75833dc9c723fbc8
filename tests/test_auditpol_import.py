"""`auditpack import auditpol`: saved audit policies in the forms real exports take, through to T-LOG-1's verdict.

The corpus holds one real audit policy: `auditpol /get /category:*` of a Windows Server 2019 DC, saved as
UTF-16LE with BOM (windows_audit_policy/y3man__WS19_DC_CIS/auditpol.txt). The CSV exports below are made from
it: one row per subcategory of that file whose GUID the parser's English name table knows (ENGLISH_NAMES), with
that subcategory's setting as the file shows it; then written in the encodings and with the code-page line a
console gives (`chcp` output, "Active code page: 437", or Dutch "Actieve codetabel: 850"), and in Dutch or
German wording, or with /backup's numeric Setting Value.
"""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from auditpack.collectors.parsers.auditpol import ENGLISH_NAMES, SUFFIX, parse_auditpol_csv, parse_auditpol_text
from conftest import auditpack_bin, corpus_file

REAL = "windows_audit_policy/y3man__WS19_DC_CIS/auditpol.txt"
R_HEADER = "Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting"
DUTCH = {
    "No Auditing": "Geen controle",
    "Success": "Geslaagd",
    "Failure": "Mislukt",
    "Success and Failure": "Geslaagd en mislukt",
}
GERMAN = {
    "No Auditing": "Keine Überwachung",
    "Success": "Erfolg",
    "Failure": "Fehler",
    "Success and Failure": "Erfolg und Fehler",
}
NUMBERS = {"No Auditing": "0", "Success": "1", "Failure": "2", "Success and Failure": "3"}


def real_settings() -> list[tuple[str, str, str]]:
    """(name, GUID, English setting) of the real file's subcategories that have a GUID in the name table."""
    text = corpus_file(REAL).read_bytes().decode("utf-16")
    rows = []
    for line in text.splitlines():
        name, _, setting = line.strip().partition("  ")
        if line.startswith("  ") and name in ENGLISH_NAMES:
            rows.append((name, f"{{{ENGLISH_NAMES[name]}{SUFFIX}}}".upper(), setting.strip()))
    assert len(rows) == len(ENGLISH_NAMES)  # every subcategory of the table is in the real file
    return rows


def r_export(words: dict[str, str] | None = None, code_page: str | None = "Active code page: 437") -> str:
    lines = [code_page] if code_page else []
    lines.append(R_HEADER)
    lines += [f"WS19-DC,System,{n},{g},{(words or {}).get(s, s)}," for n, g, s in real_settings()]
    return "\r\n".join(lines) + "\r\n"


def backup_export(value: str | None = None) -> str:
    rows = [f"WS19-DC,System,{n},{g},{GERMAN[s]},,{value or NUMBERS[s]}" for n, g, s in real_settings()]
    return "\r\n".join([R_HEADER + ",Setting Value", *rows]) + "\r\n"


VARIANTS = {
    "r, UTF-16LE with BOM, code-page line": lambda: "\ufeff".encode("utf-16-le") + r_export().encode("utf-16-le"),
    "r, UTF-16LE without BOM, Dutch": lambda: r_export(DUTCH, "Actieve codetabel: 850").encode("utf-16-le"),
    "r, UTF-8 with BOM, no code-page line": lambda: r_export(code_page=None).encode("utf-8-sig"),
    "r, UTF-8 without BOM, German": lambda: r_export(GERMAN).encode("utf-8"),
    "backup, UTF-8, German names and numbers": lambda: backup_export().encode("utf-8"),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_form_reads_as_the_real_policy(variant):
    expected = {
        guid: (entry["success"], entry["failure"])
        for guid, entry in parse_auditpol_text(corpus_file(REAL).read_bytes())["subcategories"].items()
        if not guid.startswith("name:")
    }
    found = parse_auditpol_csv(VARIANTS[variant]())
    assert {guid: (e["success"], e["failure"]) for guid, e in found["subcategories"].items()} == expected
    assert found["machines"] == ["WS19-DC"]
    assert found["form"] == ("backup" if variant.startswith("backup") else "r")
    # the one subcategory that DC audited
    assert expected["0cce923f" + SUFFIX] == (True, True)


def run(tmp_path: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([auditpack_bin(), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)


def t_log_1(tmp_path: Path, env: dict, day: str) -> tuple[int, dict]:
    out = tmp_path / f"report-{day}"
    done = run(tmp_path, env, "report", "--control", "T-LOG-1", "--from", day, "--to", day, "--format", "json", "--out", str(out))
    assert done.returncode in (0, 1), done.stderr
    (document,) = [json.loads(p.read_text()) for p in out.glob("*.json")]
    return done.returncode, document["controls"][0]


def test_an_imported_policy_is_t_log_1s_evidence_for_its_date(tmp_path, cli_env):
    export = tmp_path / "dc02-auditpol.csv"
    export.write_bytes(VARIANTS["r, UTF-16LE with BOM, code-page line"]())
    done = run(tmp_path, cli_env, "import", "auditpol", str(export), "--host", "dc02", "--date", "2026-11-02")
    assert done.returncode == 0, done.stderr
    assert "as of 2026-11-02 (/r CSV, 16 subcategories)" in done.stdout
    assert "T-LOG-1: 1 of the 8 required subcategories meet the required settings; not: Logon, Logoff" in done.stdout
    code, result = t_log_1(tmp_path, cli_env, "2026-11-02")
    assert (code, result["status"]) == (1, "not_effective")
    assert [(d["subject"], d["date"], d["code"]) for d in result["deviations"]] == [("dc02", "2026-11-02", "log1.subcategory")]
    # the day before, the import says nothing: it is not evidence of a day it does not speak for
    assert t_log_1(tmp_path, cli_env, "2026-11-01")[1]["deviations"] == []


def test_a_policy_auditing_everything_passes(tmp_path, cli_env):
    export = tmp_path / "dc03-backup.csv"
    export.write_bytes(backup_export("3").encode("utf-8"))
    assert run(tmp_path, cli_env, "import", "auditpol", str(export), "--host", "dc03", "--date", "2026-11-02").returncode == 0
    code, result = t_log_1(tmp_path, cli_env, "2026-11-02")
    assert (code, result["status"], result["tested"]) == (0, "effective", 1)


def test_a_date_in_the_future_or_a_file_that_is_no_export_is_refused(tmp_path, cli_env):
    export = tmp_path / "dc02-auditpol.csv"
    export.write_bytes(VARIANTS["r, UTF-8 without BOM, German"]())
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    done = run(tmp_path, cli_env, "import", "auditpol", str(export), "--host", "dc02", "--date", tomorrow)
    assert done.returncode == 2 and "in the future" in done.stderr
    other = tmp_path / "notes.txt"
    other.write_text("some notes\n")
    done = run(tmp_path, cli_env, "import", "auditpol", str(other), "--host", "dc02", "--date", "2026-11-02")
    assert done.returncode == 2 and "not an auditpol export" in done.stderr
    assert not (tmp_path / "evidence" / "manifests").exists() or not any((tmp_path / "evidence" / "manifests").iterdir())


def test_an_export_without_subcategories_exits_1(tmp_path, cli_env):
    export = tmp_path / "empty.csv"
    export.write_text("Active code page: 437\r\n" + R_HEADER + "\r\n")
    done = run(tmp_path, cli_env, "import", "auditpol", str(export), "--host", "dc02", "--date", "2026-11-02")
    assert done.returncode == 1 and "no subcategory" in done.stdout


def test_attaching_an_auditpol_export_points_to_the_import(tmp_path, cli_env):
    export = tmp_path / "dc02-auditpol.csv"
    export.write_bytes(VARIANTS["r, UTF-16LE without BOM, Dutch"]())
    done = run(tmp_path, cli_env, "attach", "T-LOG-1", str(export), "--date", "2026-11-02", "--note", "auditpol of dc02")
    assert done.returncode == 0, done.stderr
    assert "is an auditpol export: `auditpack import auditpol" in done.stdout
    pdf = tmp_path / "review.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% a review\n")
    done = run(tmp_path, cli_env, "attach", "T-CON-2", str(pdf), "--date", "2026-11-02", "--note", "review")
    assert done.returncode == 0 and "auditpol" not in done.stdout
