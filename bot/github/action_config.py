"""The Action's inputs and the event that triggered it, read from the runner's environment.

The composite action (action.yml) maps every input to ``INPUT_<NAME>`` with hyphens turned
into underscores (``INPUT_GITHUB_TOKEN``): composite steps get no ``INPUT_*`` variables of their
own. The Docker form (``INPUT_GITHUB-TOKEN``: upper-cased, hyphens kept, as the runner sets it for
Docker and JavaScript actions) is still read, for the image. Everything is validated here, once,
with a clear message per bad value. Pure: the caller passes the environment mapping and the event
payload.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FAIL_ON = ("blocker", "warning", "notice", "never")
COMMENT_MODES = ("on", "off", "only-on-findings")


class ConfigError(Exception):
    """An input or the event payload is unusable; the message names it."""


@dataclass(frozen=True)
class Inputs:
    github_token: str
    app_directories: tuple[str, ...]
    base_ref: str | None
    head_ref: str | None
    base_assembly: str | None
    head_assembly: str | None
    install_command: str | None
    synth_command: str | None
    fail_on: str
    comment: str
    check_name: str
    cdk_diff: bool
    live: bool
    template_dir: str | None
    synth_timeout_seconds: float
    parallel_synth: bool
    publish: bool
    report_dir: str | None  # publish these reports instead of analyzing
    cache_dir: str | None  # synthesized base assemblies kept between runs (with actions/cache)
    verify_budget_seconds: float | None = 300.0  # plan states synthesized within this time; None: off
    analysis_timeout_seconds: float = 3600.0  # the whole analysis, synths included
    comment_author: str | None = None  # the login the token comments as; only its comments are the bot's
    synth_aws_credentials: bool = False  # the synth/install children see AWS_* (context lookups)


@dataclass(frozen=True)
class Event:
    """What to analyze and where to report it."""

    name: str  # pull_request | pull_request_target | workflow_dispatch | workflow_run | ...
    repository: str  # owner/name
    pr_number: int | None
    base_ref: str | None  # a SHA or ref name to check out as base
    head_sha: str | None  # what the check run is attached to
    head_ref: str | None


def _seconds(name: str, text: str) -> float:
    """Input ``name``'s value ``text`` as a positive number of seconds."""
    try:
        seconds = float(text)
    except ValueError:
        raise ConfigError(f"input {name} must be a number of seconds; got {text!r}") from None
    if not seconds > 0:
        raise ConfigError(f"input {name} must be positive")
    return seconds


def read_inputs(env: Mapping[str, str]) -> Inputs:
    def get(name: str, default: str = "") -> str:
        mapped = env.get(f"INPUT_{name.upper().replace('-', '_')}")
        return (mapped if mapped is not None else env.get(f"INPUT_{name.upper()}", default)).strip()

    fail_on = get("fail-on", "blocker") or "blocker"
    if fail_on not in FAIL_ON:
        raise ConfigError(f"input fail-on must be one of {', '.join(FAIL_ON)}; got {fail_on!r}")
    comment = get("comment", "on") or "on"
    if comment not in COMMENT_MODES:
        raise ConfigError(f"input comment must be one of {', '.join(COMMENT_MODES)}; got {comment!r}")
    directories = tuple(_split_list(get("app-directory", ".") or "."))
    for directory in directories:
        if Path(directory).is_absolute() or ".." in Path(directory).parts:
            raise ConfigError(f"input app-directory {directory!r} must be a path inside the repository")
    if len(set(directories)) != len(directories):
        raise ConfigError("input app-directory lists the same directory twice")
    base_assembly, head_assembly = get("base-assembly") or None, get("head-assembly") or None
    if (base_assembly or head_assembly) and len(directories) > 1:
        raise ConfigError("inputs base-assembly/head-assembly work with a single app-directory")
    timeout_seconds = _seconds("synth-timeout", get("synth-timeout", "900") or "900")
    verifying = _bool(get("verify-plans", "true"), "verify-plans")
    verify_budget = _seconds("verify-budget", get("verify-budget", "300") or "300") if verifying else None
    analysis_seconds = _seconds("analysis-timeout", get("analysis-timeout", "3600") or "3600")
    return Inputs(
        verify_budget_seconds=verify_budget,
        github_token=get("github-token"),
        app_directories=directories,
        base_ref=get("base-ref") or None,
        head_ref=get("head-ref") or None,
        base_assembly=base_assembly,
        head_assembly=head_assembly,
        install_command=get("install-command") or None,
        synth_command=get("synth-command") or None,
        fail_on=fail_on,
        comment=comment,
        check_name=get("check-name", "cdk-export-guard") or "cdk-export-guard",
        cdk_diff=_bool(get("cdk-diff", "false"), "cdk-diff"),
        live=_bool(get("live", "false"), "live"),
        template_dir=get("template-dir") or None,
        synth_timeout_seconds=timeout_seconds,
        parallel_synth=_bool(get("parallel-synth", "true"), "parallel-synth"),
        publish=_bool(get("publish", "true"), "publish"),
        report_dir=get("report-dir") or None,
        cache_dir=get("cache-dir") or None,
        analysis_timeout_seconds=analysis_seconds,
        synth_aws_credentials=_bool(get("synth-aws-credentials", "false"), "synth-aws-credentials"),
        comment_author=_login(get("comment-author") or env.get("CDK_EXPORT_GUARD_COMMENT_AUTHOR", "").strip()),
    )


