"""The console for cron and for people: --quiet, --json, --no-color/NO_COLOR, pipes not cut at 80 columns, large runs
summarised (--details for all), and text from hosts and inventories shown literally, never as markup or escapes.

Real peers: an OpenSSH server on 127.0.18.1 whose identification line carries markup and terminal escapes
(sshd's VersionAddendum), refused ports on 127.0.18.2 (addresses no other test uses), this machine's local collector,
and a synthetic year in a real store for report and pack.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditpack_lab.peers.sockets import refused_port
from auditpack_lab.peers.sshd import running_sshd, sshd_unavailable
from conftest import auditpack_bin

SSHD_ADDRESS = "127.0.18.1"
GONE_ADDRESS = "127.0.18.2"
# What a hostile or careless host sends: rich markup, an ANSI colour, a terminal-title OSC ended by BEL, an emoji code.
HOSTILE = "[/] [bold]x \x1b[31mred\x1b]0;title\x07 :warning:"
HOSTILE_SHOWN = "[/] [bold]x \\x1b[31mred\\x1b]0;title\\x07 :warning:"
HOST_NAME = "fw[/]01[bold]\x1b[31m"
HOST_NAME_SHOWN = "fw[/]01[bold]\\x1b[31m"
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def run(args, cwd, env, timeout=300):
    return subprocess.run([auditpack_bin(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def env(cli_env):
    """A pipe, as under cron: no COLUMNS, no colour asked for."""
    env = dict(cli_env)
    for name in ("COLUMNS", "NO_COLOR", "FORCE_COLOR", "AUDITPACK_STORE", "AUDITPACK_TSA_URL", "AUDITPACK_TSA_CA"):
        env.pop(name, None)
    return env


def colours(text: str) -> set[int]:
    """The SGR colour parameters (foreground and background) in TEXT."""
    found = set()
    for params in SGR.findall(text):
        for p in filter(None, params.split(";")):
            n = int(p)
            if 30 <= n <= 49 or 90 <= n <= 107:
                found.add(n)
    return found


def foreign_escapes(text: str) -> list[str]:
    """Control characters in TEXT other than rich's own SGR sequences, line breaks and tabs."""
    return re.findall(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", SGR.sub("", text))


# --- literal: the pure part -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_text", "shown"),
    [
        ("[/]", "[/]"),
        ("[bold red]fw01[/]", "[bold red]fw01[/]"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),
        ("ok\rFAKE", "ok\\rFAKE"),
        ("two\nlines", "two\\nlines"),
        ("\x9b2J", "\\x9b2J"),  # the one-byte CSI
        ("abc\u202edcba", "abc\\u202edcba"),  # a right-to-left override
        ("D:\\Opnames", "D:\\Opnames"),  # a Windows path is left as it is
        ("Ünïcödé ws-017", "Ünïcödé ws-017"),
    ],
)
def test_literal_shows_control_characters_as_escapes(given_text, shown):
    from auditpack.commands.output import literal

    assert literal(given_text) == shown


@given(st.text())
def test_literal_leaves_no_control_character(text):
    import unicodedata

    from auditpack.commands.output import literal

    shown = literal(text)
    assert not [c for c in shown if unicodedata.category(c) == "Cc" or c in "\u2028\u2029\u202e\u2066"]
    assert literal(shown) == shown  # printable text is left alone


def test_the_console_escapes_what_reaches_it_unescaped():
    """The safety net: a rich Text built without `literal` still cannot move the cursor or retitle the terminal."""
    from rich.text import Text

    from auditpack.commands.output import LiteralConsole

    out = io.StringIO()
    term = LiteralConsole(file=out, force_terminal=True, color_system="standard", width=200)
    term.print(Text("host \x1b]0;owned\x1b\\ \x1b[2J done", style="red"))
    written = out.getvalue()
    assert "\\x1b]0;owned\\x1b\\ \\x1b[2J done" in written
    assert foreign_escapes(written) == [] and 31 in colours(written)  # rich's own red is still there


def test_shown_as_puts_the_consoles_back():
    from auditpack.commands.output import View, console, err_console, notice_console, shown_as

    before = [(c.quiet, c.no_color) for c in (console, err_console, notice_console)]
    with shown_as(View(quiet=True), no_color=True):
        assert console.quiet and notice_console.quiet and not err_console.quiet and console.no_color
    assert [(c.quiet, c.no_color) for c in (console, err_console, notice_console)] == before


