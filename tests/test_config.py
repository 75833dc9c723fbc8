"""The configuration file and the settings in force: which file is used, which source wins, relative paths, every
mistake located as file:line: key, `config show|init`, and the new-store notice. Real `auditpack` processes and a
real TSA peer on loopback (127.0.16.16). The lab's tour without -i: tests/test_lab_config.py (under the lab lock)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from auditpack import config
from conftest import auditpack_bin

ENV_NAMES = [s.env for s in config.SETTINGS] + [config.CONFIG_ENV]
TSA_ADDRESS = "127.0.16.16"  # used by no other test: the TSA peer these tests start


def isolated_env(tmp_path: Path) -> dict[str, str]:
    """No setting inherited from the tester: a home of its own (no ~/.config/auditpack/config.toml), keys there."""
    found = {k: v for k, v in os.environ.items() if k not in ENV_NAMES and k != "AUDITPACK_FAILPOINT"}
    (tmp_path / "home").mkdir()
    return {**found, "HOME": str(tmp_path / "home"), "AUDITPACK_OPERATOR": "test-operator"}


@pytest.fixture
def env(tmp_path):
    return isolated_env(tmp_path)


def run(cwd: Path, env: dict[str, str], *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run([auditpack_bin(), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def show(cwd: Path, env: dict[str, str], *args: str, root: tuple[str, ...] = ()) -> dict:
    """`auditpack [ROOT] config show --json [ARGS]`, read."""
    done = run(cwd, env, *root, "config", "show", "--json", *args)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    data["by_key"] = {s["key"]: s for s in data["settings"]}
    return data


LOCAL_INVENTORY = "all:\n  hosts:\n    {name}: {{ansible_connection: local}}\n"


# --- which file ---------------------------------------------------------------------------------------------------


def test_the_file_is_looked_for_here_then_in_the_home_then_in_etc(tmp_path, monkeypatch):
    home, work, etc = tmp_path / "home", tmp_path / "work", tmp_path / "etc" / "config.toml"
    for directory in (home / ".config" / "auditpack", work, etc.parent):
        directory.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    monkeypatch.setattr(config, "SYSTEM_CONFIG", etc)
    environ: dict[str, str] = {}
    assert config.find_config(None, environ) == (None, "")  # none anywhere: simply not used
    etc.write_text('store = "etc"\n')
    assert config.find_config(None, environ)[0] == etc
    (home / ".config" / "auditpack" / "config.toml").write_text('store = "home"\n')
    assert config.find_config(None, environ)[0] == home / ".config" / "auditpack" / "config.toml"
    (work / "auditpack.toml").write_text('store = "here"\n')
    assert config.find_config(None, environ)[0] == Path("auditpack.toml")
    named = tmp_path / "named.toml"
    named.write_text("")
    assert config.find_config(None, {config.CONFIG_ENV: str(named)}) == (named, config.CONFIG_ENV)
    explicit = tmp_path / "explicit.toml"
    explicit.write_text("")
    assert config.find_config(explicit, {config.CONFIG_ENV: str(named)}) == (explicit, "--config")  # --config wins
    assert config.load_settings(None, {}).value("store") == work / "here"  # relative to the file's directory


def test_a_named_file_that_does_not_exist_is_an_error_an_implicit_one_is_not(tmp_path, env):
    done = run(tmp_path, env, "--config", "nowhere.toml", "config", "show")
    assert done.returncode == 2 and "nowhere.toml (--config) does not exist" in done.stderr
    done = run(tmp_path, {**env, config.CONFIG_ENV: "gone.toml"}, "collect", "--store", "ev")
    assert done.returncode == 2 and f"gone.toml ({config.CONFIG_ENV}) does not exist" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "ev").exists()
    assert show(tmp_path, env)["config_file"] is None


# --- which value --------------------------------------------------------------------------------------------------


def test_command_line_beats_environment_beats_file_beats_default(tmp_path, env):
    assert show(tmp_path, env)["by_key"]["store"] == {
        "key": "store",
        "value": "evidence",
        "source": "default",
        "env": "AUDITPACK_STORE",
    }
    (tmp_path / "auditpack.toml").write_text('# the site\n\nstore = "from-file"\nlang = "en"\n')
    here = (tmp_path / "auditpack.toml").resolve()
    by_key = show(tmp_path, env)["by_key"]
    assert by_key["store"]["value"] == str(tmp_path.resolve() / "from-file")
    assert by_key["store"]["source"] == f"config {here}:3" and by_key["lang"]["source"] == f"config {here}:4"
    with_env = {**env, "AUDITPACK_STORE": "from-env", "AUDITPACK_LANG": "nl"}
    by_key = show(tmp_path, with_env)["by_key"]
    assert (by_key["store"]["value"], by_key["store"]["source"]) == ("from-env", "environment AUDITPACK_STORE")
    assert (by_key["lang"]["value"], by_key["lang"]["source"]) == ("nl", "environment AUDITPACK_LANG")
    by_key = show(tmp_path, with_env, "--store", "from-cli", "--lang", "en")["by_key"]
    assert (by_key["store"]["value"], by_key["store"]["source"]) == ("from-cli", "command line")
    assert (by_key["lang"]["value"], by_key["lang"]["source"]) == ("en", "command line")


def test_every_setting_of_the_contract_has_its_variable_and_key(tmp_path, env):
    (tmp_path / "inv.yaml").write_text(LOCAL_INVENTORY.format(name="here"))
    (tmp_path / "ca.pem").write_text("")
    variables = {
        "AUDITPACK_INVENTORY": "inv.yaml",
        "AUDITPACK_STORE": "ev",
        "AUDITPACK_PROFILE": "p.yaml",
        "AUDITPACK_EXCEPTIONS": "x.yaml",
        "AUDITPACK_LANG": "en",
        "AUDITPACK_OPERATOR": "J. Jansen",
        "AUDITPACK_SIGNING_KEY": "s.pem",
        "AUDITPACK_PSEUDONYM_KEY": "p.key",
        "AUDITPACK_TSA_URL": "http://tsa.example/",
        "AUDITPACK_TSA_CA": "ca.pem",
        "AUDITPACK_NOTIFY_URLS": "json://a.example/x  mailto://b.example",
    }
    by_key = show(tmp_path, {**env, **variables})["by_key"]
    assert {s["env"]: s["source"] for s in by_key.values()} == {v: f"environment {v}" for v in variables}
    assert by_key["notify.urls"]["value"] == ["json://a.example/x", "mailto://b.example"]
    file = tmp_path / "site" / "auditpack.toml"
    file.parent.mkdir()
    file.write_text(
        'inventory = "inv.yaml"\nstore = "ev"\nprofile = "p.yaml"\nexceptions = "x.yaml"\nlang = "en"\noperator = "ICT"\n'
        '[keys]\nsigning = "s.pem"\npseudonym = "~/p.key"\n[tsa]\nurl = "http://tsa.example/"\nca = "/etc/ca.pem"\n'
        '[notify]\nurls = ["mailtos://ict:geheim@mail.example/?to=a@b.example"]\n'
    )
    by_key = show(tmp_path, env, root=("--config", str(file)))["by_key"]
    site = file.parent.resolve()
    assert by_key["keys.signing"]["value"] == str(site / "s.pem") and by_key["inventory"]["value"] == str(site / "inv.yaml")
    assert by_key["keys.pseudonym"]["value"] == str(tmp_path / "home" / "p.key") and by_key["tsa.ca"]["value"] == "/etc/ca.pem"
    assert by_key["notify.urls"]["value"] == ["mailtos://ict:***@mail.example/?to=a@b.example"]  # no password shown
    assert [by_key[k]["source"] for k in ("inventory", "keys.signing", "tsa.url", "notify.urls")] == [
        f"config {file.resolve()}:{line}" for line in (1, 8, 11, 14)
    ]


def test_notify_urls_for_the_alerts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config.notify_urls() == []
    (tmp_path / "auditpack.toml").write_text('[notify]\nurls = ["json://127.0.0.1:9/x", "mailto://a.example"]\n')
    assert config.notify_urls() == ["json://127.0.0.1:9/x", "mailto://a.example"]
    monkeypatch.setenv("AUDITPACK_NOTIFY_URLS", " json://one.example\n\tjson://two.example ")
    assert config.notify_urls() == ["json://one.example", "json://two.example"]


def test_the_inventory_and_store_of_the_file_are_used_relative_to_it(tmp_path, env):
    site = tmp_path / "etc-auditpack"
    site.mkdir()
    (site / "hosts.yaml").write_text(LOCAL_INVENTORY.format(name="file-host"))
    (site / "auditpack.toml").write_text('inventory = "hosts.yaml"\nstore = "../evidence-store"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    doctor = run(elsewhere, env, "--config", str(site / "auditpack.toml"), "doctor")
    assert doctor.returncode == 0 and "file-host" in doctor.stdout, doctor.stdout + doctor.stderr
    collect = run(elsewhere, {**env, config.CONFIG_ENV: str(site / "auditpack.toml")}, "collect")
    assert collect.returncode == 0, collect.stderr
    assert (tmp_path / "evidence-store" / "STORE").exists() and not (elsewhere / "evidence").exists()
    (elsewhere / "other.yaml").write_text(LOCAL_INVENTORY.format(name="env-host"))
    doctor = run(elsewhere, {**env, "AUDITPACK_INVENTORY": "other.yaml"}, "--config", str(site / "auditpack.toml"), "doctor")
    assert doctor.returncode == 0 and "env-host" in doctor.stdout  # relative to where the command runs
    doctor = run(elsewhere, {**env, "AUDITPACK_INVENTORY": "gone.yaml"}, "doctor")
    assert doctor.returncode == 2 and "gone.yaml does not exist (named by environment AUDITPACK_INVENTORY)" in doctor.stderr


def test_keys_and_the_tsa_come_from_the_file(tmp_path, env):
    from auditpack_lab.peers.tsa import running_tsa, tsa_unavailable

    if (reason := tsa_unavailable()) is not None:
        pytest.skip(reason)
    (tmp_path / "hosts.yaml").write_text(LOCAL_INVENTORY.format(name="here"))
    with running_tsa(tmp_path / "tsa", TSA_ADDRESS) as tsa:
        (tmp_path / "auditpack.toml").write_text(
            f'inventory = "hosts.yaml"\n[keys]\nsigning = "keys/sign.pem"\npseudonym = "keys/pseudo"\n'
            f'[tsa]\nurl = "{tsa.url}"\nca = "{tsa.pki.ca_file}"\n'
        )
        collect = run(tmp_path, env, "collect")
        assert collect.returncode == 0, collect.stderr
        assert "Run 1 timestamped (RFC 3161 token" in collect.stderr
    packed = run(tmp_path, env, "pack", "--from", "2026-01-01", "--to", "2026-01-31", "--pseudonymise", "--out", "out")
    assert packed.returncode in (0, 1), packed.stderr
    assert (tmp_path / "keys" / "sign.pem").exists() and (tmp_path / "keys" / "pseudo").exists()
    assert not (tmp_path / "home" / ".config" / "auditpack").exists()  # no key made in the default place
    (tmp_path / "auditpack.toml").write_text(f'[tsa]\nurl = "{tsa.url}"\n')
    done = run(tmp_path, env, "collect", "-i", "hosts.yaml")
    assert done.returncode == 2 and "a Time-Stamp Authority is set (config " in done.stderr and "auditpack.toml:2)" in done.stderr


# --- mistakes -------------------------------------------------------------------------------------------------------


def test_every_mistake_is_named_with_file_line_and_key_and_nothing_runs(tmp_path, env):
    file = tmp_path / "auditpack.toml"
    file.write_text(
        '# site\nstor = "ev"\nlang = "fr"\nsigning = "k.pem"\n\n[keys]\npseudonym = 3\n[tsa]\n'
        'url = "https://tsa.example/"\nca = ["a", "b"]\n[notify]\nurls = "mailto://a.example"\n[notfy]\nx = 1\n'
    )
    done = run(tmp_path, env, "collect", "--store", "ev")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    where = file.resolve()
    for problem in (
        f"{where}:2: stor: unknown key; did you mean 'store'?",
        f"{where}:3: lang: 'fr' is not a language auditpack writes: nl or en",
        f"{where}:4: signing: unknown key; signing belongs in the [keys] table",
        f"{where}:7: keys.pseudonym: expected a path as text, in quotes, not a whole number",
        f"{where}:10: tsa.ca: expected a path as text, in quotes, not a list",
        f"{where}:12: notify.urls: expected a list of URLs",
        f"{where}:13: notfy: unknown key; did you mean 'notify'?",
    ):
        assert problem in done.stderr, done.stderr
    assert "has 7 problem(s)" in " ".join(done.stderr.split()) and not (tmp_path / "ev").exists()


def test_a_toml_syntax_error_names_its_line(tmp_path, env):
    (tmp_path / "auditpack.toml").write_text('store = "ev"\n\nlang = en\n')
    done = run(tmp_path, env, "config", "show")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{(tmp_path / 'auditpack.toml').resolve()}:3: lang: not valid TOML: Invalid value (column 8)" in done.stderr


def test_a_bad_language_in_the_environment_is_said(tmp_path, env):
    done = run(tmp_path, {**env, "AUDITPACK_LANG": "de"}, "controls")
    assert done.returncode == 2 and "AUDITPACK_LANG='de' is not a language" in done.stderr


def test_key_lines_follow_tables_dotted_keys_and_skip_multiline_strings():
    text = 'a = """\nstore = 1\n"""\n[keys]\nsigning = "x"\n[ "tsa" ]\n"url" = "y"\nnotify.urls = []\n'
    lines = config.key_lines(text)
    assert "store" not in lines and lines["keys.signing"] == 5 and lines["tsa.url"] == 7
    assert lines["tsa.notify.urls"] == 8 and lines["keys"] == 4


# --- config show and init -------------------------------------------------------------------------------------------


def test_config_init_writes_a_private_starter_that_config_show_accepts_and_never_overwrites(tmp_path, env):
    env.pop("AUDITPACK_OPERATOR")
    done = run(tmp_path, env, "config", "init")
    assert done.returncode == 0, done.stderr
    file = tmp_path / "auditpack.toml"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600 and "[notify]" in file.read_text()
    data = show(tmp_path, env)
    assert data["config_file"] == str(file.resolve()) and {s["source"] for s in data["settings"]} == {"default"}
    file.write_text(file.read_text().replace('# store = "evidence"', 'store = "evidence"'))
    line = file.read_text().splitlines().index('store = "evidence"') + 1
    assert show(tmp_path, env)["by_key"]["store"]["source"] == f"config {file.resolve()}:{line}"
    again = run(tmp_path, env, "config", "init")
    assert again.returncode == 2 and "never overwrites" in again.stderr and 'store = "evidence"' in file.read_text()


def test_config_show_says_the_file_and_each_source_in_words(tmp_path, env):
    (tmp_path / "auditpack.toml").write_text('store = "ev"\n')
    done = run(tmp_path, {**env, "AUDITPACK_LANG": "en", "COLUMNS": "400"}, "config", "show", "--operator", "me")
    assert done.returncode == 0, done.stderr
    assert f"Configuration file: {(tmp_path / 'auditpack.toml').resolve()}" in done.stdout
    rows = {line.split("│")[1].strip(): line for line in done.stdout.splitlines() if line.count("│") == 5}
    assert "environment AUDITPACK_LANG" in rows["lang"] and "command line" in rows["operator"]
    assert f"config {(tmp_path / 'auditpack.toml').resolve()}:1" in rows["store"] and "default" in rows["profile"]


# --- a new store ----------------------------------------------------------------------------------------------------


def test_a_command_that_creates_a_store_says_so_with_its_path(tmp_path, env):
    (tmp_path / "hosts.yaml").write_text(LOCAL_INVENTORY.format(name="here"))
    first = run(tmp_path, env, "collect", "-i", "hosts.yaml", "--store", "evidnce")
    assert first.returncode == 0, first.stderr
    assert f"Created a new evidence store at {(tmp_path / 'evidnce').resolve()}." in first.stderr
    second = run(tmp_path, env, "collect", "-i", "hosts.yaml", "--store", "evidnce")
    assert second.returncode == 0 and "Created a new evidence store" not in second.stderr
    (tmp_path / "auditpack.toml").write_text('store = "ev2"\n')
    third = run(tmp_path, env, "import", "egress-register", str(_egress(tmp_path)))
    assert third.returncode == 0, third.stderr
    said = " ".join(third.stderr.split())
    assert f"Created a new evidence store at {(tmp_path / 'ev2').resolve()} (the store named by config " in said


def _egress(tmp_path: Path) -> Path:
    path = tmp_path / "egress.yaml"
    path.write_text("entries:\n  - {device: fw01, service: tcp/443, reason: CRM}\n")
    return path


def test_notify_test_sends_to_the_urls_of_the_file(tmp_path, env):
    """The alerts read [notify] urls: a test message reaches a real JSON receiver on loopback (127.0.16.17)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    posts: list[str] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            posts.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.16.17", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        (tmp_path / "auditpack.toml").write_text(f'[notify]\nurls = ["json://127.0.16.17:{server.server_port}/from-file"]\n')
        done = run(tmp_path, env, "notify", "test", "--lang", "en")
        assert done.returncode == 0, done.stdout + done.stderr
        assert posts == ["/from-file"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_an_option_gets_the_type_it_gets_from_the_command_line(tmp_path, monkeypatch):
    """A setting from the environment, the file or the default reaches the command as the option's own type."""
    import click
    from click.testing import CliRunner

    from auditpack.commands.shared import inventory_option, signing_key_option, store_option

    seen = {}

    @click.command()
    @store_option
    @inventory_option
    @signing_key_option
    def probe(store_path, inventory_path, key_path):
        seen.update(store=store_path, inventory=inventory_path, key=key_path)

    monkeypatch.chdir(tmp_path)
    (tmp_path / "auditpack.toml").write_text('inventory = "hosts.yaml"\n')
    (tmp_path / "hosts.yaml").write_text(LOCAL_INVENTORY.format(name="here"))
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUDITPACK_SIGNING_KEY", "k.pem")
    assert CliRunner().invoke(probe, []).exit_code == 0
    assert seen == {"store": Path("evidence"), "inventory": str(tmp_path / "hosts.yaml"), "key": Path("k.pem")}
