"""Deviation and gap texts in Dutch and English, keyed by a stable code.

Evaluators record a code and its facts; the words are chosen when a report is
rendered, so the same findings read correctly in either language. The texts
are catalogue data (see controls/model.py): a control's own codes in its
catalogue file under `messages:`, the generic and shared ones in
catalogue/_shared_messages.yaml. This module only fills them in, so it needs
neither the evaluators nor anything that imports them.

A fact is language-neutral: a number, a date, a name from the evidence, or a
value whose words are in catalogue/_terms.yaml (a backup result "failure", a
population source "console", a register "breaches"); `say` turns it into the
report's language, and a fact recorded as None (the evidence did not give it)
into the word for unknown. The text is then filled by auditpack.wording, which
says counts in the singular or the plural ({days:dag|dagen}).
"""

from __future__ import annotations

from typing import Any

from auditpack.wording import Series, fill

from .model import load_messages, load_terms

JOINERS = {"nl": " en ", "en": " and "}


def all_messages() -> dict[str, dict[str, str]]:
    """Every code with its text per language, as {code: {"nl": …, "en": …}}."""
    return {code: text.model_dump() for code, text in load_messages().items()}


def all_terms() -> dict[str, dict[str, str]]:
    """Every word of a recorded value, as {"group.value": {"nl": …, "en": …}}, and "unknown"."""
    terms = load_terms()
    found = {"unknown": terms.unknown.model_dump()}
    for name, group in terms.groups.items():
        found.update({f"{name}.{value}": word.model_dump() for value, word in group.words.items()})
    return found


def render(code: str, facts: dict[str, Any], lang: str) -> str:
    text = load_messages()[code].in_language(lang)
    return fill(text, {name: say(name, value, lang) for name, value in facts.items()}, lang)


def say(placeholder: str, value: Any, lang: str) -> Any:
    """A fact in the report's language: a known value in its words, None as unknown, a list as one series."""
    if value is None:
        return load_terms().unknown.in_(lang)
    if isinstance(value, (list, tuple)):
        return Series(JOINERS[lang].join(str(say(placeholder, v, lang)) for v in value), len(value))
    group = load_terms().group_of(placeholder)
    if group is not None and isinstance(value, str) and value in group.words:
        return group.words[value].in_(lang)
    return value


def term(group: str, value: str, lang: str) -> str:
    """The word of VALUE in a group of catalogue/_terms.yaml (for a report's own tables); unknown values as they are."""
    word = load_terms().groups[group].words.get(value)
    return word.in_(lang) if word else value
