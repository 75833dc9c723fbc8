"""Report wording in Dutch (default) and English. Control texts live in the catalogue.

Every text the HTML/PDF report, its charts and the workbook print comes from here, so a
report in one language never carries a word of the other, and a label reads the same in
every format. WORKBOOK_STRINGS holds only what the workbook says and the report does not.
The words of recorded facts (backup results, population sources, registers, coverage
units) are the catalogue's terms (controls/catalogue/_terms.yaml, controls.messages.term).

A text with placeholders is a `Wording`: its format() says a count in the singular or the
plural, {count:dag|dagen} -> "1 dag", "3 dagen" (auditpack/wording.py), never "dag(en)".
Each concept has one term per language: GLOSSARY below, held to every text by
tests/test_one_language.py.
"""

from __future__ import annotations

from auditpack.wording import Wording

LANGS = ("nl", "en")

_STRINGS: dict[str, dict[str, str]] = {
    "nl": {
        # cover
        "title": "Rapportage opzet en werking beveiligingsmaatregelen",
        "subtitle": "Bijlage 2 verwerkersovereenkomst — technische en organisatorische maatregelen",
        "period": "Periode",
        "generated": "Opgesteld op (UTC)",
        "tool": "Hulpmiddel",
        "chain_head": "Laatste manifest in de periode (SHA-256)",
        "runs_in_period": "Verzamelrondes in de periode",
        "profile": "Profiel",
        "profile_default": "standaard (waarden uit de catalogus)",
        "processor": "Verwerker",
        "customer": "Verwerkingsverantwoordelijke",
        "agreement": "Overeenkomst",
        "not_stated": "niet vermeld",
        "signing_key": "Ondertekeningssleutel",
        "fingerprint": "vingerafdruk",
        "not_signed": "niet ondertekend",
        "page": "Pagina",
        "page_of": "van",
        "page_abbr": "blz.",
        "reading_guide": "Dit rapport is opgesteld uit het bewijsarchief van de verwerker. Elk oordeel volgt uit de "
        "toetsing die per maatregel is beschreven; afwijkingen, niet aangetoonde dagen en uitzonderingen "
        "worden met datum genoemd. Het bijbehorende werkboek bevat alle bewijsverwijzingen.",
        # summary
        "summary": "Managementsamenvatting",
        "summary_intro": "Oordeel per maatregel over de periode {start} tot en met {end}.",
        "summary_counts": "Aantal maatregelen per oordeel",
        "count": "Aantal",
        "control": "Maatregel",
        "status": "Oordeel",
        "tested": "Getoetst",
        "no_controls": "Er zijn nog geen maatregelen met een evaluatie.",
        "no_runs": "Geen verzamelrondes in deze periode: er is niets aangetoond.",
        # per control
        "promise": "Toezegging",
        "references": "Verwijzingen",
        "annex": "Bijlage",
        "gdpr": "AVG",
        "iso": "ISO/IEC 27001:2022 Annex A",
        "frequency": "Frequentie",
        "how_tested": "Hoe is getoetst",
        "design": "Toetsing van de opzet",
        "operation": "Toetsing van de werking",
        "parameters": "Parameters",
        "yes": "ja",
        "no": "nee",
        "population": "Populatie",
        "population_size": "Omvang",
        "subjects": "Objecten",
        "more_subjects": "en nog {count} (zie het werkboek)",
        "result_over_period": "Resultaat over de periode",
        "why": "Waarom",
        "period_open": "De periode is nog niet voorbij: beoordeeld op het bewijs tot en met {day}.",
        "coverage_line": "Dekking: aangetoond in {evidenced} van {expected:{unit}} ({percent} %; vereist: {minimum} %)",
        "coverage_missing": "niet aangetoond",
        "coverage_more": "en nog {count:periode|perioden}",
        "result_line": "Getoetst met bruikbaar bewijs: {tested:object-datum|object-datums} · afwijkingen: {deviations} · "
        "niet aangetoond: {gaps} · uitgezonderd: {excepted} · waarnemingen: {observations}",
        "subjects_dates": "object-datums",
        "deviations": "Afwijkingen",
        "gaps": "Niet aangetoond",
        "excepted": "Uitgezonderd",
        "observations": "Waarnemingen",
        "exceptions": "Uitzonderingen",
        "samples": "Steekproeven",
        "grouped_note": "Bevindingen van één object met dezelfde toelichting staan op één regel, met al hun datums.",
        "dates_count": "{count:datum|datums}",
        "more_ranges": "en nog {count:periode|perioden} (zie het werkboek)",
        "subject": "Object",
        "date": "Datum",
        "reason": "Toelichting",
        "evidence": "Bewijs",
        "scope": "Reikwijdte",
        "owner": "Eigenaar",
        "approver": "Goedgekeurd door",
        "expires": "Vervalt",
        "justification": "Onderbouwing",
        "matched": "Toegepast",
        "exception_state": "Stand",
        "exception_covering": "Uitzondering",
        "state_active": "actief",
        "state_expiring_soon": "verloopt binnen 30 dagen",
        "state_expired": "verlopen",
        "state_unused": "niet gebruikt",
        "completeness": "Volledigheid van de populatie",
        "none": "Geen",
        "sample_size": "Omvang",
        "seed": "Startwaarde (seed)",
        "sample_population": "Uit populatie van",
        "drawn_at": "Getrokken op (UTC)",
        "drawn": "Getrokken objecten",
        # evidence
        "host": "Host",
        "kind": "Soort",
        "collected": "Verzameld (UTC)",
        "command": "Opdracht of query",
        "hash": "SHA-256 ruwe uitvoer",
        "item_status": "Status",
        "evidence_all": "Alle bewijsverwijzingen van deze maatregel ({count}).",
        "evidence_first": "De eerste {shown} van {count} bewijsverwijzingen staan hieronder (eerst het bewijs dat bij "
        "een bevinding hoort); het werkboek bevat ze alle {count}.",
        # runs
        "runs": "Verzamelrondes",
        "run": "Ronde",
        "started": "Start (UTC)",
        "operator": "Uitgevoerd door",
        "run_status": "Status",
        "hosts": "Hosts",
        "manifest": "Manifest (SHA-256)",
        "month": "Maand",
        "runs_count": "Rondes",
        "seq_range": "Volgnummers",
        "last_manifest": "Laatste manifest van de maand (SHA-256)",
        "runs_note": "Per maand samengevat; het werkboek noemt elke ronde met de hash van haar manifest. Rondes die niet "
        "volledig zijn afgerond staan hieronder afzonderlijk.",
        "incomplete_runs": "Niet volledig afgeronde rondes",
        # charts
        "chart": "Grafiek",
        "chart_success": "geslaagd",
        "chart_failure": "mislukt",
        "chart_no_evidence": "geen bewijs",
        "chart_excepted": "uitgezonderd",
        "chart_logged": "aanmeldingen gelogd",
        "chart_log_deviation": "afwijking",
        "chart_compliant": "zonder afwijking",
        "chart_deviation": "met afwijking",
        "chart_share": "aandeel van de populatie",
        "chart_week_of": "week van",
        "chart_backup_title": "Back-upresultaat per server per dag",
        "chart_backup_summary": "Back-upresultaat per dag voor {servers:server|servers} over {days:dag|dagen}: "
        "{success:serverdag|serverdagen} geslaagd, {failure} mislukt, {no_evidence} zonder bewijs en {excepted} "
        "uitgezonderd. Elke dag zonder afwijking, gat of uitzondering telt als geslaagd.",
        "chart_backup_line": "{subject}: {failure} mislukt{failure_dates}, {no_evidence} zonder bewijs{no_evidence_dates}, "
        "{excepted} uitgezonderd{excepted_dates}",
        "chart_backup_clean": "{count:server had|servers hadden} elke dag een geslaagde back-up.",
        "chart_coverage_title": "Dekking per week: {control}",
        "chart_coverage_summary": "Aandeel van de populatie ({subjects:object|objecten}) zonder afwijking per week, over "
        "{weeks:getoetste week|getoetste weken}: 100 % in {full:week|weken}, laagste {lowest} % (week van "
        "{lowest_week}).",
        "chart_coverage_none": "In geen enkele week van de periode is een object van de populatie "
        "({subjects:object|objecten}) getoetst.",
        "chart_coverage_untested": "{count:week zonder verzameling of bevinding blijft|weken zonder verzameling of "
        "bevinding blijven} leeg.",
        "chart_coverage_line": "{weeks:week van|weken van}: {compliant} van {subjects} zonder afwijking ({deviation} met "
        "afwijking, {no_evidence} zonder bewijs, {excepted} uitgezonderd)",
        "chart_logging_title": "Continuïteit van de logging per server",
        "chart_logging_summary": "Dagen met en zonder bewijs van het Security-logboek voor {servers:server|servers} over "
        "{days:dag|dagen}: {with_evidence:serverdag|serverdagen} met bewijs, {without} zonder.",
        "chart_logging_line": "{subject}: {with_evidence:dag|dagen} met bewijs ({deviation} met afwijking), {without} "
        "zonder bewijs{without_dates}",
        "chart_more": "en nog {count}",
    },
    "en": {
        # cover
        "title": "Report on the design and operation of security measures",
        "subtitle": "Annex 2 of the data processing agreement — technical and organisational measures",
        "period": "Period",
        "generated": "Generated at (UTC)",
        "tool": "Tool",
        "chain_head": "Latest manifest in the period (SHA-256)",
        "runs_in_period": "Collection runs in the period",
        "profile": "Profile",
        "profile_default": "default (catalogue defaults)",
        "processor": "Processor",
        "customer": "Controller",
        "agreement": "Agreement",
        "not_stated": "not stated",
        "signing_key": "Signing key",
        "fingerprint": "fingerprint",
        "not_signed": "not signed",
        "page": "Page",
        "page_of": "of",
        "page_abbr": "p.",
        "reading_guide": "This report was produced from the processor's evidence store. Every result follows from the "
        "test described for the control; deviations, days not evidenced and exceptions are named with "
        "their dates. The accompanying workbook holds every evidence reference.",
        # summary
        "summary": "Management summary",
        "summary_intro": "Result per control over the period {start} up to and including {end}.",
        "summary_counts": "Number of controls per result",
        "count": "Count",
        "control": "Control",
        "status": "Result",
        "tested": "Tested",
        "no_controls": "No controls with an evaluation yet.",
        "no_runs": "No collection runs in this period: nothing is evidenced.",
        # per control
        "promise": "Promise",
        "references": "References",
        "annex": "Annex",
        "gdpr": "GDPR",
        "iso": "ISO/IEC 27001:2022 Annex A",
        "frequency": "Frequency",
        "how_tested": "How it was tested",
        "design": "Test of design",
        "operation": "Test of operating effectiveness",
        "parameters": "Parameters",
        "yes": "yes",
        "no": "no",
        "population": "Population",
        "population_size": "Size",
        "subjects": "Subjects",
        "more_subjects": "and {count} more (see the workbook)",
        "result_over_period": "Result over the period",
        "why": "Why",
        "period_open": "The period has not ended: judged on the evidence up to {day}.",
        "coverage_line": "Coverage: evidenced in {evidenced} of {expected:{unit}} ({percent} %; required: {minimum} %)",
        "coverage_missing": "not evidenced",
        "coverage_more": "and {count:more stretch|more stretches}",
        "result_line": "Tested with usable evidence: {tested:subject-date|subject-dates} · deviations: {deviations} · "
        "not evidenced: {gaps} · excepted: {excepted} · observations: {observations}",
        "subjects_dates": "subject-dates",
        "deviations": "Deviations",
        "gaps": "Not evidenced",
        "excepted": "Excepted",
        "observations": "Observations",
        "exceptions": "Exceptions",
        "samples": "Samples",
        "grouped_note": "Findings of one subject with the same explanation share one row, with all their dates.",
        "dates_count": "{count:date|dates}",
        "more_ranges": "and {count:more date range|more date ranges} (see the workbook)",
        "subject": "Subject",
        "date": "Date",
        "reason": "Explanation",
        "evidence": "Evidence",
        "scope": "Scope",
        "owner": "Owner",
        "approver": "Approved by",
        "expires": "Expires",
        "justification": "Justification",
        "matched": "Applied",
        "exception_state": "State",
        "exception_covering": "Exception",
        "state_active": "active",
        "state_expiring_soon": "expires within 30 days",
        "state_expired": "expired",
        "state_unused": "not used",
        "completeness": "Completeness of the population",
        "none": "None",
        "sample_size": "Size",
        "seed": "Seed",
        "sample_population": "From a population of",
        "drawn_at": "Drawn at (UTC)",
        "drawn": "Subjects drawn",
        # evidence
        "host": "Host",
        "kind": "Kind",
        "collected": "Collected (UTC)",
        "command": "Command or query",
        "hash": "SHA-256 of raw output",
        "item_status": "Status",
        "evidence_all": "All evidence references of this control ({count}).",
        "evidence_first": "The first {shown} of {count} evidence references are listed below (evidence cited by a "
        "finding first); the workbook carries all {count}.",
        # runs
        "runs": "Collection runs",
        "run": "Run",
        "started": "Started (UTC)",
        "operator": "Operator",
        "run_status": "Status",
        "hosts": "Hosts",
        "manifest": "Manifest (SHA-256)",
        "month": "Month",
        "runs_count": "Runs",
        "seq_range": "Sequence numbers",
        "last_manifest": "Last manifest of the month (SHA-256)",
        "runs_note": "Summarised per month; the workbook names every run with the hash of its manifest. Runs that did not "
        "complete are listed one by one below.",
        "incomplete_runs": "Runs that did not complete",
        # charts
        "chart": "Chart",
        "chart_success": "succeeded",
        "chart_failure": "failed",
        "chart_no_evidence": "no evidence",
        "chart_excepted": "excepted",
        "chart_logged": "logons logged",
        "chart_log_deviation": "deviation",
        "chart_compliant": "without deviation",
        "chart_deviation": "with deviation",
        "chart_share": "share of the population",
        "chart_week_of": "week of",
        "chart_backup_title": "Backup result per server per day",
        "chart_backup_summary": "Backup result per day for {servers:server|servers} over {days:day|days}: "
        "{success:server-day|server-days} succeeded, {failure} failed, {no_evidence} without evidence and {excepted} "
        "excepted. Every day without a deviation, gap or exception counts as succeeded.",
        "chart_backup_line": "{subject}: {failure} failed{failure_dates}, {no_evidence} without evidence"
        "{no_evidence_dates}, {excepted} excepted{excepted_dates}",
        "chart_backup_clean": "{count:server|servers} had a successful backup on every day.",
        "chart_coverage_title": "Coverage per week: {control}",
        "chart_coverage_summary": "Share of the population ({subjects:subject|subjects}) without a deviation per week, "
        "over {weeks:tested week|tested weeks}: 100 % in {full:week|weeks}, lowest {lowest} % (week of "
        "{lowest_week}).",
        "chart_coverage_none": "No subject of the population ({subjects:subject|subjects}) was tested in any week of the period.",
        "chart_coverage_untested": "{count:week without any collection or finding is|weeks without any collection or "
        "finding are} left blank.",
        "chart_coverage_line": "{weeks:week of|weeks of}: {compliant} of {subjects} without deviation ({deviation} with a "
        "deviation, {no_evidence} without evidence, {excepted} excepted)",
        "chart_logging_title": "Logging continuity per server",
        "chart_logging_summary": "Days with and without evidence of the Security log for {servers:server|servers} over "
        "{days:day|days}: {with_evidence:server-day|server-days} with evidence, {without} without.",
        "chart_logging_line": "{subject}: {with_evidence:day|days} with evidence ({deviation} with a deviation), "
        "{without} without evidence{without_dates}",
        "chart_more": "and {count} more",
    },
}


