"""Filling a text's {placeholders} in a report language: counts in the singular or the plural, numbers the
language's way. The one formatter of every text auditpack writes: the catalogue's finding texts
(controls/messages.py) and the report's wording (reports/i18n.py).

- `{hours}`: the value; a number with the language's decimal sign ("1,5" in Dutch).
- `{days:dag|dagen}`: the count with its noun, singular for exactly 1: "1 dag", "3 dagen"; a list of
  things (a `Series`) is named after its noun: "profiel domein", "profielen domein en openbaar"; a value
  that is no count (the word for unknown) too: "dagen onbekend".
- `{expected:{unit}}`: the same, the noun pair taken from another value ("week|weken"): "52 weken".
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from numbers import Real
from typing import Any

PLURAL_SIGN = "|"  # between a noun's singular and plural form: "dag|dagen"
DECIMAL_SIGN = {"nl": ",", "en": "."}


def number(value: Any, lang: str) -> str:
    """A number as the language writes it (a whole float without its ".0"); anything else as it is."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value).replace(".", DECIMAL_SIGN[lang])
    return str(value)


class Series(str):
    """Several things said as one text ("domein en openbaar"), knowing how many they are."""

    count: int

    def __new__(cls, text: str, count: int = 0) -> Series:
        series = super().__new__(cls, text)
        series.count = count
        return series


def counted(value: Any, forms: str, lang: str) -> str:
    """VALUE with the singular or plural noun of FORMS ("dag|dagen"), see the module's docstring."""
    one, _, many = forms.partition(PLURAL_SIGN)
    if isinstance(value, Series):
        return f"{one if value.count == 1 else many} {value}"
    if isinstance(value, Real) and not isinstance(value, bool):
        return f"{number(value, lang)} {one if value == 1 else many}"
    return f"{many} {value}"


class _Formatter(string.Formatter):
    def __init__(self, lang: str):
        super().__init__()
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if PLURAL_SIGN in format_spec:
            return counted(value, format_spec, self.lang)
        if format_spec:
            return format(value, format_spec)
        return number(value, self.lang)


def fill(text: str, values: Mapping[str, Any], lang: str) -> str:
    """TEXT with its placeholders filled from VALUES (see the module's docstring)."""
    return _Formatter(lang).vformat(text, (), values)


def fields(text: str) -> Iterator[tuple[str, str]]:
    """Each placeholder of TEXT as (name, format spec), those nested in a spec ({expected:{unit}}) included."""
    for _, name, spec, _ in string.Formatter().parse(text):
        if name is not None:
            yield name, spec or ""
            yield from fields(spec or "")


class Wording(str):
    """A text of the report's wording whose format() is `fill` in the language it is written in."""

    lang: str

    def __new__(cls, text: str, lang: str = "nl") -> Wording:
        wording = super().__new__(cls, text)
        wording.lang = lang
        return wording

    def format(self, *args: Any, **values: Any) -> str:
        if args:
            raise TypeError("a wording is filled by name only")
        return fill(self, values, self.lang)
