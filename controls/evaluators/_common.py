"""Helpers shared by evaluators: the newest usable evidence or a gap, the register a control
rests on, register rows and one outcome per subject-date (account, backup, supplier controls…).

People and account matching is in _people.py. This module has no CONTROL_ID, so the
evaluator registry imports it without registering it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..evidence_view import EvidenceView
from ..framework import Attributes, EvaluationContext, Findings, parse_moment

Row = dict[str, Any]
RegisterCheck = Callable[[EvaluationContext, Findings, EvidenceView, list[str]], None]
REGISTER_PREFIX = "register."


def closing_day(ctx: EvaluationContext) -> date:
    """The date of a finding about the period as a whole: its last day, or today while the period runs."""
    return max(ctx.period.start.date(), min(ctx.period.last_day.date(), ctx.today))


def evidence_or_gap(ctx: EvaluationContext, findings: Findings, kind: str) -> EvidenceView | None:
    """The newest usable item of a kind; when there is none, a gap naming the kind (and any collection errors)."""
    item = ctx.latest(kind)
    if item is not None:
        return item
    unusable = ctx.items(kind, usable_only=False)
    ids = findings.use(unusable)
    if kind.startswith(REGISTER_PREFIX):
        findings.gap(kind, closing_day(ctx), "evidence.no_register", ids, register=kind.removeprefix(REGISTER_PREFIX))
    else:
        errors = "; ".join(e for i in unusable for e in i.errors)
        findings.gap(kind, closing_day(ctx), "evidence.missing", ids, why=f"{kind}: {errors}" if errors else kind)
    return None


def on_register(kind: str) -> Callable[[RegisterCheck], Callable[[EvaluationContext], Findings]]:
    """Turn check(ctx, findings, register, ids) into evaluate(ctx): without the register the control is a gap."""

    def wrap(check: RegisterCheck) -> Callable[[EvaluationContext], Findings]:
        def evaluate(ctx: EvaluationContext) -> Findings:
            findings = Findings()
            register = evidence_or_gap(ctx, findings, kind)
            if register is not None:
                check(ctx, findings, register, findings.use([register]))
            return findings

        evaluate.__doc__ = check.__doc__
        return evaluate

    return wrap


def require(ctx: EvaluationContext, findings: Findings, *kinds: str) -> dict[str, EvidenceView] | None:
    """The newest usable item of every kind, or None (with a gap per missing kind).

    A control that lacks one of these inputs tests nothing, so it ends as not
    evidenced instead of giving a verdict on half of the evidence.
    """
    found = {kind: evidence_or_gap(ctx, findings, kind) for kind in kinds}
    if any(item is None for item in found.values()):
        return None
    return found  # type: ignore[return-value]


@dataclass(frozen=True)
class Outcome:
    """One reason a subject-date did not pass: a deviation or, with gap=True, something that could not be shown."""

    code: str
    evidence: list[str]
    facts: dict[str, Any] = field(default_factory=dict)
    gap: bool = False


def record(
    findings: Findings,
    subject: str,
    day: date,
    outcomes: list[Outcome],
    attributes: Attributes | None = None,
    evidence: list[str] | None = None,
) -> None:
    """One tested instance per subject-date: a pass when nothing went wrong, else every deviation and gap found;
    each with the ATTRIBUTES the test used, and the EVIDENCE they came from (a deviation cites its own)."""
    if not outcomes:
        findings.passed(subject, day, attributes=attributes, evidence=evidence)
    elif evidence:
        findings.read(subject, day, evidence)
    for outcome in outcomes:
        report = findings.gap if outcome.gap else findings.deviation
        report(subject, day, outcome.code, outcome.evidence, attributes=attributes, **outcome.facts)


def one_or_all(values: list[Any]) -> Any:
    """An attribute of something a subject has one or several of (a leaver's badges): the value itself when there
    is one, so a date stays a date the workbook can sort; the list when there are several; None when there are none."""
    return values[0] if len(values) == 1 else (values or None)


def rows(register: EvidenceView) -> list[Row]:
    return list(register.normalized.get("rows", []))


def snapshot_day(item: EvidenceView) -> date:
    return date.fromisoformat(item.day)


def logged_events(
    ctx: EvaluationContext, kind: str, identity: Callable[[Row], tuple]
) -> Iterator[tuple[EvidenceView, Row, datetime]]:
    """Each (item, event, moment) of a kind's `events` inside the period, once: overlapping log reads repeat events."""
    seen = set()
    for item in ctx.items(kind):
        for event in item.normalized["events"]:
            moment = parse_moment(event["time"])
            key = (item.host, event["event_id"], event["time"], *identity(event))
            if key not in seen and ctx.in_period(moment):
                seen.add(key)
                yield item, event, moment
