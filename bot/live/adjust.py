"""Live mode, the pure half: what the deployed account says about this change.

``bot/live/aws.py`` reads the facts per environment (deployed exports, who imports them,
deployed templates, change-set verdicts); here they adjust the offline result:

- the deployed template of a producer replaces its base template when they differ
  (main not deployed yet, or drift), and head is analyzed again against it;
- ``export-in-use-outside-app``: an export this change alters or removes is imported
  (``ListImports``) by stacks that are not part of the app;
- ``import-missing-export`` warnings about external exports are settled with
  ``ListExports``: dropped when the export exists, raised to blockers when it does not;
- change-set verdicts (``Replacement``) confirm or refute "may be replaced".

Everything else the account says (a consumer that does not import what the app thinks,
what could not be read) becomes a line in ``AnalysisResult.notes``. No I/O here.
"""

from __future__ import annotations

import shlex
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.core.analysis import analyze
from bot.core.assembly import AssemblyError, stack_with_template
from bot.core.context import Context, build_context
from bot.core.model import (
    AnalysisResult,
    Assembly,
    Cause,
    CodeLocation,
    Environment,
    Finding,
    Level,
    Plan,
    ReferenceKind,
    Severity,
    Stack,
    StackKey,
    Step,
    ValueChange,
    Verification,
)
from bot.live.facts import LiveFacts
from bot.plans.deploy_command import deploy_command
from bot.plans.planner import attach_plans

if TYPE_CHECKING:
    from bot.plans.deploy_sites import DeploySite

OUTSIDE_RULE = "export-in-use-outside-app"
STALE_RULE = "export-in-use-by-deployed-stack"  # an app stack deployed from an older version still imports it
UNKNOWN_RULE = "export-importers-unknown"  # ListImports could not say who imports an export that changes
NOTE_PREFIX = "live: "
PROBLEM_PREFIX = "live check incomplete: "

_MAY_RULES = frozenset({"export-value-may-change-in-use", OUTSIDE_RULE})
_UNCERTAIN = frozenset({"resource-may-be-replaced", "unknown-resource-type"})
_REPLACED = frozenset({"resource-replaced", "type-changed"})
_SHOWN = 5  # names listed in one note before "and N more"


@dataclass(frozen=True)
class EnvironmentRequest:
    """What to read in one environment: the app's stacks there, and which to fetch templates of."""

    stacks: tuple[str, ...]  # every top-level stack of base and head in this environment
    producers: tuple[str, ...]  # base stacks that export something: their deployed template matters


@dataclass(frozen=True)
class ExportChange:
    """An export this change alters or removes, whoever imports it."""

    environment: Environment
    name: str
    producer: Stack  # the head stack; the base one when the stack left the app
    output: str  # Output logical id (base side)
    change: ValueChange  # CHANGES or MAY_CHANGE
    removed: bool
    causes: tuple[Cause, ...]

    @property
    def verb(self) -> str:
        if self.removed:
            return "is removed"
        return "changes value" if self.change is ValueChange.CHANGES else "may change value"


# --- what to read -------------------------------------------------------------------


def requests(context: Context) -> dict[Environment, EnvironmentRequest]:
    """Per environment of the app's top-level stacks: its stacks and the base producers."""
    stacks: dict[Environment, set[str]] = defaultdict(set)
    producers: dict[Environment, set[str]] = defaultdict(set)
    for assembly in (context.base, context.head):
        for stack in assembly.stacks.values():
            stacks[stack.environment].add(stack.stack_name)
    for stack in context.base.stacks.values():
        if any(o.export_name is not None and o.export_resolved for o in stack.outputs.values()):
            producers[stack.environment].add(stack.stack_name)
    return {
        env: EnvironmentRequest(tuple(sorted(names)), tuple(sorted(producers.get(env, ()))))
        for env, names in sorted(stacks.items())
    }


