"""The pull-request comment: GitHub-flavoured Markdown from Jinja2 templates.

``render(result)`` fills ``templates/comment.md.j2``. Its parts are named blocks a
user can override one by one: save a template named ``custom.md.j2`` in
``template_dir`` that starts with ``{% extends "comment.md.j2" %}`` and redefines
only the blocks to change (``{{ super() }}`` keeps the packaged content). A
``comment.md.j2`` in ``template_dir`` replaces the packaged template whole; other
templates there can be ``{% include %}``d. The loader looks in ``template_dir``
first, then in the package.

Blocks, in order (``scoped`` ones see the loop variables named after them). The comment
reads top-down for a reviewer: the verdict and one table row per finding first, then each
finding with its fix first; anything long is folded.

``header``          marker comment, headline with counts, one-line verdict
``summary``         one row per finding: severity, producer → consumers, what changes, first step
``blockers``        the blocker findings; ``warnings`` and ``notices`` likewise
``finding``         one finding (scoped: ``finding``)
``fix``             the remediation plan's steps (scoped: ``finding``)
``causes``          why: what changes, CloudFormation's error once, the causes (scoped: ``finding``)
``usages``          consumer usage sites, folded when many (scoped: ``finding``)
``notes``           assembly problems reported by the loader
``stacks_summary``  per-stack change counts, (block ``graph``) a Mermaid flowchart of the
                    edges at risk and (block ``footer``) the tool version and the assemblies'
                    manifest and aws-cdk-lib versions (no paths), folded in ``<details>``

Every value that comes from an assembly goes through a filter from
``bot.render.escape`` (``md``, ``code``, ``tcode``, ``codeblock``, ``prose``,
``mlabel``); Jinja2 runs with ``autoescape=False`` because HTML escaping is not
Markdown escaping. Overriding templates should use the same filters.

The first line is always ``<!-- cdk-export-guard -->`` so the Action can find and
edit its own comment. A comment longer than GitHub's limit is re-rendered without
the graph, the alternatives and the stack table, then cut.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__
from bot.core.lazy import lazy_module
from bot.core.model import AnalysisResult, Finding, PipelineEdit, Severity
from bot.render import escape, levels

if TYPE_CHECKING:
    import jinja2
    import jinja2.sandbox
else:
    jinja2 = lazy_module("jinja2")  # the text and JSON formats never need it

MARKER = "<!-- cdk-export-guard -->"
TEMPLATE = "comment.md.j2"
CUSTOM_TEMPLATE = "custom.md.j2"  # a user's block overrides, if template_dir has one
PACKAGE_TEMPLATES = Path(__file__).parent / "templates"
MAX_LENGTH = 65_536  # GitHub's limit for an issue comment body
TRUNCATED = (
    "\n\n_… cut to fit GitHub's comment size limit; run `cdk-export-guard analyze` for the "
    "full report._\n"
)

ICONS: Mapping[str, str] = {"blocker": "🛑", "warning": "⚠️", "notice": "ℹ️"}
CAUSE_ICONS: Mapping[str, str] = {
    "asset-changed": "📦",
    "property-changed": "✏️",
    "resource-replaced": "🔁",
    "resource-may-be-replaced": "🔁",
    "unknown-resource-type": "❓",
    "type-changed": "🔁",
    "logical-id-changed": "🆔",
    "resource-removed": "🗑️",
    "output-value-changed": "➡️",
    "output-value-may-change": "➡️",
    "output-removed": "🗑️",
    "nested-output-changed": "➡️",
    "import-dropped": "↩️",
    "stack-removed": "🗑️",
    "reference-added": "➕",
    "external-import": "🌐",
}
EDGE_COLORS: Mapping[str, str] = {"blocker": "#cf222e", "warning": "#bf8700", "notice": "#0969da"}
_CFN_ERROR = re.compile(r'"((?:Cannot update export |Export |No export named )[^"]*)"')
_FENCE = re.compile(r"^(`{3,})(?!.*`)|^(~{3,})")  # a backtick fence's info has no backtick
MAX_GRAPH_EDGES = 100  # beyond this the diagram is unreadable (and Mermaid has limits)
FOLD_USAGES_OVER = 3  # more usage sites than this are folded under <details>
MAX_FIRST_STEP = 70  # characters of a step title in the summary table
# What changes, in about five words, per rule (the summary table's third column).
_WHAT_CHANGES: Mapping[str, str] = {
    "export-value-change-in-use": "export value changes",
    "export-value-may-change-in-use": "export value may change",
    "export-removed-in-use": "export removed while imported",
    "import-missing-export": "imported export does not exist",
    "weak-reference-stale": "consumer would keep stale value",
    "new-reference-order": "new reference: producer first",
    "export-in-use-outside-app": "export imported outside this app",
}
_REPLACING_CAUSES = ("resource-replaced", "resource-may-be-replaced", "type-changed", "logical-id-changed")


@dataclass(frozen=True)
class Section:
    severity: str  # blocker | warning | notice
    icon: str
    heading: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class GraphEdge:
    index: int  # position among the edges, for Mermaid's linkStyle
    source: str
    target: str
    label: str
    severity: str
    color: str


@dataclass(frozen=True)
class Graph:
    nodes: tuple[tuple[str, str], ...]  # (node id, stack name)
    edges: tuple[GraphEdge, ...]


@dataclass
class _GraphBuilder:
    nodes: dict[tuple[str, str], str] = field(default_factory=dict)
    edges: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def node(self, environment: str, name: str) -> str:
        return self.nodes.setdefault((environment, name), f"s{len(self.nodes)}")


def render(
    result: AnalysisResult,
    *,
    template_dir: Path | None = None,
    title: str | None = None,
) -> str:
    """The comment body for ``result``; ``template_dir`` templates override blocks."""
    env = _environment(template_dir)
    template = env.get_or_select_template([CUSTOM_TEMPLATE, TEMPLATE])
    text = _render(template, result, title, compact=False)
    if len(text) > MAX_LENGTH:
        text = _render(template, result, title, compact=True)
    if len(text) > MAX_LENGTH:
        text = _cut(text, MAX_LENGTH - len(TRUNCATED)) + TRUNCATED
    return text


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending on a line break with fences and <details> closed."""
    head = text[: text.rfind("\n", 0, max(limit - 200, 0)) + 1]  # 200: room for the closers
    fence = _open_fence(head)
    tail = f"{fence}\n" if fence else ""
    # The template never nests <details>, so at most one is open.
    tail += "\n</details>\n" * max(head.count("<details>") - head.count("</details>"), 0)
    return head + tail


