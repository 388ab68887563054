"""The GitHub edge: one sticky PR comment per app, a check run with annotations.  [I/O]

The only module that talks to GitHub (through PyGithub). It receives finished text
and plain :class:`Annotation` values; it renders nothing. Every public method raises
only :class:`GitHubError`, whose message is one line and whose ``hint`` names what to
change (usually a ``permissions:`` entry of the workflow).

The comment is found again through a hidden marker on its first line::

    <!-- cdk-export-guard key=<app dir> sha=<head sha> -->

``key`` keeps one comment per CDK app in a monorepo; ``sha`` records which commit the
content describes, so that when two runs race the content for the PR's current head
wins and exactly one comment remains.

Requests are retried by urllib3 under PyGithub (see :class:`RetryPolicy`): 5xx, 429
and GitHub's rate-limit 403s, honouring ``Retry-After``, a bounded number of times.
"""

from __future__ import annotations

import logging
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal

import urllib3.exceptions
from github import Auth, Github, GithubException, GithubRetry
from github.GithubException import (
    BadCredentialsException,
    RateLimitExceededExceedsMaxWait,
    RateLimitExceededException,
)
from github.GithubObject import NotSet
from github.IssueComment import IssueComment
from urllib3 import Retry
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import MaxRetryError
from urllib3.response import BaseHTTPResponse, HTTPResponse


# PyGithub and urllib3 log each retry ("Request GET /user failed with 403"); our errors say
# it once, translated. Their records neither reach stderr (logging's last-resort handler)
# nor a handler the host application configured.
def quiet_library_logs() -> None:
    for name in ("github", "urllib3"):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):  # PyGithub adds a stderr StreamHandler of its own
            logger.removeHandler(handler)
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


quiet_library_logs()

COMMENT_MAX_CHARS = 65536
"""GitHub refuses a comment body longer than this (HTTP 422); callers must fit it."""
OUTPUT_MAX_BYTES = 65535
"""Check-run ``output.summary`` and ``output.text`` limit; GitHub counts UTF-8 bytes."""
ANNOTATIONS_PER_REQUEST = 50
MAX_ANNOTATIONS = 1000
"""Upper bound on annotations sent for one check run (20 requests); the rest are dropped."""
STATUS_DESCRIPTION_MAX = 140
MARKER_NAME = "cdk-export-guard"
ACTIONS_BOT_LOGIN = "github-actions[bot]"
"""Who the job's own ``GITHUB_TOKEN`` writes comments as; a GitHub App writes as ``<slug>[bot]``."""

CommentAction = Literal["created", "updated", "unchanged", "superseded"]
Conclusion = Literal["success", "failure", "neutral"]
Level = Literal["failure", "warning", "notice"]
CheckKind = Literal["check-run", "status"]

_LEVEL_RANK: Mapping[str, int] = {"failure": 0, "warning": 1, "notice": 2}
_SHA = re.compile(r"[0-9a-fA-F]{7,64}")
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_MARKER = re.compile(rf"<!-- {MARKER_NAME} key=(?P<key>\S+) sha=(?P<sha>[0-9a-fA-F]+) -->")

_COMMENT_PERMISSION = "`pull-requests: write` (or `issues: write`)"
_READ_PERMISSION = "`pull-requests: read`"
_CHECKS_PERMISSION = "`checks: write`"
_STATUSES_PERMISSION = "`statuses: write`"


class GitHubError(Exception):
    """A GitHub call failed for good; ``message`` is one line, ``hint`` says what to change."""

    def __init__(self, message: str, *, status: int | None = None, hint: str = "") -> None:
        self.message = _one_line(message)
        self.status = status
        self.hint = _one_line(hint)
        super().__init__(f"{self.message} {self.hint}".strip())


