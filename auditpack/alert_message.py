"""The alert message: a title and a plain-text body in one language (Dutch by default, as the report).

Each finding says its control, subject and date, what was found (the catalogue's text of the deviation, or the
collection's own words below) and the evidence it rests on, so ICT can act on it and an auditor can trace it.
"""

from __future__ import annotations

from typing import Any

from .alerts import COLLECTION, Alert
from .wording import fill

WORDS = {
    "nl": {
        "title": "auditpack: {count:nieuwe bevinding|nieuwe bevindingen} op {day}",
        "intro": "auditpack vond op {day} {count:nieuwe bevinding|nieuwe bevindingen} in de bewijsopslag. Elke bevinding "
        "wordt één keer gemeld; verdwijnt ze en komt ze terug, dan wordt ze opnieuw gemeld.",
        "control": "Maatregel",
        "evidence": "Bewijs",
        "no_evidence": "geen bewijsstuk (de verzamelronde zelf)",
        "collected": "verzameld {moment}",
        "manifest": "manifest {manifest} (verzamelronde {run_id})",
        "collection": "Verzamelronde",
        "next_steps": "Details: auditpack check --host <host>, of het rapport over de periode (auditpack report).",
        "test_title": "auditpack: testbericht",
        "test_body": "Dit is een testbericht van auditpack. Komt het aan, dan komen de meldingen na elke verzamelronde "
        "via dit kanaal ook aan.",
        # the kinds of finding
        "backup_failed": "Back-up mislukt",
        "backup_missed": "Back-up ontbreekt",
        "definitions_old": "Virusdefinities te oud",
        "no_antivirus": "Geen antivirus",
        "realtime_off": "Realtimebescherming uit",
        "rule_unjustified": "Firewallregel zonder reden",
        "leaver_enabled": "Account van een uitdienstreder staat nog aan",
        "log_cleared": "Logboek gewist",
        "host_failed": "Verzameling mislukt of gedeeltelijk",
        "no_run": "Geen verzamelronde",
        # the collection's own findings
        "host_failed_text": "host {host} is niet volledig gelezen (status: {status}){errors}",
        "no_run_text": "er is op {day} geen verzamelronde in de bewijsopslag vastgelegd",
        "backup_failed_text": "geen geslaagde back-up die nacht: de runs zijn {results} (job {jobs})",
        "status.partial": "gedeeltelijk",
        "status.error": "fout",
        "status.unreachable": "onbereikbaar",
        "status.timeout": "tijd verstreken",
        "status.garbled": "onleesbaar antwoord",
        "status.absent": "niet aanwezig",
    },
    "en": {
        "title": "auditpack: {count:new finding|new findings} on {day}",
        "intro": "auditpack found {count:new finding|new findings} in the evidence store on {day}. Each finding is "
        "sent once; if it goes away and comes back, it is sent again.",
        "control": "Control",
        "evidence": "Evidence",
        "no_evidence": "no evidence item (the collection run itself)",
        "collected": "collected {moment}",
        "manifest": "manifest {manifest} (collection run {run_id})",
        "collection": "Collection run",
        "next_steps": "Details: auditpack check --host <host>, or the report over the period (auditpack report).",
        "test_title": "auditpack: test message",
        "test_body": "This is a test message from auditpack. If it arrives, the alerts after each collection run "
        "will arrive through this channel too.",
        "backup_failed": "Backup failed",
        "backup_missed": "Backup missing",
        "definitions_old": "Anti-virus signatures too old",
        "no_antivirus": "No anti-virus",
        "realtime_off": "Real-time protection off",
        "rule_unjustified": "Firewall rule without a reason",
        "leaver_enabled": "A leaver's account is still enabled",
        "log_cleared": "Log cleared",
        "host_failed": "Collection failed or partial",
        "no_run": "No collection run",
        "host_failed_text": "host {host} was not read in full (status: {status}){errors}",
        "no_run_text": "no collection run was recorded in the evidence store on {day}",
        "backup_failed_text": "no successful backup that night: the runs {results} (job {jobs})",
        "status.partial": "partial",
        "status.error": "error",
        "status.unreachable": "unreachable",
        "status.timeout": "timed out",
        "status.garbled": "garbled answer",
        "status.absent": "absent",
    },
}


def _finding_text(alert: Alert, lang: str) -> str:
    """What was found, in LANG: the catalogue's words for a control's deviation, the collection's own otherwise.

    A failed backup is said without the catalogue's verdict on its repair: the morning after, the repair
    window has not yet passed, so "not repaired within 2 days" would not be true yet.
    """
    from .controls.messages import render, say

    words = WORDS[lang]
    if alert.kind == "backup_failed":
        values = {name: say(name, alert.facts.get(name), lang) for name in ("results", "jobs")}
        return fill(words["backup_failed_text"], values, lang)
    if alert.kind == "host_failed":
        errors = alert.facts.get("errors") or []
        status = words.get(f"status.{alert.facts.get('status')}", str(alert.facts.get("status")))
        said = (": " + "; ".join(errors)) if errors else ""  # the host's own words, quoted as they came
        return fill(words["host_failed_text"], {"host": alert.subject, "status": status, "errors": said}, lang)
    if alert.kind == "no_run":
        return fill(words["no_run_text"], {"day": alert.date}, lang)
    return render(alert.code, alert.facts, lang)


def _evidence_lines(alert: Alert, lang: str) -> list[str]:
    words = WORDS[lang]
    if alert.control == COLLECTION:
        if "manifest" in alert.facts:
            return [fill(words["manifest"], alert.facts, lang)]
        return [words["no_evidence"]]
    lines = []
    for cited in alert.evidence:
        where = ", ".join(part for part in (cited.kind, cited.host) if part)
        moment = f"{cited.collected[:16].replace('T', ' ')} UTC"  # to the minute: the item id says which exactly
        when = fill(words["collected"], {"moment": moment}, lang) if cited.collected else ""
        lines.append(f"{cited.item_id} ({', '.join(p for p in (where, when) if p)})" if where or when else cited.item_id)
    return lines or [words["no_evidence"]]


def _control_title(control: str, lang: str, catalogue: dict[str, Any]) -> str:
    if control == COLLECTION:
        return WORDS[lang]["collection"]
    return f"{control} {catalogue[control].title.in_(lang)}"


def compose(alerts: list[Alert], day: str, lang: str) -> tuple[str, str]:
    """The title and the body of one message that carries ALERTS, wholly in LANG."""
    from .controls.model import load_catalogue

    catalogue = load_catalogue()
    words = WORDS[lang]
    title = fill(words["title"], {"count": len(alerts), "day": day}, lang)
    lines = [fill(words["intro"], {"count": len(alerts), "day": day}, lang), ""]
    for alert in sorted(alerts, key=lambda a: (a.control, a.date, a.subject, a.kind)):
        lines.append(f"* {words[alert.kind]}: {alert.subject}, {alert.date}")
        lines.append(f"  {_finding_text(alert, lang)}")
        lines.append(f"  {words['control']}: {_control_title(alert.control, lang, catalogue)}")
        evidence = _evidence_lines(alert, lang)
        lines.append(f"  {words['evidence']}: {evidence[0]}")
        lines += [f"  {' ' * len(words['evidence'])}  {line}" for line in evidence[1:]]
        lines.append("")
    lines.append(words["next_steps"])
    return title, "\n".join(lines) + "\n"


def trial_message(lang: str) -> tuple[str, str]:
    words = WORDS[lang]
    return words["test_title"], words["test_body"] + "\n"
