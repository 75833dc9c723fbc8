"""The local collector, T-FWH and the report, end to end on real nftables rulesets in throwaway network namespaces."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from auditpack.store import EvidenceStore
from auditpack_lab.peers.netns import in_netns, netns_unavailable
from conftest import auditpack_bin

pytestmark = pytest.mark.skipif(netns_unavailable() is not None, reason=str(netns_unavailable()))

INBOUND_DROP = """table inet host {
  chain input { type filter hook input priority 0; policy drop;
    ct state established,related accept
    iif lo accept
    tcp dport 22 accept
  }
}"""
IPV4_ONLY_DROP = """table ip host {
  chain input { type filter hook input priority 0; policy accept;
    tcp dport 22 accept
    counter drop
  }
}"""


def check_in_namespace(tmp_path, env, ruleset: str | None, store="evidence"):
    script = ""
    if ruleset is not None:
        (tmp_path / "rules.nft").write_text(ruleset)
        script += "nft -f rules.nft\n"
    script += f"cd {shlex.quote(str(tmp_path))}\nexec {auditpack_bin()} check --store {store} --lang en --control T-FWH\n"
    return in_netns(f"cd {shlex.quote(str(tmp_path))}\n" + script, env=env)


def test_inbound_drop_ruleset_makes_t_fwh_effective(tmp_path, cli_env):
    done = check_in_namespace(tmp_path, cli_env, INBOUND_DROP)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "T-FWH" in done.stdout and "Effective" in done.stdout
    store = EvidenceStore(tmp_path / "evidence", create=False)
    [item] = store.items(kinds=["host_firewall.nftables"])
    assert item.command == "nft -j list ruleset" and item.status == "ok"
    raw = json.loads(store.read_blob(item.raw_sha256))
    assert any(e.get("chain", {}).get("policy") == "drop" for e in raw["nftables"])
    assert store.read_json(item.normalized_sha256)["defaults"]["input"] == {"ipv4": "drop", "ipv6": "drop"}
    assert item.tool_version  # nft's own version, from its output


def test_open_host_is_a_deviation_with_exit_code_1(tmp_path, cli_env):
    done = check_in_namespace(tmp_path, cli_env, None)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Not effective" in done.stdout
    assert "inbound traffic is accepted by default for ipv4 and ipv6" in done.stdout


def test_ipv4_only_filtering_is_a_deviation_for_ipv6(tmp_path, cli_env):
    done = check_in_namespace(tmp_path, cli_env, IPV4_ONLY_DROP)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "accepted by default for ipv6 " in done.stdout


def test_a_year_of_runs_is_evaluated_and_reported(tmp_path, cli_env):
    assert check_in_namespace(tmp_path, cli_env, INBOUND_DROP).returncode == 0
    assert check_in_namespace(tmp_path, cli_env, None).returncode == 1
    assert check_in_namespace(tmp_path, cli_env, INBOUND_DROP).returncode == 0
    store = EvidenceStore(tmp_path / "evidence", create=False)
    hashes = {i.raw_sha256 for i in store.items(kinds=["host_firewall.nftables"])}
    assert len(hashes) == 2  # the same ruleset twice is one blob
    for lang, label, other in (("en", "Not effective", "Niet werkzaam"), ("nl", "Niet werkzaam", "Not effective")):
        this_year = str(datetime.now(UTC).year)  # the report's default is the last full year; the runs are from this one
        done = subprocess.run(
            [
                auditpack_bin(),
                "report",
                "--store",
                "evidence",
                "--lang",
                lang,
                "--out",
                "out",
                "--control",
                "T-FWH",
                "--period",
                this_year,
                "--format",
                "html",
            ],
            cwd=tmp_path,
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1, done.stderr  # written, and T-FWH has a deviation: exit 1 by the rule
        html = next((tmp_path / "out").glob(f"*-{lang}.html")).read_text()
        assert label in html and other not in html
        # three runs on one day are one subject-date, tested once; the open run makes that date deviate
        assert "<td>1</td><td>1</td><td>0</td><td>0</td>" in html  # tested, deviations, not evidenced, excepted
        assert ("Evidence (9)" if lang == "en" else "Bewijs (9)") in html  # 3 runs x nft, iptables, ip6tables
        for sha in hashes:
            assert sha in html
        assert "nft -j list ruleset" in html
        reason = {"en": "inbound traffic is accepted by default", "nl": "inkomend verkeer wordt standaard toegelaten"}
        assert html.count(reason[lang]) == 1 and html.count(reason["nl" if lang == "en" else "en"]) == 0


def test_process_command_lines_never_reach_the_evidence(tmp_path, cli_env):
    secret = "not-for-evidence-7f3a"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", f"--password={secret}"])
    try:
        done = subprocess.run(
            [auditpack_bin(), "collect", "--store", "evidence"],
            cwd=tmp_path,
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode in (0, 1), done.stderr
    finally:
        sleeper.kill()
    blobs = list((tmp_path / "evidence" / "blobs").rglob("*"))
    assert any(b.is_file() for b in blobs)
    for blob in blobs:
        if blob.is_file():
            assert secret.encode() not in blob.read_bytes()
