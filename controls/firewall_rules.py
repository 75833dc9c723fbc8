"""What T-FWP derives from the perimeter rule model: the egress register's reasons held against
the outbound allow rules (`justify()`), and the changes between two collections (`diff_rulesets()`).

The egress register is a YAML file (`auditpack import egress-register` validates it
with `EgressRegister.from_yaml`); the rules arrive as `firewall.ruleset` evidence in
the shape of controls/EVIDENCE.md, built by collectors/parsers/firewall_rules.py.
Pure: no I/O.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from auditpack.yamlfile import load_yaml, validate

ANY = "any"  # the rule model's "unrestricted" value (controls/EVIDENCE.md, firewall.ruleset)
SERVICE_SYNTAX = r"^[a-z0-9-]+(/[a-z0-9-]+)?$"
RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


class EgressEntry(BaseModel):
    """Why a device may send traffic out: by rule id, by service ("tcp/443", "icmp") or by port (any protocol)."""

    model_config = ConfigDict(extra="forbid")
    device: str = Field(min_length=1)
    rule: str | None = None
    service: str | None = Field(default=None, pattern=SERVICE_SYNTAX)
    port: int | None = Field(default=None, ge=1, le=65535)
    reason: str = Field(min_length=1)

    @field_validator("rule", mode="before")
    @classmethod
    def _rule_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value  # `rule: 3` in YAML

    @field_validator("reason")
    @classmethod
    def _reason_said(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a reason must say why the traffic is needed")
        return value.strip()

    @model_validator(mode="after")
    def _says_what(self) -> EgressEntry:
        if self.rule is None and self.service is None and self.port is None:
            raise ValueError("an entry needs a rule, service or port")
        if self.service and self.service.split("/")[0] == ANY:
            raise ValueError("'any' is not a justification: name the ports the device needs")
        return self

    def covers(self, rule_id: str, component: str) -> bool:
        """Whether this entry justifies one service component of a rule."""
        if self.rule is not None:
            return self.rule == rule_id
        proto, _, ports = component.partition("/")
        if self.port is not None:
            return _within(ports, self.port, self.port)
        wanted, _, allowed = (self.service or "").partition("/")
        if wanted != proto:
            return False
        if not allowed or allowed == ports:
            return True  # a bare protocol justifies all of it
        bounds = RANGE.match(allowed)
        return bool(bounds) and _within(ports, int(bounds[1]), int(bounds[2] or bounds[1]))


def _within(ports: str, low: int, high: int) -> bool:
    found = RANGE.match(ports)
    return bool(found) and low <= int(found[1]) and int(found[2] or found[1]) <= high


class EgressRegister(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entries: list[EgressEntry]

    @classmethod
    def from_yaml(cls, data: bytes, file: str = "egress-register.yaml") -> EgressRegister:
        """Raises auditpack.yamlfile.YamlFileError listing every problem as file:line: key: message."""
        return validate(cls, load_yaml(data, file), file)

    def for_device(self, device: str) -> list[EgressEntry]:
        return [e for e in self.entries if e.device == device]


def justify(ruleset_: dict[str, Any], register: EgressRegister) -> dict[str, Any]:
    """A copy of the ruleset whose `unjustified` lists enabled outbound allow rules the register does not cover.

    A rule is covered by an entry naming its id, or when every service component
    ("tcp/80,tcp/443") is covered by some service/port entry; "any" only by id.
    """
    entries = register.for_device(ruleset_["device"])

    def covered(rule: dict[str, Any]) -> bool:
        if any(e.rule == rule["id"] for e in entries):
            return True
        parts = rule["service"].split(",")
        return ANY not in parts and all(any(e.covers(rule["id"], part) for e in entries) for part in parts)

    unjustified = [
        r["id"]
        for r in ruleset_["rules"]
        if r["enabled"] and r["action"] == "allow" and r["direction"] == "out" and not covered(r)
    ]
    return {**ruleset_, "unjustified": unjustified}


def diff_rulesets(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Rules added, removed and changed (same id, other content) between two collections of one device."""
    before = {r["id"]: r for r in old["rules"]}
    after = {r["id"]: r for r in new["rules"]}
    changed = [
        {
            "id": rid,
            "fields": [k for k in after[rid] if before[rid].get(k) != after[rid][k]],
            "before": before[rid],
            "after": after[rid],
        }
        for rid in after
        if rid in before and before[rid] != after[rid]
    ]
    return {
        "added": [r for rid, r in after.items() if rid not in before],
        "removed": [r for rid, r in before.items() if rid not in after],
        "changed": changed,
    }
