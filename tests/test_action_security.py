"""The Action under attack (issue 12): forged comments, hostile fields, failures that must still report."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli.action import run
from bot.github.client import marker
from tests.builders import AppBuilder
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
    pull_request_event,
)


def forged(content: str = "✅ Reviewed: safe to merge") -> str:
    return f"{marker('.', HEAD_SHA)}\n{content}"


def test_a_forged_marker_comment_is_left_alone(tmp_path: Path) -> None:
    with FakeGitHub(REPO, token=TOKEN, others_comments_read_only=True) as gh:
        gh.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        fake = gh.add_comment(PR, forged(), user="mallory")
        pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "1")
        assert run(environment(tmp_path, gh, pull_request_event(tmp_path), **pair), policy=FAST) == 1
        mallory, bot = gh.comments(PR)
        assert (mallory.id, mallory.user, mallory.body) == (fake, "mallory", forged())
        assert bot.user == "github-actions[bot]" and "Cannot update export" in bot.body


def test_comment_author_input_names_a_github_apps_login(tmp_path: Path) -> None:
    with FakeGitHub(REPO, token=TOKEN, bot_login="export-guard[bot]") as gh:
        gh.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        fake = gh.add_comment(PR, forged(), user="mallory")
        ours = gh.add_comment(PR, forged("old findings"), user="export-guard[bot]")
        pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "1")
        env = environment(tmp_path, gh, pull_request_event(tmp_path), comment_author="export-guard[bot]", **pair)
        run(env, policy=FAST)
        assert [(c.id, c.user) for c in gh.comments(PR)] == [(fake, "mallory"), (ours, "export-guard[bot]")]
        assert gh.comments(PR)[0].body == forged()
        assert "Cannot update export" in gh.comments(PR)[1].body
        assert not [r for r in gh.requests if r.method == "POST" and r.path.endswith("/comments")]


def test_comment_author_from_the_environment_or_a_personal_tokens_login(tmp_path: Path) -> None:
    with FakeGitHub(REPO, token=TOKEN, bot_login="ci-robot", token_user="ci-robot") as gh:
        gh.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        gh.add_comment(PR, forged(), user="mallory")
        ours = gh.add_comment(PR, forged("old findings"), user="ci-robot")
        pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "1")
        run(environment(tmp_path, gh, pull_request_event(tmp_path), **pair), policy=FAST)
        assert [c.user for c in gh.comments(PR)] == ["mallory", "ci-robot"]
        assert gh.comments(PR)[1].id == ours and "Cannot update export" in gh.comments(PR)[1].body
        assert not [r for r in gh.requests if r.method in ("POST", "DELETE") and "/comments" in r.path]
    with FakeGitHub(REPO, token=TOKEN, bot_login="export-guard[bot]") as gh:
        gh.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        gh.add_comment(PR, forged(), user="mallory")
        ours = gh.add_comment(PR, forged("old findings"), user="export-guard[bot]")
        env = environment(tmp_path, gh, pull_request_event(tmp_path), **pair)
        env["CDK_EXPORT_GUARD_COMMENT_AUTHOR"] = "export-guard[bot]"
        run(env, policy=FAST)
        assert [c.id for c in gh.comments(PR)][1] == ours and gh.comments(PR)[0].body == forged()
        assert not [r for r in gh.requests if r.method in ("POST", "DELETE") and "/comments" in r.path]


def test_an_analysis_that_never_ends_still_posts_could_not_look(tmp_path: Path) -> None:
    # A FIFO as a template blocks whoever opens it for reading; the time limit must end the wait.
    with FakeGitHub(REPO, token=TOKEN) as gh:
        gh.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "1")
        template = Path(pair["head_assembly"]) / "Consumer.template.json"
        template.unlink()
        os.mkfifo(template)
        env = environment(tmp_path, gh, pull_request_event(tmp_path), analysis_timeout="3", **pair)
        started = time.monotonic()
        assert run(env, policy=FAST) == 1
        assert time.monotonic() - started < 30
        (comment,) = gh.comments(PR)
        assert "The analysis could not run" in comment.body
        assert (gh.check_runs[0]["conclusion"], gh.check_runs[0]["output"]["title"]) == \
            ("failure", "The analysis could not run")


def test_an_analysis_that_crashes_still_posts_could_not_look(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("bot.cli.orchestrate.run_analysis", crash)  # any bug of ours, any input that trips one
    with FakeGitHub(REPO, token=TOKEN) as gh:
        gh.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "1")
        assert run(environment(tmp_path, gh, pull_request_event(tmp_path), **pair), policy=FAST) == 1
        (comment,) = gh.comments(PR)
        assert "The analysis could not run" in comment.body and "RecursionError" in comment.body
        assert gh.check_runs[0]["conclusion"] == "failure"
        assert "no cross-stack export" not in comment.body.lower()


AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GITHUB_PAT = "ghp_" + "a1B2c3D4e5" * 4
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
NO_ECHO_DEFAULT = "plain-Default-Passw0rd"


def everything_posted(gh: FakeGitHub, tmp_path: Path, stderr: str) -> str:
    runs = [json.dumps(r) for r in gh.check_runs]
    return "\n".join([*(c.body for c in gh.comments(PR)), *runs, (tmp_path / "summary.md").read_text(), stderr])


@pytest.mark.synth
def test_a_failed_synth_printing_an_aws_key_pair_is_masked_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "leak.py").write_text(
        f"print('AWS_ACCESS_KEY_ID={AWS_KEY_ID}')\nprint('aws_secret_access_key = {AWS_SECRET}')\n"
        f"print('{AWS_KEY_ID}:{AWS_SECRET}')\nprint('::error::forged annotation')\nraise SystemExit(1)\n")
    with FakeGitHub(REPO, token=TOKEN) as gh:
        gh.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        base = layer_app("a.zip").write(tmp_path / "base")
        env = environment(tmp_path, gh, pull_request_event(tmp_path), base_assembly=str(base),
                          app_directory="app", synth_command=f"{sys.executable} leak.py")
        assert run(env, policy=FAST) == 1
        stderr = capsys.readouterr().err
        posted = everything_posted(gh, tmp_path, stderr)
        assert "The analysis could not run" in gh.comments(PR)[0].body
        assert "Last lines of the output" in gh.comments(PR)[0].body
        assert AWS_KEY_ID not in posted and AWS_SECRET not in posted
        assert "****" in gh.comments(PR)[0].body
        # Echoed to the log, the app's output cannot issue workflow commands.
        assert not re.search(r"(?m)^\s*::error::forged", stderr)


def secret_app(password: str) -> AppBuilder:
    app = layer_app("a.zip")
    stack = app.stacks["Consumer"]
    stack.template.setdefault("Parameters", {})["DbPassword"] = {
        "Type": "String", "NoEcho": True, "Default": NO_ECHO_DEFAULT}
    stack.resource("Fn2", "AWS::Lambda::Function", Environment={"Variables": {
        "GH": GITHUB_PAT, "PAY": STRIPE, "DB_PASSWORD": password}})
    return app


@pytest.mark.synth
def test_cdk_diff_output_is_masked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeGitHub(REPO, token=TOKEN) as gh:
        gh.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        pair = assemblies(tmp_path, secret_app("old-password-1"), secret_app("new-password-2"), "d")
        run(environment(tmp_path, gh, pull_request_event(tmp_path), cdk_diff="true", **pair), policy=FAST)
        body = gh.comments(PR)[0].body
        assert "cdk diff: Consumer" in body
        posted = everything_posted(gh, tmp_path, capsys.readouterr().err)
        for secret in (GITHUB_PAT, STRIPE, NO_ECHO_DEFAULT, "old-password-1", "new-password-2"):
            assert secret not in posted, secret


def test_a_hostile_template_path_cannot_issue_workflow_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeGitHub(REPO, token=TOKEN) as gh:
        gh.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "1")
        manifest_path = Path(pair["head_assembly"]) / "manifest.json"
        manifest = json.loads(manifest_path.read_text())
        manifest["artifacts"]["Consumer"]["properties"]["templateFile"] = (
            "x\n::error file=app.py::forged\n::set-output name=conclusion::success\r##[error]old style\n.json")
        manifest_path.write_text(json.dumps(manifest))
        assert run(environment(tmp_path, gh, pull_request_event(tmp_path), **pair), policy=FAST) == 1
        stderr = capsys.readouterr().err
        assert "forged" in stderr  # shown, for the reader ...
        for line in stderr.splitlines():  # ... but never as a command the runner obeys
            if line.lstrip().startswith(("::", "##[")):
                assert line.startswith(("::warning::cdk-export-guard: ", "::error::cdk-export-guard: ",
                                        "::add-mask::")), line


SNOOP = r'''
import os, pathlib, sys
found = []
SECRETS = pathlib.Path(sys.argv[2]).read_text().split()
def scan(label, data):
    for secret in SECRETS:
        if secret.encode() in data:
            found.append(f"{label}:{secret[:6]}")
scan("own-env", "\0".join(f"{k}={v}" for k, v in os.environ.items()).encode())
pid = os.getppid()
while pid > 1:
    for name in ("environ",):
        try:
            scan(f"{pid}/{name}", pathlib.Path(f"/proc/{pid}/{name}").read_bytes())
        except OSError:
            pass
    try:
        pid = int(pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        break
pathlib.Path(sys.argv[1]).write_text("\n".join(found) + "\n")
raise SystemExit(1)
'''


@pytest.mark.synth
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("token_variable", ["INPUT_GITHUB-TOKEN", "INPUT_GITHUB_TOKEN"])  # Docker, composite
def test_the_apps_code_finds_no_token_in_any_environment(tmp_path: Path, token_variable: str) -> None:
    # The app walks up its ancestors' /proc/<pid>/environ, as the review's exploit did.
    app = tmp_path / "app"
    app.mkdir()
    (app / "snoop.py").write_text(SNOOP)
    loot = tmp_path / "loot.txt"
    secrets = ["ghs_" + "T0ken" * 8, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "runtime-" + "R" * 20,
               "oidc-" + "O" * 20]
    with FakeGitHub(REPO, token=secrets[0]) as gh:
        gh.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        base = layer_app("a.zip").write(tmp_path / "base")
        env = environment(tmp_path, gh, pull_request_event(tmp_path), base_assembly=str(base), app_directory="app",
                          synth_command=f"{sys.executable} snoop.py {loot} {tmp_path / 'secrets.txt'}")
        (tmp_path / "secrets.txt").write_text(" ".join(secrets))
        env.pop("INPUT_GITHUB-TOKEN")
        env.update({token_variable: secrets[0], "AWS_SECRET_ACCESS_KEY": secrets[1],
                    "ACTIONS_RUNTIME_TOKEN": secrets[2], "ACTIONS_ID_TOKEN_REQUEST_TOKEN": secrets[3],
                    "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")})
        env.update({k: v for k, v in os.environ.items() if k.startswith(("CDK_", "VIRTUAL_ENV"))})
        done = subprocess.run([sys.executable, "-m", "bot", "action"], env=env, capture_output=True, text=True,
                              timeout=300, check=False, cwd=Path(__file__).parents[1])
        assert done.returncode == 1, done.stderr
        assert loot.read_text().strip() == ""  # the app ran, and found nothing
        (comment,) = gh.comments(PR)  # the token still reached the client
        assert "The analysis could not run" in comment.body
        logged = "\n".join(line for line in (done.stdout + done.stderr).splitlines()
                            if not line.startswith("::add-mask::"))  # the runner hides these values
        assert not [s for s in secrets if s in logged + comment.body]
        assert f"::add-mask::{secrets[0]}" in done.stdout
        assert "Request GET /user failed" not in done.stderr  # PyGithub's own retry log lines


def test_a_refused_comment_names_the_permission_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeGitHub(REPO, token=TOKEN) as gh:
        gh.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        gh.fail("POST", rf"/repos/{REPO}/issues/\d+/comments", 403, times=None,
                body={"message": "Resource not accessible by integration"})
        pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "1")
        run(environment(tmp_path, gh, pull_request_event(tmp_path), **pair), policy=FAST)
        warning = next(line for line in capsys.readouterr().err.splitlines() if "comment for" in line)
        assert warning.count("pull-requests: write") == 1, warning


def test_refused_check_runs_and_statuses_name_checks_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeGitHub(REPO, token=TOKEN) as gh:
        gh.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        gh.fail("POST", rf"/repos/{REPO}/check-runs", 403, times=None,
                body={"message": "Resource not accessible by integration"})
        gh.fail("POST", rf"/repos/{REPO}/statuses/\w+", 403, times=None,
                body={"message": "Resource not accessible by integration"})
        pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "1")
        run(environment(tmp_path, gh, pull_request_event(tmp_path), **pair), policy=FAST)
        warning = next(line for line in capsys.readouterr().err.splitlines() if "check was not set" in line)
        assert "checks: write" in warning, warning


def git_repo(path: Path, commits: int) -> list[str]:
    """A repository with ``commits`` empty commits; returns their SHAs, oldest first; HEAD is the first."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True, text=True,
                              env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                                   "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"}).stdout.strip()
    path.mkdir(parents=True, exist_ok=True)
    git("init", "-q")
    shas = []
    for i in range(commits):
        git("commit", "-q", "--allow-empty", "-m", f"c{i}")
        shas.append(git("rev-parse", "HEAD"))
    git("checkout", "-q", "--detach", shas[0])
    return shas


