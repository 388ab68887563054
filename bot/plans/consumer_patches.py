"""Patches to a consumer's use of a producer's value: drop it, or read it from SSM. Pure.

A finding names each usage by its template path (``/Resources/Fn/Properties/Layers/0``,
``.../Environment/Variables/QUEUE_ARN``) and the construct that holds it. The construct's
creating statement (``bot.plans.patches.statement``) is searched for the source expression that
produced that template value:

- ``Environment/Variables/<KEY>``: the value of the ``KEY`` entry of the props' dict or
  object literal;
- ``<Prop>/<n>`` (a list property): the list element that names the producer's member
  (``compute.strands_layer``), else the n-th element;
- ``<Prop>``: the keyword argument (``prop=...``, ``prop: ...``).

Dropping removes that entry, element or argument; the SSM switch replaces the expression
with a read of the parameter (a string attribute) or with ``<Type>.from_<x>_arn(...)`` of
that read (the producer's object). Anything else gives ``None``: the caller describes the
edit. Every patch is checked for real by synthesis (``bot.plans.verify``), never trusted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.model import Change, Usage
from bot.plans import patches, snippets
from bot.plans.patches import SourceSite

# (resource type, exported L2 attribute) -> (module, class, static method taking that value).
_FROM_VALUE = {
    ("AWS::Lambda::LayerVersion", "layer_version_arn"): ("aws_lambda", "LayerVersion", "from_layer_version_arn"),
    ("AWS::SQS::Queue", "queue_arn"): ("aws_sqs", "Queue", "from_queue_arn"),
    ("AWS::SNS::Topic", "topic_arn"): ("aws_sns", "Topic", "from_topic_arn"),
    ("AWS::S3::Bucket", "bucket_name"): ("aws_s3", "Bucket", "from_bucket_name"),
    ("AWS::S3::Bucket", "bucket_arn"): ("aws_s3", "Bucket", "from_bucket_arn"),
    ("AWS::DynamoDB::Table", "table_name"): ("aws_dynamodb", "Table", "from_table_name"),
    ("AWS::DynamoDB::Table", "table_arn"): ("aws_dynamodb", "Table", "from_table_arn"),
    ("AWS::Lambda::Function", "function_arn"): ("aws_lambda", "Function", "from_function_arn"),
}


@dataclass(frozen=True)
class Span:
    """Where a usage's expression is: ``entry`` is what dropping removes, ``value`` the expression."""

    entry: tuple[int, int]
    value: tuple[int, int]


def usage_span(site: SourceSite, usage: Usage, member: str | None) -> Span | None:
    """The source span of ``usage`` inside the statement that creates its construct."""
    stmt = patches.statement(site)
    if stmt is None:
        return None
    text = site.text
    start = sum(len(line) + 1 for line in text.split("\n")[: stmt.first])
    opening = text.find("(", start)
    end = _close(text, opening)
    if opening < 0 or end is None:
        return None
    if site.language != "python":  # TypeScript/JavaScript: the props are an object literal argument
        props_at = _props_object(text, opening, end)
        if props_at is None:
            return None
        opening, end = props_at
    parts = [p for p in usage.path.split("/") if p]
    if "Properties" not in parts:
        return None
    props = parts[parts.index("Properties") + 1:]
    if len(props) >= 3 and props[:2] == ["Environment", "Variables"]:
        return _entry(text, opening, end, "environment", props[2], site.language)
    if not props:
        return None
    name = _prop_name(props[0], site.language)
    argument = _entry(text, opening, end, None, name, site.language)
    if argument is None:
        return None
    if len(props) == 2 and props[1].isdigit():
        lo, hi = argument.value
        if lo >= hi or text[lo] != "[":
            return None
        elements = _elements(text, lo)
        if elements is None:
            return None
        if member:
            named = [e for e in elements if re.search(rf"\.{re.escape(member)}\b", text[e[0]:e[1]])]
            if len(named) == 1:
                return _in_list(text, named[0], elements)
        index = int(props[1])
        return _in_list(text, elements[index], elements) if index < len(elements) else None
    return argument if len(props) == 1 else None


