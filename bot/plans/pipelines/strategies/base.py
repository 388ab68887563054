"""The interface between the pipeline planner and its strategies. Pure.

A pipeline strategy is ``candidates(planning, finding, head, producer, consumers) -> list[Candidate]``:
the plans it proposes for one finding, best first. A plan is a sequence of releases, each a
version of the app that the pipeline deploys in its own order, and the state the finding's
stacks must reach. Strategies use the planner's shared state and wording through
``Planning`` (defined here, below both, so strategies never import the planner).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.context import Context
from bot.core.model import Change, Finding, Plan
from bot.plans.patches import SourceSite
from bot.plans.simulate import AppVersion
from bot.plans.versions import Versions


@dataclass(frozen=True)
class Release:
    version: AppVersion
    label: str


@dataclass(frozen=True)
class Candidate:
    plan: Plan
    releases: tuple[Release, ...]
    target: AppVersion  # restricted to the stacks the plan must bring to their final state


class Planning(Protocol):
    """What pipeline strategies may read and call on the pipeline planner."""

    context: Context
    sources: Mapping[str, SourceSite]  # where constructs and stacks are created, head
    language: str
    library: str | None  # aws-cdk-lib version, when known
    versions: Versions
    base: AppVersion

    def name(self, stack_id: str) -> str: ...

    def order_text(self, version: AppVersion, stack_id: str) -> str: ...

    def race_text(self, head: AppVersion, producer: str, consumers: list[str]) -> str: ...

    def value(self, finding: Finding) -> str | None: ...

    def call(self, stack_id: str, method: str, others: Sequence[str]) -> str: ...

    def tag_call(self, consumers: Sequence[str]) -> str: ...

    def dependency(self, waiting: str, first: str) -> Change: ...

    def tag(self, stack_id: str, finding: Finding) -> Change: ...


Strategy = Callable[[Planning, Finding, AppVersion, str, list[str]], list[Candidate]]
