"""Patches and snippets in the app's language (issue #10, failures 6 and 7). Pure, no synth."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.analysis import analyze
from bot.core.assembly import load_assembly
from bot.core.context import build_context
from bot.core.model import Level, Usage
from bot.plans import snippets
from bot.plans.consumer_patches import drop_reference_patch, ssm_read_patch
from bot.plans.patches import (
    PatchError,
    SourceSite,
    add_dependency_patch,
    apply,
    diff,
    export_value_patch,
    merge,
    ssm_switch_patches,
    ssm_write_patch,
)
from bot.plans.planner import attach_plans
from bot.plans.source import declared_library_version
from bot.plans.verify import apply_changes
from tests.tiers import examples

TS_STACKS = """import * as cdk from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export class ComputeStack extends cdk.Stack {
  public readonly strandsLayer: lambda.LayerVersion;
  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);
    this.strandsLayer = new lambda.LayerVersion(this, 'StrandsLayer', {
      code: lambda.Code.fromAsset('layers/strands'), // a comment with ) in it
      compatibleRuntimes: [lambda.Runtime.PYTHON_3_12],
    });
    new lambda.LayerVersion(this, 'UtilsLayer', { code: lambda.Code.fromAsset('layers/utils') });
  }
}

export class AdminStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);
    const arn = cdk.Fn.importValue('shared-layer-arn');
    // cdk.Fn.importValue('shared-layer-arn') in a comment stays
  }
}

