"""bot.github.client against the loopback GitHub in tests/github_server.py; nothing leaves 127.0.0.1."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import pytest

from bot.github.client import (
    Annotation,
    CheckResult,
    CommentResult,
    GitHubClient,
    GitHubError,
    RetryPolicy,
    comment_key,
    marker,
)
from tests.github_server import NOT_ACCESSIBLE_MESSAGE, FakeGitHub

TOKEN = "ghs_test_token"
REPO = "octo/app"
PR = 1
SHA_A = "a1" * 20
SHA_B = "b2" * 20
SHA_C = "c3" * 20
COMMENTS = f"/repos/{REPO}/issues/{PR}/comments"
PULL = f"/repos/{REPO}/pulls/{PR}"
CHECK_RUNS = f"/repos/{REPO}/check-runs"
FAST = RetryPolicy(backoff_factor=0.5, seconds_between_requests=0, seconds_between_writes=0, timeout=5)


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub(REPO, token=TOKEN) as server:
        server.add_pull(PR, head=SHA_A)
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(gh: FakeGitHub, sleeps: list[float]) -> Iterator[GitHubClient]:
    with GitHubClient(TOKEN, REPO, gh.url, policy=FAST, sleep=sleeps.append) as made:
        yield made


def calls(gh: FakeGitHub) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in gh.requests]


def bot_body(key: str, sha: str, content: str) -> str:
    return f"{marker(key, sha)}\n{content}"


def only_comment(gh: FakeGitHub) -> str:
    bodies = [c.body for c in gh.comments(PR)]
    assert len(bodies) == 1, bodies
    return bodies[0]


# -- comment lifecycle ------------------------------------------------------------------


def test_first_run_creates_one_comment_and_one_check_run(gh: FakeGitHub, client: GitHubClient) -> None:
    result = client.upsert_comment(PR, "## 2 exports break", key="apps/api", head_sha=SHA_A)
    check = client.publish_check(
        SHA_A,
        name="cdk-export-guard",
        conclusion="failure",
        title="2 exports break",
        summary="details",
        text="more details",
        details_url="https://example.test/run/7",
    )

    (comment,) = gh.comments(PR)
    assert result == CommentResult("created", f"{gh.url}/{REPO}/pull/1#issuecomment-{comment.id}", comment.id)
    assert comment.body == f"<!-- cdk-export-guard key=apps/api sha={SHA_A} -->\n## 2 exports break"
    assert comment.user == "github-actions[bot]"
    (run,) = gh.check_runs
    assert check == CheckResult("check-run", f"{gh.url}/{REPO}/runs/{run['id']}", None, 0, 0)
    assert (run["name"], run["head_sha"], run["status"], run["conclusion"]) == (
        "cdk-export-guard", SHA_A, "completed", "failure",
    )
    assert run["output"] == {"title": "2 exports break", "summary": "details", "text": "more details"}
    assert run["details_url"] == "https://example.test/run/7"
    assert calls(gh) == [
        ("GET", COMMENTS, 200),  # look for an earlier comment
        ("GET", PULL, 200),  # is SHA_A still the head?
        ("POST", COMMENTS, 201),
        ("GET", COMMENTS, 200),  # did a racing run create one too?
        ("POST", CHECK_RUNS, 201),
    ]
    assert all(r.authorization == f"token {TOKEN}" for r in gh.requests)
    assert gh.requests[0].query == {"per_page": "100"}


def test_changed_body_edits_the_same_comment(gh: FakeGitHub, client: GitHubClient) -> None:
    first = client.upsert_comment(PR, "one finding", key="apps/api", head_sha=SHA_A)
    gh.pr_head(PR, SHA_B)
    gh.clear_requests()

    second = client.upsert_comment(PR, "two findings", key="apps/api", head_sha=SHA_B)

    assert second == CommentResult("updated", first.url, first.comment_id)
    assert only_comment(gh) == bot_body("apps/api", SHA_B, "two findings")
    assert calls(gh) == [
        ("GET", COMMENTS, 200),
        ("GET", PULL, 200),
        ("PATCH", f"/repos/{REPO}/issues/comments/{first.comment_id}", 200),
    ]
    assert gh.requests[-1].body == {"body": bot_body("apps/api", SHA_B, "two findings")}


def test_same_body_is_unchanged_and_writes_nothing(gh: FakeGitHub, client: GitHubClient) -> None:
    first = client.upsert_comment(PR, "one finding\n", key="apps/api", head_sha=SHA_A)
    gh.clear_requests()

    again = client.upsert_comment(PR, "one finding", key="apps/api", head_sha=SHA_A)

    assert again == CommentResult("unchanged", first.url, first.comment_id)
    assert calls(gh) == [("GET", COMMENTS, 200)]
    assert not [r for r in gh.requests if r.method in ("PATCH", "POST", "DELETE")]


def test_resolve_replaces_the_comment_when_findings_are_gone(gh: FakeGitHub, client: GitHubClient) -> None:
    first = client.upsert_comment(PR, "one finding", key="apps/api", head_sha=SHA_A)
    gh.pr_head(PR, SHA_B)
    gh.clear_requests()

    resolved = client.resolve_comment(PR, key="apps/api", head_sha=SHA_B, body="✅ Resolved in b2b2b2b.")
    again = client.resolve_comment(PR, key="apps/api", head_sha=SHA_B, body="✅ Resolved in b2b2b2b.")

    assert resolved == CommentResult("updated", first.url, first.comment_id)
    assert again == CommentResult("unchanged", first.url, first.comment_id)
    assert only_comment(gh) == bot_body("apps/api", SHA_B, "✅ Resolved in b2b2b2b.")
    assert [(m, p) for m, p, _ in calls(gh)] == [
        ("GET", COMMENTS),
        ("GET", PULL),
        ("PATCH", f"/repos/{REPO}/issues/comments/{first.comment_id}"),
        ("GET", COMMENTS),
    ]


def test_resolve_without_a_comment_creates_nothing(gh: FakeGitHub, client: GitHubClient) -> None:
    gh.add_comment(PR, "LGTM")

    result = client.resolve_comment(PR, key="apps/api", head_sha=SHA_A, body="✅ Resolved.")

    assert result == CommentResult("unchanged", None, None)
    assert [c.body for c in gh.comments(PR)] == ["LGTM"]
    assert calls(gh) == [("GET", COMMENTS, 200)]


def test_comment_on_page_three_is_found_and_edited(gh: FakeGitHub, client: GitHubClient) -> None:
    gh.add_comments(PR, 229)
    ours = gh.add_comment(PR, bot_body("apps/api", SHA_A, "old"), user="github-actions[bot]")
    gh.add_comments(PR, 21)  # 251 comments: pages of 100, 100, 51

    result = client.upsert_comment(PR, "new", key="apps/api", head_sha=SHA_A)

    assert (result.action, result.comment_id) == ("updated", ours)
    assert len(gh.comments(PR)) == 251
    assert [c.body for c in gh.comments(PR) if c.id == ours] == [bot_body("apps/api", SHA_A, "new")]
    listing = [r for r in gh.requests if r.method == "GET" and r.path == COMMENTS]
    assert [dict(r.query) for r in listing] == [
        {"per_page": "100"},
        {"per_page": "100", "page": "2"},
        {"per_page": "100", "page": "3"},
    ]
    assert [(m, p) for m, p, _ in calls(gh) if m != "GET"] == [("PATCH", f"/repos/{REPO}/issues/comments/{ours}")]


def test_quoted_or_other_keys_markers_are_not_ours(gh: FakeGitHub, client: GitHubClient) -> None:
    quoted = f"> {marker('apps/api', SHA_A)}\n> old"
    later_line = f"see below\n{marker('apps/api', SHA_A)}"
    gh.add_comment(PR, quoted)
    gh.add_comment(PR, later_line)
    gh.add_comment(PR, bot_body("apps/api/sub", SHA_A, "other app"))

    result = client.upsert_comment(PR, "mine", key="apps/api", head_sha=SHA_A)

    assert result.action == "created"
    assert [c.body for c in gh.comments(PR)][:3] == [quoted, later_line, bot_body("apps/api/sub", SHA_A, "other app")]
    assert [m for m, _, _ in calls(gh)].count("PATCH") == 0


def test_comment_author_filter_ignores_a_spoofed_marker(gh: FakeGitHub, sleeps: list[float]) -> None:
    spoof = gh.add_comment(PR, bot_body("apps/api", SHA_A, "pwned"), user="mallory")
    with GitHubClient(
        TOKEN, REPO, gh.url, policy=FAST, sleep=sleeps.append, comment_author="github-actions[bot]"
    ) as strict:
        result = strict.upsert_comment(PR, "real", key="apps/api", head_sha=SHA_A)

    assert result.action == "created" and result.comment_id != spoof
    assert [(c.user, c.body) for c in gh.comments(PR)] == [
        ("mallory", bot_body("apps/api", SHA_A, "pwned")),
        ("github-actions[bot]", bot_body("apps/api", SHA_A, "real")),
    ]
    assert not [r for r in gh.requests if r.method in ("PATCH", "DELETE")]


def test_two_keys_get_two_comments(gh: FakeGitHub, client: GitHubClient) -> None:
    api = client.upsert_comment(PR, "api findings", key="apps/api", head_sha=SHA_A)
    web = client.upsert_comment(PR, "web findings", key="./apps/web/", head_sha=SHA_A)
    api_again = client.upsert_comment(PR, "api findings v2", key="apps/api", head_sha=SHA_A)

    assert (api.action, web.action, api_again.action) == ("created", "created", "updated")
    assert api_again.comment_id == api.comment_id != web.comment_id
    assert [c.body for c in gh.comments(PR)] == [
        bot_body("apps/api", SHA_A, "api findings v2"),
        bot_body("apps/web", SHA_A, "web findings"),
    ]
    assert [m for m, _, _ in calls(gh)].count("POST") == 2


def test_key_cannot_break_the_html_comment() -> None:
    assert comment_key("./apps/api/") == comment_key("apps\\api") == "apps/api"
    assert comment_key("") == "."
    nasty = marker("my app --> <b>x</b>\nnext", SHA_A)
    assert nasty == f"<!-- cdk-export-guard key=my%20app%20-%2D%3E%20%3Cb%3Ex%3C/b%3E%0Anext sha={SHA_A} -->"
    assert comment_key("a---b") == "a-%2D-b"


def test_superseded_when_the_pr_head_moved(gh: FakeGitHub, client: GitHubClient) -> None:
    gh.pr_head(PR, SHA_B)

    result = client.upsert_comment(PR, "stale findings", key="apps/api", head_sha=SHA_A)

    assert result == CommentResult("superseded", None, None)
    assert gh.comments(PR) == []
    assert calls(gh) == [("GET", COMMENTS, 200), ("GET", PULL, 200)]


def test_superseded_run_does_not_overwrite_a_newer_comment(gh: FakeGitHub, client: GitHubClient) -> None:
    newer = gh.add_comment(PR, bot_body("apps/api", SHA_B, "newer"), user="github-actions[bot]")
    gh.pr_head(PR, SHA_B)

    result = client.upsert_comment(PR, "older", key="apps/api", head_sha=SHA_A)

    assert (result.action, result.comment_id) == ("superseded", newer)
    assert only_comment(gh) == bot_body("apps/api", SHA_B, "newer")
    assert [m for m, _, _ in calls(gh)] == ["GET", "GET"]


# -- races ------------------------------------------------------------------------------


def test_race_older_run_posted_first_newest_content_wins(gh: FakeGitHub, client: GitHubClient) -> None:
    # We are the run for SHA_B. Between our listing and our POST, the run for SHA_A posts.
    gh.pr_head(PR, SHA_B)
    other_run = []

    def older_run_posts(server: FakeGitHub) -> None:
        other_run.append(server.add_comment(PR, bot_body("apps/api", SHA_A, "old"), user="github-actions[bot]"))

    gh.on("POST", COMMENTS, older_run_posts)

    result = client.upsert_comment(PR, "new", key="apps/api", head_sha=SHA_B)

    (survivor,) = gh.comments(PR)
    assert survivor.id == other_run[0]  # the oldest comment is kept ...
    assert survivor.body == bot_body("apps/api", SHA_B, "new")  # ... with the current head's content
    assert result == CommentResult("updated", f"{gh.url}/{REPO}/pull/1#issuecomment-{survivor.id}", survivor.id)
    ours = survivor.id + 1
    assert [(m, p) for m, p, _ in calls(gh)] == [
        ("GET", COMMENTS),
        ("GET", PULL),
        ("POST", COMMENTS),
        ("GET", COMMENTS),
        ("GET", PULL),
        ("PATCH", f"/repos/{REPO}/issues/comments/{survivor.id}"),
        ("DELETE", f"/repos/{REPO}/issues/comments/{ours}"),
    ]


def test_race_newer_run_posted_first_we_step_aside(gh: FakeGitHub, client: GitHubClient) -> None:
    # We are the run for SHA_A; after our head check, SHA_B is pushed and its run posts first.
    def push_and_post(server: FakeGitHub) -> None:
        server.pr_head(PR, SHA_B)
        server.add_comment(PR, bot_body("apps/api", SHA_B, "newest"), user="github-actions[bot]")

    gh.on("POST", COMMENTS, push_and_post)

    result = client.upsert_comment(PR, "older", key="apps/api", head_sha=SHA_A)

    assert result.action == "superseded"
    assert only_comment(gh) == bot_body("apps/api", SHA_B, "newest")
    assert [m for m, _, _ in calls(gh)] == ["GET", "GET", "POST", "GET", "GET", "DELETE"]


def test_leftover_duplicates_are_collapsed_on_update(gh: FakeGitHub, client: GitHubClient) -> None:
    first = gh.add_comment(PR, bot_body("apps/api", SHA_A, "x"), user="github-actions[bot]")
    second = gh.add_comment(PR, bot_body("apps/api", SHA_A, "y"), user="github-actions[bot]")

    result = client.upsert_comment(PR, "z", key="apps/api", head_sha=SHA_A)

    assert (result.action, result.comment_id) == ("updated", first)
    assert only_comment(gh) == bot_body("apps/api", SHA_A, "z")
    assert ("DELETE", f"/repos/{REPO}/issues/comments/{second}", 204) in calls(gh)


def test_two_threads_racing_leave_exactly_one_comment(gh: FakeGitHub) -> None:
    both_listed = threading.Barrier(2, timeout=5)
    gh.on("GET", COMMENTS, lambda _: both_listed.wait(), times=2)  # both runs see no comment, both create
    results: dict[str, CommentResult] = {}

    def run(name: str) -> None:
        with GitHubClient(TOKEN, REPO, gh.url, policy=FAST, sleep=lambda _: None) as own:
            results[name] = own.upsert_comment(PR, f"from {name}", key="apps/api", head_sha=SHA_A)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert set(results) == {"one", "two"}
    body = only_comment(gh)
    assert body in (bot_body("apps/api", SHA_A, "from one"), bot_body("apps/api", SHA_A, "from two"))
    assert [m for m, _, _ in calls(gh)].count("POST") == 2
    assert [m for m, _, s in calls(gh) if s < 400].count("DELETE") == 1
    survivor = gh.comments(PR)[0].id
    assert {r.comment_id for r in results.values()} == {survivor}


# -- retries and rate limits -------------------------------------------------------------


def test_5xx_twice_then_success(gh: FakeGitHub, client: GitHubClient, sleeps: list[float]) -> None:
    gh.fail("GET", PULL, 502, times=2)

    assert client.pull_request_head(PR) == SHA_A
    assert calls(gh) == [("GET", PULL, 502), ("GET", PULL, 502), ("GET", PULL, 200)]
    assert sleeps == [1.0]  # urllib3 backoff: 0 s, then backoff_factor * 2 (injected, not slept)


def test_5xx_forever_fails_after_bounded_attempts(gh: FakeGitHub, client: GitHubClient, sleeps: list[float]) -> None:
    gh.fail("POST", COMMENTS, 503, times=None)

    with pytest.raises(GitHubError) as caught:
        client.upsert_comment(PR, "x", key="apps/api", head_sha=SHA_A)

    assert caught.value.status == 503
    assert "creating the PR comment" in str(caught.value)
    assert "HTTP 503: Service Unavailable" in str(caught.value) and "after 4 attempts" in str(caught.value)
    assert "githubstatus.com" in caught.value.hint
    assert "\n" not in str(caught.value)
    assert [c for c in calls(gh) if c[0] == "POST"] == [("POST", COMMENTS, 503)] * 4
    assert sleeps == [1.0, 2.0]


def test_secondary_rate_limit_is_retried_after_retry_after(
    gh: FakeGitHub, client: GitHubClient, sleeps: list[float]
) -> None:
    gh.fail_secondary_rate_limit("POST", COMMENTS)
    started = time.monotonic()

    result = client.upsert_comment(PR, "x", key="apps/api", head_sha=SHA_A)

    assert result.action == "created"
    assert [c for c in calls(gh) if c[0] == "POST"] == [("POST", COMMENTS, 403), ("POST", COMMENTS, 201)]
    assert sleeps == [1.0]  # Retry-After: 1 honoured through the injected sleep
    assert time.monotonic() - started < 2


def test_secondary_rate_limit_without_retry_after_waits_a_minute(
    gh: FakeGitHub, client: GitHubClient, sleeps: list[float]
) -> None:
    gh.fail("GET", PULL, 403, body={"message": "You have exceeded a secondary rate limit."})

    assert client.pull_request_head(PR) == SHA_A
    assert sleeps == [60.0]
    assert calls(gh) == [("GET", PULL, 403), ("GET", PULL, 200)]


def test_rate_limit_forever_says_rate_limit(gh: FakeGitHub, client: GitHubClient) -> None:
    gh.fail_secondary_rate_limit("GET", PULL, times=None)

    with pytest.raises(GitHubError) as caught:
        client.pull_request_head(PR)

    assert caught.value.status == 403
    assert "rate limit" in caught.value.message and "after 4 attempts" in caught.value.message
    assert "permission" not in str(caught.value)
    assert calls(gh) == [("GET", PULL, 403)] * 4


def test_message_only_rate_limit_forever_is_not_blamed_on_permissions(
    gh: FakeGitHub, client: GitHubClient, sleeps: list[float]
) -> None:
    gh.fail("GET", PULL, 403, times=None, body={"message": "You have exceeded a secondary rate limit."})

    with pytest.raises(GitHubError) as caught:
        client.pull_request_head(PR)

    assert caught.value.status == 403
    assert "rate limit" in caught.value.message and "permission" not in str(caught.value)
    assert calls(gh) == [("GET", PULL, 403)] * 4
    assert sleeps == [60.0] * 3


def test_primary_rate_limit_far_from_reset_fails_without_waiting(
    gh: FakeGitHub, client: GitHubClient, sleeps: list[float]
) -> None:
    reset = str(int(time.time()) + 3600)
    gh.fail(
        "GET",
        PULL,
        403,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
        body={"message": "API rate limit exceeded for installation ID 1."},
    )

    with pytest.raises(GitHubError) as caught:
        client.pull_request_head(PR)

    assert "API rate limit exceeded for installation ID 1." in caught.value.message
    assert re.search(r"resets in 3[56]\d\d s, longer than we wait", caught.value.message)
    assert "Re-run the job after the reset" in caught.value.hint
    assert calls(gh) == [("GET", PULL, 403)]
    assert sleeps == []


def test_connection_refused_is_a_github_error(sleeps: list[float]) -> None:
    with FakeGitHub(REPO) as gone:
        url = gone.url
    client = GitHubClient(TOKEN, REPO, url, policy=FAST, sleep=sleeps.append)

    with pytest.raises(GitHubError) as caught:
        client.pull_request_head(PR)

    assert caught.value.status is None
    assert f"Could not reach GitHub at {url}" in caught.value.message
    assert sleeps == [1.0, 2.0]


# -- refusals ---------------------------------------------------------------------------


def test_403_on_check_run_falls_back_to_a_commit_status(gh: FakeGitHub, client: GitHubClient) -> None:
    gh.fail("POST", CHECK_RUNS, 403, body={"message": NOT_ACCESSIBLE_MESSAGE})
    notes = [Annotation("lib/stack.ts", 3, 4, "warning", "Export renamed", "…")]

    result = client.publish_check(
        SHA_A,
        name="cdk-export-guard",
        conclusion="neutral",
        title="1 export may break",
        summary="s",
        annotations=notes,
        details_url="https://example.test/run/1",
    )

    assert result.kind == "status" and result.url == "https://example.test/run/1"
    assert result.fallback_reason is not None
    assert NOT_ACCESSIBLE_MESSAGE in result.fallback_reason and "`checks: write`" in result.fallback_reason
    assert "1 annotations could not be shown" in result.fallback_reason
    assert calls(gh) == [("POST", CHECK_RUNS, 403), ("POST", f"/repos/{REPO}/statuses/{SHA_A}", 201)]
    assert gh.requests[-1].body == {
        "state": "success",
        "target_url": "https://example.test/run/1",
        "description": "warnings only: 1 export may break",
        "context": "cdk-export-guard",
    }
    assert gh.check_runs == []


def test_status_fallback_clips_description_and_maps_failure(gh: FakeGitHub, client: GitHubClient) -> None:
    gh.fail("POST", CHECK_RUNS, 403, body={"message": NOT_ACCESSIBLE_MESSAGE})

    result = client.publish_check(SHA_A, name="guard", conclusion="failure", title="x" * 300, summary="s")

    (status,) = gh.statuses
    assert result.kind == "status"
    assert status["state"] == "failure" and status["context"] == "guard"
    assert len(status["description"]) == 140 and status["description"].endswith("…")


def test_403_on_both_check_run_and_status_names_statuses_permission(gh: FakeGitHub, client: GitHubClient) -> None:
    gh.fail("POST", CHECK_RUNS, 403, body={"message": NOT_ACCESSIBLE_MESSAGE})
    gh.fail("POST", rf"/repos/{REPO}/statuses/\w+", 403, body={"message": NOT_ACCESSIBLE_MESSAGE})

    with pytest.raises(GitHubError) as caught:
        client.publish_check(SHA_A, name="guard", conclusion="success", title="ok", summary="s")

    assert caught.value.status == 403 and "`statuses: write`" in caught.value.hint
    assert [s for _, _, s in calls(gh)] == [403, 403]


def test_403_on_comment_names_the_permission(gh: FakeGitHub, client: GitHubClient) -> None:
    gh.fail("POST", COMMENTS, 403, body={"message": NOT_ACCESSIBLE_MESSAGE})

    with pytest.raises(GitHubError) as caught:
        client.upsert_comment(PR, "x", key="apps/api", head_sha=SHA_A)

    error = caught.value
    assert error.status == 403
    assert NOT_ACCESSIBLE_MESSAGE in error.message
    assert "`pull-requests: write`" in error.hint and "`issues: write`" in error.hint
    assert calls(gh) == [("GET", COMMENTS, 200), ("GET", PULL, 200), ("POST", COMMENTS, 403)]  # not retried


def test_404_when_the_pr_is_gone(gh: FakeGitHub, client: GitHubClient) -> None:
    with pytest.raises(GitHubError) as caught:
        client.upsert_comment(99, "x", key="apps/api", head_sha=SHA_A)

    assert caught.value.status == 404
    assert "pull request #99 in octo/app does not exist or the token cannot see it" in caught.value.message
    assert calls(gh) == [("GET", f"/repos/{REPO}/issues/99/comments", 404)]

    with pytest.raises(GitHubError, match="reading pull request #99"):
        client.pull_request_head(99)


def test_bad_token_is_reported(gh: FakeGitHub) -> None:
    client = GitHubClient("wrong", REPO, gh.url, policy=FAST, sleep=lambda _: None)

    with pytest.raises(GitHubError) as caught:
        client.pull_request_head(PR)

    assert caught.value.status == 401 and "rejected the token" in caught.value.message
    assert calls(gh) == [("GET", PULL, 401)]


def test_422_too_long_reports_githubs_message(gh: FakeGitHub, client: GitHubClient) -> None:
    # The client cuts bodies to fit (marker included); GitHub's own 422 is still translated.
    gh.fail("POST", COMMENTS, 422, body={"message": "Validation Failed", "errors": [{
        "resource": "IssueComment", "code": "custom", "field": "body",
        "message": "body is too long (maximum is 65536 characters)"}]})
    with pytest.raises(GitHubError) as caught:
        client.upsert_comment(PR, "x" * 70_000, key="apps/api", head_sha=SHA_A)

    assert caught.value.status == 422
    assert "body is too long (maximum is 65536 characters)" in caught.value.message
    assert "creating the PR comment" in caught.value.message
    assert [c for c in calls(gh) if c[0] == "POST"] == [("POST", COMMENTS, 422)]
    assert gh.comments(PR) == []


def test_bad_configuration_fails_before_any_request() -> None:
    with pytest.raises(GitHubError, match="owner/name"):
        GitHubClient(TOKEN, "no-slash", "https://api.github.com")
    with pytest.raises(GitHubError, match="API URL"):
        GitHubClient(TOKEN, REPO, "api.github.com")
    with pytest.raises(GitHubError, match="token"):
        GitHubClient("", REPO, "https://api.github.com")


# -- check runs -------------------------------------------------------------------------


def annotations(n: int) -> list[Annotation]:
    levels = ("notice", "warning", "failure")
    return [Annotation(f"lib/s{i}.ts", i + 1, i + 1, levels[i % 3], f"t{i}", f"m{i}") for i in range(n)]


def test_120_annotations_go_in_three_requests(gh: FakeGitHub, client: GitHubClient) -> None:
    result = client.publish_check(
        SHA_A, name="guard", conclusion="failure", title="t", summary="s", annotations=annotations(120)
    )

    (run,) = gh.check_runs
    assert result.kind == "check-run" and (result.annotations_sent, result.annotations_dropped) == (120, 0)
    assert calls(gh) == [
        ("POST", CHECK_RUNS, 201),
        ("PATCH", f"{CHECK_RUNS}/{run['id']}", 200),
        ("PATCH", f"{CHECK_RUNS}/{run['id']}", 200),
    ]
    sizes = [len(r.body["output"]["annotations"]) for r in gh.requests]
    assert sizes == [50, 50, 20]
    assert len(run["annotations"]) == 120
    assert {a["path"] for a in run["annotations"]} == {f"lib/s{i}.ts" for i in range(120)}
    assert [a["annotation_level"] for a in run["annotations"][:40]] == ["failure"] * 40  # most severe first
    assert run["annotations"][0] == {
        "path": "lib/s2.ts",
        "start_line": 3,
        "end_line": 3,
        "annotation_level": "failure",
        "title": "t2",
        "message": "m2",
    }


def test_annotation_cap_and_summary_limit(gh: FakeGitHub, client: GitHubClient) -> None:
    result = client.publish_check(
        SHA_A, name="guard", conclusion="failure", title="t", summary="é" * 40_000, annotations=annotations(1001)
    )

    (run,) = gh.check_runs
    assert (result.annotations_sent, result.annotations_dropped) == (1000, 1)
    assert len(run["annotations"]) == 1000
    assert len([r for r in gh.requests if r.method == "PATCH"]) == 19
    assert len(run["output"]["summary"].encode()) <= 65535  # GitHub counts bytes, not characters
    assert run["output"]["summary"].endswith("truncated to GitHub's 65535-byte limit.")


def test_more_than_50_annotations_in_one_request_is_refused_by_the_fake(gh: FakeGitHub) -> None:
    from github import Auth, Github, GithubException

    raw = Github(auth=Auth.Token(TOKEN), base_url=gh.url, lazy=True).get_repo(REPO)
    too_many = [a.to_json() for a in annotations(51)]
    with pytest.raises(GithubException) as caught:
        raw.create_check_run("guard", SHA_A, output={"title": "t", "summary": "s", "annotations": too_many})
    assert caught.value.status == 422
    assert "No more than 50 items are allowed; 51 were supplied." in caught.value.data["message"]


def test_ghes_base_url_works(gh: FakeGitHub, sleeps: list[float]) -> None:
    with GitHubClient(TOKEN, REPO, gh.ghes_url + "/", policy=FAST, sleep=sleeps.append) as ghes:
        created = ghes.upsert_comment(PR, "one", key="apps/api", head_sha=SHA_A)
        updated = ghes.upsert_comment(PR, "two", key="apps/api", head_sha=SHA_A)
        check = ghes.publish_check(
            SHA_A, name="guard", conclusion="success", title="t", summary="s", annotations=annotations(60)
        )

    assert (created.action, updated.action, check.kind) == ("created", "updated", "check-run")
    assert updated.comment_id == created.comment_id
    assert only_comment(gh) == bot_body("apps/api", SHA_A, "two")
    assert {r.prefix for r in gh.requests} == {"/api/v3"}
    assert [m for m, _, _ in calls(gh)] == ["GET", "GET", "POST", "GET", "GET", "GET", "PATCH", "POST", "PATCH"]


# -- whose comment is ours (issue 12) -----------------------------------------------------


def test_default_client_ignores_a_marker_comment_someone_else_wrote(gh: FakeGitHub, client: GitHubClient) -> None:
    forged = gh.add_comment(PR, bot_body("apps/api", SHA_A, "✅ Reviewed: safe to merge"), user="mallory")

    result = client.upsert_comment(PR, "real findings", key="apps/api", head_sha=SHA_A)

    assert result.action == "created" and result.comment_id != forged
    assert [(c.user, c.body) for c in gh.comments(PR)] == [
        ("mallory", bot_body("apps/api", SHA_A, "✅ Reviewed: safe to merge")),
        ("github-actions[bot]", bot_body("apps/api", SHA_A, "real findings")),
    ]
    assert not [r for r in gh.requests if r.method in ("PATCH", "DELETE")]


def test_a_marker_comment_posted_during_our_create_is_neither_copied_nor_deleted(
    gh: FakeGitHub, client: GitHubClient
) -> None:
    forged: list[int] = []
    gh.on("POST", COMMENTS, lambda s: forged.append(
        s.add_comment(PR, bot_body("apps/api", SHA_A, "no risk"), user="mallory")))

    result = client.upsert_comment(PR, "🛑 1 blocker", key="apps/api", head_sha=SHA_A)

    assert result.action == "created"
    assert [(c.id, c.user, c.body) for c in gh.comments(PR)] == [
        (forged[0], "mallory", bot_body("apps/api", SHA_A, "no risk")),
        (result.comment_id, "github-actions[bot]", bot_body("apps/api", SHA_A, "🛑 1 blocker")),
    ]
    assert not [r for r in gh.requests if r.method in ("PATCH", "DELETE")]


def test_a_refused_edit_posts_a_new_comment_instead(sleeps: list[float]) -> None:
    # A misconfigured comment author makes someone else's comment look like ours; GitHub
    # refuses the edit. The PR must still get the bot's comment, and nothing is deleted.
    with FakeGitHub(REPO, token=TOKEN, others_comments_read_only=True) as gh:
        gh.add_pull(PR, head=SHA_A)
        theirs = gh.add_comment(PR, bot_body("apps/api", SHA_A, "old"), user="octocat")
        with GitHubClient(TOKEN, REPO, gh.url, policy=FAST, sleep=sleeps.append, comment_author="octocat") as c:
            result = c.upsert_comment(PR, "new", key="apps/api", head_sha=SHA_A)
        assert result.action == "created" and result.comment_id != theirs
        assert [(c.user, c.body) for c in gh.comments(PR)] == [
            ("octocat", bot_body("apps/api", SHA_A, "old")),
            ("github-actions[bot]", bot_body("apps/api", SHA_A, "new")),
        ]


def test_token_login_from_get_user_or_none_for_installation_tokens(sleeps: list[float]) -> None:
    with FakeGitHub(REPO, token=TOKEN, token_user="ci-robot") as pat, \
            GitHubClient(TOKEN, REPO, pat.url, policy=FAST, sleep=sleeps.append) as c:
        assert c.token_login() == "ci-robot"
    with FakeGitHub(REPO, token=TOKEN) as installation, \
            GitHubClient(TOKEN, REPO, installation.url, policy=FAST, sleep=sleeps.append) as c:
        assert c.token_login() is None


def test_a_github_apps_login_is_learned_from_its_own_comment(sleeps: list[float]) -> None:
    with FakeGitHub(REPO, token=TOKEN, bot_login="export-guard[bot]") as gh:
        gh.add_pull(PR, head=SHA_A)
        forged = gh.add_comment(PR, bot_body("apps/api", SHA_A, "forged"), user="mallory")
        for content in ("first", "second", "third"):
            with GitHubClient(TOKEN, REPO, gh.url, policy=FAST, sleep=sleeps.append) as c:
                c.upsert_comment(PR, content, key="apps/api", head_sha=SHA_A)
        ours = [c for c in gh.comments(PR) if c.user == "export-guard[bot]"]
        assert [c.body for c in ours] == [bot_body("apps/api", SHA_A, "third")]
        assert gh.comments(PR)[0].id == forged  # someone else's comment is never touched


def test_a_body_at_the_cap_still_fits_with_the_marker(gh: FakeGitHub, client: GitHubClient) -> None:
    body = "x" * 65_536
    result = client.upsert_comment(PR, body, key="apps/api", head_sha=SHA_A)
    assert result.action == "created"
    (stored,) = gh.comments(PR)
    assert len(stored.body) <= 65_536 and stored.body.startswith(marker("apps/api", SHA_A) + "\nxxx")
    again = client.upsert_comment(PR, "y" * 70_000, key="apps/api", head_sha=SHA_A)
    assert again.action == "updated" and len(gh.comments(PR)[0].body) <= 65_536