def drop_reference_patch(site: SourceSite, usages: list[Usage], member: str | None) -> Change | None:
    """Remove each usage's expression (its entry, element or argument) from the source."""
    spans = [usage_span(site, u, member) for u in usages]
    if not spans or any(s is None for s in spans):
        return None
    cuts = {s.entry: "" for s in spans if s is not None}
    return _patch(site, cuts)


def ssm_read_patch(site: SourceSite, usages: list[Usage], member: str | None, parameter: str,
                   resource_type: str, attribute: str) -> Change | None:
    """Replace each usage's expression with a read of the SSM parameter ``parameter``.

    The expression is the producer's attribute (``producer.queue.queue_arn``): it becomes
    ``ssm.StringParameter.value_for_string_parameter(self, ...)``. It is the producer's
    object (``compute.strands_layer``): it becomes ``LayerVersion.from_layer_version_arn``
    of that read, in the module the file already imports. None otherwise.
    """
    language = site.language
    if language not in ("python", "typescript", "javascript"):
        return None
    read = snippets.ssm_read(snippets.this(language), parameter, language)
    cuts: dict[tuple[int, int], str] = {}
    for usage in usages:
        span = usage_span(site, usage, member)
        if span is None:
            return None
        expression = site.text[span.value[0]:span.value[1]].strip()
        if re.search(rf"\.{re.escape(snippets.member(attribute, language))}$", expression):
            cuts[span.value] = read
            continue
        found = _FROM_VALUE.get((resource_type, attribute))
        alias = _module_alias(site.text, found[0], language) if found else None
        if found is None or alias is None:
            return None
        _, cls, method = found
        # One imported construct per usage: several usages in one stack need distinct ids.
        holder = [s for s in (usage.construct_path or "").split("/") if s not in ("Resource", "Default")][-1:]
        pascal = "".join(word[:1].upper() + word[1:] for word in (member or cls).split("_"))
        construct_id = snippets.string(f"CdkExportGuard{pascal}{''.join(holder)}", language)
        cuts[span.value] = (f"{alias}.{cls}.{snippets.member(method, language)}"
                            f"({snippets.this(language)}, {construct_id}, {read})")
    change = _patch(site, cuts)
    if change is None or change.diff is None:
        return None
    return patches.with_ssm_import(site, change)


def _patch(site: SourceSite, cuts: dict[tuple[int, int], str]) -> Change | None:
    text = site.text
    ordered = sorted(cuts.items(), reverse=True)
    for ((later, _), _), ((_, earlier_end), _) in zip(ordered, ordered[1:], strict=False):
        if earlier_end > later:
            return None  # overlapping spans: the usages are not separate expressions
    after = text
    for (lo, hi), replacement in ordered:
        after = after[:lo] + replacement + after[hi:]
    # A line left holding only whitespace by a cut goes too.
    before_lines, after_lines = text.split("\n"), after.split("\n")
    kept = [line for line in after_lines if line.strip() or line in before_lines]
    after = "\n".join(kept)
    if after == text:
        return None
    return Change("patch", path=site.path, diff=patches.diff(site.path, text, after))


