"""Small helpers the fix strategies share to name things in plans. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.model import Finding


def names(items: Iterable[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``: sorted, without repeats."""
    unique = sorted(set(items))
    return ", ".join(unique[:-1]) + " and " + unique[-1] if len(unique) > 1 else "".join(unique)


def automatic(export: str) -> bool:
    """CDK's own export names (`<stack>:ExportsOutput...`); hand-named ones are anything else."""
    return ":ExportsOutput" in export


def slug(export: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", export).strip("-")


def version_at_least(version: str | None, minimum: tuple[int, ...]) -> bool | None:
    """None when the version is unknown."""
    if not version:
        return None
    numbers = tuple(int(n) for n in re.findall(r"\d+", version)[:3])
    return numbers >= minimum


def usages(finding: Finding) -> str:
    """Where the consumers use the export, six at most."""
    sites = sorted({u.construct_path or f"{u.stack} {u.path}" for u in finding.usages})
    return ", ".join(sites[:6]) + (f" and {len(sites) - 6} more" if len(sites) > 6 else "")
