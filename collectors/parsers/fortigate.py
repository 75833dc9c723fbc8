"""Parse a FortiGate full configuration backup into a `firewall.ruleset`. Pure: bytes in, dict out.

The backup is nested `config PATH` … `end` sections holding `edit NAME` …
`next` entries of `set KEY VALUE…` lines; quoted values may span lines
(certificates) and escape with backslashes. In VDOM mode every VDOM is
`config vdom` / `edit NAME` / … / `end`; a single-VDOM backup names it in its
header (`#…:vd_name=root`). Rule ids are "VDOM/N" when there is a VDOM, else
the policy number N; IPv6 policies are "VDOM/v6/N".

Mapping: interface is "srcintf->dstintf"; a policy whose source interface is
a WAN interface (`set role wan`, or named in `wan`) is "in", every other one
"out": traffic from an inside zone may leave, so it is held to the egress
register. No `set action` means deny (FortiOS's default); `status disable`
disables. Service names are resolved through `firewall service custom/group`
to "tcp/443"-style values; "ALL" is any. The implicit policy at the end of
every FortiGate policy list denies, so both defaults are "drop".

Field commands mean what FortiOS makes of them: `set`/`select` replace a
field's members, `append` adds to them, `unselect` removes the named ones,
`unset`/`clear` return the field to its default (a list: empty). A file with
no policy section and no other FortiOS section (an empty answer, another
device's file) is a ValueError, not a FortiGate that denies everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .firewall_rules import ANY, Rule, join, ruleset

TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\n)|([^\s"]+)|[ \t\r\f\v]+|(")', re.DOTALL)
POLICY_SECTIONS = {"firewall policy": "", "firewall policy6": "v6/"}
ACTIONS = {"accept": "allow", "deny": "deny", "ipsec": "allow", "ssl-vpn": "allow"}
PORT_KEYS = {"tcp-portrange": "tcp", "udp-portrange": "udp", "sctp-portrange": "sctp"}
FIELD_COMMANDS = ("set", "unset", "append", "select", "unselect", "clear")
# Top-level sections FortiOS prints; text with none of them (and no policy section) is no FortiGate configuration.
FORTIOS_SECTIONS = re.compile(r"(system|firewall|router|vpn|user|log) \S|vdom$|global$")
MAX_DEPTH = 64  # real backups nest sections about 6 deep


@dataclass
class Node:
    """A `config` section or an `edit` entry: settings plus nested sections and entries, in file order."""

    settings: dict[str, list[str]] = field(default_factory=dict)
    sections: list[tuple[str, Node]] = field(default_factory=list)
    entries: list[tuple[str, Node]] = field(default_factory=list)

    def section(self, path: str) -> Node | None:
        return next((node for name, node in self.sections if name == path), None)

    def first(self, key: str, default: str = "") -> str:
        return (self.settings.get(key) or [default])[0]


def _statements(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line, words) per statement; a quoted word may contain newlines."""
    line, words, start = 1, [], 1
    for match in TOKEN.finditer(text):
        quoted, newline, bare, stray = match.groups()
        if stray:
            raise ValueError(f"line {line}: quoted value never closed: the backup is cut short")
        if newline:
            if words:
                yield start, words
            words, line = [], line + 1
            continue
        if quoted is not None:
            words.append(re.sub(r"\\(.)", r"\1", quoted))
            line += quoted.count("\n")
        elif bare is not None:
            if not words:
                start = line
            words.append(bare)
    if words:
        yield start, words


def _apply(settings: dict[str, list[str]], command: str, key: str, values: list[str]) -> None:
    """One field command, with FortiOS's meaning (CLI: "multi-option values", since FortiOS 5.0)."""
    if command in ("set", "select"):  # the listed members are the whole value
        settings[key] = values
    elif command in ("unset", "clear"):  # back to the default: absent, so `first(key, default)` gives it
        settings.pop(key, None)
    elif command == "append":  # adds to what is there (or to nothing); a member is listed once
        current = settings.setdefault(key, [])
        current.extend(value for value in dict.fromkeys(values) if value not in current)
    else:  # unselect: removes the listed members, keeps the others in their order
        settings[key] = [value for value in settings.get(key, []) if value not in values]


