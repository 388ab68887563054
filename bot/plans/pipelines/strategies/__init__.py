"""The pipeline's fix strategies, one module each (``base.Strategy``), and which answer which rule.

``BY_RULE`` lists, per rule, the strategies in order: the pipeline planner concatenates
their candidates, checks each in the pipeline simulator and keeps the first that passes,
the rest as alternatives. A rule not in the table gets no pipeline plan (the comment then
says to review the pipeline's order by hand).

May import: ``core``, ``workspace`` and the rest of ``plans``.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.plans.pipelines.strategies import keep_export, ordered, ssm_parameter, temporary_dependency, weak_reference
from bot.plans.pipelines.strategies.base import Strategy

# A value change in use: no release ships it; split it in two changes (DOMAIN.md section 5).
_VALUE_CHANGE: tuple[Strategy, ...] = (
    weak_reference.split,  # where aws-cdk-lib may have weak references
    ssm_parameter.split,
)

BY_RULE: Mapping[str, tuple[Strategy, ...]] = {
    "export-value-change-in-use": _VALUE_CHANGE,
    "export-value-may-change-in-use": _VALUE_CHANGE,
    "export-removed-in-use": (temporary_dependency.candidates, keep_export.one_more_release),
    "import-missing-export": (keep_export.restore,),
    "weak-reference-stale": (ordered.candidates,),
    "new-reference-order": (ordered.candidates,),
}


def for_rule(rule: str) -> tuple[Strategy, ...]:
    return BY_RULE.get(rule, ())