# --- hostile text from a real SSH server and the inventory ------------------------------------------------------------


@pytest.mark.skipif(sshd_unavailable() is not None, reason=str(sshd_unavailable()))
@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "forced-terminal"])
def test_markup_and_escapes_from_a_banner_and_a_host_name_are_shown_literally(tmp_path, env, terminal):
    """Before: `[/]` in the SSH banner or the host name crashed doctor, and collect after its manifest was committed."""
    if terminal:
        env = {**env, "FORCE_COLOR": "1", "COLUMNS": "250"}  # rich writes as to a terminal: colours, a live display
    gone = refused_port(GONE_ADDRESS)
    yaml_name = HOST_NAME.replace("\x1b", "\\e")  # YAML's escape for ESC in a double-quoted key
    with running_sshd(tmp_path / "sshd", SSHD_ADDRESS, extra_config=f"VersionAddendum {HOSTILE}\n") as peer:
        (tmp_path / "inv.yaml").write_text(
            "all:\n  hosts:\n"
            f'    "{yaml_name}": {{ansible_host: {SSHD_ADDRESS}, ansible_port: {peer.port}}}\n'
            f"    gone: {{ansible_host: {GONE_ADDRESS}, ansible_port: {gone}, ansible_connection: ssh}}\n"
        )
        doctor = run(["doctor", "-i", "inv.yaml"], tmp_path, env)
        collect = run(["collect", "-i", "inv.yaml", "--store", "ev"], tmp_path, env)
        doctor_json = run(["doctor", "-i", "inv.yaml", "--json"], tmp_path, env)
    for done in (doctor, collect):
        written = done.stdout + done.stderr
        assert "Traceback" not in written and "MarkupError" not in written, written[-3000:]
        assert "\x1b]" not in written and "\x07" not in written and "\x1b[31mred" not in written and "⚠" not in written
        if not terminal:  # to a pipe rich writes no escape of its own either: none at all
            assert foreign_escapes(written) == [], written[-2000:]
        assert HOST_NAME_SHOWN in done.stdout
    assert doctor.returncode == 1  # gone is unreachable (and the hostile host's key is in no known_hosts)
    banner_row = next(SGR.sub("", line) for line in doctor.stdout.splitlines() if HOST_NAME_SHOWN in line)
    assert "│ reachable " in banner_row and "│ ok " in banner_row
    assert "SSH-2.0-OpenSSH_" in banner_row and HOSTILE_SHOWN in banner_row
    assert collect.returncode == 1  # partial: no credential for the SSH host, gone unreachable
    assert len(list((tmp_path / "ev" / "runs").glob("*.json"))) == 1  # committed once, and the command did not crash after
    assert run(["verify", "--store", "ev"], tmp_path, env).returncode == 0
    if terminal:
        assert colours(doctor.stdout)  # the escapes were neutralised, not the colours switched off
    shown = json.loads(doctor_json.stdout)
    assert doctor_json.returncode == 1
    reached = shown["checks"][0]
    assert reached["host"] == HOST_NAME and reached["check"] == "reachable" and HOSTILE in reached["detail"]  # exact text


def test_an_inventory_mistake_with_escapes_is_named_literally(tmp_path, env):
    (tmp_path / "inv.yaml").write_text('all:\n  hosts:\n    a: {ansible_port: "[/]\\e]0;x\\a"}\n')
    done = run(["collect", "-i", "inv.yaml", "--store", "ev", "--quiet"], tmp_path, env)
    assert done.returncode == 2 and done.stdout == ""
    assert "inv.yaml:3: all.hosts.a.ansible_port" in done.stderr and "[/]\\x1b]0;x\\x07" in done.stderr
    assert foreign_escapes(done.stderr) == [] and "Traceback" not in done.stderr
    as_json = run(["collect", "-i", "inv.yaml", "--store", "ev", "--json"], tmp_path, env)
    assert as_json.returncode == 2 and as_json.stdout == "" and "[/]\\x1b]0;x\\x07" in as_json.stderr  # no half a document
    assert not (tmp_path / "ev").exists()


# --- width, colour --------------------------------------------------------------------------------------------------


