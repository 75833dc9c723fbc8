"""Findings and evidence as the report prints them: grouped, counted and capped; the workbook keeps every item.

A year of weekly collections from a hundred hosts is thousands of findings and evidence items. The report names
each thing once: a subject's findings of one kind are one row with their dates, subjects with the very same
findings share a row, and an evidence kind is one row with its count, its hosts and its command. So the printed
report grows with the controls, not with the hosts or the collections. Nothing here decides a verdict.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from typing import Any

DISTINCT_TEXTS_KEPT = 3  # up to this many explanations of one subject and code keep a row each
RANGES_SHOWN = 6  # date ranges named per row
SUBJECTS_SHOWN = 12  # subjects named in a row that several share
EVIDENCE_IDS_SHOWN = 2  # evidence ids named per row
ROWS_SHOWN = 40  # rows per table of findings
COMMANDS_SHOWN = 5  # distinct commands named per evidence kind
ITEMS_LISTED = 20  # evidence items listed one by one: all of a control with no more, else those the rows name

# The Windows collector records "powershell (WinRM <endpoint>): <script>"; only the endpoint differs per host.
_WINRM_PREFIX = re.compile(r"^(?P<program>\S+) \(WinRM (?P<endpoint>[^)\s]+)\): ")


# -- dates ---------------------------------------------------------------------------------------


def _next_day(day: str) -> str | None:
    try:
        return (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    except ValueError:
        return None


def date_ranges(days: list[str]) -> list[str]:
    """ISO dates as runs of consecutive days: '2026-01-01 – 2026-01-31', '2026-03-10'."""
    out: list[list[str]] = []
    for day in sorted(set(days)):
        if out and _next_day(out[-1][1]) == day:
            out[-1][1] = day
        else:
            out.append([day, day])
    return [first if first == last else f"{first} – {last}" for first, last in out]


# -- findings ------------------------------------------------------------------------------------


def _row(findings: list[dict[str, Any]], max_ranges: int | None, same: tuple[str, ...]) -> dict[str, Any]:
    """One row for findings of one subject: the first explanation, every date as ranges, every evidence id."""
    days = sorted({f["date"] for f in findings})
    ranges = date_ranges(days)
    shown = ranges if max_ranges is None else ranges[:max_ranges]
    evidence = list(dict.fromkeys(i for f in findings for i in f["evidence"]))
    return {
        **{key: findings[0].get(key) for key in same},
        "subject": findings[0]["subject"],
        "subjects": [findings[0]["subject"]],
        "more_subjects": 0,
        "text": findings[0]["text"],
        "texts": len({f["text"] for f in findings}),
        "days": days,
        "count": len(days),
        "first": days[0],
        "last": days[-1],
        "ranges": shown,
        "more_ranges": len(ranges) - len(shown),
        "evidence": evidence,
        "evidence_shown": evidence[:EVIDENCE_IDS_SHOWN],
        "more_evidence": max(0, len(evidence) - EVIDENCE_IDS_SHOWN),
    }


def _share_rows(rows: list[dict[str, Any]], same: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows of different subjects with the same explanation on the same dates as one row naming them all."""
    shared: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (row["text"], row["texts"], tuple(row["days"]), *(row[k] for k in same))
        if key not in shared:
            shared[key] = {**row, "subjects": list(row["subjects"]), "evidence": list(row["evidence"])}
            continue
        into = shared[key]
        into["subjects"] += row["subjects"]
        into["evidence"] += [i for i in row["evidence"] if i not in into["evidence"]]
    for row in shared.values():
        row["more_subjects"] = max(0, len(row["subjects"]) - SUBJECTS_SHOWN)
        row["subjects"] = row["subjects"][:SUBJECTS_SHOWN]
        row["evidence_shown"] = row["evidence"][:EVIDENCE_IDS_SHOWN]
        row["more_evidence"] = max(0, len(row["evidence"]) - EVIDENCE_IDS_SHOWN)
    return list(shared.values())