def dispatch(tmp_path: Path, inputs: dict[str, str]) -> Path:
    event = tmp_path / "dispatch.json"
    event.write_text(json.dumps({"inputs": inputs, "ref": "refs/heads/main", "repository": {"full_name": REPO}}))
    return event


def test_dispatch_refuses_when_the_checkout_is_not_the_prs_head(tmp_path: Path) -> None:
    main_sha, pr_head = git_repo(tmp_path / "ws", 2)  # main is checked out; the PR's head is another commit
    with FakeGitHub(REPO, token=TOKEN) as gh:
        gh.add_pull(PR, head=pr_head, base=BASE_SHA)
        pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("a.zip"), "1")  # main has no findings
        env = environment(tmp_path, gh, dispatch(tmp_path, {"pr-number": str(PR)}), event="workflow_dispatch", **pair)
        env["GITHUB_WORKSPACE"], env["GITHUB_SHA"] = str(tmp_path / "ws"), main_sha
        assert run(env, policy=FAST) == 1
        (comment,) = gh.comments(PR)
        assert "The analysis could not run" in comment.body and pr_head[:12] in comment.body
        assert "No cross-stack export" not in comment.body
        assert [(r["head_sha"], r["conclusion"]) for r in gh.check_runs] == [(pr_head, "failure")]


