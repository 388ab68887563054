"""`cdk-export-guard action`: the GitHub Action's entrypoint.

Reads the inputs and the event, analyzes each app directory (or, in the fork-safe
publish job, reads the reports another job wrote), then writes the reports, the job
summary and the step outputs before anything is posted, so a failed post loses
nothing. Posting (one sticky comment per app, one check run) comes last.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import jinja2

from bot.cli.orchestrate import AppOutcome, Side, SynthOptions, run_app, write_reports
from bot.core.model import AnalysisResult, Severity
from bot.core.report_loader import ReportError, load_report
from bot.core.secrets import mask_known, mask_text
from bot.github import environ_guard
from bot.github.action_config import ConfigError, Event, Inputs, load_payload, read_event, read_inputs
from bot.github.client import Annotation, GitHubClient, GitHubError, RetryPolicy
from bot.github.runner_output import add_mask_lines, command, inert
from bot.live.adjust import problems as live_problems
from bot.live.aws import LiveOptions
from bot.render import status as status_bodies
from bot.workspace import cancel
from bot.workspace.checkout import CheckoutError, add_base_worktree, remove_worktree, resolve

PR_FILE = "pull-request.json"
# Dropped from our environment once the client holds the token, and masked in everything we print.
TOKEN_VARIABLES = ("INPUT_GITHUB_TOKEN", "INPUT_GITHUB-TOKEN", "GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_RUNTIME_TOKEN",
                   "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
_SECRET_VARIABLE = re.compile(r"(?i)token|secret|password|private[_-]?key|^AWS_SECRET_ACCESS_KEY$|^AWS_SESSION_TOKEN$")
PR_SET_DUMPABLE = 4  # linux/prctl.h
REPORT_FOLDER = "cdk-export-guard-report"  # visible: actions/upload-artifact v4.4+ skips hidden folders
SUMMARY_LIMIT = 1_000_000  # GitHub's job summary limit is 1 MiB per step


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "action", help="run as the GitHub Action (reads the INPUT_* variables action.yml maps, and GITHUB_*)",
        description="Run as the GitHub Action: analyze, write reports and outputs, comment, set the check.",
    )
    parser.set_defaults(handler=main)


@dataclass(frozen=True)
class Published:
    comment_urls: tuple[str, ...]
    problems: tuple[str, ...]


ANALYSIS_THREAD = "cdk-export-guard-analysis"
CLEANUP_SECONDS = 20.0  # after a cancellation; the runner kills the job a few seconds after SIGTERM


def main(args: argparse.Namespace) -> int:
    if environ_guard.needs_reexec(os.environ):
        environ_guard.reexec_without_secrets(["action"])  # returns only where it cannot
    handed = environ_guard.take_handed_over()
    # AWS credentials back into os.environ for boto3 (live mode): set now, they are not in
    # /proc/<pid>/environ, and children only see them with synth-aws-credentials.
    for name, value in handed.items():
        if name.startswith("AWS_"):
            os.environ[name] = value
    code = run({**os.environ, **handed})
    if any(t.name == ANALYSIS_THREAD and t.is_alive() for t in threading.enumerate()):
        # An analysis over its time limit may be stuck in a read that nothing can interrupt;
        # everything is reported and flushed, so leave without waiting for it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


@dataclass(frozen=True)
class Say:
    """The Action's log lines: masked, and only our own workflow commands are commands."""

    secrets: tuple[str, ...] = ()

    def log(self, text: str) -> None:
        print(inert(text, self.secrets), file=sys.stderr)

    def warning(self, text: str) -> None:
        print(command("warning", f"cdk-export-guard: {text}", self.secrets), file=sys.stderr)

    def error(self, text: str) -> None:
        print(command("error", f"cdk-export-guard: {text}", self.secrets), file=sys.stderr)

    def mask(self, text: str) -> str:
        return mask_text(text, self.secrets)


