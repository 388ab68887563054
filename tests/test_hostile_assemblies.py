"""Hostile cloud assemblies (issue #12, item 6, the loader's side): a one-line error or a
report, in bounded time and memory; never a traceback, a hang or a file outside the
assembly. Each test runs the whole `analyze` command in a child process with a timeout,
so a hang fails the test instead of stalling the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from bot.core.assembly import AssemblyError, Limits, load_assembly
from bot.core.memory_budget import MemoryBudget, MemoryBudgetError, json_bytes
from tests.builders import AppBuilder, import_value, ref

TIMEOUT = 60


def layer_app(key: str) -> AppBuilder:
    app = AppBuilder()
    p = app.stack("Producer")
    p.resource("Layer", "AWS::Lambda::LayerVersion", Content={"S3Bucket": "b", "S3Key": f"{key}.zip"})
    p.export("LayerArn", ref("Layer"), "Producer:ExportsOutputRefLayer")
    c = app.stack("Consumer", depends_on=["Producer"])
    c.resource("Fn", "AWS::Lambda::Function", Layers=[import_value("Producer:ExportsOutputRefLayer")])
    return app


def analyze(base: Path, head: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "bot", "analyze", "--base", str(base), "--head", str(head),
               "--format", "json", "--fail-on", "never"]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False,
                          env={**os.environ, "NO_COLOR": "1"})


def assert_one_line_error(done: subprocess.CompletedProcess[str], words: str) -> None:
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cdk-export-guard: error: "), done.stderr[-2000:]
    assert words in lines[0]


def joins(depth: int) -> object:
    value: object = ref("Layer")
    for _ in range(depth):
        value = {"Fn::Join": ["", [value]]}
    return value


def test_an_output_300_joins_deep_is_a_one_line_error(tmp_path: Path) -> None:
    base = layer_app("k1").write(tmp_path / "base")
    head = layer_app("k2")
    head.stacks["Producer"].output("Deep", joins(300), "deep-export")
    done = analyze(base, head.write(tmp_path / "head"))
    assert_one_line_error(done, "nested more than 100 levels deep")


def test_a_1000_deep_array_in_a_property_is_a_one_line_error(tmp_path: Path) -> None:
    base = layer_app("k1").write(tmp_path / "base")
    head = layer_app("k2")
    head.stacks["Consumer"].resource("Q", "AWS::SQS::Queue", Tags="DEEP")
    folder = head.write(tmp_path / "head")  # json.dumps itself cannot write 1,000 levels
    template = folder / "Consumer.template.json"
    template.write_bytes(template.read_bytes().replace(b'"DEEP"', b"[" * 1000 + b"]" * 1000))
    done = analyze(base, folder)
    assert_one_line_error(done, "nested more than 100 levels deep")


def test_real_depth_is_still_read(tmp_path: Path) -> None:
    """Templates nest about 13 levels; 90 is refused by nothing."""
    base = layer_app("k1").write(tmp_path / "base")
    head = layer_app("k2")
    head.stacks["Producer"].output("Deepish", joins(29), "deepish-export")  # 3 levels per join
    done = analyze(base, head.write(tmp_path / "head"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["findings"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_as_template_is_refused_without_waiting(tmp_path: Path) -> None:
    base = layer_app("k1").write(tmp_path / "base")
    head = layer_app("k2").write(tmp_path / "head")
    (head / "Consumer.template.json").unlink()
    os.mkfifo(head / "Consumer.template.json")
    done = analyze(base, head)
    assert_one_line_error(done, "Consumer.template.json is not a regular file")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_as_tree_json_is_ignored_without_waiting(tmp_path: Path) -> None:
    base = layer_app("k1").write(tmp_path / "base")
    head = layer_app("k2").write(tmp_path / "head")
    (head / "tree.json").unlink()
    os.mkfifo(head / "tree.json")
    done = analyze(base, head)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["head"]["cdk_library_version"] is None
    assert any("tree.json ignored: it is not a regular file" in note for note in report["notes"])


def test_invalid_utf8_in_tree_json_leaves_the_version_unknown(tmp_path: Path) -> None:
    base = layer_app("k1").write(tmp_path / "base")
    head = layer_app("k2").write(tmp_path / "head")
    (head / "tree.json").write_bytes(
        b'{"version":"tree-0.1","tree":{"id":"App","path":"","constructInfo":'
        b'{"fqn":"aws-cdk-lib.App","version":"2.\xff\xfe.0"}}}'
    )
    done = analyze(base, head)
    assert done.returncode == 0, done.stderr
    assert "codec" not in done.stderr
    assert json.loads(done.stdout)["head"]["cdk_library_version"] is None


def test_tree_json_symlinked_outside_the_assembly_is_not_read(tmp_path: Path) -> None:
    base = layer_app("k1").write(tmp_path / "base")
    head = layer_app("k2").write(tmp_path / "head")
    outside = tmp_path / "outside-tree.json"
    outside.write_text(json.dumps({"tree": {"id": "App", "constructInfo": {
        "fqn": "aws-cdk-lib.App", "version": "2.999.0"}}}))
    (head / "tree.json").unlink()
    (head / "tree.json").symlink_to(outside)
    done = analyze(base, head)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["head"]["cdk_library_version"] is None
    assert any("escapes the assembly folder" in note for note in report["notes"])


def test_root_manifest_symlinked_outside_the_assembly_is_refused(tmp_path: Path) -> None:
    base = layer_app("k1").write(tmp_path / "base")
    head = layer_app("k2").write(tmp_path / "head")
    outside = tmp_path / "outside-manifest.json"
    (head / "manifest.json").rename(outside)
    (head / "manifest.json").symlink_to(outside)
    done = analyze(base, head)
    assert_one_line_error(done, "escapes the assembly folder")


def test_a_symlink_that_stays_inside_the_assembly_is_followed(tmp_path: Path) -> None:
    head = layer_app("k2").write(tmp_path / "head")
    (head / "real-manifest.json").write_bytes((head / "manifest.json").read_bytes())
    (head / "manifest.json").unlink()
    (head / "manifest.json").symlink_to(head / "real-manifest.json")
    assert sorted(load_assembly(head).stacks) == ["Consumer", "Producer"]


def nested_empty_arrays(size: int) -> bytes:
    count = (size - 2) // 3
    return b"[" + b",".join([b"[]"] * count) + b"]"


def test_memory_stays_within_4x_a_template_of_nested_empty_arrays(tmp_path: Path) -> None:
    """16 MB of `[[],[],...]` peaked at 1.49 GB (90x); the shape is refused before decoding."""
    head = layer_app("k2")
    head.stacks["Consumer"].resource("Q", "AWS::SQS::Queue", Tags=[])
    folder = head.write(tmp_path / "head")
    template = folder / "Consumer.template.json"
    text = template.read_bytes()
    payload = nested_empty_arrays(8 * 1024 * 1024)
    template.write_bytes(text.replace(b'"Tags": []', b'"Tags": ' + payload))
    size = template.stat().st_size
    tracemalloc.start()
    try:
        with pytest.raises(AssemblyError) as error:
            load_assembly(folder)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "\n" not in str(error.value) and "once decoded" in str(error.value)
    assert peak <= 4 * size, f"peak {peak / 1e6:.0f} MB for a {size / 1e6:.0f} MB template"


def functions_app(count: int) -> AppBuilder:
    app = layer_app("k1")
    consumer = app.stacks["Consumer"]
    for i in range(count):
        consumer.resource(f"Fn{i}", "AWS::Lambda::Function", Role={"Fn::GetAtt": [f"Role{i}", "Arn"]},
                          Handler="index.handler", Runtime="python3.12",
                          Layers=[import_value("Producer:ExportsOutputRefLayer")],
                          Environment={"Variables": {"TABLE": {"Ref": "Table"}, "N": str(i)}},
                          Tags=[{"Key": "team", "Value": "orders"}])
    return app


def test_the_largest_deployable_template_is_not_refused(tmp_path: Path) -> None:
    """CloudFormation takes 500 resources a stack (cloudformation-limits.html); dense ones, 12x
    their size in the estimate, still fit the allowance whole."""
    folder = functions_app(499).write(tmp_path / "app")
    assert len(load_assembly(folder).stacks["Consumer"].resources) == 500  # type: ignore[index]


def test_a_template_past_what_cloudformation_takes_is_read_with_a_larger_allowance(tmp_path: Path) -> None:
    """4,000 functions, 2.3 MB: over CloudFormation's 500 resources and 1 MB, and over the
    bound (about 11x its size); the allowance can be raised for it."""
    folder = functions_app(4000).write(tmp_path / "app")
    assert (folder / "Consumer.template.json").stat().st_size > 2_000_000
    refusal = (r"^template Consumer.template.json would take about [\d.]+ MiB once decoded, "
               r"over the limit of [\d.]+ MiB \(2x its [\d.]+ MiB plus 8.0 MiB\); "
               r"CDK_EXPORT_GUARD_MAX_EXPANSION or CDK_EXPORT_GUARD_DECODE_ALLOWANCE_MB raises the limit$")
    with pytest.raises(AssemblyError, match=refusal):
        load_assembly(folder)
    raised = Limits.from_environment({"CDK_EXPORT_GUARD_DECODE_ALLOWANCE_MB": "32"})
    assert len(load_assembly(folder, raised).stacks["Consumer"].resources) == 4001  # type: ignore[index]


def test_the_load_budget_is_read_from_the_environment_and_names_itself(tmp_path: Path) -> None:
    """The budget over all files (bot/core/memory_budget.py): set by its variables, refused
    with one line naming them when the load already holds more than it."""
    limits = Limits.from_environment({"CDK_EXPORT_GUARD_MAX_MEMORY_RATIO": "5",
                                      "CDK_EXPORT_GUARD_MEMORY_ALLOWANCE_MB": "2"})
    assert (limits.max_memory_ratio, limits.memory_allowance) == (5, 2 * 1024 * 1024)
    with pytest.raises(AssemblyError, match="CDK_EXPORT_GUARD_MAX_MEMORY_RATIO must be a positive whole number"):
        Limits.from_environment({"CDK_EXPORT_GUARD_MAX_MEMORY_RATIO": "0"})
    folder = layer_app("k1").write(tmp_path / "app")
    assert load_assembly(folder, limits).stacks
    budget = MemoryBudget(ratio=3, allowance=16 * 1024 * 1024, input_bytes=0)
    budget.admit(budget.limit + 1)  # an estimate alone never refuses (the bound on one file holds it) ...
    budget.admit(0)  # ... it makes the budget measure: this process took far less since
    held = b"\1" * (64 * 1024 * 1024)  # resident: written, not only reserved
    budget.admit(budget.limit + 1)
    with pytest.raises(MemoryBudgetError, match=r"^was not read: the load already holds about 6\d\.\d MiB in memory, "
                                                r"over its budget of 16.0 MiB \(3x the assemblies' 0.0 MiB of JSON"):
        budget.admit(0)
    del held


def test_the_depth_limit_can_be_raised_by_the_environment(tmp_path: Path) -> None:
    head = layer_app("k2")
    head.stacks["Consumer"].resource("Q", "AWS::SQS::Queue", Tags="DEEP")
    folder = head.write(tmp_path / "head")
    template = folder / "Consumer.template.json"
    template.write_bytes(template.read_bytes().replace(b'"DEEP"', b"[" * 120 + b"]" * 120))
    with pytest.raises(AssemblyError, match="nested more than 100 levels deep"):
        load_assembly(folder)
    raised = Limits.from_environment({"CDK_EXPORT_GUARD_MAX_DEPTH": "200", "CDK_EXPORT_GUARD_MAX_EXPANSION": "12"})
    assert (raised.max_depth, raised.max_expansion) == (200, 12)
    assert "Q" in load_assembly(folder, raised).stacks["Consumer"].resources  # type: ignore[index]


def manifest_of(stacks: int) -> dict[str, object]:
    """A manifest listing ``stacks`` stacks that share one template, as a large app's lists them."""
    artifacts = {f"Consumer{i:05}": {
        "type": "aws:cloudformation:stack", "environment": "aws://111111111111/us-east-1",
        "properties": {"templateFile": "Shared.template.json", "stackName": f"Consumer{i:05}"},
        "dependencies": ["Producer"], "displayName": f"Consumer{i:05}"} for i in range(stacks)}
    return {"version": "55.0.0", "artifacts": artifacts}