@dataclass(frozen=True)
class Annotation:
    """One check-run annotation: a line range of a repository file."""

    path: str
    start_line: int
    end_line: int
    level: Level
    title: str
    message: str

    def __post_init__(self) -> None:
        if self.level not in _LEVEL_RANK:
            raise ValueError(f"annotation level must be failure, warning or notice, not {self.level!r}")
        if self.start_line < 1 or self.end_line < self.start_line:
            raise ValueError(f"bad annotation lines {self.start_line}-{self.end_line} in {self.path}")

    def to_json(self) -> dict[str, str | int]:
        return {
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "annotation_level": self.level,
            "title": self.title,
            "message": self.message,
        }


@dataclass(frozen=True)
class CommentResult:
    """What :meth:`GitHubClient.upsert_comment` did, and the comment that now stands."""

    action: CommentAction
    url: str | None
    comment_id: int | None


@dataclass(frozen=True)
class CheckResult:
    """Where the verdict went: a check run, or a commit status when check runs are refused."""

    kind: CheckKind
    url: str | None
    fallback_reason: str | None = None
    annotations_sent: int = 0
    annotations_dropped: int = 0


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Defaults suit a CI job; tests shrink the waits.

    With the defaults a failing request is tried 4 times, waiting 0 s, 2 s and 4 s
    (urllib3's ``backoff_factor * 2 ** (n - 1)``), or what ``Retry-After`` asks (at most
    ``retry_after_max`` s). A secondary rate limit without ``Retry-After`` waits
    ``secondary_rate_wait`` s, as GitHub asks; a primary rate limit waits for its reset
    unless that is more than ``max_rate_limit_wait`` s away, then it fails.
    """

    attempts: int = 4
    backoff_factor: float = 1.0
    backoff_max: float = 30.0
    retry_after_max: int = 60
    secondary_rate_wait: float = 60.0
    max_rate_limit_wait: float = 120.0
    timeout: int = 15  # seconds, per request (PyGithub insists on an int)
    seconds_between_requests: float = 0.25  # PyGithub's pacing, GitHub's advice against secondary limits
    seconds_between_writes: float = 1.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")


class _Retry(GithubRetry):
    """PyGithub's retry (rate-limit aware) with an injectable sleep."""

    def __init__(self, *, sleep: Callable[[float], None] = time.sleep, **kwargs: Any) -> None:
        self._sleeper = sleep
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> _Retry:
        kw["sleep"] = self._sleeper
        return super().new(**kw)

    def increment(  # type: ignore[override]  # same signature as GithubRetry.increment
        self,
        method: str | None = None,
        url: str | None = None,
        response: HTTPResponse | None = None,  # type: ignore[override]
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Retry:
        try:
            return super().increment(method, url, response, error, _pool, _stacktrace)
        except MaxRetryError:
            if response is None or response.status != 403:
                raise
            # Only a rate-limit 403 is retried. GithubRetry has read its body to tell, so urllib3
            # would hand PyGithub a drained response and the limit would look like a permission refusal.
            raise RateLimitExceededException(
                403, {"message": "rate limit still exceeded when the retries ran out"}, dict(response.headers)
            ) from None

    def sleep_for_retry(self, response: BaseHTTPResponse) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after:
            self._sleeper(retry_after)
            return True
        return False

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        if self.respect_retry_after_header and response is not None and self.sleep_for_retry(response):
            return
        backoff = self.get_backoff_time()
        if backoff > 0:
            self._sleeper(backoff)


def _retry(policy: RetryPolicy, sleep: Callable[[float], None]) -> _Retry:
    return _Retry(
        sleep=sleep,
        total=policy.attempts - 1,
        backoff_factor=policy.backoff_factor,
        backoff_max=policy.backoff_max,
        retry_after_max=policy.retry_after_max,
        secondary_rate_wait=policy.secondary_rate_wait,
        max_rate_limit_wait=policy.max_rate_limit_wait,
        # GithubRetry adds 403 (retried only when it is a rate limit); 429 is GitHub's other limit answer.
        status_forcelist=[*range(500, 600), 429],
        # urllib3 leaves PATCH out and GithubRetry adds only GET and POST; our PATCHes are safe to repeat
        # (a comment edit is idempotent; a repeated annotation batch only duplicates annotations).
        allowed_methods=frozenset({"GET", "POST", "PATCH", "DELETE", "HEAD", "PUT", "OPTIONS"}),
        # Return the last error response when attempts run out, so PyGithub raises a
        # GithubException carrying GitHub's message instead of requests' RetryError.
        raise_on_status=False,
    )


@dataclass(frozen=True)
class _Operation:
    """What a call was doing, for error messages."""

    doing: str  # "creating the PR comment"
    permission: str  # the workflow permission a 403 points at
    subject: str  # what a 404 says is missing or invisible


@dataclass(frozen=True)
class _BotComment:
    comment: IssueComment
    id: int
    sha: str
    body: str  # the whole stored body, marker line included

    @property
    def content(self) -> str:
        return self.body.partition("\n")[2]


def comment_key(key: str) -> str:
    """Normalise and escape an app directory for the marker (no spaces, no ``-->``).

    ``./apps/api/`` and ``apps\\api`` give the same key; anything that could end the
    HTML comment or the ``key=`` field is percent-encoded.
    """
    text = key.strip().replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    text = re.sub(r"/{2,}", "/", text).rstrip("/") or "."
    encoded = urllib.parse.quote(text, safe="/@+")
    while "--" in encoded:
        encoded = encoded.replace("--", "-%2D")
    return encoded


def marker(key: str, head_sha: str) -> str:
    """The hidden first line of the bot's comment for ``key`` at ``head_sha``."""
    return f"<!-- {MARKER_NAME} key={comment_key(key)} sha={head_sha} -->"


class GitHubClient:
    """PR comment, check run and commit status for one repository."""

    def __init__(
        self,
        token: str,
        repository: str,
        api_url: str,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        comment_author: str | None = None,
    ) -> None:
        """``api_url`` is ``$GITHUB_API_URL`` (``https://api.github.com``, or ``https://HOST/api/v3``).

        Only comments written by ``comment_author`` count as ours, whatever marker they
        carry, so nobody else's comment can pose as the bot's. Without it the author is
        assumed to be :data:`ACTIONS_BOT_LOGIN` (the job's ``GITHUB_TOKEN``) until this
        client creates a comment: GitHub's reply then names the token's real login (a
        GitHub App's ``<slug>[bot]``), which is used from then on.
        """
        if not token:
            raise GitHubError("No GitHub token was given.", hint="Pass `github-token: ${{ github.token }}`.")
        if not _REPOSITORY.fullmatch(repository):
            raise GitHubError(f"Repository must be owner/name, not {repository!r}.")
        parsed = urllib.parse.urlsplit(api_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise GitHubError(f"GitHub API URL must be http(s)://host[/api/v3], not {api_url!r}.")
        self.policy = policy or RetryPolicy()
        self.repository = repository
        self.api_url = api_url.rstrip("/")
        self._author = comment_author or ACTIONS_BOT_LOGIN
        self._github = Github(
            auth=Auth.Token(token),
            base_url=self.api_url,
            timeout=self.policy.timeout,
            user_agent="cdk-export-guard",
            per_page=100,
            retry=_retry(self.policy, sleep),
            seconds_between_requests=self.policy.seconds_between_requests,
            seconds_between_writes=self.policy.seconds_between_writes,
            lazy=True,  # no request until a value is needed: get_repo/get_issue/get_commit cost nothing
        )
        self._repo = self._github.get_repo(repository)

    def close(self) -> None:
        self._github.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def comment_author(self) -> str:
        """The login whose marker comments are the bot's."""
        return self._author

    @comment_author.setter
    def comment_author(self, login: str) -> None:
        self._author = login

    def token_login(self) -> str | None:
        """The token's own login from ``GET /user``, or None when GitHub will not say.

        A personal access token answers; an installation token (the Actions
        ``GITHUB_TOKEN``, a GitHub App's) gets 403 "Resource not accessible by integration".
        """
        try:
            with self._translate(_Operation("reading the token's user", "", "the authenticated user")):
                return str(self._github.get_user().login)
        except GitHubError:
            return None

    # -- pull request ------------------------------------------------------------------

    def pull_request_head(self, pr_number: int) -> str:
        """The SHA the pull request's head points at now."""
        with self._translate(self._pr_op(pr_number, f"reading pull request #{pr_number}", _READ_PERMISSION)):
            return str(self._repo.get_pull(pr_number).head.sha)

    def pull_request_shas(self, pr_number: int) -> tuple[str, str]:
        """(base SHA, head SHA) of the pull request now."""
        with self._translate(self._pr_op(pr_number, f"reading pull request #{pr_number}", _READ_PERMISSION)):
            pull = self._repo.get_pull(pr_number)
            return str(pull.base.sha), str(pull.head.sha)

    # -- comment -----------------------------------------------------------------------

    def upsert_comment(self, pr_number: int, body: str, *, key: str, head_sha: str) -> CommentResult:
        """Create or edit the one comment for ``key`` so it shows ``body``.

        ``head_sha`` is the PR head the body describes (``pull_request.head.sha``, not the
        merge commit). Nothing is written when the body is already there ("unchanged") or
        when the PR has moved on to another head ("superseded": the newer run writes).
        """
        _check_sha(head_sha)
        found = self._bot_comments(pr_number, key)
        if found:
            return self._replace(pr_number, found, key=key, head_sha=head_sha, body=body)
        if self._superseded(pr_number, head_sha):
            return CommentResult("superseded", None, None)
        return self._create(pr_number, key=key, head_sha=head_sha, body=body)

    def _create(self, pr_number: int, *, key: str, head_sha: str, body: str) -> CommentResult:
        full = _with_marker(key, head_sha, body)
        with self._translate(self._comment_op(pr_number, "creating the PR comment")):
            created = self._repo.get_issue(pr_number).create_comment(full)
            # GitHub names the token's identity on what it wrote: from now on, only that login's comments are ours.
            self._author = str(created.user.login)
        return self._collapse(pr_number, key=key, head_sha=head_sha, full=full, created_id=created.id)

    def resolve_comment(self, pr_number: int, *, key: str, head_sha: str, body: str) -> CommentResult:
        """Replace the comment for ``key`` with ``body`` (a short "resolved" note), if there is one.

        Without an earlier comment nothing is created: a PR that never had findings
        stays quiet ("unchanged", no comment).
        """
        _check_sha(head_sha)
        found = self._bot_comments(pr_number, key)
        if not found:
            return CommentResult("unchanged", None, None)
        return self._replace(pr_number, found, key=key, head_sha=head_sha, body=body)

    def _replace(
        self, pr_number: int, found: Sequence[_BotComment], *, key: str, head_sha: str, body: str
    ) -> CommentResult:
        """Make the oldest marker comment show ``body`` and delete any duplicates."""
        target, extras = found[0], found[1:]
        action: CommentAction = "unchanged"
        if _normalise(target.body) != _normalise(_with_marker(key, head_sha, body)):
            if self._superseded(pr_number, head_sha):
                return CommentResult("superseded", target.comment.html_url, target.id)
            try:
                with self._translate(self._comment_op(pr_number, "editing the PR comment")):
                    target.comment.edit(_with_marker(key, head_sha, body))
            except GitHubError as exc:
                if exc.status != 403:
                    raise
                # Not ours to edit after all (a wrong comment author): post our own, delete nothing.
                return self._create(pr_number, key=key, head_sha=head_sha, body=body)
            action = "updated"
        for extra in extras:
            self._delete(pr_number, extra)
        return CommentResult(action, target.comment.html_url, target.id)

    def _collapse(self, pr_number: int, *, key: str, head_sha: str, full: str, created_id: int) -> CommentResult:
        """After creating: if a racing run created one too, keep one comment, newest content.

        Every run applies the same rule to the same listing, so racing runs agree: keep
        the oldest comment; give it the content of the newest comment written for the
        PR's current head (any newest comment when none is); delete the rest. If our
        comment was already deleted by such a run while ours is the current head's
        content, ours is written into the survivor.
        """
        found = self._bot_comments(pr_number, key)
        ours = next((c for c in found if c.id == created_id), None)
        if len(found) == 1 and ours is not None:
            return CommentResult("created", ours.comment.html_url, ours.id)
        if not found:  # deleted by someone else meanwhile; do not fight
            return CommentResult("superseded", None, None)
        current = self.pull_request_head(pr_number)
        survivor = found[0]
        if ours is None and current == head_sha:
            winner_body = full
        else:
            candidates = [c for c in found if c.sha == current] or list(found)
            winner_body = max(candidates, key=lambda c: c.id).body
        patched = False
        if _normalise(survivor.body) != _normalise(winner_body):
            with self._translate(self._comment_op(pr_number, "editing the PR comment")):
                survivor.comment.edit(winner_body)
            patched = True
        for extra in found[1:]:
            self._delete(pr_number, extra)
        url, survivor_id = survivor.comment.html_url, survivor.id
        if survivor_id == created_id:
            return CommentResult("created", url, survivor_id)
        if _normalise(winner_body.partition("\n")[2]) == _normalise(full.partition("\n")[2]):
            return CommentResult("updated" if patched else "unchanged", url, survivor_id)
        return CommentResult("superseded", url, survivor_id)

    def _bot_comments(self, pr_number: int, key: str) -> list[_BotComment]:
        """Every comment (all pages) whose first line is our marker for ``key``, oldest first."""
        wanted = comment_key(key)
        found = []
        with self._translate(self._pr_op(pr_number, f"listing the comments of PR #{pr_number}", _READ_PERMISSION)):
            for comment in self._repo.get_issue(pr_number).get_comments():
                body = comment.body or ""
                match = _MARKER.fullmatch(body.partition("\n")[0].rstrip("\r"))
                if match is None or match["key"] != wanted:
                    continue
                if comment.user is None or comment.user.login != self._author:
                    continue  # someone else's comment, whatever its marker says
                found.append(_BotComment(comment, comment.id, match["sha"], body))
        return sorted(found, key=lambda c: c.id)

    def _superseded(self, pr_number: int, head_sha: str) -> bool:
        return self.pull_request_head(pr_number).lower() != head_sha.lower()

    def _delete(self, pr_number: int, comment: _BotComment) -> None:
        try:
            with self._translate(self._comment_op(pr_number, "deleting a duplicate PR comment")):
                comment.comment.delete()
        except GitHubError as exc:
            if exc.status != 404:  # already deleted by a racing run
                raise

    # -- check run ---------------------------------------------------------------------

    def publish_check(
        self,
        head_sha: str,
        *,
        name: str,
        conclusion: Conclusion,
        title: str,
        summary: str,
        text: str | None = None,
        annotations: Sequence[Annotation] = (),
        details_url: str | None = None,
    ) -> CheckResult:
        """Create a completed check run on ``head_sha`` with its annotations.

        Annotations go 50 per request (the create, then updates that append), most
        severe first, at most :data:`MAX_ANNOTATIONS`. When the token may not create
        check runs (403: fork PRs, a job without ``checks: write``), a commit status
        with the same name is set instead and ``fallback_reason`` says why.
        """
        _check_sha(head_sha)
        ordered = sorted(annotations, key=lambda a: _LEVEL_RANK[a.level])
        kept, dropped = ordered[:MAX_ANNOTATIONS], len(ordered) - min(len(ordered), MAX_ANNOTATIONS)
        if dropped:
            summary += f"\n\n_{dropped} more annotations were not sent (at most {MAX_ANNOTATIONS} per check run)._"
        summary = _fit_bytes(summary, OUTPUT_MAX_BYTES)
        head_output: dict[str, str] = {"title": title, "summary": summary}
        if text is not None:
            head_output["text"] = _fit_bytes(text, OUTPUT_MAX_BYTES)
        batches = [
            [a.to_json() for a in kept[i : i + ANNOTATIONS_PER_REQUEST]]
            for i in range(0, len(kept), ANNOTATIONS_PER_REQUEST)
        ] or [[]]
        create_op = _Operation("creating the check run", _CHECKS_PERMISSION, f"commit {head_sha} in {self.repository}")
        try:
            with self._translate(create_op):
                run = self._repo.create_check_run(
                    name=name,
                    head_sha=head_sha,
                    status="completed",
                    conclusion=conclusion,
                    completed_at=datetime.now(UTC),
                    details_url=details_url if details_url is not None else NotSet,
                    output={**head_output, "annotations": batches[0]},
                )
        except GitHubError as exc:
            if exc.status != 403 or _is_rate_limit_message(exc.message):
                raise
            return self._status_fallback(head_sha, name, conclusion, title, details_url, exc, len(kept))
        update_op = _Operation("adding annotations to the check run", _CHECKS_PERMISSION, f"check run {run.id}")
        for batch in batches[1:]:
            with self._translate(update_op):
                run.edit(output={"title": title, "summary": summary, "annotations": batch})
        return CheckResult("check-run", run.html_url, None, len(kept), dropped)

    def _status_fallback(
        self,
        head_sha: str,
        name: str,
        conclusion: Conclusion,
        title: str,
        details_url: str | None,
        refused: GitHubError,
        annotation_count: int,
    ) -> CheckResult:
        state = "failure" if conclusion == "failure" else "success"
        description = f"warnings only: {title}" if conclusion == "neutral" else title
        op = _Operation(
            "creating the commit status (check runs were refused)",
            f"{_CHECKS_PERMISSION} (for a check run) or {_STATUSES_PERMISSION} (for a commit status)",
            f"commit {head_sha} in {self.repository}",
        )
        with self._translate(op):
            self._repo.get_commit(head_sha).create_status(
                state=state,
                target_url=details_url if details_url is not None else NotSet,
                description=_clip(description, STATUS_DESCRIPTION_MAX),
                context=name,
            )
        lost = f"; {annotation_count} annotations could not be shown" if annotation_count else ""
        reason = (
            f"GitHub refused to create a check run ({refused.message}); set commit status {name!r} "
            f"instead{lost}. Grant {_CHECKS_PERMISSION} for a check run with annotations."
        )
        return CheckResult("status", details_url, _one_line(reason), 0, annotation_count)

    # -- errors --------------------------------------------------------------------------

    def _pr_op(self, pr_number: int, doing: str, permission: str) -> _Operation:
        return _Operation(doing, permission, f"pull request #{pr_number} in {self.repository}")

    def _comment_op(self, pr_number: int, doing: str) -> _Operation:
        return self._pr_op(pr_number, doing, _COMMENT_PERMISSION)

    @contextmanager
    def _translate(self, op: _Operation) -> Iterator[None]:
        """Turn whatever PyGithub, requests or urllib3 raise into one :class:`GitHubError`."""
        try:
            yield
        except GitHubError:
            raise
        except GithubException as exc:
            raise _from_github(exc, op, self.policy.attempts) from exc
        except (OSError, urllib3.exceptions.HTTPError) as exc:  # requests' errors are OSErrors
            raise GitHubError(
                f"Could not reach GitHub at {self.api_url} while {op.doing} "
                f"({type(exc).__name__}, {self.policy.attempts} attempts).",
                hint="Check GITHUB_API_URL and the runner's network, then re-run the job.",
            ) from exc
        except AssertionError as exc:  # PyGithub asserts on URLs that leave the configured base URL
            raise GitHubError(
                f"PyGithub refused a request while {op.doing}: {exc}.",
                hint="Check that GITHUB_API_URL is the API URL GitHub itself reports (e.g. https://HOST/api/v3).",
            ) from exc


def _from_github(exc: GithubException, op: _Operation, attempts: int) -> GitHubError:
    status = exc.status
    detail = _detail(exc.data) or (exc.message or "")
    said = f"HTTP {status}: {detail}" if detail else f"HTTP {status}"
    if isinstance(exc, BadCredentialsException) or status == 401:
        return GitHubError(
            f"GitHub rejected the token while {op.doing} ({said}).",
            status=status,
            hint="Check the github-token input; a job's GITHUB_TOKEN expires when the job ends.",
        )
    if isinstance(exc, RateLimitExceededExceedsMaxWait):
        wait = f"{exc.wait:.0f} s" if exc.wait is not None else "too long"
        return GitHubError(
            f"GitHub's rate limit stopped {op.doing} ({said}); it resets in {wait}, longer than we wait.",
            status=status,
            hint="Re-run the job after the reset; many jobs sharing one token make this likelier.",
        )
    if isinstance(exc, RateLimitExceededException) or _rate_limited(status, exc.headers, detail):
        return GitHubError(
            f"GitHub's rate limit stopped {op.doing} ({said or 'rate limit exceeded'}) after {attempts} attempts.",
            status=status,
            hint="Re-run the job later; many jobs sharing one token make this likelier.",
        )
    if status == 403:
        return GitHubError(
            f"GitHub refused {op.doing} ({said}).",
            status=status,
            hint=(
                f"The token lacks {op.permission}: add it under `permissions:` in the workflow job. "
                "Pull requests from forks get a read-only token."
            ),
        )
    if status == 404:
        return GitHubError(
            f"GitHub answered 404 while {op.doing}: {op.subject} does not exist or the token cannot see it.",
            status=status,
            hint="Check the PR is still open and the token can read this repository.",
        )
    if status == 422:
        return GitHubError(
            f"GitHub refused {op.doing} as invalid ({said}).",
            status=status,
            hint="GitHub rejected the content it was sent; this is a cdk-export-guard bug if it persists.",
        )
    if status is not None and status >= 500:
        return GitHubError(
            f"GitHub kept failing while {op.doing} ({said}) after {attempts} attempts.",
            status=status,
            hint="GitHub may be having an outage (https://www.githubstatus.com); re-run the job.",
        )
    return GitHubError(f"GitHub failed {op.doing} ({said}).", status=status)


def _detail(data: Any) -> str:
    """GitHub's ``message`` plus each ``errors[].message``, on one line."""
    if not isinstance(data, dict):
        return str(data).strip() if data else ""
    parts = [str(data.get("message") or "").strip()]
    for error in data.get("errors") or []:
        if isinstance(error, dict):
            parts.append(str(error.get("message") or f"{error.get('field', '')} {error.get('code', '')}").strip())
        else:
            parts.append(str(error))
    return _one_line(": ".join(p for p in parts if p))


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _rate_limited(status: int | None, headers: Mapping[str, Any] | None, detail: str) -> bool:
    """A 403/429 is a rate limit when it says so, asks to retry later, or reports 0 remaining.

    urllib3 has already read the body when GithubRetry gave up on a rate-limit 403, so
    the message may be empty and only the headers tell.
    """
    if status not in (403, 429):
        return False
    return (
        status == 429
        or _is_rate_limit_message(detail)
        or _header(headers, "retry-after") is not None
        or _header(headers, "x-ratelimit-remaining") == "0"
    )


def _is_rate_limit_message(text: str) -> bool:
    lowered = text.lower()
    return "rate limit" in lowered


def _with_marker(key: str, head_sha: str, body: str) -> str:
    """The stored comment: marker line, then the body, within GitHub's limit (the marker counts)."""
    line = marker(key, head_sha)
    room = COMMENT_MAX_CHARS - len(line) - 1
    if len(body) > room:
        note = "\n\n_… cut to fit GitHub's comment size limit._\n"
        body = body[: room - len(note)] + note
    return f"{line}\n{body}"


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()


def _fit_bytes(text: str, limit: int) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    note = f"\n\n… truncated to GitHub's {limit}-byte limit."
    return data[: limit - len(note.encode())].decode(errors="ignore") + note


def _clip(text: str, limit: int) -> str:
    text = _one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _check_sha(head_sha: str) -> None:
    if not _SHA.fullmatch(head_sha):
        raise GitHubError(f"Not a commit SHA: {head_sha!r}.")
