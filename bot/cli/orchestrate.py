"""One app directory, end to end: get both assemblies (given or synthesized), analyze, render.

I/O happens through the functions passed in (synth, checkout), so tests can drive it
with real synth or with prepared assemblies alike.
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from bot.core.analysis import analyze
from bot.core.assembly import AssemblyError, Limits, load_assemblies
from bot.core.context import build_context
from bot.core.gcpause import cyclic_gc_paused
from bot.core.model import AnalysisResult, Severity
from bot.plans.deploy_scan import find_deploy_sites
from bot.plans.pipelines.plans import attach_pipeline_plans
from bot.plans.pipelines.verify import verify_pipeline_plans
from bot.plans.planner import attach_plans
from bot.plans.source import (
    app_language,
    code_locations,
    declared_library_version,
    import_sites,
    plan_construct_paths,
    source_sites,
)
from bot.plans.verify import Tree, VerifyOptions, root_above, verify_plans
from bot.render import json_report, markdown, sarif
from bot.render import status as status_bodies
from bot.workspace import synth_cache
from bot.workspace.cdk_diff import changed_stack_diffs
from bot.workspace.synth import SynthError, child_environment, synthesize

if TYPE_CHECKING:
    from bot.live.aws import LiveOptions

Log = Callable[[str], None]


@dataclass(frozen=True)
class Side:
    """Where one side's assembly comes from: a ready cdk.out, or an app to synthesize."""

    assembly: Path | None = None
    app_dir: Path | None = None
    commit: str | None = None  # with SynthOptions.cache_dir: reuse an earlier synth of this commit


@dataclass(frozen=True)
class SynthOptions:
    cdk_diff: bool = False  # attach `cdk diff` of each changed stack
    live: LiveOptions | None = None  # also check the AWS account
    cache_dir: Path | None = None  # keeps synthesized base assemblies between runs
    app_command: str | None = None
    install_command: str | None = None
    timeout_seconds: float = 900.0
    parallel: bool = True
    context: Mapping[str, str] = field(default_factory=dict)
    verify_budget_seconds: float | None = None  # build each plan's states for real within this time; None: off
    aws_credentials: bool = False  # the app's synth does context lookups: let it see AWS_* (never tokens)


@dataclass(frozen=True)
class AppOutcome:
    app_directory: str
    result: AnalysisResult | None
    failure: str | None = None
    log_tail: str = ""
    seconds: float = 0.0
    cdk_diffs: tuple[tuple[str, str], ...] = ()  # (stack, `cdk diff` text), when asked for

    @property
    def worst(self) -> Severity | None:
        return self.result.worst() if self.result else None

    def conclusion(self, fail_on: str) -> str:
        """success | neutral | failure, as the check run reports it."""
        if self.failure is not None or self.result is None:
            return "failure"
        if fail_on != "never" and any(f.severity >= Severity.parse(fail_on) for f in self.result.findings):
            return "failure"
        return "neutral" if self.result.findings else "success"

    def markdown(self, template_dir: Path | None = None, limit: int = markdown.MAX_LENGTH) -> str:
        if self.result is None:
            return status_bodies.failure(self.app_directory, self.failure or "unknown error", self.log_tail)
        body = markdown.render(self.result, template_dir=template_dir, title=_title(self.app_directory))
        if self.cdk_diffs:
            body += "\n" + status_bodies.diff_appendix(self.cdk_diffs, limit - len(body) - 200)
        return body


def run_analysis(
    base: Path, head: Path, source: Path | None = None, repo: Path | None = None, live: LiveOptions | None = None,
    *, base_source: Path | None = None, verify: VerifyOptions | None = None,
) -> AnalysisResult:
    """Load both assemblies, analyze, attach checked plans. Raises AssemblyError on bad input.

    With ``live``, what is deployed corrects and completes the result; AWS failures
    become notes, never errors. ``base_source``: the base branch's app folder, for patches
    on the base; with ``verify``, every plan's states are synthesized and checked.
    """
    with cyclic_gc_paused():
        result = _run_analysis(base, head, source, repo, live, base_source)
    if verify is not None:
        result = verify_plans(result, base, head, verify)
        result = verify_pipeline_plans(result, base, head, verify)
    return result


def _run_analysis(
    base: Path, head: Path, source: Path | None, repo: Path | None, live: LiveOptions | None,
    base_source: Path | None = None,
) -> AnalysisResult:
    limits = Limits.from_environment(os.environ)
    base_assembly, head_assembly = load_assemblies(base, head, limits)
    context = build_context(base_assembly, head_assembly)
    result = analyze(base_assembly, head_assembly, context)
    if live is not None:
        from bot.live import aws
        from bot.live.adjust import apply_live, context_for

        factory = live.factory or aws.client_factory(live.profile, endpoint_url=live.endpoint_url)
        facts = aws.gather(context, factory, change_sets=live.change_sets, budget_seconds=live.budget_seconds)
        result = apply_live(result, context, facts)
        context = context_for(result, context)
    code = code_locations(result, source) if source else {}
    paths = plan_construct_paths(result)
    sources = source_sites(source, paths) if source else {}
    base_sources = source_sites(base_source, paths) if base_source else {}
    named = [f.export for f in result.findings if f.export and ":ExportsOutput" not in f.export]
    readers = import_sites(source, named) if source else {}
    base_readers = import_sites(base_source, named) if base_source else {}
    language = app_language(source) if source else None
    library = declared_library_version(source) if source else None
    root = repo or source
    sites = find_deploy_sites(root) if root else []
    if live is not None:
        from bot.live.adjust import plan_findings

        planned = plan_findings(result, context, code=code, sites=sites)
    else:
        planned = attach_plans(result, context, code=code, sites=sites, sources=sources, language=language,
                               library_version=library, base_sources=base_sources, readers=readers,
                               base_readers=base_readers)
    # Stacks a pipeline deploys get plans the pipeline honours (code changes, not commands).
    return attach_pipeline_plans(planned, context, code=code, sites=sites, sources=sources, language=language)