def test_dispatch_posts_when_the_prs_head_is_checked_out(tmp_path: Path) -> None:
    (pr_head,) = git_repo(tmp_path / "ws", 1)
    with FakeGitHub(REPO, token=TOKEN) as gh:
        gh.add_pull(PR, head=pr_head, base=BASE_SHA)
        pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "1")
        env = environment(tmp_path, gh, dispatch(tmp_path, {"pr-number": str(PR)}), event="workflow_dispatch", **pair)
        env["GITHUB_WORKSPACE"] = str(tmp_path / "ws")
        assert run(env, policy=FAST) == 1
        assert "Cannot update export" in gh.comments(PR)[0].body
        assert [r["head_sha"] for r in gh.check_runs] == [pr_head]


def test_dispatch_without_a_pr_writes_the_job_summary_only(tmp_path: Path) -> None:
    with FakeGitHub(REPO, token=TOKEN) as gh:
        gh.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "1")
        env = environment(tmp_path, gh, dispatch(tmp_path, {}), event="workflow_dispatch", **pair)
        run(env, policy=FAST)
        assert gh.comments(PR) == [] and gh.check_runs == [] and gh.statuses == []
        assert "Cannot update export" in (tmp_path / "summary.md").read_text()


ESCAPE_TEMPLATE = ('{% extends "comment.md.j2" %}{% block header %}'
                   "{{ ''.__class__.__mro__[1].__subclasses__() }}{{ cycler.__init__.__globals__.os.getcwd() }}"
                   "{% endblock %}")