def known_secrets(env: Mapping[str, str]) -> tuple[str, ...]:
    """Values of the environment that are secret by name (the GitHub token, AWS keys, runner tokens)."""
    return tuple(value for name, value in env.items()
                 if value and (name in TOKEN_VARIABLES or _SECRET_VARIABLE.search(name)))


def run(env: Mapping[str, str], *, policy: RetryPolicy | None = None) -> int:
    """The whole Action; ``policy`` tunes GitHub retries and pacing (tests use no pacing)."""
    say = Say(known_secrets(env))
    for line in add_mask_lines(say.secrets):  # the runner then hides them in every log line, ours or not
        print(line, flush=True)
    try:
        inputs = read_inputs(env)
        event = read_event(env, load_payload(env), inputs)
    except ConfigError as exc:
        say.error(str(exc))
        return 2
    workspace = Path(env.get("GITHUB_WORKSPACE") or ".").resolve()
    # Reports go in the workspace, where the job's other steps (and the Docker image's callers) find them.
    report_dir = workspace / REPORT_FOLDER
    client = _client(env, inputs, policy, say)
    _forget_tokens(env)
    if inputs.report_dir:
        outcomes, pr_number, head_sha = _read_published(workspace / inputs.report_dir, event, client)
    else:
        refusal = None
        if event.pr_number and event.name == "workflow_dispatch":
            event = _dispatch_shas(client, event, say) if client is not None else event
            refusal = _dispatch_refusal(workspace, event)
        if refusal is not None:
            outcomes = [AppOutcome(d, None, refusal) for d in inputs.app_directories]
        else:
            outcomes = _analyze_within(inputs, lambda: _analyze(env, inputs, event, workspace, say))
        pr_number, head_sha = event.pr_number, event.head_sha
        _write_pr_file(report_dir, pr_number, head_sha)
    outcomes = [_masked(o, say) for o in outcomes]
    conclusion = _conclusion(outcomes, inputs.fail_on)
    paths = {o.app_directory: write_reports(o, report_dir) for o in outcomes}
    template_dir = _template_dir(inputs, event, workspace, say)
    # Values inside were masked before rendering (reports, log tails, diffs); the known secrets are
    # masked once more, whatever put them there. The patterns are not run on rendered Markdown:
    # an export name that happens to look like a key would be hidden from the reader.
    bodies = {o.app_directory: mask_known(_body(o, template_dir, say), say.secrets) for o in outcomes}
    _append_summary(env, list(bodies.values()))
    published = Published((), ())
    if inputs.publish and client is not None:
        published = _publish(client, inputs, outcomes, bodies, pr_number, head_sha, conclusion, event.name)
    for problem in published.problems:
        say.warning(problem)
    first = paths.get(outcomes[0].app_directory, {}) if outcomes else {}
    _set_outputs(env, {
        "blockers": str(sum(o.result.count(Severity.BLOCKER) for o in outcomes if o.result)),
        "warnings": str(sum(o.result.count(Severity.WARNING) for o in outcomes if o.result)),
        "report-path": _relative(first.get("json"), workspace),
        "sarif-path": _relative(first.get("sarif"), workspace),
        "report-dir": _relative(report_dir, workspace),
        "comment-url": published.comment_urls[0] if published.comment_urls else "",
        "conclusion": conclusion,
    })
    for outcome in outcomes:
        say.log(_one_line(outcome))
        if inputs.live and outcome.result is not None:
            for line in live_problems(outcome.result):
                say.warning(line)
    return 1 if conclusion == "failure" else 0


# Jobs that hold a write token while the workspace may hold a pull request's files.
PRIVILEGED_EVENTS = ("pull_request_target", "workflow_run")


def _template_dir(inputs: Inputs, event: Event, workspace: Path, say: Say) -> Path | None:
    """The custom template folder, unless a pull request could have written it into a privileged job."""
    if not inputs.template_dir:
        return None
    if event.name in PRIVILEGED_EVENTS or inputs.report_dir:
        say.warning(f"template-dir is ignored in a {event.name} job: it holds a write token, and a pull "
                    "request could change the templates; use it in the pull_request job")
        return None
    return workspace / inputs.template_dir