def _login(text: str) -> str | None:
    """A GitHub login (``octocat``, ``github-actions[bot]``, ``my-app[bot]``), or None when not given."""
    if not text:
        return None
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?", text):
        raise ConfigError(f"input comment-author must be a GitHub login such as github-actions[bot]; got {text!r}")
    return text


def _split_list(text: str) -> list[str]:
    """One per line or comma separated; blank entries dropped."""
    return [item.strip() for item in re.split(r"[\n,]", text) if item.strip()]


def _bool(text: str, name: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0", ""):
        return False
    raise ConfigError(f"input {name} must be true or false; got {text!r}")


def read_event(env: Mapping[str, str], payload: Mapping[str, Any], inputs: Inputs) -> Event:
    """Decide base, head and the pull request from the event and the ref overrides."""
    name = env.get("GITHUB_EVENT_NAME", "")
    repository = env.get("GITHUB_REPOSITORY", "")
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
        raise ConfigError(f"GITHUB_REPOSITORY is {repository!r}; expected owner/name")
    if name in ("pull_request", "pull_request_target"):
        pr = payload.get("pull_request")
        if not isinstance(pr, dict):
            raise ConfigError(f"the {name} event payload has no pull_request")
        return Event(
            name=name,
            repository=repository,
            pr_number=_int(pr.get("number"), "pull_request.number"),
            base_ref=inputs.base_ref or _sha(pr, "base"),
            head_sha=_sha(pr, "head"),
            head_ref=inputs.head_ref,
        )
    if name == "workflow_dispatch":
        given = _dict(payload.get("inputs"))
        dispatch_number = str(given.get("pr-number") or given.get("pr_number") or "").strip()
        return Event(
            name=name,
            repository=repository,
            pr_number=_int(dispatch_number, "workflow_dispatch input pr-number") if dispatch_number else None,
            base_ref=inputs.base_ref or str(given.get("base-ref") or given.get("base_ref") or "") or None,
            head_sha=env.get("GITHUB_SHA") or None,
            head_ref=inputs.head_ref or str(given.get("head-ref") or given.get("head_ref") or "") or None,
        )
    if name == "workflow_run":
        run = payload.get("workflow_run")
        if not isinstance(run, dict):
            raise ConfigError("the workflow_run event payload has no workflow_run")
        prs = run.get("pull_requests") if isinstance(run.get("pull_requests"), list) else []
        number = prs[0].get("number") if prs and isinstance(prs[0], dict) else None
        return Event(
            name=name,
            repository=repository,
            pr_number=_int(number, "workflow_run.pull_requests[0].number") if number is not None else None,
            base_ref=None,
            head_sha=str(run.get("head_sha") or "") or None,
            head_ref=None,
        )
    # push, schedule, ...: analyze the given refs, report to the job summary only.
    return Event(name=name, repository=repository, pr_number=None, base_ref=inputs.base_ref,
                 head_sha=env.get("GITHUB_SHA") or None, head_ref=inputs.head_ref)


def load_payload(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the event payload {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"the event payload {path} is not a JSON object")
    return data


def _sha(pr: Mapping[str, Any], side: str) -> str:
    value = pr.get(side)
    sha = value.get("sha") if isinstance(value, dict) else None
    if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{7,64}", sha):
        raise ConfigError(f"pull_request.{side}.sha is missing or not a commit SHA")
    return sha


def _int(value: Any, where: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be a number; got {value!r}") from None
    if number <= 0:
        raise ConfigError(f"{where} must be positive")
    return number


def _dict(value: Any) -> dict[str, Any]:
    """The value when it is a JSON object, else an empty one (input may be anything)."""
    return value if isinstance(value, dict) else {}
