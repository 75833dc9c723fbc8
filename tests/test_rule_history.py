"""`auditpack firewall-diff`: the rules of one firewall a year apart, read back from a real evidence store."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime

from auditpack.collectors.parsers.pfsense import parse_pfsense_config
from auditpack.evidence import Observation
from auditpack.store import EvidenceStore
from conftest import auditpack_bin, corpus_file


def store_ruleset(store: EvidenceStore, when: datetime, raw: bytes) -> None:
    """A collection of fw01's configuration at WHEN, as the SSH collector stores it."""
    run = store.begin_run("tester")
    run.add(
        "fw01",
        "ssh",
        Observation("firewall.ruleset", "cat /conf/config.xml", raw, when, when, normalized=parse_pfsense_config(raw, "fw01")),
    )
    run.close_source("fw01", "ok", [], connection="ssh")
    run.commit()


def test_rules_a_year_apart_show_what_was_added_removed_and_changed(tmp_path, cli_env):
    config = corpus_file("firewall/pfsense__pfsense/config.xml").read_bytes()
    assert [r["id"] for r in parse_pfsense_config(config, "fw01")["rules"]] == ["0100000101", "0100000102"]
    store = EvidenceStore(tmp_path / "ev")
    store_ruleset(store, datetime(2025, 11, 20, tzinfo=UTC), config)
    # this year the IPv4 rule was replaced by a new one (new tracker id) and the IPv6 rule got a new description
    edited = config.replace(b"<tracker>0100000101</tracker>", b"<tracker>0100000199</tracker>").replace(
        b"Default allow LAN IPv6 to any rule", b"LAN IPv6, reviewed 2026-10"
    )
    store_ruleset(store, datetime(2026, 11, 20, tzinfo=UTC), edited)

    def diff(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [auditpack_bin(), "firewall-diff", "fw01", "--store", "ev", *args],
            cwd=tmp_path,
            env={**cli_env, "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=60,
        )

    done = diff("--new", "2026-11-28", "--json")
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["old"]["collected"].startswith("2025-11-20") and result["new"]["collected"].startswith("2026-11-20")
    assert [r["id"] for r in result["added"]] == ["0100000199"] and [r["id"] for r in result["removed"]] == ["0100000101"]
    assert [(c["id"], c["fields"], c["after"]["description"]) for c in result["changed"]] == [
        ("0100000102", ["description"], "LAN IPv6, reviewed 2026-10")
    ]
    table = diff("--new", "2026-11-28").stdout
    assert "added" in table and "removed" in table and "changed: description" in table
    assert diff("--old", "2026-01-01", "--new", "2026-01-02").returncode == 0  # both moments see last year's rules
    missing = diff("--old", "2024-01-01")
    assert missing.returncode == 2 and "no readable firewall.ruleset of fw01 collected on or before 2024-01-01" in missing.stderr
