"""The example workflows: pinned, no persisted credentials, and their artifact paths really carry the reports."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli.action import run
from tests.github_server import FakeGitHub
from tests.test_action import (
    BASE_SHA,
    FAST,
    HEAD_SHA,
    PR,
    REPO,
    TOKEN,
    assemblies,
    environment,
    layer_app,
    outputs,
    pull_request_event,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "workflows"
WORKFLOWS = sorted(EXAMPLES.glob("*.yml"))


def steps(path: Path) -> list[dict[str, Any]]:
    workflow = yaml.safe_load(path.read_text())
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_third_party_actions_are_pinned_by_sha(path: Path) -> None:
    for step in steps(path):
        uses = step.get("uses")
        if uses and not uses.startswith("cdk-export-guard/"):
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses), f"{path.name}: {uses} is not pinned by SHA"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_checkout_does_not_persist_the_token(path: Path) -> None:
    for step in steps(path):
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, path.name


def uploaded(workspace: Path, path_text: str) -> list[str]:
    """What actions/upload-artifact (v4.4+, include-hidden-files: false) would upload from ``path``.

    Its glob skips every file or folder whose name starts with a dot, the searched folder included.
    """
    root = workspace / path_text
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return [str(f.relative_to(workspace)) for f in files
            if not any(part.startswith(".") for part in f.relative_to(workspace).parts)]


def upload_path(workflow: str) -> str:
    (step,) = [s for s in steps(EXAMPLES / workflow) if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    match = re.fullmatch(r"\$\{\{ steps\.guard\.outputs\.([\w-]+) \}\}", step["with"]["path"])
    assert match, step["with"]["path"]
    return match.group(1)


@pytest.mark.parametrize(("workflow", "app"), [("fork-safe-analyze.yml", "."), ("monorepo-merge.yml", "."),
                                               ("monorepo-merge.yml", "services/orders")])
def test_the_examples_upload_the_reports(tmp_path: Path, workflow: str, app: str) -> None:
    with FakeGitHub(REPO, token=TOKEN) as gh:
        gh.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "1")
        env = environment(tmp_path, gh, pull_request_event(tmp_path), publish="false", fail_on="never",
                          app_directory=app, **pair)
        run(env, policy=FAST)
    files = uploaded(tmp_path, outputs(tmp_path)[upload_path(workflow)])
    reports = [f for f in files if f.endswith(".report.json")]
    assert len(reports) == 1, files
    if workflow == "fork-safe-analyze.yml":
        assert any(f.endswith("pull-request.json") for f in files), files


def test_the_composite_action_execs_the_bot_so_no_shell_keeps_the_token() -> None:
    # A bash step that runs python as a child keeps INPUT_GITHUB_TOKEN in its own /proc/<pid>/environ,
    # where the app's code (a descendant) could read it; exec replaces the shell instead.
    action = yaml.safe_load((EXAMPLES.parents[1] / "action.yml").read_text())
    runs = action["runs"]
    if runs.get("using") != "composite":
        return  # a Docker action starts the bot as the container's entrypoint: no shell in between
    (step,) = [s for s in runs["steps"] if "INPUT_GITHUB_TOKEN" in (s.get("env") or {})]
    assert step["run"].lstrip().startswith("exec "), step["run"]
