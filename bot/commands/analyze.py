"""`cdk-export-guard analyze`: compare two cloud assemblies and report."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bot.analysis import analyze, build_context
from bot.assembly import load_assembly
from bot.model import AnalysisResult, Severity
from bot.pipelines import find_deploy_sites
from bot.remedy import attach_plans
from bot.render import json_report, markdown, sarif, text
from bot.source import code_locations

RENDERERS = {
    "text": text.render,
    "markdown": markdown.render,
    "json": json_report.render,
    "sarif": sarif.render,
}
FAIL_ON = ("blocker", "warning", "notice", "never")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="compare the cloud assemblies of base and head",
        description="Find every cross-stack export that deploying HEAD over BASE would break.",
    )
    parser.add_argument("--base", required=True, type=Path, help="cdk.out of the base (deployed) side")
    parser.add_argument("--head", required=True, type=Path, help="cdk.out of the head (proposed) side")
    parser.add_argument("--source", type=Path, help="the app's source folder (cdk.json): code locations in fixes")
    parser.add_argument("--repo", type=Path, help="repository root: check its deploy commands (default: --source)")
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text")
    parser.add_argument("--output", type=Path, help="write the report here instead of stdout")
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="blocker",
        help="exit 1 when a finding of this severity or worse exists (default: blocker)",
    )
    parser.set_defaults(handler=main)


def run_analysis(base: Path, head: Path, source: Path | None = None, repo: Path | None = None) -> AnalysisResult:
    """Load both assemblies, analyze, attach checked plans. Raises AssemblyError on bad input."""
    base_assembly, head_assembly = load_assembly(base), load_assembly(head)
    context = build_context(base_assembly, head_assembly)
    result = analyze(base_assembly, head_assembly, context)
    code = code_locations(result, source) if source else {}
    root = repo or source
    sites = find_deploy_sites(root) if root else []
    return attach_plans(result, context, code=code, sites=sites)


def exit_code(result: AnalysisResult, fail_on: str) -> int:
    if fail_on == "never":
        return 0
    threshold = Severity.parse(fail_on)
    return 1 if any(f.severity >= threshold for f in result.findings) else 0


def main(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    result = run_analysis(args.base, args.head, args.source, args.repo)
    report = RENDERERS[args.format](result)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report, encoding="utf-8")
        print(
            f"cdk-export-guard: wrote {args.format} report to {args.output} "
            f"({len(result.findings)} findings, {time.perf_counter() - started:.2f}s)",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(report)
    return exit_code(result, args.fail_on)
