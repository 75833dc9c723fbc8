"""Parse a pfSense or OPNsense config.xml into a `firewall.ruleset`. Pure: bytes in, dict out.

Rules come from `filter/rule` (pfSense, and OPNsense before the new rule
model) and `OPNsense/Firewall/Filter/rules/rule` (OPNsense's model); both are
read into the same intermediate and turned into `Rule`s one way.

Direction mapping. pf evaluates a rule on the interface where the traffic
arrives ("in"), so a rule on an inside interface (lan, optN) governs what
those networks may send:
- on a WAN interface: "in" (arrives from outside); a floating rule with
  direction out/any on WAN lets traffic leave, so "out";
- on an inside interface: "out" when the destination may lie outside
  (any, a negated net, an address outside every inside subnet, an alias),
  "in" when it is an inside net, the firewall itself or inside an inside subnet;
  a floating "out" rule on an inside interface delivers into that net: "in".
WAN interfaces are those named in `wan` (default: the interface called "wan").

Defaults: pf blocks everything no rule passes, so inbound is "drop". The
factory "Default allow LAN to any rule" makes outbound effectively open: an
enabled outbound pass rule to any destination with any service gives
default_outbound "accept", otherwise "drop".

XML safety: defusedxml is not installed in this venv, so the document is first
scanned with the stdlib expat parser refusing any DOCTYPE/entity declaration
(config.xml never has one; entity expansion is the attack), then parsed with
xml.etree.ElementTree.
"""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

from .firewall_rules import ANY, Rule, endpoint, join, negate, ruleset, service

ACTIONS = {"pass": "allow", "block": "deny", "reject": "deny"}
SELF = {"(self)", "this firewall", "thisfirewall"}


def _refuse(*_: Any) -> None:
    raise ValueError("XML with a DOCTYPE or entity declaration is refused (entity-expansion / external-entity attack)")


def safe_xml(data: bytes) -> ET.Element:
    """Parse XML that declares no DTD or entities; every problem is a ValueError."""
    scanner = expat.ParserCreate()
    scanner.StartDoctypeDeclHandler = _refuse
    scanner.EntityDeclHandler = _refuse
    scanner.ExternalEntityRefHandler = _refuse
    try:
        scanner.Parse(data, True)
        return ET.fromstring(data)
    except (expat.ExpatError, ET.ParseError, LookupError) as exc:  # LookupError: an encoding Python does not know
        raise ValueError(f"not well-formed XML: {exc}") from None


@dataclass(frozen=True)
class _PfRule:
    """A rule as both config.xml rule formats say it."""

    id: str
    action: str
    enabled: bool
    interfaces: tuple[str, ...]
    pf_direction: str  # in / out / any
    protocol: str
    source: str
    source_port: str
    destination: str
    destination_port: str
    description: str


def _text(node: ET.Element | None, tag: str, default: str = "") -> str:
    found = node.find(tag) if node is not None else None
    return (found.text or "").strip() if found is not None else default


def _address(node: ET.Element | None) -> str:
    """pfSense <source>/<destination>: <any/>, <network>lan</network> or <address>…</address>, maybe <not/>."""
    if node is None:
        return ANY
    value = _text(node, "network") or _text(node, "address") or ANY
    return negate(value, node.find("not") is not None)


def _legacy(rule: ET.Element, position: int) -> _PfRule:
    """pfSense (and old OPNsense) <filter><rule>: a present <disabled/> disables, whatever its text."""
    disabled = rule.find("disabled")
    return _PfRule(
        id=rule.get("uuid") or _text(rule, "tracker") or f"filter-{position}",
        action=_text(rule, "type") or "pass",  # pf's own default for a rule without a type
        enabled=disabled is None or (disabled.text or "").strip() == "0",
        interfaces=tuple(i for i in _text(rule, "interface").split(",") if i),
        pf_direction=_text(rule, "direction") or "in",
        protocol=_text(rule, "protocol") or ANY,
        source=_address(rule.find("source")),
        source_port=_text(rule.find("source"), "port"),
        destination=_address(rule.find("destination")),
        destination_port=_text(rule.find("destination"), "port"),
        description=_text(rule, "descr"),
    )