const app = new cdk.App();
const compute = new ComputeStack(app, 'Compute');
new AdminStack(app, 'Admin');
"""


def site(line_text: str, text: str = TS_STACKS, language: str = "typescript") -> SourceSite:
    line = next(i for i, line in enumerate(text.split("\n"), 1) if line_text in line)
    return SourceSite("lib/stacks.ts", language, line, text)


def patched(change_diff: str | None, text: str = TS_STACKS) -> str:
    assert change_diff
    return apply(text, change_diff)


def test_typescript_export_value_uses_the_real_expression() -> None:
    change = export_value_patch(site("new lambda.LayerVersion(this, 'StrandsLayer'"), "StrandsLayer",
                                "layer_version_arn")
    assert change is not None and change.kind == "patch" and change.path == "lib/stacks.ts"
    after = patched(change.diff)
    assert "    this.exportValue(this.strandsLayer.layerVersionArn);\n    new lambda.LayerVersion(this, 'UtilsLayer'" \
        in after
    assert "export_value" not in after


def test_typescript_bare_construct_gets_a_name_and_a_hand_named_export() -> None:
    change = export_value_patch(site("'UtilsLayer'"), "UtilsLayer", "layer_version_arn", "utils-arn")
    assert change is not None
    after = patched(change.diff)
    assert "const utilsLayer = new lambda.LayerVersion(this, 'UtilsLayer'" in after
    assert 'this.exportValue(utilsLayer.layerVersionArn, { name: "utils-arn" });' in after


def test_typescript_add_dependency_names_the_unnamed_stack() -> None:
    change = add_dependency_patch(site("new AdminStack(app, 'Admin')"), site("new ComputeStack(app, 'Compute')"),
                                  "Admin", "Compute")
    assert change is not None
    after = patched(change.diff)
    assert "const adminStack = new AdminStack(app, 'Admin');\n" in after
    assert after.rstrip().endswith("adminStack.addDependency(compute);")


def test_typescript_ssm_switch_rewrites_code_not_comments() -> None:
    producer = site("new lambda.LayerVersion(this, 'StrandsLayer'")
    reader = site("const arn = cdk.Fn.importValue")
    changes = ssm_switch_patches(producer, "StrandsLayer", "layer_version_arn", "/p/x", "shared-layer-arn", [reader])
    assert changes is not None and len(changes) == 1
    after = patched(changes[0].diff)
    assert "const arn = ssm.StringParameter.valueForStringParameter(this, \"/p/x\");" in after
    assert "// cdk.Fn.importValue('shared-layer-arn') in a comment stays" in after
    assert "import * as ssm from 'aws-cdk-lib/aws-ssm';" in after
    assert 'new ssm.StringParameter(this, "CdkExportGuardParameterStrandsLayer", { parameterName: "/p/x", ' \
        "stringValue: this.strandsLayer.layerVersionArn });" in after


def test_other_languages_get_snippets_not_patches() -> None:
    java = SourceSite("Stack.java", "java", 1, 'LayerVersion l = new LayerVersion(this, "L", props);\n')
    assert export_value_patch(java, "L", "layer_version_arn") is None
    assert snippets.export_value("this", "l.getLayerVersionArn()", "java") == \
        "this.exportValue(l.getLayerVersionArn());"
    assert snippets.export_value("this", "l.LayerVersionArn", "csharp") == "this.ExportValue(l.LayerVersionArn);"
    assert snippets.export_value("stack", "l.LayerVersionArn()", "go", "n") == \
        'stack.ExportValue(l.LayerVersionArn(), &awscdk.ExportValueOptions{Name: jsii.String("n")})'
    assert snippets.export_value("self", "x.arn", "python") == "self.export_value(x.arn)"
    assert snippets.add_dependency("admin", "compute", "typescript") == "admin.addDependency(compute);"
    assert snippets.ssm_read("this", "/p", "go") == \
        'awsssm.StringParameter_ValueForStringParameter(this, jsii.String("/p"), nil)'


def test_apply_is_strict() -> None:
    text = "a\nb\nc\n"
    assert apply(text, "--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@\n a\n+x\n b\n c\n") == "a\nx\nb\nc\n"
    with pytest.raises(PatchError):
        apply(text, "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-z\n+y\n")


def test_declared_library_version_reads_pins_not_lower_bounds(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("aws-cdk-lib>=2.120.0\nconstructs\n")
    assert declared_library_version(tmp_path) is None
    (tmp_path / "requirements.txt").write_text("aws-cdk-lib==2.253.0\n")
    assert declared_library_version(tmp_path) == "2.253.0"
    (tmp_path / "package-lock.json").write_text(json.dumps(
        {"packages": {"node_modules/aws-cdk-lib": {"version": "2.260.1"}}}))
    assert declared_library_version(tmp_path) == "2.260.1"


@pytest.mark.synth
def test_below_2_254_the_weak_route_is_not_first_and_says_upgrade(synth_app: Callable[[str, str], Path]) -> None:
    """Failure 6: on 2.253 the flag is silently ignored; the plan must not rely on it."""
    base = replace(load_assembly(synth_app("layer_cross_stack", "base")), cdk_library_version="2.253.0")
    head = replace(load_assembly(synth_app("layer_cross_stack", "head")), cdk_library_version="2.253.0")
    context = build_context(base, head)
    (finding,) = attach_plans(analyze(base, head, context), context).findings
    plan = finding.remediation
    assert plan is not None and plan.strategy == "split-ssm-parameter"
    weak = next(a for a in plan.alternatives if a.strategy == "split-weak-reference")
    assert any("Upgrade aws-cdk-lib" in s.title for s in weak.steps)
    assert weak.verification.level is Level.MODELLED  # never verified: the upgrade is an edit by hand


# --- dropping and switching a consumer's reference (issue #10, "dropping or restoring a reference") ---

TS_CONSUMER = """import * as cdk from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export class ComputeStack extends cdk.Stack {
  public readonly sharedLayer: lambda.LayerVersion;
  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);
    this.sharedLayer = new lambda.LayerVersion(this, 'SharedLayer', {
      code: lambda.Code.fromAsset('layers/shared'),
    });
  }
}

export class AdminStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props: cdk.StackProps & { compute: ComputeStack }) {
    super(scope, id, props);
    new lambda.Function(this, 'Agent', {
      runtime: lambda.Runtime.PYTHON_3_12,
      layers: [props.compute.sharedLayer], // the (layer)
      environment: { LAYER_ARN: props.compute.sharedLayer.layerVersionArn, OTHER: 'x' },
    });
  }
}

