"""The words only one report language uses, and a scan of rendered text for the other language's.

The vocabulary is every text auditpack says in both languages: the report's and the console's wording
(reports/i18n.py, the commands' and the pack diff's tables), the catalogue (titles, promises, test procedures, parameters, annex
sections, finding texts) and the words of recorded facts (the catalogue's terms). A word that occurs in one
language's texts and never in the other's belongs to that language only, so a report in the other language
must not carry it. What the processor supplied or the evidence holds (names, hosts, commands, justifications,
codes) is quoted, not translated: it is taken out of the text before the scan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

from auditpack import pack_diff
from auditpack.commands import shared
from auditpack.controls.messages import all_terms
from auditpack.controls.model import Text, load_catalogue, load_messages
from auditpack.reports import i18n

LANGS = i18n.LANGS
WORD = re.compile(r"[^\W\d_]+")
HEX = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{16,}(?![0-9A-Za-z])")  # a hash or evidence id: letters, but no words
FIELD = re.compile(r"{\w+:?|[}|]")  # a placeholder's name; the words of a plural form {n:day|days} stay
# Where the document holds what the processor or the evidence said: quoted as it is, in any language.
DATA_KEYS = frozenset(
    {
        "id",
        "subject",
        "subjects",
        "host",
        "kind",
        "command",
        "code",
        "item_id",
        "raw_sha256",
        "manifest_sha256",
        "chain_head",
        "scope",
        "justification",
        "owner",
        "approver",
        "operator",
        "drawn",
        "seed",
        "processor",
        "customer",
        "agreement",
        "parameters",
        "attributes",  # a tested item's attributes: values as the evidence gives them (a product, a name)
        "tool",
        "signing_key",
    }
)
# The document's own words: said in its language.
HUMAN_KEYS = frozenset({"title", "promise", "annex_section", "design", "operation", "status_label", "text"})


def _tables() -> Iterator[dict[str, Any]]:
    """Every wording table with a text per language: the report's (reports/i18n.py), the console's, the pack diff's."""
    for table in (*vars(i18n).values(), shared.CONSOLE_WORDS, pack_diff.TEXT):
        if isinstance(table, dict) and set(table) == set(LANGS):
            yield table


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def _catalogue_texts() -> Iterator[Text]:
    for control in load_catalogue().values():
        yield from (control.title, control.description, control.test_procedure.design, control.test_procedure.operation)
        yield from (p.description for p in control.parameters.values())
        yield control.annex_section
    yield from load_messages().values()


def language_texts(lang: str) -> list[str]:
    """Everything auditpack says in LANG."""
    texts = [s for table in _tables() for s in _strings(table[lang])]
    texts += [text.in_(lang) for text in _catalogue_texts()]
    return texts + [words[lang] for words in all_terms().values()]


def words(text: str) -> set[str]:
    """The words of a text, lower case, without the names of its placeholders."""
    return {w.lower() for w in WORD.findall(FIELD.sub(" ", text))}


@lru_cache(maxsize=1)
def own_words() -> dict[str, frozenset[str]]:
    """Per language, the words its texts use and the other language's never do."""
    used = {lang: set().union(*(words(t) for t in language_texts(lang))) for lang in LANGS}
    return {lang: frozenset(used[lang] - set().union(*(used[o] for o in LANGS if o != lang))) for lang in LANGS}


class _VisibleText(HTMLParser):
    """The text a reader sees, without <code> and <pre> (commands, hashes, ids), styles and scripts."""

    SKIPPED = frozenset({"code", "pre", "style", "script"})  # <pre>: a command as the evidence holds it

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.depth += tag in self.SKIPPED

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag in self.SKIPPED

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)


def html_text(page: str) -> str:
    parser = _VisibleText()
    parser.feed(page)
    return "\n".join(parser.parts)


def data_strings(document: dict[str, Any]) -> set[str]:
    """What the document quotes: every string under a data key, and the keys of what it quotes (parameter names)."""
    found: set[str] = set()

    def walk(node: Any, quoted: bool) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "parameters" or quoted:
                    found.update(value if key == "parameters" and isinstance(value, dict) else ())
                    found.update([key] if quoted else [])
                walk(value, quoted or key in DATA_KEYS)
        elif isinstance(node, list):
            for value in node:
                walk(value, quoted)
        elif isinstance(node, str) and quoted and node.strip():
            found.add(node)

    walk(document, False)
    return found


def human_texts(document: dict[str, Any]) -> list[str]:
    """The document's own texts (JSON): titles, promises, procedures, annex sections, verdicts, finding texts."""
    texts = [document["profile"]["name"]]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in HUMAN_KEYS and isinstance(value, str):
                    texts.append(value)
                elif key not in DATA_KEYS:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document["controls"])
    return texts


def without(text: str, quoted: Iterable[str]) -> str:
    """TEXT with every quoted string taken out where it stands as a whole (the longest first)."""
    ordered = sorted({q for q in quoted if q.strip()}, key=len, reverse=True)
    if not ordered:
        return text
    return re.sub("|".join(rf"(?<!\w){re.escape(q)}(?!\w)" for q in ordered), " ", text)


def foreign_words(text: str, lang: str, quoted: Iterable[str] = ()) -> dict[str, str]:
    """The other languages' own words in TEXT (said in LANG), each with the line it stands in."""
    other = set().union(*(own_words()[o] for o in LANGS if o != lang))
    relevant = [q for q in quoted if words(q) & other]  # a quote without such a word cannot hide one
    hits: dict[str, str] = {}
    for line in without(text, relevant).splitlines():
        for word in sorted(words(HEX.sub(" ", line)) & other):
            hits.setdefault(word, " ".join(line.split())[:200])
    return hits
