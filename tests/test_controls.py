from __future__ import annotations

import pytest

from auditpack.controls.evaluators import EVALUATORS
from auditpack.controls.messages import JOINERS, all_messages, render
from auditpack.controls.model import load_catalogue
from auditpack.controls.result import Status, overall_status


def test_catalogue_loads_with_both_languages():
    catalogue = load_catalogue()
    assert "T-FWH" in catalogue
    for control in catalogue.values():
        for text in (control.title, control.description, control.test_procedure.design, control.test_procedure.operation):
            assert text.nl.strip() and text.en.strip() and text.nl != text.en
        assert control.annex_section.nl.startswith("Bijlage 2") and control.annex_section.en.startswith("Annex 2")
        for param in control.parameters.values():
            assert param.description.nl and param.description.en


def test_every_evaluator_has_a_catalogue_entry():
    assert set(EVALUATORS) <= set(load_catalogue())


def test_every_message_exists_in_both_languages():
    for code, texts in all_messages().items():
        assert set(texts) == set(JOINERS), code


def test_message_rendering_joins_lists_per_language():
    facts = {"families": ["ipv4", "ipv6"], "backends": "nftables"}
    assert "ipv4 en ipv6" in render("fw.inbound_open", facts, "nl")
    assert "ipv4 and ipv6" in render("fw.inbound_open", facts, "en")


@pytest.mark.parametrize(
    "population,tested,failed,gaps,tolerance,expected",
    [
        (0, 0, 0, 0, 0.05, Status.NOT_APPLICABLE),
        (3, 0, 0, 3, 0.05, Status.NOT_EVIDENCED),
        (3, 30, 0, 0, 0.05, Status.EFFECTIVE),
        (3, 30, 1, 0, 0.05, Status.EFFECTIVE_WITH_DEVIATIONS),
        (3, 29, 0, 1, 0.05, Status.EFFECTIVE_WITH_DEVIATIONS),  # a missing day is never a silent pass
        (3, 30, 2, 0, 0.05, Status.NOT_EFFECTIVE),
        (3, 10, 1, 0, 0.0, Status.NOT_EFFECTIVE),
    ],
)
def test_overall_status(population, tested, failed, gaps, tolerance, expected):
    assert overall_status(population, tested, failed, gaps, tolerance) == expected
