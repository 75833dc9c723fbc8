"""Parse `nft -j list ruleset` (libnftables JSON schema) into a firewall summary. Pure: bytes in, dict out."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .firewall_summary import apply_chain_default, empty_defaults, summary

FAMILY_SCOPE = {"inet": ("ipv4", "ipv6"), "ip": ("ipv4",), "ip6": ("ipv6",)}
NON_MATCHING = {"counter", "log"}  # statements that never make a rule conditional
MALFORMED = (KeyError, TypeError, AttributeError, ValueError)

ChainKey = tuple[str, str, str]


def _final_verdict(expr: list[dict[str, Any]]) -> str | None:
    """The verdict of a rule that matches every packet, or None if the rule has conditions."""
    if not expr:
        return None
    *head, last = expr
    if any(next(iter(stmt), None) not in NON_MATCHING for stmt in head):
        return None
    verdict = next(iter(last), None)
    return verdict if verdict in ("accept", "drop", "reject") else None


@dataclass
class _Ruleset:
    version: str = ""
    tables: int = 0
    chains: dict[ChainKey, dict[str, Any]] = field(default_factory=dict)
    last_rule: dict[ChainKey, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, entry: Any) -> None:
        if not isinstance(entry, dict) or len(entry) != 1:
            raise TypeError("an entry must be an object with exactly one key")
        ((what, body),) = entry.items()
        if what == "metainfo":
            self.version = str(body.get("version", ""))
        elif what == "table":
            self.tables += 1
        elif what == "chain":
            key = (body["family"], body["table"], body["name"])
            if not isinstance(body.get("hook", ""), str) or not isinstance(body.get("policy", ""), str):
                raise TypeError("a chain's hook and policy must be names")  # a dict here would break the defaults table
            self.chains[key] = {
                "family": body["family"],
                "table": body["table"],
                "name": body["name"],
                "hook": body.get("hook"),
                "type": body.get("type"),
                "priority": body.get("prio"),
                "policy": body.get("policy"),
                "rules": 0,
            }
        elif what == "rule":
            key = (body["family"], body["table"], body["chain"])
            if key not in self.chains:
                raise ValueError(f"rule for undeclared chain {key}")
            self.chains[key]["rules"] += 1
            self.last_rule[key] = list(body.get("expr", []))


def nft_entries(data: bytes) -> list[Any]:
    """The entries of `nft -j list ruleset` output; ValueError when it is not that."""
    try:
        entries = json.loads(data)["nftables"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not nft JSON output: {exc}") from None
    if not isinstance(entries, list):
        raise ValueError("not nft JSON output: 'nftables' is not a list")
    return entries


def parse_nft_json(data: bytes) -> dict[str, Any]:
    return summarize_nft(nft_entries(data))


def summarize_nft(entries: list[Any]) -> dict[str, Any]:
    """Chains, rule counts and default verdicts per hook of already decoded entries; refuses malformed ones."""
    ruleset = _Ruleset()
    for number, entry in enumerate(entries):
        try:
            ruleset.add(entry)
        except MALFORMED as exc:
            raise ValueError(f"entry {number} is malformed ({exc.__class__.__name__}: {exc}): {str(entry)[:80]}") from None
    defaults = empty_defaults()
    for key, chain in ruleset.chains.items():
        scope = FAMILY_SCOPE.get(chain["family"])
        if not scope or chain["type"] != "filter" or not chain["hook"]:
            continue  # nat/route chains and arp/bridge/netdev families do not filter host traffic
        try:
            final = _final_verdict(ruleset.last_rule.get(key, []))
        except MALFORMED as exc:
            raise ValueError(f"last rule of chain {key} is malformed: {exc}") from None
        chain["default"] = final if final in ("drop", "reject") else chain["policy"] or "accept"
        apply_chain_default(defaults, chain["hook"], scope, chain["default"])
    return summary("nftables", list(ruleset.chains.values()), defaults, tables=ruleset.tables, nft_version=ruleset.version)
