"""Unified-diff patches against a CDK app's source, for the edits plans ask for. Pure.

Works on the text of the file where a construct (or a stack) is created, found by
``bot.plans.source``: the statement is delimited by matching its parentheses, its assigned
name is read from the line that starts it, and new lines are inserted right after it
with the same indentation. Python and TypeScript/JavaScript are patched; other
languages get ``None`` and the caller describes the edit instead.

The public functions (``export_value_patch``, ``add_dependency_patch``) are the
interface other planners reuse (CDK Pipelines, issue #11).
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.model import Change
from bot.plans import snippets

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
    closing = matching(site.text, opening)
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


def matching(text: str, opening: int) -> int | None:
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
    """A unified diff (``a/`` and ``b/`` prefixes, as `git apply` and `patch -p1` take).

    A last line without a newline (a file that does not end with one, common in
    TypeScript apps) gets git's ``\\ No newline at end of file`` marker: without it the
    line would run into the next diff line and no tool could apply the patch."""
    old = _lines(before)
    lines = difflib.unified_diff(old, _endings_like(old, _lines(after)), f"a/{path}", f"b/{path}", n=3)
    return "".join(line if line.endswith("\n") else line + _NO_NEWLINE for line in lines)


_NO_NEWLINE = "\n\\ No newline at end of file\n"


def _endings_like(before: list[str], after: list[str]) -> list[str]:
    """``after`` with its new and rewritten lines ending in ``\\r\\n`` when most of ``before``'s
    lines do (a file written on Windows): the edits are made line by line with ``\\n``, and
    a file with mixed endings is not what anyone wants to commit."""
    if sum(line.endswith("\r\n") for line in before) * 2 <= len(before):
        return after
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        for line in after[j1:j2]:
            crlf = tag != "equal" and line.endswith("\n") and not line.endswith("\r\n")
            out.append(line[:-1] + "\r\n" if crlf else line)
    return out


def _lines(text: str) -> list[str]:
    """``text``'s lines with their ``\\n``, split at ``\\n`` only, as git does (``str.splitlines``
    also splits at form feeds and Unicode separators, which may sit inside a string literal)."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


@dataclass(frozen=True)
class _Edit:
    """Insert ``lines`` after line ``after`` (0-based); optionally rewrite line ``first`` before."""

    after: int
    lines: tuple[str, ...]
    first: int | None = None
    first_text: str | None = None


def _apply(text: str, edits: list[_Edit]) -> str:
    lines = text.split("\n")
    for edit in edits:  # rewrites keep line numbers: do them first
        if edit.first is not None and edit.first_text is not None:
            lines[edit.first] = edit.first_text
    for edit in sorted(edits, key=lambda e: e.after, reverse=True):
        if edit.lines:
            lines[edit.after + 1 : edit.after + 1] = list(edit.lines)
    return "\n".join(lines)


def _name_edit(stmt: Statement, name: str) -> tuple[int, str]:
    """Line ``stmt.first`` rewritten to assign the construct to ``name``."""
    keyword = "" if stmt.site.language == "python" else "const "
    line = stmt.site.text.split("\n")[stmt.first]
    return stmt.first, f"{stmt.indent}{keyword}{name} = {line[len(stmt.indent):]}"


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
    return export_values_patch([(site, construct_id, attribute, export_name)])


def export_values_patch(items: list[tuple[SourceSite, str, str, str | None]]) -> Change | None:
    """``export_value_patch`` for several constructs of one file, as one diff."""
    if not items or len({(s.path, s.text) for s, _, _, _ in items}) != 1:
        return None
    edits = []
    for site, construct_id, attribute, export_name in items:
        stmt = statement(site)
        if stmt is None:
            return None
        language = site.language
        first = first_text = None
        name = stmt.target
        if name is None:
            name = snippets.variable(construct_id, language)
            first, first_text = _name_edit(stmt, name)
        code = snippets.export_value(snippets.this(language), f"{name}.{snippets.member(attribute, language)}",
                                     language, export_name)
        note = f"{_comment(language)} cdk-export-guard: keep this export one release, then remove this line"
        edits.append(_Edit(stmt.last, (stmt.indent + note, stmt.indent + code), first, first_text))
    site = items[0][0]
    return Change("patch", path=site.path, diff=diff(site.path, site.text, _apply(site.text, edits)))


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
    names = {}
    edits = []
    for stmt, stack_id in ((c_stmt, consumer_id), (p_stmt, producer_id)):
        if stmt.target:
            names[stack_id] = stmt.target
            continue
        names[stack_id] = _stack_variable(stack_id, consumer.language, consumer.text, set(names.values()))
        first, first_text = _name_edit(stmt, names[stack_id])
        edits.append(_Edit(-2, (), first, first_text))
    later = c_stmt if c_stmt.last >= p_stmt.last else p_stmt
    code = snippets.add_dependency(names[consumer_id], names[producer_id], consumer.language)
    note = f"{_comment(consumer.language)} cdk-export-guard: declares the deploy order"
    edits.append(_Edit(later.last, (later.indent + note, later.indent + code)))
    after = _apply(consumer.text, edits)
    return Change("patch", path=consumer.path, diff=diff(consumer.path, consumer.text, after))