def _body(outcome: AppOutcome, template_dir: Path | None, say: Say) -> str:
    """The comment body; a custom template that fails (or tries to leave the sandbox) gives way to ours."""
    try:
        return outcome.markdown(template_dir)
    except jinja2.TemplateError as exc:
        if template_dir is None:
            raise
        say.warning(f"the template-dir templates could not be used ({type(exc).__name__}: {exc}); "
                    "the packaged template was used instead")
        return outcome.markdown(None)


def _masked(outcome: AppOutcome, say: Say) -> AppOutcome:
    """The outcome with every text that came from a child process or an error masked."""
    return replace(
        outcome,
        failure=say.mask(outcome.failure) if outcome.failure is not None else None,
        log_tail=say.mask(outcome.log_tail),
        cdk_diffs=tuple((stack, say.mask(text)) for stack, text in outcome.cdk_diffs),
    )


def _forget_tokens(env: Mapping[str, str]) -> None:
    """Once the client holds the token, our own environment no longer does.

    Children get an allow-listed environment anyway (bot.workspace.synth.child_environment); this
    also keeps the token out of anything that reads ``os.environ`` later. The process is
    made non-dumpable so that a child running as the same user cannot read our initial
    environment from ``/proc/<pid>/environ`` (Docker grants no CAP_SYS_PTRACE by default).
    """
    for name in TOKEN_VARIABLES:
        os.environ.pop(name, None)
    _no_dump()


def _no_dump() -> None:
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


# --- analyze ----------------------------------------------------------------------


def _analyze_within(inputs: Inputs, analyze: Callable[[], list[AppOutcome]]) -> list[AppOutcome]:
    """``analyze()`` within the analysis time limit; a crash or a timeout is an outcome that says so.

    Whatever happens, every app gets an outcome, so the comment and the check say the
    analysis could not run: never silence, never "no risk".
    """
    done: list[list[AppOutcome]] = []
    crashed: list[BaseException] = []

    def work() -> None:
        try:
            done.append(analyze())
        except BaseException as exc:  # noqa: BLE001 - reported below, never lost
            crashed.append(exc)

    thread = threading.Thread(target=work, name=ANALYSIS_THREAD, daemon=True)
    thread.start()
    try:
        thread.join(inputs.analysis_timeout_seconds)
    except KeyboardInterrupt:
        cancel.CANCELLED.set()  # the analysis stops at its next check and cleans up (change sets)
        thread.join(CLEANUP_SECONDS)
        raise
    if done:
        return done[0]
    if crashed:
        reason = f"the analysis crashed ({_describe(crashed[0])})"
    else:
        reason = (f"the analysis did not finish within {inputs.analysis_timeout_seconds:g} s "
                  "(input analysis-timeout)")
    return [AppOutcome(d, None, reason) for d in inputs.app_directories]


def _describe(exc: BaseException) -> str:
    return mask_text(" ".join(f"{type(exc).__name__}: {exc}".split()))[:300]


