"""What changed between two evidence packs: results, populations, exceptions and firewall rules.

Reads only what the packs hold (report/document.json and the cited evidence), so
it works offline on packs an auditor received. It does not check signatures:
run verify_pack on both packs first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditpack.controls.firewall_rules import diff_rulesets
from auditpack.reports.i18n import LANGS, STATUS_LABELS, STRINGS

from .pack import PackError, PackReader

RULESET_KIND = "firewall.ruleset"
EXCEPTION_FIELDS = ("justification", "owner", "approver", "expires", "state")  # not `matched`: a count over the period


def _pack_info(path: Path, document: dict[str, Any]) -> dict[str, Any]:
    return {
        "path": str(path),
        "period": document.get("period"),
        "generated_at": document.get("generated_at"),
        "lang": document.get("lang"),
        "catalogue": (document.get("catalogue") or {}).get("version"),  # packs before catalogue versions: None
    }


def _controls(old: dict[str, Any], new: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    before = {c["id"]: c for c in old["controls"]}
    after = {c["id"]: c for c in new["controls"]}
    changes, populations = [], []
    for cid in sorted(set(before) | set(after)):
        a, b = before.get(cid), after.get(cid)
        subjects_a = set(a["population"]["subjects"]) if a else set()
        subjects_b = set(b["population"]["subjects"]) if b else set()
        entry = {
            "id": cid,
            "status": {"old": a["status"] if a else None, "new": b["status"] if b else None},
            "population": {"old": a["population"]["size"] if a else None, "new": b["population"]["size"] if b else None},
            "deviations": {"old": len(a["deviations"]) if a else None, "new": len(b["deviations"]) if b else None},
        }
        entry["status_changed"] = entry["status"]["old"] != entry["status"]["new"]
        if any(v["old"] != v["new"] for v in (entry["status"], entry["population"], entry["deviations"])):
            changes.append(entry)
        added, removed = sorted(subjects_b - subjects_a), sorted(subjects_a - subjects_b)
        if added or removed:
            populations.append({"control": cid, "added": added, "removed": removed})
    return changes, populations


def _exceptions(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    def index(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
        return {(c["id"], e["scope"]): e for c in document["controls"] for e in c["exceptions"]}

    before, after = index(old), index(new)
    result: dict[str, list[dict[str, Any]]] = {"added": [], "removed": [], "changed": []}
    for key in sorted(set(before) | set(after)):
        control, scope = key
        a, b = before.get(key), after.get(key)
        if a is None:
            result["added"].append({"control": control, **b})
        elif b is None:
            result["removed"].append({"control": control, **a})
        else:
            fields = [f for f in EXCEPTION_FIELDS if a.get(f) != b.get(f)]
            if fields:
                result["changed"].append(
                    {
                        "control": control,
                        "scope": scope,
                        "fields": fields,
                        "old": {f: a.get(f) for f in fields},
                        "new": {f: b.get(f) for f in fields},
                    }
                )
    return result


def _latest_rulesets(reader: PackReader, document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The latest usable firewall.ruleset per device among the items the pack's report cites."""
    latest: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for control in document["controls"]:
        for ref in control["evidence"]:
            if ref["kind"] != RULESET_KIND or ref["item_id"] in seen:
                continue
            seen.add(ref["item_id"])
            meta = reader.item(ref["item_id"])
            if meta.get("status") != "ok" or not meta.get("normalized"):
                continue
            ruleset = reader.read_json(meta["normalized"]["path"])
            if not isinstance(ruleset, dict) or not isinstance(ruleset.get("rules"), list):
                raise PackError(f"{meta['normalized']['path']} in {reader.path} is not a firewall ruleset")
            device = ruleset.get("device") or meta["host"]
            current = latest.get(device)
            if current is None or (meta["collected"], meta["id"]) > (current["collected"], current["item_id"]):
                latest[device] = {"item_id": meta["id"], "host": meta["host"], "collected": meta["collected"], "ruleset": ruleset}
    return latest


