"""The pull-request comment: goldens, GitHub rendering, hostile input, overrides."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.model import (
    AnalysisResult,
    CodeLocation,
    PipelineEdit,
    Plan,
    Step,
)
from bot.render import escape, markdown
from tests.golden import assert_golden
from tests.render.scenarios import HOSTILE, SCENARIOS, stable

EXTENSIONS = ["table", "autolink", "strikethrough", "tagfilter"]


def to_html(text: str) -> str:
    """GitHub's renderer. Raw HTML is kept (GitHub sanitizes it later), so anything
    the comment lets through as HTML shows up here."""
    return cmarkgfm.markdown_to_html_with_extensions(
        text, options=Options.CMARK_OPT_UNSAFE, extensions=EXTENSIONS
    )


class _Html(HTMLParser):
    """Tags, attributes and the text GitHub would scan for @mentions (outside code)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.prose: list[str] = []
        self._in_code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("code", "pre"):
            self._in_code += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("code", "pre"):
            self._in_code -= 1

    def handle_data(self, data: str) -> None:
        if not self._in_code:
            self.prose.append(data)


def parse(text: str) -> _Html:
    parser = _Html()
    parser.feed(to_html(text))
    return parser


def render_scenario(name: str, tmp_path: Path, **kwargs: object) -> tuple[AnalysisResult, str]:
    result = SCENARIOS[name](tmp_path)
    return result, stable(markdown.render(result, **kwargs), tmp_path)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_golden(name: str, tmp_path: Path) -> None:
    _, text = render_scenario(name, tmp_path)
    assert_golden(f"{name}.md", text)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_marker_on_first_line(name: str, tmp_path: Path) -> None:
    _, text = render_scenario(name, tmp_path)
    assert text.splitlines()[0] == "<!-- cdk-export-guard -->"


@pytest.mark.parametrize("name", ["layer_value_change", "export_removed", "weak_reference_stale"])
def test_github_renders_the_structure(name: str, tmp_path: Path) -> None:
    result, text = render_scenario(name, tmp_path)
    rendered = to_html(text)
    assert rendered.count("<table>") == 2  # the summary of findings + stack changes
    assert rendered.count("<details>") == rendered.count("</details>") >= 1
    assert "<summary>Stack changes:" in rendered
    assert '<pre><code class="language-mermaid">flowchart LR' in rendered
    assert '<pre><code class="language-sh">cdk deploy' in rendered
    assert "linkStyle 0 stroke:" in rendered
    for finding in result.findings:
        assert html.escape(finding.rule) in rendered
        assert finding.id in rendered


def test_headline_counts(tmp_path: Path) -> None:
    _, text = render_scenario("layer_value_change", tmp_path)
    assert text.splitlines()[1] == "### cdk-export-guard: 🛑 1 blocker — cannot be deployed as it is"


# --- the comment, for a reviewer: what shows before anything is unfolded -------------

_BLOCKS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "pre", "summary", "ul", "ol", "table"}
WRAP = 100  # characters per rendered line in a pull request's conversation column (about)