def _analyze(env: Mapping[str, str], inputs: Inputs, event: Event, workspace: Path, say: Say) -> list[AppOutcome]:
    work = Path(tempfile.mkdtemp(prefix="cdk-export-guard-", dir=env.get("RUNNER_TEMP") or None))
    options = SynthOptions(
        cdk_diff=inputs.cdk_diff,
        cache_dir=workspace / inputs.cache_dir if inputs.cache_dir else None,
        # Credentials come from the job (e.g. aws-actions/configure-aws-credentials with OIDC).
        # CDK_EXPORT_GUARD_AWS_ENDPOINT_URL points at an emulator (LocalStack, moto) instead.
        live=LiveOptions(endpoint_url=env.get("CDK_EXPORT_GUARD_AWS_ENDPOINT_URL") or None) if inputs.live else None,
        app_command=inputs.synth_command,
        verify_budget_seconds=inputs.verify_budget_seconds,
        install_command=inputs.install_command,
        timeout_seconds=inputs.synth_timeout_seconds,
        parallel=inputs.parallel_synth,
        aws_credentials=inputs.synth_aws_credentials,
    )
    worktree: Path | None = None
    base_commit: str | None = None
    try:
        if inputs.base_assembly is None:
            if not event.base_ref:
                reason = "no base to compare with: give base-ref (or base-assembly) for a run outside a pull request"
                return [AppOutcome(d, None, reason) for d in inputs.app_directories]
            worktree = work / "base-checkout"
            try:
                base_commit = add_base_worktree(workspace, event.base_ref, worktree)
            except CheckoutError as exc:
                return [AppOutcome(d, None, str(exc)) for d in inputs.app_directories]
        outcomes = []
        for directory in inputs.app_directories:
            base = Side(assembly=workspace / inputs.base_assembly) if inputs.base_assembly else \
                Side(app_dir=(worktree or workspace) / directory, commit=base_commit)
            head = Side(assembly=workspace / inputs.head_assembly) if inputs.head_assembly else \
                Side(app_dir=workspace / directory)
            try:
                outcomes.append(run_app(directory, base, head, work, options,
                                        log=say.log, repo=workspace))
            except Exception as exc:  # noqa: BLE001 - one app's crash must not silence the others
                outcomes.append(AppOutcome(directory, None, f"the analysis crashed ({_describe(exc)})"))
        return outcomes
    finally:
        if worktree is not None:
            remove_worktree(workspace, worktree)


def _dispatch_refusal(workspace: Path, event: Event) -> str | None:
    """Why a manual run must not judge the pull request: the workspace is not its head.

    The verdict goes on the PR's head commit, so that is the commit to analyze: the
    workflow must check it out (``ref: refs/pull/<n>/head``, or ``head-ref``).
    """
    checked_out = resolve(workspace, "HEAD")
    head = event.head_sha or "?"
    if checked_out is None:
        return (f"cannot tell which commit {workspace} holds (not a git checkout), so pull request "
                f"#{event.pr_number} (head {head[:12]}) was not analyzed; check out its head")
    if checked_out.lower() != head.lower():
        return (f"the workspace has commit {checked_out[:12]} checked out, but pull request #{event.pr_number}'s "
                f"head is {head[:12]}: that commit was not analyzed. Check out the pull request's head "
                f"(actions/checkout with ref: refs/pull/{event.pr_number}/head) or leave pr-number empty")
    return None


def _dispatch_shas(client: GitHubClient, event: Event, say: Say) -> Event:
    """A manual run on a pull request: its base unless overridden, and its head SHA (the verdict goes there)."""
    assert event.pr_number is not None
    try:
        base_sha, head_sha = client.pull_request_shas(event.pr_number)
    except GitHubError as exc:
        say.warning(str(exc))
        return event
    return Event(event.name, event.repository, event.pr_number, event.base_ref or base_sha, head_sha, event.head_ref)


def _write_pr_file(report_dir: Path, pr_number: int | None, head_sha: str | None) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / PR_FILE).write_text(json.dumps({"number": pr_number, "head_sha": head_sha}) + "\n")


# --- publish reports another job wrote (fork-safe) ---------------------------------


def _read_published(directory: Path, event: Event, client: GitHubClient | None
                    ) -> tuple[list[AppOutcome], int | None, str | None]:
    """The reports of the analyze job; untrusted: validated, and bound to the run's head SHA."""
    outcomes: list[AppOutcome] = []
    pr_number, head_sha = _trusted_pr(directory, event, client)
    for path in sorted(directory.glob("*.report.json"))[:50]:
        name = path.name.removesuffix(".report.json")
        try:
            outcomes.append(AppOutcome(name, load_report(path)))
        except ReportError as exc:
            outcomes.append(AppOutcome(name, None, f"the uploaded report is invalid: {exc}"))
    if not outcomes:
        outcomes.append(AppOutcome(".", None, f"no report was found in {directory} (did the analyze job fail?)"))
    return outcomes, pr_number, head_sha


