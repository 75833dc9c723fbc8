"""Deviation and gap texts in Dutch and English, keyed by a stable code.

Evaluators record a code and its facts; the words are chosen when a report is
rendered, so the same findings read correctly in either language. Generic
codes live here; each evaluator module adds its own in a MESSAGES dict.
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, dict[str, str]] = {
    "evidence.missing": {
        "nl": "geen leesbaar bewijs ({why})",
        "en": "no readable evidence ({why})",
    },
    "evidence.no_register": {
        "nl": "het register {register} is niet aangeleverd",
        "en": "the {register} register was not provided",
    },
    "evidence.no_day": {
        "nl": "geen bewijs voor deze dag",
        "en": "no evidence for this day",
    },
}

JOINERS = {"nl": " en ", "en": " and "}


def render(code: str, facts: dict[str, Any], lang: str) -> str:
    from . import evaluators  # noqa: F401  (registers every evaluator's MESSAGES)

    return MESSAGES[code][lang].format(**{k: _word(v, lang) for k, v in facts.items()})


def _word(value: Any, lang: str) -> Any:
    """Lists are joined, and a fact given as {"nl": …, "en": …} is said in the report's language."""
    if isinstance(value, dict) and set(value) == set(JOINERS):
        return value[lang]
    if isinstance(value, (list, tuple)):
        return JOINERS[lang].join(str(_word(v, lang)) for v in value)
    return value
