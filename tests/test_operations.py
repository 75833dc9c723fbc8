"""docs/operations.md, followed literally: every `bash` block run in order, as written, on a scratch /srv.

The page's commands name /srv/auditpack; the test gives them a /srv of their own (a private mount namespace with a
temporary directory bound on /srv), a fresh HOME and no AUDITPACK_* settings, as on a new server. Each command's
exit code is recorded and held to what the page leads a reader to expect, then the files each step should leave
are checked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "operations.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)
HEREDOC = re.compile(r"<<-?\s*'?(\w+)'?")

# Commands whose exit 1 is what the page explains (a one-host store with most controls not evidenced);
# every other command must exit 0.
MAY_FIND = ("auditpack report", "auditpack notify run")


def unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root for a private mount namespace (unshare --mount)"
    if not shutil.which("unshare") or not Path("/srv").is_dir():
        return "needs unshare(1) and a /srv directory to bind over"
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True)
    if probe.returncode != 0:
        return f"unshare --mount is refused here: {probe.stderr.decode(errors='replace').strip()}"
    return None


pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))


def guide_blocks() -> list[tuple[str, str]]:
    return [(lang, body) for lang, body in BLOCK.findall(GUIDE.read_text(encoding="utf-8"))]


def commands(block: str) -> list[str]:
    """The block's commands: one per line, a here-document with the lines up to its terminator."""
    found: list[str] = []
    lines = block.splitlines()
    while lines:
        line = lines.pop(0)
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        heredoc = HEREDOC.search(line)
        if heredoc:
            end = [text.strip() for text in lines].index(heredoc.group(1))  # the terminator line
            line, lines = "\n".join([line, *lines[: end + 1]]), lines[end + 1 :]
        found.append(line)
    return found


def test_the_guide_has_steps_to_run_and_each_parses():
    blocks = guide_blocks()
    assert {lang for lang, _ in blocks} <= {"bash", "text"}, "a block is 'bash' (the test runs it) or 'text'"
    run = [c for lang, body in blocks if lang == "bash" for c in commands(body)]
    assert len(run) >= 12
    heredoc = next(c for c in run if c.startswith("cat > auditpack.toml"))
    assert heredoc.endswith("\nEOF") and "[keys]" in heredoc


@pytest.fixture(scope="module")
def followed(tmp_path_factory):
    base = tmp_path_factory.mktemp("ops")
    srv, home = base / "srv", base / "home"
    srv.mkdir()
    home.mkdir()
    run = [c for lang, body in guide_blocks() if lang == "bash" for c in commands(body)]
    script = ["exec 3>>\"$STATUS_FILE\""]
    for index, command in enumerate(run):
        script += [command, f'echo "{index} $?" >&3']
    (base / "guide.sh").write_text("\n".join(script) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITPACK_")}
    env.update(
        HOME=str(home),
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}",
        KEY_BACKUP_PASSPHRASE="a long passphrase from the password manager",
        STATUS_FILE=str(base / "status"),
        NO_COLOR="1",
    )
    inner = f"mount --bind {srv} /srv && cd / && bash {base / 'guide.sh'}"
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", inner],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    statuses = dict(line.split(" ", 1) for line in (base / "status").read_text().splitlines())
    return {
        "srv": srv,
        "home": home,
        "run": run,
        "codes": {run[int(i)]: int(code) for i, code in statuses.items()},
        "out": done.stdout,
        "err": done.stderr,
    }


def test_every_step_exits_as_the_guide_says(followed):
    assert len(followed["codes"]) == len(followed["run"]), followed["err"][-3000:]
    wrong = {
        command: code
        for command, code in followed["codes"].items()
        if code != 0 and not (code == 1 and command.startswith(MAY_FIND))
    }
    assert not wrong, f"{wrong}\n--- stderr ---\n{followed['err'][-4000:]}"


def test_the_configuration_is_the_one_in_force(followed):
    work = followed["srv"] / "auditpack"
    assert (work / "auditpack.example.toml").is_file() and (work / "auditpack.toml").is_file()
    assert stat.S_IMODE((work / "auditpack.toml").stat().st_mode) == 0o600
    assert "/srv/auditpack/auditpack.toml:" in followed["out"]  # config show names file and line of each setting


def test_the_store_and_keys_are_where_the_configuration_puts_them_and_private(followed):
    work = followed["srv"] / "auditpack"
    store = work / "evidence"
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    assert list((store / "runs").glob("*.json")), "the collection by hand committed a run"
    for key in (work / "keys" / "signing-key.pem", work / "keys" / "pseudonym-key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key
    assert not (followed["home"] / ".config" / "auditpack" / "signing-key.pem").exists()  # not the default place
    assert (work / "klant-a.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    backups = list((followed["srv"] / "key-backups").glob("*.backup"))
    assert len(backups) == 1 and stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    assert b"BEGIN PRIVATE KEY" not in backups[0].read_bytes()  # sealed, not a copy


def test_the_schedule_it_shows_runs_the_collection_then_the_alerts_on_this_store(followed):
    out = followed["out"]
    assert "OnCalendar=*-*-* 02:30:00" in out and "Persistent=true" in out
    assert "ReadWritePaths=/srv/auditpack/evidence" in out
    assert out.index(" collect --quiet") < out.index(" notify run")


def test_the_store_copy_verifies_and_the_report_names_its_catalogue(followed):
    copy = followed["srv"] / "auditpack-store-copy"
    assert sorted(p.name for p in (copy / "runs").glob("*.json")) == sorted(
        p.name for p in (followed["srv"] / "auditpack" / "evidence" / "runs").glob("*.json")
    )
    from auditpack.controls.version import catalogue_version

    reports = list((followed["srv"] / "auditpack" / "reports").glob("*.json"))
    assert reports, followed["err"][-2000:]
    document = json.loads(reports[0].read_text())
    assert document["catalogue"]["version"] == catalogue_version().label