def _trusted_pr(directory: Path, event: Event, client: GitHubClient | None) -> tuple[int | None, str | None]:
    """The PR to post to: the one the analyze run names, only if its head is the run's head SHA."""
    head_sha = event.head_sha
    try:
        claimed = json.loads((directory / PR_FILE).read_text()[:1000])
        number = claimed.get("number") if isinstance(claimed, dict) else None
    except (OSError, ValueError):
        number = None
    if event.pr_number is not None:
        return event.pr_number, head_sha
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0 or client is None or not head_sha:
        return None, head_sha
    try:
        current = client.pull_request_head(number)
    except GitHubError:
        return None, head_sha
    # A fork controls pull-request.json: never let it aim the comment at another PR.
    return (number, head_sha) if current == head_sha else (None, head_sha)


# --- publish -----------------------------------------------------------------------


def _client(env: Mapping[str, str], inputs: Inputs, policy: RetryPolicy | None, say: Say) -> GitHubClient | None:
    if not inputs.github_token:
        return None
    try:
        # GitHub Enterprise Server runners set GITHUB_API_URL to https://HOST/api/v3.
        client = GitHubClient(inputs.github_token, env.get("GITHUB_REPOSITORY", ""),
                              env.get("GITHUB_API_URL") or "https://api.github.com", policy=policy)
    except GitHubError as exc:
        say.warning(str(exc))
        return None
    # Only the token's own comments are the bot's: the configured login, else the token's
    # (GET /user answers for personal tokens; installation tokens are github-actions[bot]
    # until the first comment the client writes names the real login).
    author = inputs.comment_author or (client.token_login() if inputs.publish else None)
    if author:
        client.comment_author = author
    return client


def _publish(client: GitHubClient, inputs: Inputs, outcomes: Sequence[AppOutcome], bodies: Mapping[str, str],
             pr_number: int | None, head_sha: str | None, conclusion: str, event_name: str) -> Published:
    urls: list[str] = []
    problems: list[str] = []
    if pr_number is not None and head_sha and inputs.comment != "off":
        for outcome in outcomes:
            try:
                url = _comment(client, inputs, outcome, bodies[outcome.app_directory], pr_number, head_sha)
            except GitHubError as exc:
                problems.append(f"the comment for {outcome.app_directory} was not posted: {exc}")
                continue
            if url:
                urls.append(url)
    # A manual run without a pull request analyzed whatever refs it was given: job summary only.
    if head_sha and not (event_name == "workflow_dispatch" and pr_number is None):
        try:
            result = client.publish_check(
                head_sha, name=inputs.check_name, conclusion=conclusion,  # type: ignore[arg-type]
                title=_title(outcomes), summary="\n\n".join(bodies.values()),
                annotations=_annotations(outcomes),
            )
            if result.fallback_reason:
                problems.append(f"a commit status was set instead of a check run: {result.fallback_reason}")
        except GitHubError as exc:
            problems.append(f"the check was not set: {exc}")
    return Published(tuple(urls), tuple(problems))


def _comment(client: GitHubClient, inputs: Inputs, outcome: AppOutcome, body: str, pr_number: int,
             head_sha: str) -> str | None:
    key = outcome.app_directory
    has_findings = outcome.result is None or bool(outcome.result.findings)
    if has_findings:
        return client.upsert_comment(pr_number, body, key=key, head_sha=head_sha).url
    resolved = client.resolve_comment(pr_number, key=key, head_sha=head_sha,
                                      body=status_bodies.resolved(key, head_sha))
    if resolved.comment_id is None and inputs.comment == "on":
        return client.upsert_comment(pr_number, body, key=key, head_sha=head_sha).url
    return resolved.url


