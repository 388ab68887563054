"""`cdk-export-guard analyze`: compare two cloud assemblies and report."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # `analyze --help` need not build the model's dataclasses (~35 ms)
    from bot.core.model import AnalysisResult

FORMATS = ("json", "markdown", "sarif", "text")
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
    parser.add_argument("--base-source", type=Path,
                        help="the base branch's app folder: patches on the base and, with --verify-plans, its states")
    parser.add_argument("--verify-plans", action="store_true",
                        help="apply each plan's changes to scratch copies of --base-source/--source, synthesize "
                        "every state and check the plan on the real templates (needs --source)")
    parser.add_argument("--verify-budget", type=float, default=300.0, metavar="SECONDS",
                        help="with --verify-plans: time for all plan states (default 300; unfinished plans stay "
                        "'modelled')")
    parser.add_argument("--app", dest="app_command", help="with --verify-plans: the app command (default: cdk.json's)")
    for side in ("base", "head"):
        parser.add_argument(f"--{side}-context", action="append", default=[], metavar="KEY=VALUE",
                            help=f"with --verify-plans: context the {side} side was synthesized with (`cdk -c`); "
                            "repeatable")
    parser.add_argument("--repo", type=Path, help="repository root: check its deploy commands (default: --source)")
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--output", type=Path, help="write the report here instead of stdout")
    parser.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="blocker",
        help="exit 1 when a finding of this severity or worse exists (default: blocker)",
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="also read the AWS account of each stack environment (read-only): deployed exports, "
        "importers outside the app, deployed templates (see README, Live mode)",
    )
    parser.add_argument(
        "--change-sets",
        action="store_true",
        help="with --live: create, read and delete (never execute) a change set per producer whose "
        "export changes, to confirm replacements",
    )
    parser.add_argument("--aws-profile", metavar="NAME", help="with --live: the AWS profile to use")
    parser.add_argument("--aws-endpoint-url", metavar="URL", help=argparse.SUPPRESS)  # a local emulator (tests)
    parser.set_defaults(handler=main)


def _context(pairs: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` options as a context mapping, as `cdk -c` takes them."""
    context = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"context must be KEY=VALUE, got {pair!r}")
        context[key] = value
    return context


def _relative_source(source: Path | None, repo: Path | None) -> str:
    if source is None or repo is None:
        return ""  # the source folder is the root of what is scanned
    try:
        return source.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return ""


def exit_code(result: AnalysisResult, fail_on: str) -> int:
    if fail_on == "never":
        return 0
    from bot.core.model import Severity

    threshold = Severity.parse(fail_on)
    return 1 if any(f.severity >= threshold for f in result.findings) else 0


def render(result: AnalysisResult, report_format: str, *, source_root: str = "") -> str:
    """The report in ``report_format``; each renderer is imported only when used.

    ``source_root``: the app's source folder relative to the repository, for SARIF's paths
    (code scanning resolves them against the repository root).
    """
    from bot.render import json_report, markdown, sarif, text

    if report_format == "sarif":
        return sarif.render(result, source_root=source_root)
    renderers = {"text": text.render, "markdown": markdown.render, "json": json_report.render}
    return renderers[report_format](result)


def run_analysis(*args: Any, **kwargs: Any) -> AnalysisResult:
    """``bot.cli.orchestrate.run_analysis``, imported on first use: `--help` needs no analysis."""
    from bot.cli.orchestrate import run_analysis as run

    return run(*args, **kwargs)


def main(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    live = None
    if args.live:
        from bot.live.aws import LiveOptions

        live = LiveOptions(profile=args.aws_profile, change_sets=args.change_sets, endpoint_url=args.aws_endpoint_url)
    elif args.change_sets or args.aws_profile:
        raise ValueError("--change-sets and --aws-profile need --live")
    verify = None
    if args.verify_plans:
        if args.source is None:
            raise ValueError("--verify-plans needs --source (and --base-source for plans that change the base)")
        from bot.plans.verify import Tree, VerifyOptions, root_above

        # States copy --repo around the app (not a guessed checkout: it may be a home folder);
        # the base tree's root is as many folders above --base-source.
        source, repo = args.source.resolve(), args.repo.resolve() if args.repo is not None else None
        depth = len(source.relative_to(repo).parts) if repo is not None and source.is_relative_to(repo) else 0
        verify = VerifyOptions(
            base=Tree(args.base_source, _context(args.base_context), root_above(args.base_source, depth))
            if args.base_source else None,
            head=Tree(args.source, _context(args.head_context), root_above(args.source, depth)),
            budget_seconds=args.verify_budget, app_command=args.app_command, reuse_assemblies=False,
            log=lambda line: print(f"cdk-export-guard: {line}", file=sys.stderr),
        )
    result = run_analysis(args.base, args.head, args.source, args.repo, live, base_source=args.base_source,
                          verify=verify)
    if live is not None:
        from bot.live.adjust import problems

        for line in problems(result):
            print(f"cdk-export-guard: {line}", file=sys.stderr)
    report = render(result, args.format, source_root=_relative_source(args.source, args.repo))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report, encoding="utf-8")
        print(
            f"cdk-export-guard: wrote {args.format} report to {args.output} "
            f"({len(result.findings)} finding{'' if len(result.findings) == 1 else 's'}, "
            f"{time.perf_counter() - started:.2f}s)",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(report)
    return exit_code(result, args.fail_on)
