"""A `cdk deploy` found in a repository file, and how to rewrite it in place. Pure.

`bot.plans.deploy_scan` finds the sites (I/O); the planner checks them and proposes edits.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from bot.core.model import PipelineEdit
from bot.plans.deploy_command import DeployCommand


class EditError(ValueError):
    """A deploy site cannot be rewritten in place; the message says why, in one line."""


@dataclass(frozen=True)
class Quoting:
    """How the command text is encoded at its site.

    ``kind``: ``none`` (shell text as is), ``yaml-plain``, ``yaml-single``,
    ``yaml-double``, ``json``, ``python`` or ``js``; ``quote`` is the literal's
    delimiter (``'``, ``\"\"\"``, a backquote); ``raw`` marks a Python ``r''`` literal.
    """

    kind: str = "none"
    quote: str = ""
    raw: bool = False


@dataclass(frozen=True)
class DeploySite:
    """One ``cdk deploy`` found in a repository file.

    ``line``/``column`` is where the command starts (1-based line, 0-based column);
    ``end_line``/``end_column`` is just past its last character. ``source`` holds the
    file lines ``line..end_line``; it is empty when the command could not be mapped
    to exact columns (then it cannot be edited in place).
    """

    path: str  # repo-relative, posix
    line: int
    text: str  # the full source line `line`
    command: DeployCommand
    origin: str
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    source: tuple[str, ...] = ()
    quoting: Quoting = Quoting()


def propose_edit(site: DeploySite, new_command: str) -> PipelineEdit:
    """The site's line(s) with its deploy command replaced by ``new_command``.

    Indentation, the rest of the line and the enclosing literal are kept; the new
    command is escaped for that literal. Raises EditError when that is impossible.
    """
    if not site.source:
        raise EditError(f"{site.path}:{site.line}: the command's exact position is unknown")
    first, last = site.source[0], site.source[-1]
    replacement = _encode(new_command, site.quoting, site)
    after = first[: site.column] + replacement + last[site.end_column :]
    return PipelineEdit(site.path, site.line, "\n".join(site.source), after)


def _encode(command: str, quoting: Quoting, site: DeploySite) -> str:
    where = f"{site.path}:{site.line}"
    if "\n" in command or "\r" in command:
        raise EditError(f"{where}: the new command must be one line")
    kind, quote = quoting.kind, quoting.quote
    if kind == "none":
        return command
    if kind == "yaml-plain":
        if re.search(r":(\s|$)|\s#", command) or command[:1] in "!&*[]{}|>'\"%@`#,?:-":
            raise EditError(f"{where}: the new command is not a valid plain YAML scalar")
        return command
    if kind == "yaml-single":
        return command.replace("'", "''")
    if kind in ("yaml-double", "json"):
        return json.dumps(command, ensure_ascii=False)[1:-1]
    if kind == "python" and quoting.raw:
        if quote[0] in command or command.endswith("\\"):
            raise EditError(f"{where}: the new command cannot be written in a raw {quote} string")
        return command
    escaped = command.replace("\\", "\\\\").replace(quote[0], "\\" + quote[0])
    if kind == "js" and quote == "`":
        escaped = escaped.replace("${", "\\${")
    return escaped


def unified_diff(edit: PipelineEdit) -> str:
    """A one-hunk unified diff of the edit, without context lines (``git apply`` reads it)."""
    before, after = edit.before.split("\n"), edit.after.split("\n")

    def span(count: int) -> str:
        return f"{edit.line}" if count == 1 else f"{edit.line},{count}"

    lines = [
        f"--- a/{edit.path}",
        f"+++ b/{edit.path}",
        f"@@ -{span(len(before))} +{span(len(after))} @@",
        *(f"-{line}" for line in before),
        *(f"+{line}" for line in after),
    ]
    return "\n".join(lines) + "\n"