def changed_exports(context: Context) -> tuple[ExportChange, ...]:
    """Every base export head changes (value) or removes, imported in the app or not.

    An export whose producer left the app is not included: nothing deploys that stack,
    so its export stays as it is. An export that moves to another stack counts as
    removed from its base producer.
    """
    out: list[ExportChange] = []
    for (environment, name), published in sorted(context.base_graph.exports.items(), key=lambda item: item[0]):
        if name.startswith("<unresolved"):
            continue
        diff = context.diff_of_base(published.stack)
        if diff is None:
            continue
        base_output = diff.base.outputs[published.source]
        head_published = context.head_graph.export(environment, name)
        if head_published is None or head_published.stack != diff.head.key:
            cause = Cause(
                "output-removed",
                f"Output {base_output.logical_id} (export {name}) is no longer in "
                f"{diff.head.stack_name}'s template",
                {"stack": diff.head.stack_name, "output": base_output.logical_id, "export": name},
            )
            out.append(ExportChange(environment, name, diff.head, base_output.logical_id,
                                    ValueChange.CHANGES, True, (cause,)))
            continue
        head_output = diff.head.outputs[head_published.source]
        change = diff.output_change(base_output, head_output)
        if change.change is ValueChange.SAME:
            continue
        out.append(ExportChange(environment, name, diff.head, base_output.logical_id,
                                change.change, False, change.causes))
    return tuple(out)


# --- the deployed state in place of base ----------------------------------------------


def rebase(context: Context, facts: Mapping[Environment, LiveFacts]) -> tuple[Context, tuple[str, ...]]:
    """The context with base replaced by what is deployed, where the account says it differs.

    A base stack whose deployed template differs gets that template (``stack_with_template``);
    a base stack that is not deployed is left out of base (head then adds it). Returns the
    same context object when nothing differs, and one note per stack that did.
    """
    stacks: dict[StackKey, Stack] = dict(context.base.stacks)
    notes: list[str] = []
    for key, stack in context.base.stacks.items():
        env_facts = facts.get(stack.environment)
        if env_facts is None or stack.stack_name not in env_facts.templates:
            continue
        template = env_facts.templates[stack.stack_name]
        if template is None:
            del stacks[key]
            notes.append(
                f"{NOTE_PREFIX}{stack.stack_name} is in base but not deployed in {stack.environment}: "
                "analyzed as a stack head adds (nothing can import its exports yet)"
            )
            continue
        try:
            deployed = stack_with_template(stack, template)
        except AssemblyError as exc:
            notes.append(f"{NOTE_PREFIX}the deployed template of {stack.stack_name} cannot be read ({exc}); "
                         "base is used for it")
            continue
        difference = _difference(stack, deployed)
        if not difference:
            continue
        stacks[key] = deployed
        notes.append(
            f"{NOTE_PREFIX}the deployed {stack.stack_name} in {stack.environment} differs from base "
            f"({difference}): main is not deployed there yet, or the stack drifted. Head is compared "
            f"with the deployed template of {stack.stack_name}."
        )
    if stacks == dict(context.base.stacks):
        return context, tuple(notes)
    base: Assembly = replace(context.base, stacks=stacks)
    return build_context(base, context.head), tuple(notes)


def _difference(base: Stack, deployed: Stack) -> str:
    parts = []
    for what, before, after in (
        ("resources", base.resources, deployed.resources),
        ("outputs", base.outputs, deployed.outputs),
        ("parameters", base.parameters, deployed.parameters),
    ):
        changed = sorted(k for k in before if k in after and before[k] != after[k])
        only_base = sorted(k for k in before if k not in after)
        only_deployed = sorted(k for k in after if k not in before)
        bits = [
            f"{label} {_names(names)}"
            for label, names in (("differ:", changed), ("only in base:", only_base),
                                 ("only deployed:", only_deployed))
            if names
        ]
        if bits:
            parts.append(f"{what} " + "; ".join(bits))
    return "; ".join(parts)


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def context_for(result: AnalysisResult, context: Context) -> Context:
    """The context ``result`` was computed from: ``context``, or one on the deployed base."""
    if result.base is context.base and result.head is context.head:
        return context
    return build_context(result.base, result.head)