def _firewalls(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    empty = {"rules": []}
    for device in sorted(set(old) | set(new)):
        a, b = old.get(device), new.get(device)
        change = diff_rulesets((a or {}).get("ruleset", empty), (b or {}).get("ruleset", empty))
        out.append(
            {
                "device": device,
                "old": {k: a[k] for k in ("item_id", "collected")} if a else None,
                "new": {k: b[k] for k in ("item_id", "collected")} if b else None,
                **change,
            }
        )
    return out


def diff_packs(old: Path, new: Path) -> dict[str, Any]:
    """Compare two packs (e.g. last year's and this year's, or two versions of one report)."""
    with PackReader(Path(old)) as a, PackReader(Path(new)) as b:
        doc_a, doc_b = a.document(), b.document()
        try:
            controls, populations = _controls(doc_a, doc_b)
            return {
                "old": _pack_info(Path(old), doc_a),
                "new": _pack_info(Path(new), doc_b),
                "controls": controls,
                "populations": populations,
                "exceptions": _exceptions(doc_a, doc_b),
                "firewall": _firewalls(_latest_rulesets(a, doc_a), _latest_rulesets(b, doc_b)),
            }
        except (KeyError, TypeError, AttributeError) as exc:
            # a document or item that is not what auditpack writes: a damaged or hand-made pack, not a bug to trace back
            raise PackError(
                f"{old} or {new} holds a report document or evidence item that cannot be compared "
                f"({type(exc).__name__}: {exc}); run 'auditpack verify' on both packs"
            ) from exc


def has_changes(result: dict[str, Any]) -> bool:
    """Whether a diff_packs() result holds any difference (each part is empty when nothing changed)."""
    rules_changed = any(d["added"] or d["removed"] or d["changed"] for d in result["firewall"])
    exceptions_changed = any(result["exceptions"].values())
    catalogue_changed = result["old"]["catalogue"] != result["new"]["catalogue"]
    return bool(rules_changed or exceptions_changed or catalogue_changed or result["controls"] or result["populations"])


TEXT = {
    "nl": {
        "title": "Vergelijking van bewijspakketten",
        "old": "oud",
        "new": "nieuw",
        "period": "periode",
        "catalogue": "catalogus",
        "catalogue_changed": "Beoordeeld met een andere catalogusversie ({old} → {new}): een ander oordeel kan uit de "
        "catalogus komen en niet uit de maatregelen zelf.",
        "controls": "Maatregelen",
        "no_controls": "geen wijzigingen in oordeel, populatie of afwijkingen",
        "population": "populatie",
        "deviations": "afwijkingen",
        "absent": "(niet in pakket)",
        "populations": "Populaties",
        "subjects_added": "erbij",
        "subjects_removed": "eraf",
        "exceptions": "Uitzonderingen",
        "no_exceptions": "geen wijzigingen",
        "exc_added": "nieuw",
        "exc_removed": "vervallen",
        "exc_changed": "gewijzigd",
        "firewall": "Firewallregels (laatste verzameling per apparaat)",
        "no_firewall": "geen firewallbewijs in de pakketten",
        "unchanged": "ongewijzigd",
        "rule_added": "regel erbij",
        "rule_removed": "regel eraf",
        "rule_changed": "regel gewijzigd",
        "none": "geen",
    },
    "en": {
        "title": "Comparison of evidence packs",
        "old": "old",
        "new": "new",
        "period": "period",
        "catalogue": "catalogue",
        "catalogue_changed": "Judged by another catalogue version ({old} → {new}): a different result may come from the "
        "catalogue rather than from the measures themselves.",
        "controls": "Controls",
        "no_controls": "no change in result, population or deviations",
        "population": "population",
        "deviations": "deviations",
        "absent": "(not in pack)",
        "populations": "Populations",
        "subjects_added": "added",
        "subjects_removed": "removed",
        "exceptions": "Exceptions",
        "no_exceptions": "no changes",
        "exc_added": "added",
        "exc_removed": "removed",
        "exc_changed": "changed",
        "firewall": "Firewall rules (latest collection per device)",
        "no_firewall": "no firewall evidence in the packs",
        "unchanged": "unchanged",
        "rule_added": "rule added",
        "rule_removed": "rule removed",
        "rule_changed": "rule changed",
        "none": "none",
    },
}


def _rule_text(rule: dict[str, Any]) -> str:
    parts = [
        f"{rule.get('action', '?')} {rule.get('service', '?')}",
        f"{rule.get('source', '?')} -> {rule.get('destination', '?')}",
    ]
    if rule.get("interface"):
        parts.append(str(rule["interface"]))
    if rule.get("enabled") is False:
        parts.append("disabled")
    text = ", ".join(parts)
    return f"{text} \"{rule['description']}\"" if rule.get("description") else text


def format_diff(diff: dict[str, Any], lang: str = "nl") -> str:
    """The diff as text for the terminal."""
    if lang not in LANGS:
        raise ValueError(f"language {lang!r} is not available; choose one of {', '.join(LANGS)}")
    t, labels = TEXT[lang], STATUS_LABELS[lang]

    def span(info: dict[str, Any]) -> str:
        period = info.get("period") or {}
        return f"{period.get('start', '?')} – {period.get('end', '?')}"

    def status(value: str | None) -> str:
        return labels.get(value, value) if value else t["absent"]

    def name(field: str) -> str:
        return STRINGS[lang].get("exception_state" if field == "state" else field, field).lower()

    def value(field: str, raw: Any) -> str:
        if field == "state":
            return STRINGS[lang].get(f"state_{raw}", str(raw))
        return str(raw)

    def pack_line(side: str) -> str:
        info = diff[side]
        return f"  {t[side]}: {info['path']} ({t['period']} {span(info)}, {t['catalogue']} {info['catalogue'] or '-'})"

    lines = [t["title"], pack_line("old"), pack_line("new"), ""]
    if diff["old"]["catalogue"] != diff["new"]["catalogue"]:
        lines += [t["catalogue_changed"].format(old=diff["old"]["catalogue"] or "-", new=diff["new"]["catalogue"] or "-"), ""]
    lines.append(t["controls"])
    for c in diff["controls"]:
        parts = [
            f"{status(c['status']['old'])} → {status(c['status']['new'])}" if c["status_changed"] else status(c["status"]["new"])
        ]
        for key in ("population", "deviations"):
            if c[key]["old"] != c[key]["new"]:
                parts.append(
                    f"{t[key]} {c[key]['old'] if c[key]['old'] is not None else '-'} → "
                    f"{c[key]['new'] if c[key]['new'] is not None else '-'}"
                )
        lines.append(f"  {'*' if c['status_changed'] else ' '} {c['id']}: {'; '.join(parts)}")
    if not diff["controls"]:
        lines.append(f"  {t['no_controls']}")

    if diff["populations"]:
        lines += ["", t["populations"]]
        for p in diff["populations"]:
            lines.append(
                f"  {p['control']}: {t['subjects_added']} {', '.join(p['added']) or t['none']}; "
                f"{t['subjects_removed']} {', '.join(p['removed']) or t['none']}"
            )

    lines += ["", t["exceptions"]]
    exc = diff["exceptions"]
    for e in exc["added"]:
        lines.append(f"  + {e['control']} {e['scope']}: {t['exc_added']} ({value('state', e.get('state'))}, {e.get('expires')})")
    for e in exc["removed"]:
        lines.append(f"  - {e['control']} {e['scope']}: {t['exc_removed']}")
    for e in exc["changed"]:
        what = ", ".join(f"{name(f)} {value(f, e['old'][f])} → {value(f, e['new'][f])}" for f in e["fields"])
        lines.append(f"  ~ {e['control']} {e['scope']}: {t['exc_changed']}: {what}")
    if not any(exc.values()):
        lines.append(f"  {t['no_exceptions']}")

    lines += ["", t["firewall"]]
    for fw in diff["firewall"]:
        when = f"{(fw['old'] or {}).get('collected', '-')[:10]} → {(fw['new'] or {}).get('collected', '-')[:10]}"
        if not (fw["added"] or fw["removed"] or fw["changed"]):
            lines.append(f"  {fw['device']} ({when}): {t['unchanged']}")
            continue
        lines.append(f"  {fw['device']} ({when}):")
        lines += [f"    + {t['rule_added']} {r['id']}: {_rule_text(r)}" for r in fw["added"]]
        lines += [f"    - {t['rule_removed']} {r['id']}: {_rule_text(r)}" for r in fw["removed"]]
        lines += [f"    ~ {t['rule_changed']} {r['id']}: {', '.join(r['fields'])}" for r in fw["changed"]]
    if not diff["firewall"]:
        lines.append(f"  {t['no_firewall']}")
    return "\n".join(lines) + "\n"
