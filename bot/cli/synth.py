"""`cdk-export-guard synth`: run `cdk synth` for an app into a fresh folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.workspace.synth import synthesize


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="synthesize a CDK app with the pinned cdk CLI",
        description="Run `cdk synth` for APP_DIR into OUT (emptied first).",
    )
    parser.add_argument("--app-dir", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--app", dest="app_command", help="app command (default: cdk.json's app)")
    parser.add_argument(
        "-c", "--context", action="append", default=[], metavar="KEY=VALUE",
        help="context value passed to the app (repeatable)",
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds (default 900)")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    context = {}
    for item in args.context:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--context takes KEY=VALUE, got {item!r}")
        context[key] = value
    print(f"cdk-export-guard: synthesizing {args.app_dir} -> {args.out} ...", file=sys.stderr)
    result = synthesize(
        args.app_dir, args.out, app_command=args.app_command, context=context,
        timeout_seconds=args.timeout,
    )
    print(f"cdk-export-guard: synthesized in {result.duration_seconds:.1f}s", file=sys.stderr)
    return 0