# --- applying the facts -----------------------------------------------------------------


def apply_live(result: AnalysisResult, context: Context, facts: Mapping[Environment, LiveFacts]) -> AnalysisResult:
    """The offline result, corrected and completed with what is deployed. Pure."""
    live_context, notes = rebase(context, facts)
    findings = list(result.findings)
    stacks = result.stacks
    if live_context is not context:
        relooked = analyze(live_context.base, live_context.head, live_context)
        notes = (*notes, *_compare(result.findings, relooked.findings))
        findings, stacks = list(relooked.findings), relooked.stacks
    out_notes: list[str] = [*result.notes, *_summaries(facts), *notes]

    findings, import_notes = _check_imports(findings, facts)
    out_notes.extend(import_notes)

    outside, outside_notes = _outside_importers(live_context, facts)
    findings = _mark_shared(findings, outside)
    findings.extend(outside)
    out_notes.extend(outside_notes)

    adjusted = [_with_change_sets(f, facts) for f in findings]
    findings = [f for f, _ in adjusted]
    out_notes.extend(note for _, note in adjusted if note)

    out_notes.extend(f"{PROBLEM_PREFIX}{p}" for env in sorted(facts) for p in facts[env].problems)
    findings.sort(key=lambda f: (-f.severity, f.rule, f.producer, f.subject))
    return replace(
        result,
        base=live_context.base,
        findings=tuple(findings),
        stacks=stacks,
        notes=tuple(dict.fromkeys(out_notes)),
    )


def _summaries(facts: Mapping[Environment, LiveFacts]) -> list[str]:
    lines = []
    for env in sorted(facts):
        f = facts[env]
        if f.exports is None:
            continue
        deployed = sum(1 for t in f.templates.values() if t is not None)
        lines.append(
            f"{NOTE_PREFIX}{env}: {len(f.exports)} exports deployed; templates of {deployed} stack"
            f"{'' if deployed == 1 else 's'} read; importers of {len(f.importers)} changed export"
            f"{'' if len(f.importers) == 1 else 's'} listed"
            + (f"; {len(f.change_sets)} change set{'' if len(f.change_sets) == 1 else 's'} computed"
               if f.change_sets else "")
        )
    return lines


def _compare(before: Iterable[Finding], after: Iterable[Finding]) -> list[str]:
    def key(f: Finding) -> tuple[str, str, str]:
        return f.rule, f.producer, f.subject

    old = {key(f) for f in before}
    new = {key(f) for f in after}
    lines = []
    for label, keys in (("only with the deployed templates", new - old), ("only against base", old - new)):
        if keys:
            shown = sorted(f"{rule} {subject or producer}" for rule, producer, subject in keys)
            lines.append(f"{NOTE_PREFIX}findings {label}: {_names(shown)}")
    return lines


# --- external imports (import-missing-export) --------------------------------------------


