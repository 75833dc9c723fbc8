"""Deviation and gap texts in Dutch and English, keyed by a stable code.

Evaluators record a code and its facts; the words are chosen when a report is
rendered, so the same findings read correctly in either language.
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, dict[str, str]] = {
    "fw.inbound_open": {
        "nl": "inkomend verkeer wordt standaard toegelaten voor {families} (uitgelezen: {backends}; "
              "geen input-keten weigert onbekende pakketten)",
        "en": "inbound traffic is accepted by default for {families} (read: {backends}; "
              "no input chain refuses unmatched packets)",
    },
    "evidence.missing": {
        "nl": "geen leesbaar bewijs ({why})",
        "en": "no readable evidence ({why})",
    },
}

JOINERS = {"nl": " en ", "en": " and "}


def render(code: str, facts: dict[str, Any], lang: str) -> str:
    values = {k: JOINERS[lang].join(v) if isinstance(v, (list, tuple)) else v for k, v in facts.items()}
    return MESSAGES[code][lang].format(**values)