def _wordings(table: dict[str, dict[str, str]]) -> dict[str, dict[str, Wording]]:
    return {lang: {key: Wording(text, lang) for key, text in texts.items()} for lang, texts in table.items()}


STRINGS = _wordings(_STRINGS)

# What only the workbook says (its sheets, columns and notes); every other label it takes from STRINGS and
# the label tables below. No key here is also a key of STRINGS: the workbook reads both as one table.
_WORKBOOK_STRINGS: dict[str, dict[str, str]] = {
    "nl": {
        "workbook_title": "Werking beveiligingsmaatregelen — werkmap voor de auditor",
        "sheet_summary": "Samenvatting",
        "period_start": "Periode van",
        "period_end": "Periode tot en met",
        "results": "Oordelen",
        "control_title": "Titel",
        "type": "Soort",
        "code": "Code",
        "finding": "Bevinding",
        "evidence_items": "Bewijsstukken",
        "exception_scope": "Uitzondering (reikwijdte)",
        "no_findings": "Geen bevindingen: elk getoetst item voldeed.",
        "source": "Bron",
        "type_deviation": "Afwijking",
        "type_observation": "Waarneming",
        "unit": "Eenheid",
        "number": "Nr.",
        "sample_item": "Vastgelegd als bewijsstuk",
        "unit_subject": "object",
        "unit_subject-day": "object-dag",
        "no_samples": "Er zijn geen steekproeven getrokken.",
        "item_id": "Bewijsstuk",
        "no_exceptions": "Er zijn geen uitzonderingen vastgelegd.",
    },
    "en": {
        "workbook_title": "Operation of security measures — workbook for the auditor",
        "sheet_summary": "Summary",
        "period_start": "Period from",
        "period_end": "Period to (inclusive)",
        "results": "Results",
        "control_title": "Title",
        "type": "Type",
        "code": "Code",
        "finding": "Finding",
        "evidence_items": "Evidence items",
        "exception_scope": "Exception (scope)",
        "no_findings": "No findings: every tested item passed.",
        "source": "Source",
        "type_deviation": "Deviation",
        "type_observation": "Observation",
        "unit": "Unit",
        "number": "No.",
        "sample_item": "Recorded as evidence item",
        "unit_subject": "subject",
        "unit_subject-day": "subject-day",
        "no_samples": "No samples have been drawn.",
        "item_id": "Evidence item",
        "no_exceptions": "No exceptions are recorded.",
    },
}

