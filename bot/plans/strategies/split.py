"""What the two-change splits share: why no single deploy ships a value change, and the
step that says to land change 1 alone first. Pure."""

from __future__ import annotations

from bot.core.model import Finding, Step
from bot.plans.simulate import AppVersion
from bot.plans.strategies.base import Planning
from bot.plans.wording import names

SPLIT_STEP = Step(title="Split this pull request: land change 1 alone first, then this change", kind="split")


def refusal(planning: Planning, finding: Finding, head: AppVersion, producer: str, consumers: list[str]) -> str:
    """DOMAIN.md section 2: deploying producer and consumers together is refused like the producer alone."""
    naive = planning.naive_failure(head, producer, consumers)
    return (
        f"No single deploy can ship this change: CloudFormation refuses to change export "
        f"{finding.export} while {names(finding.consumers)} import{'s' if len(consumers) == 1 else ''} "
        f"it, and deploying both together does not help — the CLI deploys {producer} first "
        "and it is refused the same way"
        + (f" (simulated: {naive})" if naive else "")
        + ". Split the change in two."
    )