def _stack_variable(stack_id: str, language: str, text: str, taken: set[str]) -> str:
    """A new variable for a stack created without one: ``Componenet1Stack`` gives
    ``componenet1Stack`` (not ``componenet1StackStack``), ``Admin`` gives ``adminStack``; a
    name the file already uses gets a number."""
    suffix = "_stack" if language == "python" else "Stack"
    name = snippets.variable(stack_id, language)
    if not name.lower().endswith(suffix.lower().lstrip("_")):
        name += suffix
    candidate, number = name, 2
    while candidate in taken or re.search(rf"(?<![\w$]){re.escape(candidate)}(?![\w$])", text):
        candidate, number = f"{name}{number}", number + 1
    return candidate


def declares_dependency(consumer: SourceSite, producer: SourceSite) -> bool:
    """Whether the file already says ``<consumer>.add_dependency(<producer>)`` for these two stacks."""
    c_stmt, p_stmt = statement(consumer), statement(producer)
    if consumer.path != producer.path or c_stmt is None or p_stmt is None or not c_stmt.target \
            or not p_stmt.target:
        return False
    call = snippets.add_dependency(c_stmt.target, p_stmt.target, consumer.language).rstrip(";")
    return re.search(re.escape(call).replace(r"\(", r"\(\s*").replace(r"\)", r"\s*\)"), consumer.text) is not None


_IMPORT_VALUE = (
    r"(?:[A-Za-z_$][\w$]*\.)?Fn\.(?:import_value|importValue|ImportValue)\(\s*"
    r"(?:jsii\.String\(\s*(['\"]){name}\1\s*\)|(['\"]){name}\2)\s*\)"
)
_SSM_IMPORT = {
    "python": "from aws_cdk import aws_ssm as ssm",
    "typescript": "import * as ssm from 'aws-cdk-lib/aws-ssm';",
    "javascript": "const ssm = require('aws-cdk-lib/aws-ssm');",
}
_HAS_SSM = {
    "python": re.compile(r"^\s*from\s+aws_cdk\s+import\s+[^\n]*\baws_ssm\s+as\s+ssm\b", re.M),
    "typescript": re.compile(r"\bas\s+ssm\s+from\s+['\"]aws-cdk-lib/aws-ssm['\"]"),
    "javascript": re.compile(r"\bssm\s*=\s*require\(\s*['\"]aws-cdk-lib/aws-ssm['\"]"),
}


def ssm_switch_patches(producer: SourceSite, construct_id: str, attribute: str, parameter: str,
                       export_name: str, readers: list[SourceSite]) -> list[Change] | None:
    """Move readers of a hand-named export to an SSM parameter the producer writes.

    The producer gets ``ssm.StringParameter(...)`` with the exported attribute after the
    construct's creation (its CfnOutput export stays: it is hand-written); each
    ``Fn.import_value("<export_name>")`` in ``readers`` becomes
    ``ssm.StringParameter.value_for_string_parameter(self, "<parameter>")``. One diff per
    file; the ``ssm`` module import is added where missing. None when a statement cannot
    be delimited or no import of the name is found.
    """
    stmt = statement(producer)
    if stmt is None or producer.language not in _SSM_IMPORT:
        return None
    files: dict[str, tuple[SourceSite, list[_Edit]]] = {producer.path: (producer, [])}
    language = producer.language
    name = stmt.target
    if name is None:
        name = snippets.variable(construct_id, language)
        first, first_text = _name_edit(stmt, name)
        files[producer.path][1].append(_Edit(-2, (), first, first_text))
    write = snippets.ssm_write(snippets.this(language), "CdkExportGuardParameter" + construct_id, parameter,
                               f"{name}.{snippets.member(attribute, language)}", language)
    files[producer.path][1].append(_Edit(stmt.last, (stmt.indent + write,)))
    pattern = re.compile(_IMPORT_VALUE.replace("{name}", re.escape(export_name)))
    read = snippets.ssm_read(snippets.this(language), parameter, language)
    replaced = 0
    for reader in {r.path: r for r in readers}.values():
        if reader.language != language:
            return None
        site, edits = files.setdefault(reader.path, (reader, []))
        quiet = strings_and_comments(site.text)
        lines = site.text.split("\n")
        offset = 0
        for index, line in enumerate(lines):
            def swap(match: re.Match[str], start: int = offset, quiet: Callable[[int], bool] = quiet) -> str:
                return match.group(0) if quiet(start + match.start()) else read
            new = pattern.sub(swap, line)
            offset += len(line) + 1
            if new != line:
                edits.append(_Edit(-2, (), index, new))
                replaced += 1
    if not replaced:
        return None
    changes = []
    for site, edits in files.values():
        if not edits:
            continue
        if not _HAS_SSM[language].search(site.text):
            edits.append(_Edit(_last_import(site.text, language), (_SSM_IMPORT[language],)))
        after = _apply(site.text, edits)
        changes.append(Change("patch", path=site.path, diff=diff(site.path, site.text, after)))
    return changes


