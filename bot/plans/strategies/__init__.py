"""One module per fix strategy; each exposes ``candidates``-shaped functions (``base.Strategy``).

``BY_RULE`` says which strategies answer which rule, in order: the planner concatenates
their candidates and keeps the first that verifies, the rest as alternatives. Two cases
come before the table: consumers gone from the app (``consumers_gone``) and an import the
app cannot fix (``external``). ``whole_pr`` plans groups of findings of one producer;
``pipeline_edits`` fits the repository's own deploy commands to a chosen plan.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.plans.strategies import (
    consumers_first,
    detach,
    keep_export,
    ordered,
    ssm_parameter,
    weak_reference,
)
from bot.plans.strategies.base import Strategy

# A value change in use: no single deploy ships it, split it in two changes (DOMAIN.md section 5).
_VALUE_CHANGE: tuple[Strategy, ...] = (
    weak_reference.split,  # where aws-cdk-lib may have weak references
    ssm_parameter.split,
    weak_reference.split_after_upgrade,  # below 2.254: after SSM, with an upgrade first
    detach.detach_and_restore,
)

BY_RULE: Mapping[str, tuple[Strategy, ...]] = {
    "export-value-change-in-use": _VALUE_CHANGE,
    "export-value-may-change-in-use": _VALUE_CHANGE,
    "export-removed-in-use": (
        consumers_first.candidates,
        keep_export.candidates,
        weak_reference.let_go_first,  # the next two only when head no longer produces the old value
        detach.let_go_first,
    ),
    "import-missing-export": (keep_export.restore, detach.let_go_first),
}

# Every other rule (weak references, SSM links, new references): deploy in order.
ORDERED: tuple[Strategy, ...] = (ordered.candidates,)


def for_rule(rule: str) -> tuple[Strategy, ...]:
    return BY_RULE.get(rule, ORDERED)
