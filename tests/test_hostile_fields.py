"""Every field of a report, one at a time, set to a hostile value and rendered by GitHub's renderer.

The fork-safe publish job renders a report a fork wrote; an assembly's versions and
paths come from the pull request too. Each string in the report is replaced in turn by
a value that tries every trick at once (a heading, an image, a link, a mention, an HTML
comment that would hide the rest, a carriage return). The loader may refuse the report
(strictly validated fields); if it accepts it, the comment, the check summary and the
`merge` output must render with no tag, link, mention, heading or comment the honest
report did not have.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import merge
from bot.core.assembly import AssemblyError, load_assembly
from bot.core.report_loader import ReportError, from_dict
from bot.render import json_report, markdown
from tests.builders import AppBuilder
from tests.render.scenarios import SCENARIOS
from tests.render.test_markdown import parse, to_html

ATTACK = (
    "x\r\n## ✅ Reviewed: safe to merge\r<img src=https://evil.test/t.png> [docs](https://evil.test) "
    "https://evil.test @org/team @octocat GH-12 #12 <!-- hide the rest"
)
ATTACKS = (ATTACK, "1.0.0-<img src=x>\r\n# forged")


def string_leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from string_leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from string_leaves(item, (*path, index))


def with_value(report: dict[str, Any], path: tuple[Any, ...], value: str) -> dict[str, Any]:
    changed = copy.deepcopy(report)
    target: Any = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return changed


@functools.lru_cache(maxsize=8)
def shape(text: str) -> tuple[list[str], int, int]:
    """What a reader sees as structure: tags (minus code), links, HTML comments."""
    rendered = to_html(text)
    tags = sorted(tag for tag, _ in parse(text).tags)
    return tags, rendered.count("<a "), re.sub(r"<code>.*?</code>", "", rendered, flags=re.DOTALL).count("<!--")


def assert_no_injection(honest: str, hostile: str, where: str) -> None:
    parsed = parse(hostile)
    prose = "".join(parsed.prose)
    assert not re.search(r"@[A-Za-z0-9]", prose), f"{where}: a mention got through"
    assert not re.search(r"(?<![\w&])#\d", prose), f"{where}: an issue reference got through"
    assert not re.search(r"(?i)\bGH-\d", prose), f"{where}: a GH- reference got through"
    tags, links, comments = shape(hostile)
    honest_tags, honest_links, honest_comments = shape(honest)
    assert links == honest_links == 0, f"{where}: a link got through"
    assert comments <= honest_comments, f"{where}: an HTML comment got through"
    assert [t for t in tags if t in ("h1", "h2", "h3", "h4", "h5", "h6")] == \
        [t for t in honest_tags if t in ("h1", "h2", "h3", "h4", "h5", "h6")], f"{where}: a heading got through"
    assert not set(tags) - set(honest_tags) - {"code", "p", "strong", "li", "ul", "ol"}, \
        f"{where}: new tags {set(tags) - set(honest_tags)}"
    assert "<img" not in to_html(hostile), f"{where}: an image got through"


# Each scenario's fields are split in SHARDS interleaved parts (every field is in one), so
# pytest-xdist can spread the sweep over its workers instead of ending on one long test.
SHARDS = 3


@pytest.mark.parametrize("shard", range(SHARDS))
@pytest.mark.parametrize("scenario", ["layer_value_change", "export_removed"])
def test_every_report_field_with_a_hostile_value(tmp_path: Path, scenario: str, shard: int) -> None:
    report = json_report.to_dict(SCENARIOS[scenario](tmp_path))
    report = json.loads(json.dumps(report))
    honest_result = from_dict(report)
    honest = markdown.render(honest_result)
    honest_merge = merge.render(merge.merge([merge.AppReport("app", "app.report.json", honest_result)]), "markdown")
    tried = refused = 0
    for index, path in enumerate(string_leaves(report)):
        if index % SHARDS != shard:
            continue
        for attack in ATTACKS:
            tried += 1
            try:
                result = from_dict(with_value(report, path, attack))
            except ReportError:
                refused += 1
                continue
            where = "$." + ".".join(map(str, path)) + f" = {attack!r}"
            assert_no_injection(honest, markdown.render(result), f"comment {where}")
            if attack is not ATTACK:
                continue
            merged = merge.merge([merge.AppReport("app", "app.report.json", result)])
            assert_no_injection(honest_merge, merge.render(merged, "markdown"), f"merge {where}")
    print(f"{scenario} ({shard + 1}/{SHARDS}): {tried} hostile reports, {refused} refused by the loader, "
          "the rest rendered safely")
    assert tried > 100 // SHARDS and refused < tried


@pytest.mark.parametrize("version", ["55.0.0-<img src=x>", "55.0.0-\r", "55.0.0+@octocat", "55.0.0-a b",
                                     "55.0.0\n", "55.0.0-" + "x" * 80])
def test_assembly_versions_are_strict(tmp_path: Path, version: str) -> None:
    app = AppBuilder(version=version)
    app.stack("Producer").resource("Topic", "AWS::SNS::Topic")
    with pytest.raises(AssemblyError, match="no valid version"):
        load_assembly(app.write(tmp_path / "a"))


@pytest.mark.parametrize("version", ["2.275.0", "2.275.0-rc.1", "0.0.0", "2.1.0+build.7"])
def test_good_versions_still_load(tmp_path: Path, version: str) -> None:
    app = AppBuilder(version=version.replace("2.", "55.", 1), library_version=version)
    app.stack("Producer").resource("Topic", "AWS::SNS::Topic")
    assert load_assembly(app.write(tmp_path / "a")).cdk_library_version == version


def test_a_hostile_library_version_is_dropped(tmp_path: Path) -> None:
    app = AppBuilder(library_version="2.0.0 <img src=x> @octocat")
    app.stack("Producer").resource("Topic", "AWS::SNS::Topic")
    assert load_assembly(app.write(tmp_path / "a")).cdk_library_version is None


@pytest.mark.parametrize("field", ["manifest_version", "cdk_library_version"])
def test_report_versions_are_strict(tmp_path: Path, field: str) -> None:
    report = json_report.to_dict(SCENARIOS["layer_value_change"](tmp_path))
    report["head"][field] = "55.0.0-<img src=x>"
    with pytest.raises(ReportError, match=rf"\$\.head\.{field} must be a version"):
        from_dict(report)


def test_the_could_not_run_body_with_hostile_reason_and_log() -> None:
    from bot.cli.orchestrate import AppOutcome

    honest = AppOutcome("apps/api", None, "the cloud assembly cannot be read: bad file", "line 1\nline 2").markdown()
    hostile = AppOutcome(ATTACK, None, ATTACK, f"{ATTACK}\n```\n{ATTACK}\n~~~\n</details>{ATTACK}").markdown()
    assert_no_injection(honest, hostile, "failure body")
