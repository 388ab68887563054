"""Unified-diff patches against a CDK app's source, for the edits plans ask for. Pure.

Works on the text of the file where a construct (or a stack) is created, found by
``bot.source``: the statement is delimited by matching its parentheses, its assigned
name is read from the line that starts it, and new lines are inserted right after it
with the same indentation. Python and TypeScript/JavaScript are patched; other
languages get ``None`` and the caller describes the edit instead.

The public functions (``export_value_patch``, ``add_dependency_patch``) are the
interface other planners reuse (CDK Pipelines, issue #11).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from bot import snippets
from bot.model import Change

PATCHABLE = ("python", "typescript", "javascript")


@dataclass(frozen=True)
class SourceSite:
    """Where a construct is created: the file (relative to the app folder), its text, the line."""

    path: str
    language: str
    line: int  # 1-based line where the creating call starts
    text: str


@dataclass(frozen=True)
class Statement:
    site: SourceSite
    first: int  # 0-based index of the first line
    last: int  # 0-based index of the line holding the closing parenthesis (and `;`)
    indent: str
    target: str | None  # `self.layer`, `this.layer`, `layer`: what the construct is assigned to


_PY_TARGET = re.compile(r"^(?P<indent>\s*)(?:(?P<target>[A-Za-z_][\w.]*)\s*(?::[^=]+)?=(?!=)\s*)?")
_TS_TARGET = re.compile(
    r"^(?P<indent>\s*)(?:(?:export\s+)?(?:const|let|var)\s+)?"
    r"(?:(?P<target>[A-Za-z_$][\w.$]*)\s*(?::[^=]+)?=(?!=)\s*)?"
)


def statement(site: SourceSite) -> Statement | None:
    """The whole statement that starts at ``site.line``, or None when it cannot be delimited."""
    if site.language not in PATCHABLE:
        return None
    lines = site.text.split("\n")
    if not 1 <= site.line <= len(lines):
        return None
    first = site.line - 1
    offset = sum(len(line) + 1 for line in lines[:first])
    opening = site.text.find("(", offset)
    if opening < 0:
        return None
    closing = _matching(site.text, opening)
    if closing is None:
        return None
    last = site.text.count("\n", 0, closing)
    pattern = _PY_TARGET if site.language == "python" else _TS_TARGET
    match = pattern.match(lines[first])
    assert match is not None  # both patterns accept the empty prefix
    target = match.group("target")
    if target in ("return", "new", "yield", "await"):
        target = None
    return Statement(site, first, last, match.group("indent"), target)


def _matching(text: str, opening: int) -> int | None:
    """Offset of the parenthesis closing the one at ``opening``; strings and comments skipped."""
    depth = 0
    i = opening
    quote: str | None = None
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
        elif text.startswith(('"""', "'''"), i):
            quote = text[i : i + 3]
            i += 3
            continue
        elif char in "\"'`":
            quote = char
        elif char == "#" or text.startswith("//", i):
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
            continue
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def diff(path: str, before: str, after: str) -> str:
    """A unified diff (``a/`` and ``b/`` prefixes, as `git apply` and `patch -p1` take)."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}", n=3
        )
    )


def _named(stmt: Statement, construct_id: str) -> tuple[str, list[str]]:
    """The statement's assigned name, assigning one when the statement is a bare call."""
    lines = stmt.site.text.split("\n")
    if stmt.target:
        return stmt.target, lines
    name = snippets.variable(construct_id, stmt.site.language)
    keyword = "" if stmt.site.language == "python" else "const "
    line = lines[stmt.first]
    lines[stmt.first] = f"{stmt.indent}{keyword}{name} = {line[len(stmt.indent):]}"
    return name, lines


def _insert(stmt: Statement, lines: list[str], code: list[str]) -> str:
    end = stmt.last
    # `new X(...)` may end with `;` or `.build();` on the same line: insert after that line.
    out = [*lines[: end + 1], *(stmt.indent + c for c in code), *lines[end + 1 :]]
    return "\n".join(out)


def export_value_patch(
    site: SourceSite, construct_id: str, attribute: str, export_name: str | None = None
) -> Change | None:
    """Keep an export one more release: ``self.export_value(<construct>.<attribute>)`` after
    the construct's creation, inside the stack that creates it.

    ``attribute`` is the L2 property in snake_case (``layer_version_arn``); ``export_name``
    only for hand-named exports (without it CDK re-creates the automatic export name).
    The caller makes sure the construct is created directly in its stack's constructor, so
    ``self``/``this`` is that stack.
    """
    stmt = statement(site)
    if stmt is None:
        return None
    name, lines = _named(stmt, construct_id)
    language = site.language
    code = snippets.export_value(snippets.this(language), f"{name}.{snippets.member(attribute, language)}",
                                 language, export_name)
    after = _insert(stmt, lines, [f"{_comment(language)} cdk-export-guard: keep this export one release, "
                                  "then remove this line", code])
    return Change("patch", path=site.path, diff=diff(site.path, site.text, after))


def add_dependency_patch(consumer: SourceSite, producer: SourceSite, consumer_id: str,
                         producer_id: str) -> Change | None:
    """``consumer.add_dependency(producer)`` after both stacks are created (same file).

    A stack created without a name gets one. None when the two are created in different
    files or the statements cannot be delimited.
    """
    if consumer.path != producer.path or consumer.text != producer.text:
        return None
    c_stmt, p_stmt = statement(consumer), statement(producer)
    if c_stmt is None or p_stmt is None:
        return None
    lines = consumer.text.split("\n")
    names = {}
    for stmt, stack_id in ((c_stmt, consumer_id), (p_stmt, producer_id)):
        if stmt.target:
            names[stack_id] = stmt.target
        else:
            names[stack_id] = snippets.variable(stack_id, consumer.language) + "_stack" \
                if consumer.language == "python" else snippets.variable(stack_id, consumer.language) + "Stack"
            keyword = "" if consumer.language == "python" else "const "
            lines[stmt.first] = f"{stmt.indent}{keyword}{names[stack_id]} = {lines[stmt.first][len(stmt.indent):]}"
    later = c_stmt if c_stmt.last >= p_stmt.last else p_stmt
    code = snippets.add_dependency(names[consumer_id], names[producer_id], consumer.language)
    after = _insert(later, lines, [f"{_comment(consumer.language)} cdk-export-guard: deploy order, "
                                   "temporary", code])
    return Change("patch", path=consumer.path, diff=diff(consumer.path, consumer.text, after))


def _comment(language: str) -> str:
    return "#" if language == "python" else "//"