def parse_tree(data: bytes) -> tuple[Node, dict[str, str]]:
    """The section tree and the `#key=value` header fields; an unbalanced config is a ValueError."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not text: {exc}") from None
    root, header = Node(), {}
    stack: list[tuple[str, Node]] = [("config", root)]
    for number, words in _statements(text):
        keyword, rest = words[0], words[1:]
        current = stack[-1][1]
        if keyword.startswith("#"):
            for part in " ".join(words)[1:].split(":"):
                key, _, value = part.partition("=")
                header[key] = value
        elif keyword == "config" and rest:
            if len(stack) > MAX_DEPTH:
                raise ValueError(f"line {number}: sections nested deeper than {MAX_DEPTH}")
            node = Node()
            current.sections.append((" ".join(rest), node))
            stack.append(("config", node))
        elif keyword == "edit" and len(rest) == 1 and stack[-1][0] == "config" and len(stack) > 1:
            node = Node()
            current.entries.append((rest[0], node))
            stack.append(("edit", node))
        elif keyword == "next" and stack[-1][0] == "edit":
            stack.pop()
        elif keyword == "end" and len(stack) > 1:
            if stack[-1][0] == "edit":
                stack.pop()  # `config vdom / edit root / … / end` closes both
            stack.pop()
        elif keyword in FIELD_COMMANDS and rest:
            _apply(current.settings, keyword, rest[0], rest[1:])
        else:
            raise ValueError(f"line {number}: unexpected {' '.join(words)[:60]!r}")
    if len(stack) > 1:
        raise ValueError(f"config ends inside {stack[-1][0]} section: the backup is cut short (missing 'end')")
    return root, header


def _vdoms(root: Node, header: dict[str, str]) -> list[tuple[str, Node]]:
    """(VDOM name, its sections); a VDOM may come back in several `config vdom` blocks, so they are merged.

    The declaration-only `config vdom / edit root / next / end` at the top has no sections and adds nothing.
    """
    merged: dict[str, Node] = {}
    for name, node in root.sections:
        if name == "vdom":
            for vdom, body in node.entries:
                merged.setdefault(vdom, Node()).sections.extend(body.sections)
    found = [(name, node) for name, node in merged.items() if node.sections]
    return found or [(header.get("vd_name", ""), root)]


def _services(vdom: Node) -> dict[str, list[str]]:
    """Service name -> protocol/port strings, from the VDOM's custom services."""
    resolved: dict[str, list[str]] = {"ALL": [ANY]}
    for name, entry in (vdom.section("firewall service custom") or Node()).entries:
        protocol = entry.first("protocol", "TCP/UDP/SCTP").upper()
        parts = [f"{proto}/{rng.split(':')[0]}" for key, proto in PORT_KEYS.items() for rng in entry.settings.get(key, [])]
        if protocol in ("ICMP", "ICMP6"):
            parts = [protocol.lower()]
        elif protocol in ("IP", "ALL") and not parts:
            number = entry.first("protocol-number", "0")
            parts = [ANY if number == "0" else f"ip/{number}"]
        resolved[name] = parts or [name]
    return resolved


def _resolve(
    names: list[str], services: dict[str, list[str]], groups: dict[str, list[str]], inside: tuple[str, ...] = ()
) -> list[str]:
    out: list[str] = []
    for name in names:
        if name in inside:
            raise ValueError(f"service group {name!r} contains itself")
        if name in groups:
            services[name] = _resolve(groups[name], services, groups, (*inside, name))
            del groups[name]  # resolved once; big nested groups are not expanded again
        out += services.get(name, [name])  # an unknown name: a predefined service the backup does not spell out
    return out


def _wan(root: Node, vdom: Node, wan: Iterable[str]) -> set[str]:
    names = set(wan)
    for scope in (vdom, root.section("global") or Node(), root):
        for name, entry in (scope.section("system interface") or Node()).entries:
            if entry.first("role") == "wan":
                names.add(name)
    return names


def _policies(vdom_name: str, vdom: Node, wan: set[str]) -> Iterator[Rule]:
    groups = {name: e.settings.get("member", []) for name, e in (vdom.section("firewall service group") or Node()).entries}
    services = _services(vdom)  # _resolve moves groups into services as it meets them
    for section, infix in POLICY_SECTIONS.items():
        for number, policy in (vdom.section(section) or Node()).entries:
            action = policy.first("action", "deny")
            if action not in ACTIONS:
                raise ValueError(f"policy {number}: unknown action {action!r}")
            srcintf, dstintf = policy.settings.get("srcintf", []), policy.settings.get("dstintf", [])
            text = [policy.first("name"), policy.first("comments")]
            yield Rule(
                id=f"{vdom_name}/{infix}{number}" if vdom_name else f"{infix}{number}",
                interface=f"{join(srcintf)}->{join(dstintf)}",
                direction="in" if wan & set(srcintf) else "out",
                source=join(policy.settings.get("srcaddr", [])),
                destination=join(policy.settings.get("dstaddr", [])),
                service=join(_resolve(policy.settings.get("service", []), services, groups)),
                action=ACTIONS[action],
                enabled=policy.first("status", "enable") != "disable",
                description=": ".join(t for t in text if t),
            )


def _is_fortios(root: Node) -> bool:
    """A FortiOS top-level section: a FortiGate configuration, which may hold no policy. A header alone is not one."""
    return any(FORTIOS_SECTIONS.match(name) for name, _ in root.sections)


def parse_fortigate_config(data: bytes, device: str | None = None, wan: Iterable[str] = ()) -> dict[str, Any]:
    root, header = parse_tree(data)
    vdoms = _vdoms(root, header)
    if not any(vdom.section(name) is not None for _, vdom in vdoms for name in POLICY_SECTIONS) and not _is_fortios(root):
        # an empty answer or another device's file would otherwise read as a FortiGate that denies everything
        raise ValueError(
            "no FortiGate configuration found: no 'config firewall policy' section and no other FortiOS section "
            "(is the file empty, or not a FortiGate backup?)"
        )
    rules = [rule for name, vdom in vdoms for rule in _policies(name, vdom, _wan(root, vdom, wan))]
    system = (root.section("global") or root).section("system global") or Node()
    hostname = device or system.first("hostname") or header.get("config-version", "fortigate").split("-")[0]
    return ruleset(hostname, rules, "drop", "drop")
