"""Command lines as people see them in a plan, run in the simulator exactly as shown. Pure."""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from bot.plans.deploy_command import parse_deploy
from bot.plans.simulate import AppVersion, Invocation, Simulation, State, run

DELETE_STACK = "aws cloudformation delete-stack --stack-name "


def simulate_commands(initial: State, steps: Iterable[tuple[AppVersion, str]]) -> Simulation:
    """Run command lines exactly as shown to people (`cdk deploy ...` or a stack deletion)."""
    invocations = []
    for version, line in steps:
        if line.startswith(DELETE_STACK):
            invocations.append(Invocation(version, None, delete=shlex.split(line)[-1]))
            continue
        command = parse_deploy(line)
        if command is None:
            raise ValueError(f"not a cdk deploy command: {line}")
        invocations.append(Invocation(version, command))
    return run(initial, invocations)


def transcript(simulation: Simulation) -> tuple[str, ...]:
    lines = []
    for step in simulation.steps:
        if step.error:
            lines.append(f"{step.command}: refused: {step.error}")
        else:
            done = ", ".join(step.deployed) or "nothing"
            skipped = f" (skipped unchanged: {', '.join(step.skipped)})" if step.skipped else ""
            lines.append(f"{step.command}: deployed {done}{skipped}")
    lines.extend(f"stale: {s}" for s in simulation.stale)
    return tuple(lines)