def group_findings(
    findings: list[dict[str, Any]], max_ranges: int | None = RANGES_SHOWN, same: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Findings as rows: per subject and code, with every date (as ranges of days), oldest first.

    A firewall rule without a reason, found on 52 Mondays, is one row with 52 dates rather than 52 rows. A subject
    and code with a few explanations keep a row per explanation (two rules of one firewall); with more, each
    naming something of its day (an age, a date), they are one row with the first explanation and their count.
    Subjects whose rows say the same on the same dates share one. The keys in `same` (an exception's scope,
    owner, expiry) must be equal within a row too. A row names `max_ranges` date ranges and counts the rest.
    """
    by_kind: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for f in sorted(findings, key=lambda f: (f["date"], f["subject"])):
        by_kind.setdefault((f["subject"], f.get("code"), *(f.get(k) for k in same)), []).append(f)
    rows = []
    for kind in by_kind.values():
        texts = list(dict.fromkeys(f["text"] for f in kind))
        if len(texts) <= DISTINCT_TEXTS_KEPT:
            rows += [_row([f for f in kind if f["text"] == text], max_ranges, same) for text in texts]
        else:
            rows.append(_row(kind, max_ranges, same))
    return sorted(_share_rows(rows, same), key=lambda r: (r["first"], r["subject"]))


# -- evidence ------------------------------------------------------------------------------------


def command_shape(command: str, endpoint: str) -> str:
    """The command as every host got it: the WinRM endpoint, the one part that differs per host, named `endpoint`."""
    return _WINRM_PREFIX.sub(lambda m: f"{m['program']} (WinRM {endpoint}): ", command, count=1)


def evidence_kinds(evidence: list[dict[str, Any]], endpoint: str) -> list[dict[str, Any]]:
    """Per evidence kind, in order of appearance: items, hosts, first and last collection, states, each command once."""
    kinds: dict[str, dict[str, Any]] = {}
    for e in evidence:
        k = kinds.setdefault(
            e["kind"], {"kind": e["kind"], "count": 0, "hosts": set(), "days": [], "statuses": Counter(), "commands": Counter()}
        )
        k["count"] += 1
        k["hosts"].add(e["host"])
        k["statuses"][e["status"]] += 1
        k["commands"][command_shape(e["command"], endpoint)] += 1
        if e.get("collected"):
            k["days"].append(e["collected"][:10])
    out = []
    for k in kinds.values():
        commands = k["commands"].most_common()
        out.append(
            {
                "kind": k["kind"],
                "count": k["count"],  # not "items": templates would read a dict's items()
                "hosts": len(k["hosts"]),
                "first": min(k["days"], default=""),
                "last": max(k["days"], default=""),
                "statuses": dict(k["statuses"].most_common()),
                "commands": [{"text": text, "count": n} for text, n in commands[:COMMANDS_SHOWN]],
                "more_commands": max(0, len(commands) - COMMANDS_SHOWN),
            }
        )
    return out


def to_the_second(moment: str | None) -> str:
    """'2026-12-04T19:00:59.417532Z' as '2026-12-04T19:00:59Z': the fraction is in the workbook and the JSON."""
    return re.sub(r"(T\d\d:\d\d:\d\d)\.\d+", r"\1", moment or "")


def listed_evidence(control: dict[str, Any], tables: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """The evidence items printed one by one, with their hashes: every item of a control that has at most
    ITEMS_LISTED (a register, an attached document), else the items the printed rows name, at most ITEMS_LISTED;
    with `cited`, how many items the control's findings cite in all."""
    by_id = {e["item_id"]: e for e in control["evidence"]}
    cited = {i for key in ("deviations", "gaps", "excepted", "observations") for f in control[key] for i in f["evidence"]}
    if len(by_id) <= ITEMS_LISTED:
        return {"rows": list(by_id.values()), "every": True, "cited": len(cited & by_id.keys())}
    named = dict.fromkeys(i for rows in tables for row in rows for i in row["evidence_shown"] if i in by_id)
    return {"rows": [by_id[i] for i in list(named)[:ITEMS_LISTED]], "every": False, "cited": len(cited & by_id.keys())}