WORKBOOK_STRINGS = _wordings(_WORKBOOK_STRINGS)

STATUS_LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "effective": "Werkzaam",
        "effective_with_deviations": "Werkzaam met afwijkingen",
        "not_effective": "Niet werkzaam",
        "not_evidenced": "Niet aangetoond",
        "not_applicable": "Niet van toepassing",
    },
    "en": {
        "effective": "Effective",
        "effective_with_deviations": "Effective with deviations",
        "not_effective": "Not effective",
        "not_evidenced": "Not evidenced",
        "not_applicable": "Not applicable",
    },
}

# Run, host and evidence item states as recorded in the manifests (auditpack/evidence.py ItemStatus), in words.
STATE_LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "complete": "volledig",
        "partial": "gedeeltelijk",
        "ok": "ok",
        "unreachable": "onbereikbaar",
        "timeout": "tijd verstreken",
        "garbled": "onleesbaar",
        "error": "fout",
        "absent": "afwezig",
    },
    "en": {
        "complete": "complete",
        "partial": "partial",
        "ok": "ok",
        "unreachable": "unreachable",
        "timeout": "timed out",
        "garbled": "garbled",
        "error": "error",
        "absent": "absent",
    },
}

# The catalogue's test frequencies (controls/model.py), in words.
FREQUENCY_LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "per_collection": "bij elke verzamelronde",
        "daily": "dagelijks",
        "weekly": "wekelijks",
        "monthly": "maandelijks",
        "yearly": "jaarlijks",
        "per_event": "per gebeurtenis",
    },
    "en": {
        "per_collection": "on every collection run",
        "daily": "daily",
        "weekly": "weekly",
        "monthly": "monthly",
        "yearly": "yearly",
        "per_event": "per event",
    },
}

