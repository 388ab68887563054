"""What the pipeline's two-change splits share: why no release can ship a value change. Pure."""

from __future__ import annotations

from bot.core.model import Finding
from bot.plans import wording
from bot.plans.pipelines.strategies.base import Planning


def refusal(planning: Planning, finding: Finding, consumers: list[str]) -> str:
    """DOMAIN.md section 2: the export cannot change while imported, in any order of deploys."""
    names = wording.names(planning.name(c) for c in consumers)
    return (f"No release can ship this change: CloudFormation refuses to change export {finding.export} while "
            f"{names} import{'s' if len(consumers) == 1 else ''} it, whatever order the pipeline uses. "
            "Split it.")
