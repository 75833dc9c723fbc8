"""The shape both host-firewall parsers produce, and how defaults are combined.

A packet is dropped by default at a hook when any base chain at that hook ends
in a drop (its policy, or an unconditional final drop/reject rule): in netfilter
an accept in one base chain does not skip the others, but a drop is final.
"""

from __future__ import annotations

from typing import Any

HOOKS = ("input", "forward", "output")
FAMILIES = ("ipv4", "ipv6")
BLOCKING = ("drop", "reject")


def empty_defaults() -> dict[str, dict[str, str]]:
    return {hook: {fam: "accept" for fam in FAMILIES} for hook in HOOKS}


def apply_chain_default(defaults: dict[str, dict[str, str]], hook: str | None, families: tuple[str, ...], verdict: str) -> None:
    if hook in defaults and verdict in BLOCKING:
        for fam in families:
            defaults[hook][fam] = "drop"


def summary(backend: str, chains: list[dict[str, Any]], defaults: dict[str, dict[str, str]], **extra: Any) -> dict[str, Any]:
    return {
        "backend": backend,
        "chains": chains,
        "rule_count": sum(c["rules"] for c in chains),
        "defaults": defaults,
        **extra,
    }