def _render(template: jinja2.Template, result: AnalysisResult, title: str | None,
            *, compact: bool) -> str:
    sections = [
        Section(s.label, ICONS[s.label], s.label.capitalize() + "s",
                tuple(f for f in result.findings if f.severity is s))
        for s in sorted(Severity, reverse=True)
    ]
    text = template.render(
        result=result,
        ordered_findings=[f for s in sections for f in s.findings],
        fold_usages_over=FOLD_USAGES_OVER,
        several_environments=len({f.environment for f in result.findings}) > 1,
        title=title or "cdk-export-guard",
        version=__version__,
        marker=MARKER,
        counts={s.label: result.count(s) for s in Severity},
        sections={s.severity: s for s in sections},
        graph=build_graph(result.findings),
        icons=ICONS,
        cause_icons=CAUSE_ICONS,
        compact=compact,
        max_graph_edges=MAX_GRAPH_EDGES,
    )
    text = _tidy(text)
    if not text.startswith(MARKER + "\n"):  # an override dropped it: the Action needs it
        text = f"{MARKER}\n{text}"
    return text


@functools.cache
def _environment(template_dir: Path | None) -> jinja2.Environment:
    """One environment per template folder: building one and compiling the template took
    0.33 s, on every render. Jinja reloads a template whose file changed (auto_reload)."""
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(template_dir)))
    loaders.append(jinja2.FileSystemLoader(str(PACKAGE_TEMPLATES)))
    # Sandboxed: a custom template is text, not code (no attribute walks to Python's internals).
    env = jinja2.sandbox.SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        md=escape.markdown,
        code=escape.code_span,
        tcode=lambda text: escape.code_span(text, table=True),
        codeblock=escape.code_block,
        prose=escape.prose,
        mlabel=escape.mermaid_label,
        short=escape.short_hash,
        plural=_plural,
        diff_lines=_diff_lines,
        is_staging=_is_staging,
    )
    env.globals.update(cfn_errors=cloudformation_errors, count_of=_plural, level_of=levels.describe,
                       level_short=levels.short, what_changes=what_changes, first_step=first_step)
    return env


