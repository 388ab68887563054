"""An import whose export is not this app's to change: no deploy of the app fixes it. Pure.

Either the producer left the app (it stays deployed with its export), or nothing in the
app exports the name: offline, only a check in the target account can tell.
"""

from __future__ import annotations

import shlex

from bot.core.model import Finding, Plan, Step
from bot.plans.wording import names


def plan(finding: Finding) -> Plan:
    if finding.producer:
        return Plan(
            strategy="producer-left-app",
            summary=f"{finding.producer} left the app but stays deployed with its export; "
            f"move {names(finding.consumers)} off {finding.export} before deleting it.",
            steps=(),
        )
    region = finding.environment.region
    query = shlex.quote(f"Exports[?Name=='{finding.export}']")
    return Plan(
        strategy="verify-external-export",
        summary=f"Nothing in this app exports {finding.export}: check that it exists in "
        f"{finding.environment} before merging (offline, this cannot be verified).",
        steps=(
            Step(
                title="Confirm the export exists in the target account and region",
                kind="deploy",
                commands=(f"aws cloudformation list-exports --region {region} --query {query}",),
            ),
        ),
    )
