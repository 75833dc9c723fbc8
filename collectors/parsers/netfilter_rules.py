"""Rules of a Linux gateway, from `nft -j list ruleset` or `iptables-save`, as a `firewall.ruleset`. Pure.

nftables.py/iptables.py summarise the same input (and refuse malformed input);
their chain-policy defaults are reused here: inbound is "drop" when the input
and forward hooks drop by default, outbound when forward and output do, for
every address family the input covers (the same reading as T-FWP's summary check).

Rules are followed from the filter base chains through jump/goto (and nft
verdict maps) so a rule in a user chain gets the hook and the interfaces of
the path that reaches it; a rule no base chain reaches never sees a packet
and is left out. Ids: nft "family/table/chain/handle" (plus "/key" for a verdict
map element), iptables "filter/CHAIN/N" with N the rule's position.

Direction: input-hook rules are "in". For every other hook (forward, output,
and filter chains at prerouting/postrouting), with the WAN interfaces known
(`wan=`): "out" when the output interface is a WAN interface, "in" when it is
another interface or the input interface is a WAN one, else "out" (the packet
may still leave through the WAN). With the WAN unknown: "in" only when every
output interface is a LAN interface (`lan=`), otherwise "out": traffic that
may leave is held to the egress register.

Left out on purpose, because they admit no new flow across the perimeter:
loopback-only rules (iif/oif lo) and accepts of return traffic only (ct state
established/related). nft 1.0.x prints an anonymous chain (`jump { … }`) as
text it cannot express in JSON; such a rule is kept with the matches before the
jump and counts as an allow when the text accepts anything.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from .firewall_rules import ANY, Rule, endpoint, join, negate, ruleset, service
from .iptables import BUILTIN_HOOKS, parse_iptables_save
from .nftables import FAMILY_SCOPE, MALFORMED, nft_entries, summarize_nft

TRANSIT_HOOKS = ("forward", "prerouting", "postrouting")
HOOKS = ("input", "output", *TRANSIT_HOOKS)
VERDICTS = {"accept": "allow", "drop": "deny", "reject": "deny"}
FLOW_CONTROL = ("accept", "drop", "reject", "jump", "goto", "return", "continue", "queue")
RETURN_TRAFFIC = {"established", "related"}
MAX_DEPTH = 32  # jump nesting; netfilter itself allows fewer
NOT_UNDERSTOOD = (*MALFORMED, IndexError)  # a "range" or "prefix" without its parts


@dataclass
class Facts:
    """What a rule matches, as the rule model says it; negated values start with "!"."""

    iif: str = ""
    oif: str = ""
    source: str = ANY
    destination: str = ANY
    source_port: str = ""
    protocols: list[str] = field(default_factory=list)
    ports: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    description: str = ""

    def copy(self) -> Facts:
        return replace(self, protocols=list(self.protocols), ports=list(self.ports), states=list(self.states))

    def set(self, what: str, values: list[str], negated: bool, protocol: str = "") -> None:
        each = [negate(v, negated) for v in values]
        if what in ("iif", "oif", "source_port"):
            setattr(self, what, ",".join(each))
        elif what in ("source", "destination"):
            setattr(self, what, negate(join(values), negated))
        elif what in ("protocols", "ports"):
            setattr(self, what, each)
        elif what == "states" and not negated:
            self.states = [v.lower() for v in values]
        if protocol and protocol != "th" and not self.protocols:  # "tcp dport 22" also says tcp; th = any transport
            self.protocols = [protocol]

    def only_loopback_or_replies(self) -> bool:
        names = {n for n in f"{self.iif},{self.oif}".split(",") if n}
        return names == {"lo"} or bool(self.states) and set(self.states) <= RETURN_TRAFFIC


@dataclass(frozen=True)
class Branch:
    """One way a rule ends: a verdict (becomes a Rule) or a jump/goto into another chain."""

    id: str
    facts: Facts
    verdict: str
    target: Any = None


@dataclass(frozen=True)
class Context:
    hook: str
    iif: str = ""
    oif: str = ""


def _names(interfaces: str) -> set[str]:
    return {n for n in interfaces.split(",") if n and not n.startswith("!")}


def _direction(ctx: Context, wan: set[str], lan: set[str]) -> str:
    if ctx.hook == "input":
        return "in"
    out_via, in_via = _names(ctx.oif), _names(ctx.iif)
    if wan:
        if out_via & wan:
            return "out"
        return "in" if out_via or in_via & wan else "out"  # leaves through an inside interface, or came from outside
    return "in" if out_via and out_via <= lan else "out"


def _interface(ctx: Context) -> str:
    if ctx.hook == "input":
        return ctx.iif or ANY
    if ctx.hook == "output":
        return ctx.oif or ANY
    return f"{ctx.iif or ANY}->{ctx.oif or ANY}"


def _merge(old: Rule, new: Rule) -> Rule:
    """A rule reached along several paths: every interface it serves; "out" if any path leads out."""
    return replace(
        old,
        interface=",".join(dict.fromkeys([*old.interface.split(","), *new.interface.split(",")])),
        direction="out" if "out" in (old.direction, new.direction) else "in",
    )


def _walk(chains: dict[Any, list[Branch]], bases: list[tuple[Any, str]], wan: set[str], lan: set[str]) -> list[Rule]:
    found: dict[str, Rule] = {}
    seen: set[tuple[Any, Context]] = set()

    def visit(key: Any, ctx: Context, depth: int) -> None:
        if (key, ctx) in seen or depth > MAX_DEPTH:
            return
        seen.add((key, ctx))
        for branch in chains.get(key, []):
            facts = branch.facts
            here = Context(ctx.hook, facts.iif or ctx.iif, facts.oif or ctx.oif)
            if branch.verdict in ("jump", "goto"):
                visit(branch.target, here, depth + 1)
            elif branch.verdict in VERDICTS and not replace(facts, iif=here.iif, oif=here.oif).only_loopback_or_replies():
                rule = Rule(
                    id=branch.id,
                    interface=_interface(here),
                    direction=_direction(here, wan, lan),
                    source=endpoint(facts.source, facts.source_port),
                    destination=facts.destination,
                    service=service(facts.protocols, facts.ports),
                    action=VERDICTS[branch.verdict],
                    enabled=True,
                    description=facts.description,
                )
                found[rule.id] = _merge(found[rule.id], rule) if rule.id in found else rule

    for key, hook in bases:
        visit(key, Context(hook), 0)
    return list(found.values())


def _defaults(defaults: dict[str, dict[str, str]], families: tuple[str, ...]) -> tuple[str, str]:
    def closed(hooks: tuple[str, str]) -> bool:
        return all(defaults[hook][fam] == "drop" for hook in hooks for fam in families)

    return ("drop" if closed(("input", "forward")) else "accept", "drop" if closed(("forward", "output")) else "accept")


# --- nftables JSON -----------------------------------------------------------

NFT_META = {"iifname": "iif", "iif": "iif", "oifname": "oif", "oif": "oif", "l4proto": "protocols"}
NFT_PAYLOAD = {
    "saddr": "source",
    "daddr": "destination",
    "sport": "source_port",
    "dport": "ports",
    "type": "ports",
    "protocol": "protocols",
    "nexthdr": "protocols",
}
L4 = {"tcp", "udp", "sctp", "dccp", "udplite", "icmp", "icmpv6", "th"}


def _values(value: Any, depth: int = 0) -> list[str]:
    """An nft JSON right-hand side as strings: sets, ranges "a-b", prefixes "a/n", "@named" sets."""
    if depth > 8:
        raise ValueError("expression nested too deeply")
    if isinstance(value, bool):
        return [str(value).lower()]
    if isinstance(value, (str, int, float)):
        return [str(value)]
    if isinstance(value, list):
        return [v for item in value for v in _values(item, depth + 1)]
    if "set" in value:
        return _values(value["set"], depth + 1)
    if "range" in value:
        low, high = value["range"]
        return [f"{_values(low, depth + 1)[0]}-{_values(high, depth + 1)[0]}"]
    if "prefix" in value:
        return [f"{_values(value['prefix']['addr'], depth + 1)[0]}/{value['prefix']['len']}"]
    return [json.dumps(value, sort_keys=True)]  # an expression the model has no name for


def _nft_match(facts: Facts, left: dict[str, Any], op: str, right: Any) -> None:
    negated = op == "!="
    if "meta" in left and left["meta"]["key"] in NFT_META:
        facts.set(NFT_META[left["meta"]["key"]], _values(right), negated)
    elif "payload" in left and "field" in left["payload"]:
        proto, name = left["payload"]["protocol"], left["payload"]["field"]
        what = NFT_PAYLOAD.get(name) if name != "type" or proto in ("icmp", "icmpv6") else None
        facts.set(what or "", _values(right), negated, proto if proto in L4 else "")
    elif "ct" in left and left["ct"].get("key") == "state":
        facts.set("states", _values(right), negated)


def _nft_branches(base_id: str, body: dict[str, Any], maps: dict[str, list[Any]]) -> list[Branch]:
    facts = Facts(description=str(body.get("comment", "")))
    for stmt in body.get("expr", []):
        if isinstance(stmt, str):  # an anonymous chain nft could not express in JSON
            text = " ".join(stmt.split())
            facts.description = f"anonymous chain, not analysed: {text[:200]}"
            return [Branch(base_id, facts, "accept" if re.search(r"\baccept\b", text) else "drop")]
        ((kind, arg),) = stmt.items()
        if kind == "match":
            _nft_match(facts, arg["left"], arg["op"], arg["right"])
        elif kind in FLOW_CONTROL:
            return [Branch(base_id, facts, kind, arg["target"] if kind in ("jump", "goto") else None)]
        elif kind == "vmap":
            data = arg["data"]
            elements = maps.get(data[1:], []) if isinstance(data, str) else data["set"]
            branches = []
            for key, verdict in elements:
                ((what, target),) = verdict.items()
                each = facts.copy()
                _nft_match(each, arg["key"], "==", key)
                branches.append(
                    Branch(
                        f"{base_id}/{','.join(_values(key))}", each, what, target["target"] if what in ("jump", "goto") else None
                    )
                )
            return branches
    return []


def parse_nft_rules(data: bytes, device: str, wan: Iterable[str] = (), lan: Iterable[str] = ()) -> dict[str, Any]:
    entries = nft_entries(data)
    defaults = summarize_nft(entries)["defaults"]  # also refuses malformed input
    chains: dict[tuple[str, str, str], list[Branch]] = {}
    bases: list[tuple[tuple[str, str, str], str]] = []
    maps: dict[tuple[str, str], dict[str, list[Any]]] = {}
    try:
        for entry in entries:
            ((kind, body),) = entry.items()
            if kind == "map" and body.get("map") == "verdict":
                maps.setdefault((body["family"], body["table"]), {})[body["name"]] = body.get("elem", [])
            elif kind == "chain":
                key = (body["family"], body["table"], body["name"])
                chains.setdefault(key, [])
                if body.get("type") == "filter" and body.get("hook") in HOOKS and body["family"] in FAMILY_SCOPE:
                    bases.append((key, body["hook"]))
            elif kind == "rule":
                family, table, chain = body["family"], body["table"], body["chain"]
                branches = _nft_branches(
                    f"{family}/{table}/{chain}/{body.get('handle', len(chains[(family, table, chain)]) + 1)}",
                    body,
                    maps.get((family, table), {}),
                )
                chains[(family, table, chain)] += [
                    replace(b, target=(family, table, b.target)) if b.target else b for b in branches
                ]
        rules = _walk(chains, bases, set(wan), set(lan))
    except NOT_UNDERSTOOD as exc:
        raise ValueError(f"nft rule not understood ({exc.__class__.__name__}: {exc})") from None
    return ruleset(device, rules, *_defaults(defaults, ("ipv4", "ipv6")))


# --- iptables-save -------------------------------------------------------------

IPT_OPTIONS = {
    "-i": "iif",
    "--in-interface": "iif",
    "-o": "oif",
    "--out-interface": "oif",
    "-s": "source",
    "--source": "source",
    "--src": "source",
    "-d": "destination",
    "--destination": "destination",
    "--dst": "destination",
    "-p": "protocols",
    "--protocol": "protocols",
    "--dport": "ports",
    "--destination-port": "ports",
    "--dports": "ports",
    "--destination-ports": "ports",
    "--icmp-type": "ports",
    "--icmpv6-type": "ports",
    "--sport": "source_port",
    "--source-port": "source_port",
    "--sports": "source_port",
    "--source-ports": "source_port",
    "--state": "states",
    "--ctstate": "states",
}


def _options(args: list[str]) -> list[tuple[str, list[str], bool]]:
    """iptables arguments as (option, values, negated); "!" may stand before the option or its value."""
    options: list[tuple[str, list[str], bool]] = []
    negated = False
    for arg in args:
        if arg == "!":
            negated = True
        elif arg.startswith("-") and not arg.lstrip("-").isdigit():
            options.append((arg, [], negated))
            negated = False
        elif options:
            option, values, was = options[-1]
            options[-1] = (option, values + [arg], was or negated)
            negated = False
    return options


def _iptables_branch(rule_id: str, args: list[str], chains: set[str]) -> Branch | None:
    facts, verdict, target = Facts(), "", None
    for option, values, negated in _options(args):
        what = IPT_OPTIONS.get(option)
        if what:
            split = [v.replace(":", "-") for value in values for v in value.split(",")]  # multiport "80,443", "1000:2000"
            facts.set(what, split, negated)
        elif option == "--comment":
            facts.description = " ".join(values)
        elif option in ("-j", "--jump", "-g", "--goto") and values:
            if values[0] in chains:
                verdict, target = ("goto" if option in ("-g", "--goto") else "jump"), values[0]
            else:
                verdict = values[0].lower()
    return Branch(rule_id, facts, verdict, target) if verdict else None


def parse_iptables_rules(
    data: bytes, device: str, family: str = "ipv4", wan: Iterable[str] = (), lan: Iterable[str] = ()
) -> dict[str, Any]:
    summary = parse_iptables_save(data, family)  # also refuses malformed input
    names = {c["name"] for c in summary["chains"] if c["table"] == "filter"}
    chains: dict[str, list[Branch]] = {name: [] for name in names}
    table = None
    for line in data.decode("utf-8").splitlines():
        line = line.strip()
        if line.startswith("*"):
            table = line[1:]
        elif table == "filter" and (line.startswith("-A ") or line.startswith("[") and "-A " in line):
            args = shlex.split(line[line.index("-A ") :])
            branch = _iptables_branch(f"filter/{args[1]}/{len(chains[args[1]]) + 1}", args[2:], names)
            chains[args[1]].append(branch or Branch("", Facts(), ""))  # keep positions: ids count every rule
    bases = [(name, hook) for name, hook in BUILTIN_HOOKS.items() if name in names]
    return ruleset(device, _walk(chains, bases, set(wan), set(lan)), *_defaults(summary["defaults"], (family,)))