def test_the_manifest_of_a_5000_stack_app_is_read(tmp_path: Path) -> None:
    """1.4 MiB, estimated at 8.6x (5.3x measured): refused under the templates' 2x + 8 MiB
    (`make bench`'s 5,000-consumer fan-out), read under the manifests' 10x."""
    folder = tmp_path / "cdk.out"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps(manifest_of(5000), indent=1))
    (folder / "Shared.template.json").write_text('{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}')
    assert (folder / "manifest.json").stat().st_size > 1_400_000
    assert len(load_assembly(folder).stacks) == 5000
    templates_bound = Limits.from_environment({"CDK_EXPORT_GUARD_MAX_MANIFEST_EXPANSION": "2"})
    with pytest.raises(AssemblyError, match=r"^manifest manifest.json would take about .* once decoded, .*"
                                            r"; CDK_EXPORT_GUARD_MAX_MANIFEST_EXPANSION raises the limit$"):
        load_assembly(folder, templates_bound)


def test_a_manifest_of_short_strings_past_10x_is_refused(tmp_path: Path) -> None:
    """The manifests' wider bound still holds: 12 MB of one-letter strs (about 13x) is refused."""
    folder = tmp_path / "cdk.out"
    folder.mkdir()
    padding = b'["' + b'","'.join([b"a"] * (3 * 1024 * 1024)) + b'"]'
    manifest = json.dumps({"version": "55.0.0", "artifacts": {}, "padding": "PAD"}).encode()
    (folder / "manifest.json").write_bytes(manifest.replace(b'"PAD"', padding))
    with pytest.raises(AssemblyError, match=r"^manifest manifest.json would take about .*\(10x its"):
        load_assembly(folder)


def test_a_folder_that_cannot_be_listed_does_not_stop_the_load(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    folder = layer_app("k1").write(tmp_path / "app")
    (folder / "locked").mkdir()
    listing = os.scandir

    def scandir(path: str | os.PathLike[str]) -> Any:  # as for a folder without read permission
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return listing(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert json_bytes(folder) > 0
    assert load_assembly(folder).stacks


def test_the_budget_counts_every_json_file_and_skips_asset_folders(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes(b"x" * 10)
    (tmp_path / "notes.txt").write_bytes(b"x" * 100)
    (tmp_path / "assembly-Prod").mkdir()
    (tmp_path / "assembly-Prod" / "b.template.json").write_bytes(b"x" * 20)
    (tmp_path / "asset.abc123").mkdir()
    (tmp_path / "asset.abc123" / "package.json").write_bytes(b"x" * 1000)
    assert json_bytes(tmp_path) == 30
