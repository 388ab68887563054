"""Command line entry point: ``cdk-export-guard <command>`` / ``python -m bot``.

Each layer raises its own exception type; they are caught only here and turned
into a one-line message and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from bot import __version__
from bot.github.runner_output import inert
from bot.workspace import cancel

# Subcommand -> its module's one-line help. Only the chosen command's module is imported
# (the Action's brings PyGithub and boto3): `--help` and `analyze` start in a blink.
COMMANDS = {
    "analyze": "compare the cloud assemblies of base and head",
    "synth": "synthesize a CDK app with the pinned cdk CLI",
    "action": "run as the GitHub Action (reads INPUT_* and GITHUB_* variables)",
    "publish": "post JSON reports written by an earlier, unprivileged job",
    "merge": "merge the JSON reports of several apps (a monorepo matrix) into one report",
}


def command_module(name: str) -> ModuleType:
    return importlib.import_module(f"bot.cli.{name}")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the command named in ``argv`` gets its full arguments (None: all)."""
    parser = argparse.ArgumentParser(
        prog="cdk-export-guard",
        description="Warns before merge when a CDK change will break a CloudFormation "
        "cross-stack export that another stack imports.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = None if argv is None else next((a for a in argv if not a.startswith("-")), "")
    for name, summary in COMMANDS.items():
        if chosen is None or name == chosen:
            command_module(name).add_parser(subparsers)
        else:
            subparsers.add_parser(name, help=summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(arguments).parse_args(arguments)
    from bot.core.assembly import AssemblyError
    from bot.workspace.synth import SynthError

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
