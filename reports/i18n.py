"""Report wording in Dutch (default) and English. Control texts live in the catalogue."""

from __future__ import annotations

LANGS = ("nl", "en")

STRINGS: dict[str, dict[str, str]] = {
    "nl": {
        "title": "Rapportage opzet en werking beveiligingsmaatregelen",
        "subtitle": "Bijlage 2 verwerkersovereenkomst — technische en organisatorische maatregelen",
        "period": "Periode", "generated": "Opgesteld op", "tool": "Hulpmiddel", "store": "Bewijsarchief",
        "chain_head": "Laatste manifest (SHA-256)", "runs_in_period": "Verzamelrondes in de periode",
        "summary": "Samenvatting", "control": "Maatregel", "status": "Oordeel", "tested": "Getoetst",
        "deviations": "Afwijkingen", "gaps": "Niet aangetoond", "promise": "Toezegging",
        "references": "Verwijzingen", "annex": "Bijlage", "gdpr": "AVG", "iso": "ISO/IEC 27001:2022 Annex A",
        "design": "Toetsing van de opzet", "operation": "Toetsing van de werking", "parameters": "Parameters",
        "population": "Populatie", "result": "Resultaat", "subject": "Object", "date": "Datum", "reason": "Toelichting",
        "evidence": "Bewijs", "host": "Host", "kind": "Soort", "collected": "Verzameld (UTC)", "command": "Opdracht of query",
        "hash": "SHA-256 ruwe uitvoer", "runs": "Verzamelrondes", "run": "Ronde", "started": "Start (UTC)",
        "operator": "Uitgevoerd door", "hosts": "Hosts", "manifest": "Manifest (SHA-256)", "none": "Geen",
        "no_controls": "Er zijn nog geen maatregelen met een evaluatie.", "subjects_dates": "object-datums",
        "no_runs": "Geen verzamelrondes in deze periode: er is niets aangetoond.",
        "item_status": "Status", "run_status": "Status",
        "profile": "Profiel", "processor": "Verwerker", "customer": "Verwerkingsverantwoordelijke", "agreement": "Overeenkomst",
        "excepted": "Uitgezonderd", "observations": "Waarnemingen", "exceptions": "Uitzonderingen", "scope": "Reikwijdte",
        "owner": "Eigenaar", "approver": "Goedgekeurd door", "expires": "Vervalt", "justification": "Onderbouwing",
        "matched": "Toegepast", "exception_state": "Stand", "completeness": "Volledigheid van de populatie",
        "sources": "Bronnen", "not_provided": "Niet aangeleverd", "missing_from": "Ontbreekt in",
        "state_active": "actief", "state_expiring_soon": "verloopt binnen 30 dagen", "state_expired": "verlopen",
        "state_unused": "niet gebruikt",
    },
    "en": {
        "title": "Report on the design and operation of security measures",
        "subtitle": "Annex 2 of the data processing agreement — technical and organisational measures",
        "period": "Period", "generated": "Generated at", "tool": "Tool", "store": "Evidence store",
        "chain_head": "Latest manifest (SHA-256)", "runs_in_period": "Collection runs in the period",
        "summary": "Summary", "control": "Control", "status": "Result", "tested": "Tested",
        "deviations": "Deviations", "gaps": "Not evidenced", "promise": "Promise",
        "references": "References", "annex": "Annex", "gdpr": "GDPR", "iso": "ISO/IEC 27001:2022 Annex A",
        "design": "Test of design", "operation": "Test of operating effectiveness", "parameters": "Parameters",
        "population": "Population", "result": "Result", "subject": "Subject", "date": "Date", "reason": "Explanation",
        "evidence": "Evidence", "host": "Host", "kind": "Kind", "collected": "Collected (UTC)", "command": "Command or query",
        "hash": "SHA-256 of raw output", "runs": "Collection runs", "run": "Run", "started": "Started (UTC)",
        "operator": "Operator", "hosts": "Hosts", "manifest": "Manifest (SHA-256)", "none": "None",
        "no_controls": "No controls with an evaluation yet.", "subjects_dates": "subject-dates",
        "no_runs": "No collection runs in this period: nothing is evidenced.",
        "item_status": "Status", "run_status": "Status",
        "profile": "Profile", "processor": "Processor", "customer": "Controller", "agreement": "Agreement",
        "excepted": "Excepted", "observations": "Observations", "exceptions": "Exceptions", "scope": "Scope",
        "owner": "Owner", "approver": "Approved by", "expires": "Expires", "justification": "Justification",
        "matched": "Applied", "exception_state": "State", "completeness": "Completeness of the population",
        "sources": "Sources", "not_provided": "Not provided", "missing_from": "Missing from",
        "state_active": "active", "state_expiring_soon": "expires within 30 days", "state_expired": "expired",
        "state_unused": "not used",
    },
}

STATUS_LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "effective": "Werkzaam", "effective_with_deviations": "Werkzaam met afwijkingen",
        "not_effective": "Niet werkzaam", "not_evidenced": "Niet aangetoond", "not_applicable": "Niet van toepassing",
    },
    "en": {
        "effective": "Effective", "effective_with_deviations": "Effective with deviations",
        "not_effective": "Not effective", "not_evidenced": "Not evidenced", "not_applicable": "Not applicable",
    },
}

# Run and host states as recorded in the manifests, in words.
STATE_LABELS: dict[str, dict[str, str]] = {
    "nl": {"complete": "volledig", "partial": "gedeeltelijk", "ok": "ok", "unreachable": "onbereikbaar",
           "timeout": "tijd verstreken"},
    "en": {"complete": "complete", "partial": "partial", "ok": "ok", "unreachable": "unreachable",
           "timeout": "timed out"},
}
