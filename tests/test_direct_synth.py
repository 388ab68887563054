"""The tests' caches run apps without the CLI: same assembly as ``cdk synth``, file by file.

Alone (tests/direct_synth.py: one ``python app.py`` as the CLI runs it) and in a long-lived
runner that synthesizes app after app (tests/batch_synth.py, tests/synth_runner.py). Locally
a runner's sequence covers what one process could carry from an app to the next (the same
asset folders in two assemblies, context from cdk.json, a Stage's nested assembly); in CI
(``CI=true``) every Python test-app variant is compared against its own ``cdk synth``, and
the runner's edge cases run (same-named modules, environment and context, a failing app,
a relative asset path).
"""

from __future__ import annotations

import filecmp
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.workspace.synth import SynthError, synthesize
from tests.batch_synth import RunnerPool
from tests.direct_synth import cli_app_environment, merged_context, synthesize_directly
from tests.synth_cache import _cdk_cli, all_apps, app_dir, is_python, variants
from tests.tiers import IN_CI, ci_only

pytestmark = pytest.mark.synth


def without_traces(value: Any) -> Any:
    """Metadata holds the JS stack traces of a run (jsii's temporary folders): not content."""
    if isinstance(value, dict):
        return {k: without_traces(v) for k, v in value.items() if k != "trace"}
    if isinstance(value, list):
        return [without_traces(v) for v in value]
    return value


# aws-cdk-lib writes its timings there when a synth runs slowly (seen on a loaded machine).
TIMINGS = "performance-counters.json"


def differences(left: Path, right: Path) -> list[str]:
    files = sorted(p.relative_to(left).as_posix() for p in left.rglob("*") if p.is_file() and p.name != TIMINGS)
    other = sorted(p.relative_to(right).as_posix() for p in right.rglob("*") if p.is_file() and p.name != TIMINGS)
    out = [f"only in one: {sorted(set(files) ^ set(other))}"] if files != other else []
    for name in sorted(set(files) & set(other)):
        a, b = left / name, right / name
        if filecmp.cmp(a, b, shallow=False):
            continue
        if name.endswith(".json") and without_traces(json.loads(a.read_text())) == without_traces(
                json.loads(b.read_text())):
            continue
        out.append(f"differs: {name}")
    return out


def test_the_cli_environment_is_learned_not_written_by_hand() -> None:
    variables, added = cli_app_environment(_cdk_cli())
    assert variables["CDK_OUTDIR"] == "{outdir}"
    assert "CDK_CLI_VERSION" in variables and "CDK_CLI_ASM_VERSION" in variables
    assert added.get("aws:cdk:enable-path-metadata") is True  # the analyzer needs construct paths


def test_context_precedence_is_the_clis(tmp_path: Path) -> None:
    (tmp_path / "cdk.context.json").write_text(json.dumps({"a": "file", "b": "file", "c": "file"}))
    (tmp_path / "cdk.json").write_text(json.dumps({"app": "x", "context": {"b": "project", "c": "project"}}))
    merged = merged_context(tmp_path, {"c": "flag"}, {"d": True})
    assert merged == {"a": "file", "b": "project", "c": "flag", "d": True}


