"""Command line entry point: ``cdk-export-guard <command>`` / ``python -m bot``.

Each layer raises its own exception type; they are caught only here and turned
into a one-line message and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot import __version__, cancel
from bot.assembly import AssemblyError
from bot.commands import action, analyze, merge, publish, synth
from bot.runner_output import inert
from bot.synth import SynthError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cdk-export-guard",
        description="Warns before merge when a CDK change will break a CloudFormation "
        "cross-stack export that another stack imports.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    analyze.add_parser(subparsers)
    synth.add_parser(subparsers)
    action.add_parser(subparsers)
    publish.add_parser(subparsers)
    merge.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with cancel.terminate_as_interrupt():  # CI cancellation (SIGTERM) runs the same cleanup as Ctrl-C
            return int(args.handler(args))
    except AssemblyError as exc:
        print(inert(f"cdk-export-guard: error: {exc}"), file=sys.stderr)
        return 2
    except SynthError as exc:
        # The app's own output: masked, and unable to issue workflow commands when run in CI.
        print(inert(f"cdk-export-guard: error: {exc}"), file=sys.stderr)
        if exc.log_tail:
            print(inert(exc.log_tail), file=sys.stderr)
        return 2
    except ValueError as exc:
        print(inert(f"cdk-export-guard: error: {exc}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cdk-export-guard: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    raise SystemExit(main())