def ssm_write_patch(producer: SourceSite, construct_id: str, attribute: str, parameter: str,
                    keep_export: bool = False) -> Change | None:
    """The producer writes the exported attribute to the SSM parameter ``parameter`` (after
    the construct's creation); with ``keep_export``, also ``export_value`` of it for one
    release (the deployed consumers still import the automatic export). The ``ssm`` module
    import is added where missing. None when the statement cannot be delimited."""
    stmt = statement(producer)
    if stmt is None or producer.language not in _SSM_IMPORT:
        return None
    language = producer.language
    edits: list[_Edit] = []
    name = stmt.target
    if name is None:
        name = snippets.variable(construct_id, language)
        first, first_text = _name_edit(stmt, name)
        edits.append(_Edit(-2, (), first, first_text))
    value = f"{name}.{snippets.member(attribute, language)}"
    lines = [stmt.indent + snippets.ssm_write(snippets.this(language), "CdkExportGuardParameter" + construct_id,
                                              parameter, value, language)]
    if keep_export:
        note = f"{_comment(language)} cdk-export-guard: keep this export one release, then remove this line"
        lines += [stmt.indent + note, stmt.indent + snippets.export_value(snippets.this(language), value, language)]
    edits.append(_Edit(stmt.last, tuple(lines)))
    if not _HAS_SSM[language].search(producer.text):
        edits.append(_Edit(_last_import(producer.text, language), (_SSM_IMPORT[language],)))
    after = _apply(producer.text, edits)
    return Change("patch", path=producer.path, diff=diff(producer.path, producer.text, after))


def with_ssm_import(site: SourceSite, change: Change) -> Change:
    """``change`` (a patch of ``site``'s file) plus the ``ssm`` module import where missing."""
    assert change.diff is not None
    if site.language not in _SSM_IMPORT or _HAS_SSM[site.language].search(site.text):
        return change
    after = apply(site.text, change.diff)
    after = _apply(after, [_Edit(_last_import(after, site.language), (_SSM_IMPORT[site.language],))])
    return Change("patch", path=site.path, diff=diff(site.path, site.text, after))


def merge(path: str, text: str, changes: list[Change]) -> Change | None:
    """One diff for several patches of the same file, each made against ``text``.

    Their edits (by line, from difflib) are combined when they do not overlap; the same
    insertion made twice (two patches adding the ``ssm`` import) is made once. None when
    two patches edit the same lines differently.
    """
    before = text.split("\n")
    ops: list[tuple[int, int, tuple[str, ...]]] = []
    for change in changes:
        if change.kind != "patch" or change.path != path or change.diff is None:
            return None
        after = apply(text, change.diff).split("\n")
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
            if tag != "equal" and (i1, i2, tuple(after[j1:j2])) not in ops:
                ops.append((i1, i2, tuple(after[j1:j2])))
    ops.sort(key=lambda op: (op[0], op[1]))
    out: list[str] = []
    position = 0
    for i1, i2, lines in ops:
        if i1 < position:
            return None
        out.extend(before[position:i1])
        out.extend(lines)
        position = i2
    out.extend(before[position:])
    return Change("patch", path=path, diff=diff(path, text, "\n".join(out)))


def merged_by_file(changes: list[Change], texts: dict[str, str]) -> list[Change] | None:
    """``merge`` per file (``texts``: each path's original text); descriptions pass through."""
    by_path: dict[str, list[Change]] = {}
    described: list[Change] = []
    for change in changes:
        if change.kind == "patch" and change.path is not None:
            by_path.setdefault(change.path, []).append(change)
        else:
            described.append(change)
    out: list[Change] = []
    for path, group in by_path.items():
        merged = group[0] if len(group) == 1 else merge(path, texts[path], group)
        if merged is None:
            return None
        out.append(merged)
    return out + described