def _model(rule: ET.Element, position: int) -> _PfRule:
    """OPNsense MVC rule: flat fields, <enabled>1</enabled>, a uuid attribute once saved by the GUI."""
    sequence = _text(rule, "sequence")
    return _PfRule(
        id=rule.get("uuid") or (f"sequence-{sequence}" if sequence else f"rule-{position}"),
        action=_text(rule, "action") or "pass",
        enabled=_text(rule, "enabled", "1") == "1",
        interfaces=tuple(i for i in _text(rule, "interface").split(",") if i),
        pf_direction=_text(rule, "direction") or "in",
        protocol=_text(rule, "protocol") or ANY,
        source=negate(_text(rule, "source_net") or ANY, _text(rule, "source_not") == "1"),
        source_port=_text(rule, "source_port"),
        destination=negate(_text(rule, "destination_net") or ANY, _text(rule, "destination_not") == "1"),
        destination_port=_text(rule, "destination_port"),
        description=_text(rule, "description"),
    )


@dataclass(frozen=True)
class _Interfaces:
    wan: frozenset[str]
    inside_names: frozenset[str]  # lan, lanip, opt1, opt1ip, ...
    inside_nets: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]


def _interfaces(root: ET.Element, wan: Iterable[str]) -> _Interfaces:
    wan = frozenset(wan)
    names: set[str] = set()
    nets = []
    section = root.find("interfaces")
    for node in section if section is not None else []:
        if node.tag in wan:
            continue
        names |= {node.tag, f"{node.tag}ip"}
        try:
            nets.append(ipaddress.ip_network(f"{_text(node, 'ipaddr')}/{_text(node, 'subnet')}", strict=False))
        except ValueError:
            pass  # dhcp, track6, none: no static subnet to compare with
    return _Interfaces(wan, frozenset(names), tuple(nets))


def _inside(destination: str, ifs: _Interfaces) -> bool:
    if destination.startswith("!") or destination == ANY:
        return False
    if destination.lower() in SELF or destination in ifs.inside_names:
        return True
    try:
        net = ipaddress.ip_network(destination, strict=False)
    except ValueError:
        return False  # an alias: may lie anywhere
    return any(net.version == inside.version and net.subnet_of(inside) for inside in ifs.inside_nets)  # type: ignore[arg-type]


def _direction(pf: _PfRule, ifs: _Interfaces) -> str:
    on_wan = any(i in ifs.wan for i in pf.interfaces)
    if on_wan:
        return "in" if pf.pf_direction == "in" else "out"
    if pf.pf_direction == "out":
        return "in"
    return "in" if _inside(pf.destination, ifs) else "out"


def _rule(pf: _PfRule, ifs: _Interfaces) -> Rule:
    if pf.action not in ACTIONS:
        raise ValueError(f"rule {pf.id}: unknown type/action {pf.action!r}")
    return Rule(
        id=pf.id,
        interface=join(pf.interfaces) if pf.interfaces else ANY,
        direction=_direction(pf, ifs),
        source=endpoint(pf.source, pf.source_port.replace(":", "-")),
        destination=pf.destination,
        service=service(pf.protocol.split("/"), [pf.destination_port.replace(":", "-")]),  # "tcp/udp", "1000:2000"
        action=ACTIONS[pf.action],
        enabled=pf.enabled,
        description=pf.description,
    )


def _hostname(root: ET.Element) -> str:
    host, domain = _text(root.find("system"), "hostname"), _text(root.find("system"), "domain")
    return ".".join(p for p in (host, domain) if p) or root.tag


def parse_pfsense_config(data: bytes, device: str | None = None, wan: Iterable[str] = ("wan",)) -> dict[str, Any]:
    root = safe_xml(data)
    if root.tag not in ("pfsense", "opnsense"):
        raise ValueError(f"not a pfSense/OPNsense config.xml: root element is <{root.tag}>")
    ifs = _interfaces(root, wan)
    found = [_legacy(r, n) for n, r in enumerate(root.findall("filter/rule"), 1)]
    found += [_model(r, n) for n, r in enumerate(root.findall("OPNsense/Firewall/Filter/rules/rule"), 1)]
    rules = [_rule(pf, ifs) for pf in found]
    open_out = any(
        r.enabled and r.action == "allow" and r.direction == "out" and r.destination == ANY and r.service == ANY for r in rules
    )
    return ruleset(device or _hostname(root), rules, "drop", "accept" if open_out else "drop")
