"""`cdk-export-guard merge`: one report for a monorepo whose apps were analyzed one per job.

A GitHub Actions matrix analyzes each CDK app of a monorepo in its own job and uploads
its JSON report (``<app>.report.json``); a final job downloads them all and runs

    cdk-export-guard merge reports/*.report.json --format markdown --output comment.md

Each report is read with ``bot.core.report_loader.load_report``, as untrusted input: an
invalid one stops the merge with a one-line reason (exit 2). The app name comes from
the file name (``services-orders.report.json`` -> ``services-orders``). Findings keep
their app: duplicates are dropped by (app, finding id); stacks keep their names. The
merged JSON is still a schema-version-1 report (``load_report`` reads it back), with
``"app"`` on each finding and stack and a top-level ``"apps"`` list; the counts are
recomputed. Markdown and text go through the existing renderers, with the apps in the
title, stacks shown as ``app/stack`` and each message prefixed by ``[app]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.cli.analyze import FAIL_ON, exit_code
from bot.core.model import AnalysisResult, Assembly, Finding, Severity, StackChanges
from bot.core.report_loader import MAX_ITEMS, MAX_STRING, ReportError, from_dict, load_report
from bot.render import json_report, markdown, text

FORMATS = ("markdown", "json", "text")
MAX_REPORTS = 200
REPORT_SUFFIXES = (".report.json", ".json")


class MergeError(Exception):
    """The reports cannot be merged; the message is one line for the user."""


@dataclass(frozen=True)
class AppReport:
    name: str
    path: str
    result: AnalysisResult


@dataclass(frozen=True)
class Merged:
    result: AnalysisResult  # every app's findings and stacks, as one report
    finding_apps: tuple[str, ...]  # the app of each finding, in order
    stack_apps: tuple[str, ...]  # the app of each stack summary, in order
    apps: tuple[AppReport, ...]
    duplicates: int  # findings dropped because the same app reported the same id twice


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "merge",
        help="merge the JSON reports of several apps (a monorepo matrix) into one report",
        description="Merge JSON reports written by `analyze --format json` (or the Action), one per app, "
        "into one report. The app name is the file name without .report.json.",
    )
    parser.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json", help="one JSON report per app")
    # text by default, like `analyze`: both print for a person at a terminal; the comment and the
    # job summary ask for markdown by name.
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (default, like analyze), markdown (a PR comment or job summary), json, sarif")
    parser.add_argument("--output", type=Path, help="write the merged report here instead of stdout")
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="blocker",
        help="exit 1 when a finding of this severity or worse exists in any app (default: blocker)",
    )
    parser.set_defaults(handler=main)


def app_name(path: Path) -> str:
    """``services-orders.report.json`` -> ``services-orders``."""
    name = path.name
    for suffix in REPORT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def load_apps(paths: Sequence[Path]) -> list[AppReport]:
    """Read every report (hostile input: ``ReportError`` says which file and where)."""
    if len(paths) > MAX_REPORTS:
        raise MergeError(f"{len(paths)} reports given, over the limit of {MAX_REPORTS}")
    apps: list[AppReport] = []
    seen: dict[str, Path] = {}
    for path in paths:
        name = app_name(path)
        if name in seen:
            raise MergeError(f"two reports for app {name!r}: {seen[name]} and {path}; give each app its own file name")
        seen[name] = path
        try:
            result = load_report(path)
        except ReportError as exc:
            reason = str(exc)
            raise ReportError(reason if str(path) in reason else f"report {path}: {reason}") from None
        apps.append(AppReport(name, str(path), result))
    return apps


def merge(apps: Sequence[AppReport]) -> Merged:
    """All apps' findings, stacks and notes as one result. Pure."""
    if not apps:
        raise MergeError("no report to merge")
    tagged: list[tuple[str, Finding]] = []
    seen: set[tuple[str, str]] = set()
    duplicates = 0
    for app in apps:
        for finding in app.result.findings:
            if (app.name, finding.id) in seen:
                duplicates += 1
                continue
            seen.add((app.name, finding.id))
            tagged.append((app.name, finding))
    tagged.sort(key=lambda t: (-t[1].severity, t[1].rule, t[1].producer, t[1].subject, t[0]))
    stacks = [(app.name, stack) for app in apps for stack in app.result.stacks]
    notes = [_cap(f"[{app.name}] {note}") for app in apps for note in app.result.notes]
    if duplicates:
        notes.append(f"{duplicates} duplicate finding{'s' if duplicates != 1 else ''} dropped (same app, same id)")
    tagged, stacks = _within_limits(tagged, stacks, notes)
    result = AnalysisResult(
        base=_assembly([app.result.base for app in apps], apps),
        head=_assembly([app.result.head for app in apps], apps),
        findings=tuple(f for _, f in tagged),
        stacks=tuple(s for _, s in stacks),
        notes=tuple(notes[:MAX_ITEMS]),
    )
    return Merged(result, tuple(a for a, _ in tagged), tuple(a for a, _ in stacks), tuple(apps), duplicates)


