"""The words for how far a plan was checked: one place, so every sink says the same."""

from __future__ import annotations

from bot.core.model import Level, Plan

_NEEDS_BUILD = {
    Level.SYNTHESIZED: "verified: its changes were applied to this app, synthesized, and CloudFormation's "
    "rules accept the real templates in this order",
    Level.MODELLED: "checked on a model of the change, not synthesized",
}


def describe(plan: Plan) -> str:
    """A short phrase for the plan's level, with the reason when it is not verified."""
    level = plan.verification.level
    if level in _NEEDS_BUILD:
        return _NEEDS_BUILD[level]
    reason = plan.verification.reason
    return "NOT verified" + (f": {reason}" if reason else "")


def short(plan: Plan) -> str:
    """A few words for headings and check-run lines."""
    return {
        Level.SYNTHESIZED: "verified on synthesized templates",
        Level.MODELLED: "checked on a model of the change, not synthesized",
        Level.NONE: "NOT verified",
    }[plan.verification.level]
