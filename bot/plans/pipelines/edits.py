"""What a pipeline release changes in the app's model, and how its code reads. Pure.

The model edits (``depend``, ``touch``) are what the simulator runs; the text helpers turn
a step's patches into the code line the comment shows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from bot.core.model import Change, CodeLocation
from bot.plans.simulate import AppVersion

REFRESH_TAG = "cdk-export-guard-refresh"


def depend(version: AppVersion, stack_id: str, on: Sequence[str], *, label: str) -> AppVersion:
    """``stack.add_dependency(other)`` for each of ``on``: a template change-free ordering edge."""
    specs = dict(version.stacks)
    spec = specs[stack_id]
    specs[stack_id] = replace(spec, dependencies=spec.dependencies | frozenset(on))
    return replace(version, label=label, stacks=specs)


def touch(version: AppVersion, stack_ids: Sequence[str]) -> AppVersion:
    """A template change in each stack (the refresh tag), so its change set is not empty."""
    specs = dict(version.stacks)
    for stack_id in stack_ids:
        specs[stack_id] = replace(specs[stack_id], template=specs[stack_id].template + f"+{REFRESH_TAG}")
    return replace(version, stacks=specs)


_PLACEHOLDER = re.compile(r"<[^<>\s][^<>]*>")


def placeholder_note(*code: str) -> str:
    """" (placeholder in <>)" only while the code shown still holds one: real expressions need no note."""
    count = sum(len(_PLACEHOLDER.findall(text)) for text in code)
    return "" if not count else " (placeholder in <>)" if count == 1 else " (placeholders in <>)"


def added_code(changes: Sequence[Change]) -> str | None:
    """The code lines the patches add (comments left out), or None unless every change is a patch."""
    if not changes or any(c.kind != "patch" or not c.diff for c in changes):
        return None
    added = []
    for change in changes:
        for line in (change.diff or "").splitlines():
            code = line[1:].strip()
            if line.startswith("+") and not line.startswith("+++") and code and not code.startswith(("#", "//")):
                added.append(code)
    return "; ".join(dict.fromkeys(added)) or None


def code_at(changes: Sequence[Change], language: str, fallback: str) -> CodeLocation:
    """Where the step's code goes: the patched file, else the snippet alone."""
    path = next((c.path for c in changes if c.kind == "patch"), None)
    return CodeLocation(language, path, None, added_code(changes) or fallback)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
