"""Filling texts in a report language: singular and plural, numbers, series (auditpack/wording.py)."""

from __future__ import annotations

import numpy as np
import pytest

from auditpack.wording import Series, Wording, counted, fields, fill, number


@pytest.mark.parametrize(
    "count,nl,en",
    [(0, "0 dagen", "0 days"), (1, "1 dag", "1 day"), (2, "2 dagen", "2 days"), (1.5, "1,5 dagen", "1.5 days")],
)
def test_a_count_takes_the_singular_only_for_one(count, nl, en):
    assert fill("{days:dag|dagen}", {"days": count}, "nl") == nl
    assert fill("{days:day|days}", {"days": count}, "en") == en


def test_counts_from_numpy_are_counts_too():
    assert counted(np.int64(1), "server|servers", "en") == "1 server"
    assert counted(np.int64(3), "server|servers", "en") == "3 servers"


def test_the_noun_pair_can_come_from_another_value():
    assert fill("in {evidenced} van {expected:{unit}}", {"evidenced": 40, "expected": 52, "unit": "week|weken"}, "nl") == (
        "in 40 van 52 weken"
    )
    assert fill("{expected:{unit}}", {"expected": 1, "unit": "month|months"}, "en") == "1 month"


def test_a_series_is_named_after_its_noun_in_its_number():
    assert fill("in {p:profiel|profielen}", {"p": Series("domein", 1)}, "nl") == "in profiel domein"
    assert fill("in {p:profile|profiles}", {"p": Series("domain and public", 2)}, "en") == "in profiles domain and public"


def test_a_value_that_is_no_count_takes_the_plural_noun_before_it():
    assert fill("({days:dag|dagen})", {"days": "onbekend"}, "nl") == "(dagen onbekend)"


def test_numbers_are_written_the_languages_way():
    assert [number(v, "nl") for v in (30.25, 12.0, 7, "x")] == ["30,25", "12", "7", "x"]
    assert [number(v, "en") for v in (30.25, 12.0, 7)] == ["30.25", "12", "7"]
    assert fill("{hours} uur", {"hours": 30.5}, "nl") == "30,5 uur"


def test_a_wording_formats_in_its_own_language():
    text = Wording("{count:datum|datums}", "nl")
    assert text.format(count=1) == "1 datum" and text.format(count=52) == "52 datums"
    assert str(text) == "{count:datum|datums}" and isinstance(text, str)
    with pytest.raises(TypeError, match="by name"):
        text.format(3)


def test_fields_names_every_placeholder_nested_ones_too():
    assert list(fields("{a} van {b:{unit}} en {c:dag|dagen}")) == [("a", ""), ("b", "{unit}"), ("unit", ""), ("c", "dag|dagen")]
