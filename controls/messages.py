"""Deviation and gap texts in Dutch and English, keyed by a stable code.

Evaluators record a code and its facts; the words are chosen when a report is
rendered, so the same findings read correctly in either language. The texts
are catalogue data (see controls/model.py): a control's own codes in its
catalogue file under `messages:`, the generic and shared ones in
catalogue/_shared_messages.yaml. This module only fills them in, so it needs
neither the evaluators nor anything that imports them.
"""

from __future__ import annotations

from typing import Any

from .model import load_messages

JOINERS = {"nl": " en ", "en": " and "}


def all_messages() -> dict[str, dict[str, str]]:
    """Every code with its text per language, as {code: {"nl": …, "en": …}}."""
    return {code: text.model_dump() for code, text in load_messages().items()}


def render(code: str, facts: dict[str, Any], lang: str) -> str:
    return load_messages()[code].in_language(lang).format(**{k: _word(v, lang) for k, v in facts.items()})


def _word(value: Any, lang: str) -> Any:
    """Lists are joined, and a fact given as {"nl": …, "en": …} is said in the report's language."""
    if isinstance(value, dict) and set(value) == set(JOINERS):
        return value[lang]
    if isinstance(value, (list, tuple)):
        return JOINERS[lang].join(str(_word(v, lang)) for v in value)
    return value
