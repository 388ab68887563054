"""The interface between the planner and its strategies. Pure.

A strategy is ``candidates(planning, finding, head, producer, consumers) -> list[Candidate]``:
the plans it proposes for one finding, best first, each with the command lines to simulate
and the state they must reach. It uses the planner's shared state and operations through
``Planning`` (defined here, below both, so strategies never import the planner).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.model import CodeLocation, Finding, Plan, StackKey
from bot.plans.deploy_sites import DeploySite
from bot.plans.patches import SourceSite
from bot.plans.simulate import AppVersion, State
from bot.plans.value_sites import ValueSites
from bot.plans.versions import Versions


@dataclass(frozen=True)
class Candidate:
    plan: Plan
    invocations: tuple[tuple[AppVersion, str], ...]  # (version, command line)
    target: AppVersion


class Planning(Protocol):
    """What strategies may read and call on the planner."""

    base: AppVersion  # the base app, restricted to the stacks the finding involves
    initial: State  # the deployed (base) state, likewise restricted
    versions: Versions
    library: str | None  # aws-cdk-lib version, when known
    language: str
    sites: Sequence[DeploySite]  # the repository's `cdk deploy` commands
    sources: Mapping[str, SourceSite]  # where constructs and stacks are created, head
    base_sources: Mapping[str, SourceSite]
    readers: Mapping[str, Sequence[SourceSite]]  # where hand-named exports are imported, head
    base_readers: Mapping[str, Sequence[SourceSite]]
    values: ValueSites

    def selector(self, key: StackKey) -> str: ...

    def command(self, version: AppVersion, selectors: Sequence[str], *, exclusively: bool = False,
                force: bool = False) -> str: ...

    def naive_failure(self, head: AppVersion, producer: str, consumers: list[str]) -> str | None: ...

    def code_step(self, finding: Finding) -> CodeLocation | None: ...

    def scoped_head(self, ids: list[str]) -> AppVersion: ...

    def choose(self, candidates: list[Candidate]) -> Plan: ...


Strategy = Callable[[Planning, Finding, AppVersion, str, list[str]], list[Candidate]]


def no_patch_reason(planning: Planning) -> str:
    """Why a change on the base branch is described, not patched: without the base branch's
    source (the CLI's ``--base-source``) nothing of it is located; else the source does
    not show the edit in a shape a patch can make."""
    if not planning.base_sources:
        return "No patch could be produced: the base branch's source was not given (--base-source)"
    return "No patch could be produced for this change"
