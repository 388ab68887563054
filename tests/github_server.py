"""A loopback GitHub REST API for tests: ``http.server`` on 127.0.0.1, state in memory.

It speaks just enough of GitHub's API, with GitHub's response shapes, status codes
and validation messages, for PyGithub to build its objects:

- ``GET /repos/{o}/{r}``, ``GET /repos/{o}/{r}/pulls/{n}``, ``GET /repos/{o}/{r}/issues/{n}``
- issue comments: list (paginated, ``per_page``/``page`` and a real ``Link`` header),
  create, get, edit, delete; a body over 65536 characters gets GitHub's 422
- check runs: create, get, update (annotations appended across calls, at most 50 per
  request, output summary/text at most 65535 bytes), list by commit, list annotations
- commit statuses: create (description at most 140 characters), list by commit
- ``GET /rate_limit``

Both base URLs work: ``http://127.0.0.1:PORT`` (github.com style) and
``http://127.0.0.1:PORT/api/v3`` (GitHub Enterprise Server style); the URLs in
responses keep the prefix the request used.

Usage::

    with FakeGitHub() as gh:
        gh.add_pull(1, head="a" * 40)
        gh.fail("POST", r"/repos/octo/app/check-runs", 403)
        ... PyGithub with base_url=gh.url ...
        assert [(r.method, r.path) for r in gh.requests] == [...]
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
import urllib.parse
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GHES_PREFIX = "/api/v3"
COMMENT_MAX_CHARS = 65536
OUTPUT_MAX_BYTES = 65535
ANNOTATIONS_PER_REQUEST = 50
STATUS_DESCRIPTION_MAX = 140
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
DOCS = "https://docs.github.com/rest"
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

SECONDARY_RATE_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
NOT_ACCESSIBLE_MESSAGE = "Resource not accessible by integration"


@dataclass(frozen=True)
class Request:
    """One request the fake answered, in arrival order."""

    method: str
    path: str  # without the GHES prefix and without the query string
    body: Any  # decoded JSON body, or None
    query: Mapping[str, str]
    status: int  # the status the fake answered with
    prefix: str  # "" or "/api/v3"
    authorization: str | None


@dataclass(frozen=True)
class Comment:
    id: int
    pr: int
    body: str
    user: str


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    remaining: int | None  # None: forever
    headers: Mapping[str, str]
    body: Any


@dataclass
class _Hook:
    method: str
    pattern: re.Pattern[str]
    callback: Callable[[FakeGitHub], None]
    remaining: int | None


@dataclass
class _Pull:
    number: int
    head: str
    base: str
    state: str = "open"


@dataclass
class _Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class _ApiError(Exception):
    def __init__(self, status: int, message: str, errors: list[Any] | None = None) -> None:
        super().__init__(message)
        body: dict[str, Any] = {"message": message, "documentation_url": DOCS, "status": str(status)}
        if errors is not None:
            body["errors"] = errors
        self.response = _Response(status, body)


def _validation_failed(resource: str, field_name: str, message: str) -> _ApiError:
    error = {"resource": resource, "code": "custom", "field": field_name, "message": message}
    return _ApiError(422, "Validation Failed", [error])


def _not_found() -> _ApiError:
    return _ApiError(404, "Not Found")


class FakeGitHub:
    """An in-memory GitHub serving one repository over loopback HTTP; a context manager."""

    def __init__(
        self,
        repository: str = "octo/app",
        *,
        token: str | None = None,
        bot_login: str = "github-actions[bot]",
        token_user: str | None = None,
        others_comments_read_only: bool = False,
    ) -> None:
        self.repository = repository
        self.token = token  # when set, other Authorization headers get 401 Bad credentials
        self.bot_login = bot_login
        # GET /user answers with this login (a personal token); None: 403, as for an
        # installation token (the Actions GITHUB_TOKEN or a GitHub App's).
        self.token_user = token_user
        # When set, editing or deleting a comment someone else wrote gets 403.
        self.others_comments_read_only = others_comments_read_only
        self._lock = threading.RLock()
        self._ids = itertools.count(1001)
        self._pulls: dict[int, _Pull] = {}
        self._comments: dict[int, dict[str, Any]] = {}
        self._check_runs: dict[int, dict[str, Any]] = {}
        self._statuses: list[dict[str, Any]] = []
        self._requests: list[Request] = []
        self._faults: list[_Fault] = []
        self._hooks: list[_Hook] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def __enter__(self) -> FakeGitHub:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-github", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeGitHub is not running"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL to give PyGithub (github.com style); append ``/api/v3`` for GHES style."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def ghes_url(self) -> str:
        return self.url + GHES_PREFIX

    # -- state helpers -----------------------------------------------------------------

    def add_pull(self, number: int, *, head: str = "a" * 40, base: str = "b" * 40) -> None:
        with self._lock:
            self._pulls[number] = _Pull(number, head, base)

    def pr_head(self, pr: int, sha: str) -> None:
        """Simulate a push: the pull request's head moves to ``sha``."""
        with self._lock:
            self._pulls[pr].head = sha

    def add_comment(self, pr: int, body: str, *, user: str = "someone") -> int:
        with self._lock:
            return int(self._new_comment(pr, body, user)["id"])

    def add_comments(self, pr: int, n: int, *, user: str = "someone") -> list[int]:
        """Pre-fill ``n`` ordinary comments (for pagination)."""
        return [self.add_comment(pr, f"comment {i}", user=user) for i in range(n)]

    def comments(self, pr: int) -> list[Comment]:
        with self._lock:
            return [
                Comment(c["id"], c["pr"], c["body"], c["user"])
                for c in sorted(self._comments.values(), key=lambda c: c["id"])
                if c["pr"] == pr
            ]

    @property
    def check_runs(self) -> list[dict[str, Any]]:
        """Created check runs (deep copies), each with every annotation it received."""
        with self._lock:
            return copy.deepcopy([self._check_runs[k] for k in sorted(self._check_runs)])

    @property
    def statuses(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._statuses)

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        times: int | None = 1,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next ``times`` matching requests (None: all of them) with ``status``.

        ``path_regex`` must match the whole path, without the GHES prefix and the query.
        The default body is GitHub's ``{"message": <reason>, "documentation_url": ...}``.
        """
        if body is None:
            body = {"message": HTTPStatus(status).phrase, "documentation_url": DOCS, "status": str(status)}
        with self._lock:
            self._faults.append(
                _Fault(method.upper(), re.compile(path_regex), status, times, dict(headers or {}), body)
            )

    def fail_secondary_rate_limit(self, method: str, path_regex: str, times: int | None = 1) -> None:
        """GitHub's secondary rate limit: 403, ``Retry-After: 1`` and its message."""
        self.fail(
            method,
            path_regex,
            403,
            times,
            headers={"Retry-After": "1", "X-RateLimit-Remaining": "4000"},
            body={"message": SECONDARY_RATE_LIMIT_MESSAGE, "documentation_url": DOCS},
        )

    def on(self, method: str, path_regex: str, callback: Callable[[FakeGitHub], None], times: int | None = 1) -> None:
        """Run ``callback(self)`` before handling the next ``times`` matching requests.

        The callback runs in the server's request thread without the state lock, so it may
        change state (to stage a race) or block (to make two clients meet).
        """
        with self._lock:
            self._hooks.append(_Hook(method.upper(), re.compile(path_regex), callback, times))

    # -- request handling (called from server threads) ---------------------------------

    def _handle(self, method: str, raw_path: str, body: Any, authorization: str | None) -> _Response:
        parsed = urllib.parse.urlsplit(raw_path)
        path = parsed.path
        prefix = ""
        if path == GHES_PREFIX or path.startswith(GHES_PREFIX + "/"):
            prefix, path = GHES_PREFIX, path[len(GHES_PREFIX) :] or "/"
        query = dict(urllib.parse.parse_qsl(parsed.query))

        for hook in self._take(self._hooks, method, path):
            hook.callback(self)

        with self._lock:
            fault = next(iter(self._take(self._faults, method, path)), None)
            if fault is not None:
                response = _Response(fault.status, copy.deepcopy(fault.body), dict(fault.headers))
            elif self.token is not None and authorization not in (f"token {self.token}", f"Bearer {self.token}"):
                response = _Response(401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"})
            else:
                try:
                    response = self._route(method, path, query, body, prefix)
                except _ApiError as exc:
                    response = exc.response
            self._requests.append(Request(method, path, body, query, response.status, prefix, authorization))
            return response

    def _take(self, items: list[Any], method: str, path: str) -> list[Any]:
        """Consume one use of each matching fault/hook (faults: only the first match)."""
        with self._lock:
            taken = []
            for item in list(items):
                if item.method == method and item.pattern.fullmatch(path):
                    taken.append(item)
                    if item.remaining is not None:
                        item.remaining -= 1
                        if item.remaining <= 0:
                            items.remove(item)
                    if isinstance(item, _Fault):
                        break
            return taken

    def _route(self, method: str, path: str, query: dict[str, str], body: Any, prefix: str) -> _Response:
        api = f"{self.url}{prefix}"
        if path == "/rate_limit" and method == "GET":
            return _Response(200, _rate_limit_body())
        if path == "/user" and method == "GET":
            if self.token_user is None:
                raise _ApiError(403, NOT_ACCESSIBLE_MESSAGE)
            return _Response(200, self._user(self.token_user))
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
        if not match or f"{match[1]}/{match[2]}" != self.repository:
            raise _not_found()
        rest = match[3] or ""
        repo_api = f"{api}/repos/{self.repository}"

        routes: list[tuple[str, str, Callable[..., _Response]]] = [
            ("GET", r"", self._get_repo),
            ("GET", r"/pulls/(\d+)", self._get_pull),
            ("GET", r"/issues/(\d+)", self._get_issue),
            ("GET", r"/issues/(\d+)/comments", self._list_comments),
            ("POST", r"/issues/(\d+)/comments", self._create_comment),
            ("GET", r"/issues/comments/(\d+)", self._get_comment),
            ("PATCH", r"/issues/comments/(\d+)", self._edit_comment),
            ("DELETE", r"/issues/comments/(\d+)", self._delete_comment),
            ("POST", r"/check-runs", self._create_check_run),
            ("GET", r"/check-runs/(\d+)", self._get_check_run),
            ("PATCH", r"/check-runs/(\d+)", self._update_check_run),
            ("GET", r"/check-runs/(\d+)/annotations", self._list_annotations),
            ("GET", r"/commits/([^/]+)/check-runs", self._list_check_runs),
            ("POST", r"/statuses/([^/]+)", self._create_status),
            ("GET", r"/commits/([^/]+)/statuses", self._list_statuses),
        ]
        for verb, pattern, handler in routes:
            found = re.fullmatch(pattern, rest)
            if found and verb == method:
                return handler(repo_api, *found.groups(), query=query, body=body, path=f"{api}{path}")
        if any(re.fullmatch(pattern, rest) for _, pattern, _ in routes):
            raise _ApiError(404, "Not Found")  # GitHub answers 404, not 405, for a wrong verb
        raise _not_found()

    # -- resources -----------------------------------------------------------------------

    def _user(self, login: str) -> dict[str, Any]:
        user_id = zlib.crc32(login.encode()) % 10_000_000
        kind = "Bot" if login.endswith("[bot]") else "User"
        return {
            "login": login,
            "id": user_id,
            "node_id": f"U_{user_id}",
            "type": kind,
            "site_admin": False,
            "url": f"{self.url}/users/{urllib.parse.quote(login)}",
            "html_url": f"{self.url}/{urllib.parse.quote(login)}",
        }

    def _repo_json(self, repo_api: str) -> dict[str, Any]:
        owner, name = self.repository.split("/")
        return {
            "id": 4242,
            "node_id": "R_4242",
            "name": name,
            "full_name": self.repository,
            "private": False,
            "owner": self._user(owner),
            "html_url": f"{self.url}/{self.repository}",
            "url": repo_api,
            "default_branch": "main",
        }

    def _pull(self, number: str) -> _Pull:
        pull = self._pulls.get(int(number))
        if pull is None:
            raise _not_found()
        return pull

    def _get_repo(self, repo_api: str, **_: Any) -> _Response:
        return _Response(200, self._repo_json(repo_api))

    def _get_pull(self, repo_api: str, number: str, **_: Any) -> _Response:
        pull = self._pull(number)
        repo = self._repo_json(repo_api)
        return _Response(
            200,
            {
                "id": 500_000 + pull.number,
                "node_id": f"PR_{pull.number}",
                "number": pull.number,
                "state": pull.state,
                "title": f"Pull request {pull.number}",
                "body": "",
                "user": self._user("author"),
                "url": f"{repo_api}/pulls/{pull.number}",
                "html_url": f"{self.url}/{self.repository}/pull/{pull.number}",
                "issue_url": f"{repo_api}/issues/{pull.number}",
                "comments_url": f"{repo_api}/issues/{pull.number}/comments",
                "created_at": _iso(_EPOCH),
                "updated_at": _iso(_EPOCH),
                "head": {"label": "octo:feature", "ref": "feature", "sha": pull.head, "repo": repo},
                "base": {"label": "octo:main", "ref": "main", "sha": pull.base, "repo": repo},
            },
        )

    def _get_issue(self, repo_api: str, number: str, **_: Any) -> _Response:
        pull = self._pull(number)
        return _Response(
            200,
            {
                "id": 600_000 + pull.number,
                "node_id": f"I_{pull.number}",
                "number": pull.number,
                "state": pull.state,
                "title": f"Pull request {pull.number}",
                "user": self._user("author"),
                "url": f"{repo_api}/issues/{pull.number}",
                "html_url": f"{self.url}/{self.repository}/pull/{pull.number}",
                "comments_url": f"{repo_api}/issues/{pull.number}/comments",
                "pull_request": {"url": f"{repo_api}/pulls/{pull.number}"},
            },
        )

    # comments

    def _new_comment(self, pr: int, body: str, user: str) -> dict[str, Any]:
        comment_id = next(self._ids)
        stamp = _iso(_EPOCH + timedelta(seconds=comment_id))
        comment = {"id": comment_id, "pr": pr, "body": body, "user": user, "created_at": stamp, "updated_at": stamp}
        self._comments[comment_id] = comment
        return comment

    def _comment_json(self, repo_api: str, comment: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": comment["id"],
            "node_id": f"IC_{comment['id']}",
            "url": f"{repo_api}/issues/comments/{comment['id']}",
            "html_url": f"{self.url}/{self.repository}/pull/{comment['pr']}#issuecomment-{comment['id']}",
            "issue_url": f"{repo_api}/issues/{comment['pr']}",
            "body": comment["body"],
            "user": self._user(comment["user"]),
            "author_association": "NONE",
            "created_at": comment["created_at"],
            "updated_at": comment["updated_at"],
        }

    def _comment(self, comment_id: str) -> dict[str, Any]:
        comment = self._comments.get(int(comment_id))
        if comment is None:
            raise _not_found()
        return comment

    def _writable_comment(self, comment_id: str) -> dict[str, Any]:
        comment = self._comment(comment_id)
        if self.others_comments_read_only and comment["user"] != self.bot_login:
            raise _ApiError(403, NOT_ACCESSIBLE_MESSAGE)
        return comment

    @staticmethod
    def _check_body(body: Any) -> str:
        text = body.get("body") if isinstance(body, dict) else None
        if not isinstance(text, str):
            raise _ApiError(422, "Invalid request.\n\n\"body\" wasn't supplied.")
        if len(text) > COMMENT_MAX_CHARS:
            raise _validation_failed("IssueComment", "body", "body is too long (maximum is 65536 characters)")
        return text

    def _list_comments(self, repo_api: str, number: str, *, query: dict[str, str], path: str, **_: Any) -> _Response:
        pull = self._pull(number)
        try:
            per_page = min(max(int(query.get("per_page", DEFAULT_PER_PAGE)), 1), MAX_PER_PAGE)
            page = max(int(query.get("page", 1)), 1)
        except ValueError:
            raise _ApiError(422, "Invalid request.") from None
        items = [c for c in sorted(self._comments.values(), key=lambda c: c["id"]) if c["pr"] == pull.number]
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []

        def link(target: int, rel: str) -> str:
            params = {**query, "per_page": str(per_page), "page": str(target)}
            return f'<{path}?{urllib.parse.urlencode(params)}>; rel="{rel}"'

        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < last:
            links.append(link(page + 1, "next"))
            links.append(link(last, "last"))
        if page > 1:
            links.append(link(1, "first"))
        headers = {"Link": ", ".join(links)} if links else {}
        return _Response(200, [self._comment_json(repo_api, c) for c in chunk], headers)

    def _create_comment(self, repo_api: str, number: str, *, body: Any, **_: Any) -> _Response:
        pull = self._pull(number)
        text = self._check_body(body)
        comment = self._new_comment(pull.number, text, self.bot_login)
        headers = {"Location": f"{repo_api}/issues/comments/{comment['id']}"}
        return _Response(201, self._comment_json(repo_api, comment), headers)

    def _get_comment(self, repo_api: str, comment_id: str, **_: Any) -> _Response:
        return _Response(200, self._comment_json(repo_api, self._comment(comment_id)))

    def _edit_comment(self, repo_api: str, comment_id: str, *, body: Any, **_: Any) -> _Response:
        comment = self._writable_comment(comment_id)
        comment["body"] = self._check_body(body)
        comment["updated_at"] = _iso(_EPOCH + timedelta(seconds=next(self._ids)))
        return _Response(200, self._comment_json(repo_api, comment))

    def _delete_comment(self, repo_api: str, comment_id: str, **_: Any) -> _Response:
        self._writable_comment(comment_id)
        del self._comments[int(comment_id)]
        return _Response(204)

    # check runs

    @staticmethod
    def _check_output(output: Any) -> list[dict[str, Any]]:
        if output is None:
            return []
        if not isinstance(output, dict) or not isinstance(output.get("title"), str) or "summary" not in output:
            raise _ApiError(422, "Invalid request.\n\nFor 'properties/output', \"title\" and \"summary\" are required.")
        for name in ("summary", "text"):
            value = output.get(name)
            if isinstance(value, str) and len(value.encode()) > OUTPUT_MAX_BYTES:
                raise _validation_failed("CheckRun", name, f"{name} exceeds a maximum bytesize of {OUTPUT_MAX_BYTES}")
        annotations = output.get("annotations") or []
        if len(annotations) > ANNOTATIONS_PER_REQUEST:
            raise _ApiError(
                422,
                f"Invalid request.\n\nNo more than {ANNOTATIONS_PER_REQUEST} items are allowed; "
                f"{len(annotations)} were supplied.",
            )
        for annotation in annotations:
            missing = [
                key
                for key in ("path", "start_line", "end_line", "annotation_level", "message")
                if key not in annotation
            ]
            if missing or annotation["annotation_level"] not in ("notice", "warning", "failure"):
                raise _ApiError(422, f"Invalid request.\n\nInvalid annotation: {json.dumps(annotation)}")
        return list(annotations)

    def _check_run_json(self, repo_api: str, run: dict[str, Any]) -> dict[str, Any]:
        output = run["output"]
        return {
            "id": run["id"],
            "node_id": f"CR_{run['id']}",
            "name": run["name"],
            "head_sha": run["head_sha"],
            "external_id": run.get("external_id", ""),
            "url": f"{repo_api}/check-runs/{run['id']}",
            "html_url": f"{self.url}/{self.repository}/runs/{run['id']}",
            "details_url": run.get("details_url"),
            "status": run["status"],
            "conclusion": run.get("conclusion"),
            "started_at": run["started_at"],
            "completed_at": run.get("completed_at"),
            "output": {
                "title": output.get("title"),
                "summary": output.get("summary"),
                "text": output.get("text"),
                "annotations_count": len(run["annotations"]),
                "annotations_url": f"{repo_api}/check-runs/{run['id']}/annotations",
            },
            "check_suite": {"id": 777},
            "app": {"id": 15368, "slug": "github-actions", "name": "GitHub Actions", "owner": self._user("github")},
            "pull_requests": [],
        }

    def _apply_run_fields(self, run: dict[str, Any], body: dict[str, Any]) -> None:
        for key in ("name", "details_url", "external_id", "status", "conclusion", "started_at", "completed_at"):
            if key in body:
                run[key] = body[key]
        conclusions = ("success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required")
        if run.get("conclusion") is not None:
            if run["conclusion"] not in conclusions:
                raise _ApiError(422, f"Invalid request.\n\n{run['conclusion']!r} is not a valid conclusion.")
            run["status"] = "completed"
            run.setdefault("completed_at", _iso(_EPOCH))
        if run["status"] not in ("queued", "in_progress", "completed"):
            raise _ApiError(422, "Invalid request.\n\nstatus is not a valid value.")

    def _create_check_run(self, repo_api: str, *, body: Any, **_: Any) -> _Response:
        if not isinstance(body, dict) or not body.get("name") or not body.get("head_sha"):
            raise _ApiError(422, "Invalid request.\n\n\"name\" and \"head_sha\" are required.")
        annotations = self._check_output(body.get("output"))
        run: dict[str, Any] = {
            "id": next(self._ids),
            "head_sha": body["head_sha"],
            "status": "queued",
            "started_at": _iso(_EPOCH),
            "output": {},
            "annotations": [],
            "requests": 0,
        }
        self._apply_run_fields(run, body)
        if body.get("output"):
            run["output"] = {k: v for k, v in body["output"].items() if k != "annotations"}
        run["annotations"].extend(annotations)
        run["requests"] = 1
        self._check_runs[run["id"]] = run
        return _Response(201, self._check_run_json(repo_api, run))

    def _run(self, run_id: str) -> dict[str, Any]:
        run = self._check_runs.get(int(run_id))
        if run is None:
            raise _not_found()
        return run

    def _get_check_run(self, repo_api: str, run_id: str, **_: Any) -> _Response:
        return _Response(200, self._check_run_json(repo_api, self._run(run_id)))

    def _update_check_run(self, repo_api: str, run_id: str, *, body: Any, **_: Any) -> _Response:
        run = self._run(run_id)
        if not isinstance(body, dict):
            raise _ApiError(400, "Problems parsing JSON")
        annotations = self._check_output(body.get("output"))
        self._apply_run_fields(run, body)
        if body.get("output"):
            run["output"] = {k: v for k, v in body["output"].items() if k != "annotations"}
        run["annotations"].extend(annotations)
        run["requests"] += 1
        return _Response(200, self._check_run_json(repo_api, run))

    def _list_annotations(self, repo_api: str, run_id: str, **_: Any) -> _Response:
        run = self._run(run_id)
        return _Response(200, [{**a, "blob_href": ""} for a in run["annotations"]])

    def _list_check_runs(self, repo_api: str, sha: str, **_: Any) -> _Response:
        runs = [self._check_run_json(repo_api, r) for r in self._check_runs.values() if r["head_sha"] == sha]
        return _Response(200, {"total_count": len(runs), "check_runs": runs})

    # statuses

    def _create_status(self, repo_api: str, sha: str, *, body: Any, **_: Any) -> _Response:
        if not isinstance(body, dict) or body.get("state") not in ("error", "failure", "pending", "success"):
            raise _validation_failed("Status", "state", "state is not included in the list")
        description = body.get("description") or ""
        if len(description) > STATUS_DESCRIPTION_MAX:
            raise _validation_failed("Status", "description", "description is too long (maximum is 140 characters)")
        status_id = next(self._ids)
        stamp = _iso(_EPOCH + timedelta(seconds=status_id))
        status = {
            "id": status_id,
            "node_id": f"SC_{status_id}",
            "url": f"{repo_api}/statuses/{sha}",
            "sha": sha,
            "state": body["state"],
            "description": body.get("description"),
            "target_url": body.get("target_url"),
            "context": body.get("context") or "default",
            "created_at": stamp,
            "updated_at": stamp,
            "creator": self._user(self.bot_login),
        }
        self._statuses.append(status)
        return _Response(201, {k: v for k, v in status.items() if k != "sha"})

    def _list_statuses(self, repo_api: str, sha: str, **_: Any) -> _Response:
        return _Response(200, [s for s in reversed(self._statuses) if s["sha"] == sha])


def _rate_limit_body() -> dict[str, Any]:
    reset = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
    core = {"limit": 5000, "remaining": 4999, "reset": reset, "used": 1}
    return {"resources": {"core": core, "search": core, "graphql": core}, "rate": core}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like api.github.com
    disable_nagle_algorithm = True  # headers and body go in two writes; avoid the delayed-ACK stall
    fake: FakeGitHub
    timeout = 10

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._send(_Response(400, {"message": "Problems parsing JSON", "documentation_url": DOCS}))
            return
        self._send(self.fake._handle(self.command, self.path, body, self.headers.get("Authorization")))

    def _send(self, response: _Response) -> None:
        payload = b"" if response.status == 204 or response.body is None else json.dumps(response.body).encode()
        self.send_response(response.status)
        reset = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
        defaults = {
            "Content-Type": "application/json; charset=utf-8",
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "4999",
            "X-RateLimit-Reset": str(reset),
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Request-Id": "0000:FAKE",
        }
        for name, value in {**defaults, **response.headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        pass
