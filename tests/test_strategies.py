"""The strategy table: every rule it names exists, so none falls back to the ordered deploy by a typo."""

from __future__ import annotations

from bot.core.rules.common import RULE_DOCS
from bot.plans import strategies
from bot.plans.pipelines import strategies as pipeline_strategies


def test_the_table_names_only_known_rules() -> None:
    assert set(strategies.BY_RULE) <= set(RULE_DOCS)


def test_rules_without_an_entry_are_answered_by_an_ordered_deploy() -> None:
    assert strategies.for_rule("new-reference-order") == strategies.ORDERED
    assert strategies.for_rule("export-removed-in-use") != strategies.ORDERED


def test_the_pipeline_table_names_only_known_rules() -> None:
    assert set(pipeline_strategies.BY_RULE) <= set(RULE_DOCS)


def test_a_rule_without_a_pipeline_entry_gets_no_pipeline_candidates() -> None:
    # Such a finding is left to a person ("pipeline-manual"), never to an unchecked guess.
    assert pipeline_strategies.for_rule("no-such-rule") == ()
    assert pipeline_strategies.for_rule("export-removed-in-use")