def _check_imports(findings: list[Finding], facts: Mapping[Environment, LiveFacts]) -> tuple[list[Finding], list[str]]:
    out: list[Finding] = []
    notes: list[str] = []
    for finding in findings:
        env_facts = facts.get(finding.environment)
        if (
            finding.rule != "import-missing-export"
            or finding.severity is not Severity.WARNING
            or finding.export is None
            or env_facts is None
            or env_facts.exports is None
        ):
            out.append(finding)
            continue
        name = finding.export
        importers = _and(finding.consumers)
        if name in env_facts.exports:
            exporter = env_facts.exporters.get(name)
            by = f" by {exporter}" if exporter else ""
            if finding.producer:  # the producer left the app; its warning is about destroying it
                out.append(finding)
                notes.append(f"{NOTE_PREFIX}{name} is still exported{by} in {finding.environment} (ListExports)")
                continue
            notes.append(
                f"{NOTE_PREFIX}{importers} import{'s' if len(finding.consumers) == 1 else ''} {name}: it is "
                f"exported{by} in {finding.environment} (ListExports), so the import-missing-export "
                "warning is dropped"
            )
            continue
        message = (
            f"{importers} import{'s' if len(finding.consumers) == 1 else ''} {name}, and no stack exports "
            f"it in {finding.environment} (checked live with ListExports): the deploy of {importers} fails "
            f"with \"No export named {name} found\"."
        )
        cause = Cause(
            "export-not-found",
            f"ListExports in {finding.environment} has no export named {name}",
            {"export": name, "environment": str(finding.environment)},
        )
        region = finding.environment.region
        plan = Plan(
            strategy="create-missing-export",
            summary=f"Deploy whatever exports {name} in {finding.environment} first, or correct the "
            f"name {importers} import{'s' if len(finding.consumers) == 1 else ''}.",
            steps=(
                Step(
                    title="List the exports that do exist in the target account and region",
                    kind="deploy",
                    commands=(f"aws cloudformation list-exports --region {shlex.quote(region)} "
                              "--query 'Exports[].Name'",),
                ),
            ),
        )
        out.append(replace(finding, severity=Severity.BLOCKER, message=message,
                           causes=(*finding.causes, cause), remediation=plan))
    return out, notes


# --- importers outside the app --------------------------------------------------------------


def _outside_importers(context: Context, facts: Mapping[Environment, LiveFacts]) -> tuple[list[Finding], list[str]]:
    findings: list[Finding] = []
    notes: list[str] = []
    for change in changed_exports(context):
        env_facts = facts.get(change.environment)
        importers = env_facts.importers.get(change.name) if env_facts else None
        if importers is None:
            # Not read (ListImports failed, or the environment could not be read): unknown, never "no risk".
            findings.append(_unknown_finding(change))
            continue
        app = _app_stacks(context, change.environment)
        believed = sorted({
            context.base_stacks[r.consumer].stack_name
            for r in context.base_graph.strong()
            if r.name == change.name and r.environment.compatible(change.environment) and r.producer is not None
        })
        for name in believed:
            if name not in importers:
                notes.append(
                    f"{NOTE_PREFIX}{name} imports {change.name} in base, but ListImports in {change.environment} "
                    f"does not list it: the deployed {name} does not import it (not deployed yet, or "
                    "deployed from an older version). Findings assume base is deployed."
                )
        stale = sorted(n for n in importers if _in_app(n, app) and n not in believed)
        if stale:
            findings.append(_stale_finding(change, stale, context))
        outside = sorted(n for n in importers if not _in_app(n, app))
        if outside:
            findings.append(_outside_finding(change, outside))
    return findings, notes


def _app_stacks(context: Context, environment: Environment) -> list[Stack]:
    return [
        s for s in (*context.base.all_stacks(), *context.head.all_stacks())
        if s.environment.compatible(environment)
    ]


def _in_app(name: str, stacks: Iterable[Stack]) -> bool:
    """Whether a deployed stack name is one of the app's (nested stacks get a random suffix)."""
    return any(
        name == s.stack_name or (s.parent is not None and name.startswith(f"{s.stack_name}-"))
        for s in stacks
    )


def _cloudformation_error(change: ExportChange, importer: str) -> str:
    if change.removed:
        return f"Export {change.name} cannot be deleted as it is in use by {importer}"
    return f"Cannot update export {change.name} as it is in use by {importer}"