# Keys of a control's population completeness (controls/evaluators/_population.py, _backup_days.py).
COMPLETENESS_LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "sources": "Bronnen",
        "not_provided": "Niet aangeleverd",
        "missing": "Ontbreekt in een bron",
        "servers_in_inventory": "Servers in de inventaris",
        "servers_with_backup_runs": "Servers met back-upruns",
        "in_inventory_without_runs": "In de inventaris zonder back-upruns",
        "with_runs_not_in_inventory": "Met back-upruns, niet in de inventaris",
        "missing_from": "ontbreekt in",
    },
    "en": {
        "sources": "Sources",
        "not_provided": "Not provided",
        "missing": "Missing from a source",
        "servers_in_inventory": "Servers in the inventory",
        "servers_with_backup_runs": "Servers with backup runs",
        "in_inventory_without_runs": "In the inventory without backup runs",
        "with_runs_not_in_inventory": "With backup runs, not in the inventory",
        "missing_from": "missing from",
    },
}

# One term per concept: every text in a language (this module, the catalogue, its terms) uses the term and never
# one of the variants after it. (concept: {lang: (term, variant, ...)})
GLOSSARY: dict[str, dict[str, tuple[str, ...]]] = {
    "control": {"nl": ("maatregel", "beheersmaatregel", "beheersing"), "en": ("control", "the measure ", "this measure")},
    "subject": {"nl": ("object", "onderwerp"), "en": ("subject", "item tested")},
    "deviation": {"nl": ("afwijking", "uitzondering op de norm"), "en": ("deviation", "exception found")},
    "not evidenced": {"nl": ("niet aangetoond", "onaangetoond", "niet bewezen"), "en": ("not evidenced", "unevidenced")},
    "collection run": {"nl": ("verzamelronde", "verzamelrun", "collectieronde"), "en": ("collection run", "collection round")},
    "evidence item": {"nl": ("bewijsstuk", "bewijsitem"), "en": ("evidence item", "piece of evidence")},
    "workstation": {"nl": ("werkplek", "werkstation", "client"), "en": ("workstation", "desktop", "client machine")},
    "anti-virus console": {
        "nl": ("antivirusconsole", "anti-virus console", "antivirus console", "av-console"),
        "en": ("anti-virus console", "antivirus console", "antivirusconsole", "av console"),
    },
    "anti-virus": {"nl": ("antivirus", "anti-virus"), "en": ("anti-virus", "antivirus")},
    "virus definitions": {"nl": ("virusdefinities", "signatures", "handtekeningen"), "en": ("signatures", "definitions")},
    "backup": {"nl": ("back-up", "backup"), "en": ("backup", "back-up")},
    "sub-processor": {"nl": ("subverwerker", "sub-verwerker", "onderaannemer"), "en": ("sub-processor", "subprocessor")},
    "breach": {"nl": ("datalek", "data-lek", "beveiligingsincident"), "en": ("breach", "data leak")},
    "electronic key": {"nl": ("elektronische sleutel", "toegangspas", "sleutelpas"), "en": ("electronic key", "access card")},
    "leaver": {"nl": ("vertrekker", "uitdiensttreder", "vertrokken medewerker"), "en": ("leaver", "departing employee")},
    "inventory": {"nl": ("inventaris", "inventory", "inventarisatie"), "en": ("inventory", "inventaris")},
    "domain controller": {"nl": ("domeincontroller", "domain controller"), "en": ("domain controller", "domeincontroller")},
}

MONTHS: dict[str, tuple[str, ...]] = {
    "nl": ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}