def _is_staging(path: object) -> bool:
    """``asset.<64 hex>``: a staged asset folder in cdk.out, which says nothing the hash does not."""
    return isinstance(path, str) and re.fullmatch(r"asset\.[0-9a-f]{64}(\.\w+)?", path) is not None


def _diff_lines(edit: PipelineEdit) -> str:
    """A pipeline edit as unified-diff body lines (every old line `-`, every new line `+`)."""
    return "\n".join([*("-" + line for line in edit.before.split("\n")),
                      *("+" + line for line in edit.after.split("\n"))])


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def cloudformation_errors(finding: Finding) -> list[str]:
    """The CloudFormation error messages quoted in the finding's message."""
    return _CFN_ERROR.findall(finding.message)


def what_changes(finding: Finding) -> str:
    """About five words: the replaced resource when one is the reason, else the rule's gist."""
    gist = _WHAT_CHANGES.get(finding.rule, finding.rule)
    for cause in finding.causes:
        resource = cause.details.get("resource")
        if cause.kind in _REPLACING_CAUSES and isinstance(resource, str) and resource:
            verb = "may be replaced" if cause.kind == "resource-may-be-replaced" else "replaced"
            return f"{resource} {verb}: {gist}"
    return gist


def first_step(finding: Finding) -> tuple[str, str]:
    """The fix's first move for the summary table: ("text" | "command", what to show)."""
    plan = finding.remediation
    if plan is None or not plan.steps:
        return "text", "see below"
    if plan.strategy.startswith("split"):
        return "text", "split into two PRs"
    step = plan.steps[0]
    if step.kind == "deploy" and step.commands and not step.code:
        return "command", step.commands[0]
    title = step.title if len(step.title) <= MAX_FIRST_STEP else step.title[: MAX_FIRST_STEP - 1] + "…"
    return "text", title


def build_graph(findings: Iterable[Finding]) -> Graph:
    """Producer -> consumer edges of the findings, labelled with the export or output."""
    builder = _GraphBuilder()
    for finding in findings:
        environment = str(finding.environment)
        source = builder.node(environment, finding.producer or "(not in this app)")
        for consumer in finding.consumers:
            target = builder.node(environment, consumer)
            key = (source, target, finding.subject)
            worst = builder.edges.get(key)
            if worst is None or Severity.parse(worst) < finding.severity:
                builder.edges[key] = finding.severity.label
    edges = tuple(
        GraphEdge(i, source, target, label, severity, EDGE_COLORS[severity])
        for i, ((source, target, label), severity) in enumerate(builder.edges.items())
    )
    nodes = tuple((node_id, name) for (_, name), node_id in builder.nodes.items())
    return Graph(nodes, edges)


def _open_fence(text: str) -> str | None:
    """The fence that is still open at the end of ``text``, if any."""
    fence: str | None = None
    for line in text.split("\n"):
        match = _FENCE.match(line.lstrip(" "))
        if fence is None and match:
            fence = match.group(1) or match.group(2)
        elif fence is not None and _closes(line, fence):
            fence = None
    return fence


def _closes(line: str, fence: str) -> bool:
    closing = line.strip()
    return bool(closing) and closing == fence[0] * len(closing) and len(closing) >= len(fence)


def _tidy(text: str) -> str:
    """Collapse runs of blank lines and trailing spaces outside code fences."""
    out: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        match = _FENCE.match(line.lstrip(" "))
        if fence is None:
            line = line.rstrip()
            if match:
                fence = match.group(1) or match.group(2)
            elif not line and (not out or not out[-1]):
                continue
        elif _closes(line, fence):
            fence = None
        out.append(line)
    return "\n".join(out).strip("\n") + "\n"

