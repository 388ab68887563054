"""Every deploy site of a repository is checked, including commands that also deploy
stacks the finding does not involve (the corpus app's CodeBuild step deploys four)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.analysis import analyze
from bot.core.assembly import load_assembly
from bot.core.context import build_context
from bot.plans.deploy_scan import find_deploy_sites
from bot.plans.planner import attach_plans
from tests.builders import AppBuilder
from tests.corpus import ECOM, requires_corpus

SOURCE = ECOM.parent / "e-com67-src"


def weak_app(key: str) -> AppBuilder:
    app = AppBuilder()
    app.stack("E-Data").resource("T", "AWS::SQS::Queue")
    p = app.stack("E-Compute")
    p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": key})
    p.output("PublishOutputRefLayer", {"Ref": "Layer"})
    app.stack("E-Api").resource("Q", "AWS::SQS::Queue")
    app.stack("E-Admin", depends_on=["E-Compute"]).resource("Fn", "AWS::Lambda::Function", Layers=[
        {"Fn::GetStackOutput": {"StackName": "E-Compute", "OutputName": "PublishOutputRefLayer"}}])
    return app


def test_a_command_deploying_unrelated_stacks_too_is_checked_and_edited(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "stacks").mkdir(parents=True)
    # A CodeBuild step as the corpus app writes it: only pipeline-step sources are deploy sites.
    (repo / "stacks" / "pipeline_stack.py").write_text(
        'spec = codebuild.BuildSpec.from_object({"phases": {"build": {"commands": [\n'
        '    "cdk deploy E-Data E-Compute E-Api E-Admin --require-approval never",\n]}}})\n')
    base = load_assembly(weak_app("a.zip").write(tmp_path / "base"))
    head = load_assembly(weak_app("b.zip").write(tmp_path / "head"))
    context = build_context(base, head)
    result = attach_plans(analyze(base, head, context), context, sites=find_deploy_sites(repo))
    (finding,) = result.findings
    plan = finding.remediation
    assert plan is not None and plan.checked
    (edit,) = plan.pipeline_edits
    assert edit.path == "stacks/pipeline_stack.py" and edit.line == 2
    # The unrelated stacks stay in the command; only --force is added (Admin's template is unchanged).
    assert edit.after == '    "cdk deploy E-Data E-Compute E-Api E-Admin --force --require-approval never",'


@pytest.mark.corpus
@requires_corpus
@pytest.mark.skipif(not (SOURCE / "f0d9370").is_dir(), reason=f"corpus app source not found at {SOURCE}")
def test_the_corpus_app_gets_an_edit_for_both_of_its_deploy_sites() -> None:
    base, head = load_assembly(ECOM / "0f9208b"), load_assembly(ECOM / "f0d9370")
    context = build_context(base, head)
    sites = find_deploy_sites(SOURCE / "f0d9370")
    assert {s.path for s in sites} >= {"deploy-em/stacks.sh", "stacks/backend_pipeline_stack.py"}
    result = attach_plans(analyze(base, head, context), context, sites=sites)
    blocker = next(f for f in result.findings if f.rule == "export-value-change-in-use")
    plan = blocker.remediation
    assert plan is not None and plan.checked
    edits = {e.path: e for e in plan.pipeline_edits}
    assert set(edits) == {"deploy-em/stacks.sh", "stacks/backend_pipeline_stack.py"}
    codebuild = edits["stacks/backend_pipeline_stack.py"].after
    assert "E-Com67-ApiStack" in codebuild and "E-Com67-AdminInsightsStack --force" in codebuild
