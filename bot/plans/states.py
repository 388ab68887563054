"""The app states a plan deploys, read from its steps. Pure.

Each step with commands runs them against one state: the tree it ``applies_to`` (the
base branch, this pull request's head, or the previous step's state) with the step's
changes applied on top. Two steps that name the same tree and changes share one state,
and so do plans: a state is synthesized once.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.model import Change, Plan


@dataclass(frozen=True)
class State:
    tree: str  # "base" | "head"
    changes: tuple[Change, ...] = ()

    @property
    def label(self) -> str:
        if not self.changes:
            return self.tree
        parts = []
        for change in self.changes:
            if change.kind == "context":
                parts.append(f"context {change.key}={change.value}")
            else:
                parts.append(f"patch {change.path}")
        return f"{self.tree} + " + " + ".join(parts)


@dataclass(frozen=True)
class Run:
    """The plan's commands, each with the state it deploys."""

    commands: tuple[tuple[State, str], ...]


def plan_run(plan: Plan) -> Run | str:
    """The states and commands of ``plan``, or why it cannot be built for real."""
    commands: list[tuple[State, str]] = []
    previous: State | None = None
    for number, step in enumerate(plan.steps, 1):
        described = [c for c in step.changes if c.kind == "description"]
        if described:
            return f"step {number} is an edit by hand (no patch): {described[0].description}"
        if not step.commands:
            continue
        where = step.applies_to or "head"
        if where == "previous":
            if previous is None:
                return f"step {number} applies to a previous step that deploys nothing"
            state = State(previous.tree, previous.changes + step.changes)
        else:
            state = State(where, step.changes)
        for line in step.commands:
            commands.append((state, line))
        previous = state
    if not commands:
        return "the plan deploys nothing"
    return Run(tuple(commands))