def test_a_custom_template_cannot_reach_python(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "custom.md.j2").write_text(ESCAPE_TEMPLATE)
    with FakeGitHub(REPO, token=TOKEN) as gh:
        gh.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "1")
        run(environment(tmp_path, gh, pull_request_event(tmp_path), template_dir="tpl", **pair), policy=FAST)
        (comment,) = gh.comments(PR)
        assert "subclasses" not in comment.body and "<class" not in comment.body and os.getcwd() not in comment.body
        assert "Cannot update export" in comment.body  # the packaged template took over
        assert "template-dir" in capsys.readouterr().err


def test_a_privileged_job_takes_no_template_from_the_workspace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "custom.md.j2").write_text(
        '{% extends "comment.md.j2" %}{% block header %}✅ Reviewed: safe to merge{% endblock %}')
    with FakeGitHub(REPO, token=TOKEN) as gh:
        gh.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "1")
        env = environment(tmp_path, gh, pull_request_event(tmp_path), template_dir="tpl", **pair)
        env["GITHUB_EVENT_NAME"] = "pull_request_target"
        run(env, policy=FAST)
        assert "safe to merge" not in gh.comments(PR)[0].body
        assert "template-dir is ignored" in capsys.readouterr().err


def test_the_analysis_time_limit_posts_could_not_look(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever hangs (a stuck synth, an endpoint, a reader the loader did not foresee), the limit ends it.
    import threading

    never = threading.Event()
    monkeypatch.setattr("bot.cli.orchestrate.run_analysis", lambda *a, **k: never.wait())
    with FakeGitHub(REPO, token=TOKEN) as gh:
        gh.add_pull(PR, head=HEAD_SHA, base=BASE_SHA)
        pair = assemblies(tmp_path, layer_app("a.zip"), layer_app("b.zip"), "1")
        started = time.monotonic()
        code = run(environment(tmp_path, gh, pull_request_event(tmp_path), analysis_timeout="2", **pair), policy=FAST)
        never.set()
        assert code == 1 and time.monotonic() - started < 30
        (comment,) = gh.comments(PR)
        assert "did not finish within 2 s (input analysis-timeout)" in comment.body
        assert gh.check_runs[0]["conclusion"] == "failure"