def _stale_finding(change: ExportChange, stale: list[str], context: Context) -> Finding:
    """Stacks of the app that base says do not import the export, but whose deployed version does.

    `cdk deploy` follows base's dependencies, so it may update the producer first, and
    CloudFormation refuses while the deployed importer still holds the export. Deploying
    those stacks first (their version in this change no longer imports it) releases it.
    """
    producer, name = change.producer, change.name
    names, one = _and(stale), len(stale) == 1
    head_importers = {
        context.head_stacks[r.consumer].stack_name
        for r in context.head_graph.strong() if r.name == name and r.environment.compatible(change.environment)
    }
    still = [n for n in stale if n in head_importers]
    message = (
        f"Deploying {producer.stack_name} will fail: export {name} {change.verb} while the deployed {names} "
        f"still import{'s' if one else ''} it (ListImports in {change.environment}), although base does not: "
        f"{'it was' if one else 'they were'} deployed from an older version. CloudFormation: "
        f"\"{_cloudformation_error(change, stale[0])}\"."
    )
    by_name = {s.stack_name: s for s in context.head.all_stacks()}
    steps = [Step(title=f"See every stack that imports {name}", kind="deploy", commands=(
        f"aws cloudformation list-imports --region {shlex.quote(change.environment.region)} "
        f"--export-name {shlex.quote(name)}",))]
    if not still and all(n in by_name for n in stale):
        steps.append(Step(
            title=f"Deploy {names} first: {'its' if one else 'their'} version in this change does not import {name}",
            kind="deploy", commands=(deploy_command([by_name[n].hierarchical_id for n in stale], exclusively=True),)))
        steps.append(Step(title=f"Then deploy {producer.stack_name}", kind="deploy",
                          commands=(deploy_command([producer.hierarchical_id]),)))
        summary = (f"Release the export first: deploy {names} (no longer importing {name}), then "
                   f"{producer.stack_name}.")
    else:
        summary = (f"{names} still import{'s' if one else ''} {name} in this change too: it cannot change "
                   "until the import is removed (see the other findings on this export).")
    plan = Plan(strategy="deploy-stale-importers-first", summary=summary, steps=tuple(steps),
                verification=Verification(Level.NONE, (), "the deployed state differs from base; the simulator "
                                          "starts from base"))
    return Finding(
        rule=STALE_RULE, severity=Severity.BLOCKER, environment=change.environment,
        producer=producer.stack_name, producer_key=producer.key, export=name, output=change.output,
        consumers=tuple(stale), consumer_keys=(), reference_kind=ReferenceKind.STRONG, message=message,
        causes=(*change.causes, *(Cause("imported-by-deployed-stack",
                                        f"the deployed {n} imports {name} (ListImports); base does not",
                                        {"stack": n, "export": name}) for n in stale)),
        usages=(), remediation=plan,
    )


def _unknown_finding(change: ExportChange) -> Finding:
    """An export that changes, and nobody could say who imports it: an importer would block the deploy."""
    producer, name = change.producer, change.name
    region = shlex.quote(change.environment.region)
    return Finding(
        rule=UNKNOWN_RULE, severity=Severity.WARNING, environment=change.environment,
        producer=producer.stack_name, producer_key=producer.key, export=name, output=change.output,
        consumers=(), consumer_keys=(), reference_kind=ReferenceKind.STRONG,
        message=(f"Export {name} of {producer.stack_name} {change.verb}, and who imports it could not be read "
                 f"(ListImports in {change.environment}; see the live-check notes): a stack outside this app "
                 "that imports it would make the deploy fail. Not checked."),
        causes=change.causes, usages=(),
        remediation=Plan(
            strategy="check-importers", summary=f"Check who imports {name} before deploying.",
            steps=(Step(title=f"List the stacks that import {name}", kind="deploy", commands=(
                f"aws cloudformation list-imports --region {region} --export-name {shlex.quote(name)}",)),),
            verification=Verification(Level.NONE, (), "the importers could not be read"),
        ),
    )


