"""Plans checked against the repository's own deploy commands (fixture repos on disk)."""

from __future__ import annotations

from pathlib import Path

from bot.core.analysis import analyze
from bot.core.assembly import load_assembly
from bot.core.context import build_context
from bot.core.model import AnalysisResult
from bot.plans.deploy_scan import find_deploy_sites
from bot.plans.planner import attach_plans
from tests.builders import AppBuilder, import_value, ref

REPOS = Path(__file__).parent / "fixtures" / "repos"


def weak_app(producer: str, consumer: str, key: str) -> AppBuilder:
    app = AppBuilder()
    p = app.stack(producer)
    p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
    p.output("PublishOutputRefLayer", ref("Layer"))
    app.stack(consumer, depends_on=[producer]).resource("Fn", "AWS::Lambda::Function", Layers=[
        {"Fn::GetStackOutput": {"StackName": producer, "OutputName": "PublishOutputRefLayer"}}])
    return app


def new_reference_app(producer: str, consumer: str, *, referenced: bool) -> AppBuilder:
    app = AppBuilder()
    p = app.stack(producer)
    p.resource("Q", "AWS::SQS::Queue")
    if referenced:
        p.export("Q", ref("Q"), f"{producer}:ExportsOutputRefQ")
    c = app.stack(consumer, depends_on=[producer] if referenced else [])
    c.resource("T", "AWS::SNS::Topic", DisplayName=import_value(f"{producer}:ExportsOutputRefQ") if referenced else "x")
    return app


def plan_with_repo(tmp_path: Path, base: AppBuilder, head: AppBuilder, repo: str) -> AnalysisResult:
    b, h = load_assembly(base.write(tmp_path / "base")), load_assembly(head.write(tmp_path / "head"))
    context = build_context(b, h)
    return attach_plans(analyze(b, h, context), context, sites=find_deploy_sites(REPOS / repo))


def test_workflow_deploying_only_the_producer_gets_the_exact_edit(tmp_path: Path) -> None:
    result = plan_with_repo(tmp_path, weak_app("Example-ComputeStack", "Example-ApiStack", "a.zip"),
                            weak_app("Example-ComputeStack", "Example-ApiStack", "b.zip"), "repo_github_subset")
    (finding,) = result.findings
    plan = finding.remediation
    assert plan is not None and plan.checked
    assert plan.deploy_command == "cdk deploy Example-ComputeStack Example-ApiStack --force"
    (edit,) = plan.pipeline_edits
    assert edit.path == ".github/workflows/deploy.yml"
    assert edit.before == "        run: npx cdk deploy Example-ComputeStack --require-approval never"
    assert edit.after == (
        "        run: npx cdk deploy Example-ComputeStack Example-ApiStack --force --require-approval never"
    )
    assert plan.steps[-1].kind == "pipeline-edit"


def test_buildspec_and_pipeline_source_deploying_a_subset_get_edits(tmp_path: Path) -> None:
    result = plan_with_repo(tmp_path, weak_app("E-Com67-ComputeStack", "E-Com67-AdminStack", "a.zip"),
                            weak_app("E-Com67-ComputeStack", "E-Com67-AdminStack", "b.zip"), "repo_pipeline_buildspec")
    plan = result.findings[0].remediation
    assert plan is not None and plan.checked
    edits = {e.path: e for e in plan.pipeline_edits}
    assert set(edits) == {"buildspec.yml", "stacks/backend_pipeline_stack.py"}
    assert edits["buildspec.yml"].after.strip() == (
        "- cdk deploy E-Com67-ComputeStack E-Com67-AdminStack --force --require-approval never")
    # `cdk deploy E-Com67-AdminStack` already deploys its upstream producer first: the
    # smallest fix is --force, so the unchanged consumer template is not skipped.
    python_edit = edits["stacks/backend_pipeline_stack.py"]
    assert python_edit.line == 12
    assert python_edit.after == (
        "ADMIN_DEPLOY = 'cdk deploy E-Com67-AdminStack --force --require-approval never && echo \\'admin done\\''")


def test_repository_that_already_deploys_correctly_gets_no_edit(tmp_path: Path) -> None:
    result = plan_with_repo(tmp_path, new_reference_app("Ok-ComputeStack", "Ok-AdminStack", referenced=False),
                            new_reference_app("Ok-ComputeStack", "Ok-AdminStack", referenced=True), "repo_ok")
    (finding,) = result.findings
    assert finding.rule == "new-reference-order"
    plan = finding.remediation
    assert plan is not None and plan.checked and plan.pipeline_edits == ()