def _annotations(outcomes: Sequence[AppOutcome]) -> list[Annotation]:
    """Pipeline lines to change and CDK source lines to edit, found by the plans."""
    out: list[Annotation] = []
    seen: set[tuple[str, int, str]] = set()
    for outcome in outcomes:
        for finding in outcome.result.findings if outcome.result else ():
            plan = finding.remediation
            level: Literal["failure", "warning"] = "failure" if finding.severity is Severity.BLOCKER else "warning"
            for edit in plan.pipeline_edits if plan else ():
                path = _repo_path(outcome.app_directory, edit.path, pipeline=True)
                key = (path, edit.line, finding.rule)
                if key not in seen:
                    seen.add(key)
                    out.append(Annotation(path, edit.line, edit.line + edit.before.count("\n"), level,
                                          f"{finding.rule}: deploy order", f"Suggested:\n{edit.after.strip()}"))
            for step in plan.steps if plan else ():
                if step.code and step.code.path and step.code.line:
                    path = _repo_path(outcome.app_directory, step.code.path, pipeline=False)
                    key = (path, step.code.line, finding.rule)
                    if key not in seen:
                        seen.add(key)
                        out.append(Annotation(path, step.code.line, step.code.line, level, finding.rule,
                                              finding.message[:1000]))
    return out


def _repo_path(app_directory: str, path: str, *, pipeline: bool) -> str:
    # Pipeline paths are relative to the repository root; source paths to the app folder.
    if pipeline or app_directory in ("", "."):
        return path
    return f"{app_directory.strip('/')}/{path}"


# --- outputs ------------------------------------------------------------------------


def _relative(path: Path | None, workspace: Path) -> str:
    """Paths as the job's other steps see them: relative to the workspace when inside it."""
    if path is None:
        return ""
    try:
        return str(path.resolve().relative_to(workspace))
    except ValueError:
        return str(path)


def _conclusion(outcomes: Sequence[AppOutcome], fail_on: str) -> str:
    rank = {"success": 0, "neutral": 1, "failure": 2}
    return max((o.conclusion(fail_on) for o in outcomes), key=rank.__getitem__, default="failure")


def _title(outcomes: Sequence[AppOutcome]) -> str:
    if any(o.result is None for o in outcomes):
        return "The analysis could not run"
    results: list[AnalysisResult] = [o.result for o in outcomes if o.result is not None]
    counts = [(s, sum(r.count(s) for r in results)) for s in (Severity.BLOCKER, Severity.WARNING, Severity.NOTICE)]
    found = [f"{n} {s.label}{'s' if n != 1 else ''}" for s, n in counts if n]
    return ", ".join(found) if found else "No cross-stack export at risk"


def _append_summary(env: Mapping[str, str], bodies: Sequence[str]) -> None:
    path = env.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    text = "\n\n".join(bodies)
    if len(text) > SUMMARY_LIMIT:
        text = text[:SUMMARY_LIMIT] + "\n\n_… cut to fit the job summary; the JSON report has everything._\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text + "\n")


def _set_outputs(env: Mapping[str, str], outputs: Mapping[str, str]) -> None:
    path = env.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        for name, value in outputs.items():
            if "\n" in value:
                delimiter = f"cdk_export_guard_{os.urandom(8).hex()}"
                handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                handle.write(f"{name}={value}\n")


def _one_line(outcome: AppOutcome) -> str:
    if outcome.result is None:
        return f"cdk-export-guard [{outcome.app_directory}]: could not run: {outcome.failure}"
    result = outcome.result
    return (f"cdk-export-guard [{outcome.app_directory}]: {result.count(Severity.BLOCKER)} blockers, "
            f"{result.count(Severity.WARNING)} warnings, {result.count(Severity.NOTICE)} notices "
            f"({outcome.seconds:.1f}s)")