class _Unfolded(HTMLParser):
    """The blocks GitHub shows before anything is unfolded: <details> bodies are skipped, their
    <summary> kept. Each block is (tag, text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []
        self._stack: list[str] = []
        self._text: list[str] = []
        self._details = 0  # depth of open <details>
        self._summary = False

    def _flush(self, tag: str) -> None:
        text = "".join(self._text)
        if text.strip():
            self.blocks.append((tag, text.strip("\n")))
        self._text = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._flush(self._stack[-1] if self._stack else "p")
            self._stack.append(tag)
        if tag == "details":
            self._details += 1
        if tag == "summary":
            self._summary = True

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self._flush(tag)
            if self._stack:
                self._stack.pop()
        if tag == "summary":
            self._summary = False
        if tag == "details":
            self._details -= 1

    def handle_data(self, data: str) -> None:
        if self._details == 0 or self._summary:
            self._text.append(data)


def unfolded(text: str) -> list[tuple[str, str]]:
    parser = _Unfolded()
    parser.feed(to_html(text))
    return parser.blocks


def rendered_lines(blocks: list[tuple[str, str]]) -> int:
    """Lines on screen: code blocks line by line (they scroll, never wrap), prose wrapped."""
    total = 0
    for tag, text in blocks:
        if tag == "pre":
            total += text.count("\n") + 1
        else:
            total += sum(max(1, -(-len(line) // WRAP)) for line in text.split("\n"))
    return total


def test_a_one_blocker_comment_fits_on_one_screen(tmp_path: Path) -> None:
    result, text = render_scenario("layer_value_change", tmp_path)
    assert len(result.findings) == 1
    blocks = unfolded(text)
    assert rendered_lines(blocks) <= 40, "\n".join(f"{tag}: {body}" for tag, body in blocks)
    tags = [tag for tag, _ in blocks]
    # Verdict and the summary table come first, then the finding with its fix before its causes.
    assert tags[:2] == ["h3", "tr"] and blocks[0][1].endswith("1 blocker — cannot be deployed as it is")
    assert tags.index("tr") < tags.index("h4")
    texts = [body for _, body in blocks]
    fix = next(i for i, body in enumerate(texts) if body.startswith("Fix"))
    why = next(i for i, body in enumerate(texts) if body.startswith("Why:"))
    assert tags.index("h4") < fix < why
    # CloudFormation's error once before anything is unfolded; the alternatives are folded.
    assert sum(body.count("Cannot update export") for body in texts) == 1
    assert "Why this fix; alternatives: split-ssm-parameter, detach-and-restore" in [
        body for tag, body in blocks if tag == "summary"]
    assert not any("split-ssm-parameter" in body for tag, body in blocks if tag != "summary")


def test_summary_row_per_finding(tmp_path: Path) -> None:
    _, text = render_scenario("layer_value_change", tmp_path)
    rows = [body for tag, body in unfolded(text) if tag == "tr"]
    assert rows[0].split() == ["Producer", "→", "consumers", "What", "changes", "First", "step", "of", "the", "fix"]
    assert "Producer → Consumer" in rows[1] and "split into two PRs" in rows[1]
    assert "Layer replaced: export value changes" in rows[1]


def test_the_root_app_has_no_folder_in_its_title(tmp_path: Path) -> None:
    from bot.cli.orchestrate import AppOutcome

    result = SCENARIOS["layer_value_change"](tmp_path)
    assert AppOutcome(".", result).markdown(None).splitlines()[1].startswith("### cdk-export-guard: ")
    assert AppOutcome("services/orders", result).markdown(None).splitlines()[1].startswith(
        "### cdk-export-guard — services/orders: ")


def test_no_runner_paths_in_the_comment(tmp_path: Path) -> None:
    _, text = render_scenario("layer_value_change", tmp_path)
    assert "<TMP>" not in text  # the assemblies' absolute folders (stable() puts <TMP> for them)


def test_many_usage_sites_are_folded(tmp_path: Path) -> None:
    result = SCENARIOS["layer_value_change"](tmp_path)
    finding = result.findings[0]
    many = replace(finding, usages=finding.usages * 5)
    text = markdown.render(replace(result, findings=(many,)))
    summaries = [body for tag, body in unfolded(text) if tag == "summary"]
    assert "Where it is used: 5 sites in Consumer" in summaries


def test_cloudformation_error_is_shown_verbatim(tmp_path: Path) -> None:
    _, text = render_scenario("layer_value_change", tmp_path)
    assert (
        "```text\nCannot update export Producer:ExportsOutputRefLayerC6B2F2B4 as it is in use "
        "by Consumer\n```" in text
    )


def test_no_findings(tmp_path: Path) -> None:
    _, text = render_scenario("no_findings", tmp_path)
    rendered = to_html(text)
    assert "no cross-stack reference at risk" in text
    assert "mermaid" not in text and "```sh" not in text
    assert rendered.count("<table>") == 1
    assert "<details>" in rendered and "</details>" in rendered


def test_title(tmp_path: Path) -> None:
    _, text = render_scenario("no_findings", tmp_path, title="Exports <b>@prod</b>")
    assert text.splitlines()[1].startswith("### Exports &lt;b&gt;@&#8205;prod&lt;/b&gt;:")


class TestHostileInput:
    @pytest.fixture
    def text(self, tmp_path: Path) -> str:
        return render_scenario("hostile", tmp_path)[1]

    def test_no_injected_html(self, text: str) -> None:
        tags = {tag for tag, _ in parse(text).tags}
        assert tags <= {"h3", "h4", "p", "strong", "code", "pre", "ul", "ol", "li", "table",
                        "thead", "tbody", "tr", "th", "td", "details", "summary", "sub"}
        rendered = to_html(text)
        assert "<img" not in rendered and "<script" not in rendered and "<b>" not in rendered

    def test_no_links(self, text: str) -> None:
        parser = parse(text)
        assert not [attrs for tag, attrs in parser.tags if tag == "a"]
        assert '<a href="javascript' not in to_html(text)

    def test_mentions_are_neutralized(self, text: str) -> None:
        prose = "".join(parse(text).prose)
        assert "octocat" in prose  # shown ...
        assert not re.search(r"@[A-Za-z0-9]", prose)  # ... but never as a mention
        assert "@\u200doctocat" in prose

    def test_tables_keep_their_shape(self, text: str) -> None:
        rendered = to_html(text)
        tables = re.findall(r"<table>.*?</table>", rendered, re.DOTALL)
        assert len(tables) == 2
        summary, stacks = tables
        assert summary.count("<tr>") == 2 and stacks.count("<tr>") == 3  # header + rows
        for table, width in ((summary, 4), (stacks, 7)):
            for row in re.findall(r"<tr>.*?</tr>", table, re.DOTALL):
                assert len(re.findall(r"<t[hd][ >]", row)) == width
        assert "|`tick`](javascript:alert(1))" in html.unescape(summary)  # the cell kept its pipes
        assert "|col|umn next line" in html.unescape(rendered)  # a usage path, in the list

    def test_code_stays_code(self, text: str) -> None:
        rendered = html.unescape(to_html(text))
        # The asset path holds a ``` fence and a newline: still one inline code span.
        assert "<code>assets/```sh rm -rf /" + HOSTILE + "</code>" in rendered
        # The CloudFormation error block keeps the raw names and does not end early.
        assert "<code class=\"language-text\">Cannot update export Export" + HOSTILE in rendered
        assert "# heading" not in re.sub(r"<code>.*?</code>", "", rendered, flags=re.DOTALL)

    def test_mermaid_labels_are_plain(self, text: str) -> None:
        block = re.search(r"```mermaid\n(.*?)\n```", text, re.DOTALL)
        assert block is not None
        for line in block.group(1).splitlines()[1:]:
            labels = re.findall(r'"([^"]*)"', line)
            assert all(not set(label) & set('<>;|`"\n') for label in labels), line


def test_override_one_block(tmp_path: Path) -> None:
    result = SCENARIOS["layer_value_change"](tmp_path / "app")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "custom.md.j2").write_text(
        '{% extends "comment.md.j2" %}\n{% block footer %}<sub>Owned by team {{ "@infra" | md }}</sub>\n'
        "{% endblock %}\n"
    )
    default = markdown.render(result)
    custom = markdown.render(result, template_dir=templates)
    default_footer = next(line for line in default.splitlines() if line.startswith("<sub>cdk-export-guard "))
    assert custom == default.replace(default_footer, "<sub>Owned by team @&#8205;infra</sub>")


def test_override_a_nested_scoped_block(tmp_path: Path) -> None:
    result = SCENARIOS["layer_value_change"](tmp_path / "app")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "custom.md.j2").write_text(
        '{% extends "comment.md.j2" %}\n'
        "{% block usages %}Used by {{ finding.consumers | join(', ') | md }}.\n\n{% endblock %}\n"
    )
    custom = markdown.render(result, template_dir=templates)
    assert "Used by Consumer.\n" in custom
    assert "**Where it is used:**" not in custom
    assert "**Why:**" in custom and "**Fix**" in custom


def test_replacing_the_template_keeps_the_marker(tmp_path: Path) -> None:
    result = SCENARIOS["no_findings"](tmp_path / "app")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "comment.md.j2").write_text("{{ result.findings | length }} findings\n")
    assert markdown.render(result, template_dir=templates) == "<!-- cdk-export-guard -->\n0 findings\n"


def test_steps_with_code_and_pipeline_edits_render_inside_the_list(tmp_path: Path) -> None:
    result = SCENARIOS["weak_reference_stale"](tmp_path)
    plan = Plan(
        strategy="ordered-deploy",
        summary="Edit the pipeline.",
        steps=(
            Step(
                title="Change the code",
                kind="code-change",
                code=CodeLocation("python", "app/stacks.py", 12, 'x = "```"\n\nprint(x)'),
                detail="See `app/stacks.py`.",
            ),
            Step(title="Deploy", kind="deploy", commands=("cdk deploy A", "cdk deploy B")),
        ),
        pipeline_edits=(PipelineEdit(".github/workflows/deploy.yml", 30, "cdk deploy A", "cdk deploy A B"),),
    )
    finding = replace(result.findings[0], remediation=plan)
    text = markdown.render(replace(result, findings=(finding,)))
    rendered = to_html(text)
    steps = re.search(r"<ol>.*?</ol>", rendered, re.DOTALL)
    assert steps is not None
    assert '<pre><code class="language-python">x = &quot;```&quot;\n\nprint(x)\n</code></pre>' in steps.group(0)
    assert '<pre><code class="language-sh">cdk deploy A\ncdk deploy B\n</code></pre>' in steps.group(0)
    assert '<pre><code class="language-diff">-cdk deploy A\n+cdk deploy A B\n</code></pre>' in rendered


def test_long_comments_fit_githubs_limit(tmp_path: Path) -> None:
    result = SCENARIOS["layer_value_change"](tmp_path)
    many = replace(result, findings=result.findings * 400)
    text = markdown.render(many)
    assert len(text) <= markdown.MAX_LENGTH
    assert text.startswith("<!-- cdk-export-guard -->\n")
    assert text.endswith(markdown.TRUNCATED)
    rendered = to_html(text)
    assert rendered.count("<details>") == rendered.count("</details>")
    assert rendered.count("<pre>") == rendered.count("</pre>")
    assert rendered.rstrip().endswith("for the full report.</em></p>")  # not inside a code block


# --- the escaping filters, on any text --------------------------------------------

_TRICKY = ["`", "``", "```", "|", "<", ">", "@a", "[x](y)", "#", "-", " ", "\n", "*", "_", "&amp;",
           "\\", "1.", "~~", "$", "www.a.co", "o/r#12", "https://a.co", "a@b.co", ":", "/"]
_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60
) | st.lists(st.sampled_from(_TRICKY), max_size=12).map("".join)


def _visible(text: str) -> str:
    one_line = re.sub(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85\t]", " ", text)
    return re.sub("[\x00-\x08\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]", "", one_line)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_markdown_filter_renders_as_plain_text(text: str) -> None:
    rendered = to_html("x " + escape.markdown(text) + " y")
    inner = rendered.removeprefix("<p>").removesuffix("</p>\n")
    assert "<" not in inner.replace("&lt;", "")  # no element: no link, emphasis, tag
    shown = html.unescape(inner)
    # no mention, no issue reference, no URL
    assert not re.search(r"@[A-Za-z0-9]|#[0-9]|://|(?<![\w.])www\.", shown)
    # The same characters, give or take the zero-width joiners.
    assert shown.replace("\u200d", "") == ("x " + _visible(text) + " y").replace("\u200d", "")


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_markdown_filter_cannot_start_a_block(text: str) -> None:
    rendered = to_html("- " + escape.markdown(text))
    assert rendered.count("<li>") == 1 and "<ul>\n<li>" in rendered
    assert not re.search(r"<(?!/?(ul|li)>)", rendered.replace("&lt;", ""))


@settings(max_examples=300, deadline=None)
@given(_TEXT, st.booleans())
def test_code_span_cannot_be_closed(text: str, table: bool) -> None:
    span = escape.code_span(text, table=table)
    if table:
        rendered = to_html(f"| a |\n| --- |\n| {span} |\n")
        cells = re.findall(r"<td>(.*?)</td>", rendered, re.DOTALL)
        assert len(cells) == 1
        inner = cells[0]
    else:
        inner = to_html(span).removeprefix("<p>").removesuffix("</p>\n")
    match = re.fullmatch(r"<code>(.*)</code>", inner, re.DOTALL)
    assert match is not None, inner
    assert html.unescape(match.group(1)) == (_visible(text) or " ")


@settings(max_examples=200, deadline=None)
@given(_TEXT, st.integers(min_value=0, max_value=4))
def test_code_block_cannot_be_closed(text: str, indent: int) -> None:
    block = escape.code_block(text, "sh", indent)
    rendered = to_html(f"{'1. step' if indent else 'text'}\n\n{block}\n\nafter\n")
    assert rendered.count("<pre>") == 1
    assert rendered.rstrip().endswith("<p>after</p>") or "<p>after</p>\n</li>" in rendered


@given(_TEXT)
def test_mermaid_label(text: str) -> None:
    label = escape.mermaid_label(text)
    assert label.startswith('"') and label.endswith('"')
    assert not set(label[1:-1]) & set('"<>;|`\n\r#&%{}[]')


def test_cut_closes_what_is_open() -> None:
    text = "<details>\n<summary>s</summary>\n\n````sh\n" + "cdk deploy A\n" * 100 + "````\n\n</details>\n"
    cut = markdown._cut(text, 400)
    assert len(cut) <= 400
    assert cut.endswith("cdk deploy A\n````\n\n</details>\n")
    rendered = to_html(cut + markdown.TRUNCATED)
    assert rendered.rstrip().endswith("for the full report.</em></p>")
