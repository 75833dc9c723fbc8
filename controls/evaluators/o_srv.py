"""O-SRV: only management and ICT hold a badge that opens the server room."""

from __future__ import annotations

from ..framework import EvaluationContext, Findings
from ._common import Outcome, closing_day, record, require, rows
from ._people import badges_in_use, name_key
from ._register_fields import is_true

CONTROL_ID = "O-SRV"
BADGES = "register.badges"


def evaluate(ctx: EvaluationContext) -> Findings:
    findings = Findings()
    found = require(ctx, findings, BADGES)
    if found is None:
        return findings
    ids, day = findings.use([found[BADGES]]), closing_day(ctx)
    allowed = [name_key(role) for role in ctx.params["allowed_roles"]]
    for badge in badges_in_use(ctx, rows(found[BADGES])):
        if not is_true(badge.get("server_room_access"), default=False):
            continue
        badge_id = str(badge.get("badge_id"))
        outcomes = (
            []
            if name_key(badge.get("role")) in allowed
            else [
                Outcome(
                    "srv.role",
                    ids,
                    {
                        "badge_id": badge_id,
                        "holder": badge.get("holder"),
                        "role": badge.get("role"),
                        "allowed": list(ctx.params["allowed_roles"]),
                    },
                )
            ]
        )
        attributes = {"holder": badge.get("holder"), "role": badge.get("role"), "row": badge.get("row")}
        record(findings, badge_id, day, outcomes, attributes, ids)
    return findings
