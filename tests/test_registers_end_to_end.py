"""Registers and attachments through the command line into the store, evaluated in the report."""

from __future__ import annotations

import re
import subprocess

from auditpack.store import EvidenceStore
from conftest import auditpack_bin

RESTORE_TESTS = """tested_on,server,result,performed_by
2026-01-20,fs01,success,J. de Vries
2026-03-20,fs01,success,J. de Vries
2026-07-01,fs01,failure,J. de Vries
2026-07-03,fs01,success,J. de Vries
2026-09-01,fs01,success,A. Bakker
2026-11-01,fs01,success,A. Bakker
"""
EXCEPTIONS = """exceptions:
  - control: T-BAK-2
    scope: "2026-03-20/*"
    justification: Restore test in mei verschoven wegens verhuizing serverruimte
    owner: ICT-beheer
    approver: Directie
    expires: 2026-07-31
"""
PROFILE = "name: Klant B\ncustomer: Zorgverzekeraar B\nparameters:\n  T-BAK-2:\n    max_interval_days: 120\n"


def run(args, cwd, env):
    return subprocess.run([auditpack_bin(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_register_attachment_profile_and_exceptions_reach_the_report(tmp_path, cli_env):
    (tmp_path / "restore.csv").write_text(RESTORE_TESTS)
    imported = run(["import", "register", "restore_tests", "restore.csv"], tmp_path, cli_env)
    assert imported.returncode == 0, imported.stderr
    assert "Stored 6 rows of restore_tests" in imported.stdout
    (tmp_path / "review.pdf").write_bytes(b"%PDF-1.4 continuity review\n%%EOF\n")
    attached = run(
        ["attach", "T-CON-2", "review.pdf", "--date", "2026-05-12", "--note", "Yearly review by Example ICT"], tmp_path, cli_env
    )
    assert attached.returncode == 0, attached.stderr

    store = EvidenceStore(tmp_path / "evidence", create=False)
    [reg] = store.items(kinds=["register.restore_tests"])
    assert store.read_blob(reg.raw_sha256) == RESTORE_TESTS.encode()  # byte for byte
    [doc] = store.items(kinds=["manual.evidence"])
    assert store.read_json(doc.normalized_sha256)["media_type"] == "application/pdf"

    (tmp_path / "exceptions.yaml").write_text(EXCEPTIONS)  # picked up from the working directory
    done = run(["report", "--period", "2026", "--lang", "en", "--control", "T-BAK-2", "--control", "T-CON-2"], tmp_path, cli_env)
    assert done.returncode == 1, done.stderr  # T-BAK-2 has a deviation (the failed test of 1 July)
    html = (tmp_path / "reports-out" / "report-20260101-20261231-en.html").read_text()
    t_bak_2 = html[html.index('id="T-BAK-2"') : html.index('id="T-CON-2"')]
    assert re.search(r"Deviations \(1\)", t_bak_2) and "restore test of fs01 failed" in t_bak_2  # 1 July
    # 20 Mar -> 3 Jul is 105 days without a successful test: excepted, and the exception has expired since
    assert re.search(r"Excepted \(1\)", t_bak_2) and "105 days between 2026-03-20 and 2026-07-03" in t_bak_2
    assert "<td>expired</td><td>1</td>" in t_bak_2
    assert reg.raw_sha256 in t_bak_2
    t_con_2 = html[html.index('id="T-CON-2"') :]
    assert "Effective</span>" in t_con_2 and doc.raw_sha256 in t_con_2

    (tmp_path / "klant-b.yaml").write_text(PROFILE)
    lenient = run(
        ["report", "--period", "2026", "--lang", "nl", "--control", "T-BAK-2", "--profile", "klant-b.yaml"], tmp_path, cli_env
    )
    assert lenient.returncode == 1, lenient.stderr  # the failed restore test is a deviation under any interval
    html = (tmp_path / "reports-out" / "report-20260101-20261231-nl.html").read_text()
    assert "Klant B" in html and "Zorgverzekeraar B" in html and "max_interval_days</code> = 120" in html


def test_a_register_with_mistakes_is_refused_whole(tmp_path, cli_env):
    (tmp_path / "restore.csv").write_text("tested_on,server,result\n2026-13-01,fs01,success\n2026-02-01,,maybe\n")
    done = run(["import", "register", "restore_tests", "restore.csv"], tmp_path, cli_env)
    assert done.returncode == 2
    assert "restore.csv:row 2: tested_on:" in done.stderr
    assert "restore.csv:row 3: server:" in done.stderr and "restore.csv:row 3: result:" in done.stderr
    assert not (tmp_path / "evidence" / "runs").exists() or not list((tmp_path / "evidence" / "runs").iterdir())


def test_controls_command_lists_the_catalogue_as_json(tmp_path, cli_env):
    import json

    done = run(["controls", "--json"], tmp_path, cli_env)
    assert done.returncode == 0
    data = json.loads(done.stdout)
    by_id = {c["id"]: c for c in data["controls"]}
    assert by_id["T-BAK-2"]["parameters"]["max_interval_days"]["default"] == 62
    assert by_id["O-LVR"]["title"]["nl"] and by_id["O-LVR"]["title"]["en"]
    assert len(by_id) >= 17
    table = run(["controls", "--lang", "nl"], tmp_path, {**cli_env, "COLUMNS": "200"})
    assert "O-LVR" in table.stdout and "T-BAK-1" in table.stdout