def _outside_finding(change: ExportChange, outside: list[str]) -> Finding:
    producer, name = change.producer, change.name
    names = _and(outside)
    one = len(outside) == 1
    if change.removed:
        error = f"Export {name} cannot be deleted as it is in use by {outside[0]}"
    else:
        error = f"Cannot update export {name} as it is in use by {outside[0]}"
    if change.change is ValueChange.MAY_CHANGE and not change.removed:
        message = (
            f"Export {name} of {producer.stack_name} may change value, and {names} "
            f"import{'s' if one else ''} it from outside this app (ListImports in {change.environment}); "
            f"if it does, CloudFormation refuses the deploy (\"{error}\")."
        )
        severity = Severity.WARNING
    else:
        message = (
            f"Deploying {producer.stack_name} will fail: export {name} {change.verb} while {names}, "
            f"outside this app, import{'s' if one else ''} it (ListImports in {change.environment}). "
            f"CloudFormation: \"{error}\"."
        )
        severity = Severity.BLOCKER
    causes = [
        *change.causes,
        *(
            Cause(
                "imported-outside-app",
                f"{stack} imports {name} (ListImports) and is not a stack of this app",
                {"stack": stack, "export": name},
            )
            for stack in outside
        ),
    ]
    region = change.environment.region
    list_imports = f"aws cloudformation list-imports --region {shlex.quote(region)} --export-name {shlex.quote(name)}"
    plan = Plan(
        strategy="coordinate-outside-importers",
        summary=(
            f"{names} {'is' if one else 'are'} not part of this app and import{'s' if one else ''} {name}: "
            f"no deploy of this app can change it until {'it stops' if one else 'they stop'} importing it. "
            "Their owners must move off the export first (not checked in the simulator: it cannot "
            "deploy stacks outside the app)."
        ),
        steps=(
            Step(title=f"See every stack that imports {name}", kind="deploy", commands=(list_imports,)),
            Step(
                title=f"Have the owners of {names} stop importing {name} and deploy "
                f"{'it' if one else 'them'}",
                kind="split",
                detail=(
                    "For example read the value from an SSM parameter the producer writes, or with "
                    "Fn::GetStackOutput; until then CloudFormation refuses the producer's update. "
                    f"Check with the command above that {name} is no longer imported."
                ),
            ),
            Step(
                title=f"Then deploy {producer.stack_name} with this change",
                kind="deploy",
                commands=(deploy_command([producer.hierarchical_id]),),
            ),
        ),
        verification=Verification(Level.NONE, (), "outside the app: the simulator cannot deploy other "
                                  "owners' stacks"),
    )
    return Finding(
        rule=OUTSIDE_RULE,
        severity=severity,
        environment=change.environment,
        producer=producer.stack_name,
        producer_key=producer.key,
        export=name,
        output=change.output,
        consumers=tuple(outside),
        consumer_keys=(),
        reference_kind=ReferenceKind.STRONG,
        message=message,
        causes=tuple(causes),
        usages=(),
        remediation=plan,
    )


def _mark_shared(findings: list[Finding], outside: list[Finding]) -> list[Finding]:
    """In-app findings on an export outside stacks import too: their fix alone is not enough."""
    by_export = {(f.environment, f.export): f for f in outside}
    out = []
    for finding in findings:
        other = by_export.get((finding.environment, finding.export))
        if other is None or finding.rule not in (
            "export-value-change-in-use", "export-value-may-change-in-use", "export-removed-in-use"
        ):
            out.append(finding)
            continue
        cause = Cause(
            "imported-outside-app",
            f"{_and(other.consumers)}, outside this app, also import{'s' if len(other.consumers) == 1 else ''} "
            f"{finding.export}: see {OUTSIDE_RULE}",
            {"stacks": list(other.consumers), "export": finding.export},
        )
        out.append(replace(finding, causes=(*finding.causes, cause)))
    return out


# --- change sets ------------------------------------------------------------------------------