def test_a_failing_app_raises_with_its_output(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("raise SystemExit('no such construct')\n")
    with pytest.raises(SynthError) as caught:
        synthesize_directly(tmp_path, tmp_path / "out", {}, _cdk_cli())
    assert "no such construct" in caught.value.log_tail


# --- alone, and many apps in one runner (tests/batch_synth.py) ------------------------------

def cli_synth(name: str, variant: str, out: Path) -> Path:
    return synthesize(app_dir(name), out, context={"variant": variant}, cdk_cli=_cdk_cli()).out_dir


# In this order, in one runner: the example's head stages the same layer folders as its base
# into another assembly folder (aws-cdk-lib caches staged assets per process); weak_reference
# takes context from its cdk.json and has a layer asset and a weak read; stage writes a
# nested assembly. The ones compared against `cdk synth`: locally the example's head (the
# asset cache case), in CI all three (CI also compares every variant, below).
SEQUENCE = [("example", "base"), ("example", "head"), ("weak_reference", "head"), ("stage", "head")]
COMPARED = {("example", "head")} | ({("weak_reference", "head"), ("stage", "head")}
                                   if IN_CI else set())


@pytest.mark.slow
def test_alone_and_app_after_app_in_a_runner_the_assembly_is_what_cdk_synth_writes(tmp_path: Path) -> None:
    runners = RunnerPool(tmp_path / "runners", max_idle=1)
    try:
        for name, variant in SEQUENCE:
            batched = runners.synthesize(app_dir(name), tmp_path / f"{name}-{variant}", {"variant": variant},
                                         _cdk_cli())
            if (name, variant) in COMPARED:
                by_cli = cli_synth(name, variant, tmp_path / f"cli-{name}-{variant}")
                assert differences(by_cli, batched) == [], f"{name} {variant}"
    finally:
        runners.close()
    assert runners.counts == {"batched": len(SEQUENCE)}  # none fell back to a process of its own
    direct = synthesize_directly(app_dir("example"), tmp_path / "direct", {"variant": "head"}, _cdk_cli())
    assert differences(tmp_path / "cli-example-head", direct) == []


EVERY_VARIANT = [(name, variant) for name in all_apps() if is_python(app_dir(name)) for variant in variants(name)]


@pytest.fixture(scope="module")
def runners(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunnerPool]:
    """One pool for this module's tests (each runner costs a few seconds to start)."""
    pool = RunnerPool(tmp_path_factory.mktemp("runners"), max_idle=2)
    yield pool
    pool.close()


@ci_only("every variant against the CLI")
@pytest.mark.parametrize(("name", "variant"), EVERY_VARIANT)
def test_every_variant_batched_is_what_cdk_synth_writes(name: str, variant: str, tmp_path: Path,
                                                         runners: RunnerPool) -> None:
    before = runners.counts["batched"]
    batched = runners.synthesize(app_dir(name), tmp_path / "batched", {"variant": variant}, _cdk_cli())
    assert runners.counts["batched"] == before + 1  # not synthesized alone
    assert differences(cli_synth(name, variant, tmp_path / "cli"), batched) == []


# The apps that are not Python run alone with their cdk.json's command (`node app.ts`), cached
# by the synth cache: locally one variant against `cdk synth`, in CI every one.
ALONE = [(name, variant) for name in all_apps() if not is_python(app_dir(name)) for variant in variants(name)]
ALONE_COMPARED = ALONE if IN_CI else [("ts_layer", "head")]


@pytest.mark.parametrize(("name", "variant"), ALONE_COMPARED)
def test_an_app_run_alone_with_its_command_is_what_cdk_synth_writes(name: str, variant: str, tmp_path: Path,
                                                                    synth_app) -> None:  # type: ignore[no-untyped-def]
    assert differences(cli_synth(name, variant, tmp_path / "cli"), synth_app(name, variant)) == []


# The runner's edge cases test the tests' harness, not the product, and start runners of
# their own (about 30 s of CPU in all): CI runs them on every change; locally the runner is
# checked against `cdk synth` above.
RUNNER_EDGES = ci_only("each runner edge case (a test of the test harness)")


def write_app(folder: Path, body: str, **files: str) -> Path:
    """A one-stack Python app in ``folder`` (``body``: statements in ``stack``'s scope)."""
    folder.mkdir(parents=True)
    (folder / "cdk.json").write_text(json.dumps({"app": "python3 app.py"}))
    head = "import os\nimport aws_cdk as cdk\nfrom aws_cdk import aws_sqs as sqs, aws_lambda as lambda_\n"
    app = "app = cdk.App()\nstack = cdk.Stack(app, 'Only')\n" + textwrap.dedent(body) + "app.synth()\n"
    (folder / "app.py").write_text(head + app)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def queue_names(out: Path) -> list[str]:
    template = json.loads((out / "Only.template.json").read_text())
    return [r["Properties"]["QueueName"] for r in template["Resources"].values() if r["Type"] == "AWS::SQS::Queue"]


@RUNNER_EDGES
def test_apps_with_modules_of_the_same_name_each_get_their_own(tmp_path: Path, runners: RunnerPool) -> None:
    before = runners.counts.copy()
    body = "import names\nsqs.Queue(stack, 'Q', queue_name=names.QUEUE)\n"
    first = write_app(tmp_path / "first", body, **{"names.py": "QUEUE = 'first'\n"})
    second = write_app(tmp_path / "second", body, **{"names.py": "QUEUE = 'second'\n"})
    assert queue_names(runners.synthesize(first, tmp_path / "out1", {}, _cdk_cli())) == ["first"]
    assert queue_names(runners.synthesize(second, tmp_path / "out2", {}, _cdk_cli())) == ["second"]
    assert runners.counts - before == {"batched": 2}


@RUNNER_EDGES
def test_the_app_reads_its_own_environment_and_context(tmp_path: Path, runners: RunnerPool) -> None:
    before = runners.counts.copy()
    body = """\
        sqs.Queue(stack, 'FromEnv', queue_name=os.environ.get('QUEUE', 'unset'))
        sqs.Queue(stack, 'FromContext', queue_name=app.node.try_get_context('queue'))
        sqs.Queue(stack, 'Outdir', queue_name=os.path.basename(os.environ['CDK_OUTDIR']))
        """
    app = write_app(tmp_path / "app", body)
    first = runners.synthesize(app, tmp_path / "one", {"queue": "c1"}, _cdk_cli(), extra_env={"QUEUE": "e1"})
    second = runners.synthesize(app, tmp_path / "two", {"queue": "c2"}, _cdk_cli())
    # CDK_OUTDIR: the runner's assembly folder, where aws-cdk-lib writes (moved to `out` afterwards)
    assert queue_names(first) == ["e1", "c1", "cdk.out"]
    assert queue_names(second) == ["unset", "c2", "cdk.out"]  # another environment: another runner
    assert runners.counts - before == {"batched": 2}


@RUNNER_EDGES
def test_a_failing_app_fails_alone_and_the_next_app_gets_a_fresh_runner(tmp_path: Path) -> None:
    runners = RunnerPool(tmp_path / "runners", max_idle=1)  # its own: the failure ends a runner
    broken = write_app(tmp_path / "broken", "raise SystemExit('no such construct')\n")
    fine = write_app(tmp_path / "fine", "sqs.Queue(stack, 'Q', queue_name='fine')\n")
    try:
        with pytest.raises(SynthError) as caught:
            runners.synthesize(broken, tmp_path / "out1", {}, _cdk_cli())
        assert "no such construct" in caught.value.log_tail  # the message of the app run alone
        assert queue_names(runners.synthesize(fine, tmp_path / "out2", {}, _cdk_cli())) == ["fine"]
    finally:
        runners.close()
    assert runners.counts == {"alone": 1, "batched": 1}


@RUNNER_EDGES
def test_an_asset_path_relative_to_the_app_is_synthesized_alone(tmp_path: Path, runners: RunnerPool) -> None:
    """Node's working folder is the runner's, not the app's: such an app runs in a process of its own."""
    before = runners.counts.copy()
    app = write_app(tmp_path / "app", "lambda_.LayerVersion(stack, 'L', code=lambda_.Code.from_asset('layer'))\n")
    (app / "layer").mkdir()
    (app / "layer" / "marker.txt").write_text("here\n")
    out = runners.synthesize(app, tmp_path / "out", {}, _cdk_cli())
    assert runners.counts - before == {"alone": 1}
    assert [p.name for p in out.glob("asset.*/marker.txt")] == ["marker.txt"]