const app = new cdk.App();
const compute = new ComputeStack(app, 'Compute');
new AdminStack(app, 'Admin', { compute });
"""
LAYERS = Usage("Admin", "AgentA1", "/Resources/AgentA1/Properties/Layers/0", "Admin/Agent/Resource")
ENV_VAR = Usage("Admin", "AgentA1", "/Resources/AgentA1/Properties/Environment/Variables/LAYER_ARN",
                "Admin/Agent/Resource")


def ts_site(line_text: str) -> SourceSite:
    return site(line_text, TS_CONSUMER, "typescript")


def test_typescript_drop_reference_removes_the_element_and_the_entry() -> None:
    change = drop_reference_patch(ts_site("'Agent'"), [LAYERS, ENV_VAR], "sharedLayer")
    assert change is not None and change.diff is not None
    after = apply(TS_CONSUMER, change.diff)
    assert "      layers: [], // the (layer)\n" in after
    assert "      environment: { OTHER: 'x' },\n" in after
    assert "sharedLayer" not in after.split("class AdminStack")[1].split("const app")[0]


def test_typescript_ssm_route_reads_the_parameter_and_keeps_the_export_once() -> None:
    read = ssm_read_patch(ts_site("'Agent'"), [LAYERS, ENV_VAR], "sharedLayer", "/p/layer",
                          "AWS::Lambda::LayerVersion", "layer_version_arn")
    write = ssm_write_patch(ts_site("'SharedLayer'"), "SharedLayer", "layer_version_arn", "/p/layer", True)
    dependency = add_dependency_patch(ts_site("'Admin'"), ts_site("'Compute'"), "Admin", "Compute")
    assert read is not None and write is not None and dependency is not None
    merged = merge("lib/stacks.ts", TS_CONSUMER, [write, read, dependency])
    assert merged is not None and merged.diff is not None
    after = apply(TS_CONSUMER, merged.diff)
    assert after.count("import * as ssm from 'aws-cdk-lib/aws-ssm';") == 1
    assert ("layers: [lambda.LayerVersion.fromLayerVersionArn(this, \"CdkExportGuardSharedLayerAgent\", "
            "ssm.StringParameter.valueForStringParameter(this, \"/p/layer\"))]") in after
    assert "LAYER_ARN: ssm.StringParameter.valueForStringParameter(this, \"/p/layer\")," in after
    assert "    this.exportValue(this.sharedLayer.layerVersionArn);\n" in after
    assert "new ssm.StringParameter(this, \"CdkExportGuardParameterSharedLayer\"" in after
    assert "adminStack.addDependency(compute);" in after


def test_a_usage_the_source_does_not_show_gives_no_patch() -> None:
    elsewhere = Usage("Admin", "AgentA1", "/Resources/AgentA1/Properties/Environment/Variables/NOT_THERE",
                      "Admin/Agent/Resource")
    assert drop_reference_patch(ts_site("'Agent'"), [elsewhere], "sharedLayer") is None
    assert ssm_read_patch(ts_site("'Agent'"), [elsewhere], None, "/p", "AWS::Lambda::LayerVersion",
                          "layer_version_arn") is None


def test_merge_refuses_patches_that_edit_the_same_lines_differently() -> None:
    one = drop_reference_patch(ts_site("'Agent'"), [LAYERS], "sharedLayer")
    other = ssm_read_patch(ts_site("'Agent'"), [LAYERS], "sharedLayer", "/p", "AWS::Lambda::LayerVersion",
                           "layer_version_arn")
    assert one is not None and other is not None
    assert merge("lib/stacks.ts", TS_CONSUMER, [one, other]) is None


@settings(max_examples=examples(300), deadline=None)
@given(
    body=st.text(alphabet=st.sampled_from(list("ab_.,:=()[]{}'\"# \n")), max_size=120),
    prop=st.sampled_from(["Layers/0", "Layers/3", "Environment/Variables/a", "Environment", "X"]),
    language=st.sampled_from(["python", "typescript"]),
)
def test_consumer_patches_never_crash_on_any_source(body: str, prop: str, language: str) -> None:
    """Any text after the creating call: a patch that applies, or None, never an exception."""
    text = f"x = lambda_.Function(self, 'Agent', {body}\n"
    site = SourceSite("app.py", language, 1, text)
    usage = Usage("C", "A", f"/Resources/A/Properties/{prop}", "C/Agent/Resource")
    for change in (drop_reference_patch(site, [usage], "a"),
                   ssm_read_patch(site, [usage], "a", "/p", "AWS::Lambda::LayerVersion", "layer_version_arn")):
        if change is not None:
            assert change.diff is not None
            apply(text, change.diff)


# Shapes met on real apps (docs/plans.md, "Checked on real apps"): a TypeScript app whose
# last line has no newline (jumic/cdk-lambda-shared-python-code), Python files written on
# Windows (Kilianrm/cloud-expenses-app).
TS_APP_NO_FINAL_NEWLINE = """const app = new cdk.App();
const layerStack = new LayerStack(app, 'LayerStack')

