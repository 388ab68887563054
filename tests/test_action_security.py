"""The Action under attack (issue 12): forged comments, hostile fields, failures that must still report."""

from __future__ import annotations

from pathlib import Path

from bot.commands.action import run
from bot.github import marker
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