def test_a_pipe_is_not_cut_at_80_columns(tmp_path, env):
    name = "werkstation-" + "x" * 50 + ".afdeling-klantcontact.intern.example"
    gone = refused_port(GONE_ADDRESS)
    (tmp_path / "inv.yaml").write_text(
        f"all:\n  hosts:\n    {name}: {{ansible_host: {GONE_ADDRESS}, ansible_port: {gone}, ansible_connection: ssh}}\n"
    )
    doctor = run(["doctor", "-i", "inv.yaml"], tmp_path, env)
    collect = run(["collect", "-i", "inv.yaml", "--store", f"{tmp_path}/a-store-whose-path-is-long/" + "y" * 60], tmp_path, env)
    assert doctor.returncode == collect.returncode == 1
    for done in (doctor, collect):
        row = next(line for line in done.stdout.splitlines() if name in line)
        assert "connection refused after" in row and len(row) > 120
    assert re.search(r"^Manifest: \S+/y{60}/runs/000001-[0-9a-f]{64}\.json$", collect.stdout, re.M)


def test_no_color_and_the_NO_COLOR_variable(tmp_path, env):
    (tmp_path / "inv.yaml").write_text(
        f"all:\n  hosts:\n    localhost:\n    gone: {{ansible_host: {GONE_ADDRESS}, ansible_port: {refused_port(GONE_ADDRESS)}}}\n"
    )
    terminal = {**env, "FORCE_COLOR": "1", "COLUMNS": "200"}
    coloured = run(["doctor", "-i", "inv.yaml"], tmp_path, terminal)
    assert {31, 32} <= colours(coloured.stdout)  # red "failed", green "ok"
    flag = run(["doctor", "-i", "inv.yaml", "--no-color"], tmp_path, terminal)
    variable = run(["doctor", "-i", "inv.yaml"], tmp_path, {**terminal, "NO_COLOR": "1"})
    collected = run(["collect", "-i", "inv.yaml", "--store", "ev", "--no-color"], tmp_path, terminal)
    for done in (flag, variable, collected):
        assert done.returncode == coloured.returncode == 1
        assert colours(done.stdout + done.stderr) == set(), done.stdout
        assert "gone" in done.stdout and "connection refused" in done.stdout


# --- large runs --------------------------------------------------------------------------------------------------------


def _many_hosts(path: Path, ok: int, gone: int) -> None:
    port = refused_port(GONE_ADDRESS)
    lines = [f"    local-{n:02d}: {{ansible_connection: local}}\n" for n in range(1, ok + 1)]
    lines += [
        f"    gone-{n}: {{ansible_host: {GONE_ADDRESS}, ansible_port: {port}, ansible_connection: ssh}}\n"
        for n in range(1, gone + 1)
    ]
    path.write_text("all:\n  hosts:\n" + "".join(lines))


def test_a_large_run_lists_only_the_hosts_that_are_not_ok(tmp_path, env):
    _many_hosts(tmp_path / "inv.yaml", ok=22, gone=3)
    short = run(["collect", "-i", "inv.yaml", "--store", "ev"], tmp_path, env)
    assert short.returncode == 1, short.stderr
    rows = [line for line in short.stdout.splitlines() if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in rows] == ["gone-1", "gone-2", "gone-3"]
    assert "Run 1: 25 hosts, 22 ok, 3 unreachable; " in short.stdout
    problem_lines = [line for line in short.stderr.splitlines() if line.startswith("gone-")]
    assert len(problem_lines) == 3 and "local-01" not in short.stderr  # no progress row per host
    assert "25/25" in short.stderr
    detailed = run(["collect", "-i", "inv.yaml", "--store", "ev", "--details"], tmp_path, env)
    assert detailed.returncode == 1
    listed = {line.split("│")[1].strip() for line in detailed.stdout.splitlines() if line.startswith("│")}
    assert len(listed) == 25 and "local-17" in detailed.stderr  # a progress row per host again
    doctor = run(["doctor", "-i", "inv.yaml"], tmp_path, env)
    assert doctor.returncode == 1
    listed = [line.split("│")[1].strip() for line in doctor.stdout.splitlines() if line.startswith("│")]
    assert sorted(set(listed)) == ["gone-1", "gone-2", "gone-3"] and len(listed) == 6  # reachable failed, logon not tried
    assert "6 of 28 checks did not pass, on: gone-1, gone-2, gone-3" in doctor.stdout
    detailed = run(["doctor", "-i", "inv.yaml", "--details"], tmp_path, env)
    assert len({line.split("│")[1].strip() for line in detailed.stdout.splitlines() if line.startswith("│")}) == 25