new Component1Stack(app, 'Componenet1Stack', {
  layer: layerStack.layer,
});

new Component2Stack(app, 'Componenet2Stack', {
  layer: layerStack.layer,
});"""


@settings(max_examples=examples(300), deadline=None)
@given(before=st.text(alphabet=st.sampled_from(["a", "b", "\n", "\f", "\u2028", " "]), max_size=40),
       after=st.text(alphabet=st.sampled_from(["a", "c", "\n", "\f", "\u2028", " "]), max_size=40))
def test_diff_then_apply_gives_the_text_back(before: str, after: str) -> None:
    """Lines end at ``\\n`` only, and a last line without one is marked, as git does."""
    assert apply(before, diff("f", before, after)) == after


@pytest.mark.parametrize("before, after", [
    ("a\nb", "a\nb\nc"),  # the last line gets a newline and a line after it
    ("a\nb\n", "a\nb"),
    ("a\r\nb\r\n", "a\r\nx\r\nb\r\n"),
])
def test_git_apply_takes_the_diffs(tmp_path: Path, before: str, after: str) -> None:
    (tmp_path / "f").write_bytes(before.encode())
    (tmp_path / "p.diff").write_text(diff("f", before, after))
    subprocess.run(["git", "apply", "-p1", "p.diff"], cwd=tmp_path, check=True, capture_output=True)
    assert (tmp_path / "f").read_bytes() == after.encode()


def test_dependencies_merge_when_the_file_has_no_final_newline() -> None:
    """Two consumers created without a variable, the second on the file's last line: each
    patch edits that line, and their merge applies (it used to raise PatchError)."""
    def ts_app_site(line_text: str) -> SourceSite:
        return site(line_text, TS_APP_NO_FINAL_NEWLINE)

    producer = ts_app_site("new LayerStack(")
    changes = [add_dependency_patch(ts_app_site(f"new Component{n}Stack("), producer, f"Componenet{n}Stack",
                                    "LayerStack") for n in (1, 2)]
    assert all(c is not None for c in changes)
    merged = merge("lib/stacks.ts", TS_APP_NO_FINAL_NEWLINE, [c for c in changes if c is not None])
    assert merged is not None and merged.diff is not None
    after = apply(TS_APP_NO_FINAL_NEWLINE, merged.diff)
    assert "const componenet1Stack = new Component1Stack(app, 'Componenet1Stack', {" in after
    assert after.endswith("});\n// cdk-export-guard: declares the deploy order\n"
                          "componenet2Stack.addDependency(layerStack);")


def test_a_crlf_file_keeps_its_line_endings(tmp_path: Path) -> None:
    """New lines in a Windows-written file end in CRLF, and the verifier applies the patch to
    the file's exact bytes (it used to read it with universal newlines and refuse it)."""
    text = TS_STACKS.replace("\n", "\r\n")
    change = export_value_patch(site("new lambda.LayerVersion(this, 'StrandsLayer'", text), "StrandsLayer",
                                "layer_version_arn")
    assert change is not None and change.diff is not None
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "stacks.ts").write_bytes(b"\xef\xbb\xbf" + text.encode())
    apply_changes(tmp_path, [change])
    data = (tmp_path / "lib" / "stacks.ts").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"this.exportValue(this.strandsLayer.layerVersionArn);\r\n" in data
    assert data.count(b"\n") == data.count(b"\r\n")
