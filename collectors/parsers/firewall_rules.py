"""One rule model for perimeter firewalls. Pure: no I/O.

The device parsers (pfsense.py, fortigate.py, netfilter_rules.py) turn their
configuration into `Rule`s; `ruleset()` wraps them in the `firewall.ruleset`
shape of controls/EVIDENCE.md. What T-FWP derives from it (the egress
register's justification, the changes between two collections) is in
controls/firewall_rules.py.

Values are strings so every vendor fits: "any" means unrestricted, several
values are joined with "," and a negated match starts with "!". A service is
"proto/port" ("tcp/443", "udp/7078-7097", "icmp/echo-request"), a bare protocol
("icmp", "tcp": every port), a vendor name that could not be resolved, or "any".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

ANY = "any"
# Spellings of "everything" across vendors: FortiGate "all"/"ALL", netfilter 0.0.0.0/0, pf "*".
ANY_SPELLINGS = frozenset({"", "any", "all", "0.0.0.0/0", "::/0", "*"})
DIRECTIONS = ("in", "out")
ACTIONS = ("allow", "deny")
DEFAULTS = ("drop", "accept")


@dataclass(frozen=True)
class Rule:
    id: str
    interface: str  # or zone; "a->b" when the rule names where traffic enters and leaves
    direction: str  # "in" / "out"
    source: str
    destination: str
    service: str
    action: str  # "allow" / "deny"
    enabled: bool
    description: str

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"rule {self.id}: direction must be in/out, not {self.direction!r}")
        if self.action not in ACTIONS:
            raise ValueError(f"rule {self.id}: action must be allow/deny, not {self.action!r}")
        if not self.id:
            raise ValueError("a rule needs an id")

    def is_any_to_any(self) -> bool:
        return self.enabled and self.action == "allow" and self.source == self.destination == self.service == ANY


def join(values: Iterable[str]) -> str:
    """Several addresses/interfaces as one field; any "everything" among them makes the whole field "any"."""
    values = [str(v).strip() for v in values]
    if not values or any(v.lower() in ANY_SPELLINGS for v in values):
        return ANY
    return ",".join(dict.fromkeys(values))  # keep order, drop repeats


def negate(value: str, negated: bool) -> str:
    return f"!{value}" if negated else value


def endpoint(address: str, port: str = "") -> str:
    """An address with an optional source port: a source port narrows the source, it is not the service."""
    return f"{address} port {port}" if port else address


def service(protocols: Iterable[str], ports: Iterable[str] = ()) -> str:
    """Protocols x destination ports, e.g. (["tcp", "udp"], ["53"]) -> "tcp/53,udp/53"."""
    protocols = [p.lower() for p in protocols if p and p.lower() not in ANY_SPELLINGS]
    ports = [str(p) for p in ports if str(p) and str(p).lower() not in ANY_SPELLINGS]
    if not ports:
        return ",".join(dict.fromkeys(protocols)) or ANY
    return ",".join(dict.fromkeys(f"{proto}/{port}" for proto in protocols or [ANY] for port in ports))


def ruleset(device: str, rules: Iterable[Rule], default_inbound: str, default_outbound: str) -> dict[str, Any]:
    """The `firewall.ruleset` evidence; `unjustified` stays empty until T-FWP holds it against the egress register."""
    rules = list(rules)
    for name, value in (("default_inbound", default_inbound), ("default_outbound", default_outbound)):
        if value not in DEFAULTS:
            raise ValueError(f"{name} must be drop/accept, not {value!r}")
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:  # diff and register entries address rules by id
            raise ValueError(f"rule id {rule.id!r} occurs twice on {device}")
        seen.add(rule.id)
    return {
        "device": device,
        "default_inbound": default_inbound,
        "default_outbound": default_outbound,
        "rules": [asdict(r) for r in rules],
        "any_to_any": [r.id for r in rules if r.is_any_to_any()],
        "unjustified": [],
    }