def test_a_small_run_lists_every_host(tmp_path, env):
    _many_hosts(tmp_path / "inv.yaml", ok=2, gone=1)
    done = run(["collect", "-i", "inv.yaml", "--store", "ev"], tmp_path, env)
    assert done.returncode == 1
    assert [line.split("│")[1].strip() for line in done.stdout.splitlines() if line.startswith("│")] == [
        "local-01",
        "local-02",
        "gone-1",
    ]
    assert "Run 1: 3 hosts, 2 ok, 1 unreachable; " in done.stdout


# --- --json and --quiet on collect, check and doctor ------------------------------------------------------------------


def test_collect_check_and_doctor_as_json(tmp_path, env):
    _many_hosts(tmp_path / "inv.yaml", ok=1, gone=1)
    collect = run(["collect", "-i", "inv.yaml", "--store", "ev", "--json"], tmp_path, env)
    assert collect.returncode == 1
    document = json.loads(collect.stdout)  # the whole of stdout is one JSON document
    run_ = document["run"]
    assert document["command"] == "collect" and run_["seq"] == 1 and run_["status"] == "partial"
    assert Path(tmp_path, run_["manifest"]).exists() and run_["manifest"].endswith(".json")
    assert [(h["host"], h["status"]) for h in run_["hosts"]] == [("local-01", "ok"), ("gone-1", "unreachable")]
    assert run_["hosts"][1]["problems"][0].startswith("unreachable: connection refused")
    assert run_["totals"]["hosts"] == 2 and run_["totals"]["status"] == {"ok": 1, "unreachable": 1}
    assert run_["totals"]["items"] == sum(h["items"] for h in run_["hosts"])

    plain = run(["check", "-i", "inv.yaml", "--store", "ev", "--host", "local-01", "--control", "T-FWH"], tmp_path, env)
    check = run(
        ["check", "-i", "inv.yaml", "--store", "ev", "--host", "local-01", "--control", "T-FWH", "--json", "--lang", "en"],
        tmp_path,
        env,
    )
    assert check.returncode == plain.returncode
    checked = json.loads(check.stdout)
    assert checked["run"]["seq"] == 3 and [h["host"] for h in checked["run"]["hosts"]] == ["local-01"]
    [result] = checked["results"]
    assert result["control"] == "T-FWH" and result["title"] and result["status_label"]
    assert result["status"] in {"effective", "effective_with_deviations", "not_effective", "not_evidenced", "not_applicable"}
    assert (check.returncode == 0) == (result["status"] in {"effective", "not_applicable"})
    assert checked["period"]["ended"] is False and checked["period"]["start"] <= checked["period"]["end"]

    doctor = run(["doctor", "-i", "inv.yaml", "--json"], tmp_path, env)
    assert doctor.returncode == 1
    checks = json.loads(doctor.stdout)
    assert checks["command"] == "doctor" and checks["ok"] is False
    assert [(c["host"], c["check"], c["status"], c["ok"]) for c in checks["checks"]] == [
        ("local-01", "local", "ok", True),
        ("gone-1", "reachable", "failed", False),
        ("gone-1", "ssh logon", "not tried", False),
    ]
    assert checks["checks"][1]["target"].startswith(f"{GONE_ADDRESS}:") and checks["checks"][1]["reason"] == "unreachable"


