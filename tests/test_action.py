"""The Action's entrypoint end to end: event payload in, comment + check run out (loopback GitHub)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli.action import run
from bot.github.client import RetryPolicy
from tests.builders import AppBuilder, import_value, ref
from tests.github_server import FakeGitHub
from tests.render.test_markdown import to_html
from tests.synth_cache import APPS_DIR

REPO = "octo/app"
TOKEN = "ghs_test"
PR = 7
BASE_SHA = "b" * 40
HEAD_SHA = "a" * 40
FAST = RetryPolicy(backoff_factor=0.1, seconds_between_requests=0, seconds_between_writes=0, timeout=5)
EXPORT = "Producer:ExportsOutputRefLayer"


def layer_app(key: str, *, exported: bool = True) -> AppBuilder:
    app = AppBuilder()
    p = app.stack("Producer")
    p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
    if exported:
        p.export("L", ref("Layer"), EXPORT)
    app.stack("Consumer", depends_on=["Producer"]).resource(
        "Fn", "AWS::Lambda::Function", Layers=[import_value(EXPORT)] if exported else [])
    return app


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(REPO, token=TOKEN) as server:
        server.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        yield server


def pull_request_event(tmp_path: Path, head: str = HEAD_SHA) -> Path:
    # Shape from GitHub's docs: webhook payload of the pull_request event (trimmed).
    payload = {"action": "synchronize", "number": PR, "pull_request": {
        "number": PR, "state": "open", "head": {"ref": "feature", "sha": head},
        "base": {"ref": "main", "sha": BASE_SHA}}, "repository": {"full_name": REPO}}
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    return path


def environment(tmp_path: Path, gh: FakeGitHub, event_path: Path, event: str = "pull_request",
                **inputs: str) -> dict[str, str]:
    env = {
        "GITHUB_EVENT_NAME": event, "GITHUB_EVENT_PATH": str(event_path), "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": gh.url, "GITHUB_WORKSPACE": str(tmp_path), "RUNNER_TEMP": str(tmp_path / "runner"),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_SHA": "f" * 40, "INPUT_GITHUB-TOKEN": TOKEN,
    }
    (tmp_path / "runner").mkdir(exist_ok=True)
    env.update({f"INPUT_{k.upper().replace('_', '-')}": v for k, v in inputs.items()})
    return env


def outputs(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "output.txt").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def assemblies(tmp_path: Path, base: AppBuilder, head: AppBuilder, tag: str) -> dict[str, str]:
    return {"base_assembly": str(base.write(tmp_path / tag / "base")),
            "head_assembly": str(head.write(tmp_path / tag / "head"))}


def test_three_pushes_create_edit_and_resolve_one_comment(tmp_path: Path, gh: FakeGitHub) -> None:
    event = pull_request_event(tmp_path)
    first = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "1")
    assert run(environment(tmp_path, gh, event, **first), policy=FAST) == 1
    (comment,) = gh.comments(PR)
    assert "Cannot update export Producer:ExportsOutputRefLayer as it is in use by Consumer" in comment.body
    assert [c["conclusion"] for c in gh.check_runs] == ["failure"]
    assert outputs(tmp_path)["blockers"] == "1"
    assert outputs(tmp_path)["conclusion"] == "failure"
    assert (tmp_path / outputs(tmp_path)["report-path"]).is_file()

    # Second push: different findings (a removal instead) -> the same comment is edited.
    second = assemblies(tmp_path, layer_app("a.zip"), layer_app("a.zip", exported=False), "2")
    run(environment(tmp_path, gh, event, **second), policy=FAST)
    (edited,) = gh.comments(PR)
    assert edited.id == comment.id and "cannot be deleted as it is in use by Consumer" in edited.body

    # Third push: nothing at risk -> the comment becomes a short resolved note.
    third = assemblies(tmp_path, layer_app("a.zip"), layer_app("a.zip"), "3")
    assert run(environment(tmp_path, gh, event, **third), policy=FAST) == 0
    (resolved,) = gh.comments(PR)
    assert resolved.id == comment.id and "No cross-stack export is at risk any more" in resolved.body
    assert gh.check_runs[-1]["conclusion"] == "success"


def test_comment_renders_with_githubs_renderer_and_summary_is_written(tmp_path: Path, gh: FakeGitHub) -> None:
    event = pull_request_event(tmp_path)
    run(environment(tmp_path, gh, event, **assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "x")),
        policy=FAST)
    html = to_html(gh.comments(PR)[0].body)
    assert "<table>" in html and "<details>" in html
    assert 'lang="mermaid"' in html or 'class="language-mermaid"' in html
    assert "Cannot update export" in (tmp_path / "summary.md").read_text()


def test_only_on_findings_posts_nothing_when_clean(tmp_path: Path, gh: FakeGitHub) -> None:
    event = pull_request_event(tmp_path)
    clean = assemblies(tmp_path, layer_app("a.zip"), layer_app("a.zip"), "c")
    assert run(environment(tmp_path, gh, event, comment="only-on-findings", **clean), policy=FAST) == 0
    assert gh.comments(PR) == []
    assert gh.check_runs[0]["conclusion"] == "success"


def test_warning_only_is_neutral_unless_fail_on_warning(tmp_path: Path, gh: FakeGitHub) -> None:
    def weak(key: str) -> AppBuilder:
        app = AppBuilder()
        p = app.stack("Producer")
        p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
        p.output("Out", ref("Layer"))
        app.stack("Consumer", depends_on=["Producer"]).resource("Fn", "AWS::Lambda::Function", Layers=[
            {"Fn::GetStackOutput": {"StackName": "Producer", "OutputName": "Out"}}])
        return app

    event = pull_request_event(tmp_path)
    pair = assemblies(tmp_path, weak("a.zip"), weak("b.zip"), "w")
    assert run(environment(tmp_path, gh, event, **pair), policy=FAST) == 0
    assert gh.check_runs[-1]["conclusion"] == "neutral"
    assert run(environment(tmp_path, gh, event, fail_on="warning", **pair), policy=FAST) == 1
    assert gh.check_runs[-1]["conclusion"] == "failure"


def test_bad_assembly_fails_the_check_and_says_why(tmp_path: Path, gh: FakeGitHub) -> None:
    event = pull_request_event(tmp_path)
    (tmp_path / "empty").mkdir()
    inputs = {"base_assembly": str(tmp_path / "empty"), "head_assembly": str(tmp_path / "empty")}
    assert run(environment(tmp_path, gh, event, **inputs), policy=FAST) == 1
    (comment,) = gh.comments(PR)
    assert "The analysis could not run" in comment.body and "has no manifest.json" in comment.body
    assert gh.check_runs[0]["conclusion"] == "failure"


def test_posting_failure_still_writes_reports_and_summary(tmp_path: Path, gh: FakeGitHub) -> None:
    gh.fail("POST", rf"/repos/{REPO}/issues/\d+/comments", 403, times=None,
            body={"message": "Resource not accessible by integration"})
    event = pull_request_event(tmp_path)
    pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "p")
    assert run(environment(tmp_path, gh, event, **pair), policy=FAST) == 1
    assert gh.comments(PR) == []
    assert (tmp_path / outputs(tmp_path)["report-path"]).is_file()
    assert "Cannot update export" in (tmp_path / "summary.md").read_text()


def test_bad_input_is_a_config_error(tmp_path: Path, gh: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    env = environment(tmp_path, gh, pull_request_event(tmp_path), fail_on="sometimes")
    assert run(env, policy=FAST) == 2
    assert "input fail-on must be one of blocker, warning, notice, never" in capsys.readouterr().err


def test_workflow_dispatch_with_pr_number_posts_to_that_pr(tmp_path: Path, gh: FakeGitHub) -> None:
    # Shape from GitHub's docs: workflow_dispatch payload with its inputs.
    event = tmp_path / "dispatch.json"
    event.write_text(json.dumps({"inputs": {"pr-number": str(PR)}, "ref": "refs/heads/main",
                                 "repository": {"full_name": REPO}, "workflow": ".github/workflows/x.yml"}))
    pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "d")
    run(environment(tmp_path, gh, event, event="workflow_dispatch", **pair), policy=FAST)
    assert len(gh.comments(PR)) == 1
    assert gh.check_runs[0]["head_sha"] == HEAD_SHA  # the PR's head, not GITHUB_SHA


def test_workflow_dispatch_without_pr_writes_summary_only(tmp_path: Path, gh: FakeGitHub) -> None:
    event = tmp_path / "dispatch.json"
    event.write_text(json.dumps({"inputs": {}, "ref": "refs/heads/main"}))
    pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "s")
    run(environment(tmp_path, gh, event, event="workflow_dispatch", comment="on", **pair), policy=FAST)
    assert gh.comments(PR) == []
    assert "Cannot update export" in (tmp_path / "summary.md").read_text()


def test_fork_safe_pair_analyze_without_token_then_publish_on_workflow_run(tmp_path: Path, gh: FakeGitHub) -> None:
    analyze_dir = tmp_path / "analyze"
    analyze_dir.mkdir()
    pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "f")
    env = environment(analyze_dir, gh, pull_request_event(analyze_dir), publish="false", fail_on="never", **pair)
    env["INPUT_GITHUB-TOKEN"] = ""  # the fork's run has no usable token
    assert run(env, policy=FAST) == 0
    report_dir = analyze_dir / outputs(analyze_dir)["report-dir"]
    assert gh.comments(PR) == [] and gh.check_runs == []

    # workflow_run payload (GitHub docs shape): fork PRs come with an empty pull_requests list.
    publish_dir = tmp_path / "publish"
    publish_dir.mkdir()
    shutil.copytree(report_dir, publish_dir / "report")
    event = publish_dir / "run.json"
    event.write_text(json.dumps({"action": "completed", "workflow_run": {
        "id": 1, "event": "pull_request", "head_sha": HEAD_SHA, "pull_requests": []}}))
    env = environment(publish_dir, gh, event, event="workflow_run", report_dir=str(publish_dir / "report"))
    assert run(env, policy=FAST) == 1
    (comment,) = gh.comments(PR)
    assert "Cannot update export" in comment.body
    assert gh.check_runs[0]["head_sha"] == HEAD_SHA


def test_publish_refuses_a_report_aimed_at_another_pr(tmp_path: Path, gh: FakeGitHub) -> None:
    gh.add_pull(99, head="9" * 40)
    report_dir = tmp_path / "report"
    report_dir.mkdir()
    (report_dir / "pull-request.json").write_text(json.dumps({"number": 99, "head_sha": HEAD_SHA}))
    event = tmp_path / "run.json"
    event.write_text(json.dumps({"workflow_run": {"id": 1, "head_sha": HEAD_SHA, "pull_requests": []}}))
    run(environment(tmp_path, gh, event, event="workflow_run", report_dir=str(report_dir)), policy=FAST)
    assert gh.comments(99) == [] and gh.comments(PR) == []


def test_hostile_uploaded_report_is_refused_not_posted(tmp_path: Path, gh: FakeGitHub) -> None:
    report_dir = tmp_path / "report"
    report_dir.mkdir()
    (report_dir / "app.report.json").write_text(json.dumps({"schema_version": 1, "findings": "@everyone"}))
    (report_dir / "pull-request.json").write_text(json.dumps({"number": PR}))
    event = tmp_path / "run.json"
    event.write_text(json.dumps({"workflow_run": {"id": 1, "head_sha": HEAD_SHA, "pull_requests": []}}))
    assert run(environment(tmp_path, gh, event, event="workflow_run", report_dir=str(report_dir)), policy=FAST) == 1
    (comment,) = gh.comments(PR)
    assert "the uploaded report is invalid" in comment.body and "@everyone" not in comment.body


@pytest.mark.slow
@pytest.mark.synth
def test_real_synth_of_base_worktree_and_head(
    tmp_path: Path, gh: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    """A git repository whose PR changes a layer: base comes from a worktree, both synthesized.

    A second run with a cache folder reuses the base synth instead of running it again (its
    head is the first run's assembly, given as head-assembly: nothing is synthesized).
    """
    repo = tmp_path / "repo"
    shutil.copytree(APPS_DIR / "layer_cross_stack", repo / "infra", ignore=shutil.ignore_patterns("cdk.out"))

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                              env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                                   "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"}).stdout.strip()

    cdk_json = repo / "infra" / "cdk.json"
    config = json.loads(cdk_json.read_text())
    git("init", "-q")
    config.setdefault("context", {})["variant"] = "base"
    cdk_json.write_text(json.dumps(config))
    git("add", "-A")
    git("commit", "-qm", "base")
    base_sha = git("rev-parse", "HEAD")
    config["context"]["variant"] = "head"
    cdk_json.write_text(json.dumps(config))
    git("commit", "-qam", "head")
    head_sha = git("rev-parse", "HEAD")
    gh.add_pull(8, head=head_sha, base=base_sha)
    payload = {"number": 8, "pull_request": {"number": 8, "head": {"sha": head_sha}, "base": {"sha": base_sha}}}
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    env = environment(tmp_path, gh, event, app_directory="infra", cache_dir=str(tmp_path / "cache"))
    env["GITHUB_WORKSPACE"] = str(repo)
    assert run(env, policy=FAST) == 1
    (comment,) = gh.comments(8)
    assert "Compute:ExportsOutputRefStrandsLayer61506D6089516553" in comment.body
    # The plan's states were built from the base worktree and the head checkout and checked.
    assert "verified: its changes were applied to this app, synthesized" in comment.body
    assert git("worktree", "list").count("\n") == 0  # the base worktree was removed
    first = capsys.readouterr().err
    assert "reusing the synth" not in first
    assert "[verify] synthesized base + context @aws-cdk/core:defaultCrossStackReferences=both" in first
    env["INPUT_VERIFY-PLANS"] = "false"  # off: the plans stay checked on the model only
    (first_head,) = (tmp_path / "runner").glob("cdk-export-guard-*/infra/head")
    env["INPUT_HEAD-ASSEMBLY"] = str(first_head)
    assert run(env, policy=FAST) == 1
    (comment,) = gh.comments(8)
    assert "checked on a model of the change, not synthesized" in comment.body
    err = capsys.readouterr().err
    assert f"[base] reusing the synth of {base_sha[:12]} from the cache" in err
    assert "cdk synth" not in err


@pytest.mark.synth
def test_cdk_diff_input_attaches_the_clis_diff(tmp_path: Path, gh: FakeGitHub, synth_app) -> None:  # type: ignore[no-untyped-def]
    event = pull_request_event(tmp_path)
    inputs = {"base_assembly": str(synth_app("layer_cross_stack", "base")),
              "head_assembly": str(synth_app("layer_cross_stack", "head")), "cdk_diff": "true"}
    run(environment(tmp_path, gh, event, **inputs), policy=FAST)
    body = gh.comments(PR)[0].body
    assert "<summary>cdk diff: Compute</summary>" in body
    assert "AWS::Lambda::LayerVersion StrandsLayer StrandsLayer61506D60 replace" in body


def test_publish_subcommand_posts_a_report_file(
    tmp_path: Path, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli.main import main

    analyze_dir = tmp_path / "analyze"
    analyze_dir.mkdir()
    pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "pub")
    env = environment(analyze_dir, gh, pull_request_event(analyze_dir), publish="false", fail_on="never", **pair)
    run(env, policy=FAST)
    report = next((analyze_dir / outputs(analyze_dir)["report-dir"]).glob("*.report.json"))
    event = tmp_path / "run.json"
    event.write_text(json.dumps({"workflow_run": {"id": 1, "head_sha": HEAD_SHA, "pull_requests": [{"number": PR}]}}))
    publish_env = environment(tmp_path, gh, event, event="workflow_run")
    for key, value in publish_env.items():
        monkeypatch.setenv(key, value)
    assert main(["publish", "--report", str(report)]) == 1
    assert "Cannot update export" in gh.comments(PR)[0].body


def test_live_without_reachable_aws_still_posts_the_offline_result(
    tmp_path: Path, gh: FakeGitHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    env = environment(tmp_path, gh, pull_request_event(tmp_path), live="true",
                      **assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "live"))
    env["CDK_EXPORT_GUARD_AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{closed}"
    assert run(env, policy=FAST) == 1
    assert "Cannot update export" in gh.comments(PR)[0].body
    assert "live check incomplete" in capsys.readouterr().err