def _with_change_sets(finding: Finding, facts: Mapping[Environment, LiveFacts]) -> tuple[Finding, str | None]:
    env_facts = facts.get(finding.environment)
    if env_facts is None or not env_facts.replacements:
        return finding, None
    verdicts: dict[tuple[str, str], tuple[str, str]] = {}  # (stack, resource) -> (verdict, offline kind)
    for cause in finding.causes:
        stack, resource = cause.details.get("stack"), cause.details.get("resource")
        if cause.kind not in _UNCERTAIN | _REPLACED or not isinstance(stack, str) or not isinstance(resource, str):
            continue
        verdict = env_facts.replacements.get((stack, resource))
        if verdict is not None:
            verdicts.setdefault((stack, resource), (verdict, cause.kind))
    if not verdicts:
        return finding, None
    added = []
    for (stack, resource), (verdict, offline) in verdicts.items():
        if verdict == "Conditional":
            kind, says = "change-set-conditional", "may replace it (Replacement: Conditional)"
        elif verdict == "True":
            kind, says = "change-set-confirms", "replaces it (Replacement: True)"
        else:
            kind = "change-set-refutes"
            says = "updates it in place (Replacement: False)" if verdict == "False" else f"says {verdict}"
        if verdict == "True" and offline in _REPLACED:
            kind = "change-set-confirms"
        added.append(Cause(
            kind,
            f"CloudFormation change set on {stack}: {resource} {says}",
            {"stack": stack, "resource": resource, "replacement": verdict, "offline": offline},
        ))
    updated = replace(finding, causes=(*finding.causes, *added))
    if finding.rule not in _MAY_RULES or finding.severity is not Severity.WARNING:
        return updated, None
    uncertain = [key for key, (_, offline) in verdicts.items() if offline in _UNCERTAIN]
    all_uncertain = {
        (c.details.get("stack"), c.details.get("resource")) for c in finding.causes if c.kind in _UNCERTAIN
    }
    confirmed = [resource for key in uncertain if verdicts[key][0] == "True" for resource in key[1:]]
    if confirmed:
        return replace(
            updated,
            severity=Severity.BLOCKER,
            message=f"{finding.message} A CloudFormation change set confirms it: {_and(confirmed)} "
            f"{'is' if len(confirmed) == 1 else 'are'} replaced, so the export changes value.",
        ), None
    refuted = [key for key in uncertain if verdicts[key][0] == "False"]
    if refuted and set(refuted) == all_uncertain:
        names = _and([r for _, r in refuted])
        note = (f"{NOTE_PREFIX}{finding.rule} on {finding.export} lowered to notice: the change set updates "
                f"{names} in place")
        return replace(
            updated,
            severity=Severity.NOTICE,
            message=f"{finding.message} A CloudFormation change set refutes it: {names} "
            f"{'is' if len(refuted) == 1 else 'are'} updated without replacement, so the export keeps its value.",
        ), note
    return updated, None


# --- plans ----------------------------------------------------------------------------------------


def plan_findings(
    result: AnalysisResult,
    context: Context,
    code: Mapping[str, CodeLocation] | None = None,
    sites: Sequence[DeploySite] = (),
) -> AnalysisResult:
    """``attach_plans`` for the findings live mode left without a plan; the others keep theirs.

    Findings live mode writes (outside importers, an external export confirmed missing)
    carry their own plan: the simulator cannot deploy stacks outside the app.
    """
    own = [f for f in result.findings if f.remediation is not None]
    planned = attach_plans(
        replace(result, findings=tuple(f for f in result.findings if f.remediation is None)),
        context_for(result, context),
        code=code,
        sites=sites,
    )
    findings = [_blocked_by_outside(f) for f in (*planned.findings, *own)]
    findings.sort(key=lambda f: (-f.severity, f.rule, f.producer, f.subject))
    return replace(planned, findings=tuple(findings))


def _blocked_by_outside(finding: Finding) -> Finding:
    """A plan the simulator accepted is still refused while stacks outside the app import the export."""
    outside = [c for c in finding.causes if c.kind == "imported-outside-app"]
    plan = finding.remediation
    if not outside or plan is None or finding.rule == OUTSIDE_RULE:
        return finding
    reason = f"not enough on its own: {outside[0].message}"

    def unchecked(p: Plan) -> Plan:
        return replace(p, verification=Verification(Level.NONE, p.verification.states, reason),
                       alternatives=tuple(unchecked(a) for a in p.alternatives))

    return replace(finding, remediation=unchecked(plan))


def problems(result: AnalysisResult) -> list[str]:
    """The live-mode lines that say what could not be checked (also worth printing on stderr)."""
    return [n for n in result.notes if n.startswith(PROBLEM_PREFIX)]


def _and(names: Iterable[str]) -> str:
    items = list(names)
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)