def test_quiet_is_silent_when_all_is_well_and_names_only_what_is_not(tmp_path, env):
    (tmp_path / "ok.yaml").write_text("all:\n  hosts:\n    localhost:\n")
    _many_hosts(tmp_path / "partial.yaml", ok=1, gone=1)
    first = run(["collect", "-i", "ok.yaml", "--store", "ev", "--quiet"], tmp_path, env)
    # a store made now is said even under --quiet (a mistyped store in a cron job would start an empty year unseen)
    assert (first.returncode, first.stdout, first.stderr) == (0, "", f"Created a new evidence store at {tmp_path / 'ev'}.\n")
    fine = run(["collect", "-i", "ok.yaml", "--store", "ev", "--quiet"], tmp_path, env)
    assert (fine.returncode, fine.stdout, fine.stderr) == (0, "", "")  # cron mails nothing
    fine_doctor = run(["doctor", "-i", "ok.yaml", "-q"], tmp_path, env)
    assert (fine_doctor.returncode, fine_doctor.stdout, fine_doctor.stderr) == (0, "", "")
    partial = run(["collect", "-i", "partial.yaml", "--store", "ev", "--quiet"], tmp_path, env)
    assert partial.returncode == 1 and partial.stdout == ""
    assert partial.stderr.splitlines() == [partial.stderr.splitlines()[0]] and partial.stderr.startswith("gone-1: unreachable")
    doctor = run(["doctor", "-i", "partial.yaml", "--quiet"], tmp_path, env)
    assert doctor.returncode == 1 and doctor.stdout == ""
    assert doctor.stderr.splitlines()[0].startswith("gone-1: reachable failed · connection refused")
    check = run(["check", "-i", "partial.yaml", "--store", "ev", "--quiet", "--lang", "en"], tmp_path, env)
    assert check.returncode == 1 and check.stdout == ""
    assert "gone-1: unreachable" in check.stderr and "local-01" not in check.stderr
    assert run(["verify", "--store", "ev"], tmp_path, env).returncode == 0  # four runs, each committed


# --- report and pack ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    from year_store import build_year

    root = tmp_path_factory.mktemp("console-year")
    build_year(root / "evidence", servers=2, workstations=3)
    return root


MARCH = ["--from", "2026-03-01", "--to", "2026-03-31"]


def test_report_as_json_and_quiet(year, env):
    env = {**env, "AUDITPACK_SIGNING_KEY": str(year / "keys" / "signing-key.pem")}
    plain = run(["report", *MARCH, "--format", "json", "--out", "plain"], year, env)
    as_json = run(["report", *MARCH, "--format", "json", "--format", "xlsx", "--out", "j", "--json", "--lang", "en"], year, env)
    quiet = run(["report", *MARCH, "--format", "json", "--format", "html", "--out", "q", "--quiet"], year, env)
    assert plain.returncode == as_json.returncode == quiet.returncode == 1  # March has a failed backup
    document = json.loads(as_json.stdout)
    assert document["command"] == "report" and document["lang"] == "en"
    assert document["period"] == {
        "start": "2026-03-01T00:00:00+00:00",
        "end": "2026-04-01T00:00:00+00:00",
        "first_day": "2026-03-01",
        "last_day": "2026-03-31",
        "ended": True,
    }
    assert set(document["files"]) >= {"json", "xlsx"} and all(Path(year, p).is_file() for p in document["files"].values())
    results = {r["control"]: r for r in document["results"]}
    assert len(results) == 22
    [failed] = results["T-BAK-1"]["deviations"]
    assert failed["subject"] == "fs01" and failed["date"] == "2026-03-10" and "backup" in failed["text"]
    written = quiet.stdout.splitlines()
    assert len(written) == 2 and all(Path(year, p).is_file() for p in written)
    assert {Path(p).suffix for p in written} == {".json", ".html"}
    assert quiet.stderr == ""  # no step times, no notices


def test_pack_as_json_and_quiet(year, env):
    env = {**env, "AUDITPACK_SIGNING_KEY": str(year / "keys" / "signing-key.pem")}
    quiet = run(["pack", *MARCH, "--out", "pq", "--quiet"], year, env, timeout=900)
    assert quiet.returncode == 1 and quiet.stderr == ""
    pack_path, public = quiet.stdout.splitlines()
    assert (
        pack_path.endswith(".zip")
        and Path(year, pack_path).is_file()
        and Path(year, public).read_bytes().startswith(b"-----BEGIN")
    )
    as_json = run(["pack", *MARCH, "--out", "pj", "--json"], year, env, timeout=900)
    assert as_json.returncode == 1
    document = json.loads(as_json.stdout)
    packed = document["pack"]
    import hashlib

    assert hashlib.sha256(Path(year, packed["path"]).read_bytes()).hexdigest() == packed["sha256"]
    assert packed["bytes"] == Path(year, packed["path"]).stat().st_size and packed["evidence_items"] > 0
    assert packed["signed_by"].startswith("SHA256:") and packed["pseudonymised"] is False
    assert packed["timestamped"] is False and packed["timestamp_error"] is None  # no TSA configured here
    assert Path(year, packed["public_key"]).is_file() and len(document["results"]) == 22
    verified = run(["verify", packed["path"], "--key", packed["public_key"]], year, env)
    assert verified.returncode == 0, verified.stdout
