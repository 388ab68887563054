"""`cdk-export-guard publish --report FILE|DIR`: post reports another job wrote (fork-safe).

The same as the Action with `report-dir`: reads the GitHub variables of the
`workflow_run` job (token in INPUT_GITHUB-TOKEN or GITHUB_TOKEN), validates the
untrusted reports, and posts the comment and the check.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from bot.cli import action


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "publish", help="post JSON reports written by an earlier, unprivileged job",
        description="Validate and post reports (a *.report.json file, or a folder of them with pull-request.json).",
    )
    parser.add_argument("--report", required=True, type=Path, help="a report file or the folder holding them")
    parser.set_defaults(handler=main)


def main(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    env.setdefault("INPUT_GITHUB-TOKEN", env.get("GITHUB_TOKEN", ""))
    if args.report.is_dir():
        env["INPUT_REPORT-DIR"] = str(args.report)
        return action.run(env)
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(args.report, Path(folder) / args.report.name)
        pr_file = args.report.parent / action.PR_FILE
        if pr_file.is_file():
            shutil.copy(pr_file, Path(folder) / action.PR_FILE)
        env["INPUT_REPORT-DIR"] = folder
        return action.run(env)