def strings_and_comments(text: str) -> Callable[[int], bool]:
    """Whether an offset of ``text`` lies inside a string literal or a comment."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        if text.startswith(('"""', "'''"), i):
            end = text.find(text[i : i + 3], i + 3)
            end = len(text) if end < 0 else end + 3
        elif text[i] in "\"'`":
            end = i + 1
            while end < len(text) and text[end] != text[i] and text[end] != "\n":
                end += 2 if text[end] == "\\" else 1
            end += 1
        elif text[i] == "#" or text.startswith("//", i):
            newline = text.find("\n", i)
            end = len(text) if newline < 0 else newline
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            end = len(text) if close < 0 else close + 2
        else:
            i += 1
            continue
        spans.append((i, end))
        i = end
    starts = [a for a, _ in spans]

    def inside(offset: int) -> bool:
        index = bisect.bisect_right(starts, offset) - 1
        return index >= 0 and spans[index][0] < offset < spans[index][1]

    return inside


def _last_import(text: str, language: str) -> int:
    """0-based index of the last top-level import line (the new import goes after it)."""
    pattern = r"^(?:from\s+\S+\s+import\s|import\s)" if language == "python" else \
        r"^(?:import\s|const\s+\w+\s*=\s*require\()"
    last = -1
    for index, line in enumerate(text.split("\n")):
        if re.match(pattern, line) and not line.rstrip().endswith("("):
            last = index
    return last


def _comment(language: str) -> str:
    return "#" if language == "python" else "//"


class PatchError(Exception):
    """A diff does not apply to the text it is meant for."""


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def apply(text: str, unified: str) -> str:
    """Apply a unified diff of one file to ``text``, strictly: every context and removed
    line must match where the hunk says (no fuzz, no offset search). Lines are compared
    with their newline, as ``git apply`` does: a diff line followed by ``\\ No newline at
    end of file`` stands for a last line without one."""
    lines = _lines(text)
    out: list[str] = []
    position = 0  # next line of ``lines`` not yet copied
    diff_lines = unified.split("\n")
    i = 0
    while i < len(diff_lines):
        match = _HUNK.match(diff_lines[i])
        i += 1
        if not match:
            continue
        start = int(match.group(1)) - (0 if match.group(2) == "0" else 1)
        if start < position:
            raise PatchError("hunks overlap or are out of order")
        out.extend(lines[position:start])
        position = start
        while i < len(diff_lines) and not diff_lines[i].startswith("@@"):
            line = diff_lines[i]
            i += 1
            if line.startswith("\\"):
                continue
            no_newline = i < len(diff_lines) and diff_lines[i].startswith("\\")
            tag, body = line[:1], line[1:] + ("" if no_newline else "\n")
            if tag in (" ", "-"):
                if position >= len(lines) or lines[position] != body:
                    raise PatchError(f"line {position + 1} does not match the diff")
                if tag == " ":
                    out.append(body)
                position += 1
            elif tag == "+":
                out.append(body)
            elif line == "":
                continue
            else:
                raise PatchError(f"unexpected diff line {line[:40]!r}")
    out.extend(lines[position:])
    return "".join(out)


_PY_CDK_MODULE = re.compile(r"^\s*import\s+aws_cdk\s+as\s+(\w+)\s*$", re.M)
_PY_TAGS_NAME = re.compile(r"^\s*from\s+aws_cdk\s+import\s+(?:\([^)]*\bTags\b[^)]*\)|[^\n]*\bTags\b)", re.M)
_TS_CDK_MODULE = re.compile(r"import\s+\*\s+as\s+(\w+)\s+from\s+['\"]aws-cdk-lib['\"]")
_TS_TAGS_NAME = re.compile(r"import\s*\{[^}]*\bTags\b[^}]*\}\s*from\s+['\"]aws-cdk-lib['\"]")


def tag_patch(site: SourceSite, key: str, value: str) -> Change | None:
    """``Tags.of(<stack>).add(key, value)`` right after the stack is created: a change to
    every taggable resource of its template (for a consumer whose template must change).

    None when the statement has no variable or the file imports ``Tags`` in no known way.
    """
    stmt = statement(site)
    if stmt is None or stmt.target is None:
        return None
    text, language = site.text, site.language
    module = (_PY_CDK_MODULE if language == "python" else _TS_CDK_MODULE).search(text)
    if module is not None:
        tags = f"{module.group(1)}.Tags"
    elif (_PY_TAGS_NAME if language == "python" else _TS_TAGS_NAME).search(text):
        tags = "Tags"
    else:
        return None
    code = snippets.statement(
        f"{tags}.of({stmt.target}).add({snippets.string(key, language)}, {snippets.string(value, language)})",
        language)
    note = f"{_comment(language)} cdk-export-guard: changes this stack's template for one release, then remove"
    after = _apply(text, [_Edit(stmt.last, (stmt.indent + note, stmt.indent + code))])
    return Change("patch", path=site.path, diff=diff(site.path, text, after))
