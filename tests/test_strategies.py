"""The strategy table: every rule it names exists, so none falls back to the ordered deploy by a typo."""

from __future__ import annotations

from bot.core.rules.common import RULE_DOCS
from bot.plans import strategies


def test_the_table_names_only_known_rules() -> None:
    assert set(strategies.BY_RULE) <= set(RULE_DOCS)


def test_rules_without_an_entry_are_answered_by_an_ordered_deploy() -> None:
    assert strategies.for_rule("new-reference-order") == strategies.ORDERED
    assert strategies.for_rule("export-removed-in-use") != strategies.ORDERED