def _prop_name(prop: str, language: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", prop).lower()
    return snippets.member(snake, language)


def _entry(text: str, lo: int, hi: int, within: str | None, key: str, language: str) -> Span | None:
    """The ``key=value`` / ``key: value`` / ``"key": value`` entry at depth 1 of ``text[lo:hi]``
    (inside the ``within`` argument's literal when given)."""
    if within is not None:
        outer = _entry(text, lo, hi, None, snippets.member(within, language), language)
        if outer is None or outer.value[0] >= outer.value[1] or text[outer.value[0]] != "{":
            return None
        lo, hi = outer.value[0], outer.value[1] - 1
        pattern = rf"(?:(['\"]){re.escape(key)}\1|\b{re.escape(key)}\b)\s*:\s*"
    elif language == "python":
        pattern = rf"\b{re.escape(key)}\s*=(?!=)\s*"
    else:
        pattern = rf"\b{re.escape(key)}\s*:\s*"
    quiet = patches.strings_and_comments(text)
    for match in re.compile(pattern).finditer(text, lo + 1, hi):
        if quiet(match.start()) or _depth(text, lo, match.start()) != 1:
            continue
        value_end = _expression_end(text, match.end(), hi)
        entry = _with_separator(text, match.start(), value_end)
        return Span(entry, (match.end(), value_end))
    return None


def _props_object(text: str, opening: int, end: int) -> tuple[int, int] | None:
    """The ``{ ... }`` argument of the call whose parentheses are ``opening``..``end``."""
    quiet = patches.strings_and_comments(text)
    for i in range(opening + 1, end):
        if text[i] == "{" and not quiet(i) and _depth(text, opening, i) == 1:
            close = _close(text, i)
            return (i, close) if close is not None else None
    return None


def _depth(text: str, lo: int, at: int) -> int:
    quiet = patches.strings_and_comments(text)
    depth = 0
    for i in range(lo, at):
        if quiet(i):
            continue
        if text[i] in "([{":
            depth += 1
        elif text[i] in ")]}":
            depth -= 1
    return depth


def _expression_end(text: str, start: int, limit: int) -> int:
    """Offset after the expression at ``start``: the next depth-0 ``,`` or closing bracket."""
    quiet = patches.strings_and_comments(text)
    depth = 0
    i = start
    while i < limit:
        char = text[i]
        if not quiet(i):
            if char in "([{":
                depth += 1
            elif char in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                break
        i += 1
    while i > start and text[i - 1] in " \t\n":
        i -= 1
    return i


def _elements(text: str, opening: int) -> list[tuple[int, int]] | None:
    closing = _close(text, opening)
    if closing is None:
        return None
    out = []
    i = opening + 1
    while i < closing:
        while i < closing and text[i] in " \t\n,":
            i += 1
        if i >= closing:
            break
        end = _expression_end(text, i, closing)
        out.append((i, end))
        i = end + 1 if end > i else i + 1
    return out


def _in_list(text: str, element: tuple[int, int], elements: list[tuple[int, int]]) -> Span:
    return Span(_with_separator(text, element[0], element[1]), element)


def _with_separator(text: str, lo: int, hi: int) -> tuple[int, int]:
    """Extend ``[lo, hi)`` over the following comma (and spaces), else the preceding one."""
    match = re.compile(r"\s*,[ \t]*").match(text, hi)
    if match:
        return lo, match.end()
    before = re.search(r",\s*$", text[:lo])
    return (before.start(), hi) if before else (lo, hi)


def _close(text: str, opening: int) -> int | None:
    if opening < 0:
        return None
    end = patches.matching(text, opening)
    return end


def _module_alias(text: str, module: str, language: str) -> str | None:
    """How the file names an aws-cdk-lib module (``from aws_cdk import aws_lambda as lambda_``)."""
    if language == "python":  # one line, or inside `from aws_cdk import (...)`
        match = re.search(rf"^\s*from\s+aws_cdk\s+import\s+(?:\([^)]*?)?\b{module}\s+as\s+(\w+)", text, re.M)
        return match.group(1) if match else None
    path = module.replace("_", "-")
    match = re.search(rf"import\s+\*\s+as\s+(\w+)\s+from\s+['\"]aws-cdk-lib/{path}['\"]", text) or \
        re.search(rf"(\w+)\s*=\s*require\(\s*['\"]aws-cdk-lib/{path}['\"]\s*\)", text)
    return match.group(1) if match else None