def _within_limits(
    findings: list[tuple[str, Finding]], stacks: list[tuple[str, StackChanges]], notes: list[str]
) -> tuple[list[tuple[str, Finding]], list[tuple[str, StackChanges]]]:
    """Keep the merged report readable by ``load_report`` (at most MAX_ITEMS per list)."""
    if len(stacks) > MAX_ITEMS:
        changed = [(a, s) for a, s in stacks if s.status != "unchanged"]
        notes.append(f"{len(stacks) - len(changed)} unchanged stacks are not listed (report size limit)")
        stacks = changed
    if len(stacks) > MAX_ITEMS:
        notes.append(f"{len(stacks) - MAX_ITEMS} more changed stacks are not listed (report size limit)")
        stacks = stacks[:MAX_ITEMS]
    if len(findings) > MAX_ITEMS:  # sorted worst first: the cut loses notices before blockers
        notes.append(f"{len(findings) - MAX_ITEMS} more findings are not listed (report size limit)")
        findings = findings[:MAX_ITEMS]
    return findings, stacks


def _assembly(sides: Sequence[Assembly], apps: Sequence[AppReport]) -> Assembly:
    def joined(values: Sequence[str | None]) -> str:
        return ", ".join(sorted({v for v in values if v}))

    names = sorted({name for side in sides for name in side.stack_names})
    return Assembly(
        path=_cap(f"{len(apps)} app{'s' if len(apps) != 1 else ''}: " + ", ".join(a.name for a in apps)),
        manifest_version=_cap(joined([s.manifest_version for s in sides])),
        stacks={},
        cdk_library_version=_cap(joined([s.cdk_library_version for s in sides])) or None,
        report_stack_names=tuple(names[:MAX_ITEMS]),
    )


def _cap(value: str) -> str:
    return value if len(value) <= MAX_STRING else value[: MAX_STRING - 1] + "…"


def to_dict(merged: Merged) -> dict[str, Any]:
    """The merged JSON report: schema version 1, plus ``apps`` and an ``app`` on findings and stacks."""
    data = json_report.to_dict(merged.result)
    for item, app in zip(data["findings"], merged.finding_apps, strict=True):
        item["app"] = app
    for item, app in zip(data["stacks"], merged.stack_apps, strict=True):
        item["app"] = app
    data["apps"] = [
        {
            "name": app.name,
            "report": app.path,
            "summary": {s.label: app.result.count(s) for s in sorted(Severity, reverse=True)},
            "findings_kept": sum(1 for a in merged.finding_apps if a == app.name),
            "assembly": {"base": app.result.base.path, "head": app.result.head.path},
            "manifest_version": {"base": app.result.base.manifest_version, "head": app.result.head.manifest_version},
            "cdk_library_version": {"base": app.result.base.cdk_library_version,
                                    "head": app.result.head.cdk_library_version},
            "stacks": len(app.result.stacks),
        }
        for app in merged.apps
    ]
    return data


def title(merged: Merged) -> str:
    names = [a.name for a in merged.apps]
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    return f"cdk-export-guard — {len(names)} app{'s' if len(names) != 1 else ''}: {shown}"


def _labelled(merged: Merged) -> AnalysisResult:
    """The result for people to read: stacks named ``app/stack``, messages prefixed with ``[app]``.

    Apps are separate CDK apps: two may both have a ``Producer`` in one environment,
    and the graph and tables must not run them together. The JSON keeps the names as
    the apps wrote them (plus ``app``).
    """
    def qualified(app: str, name: str) -> str:
        return f"{app}/{name}" if name else name

    findings = tuple(
        replace(
            f,
            message=f"[{app}] {f.message}",
            producer=qualified(app, f.producer),
            consumers=tuple(qualified(app, c) for c in f.consumers),
            usages=tuple(replace(u, stack=qualified(app, u.stack)) for u in f.usages),
        )
        for f, app in zip(merged.result.findings, merged.finding_apps, strict=True)
    )
    stacks = tuple(
        replace(s, stack_name=qualified(app, s.stack_name))
        for s, app in zip(merged.result.stacks, merged.stack_apps, strict=True)
    )
    return replace(merged.result, findings=findings, stacks=stacks)


def render(merged: Merged, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(to_dict(merged), indent=2) + "\n"
    if fmt == "markdown":
        return markdown.render(_labelled(merged), title=title(merged))
    return text.clean(title(merged)) + "\n" + text.render(_labelled(merged))


def main(args: argparse.Namespace) -> int:
    try:
        merged = merge(load_apps(args.reports))
    except (ReportError, MergeError) as exc:
        print(f"cdk-export-guard: error: {exc}", file=sys.stderr)
        return 2
    report = render(merged, args.format)
    if args.format == "json":
        try:
            from_dict(json.loads(report))  # what we write must read back (`publish`, another merge)
        except ReportError as exc:
            print(f"cdk-export-guard: error: the merged report would not read back: {exc}", file=sys.stderr)
            return 2
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report, encoding="utf-8")
        count = len(merged.result.findings)
        print(f"cdk-export-guard: merged {len(merged.apps)} reports ({count} finding{'' if count == 1 else 's'}) "
              f"into {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(report)
    return exit_code(merged.result, args.fail_on)