def _title(app_directory: str) -> str:
    """The comment's title: the app folder names it, except the repository root."""
    folder = app_directory.strip().strip("/")
    return "cdk-export-guard" if folder in ("", ".") else f"cdk-export-guard — {folder}"


def slug(app_directory: str) -> str:
    """A visible file name part: never starting with a dot (upload-artifact skips hidden files)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", app_directory.strip("/")).strip("-").lstrip(".") or "root"


def run_app(app_directory: str, base: Side, head: Side, work_dir: Path, options: SynthOptions,
            log: Log = print, repo: Path | None = None) -> AppOutcome:
    """Analyze one app; every failure becomes an outcome that says what went wrong."""
    started = time.perf_counter()
    out = work_dir / slug(app_directory)
    try:
        base_dir, head_dir = _assemblies(base, head, out, options, log)
        log(f"[{app_directory}] analyzing {base_dir} -> {head_dir}")
        verify = None
        if options.verify_budget_seconds is not None and head.app_dir is not None:
            depth = len(PurePosixPath(app_directory.strip("/")).parts)  # the app's folder in the checkout
            verify = VerifyOptions(
                base=Tree(base.app_dir, dict(options.context), root_above(base.app_dir, depth))
                if base.app_dir else None,
                head=Tree(head.app_dir, dict(options.context), root_above(head.app_dir, depth)),
                budget_seconds=options.verify_budget_seconds, app_command=options.app_command,
                log=log,
            )
        result = run_analysis(base_dir, head_dir, source=head.app_dir, repo=repo, live=options.live,
                              base_source=base.app_dir, verify=verify)
        diffs = tuple((d.stack, d.text) for d in changed_stack_diffs(result, base_dir, head_dir)) \
            if options.cdk_diff else ()
    except SynthError as exc:
        return AppOutcome(app_directory, None, str(exc), exc.log_tail, time.perf_counter() - started)
    except AssemblyError as exc:
        return AppOutcome(app_directory, None, f"the cloud assembly cannot be read: {exc}", "",
                          time.perf_counter() - started)
    return AppOutcome(app_directory, result, None, "", time.perf_counter() - started, diffs)


def _assemblies(base: Side, head: Side, out: Path, options: SynthOptions, log: Log) -> tuple[Path, Path]:
    jobs = {name: side for name, side in (("base", base), ("head", head)) if side.assembly is None}
    ready = {name: side.assembly for name, side in (("base", base), ("head", head)) if side.assembly is not None}
    if options.parallel and len(jobs) == 2:
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            futures = {name: pool.submit(_synth, name, side, out, options, log) for name, side in jobs.items()}
            for name, future in futures.items():
                ready[name] = future.result()  # re-raises the side's SynthError
    else:
        for name, side in jobs.items():
            ready[name] = _synth(name, side, out, options, log)
    base_dir, head_dir = ready["base"], ready["head"]
    assert base_dir is not None and head_dir is not None
    return base_dir, head_dir


def _synth(name: str, side: Side, out: Path, options: SynthOptions, log: Log) -> Path:
    assert side.app_dir is not None
    key = None
    if options.cache_dir is not None and side.commit:
        key = synth_cache.cache_key(side.commit, side.app_dir, app_command=options.app_command,
                                    install_command=options.install_command)
        cached = synth_cache.lookup(options.cache_dir, key)
        if cached is not None:
            log(f"[{name}] reusing the synth of {side.commit[:12]} from the cache")
            return cached
    if options.install_command:
        _install(name, side.app_dir, options, log)
    log(f"[{name}] cdk synth in {side.app_dir} ...")
    try:
        result = synthesize(side.app_dir, out / name, app_command=options.app_command, context=options.context,
                            timeout_seconds=options.timeout_seconds, aws=options.aws_credentials)
    except SynthError as exc:
        raise SynthError(f"synth of {name} failed: {exc}", exc.log_tail) from None
    log(f"[{name}] synthesized in {result.duration_seconds:.1f}s")
    if key is not None and options.cache_dir is not None:
        return synth_cache.store(options.cache_dir, key, out / name)
    return out / name


def _install(name: str, app_dir: Path, options: SynthOptions, log: Log) -> None:
    import subprocess

    assert options.install_command is not None
    log(f"[{name}] install: {options.install_command}")
    try:
        done = subprocess.run(options.install_command, shell=True, cwd=app_dir, capture_output=True, text=True,
                              timeout=options.timeout_seconds, check=False,
                              env=child_environment(aws=options.aws_credentials), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise SynthError(f"install command of {name} timed out after {options.timeout_seconds:.0f}s", "") from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-40:])
        raise SynthError(f"install command of {name} exited with {done.returncode}", tail)


def write_reports(outcome: AppOutcome, directory: Path) -> dict[str, Path]:
    """JSON and SARIF files for one app (nothing when the analysis could not run)."""
    if outcome.result is None:
        return {}
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": directory / f"{slug(outcome.app_directory)}.report.json",
        "sarif": directory / f"{slug(outcome.app_directory)}.sarif",
    }
    paths["json"].write_text(json_report.render(outcome.result), encoding="utf-8")
    paths["sarif"].write_text(sarif.render(outcome.result, source_root=outcome.app_directory), encoding="utf-8")
    return paths
