"""The aws-cdk-lib version from CDKMetadata (issue #10, item 6): real templates, then hostile ones."""

from __future__ import annotations

import base64
import gzip
import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core import cdk_metadata
from bot.core.assembly import load_assembly
from bot.workspace import synth
from tests.synth_cache import app_dir

LIBRARY = importlib.metadata.version("aws-cdk-lib")


def analytics(text: str) -> str:
    return "v2:deflate64:" + base64.b64encode(gzip.compress(text.encode())).decode()


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A test app synthesized by aws-cdk-lib with version reporting on (the CLI's default; our
    own synth turns it off), so every template has its CDKMetadata resource."""
    out = tmp_path_factory.mktemp("reported") / "cdk.out"
    env = {**synth.cli_environment(None), "CDK_OUTDIR": str(out),
           "CDK_CONTEXT_JSON": json.dumps({"variant": "base", "aws:cdk:version-reporting": True})}
    subprocess.run([sys.executable, "app.py"], cwd=app_dir("dropped_reference"), env=env, check=True,
                   capture_output=True, timeout=300)
    return out


def copy_of(reported: Path, tmp_path: Path) -> Path:
    target = tmp_path / "cdk.out"
    shutil.copytree(reported, target)
    return target


@pytest.mark.synth
def test_real_templates_carry_the_version_in_cdk_metadata(reported: Path) -> None:
    template = json.loads((reported / "Producer.template.json").read_text())
    (value,) = [r["Properties"]["Analytics"] for r in template["Resources"].values()
                if r["Type"] == cdk_metadata.METADATA_TYPE]
    text = cdk_metadata.decode(value)
    assert text is not None and text.startswith(f"{LIBRARY}!aws-cdk-lib.")
    assert f"{LIBRARY}!aws-cdk-lib.Stack" in list(cdk_metadata.entries(text))
    assert cdk_metadata.library_version([value]) == LIBRARY


@pytest.mark.synth
def test_without_tree_json_the_version_comes_from_cdk_metadata(reported: Path, tmp_path: Path) -> None:
    folder = copy_of(reported, tmp_path)
    (folder / "tree.json").unlink()
    assert load_assembly(folder).cdk_library_version == LIBRARY


@pytest.mark.synth
def test_tree_json_is_trusted_first(reported: Path, tmp_path: Path) -> None:
    """tree.json names the library that ran the app; CDKMetadata only when it says nothing."""
    folder = copy_of(reported, tmp_path)
    tree = folder / "tree.json"
    tree.write_text(tree.read_text().replace(f'"version":"{LIBRARY}"', '"version":"2.254.0"', 1))
    assert load_assembly(folder).cdk_library_version == "2.254.0"


@pytest.mark.synth
def test_no_tree_json_and_no_metadata_is_unknown(reported: Path, tmp_path: Path) -> None:
    folder = copy_of(reported, tmp_path)
    (folder / "tree.json").unlink()
    for path in folder.glob("*.template.json"):
        template = json.loads(path.read_text())
        template["Resources"].pop("CDKMetadata")
        path.write_text(json.dumps(template))
    assert load_assembly(folder).cdk_library_version is None


def test_prefix_decoding_follows_aws_cdk_lib() -> None:
    # The example in aws-cdk-lib's formatAnalytics docstring.
    text = "1.90.0!aws-cdk-lib.{Stack,Construct,service.Resource},0.42.1!aws-cdk-lib-experiments.NewStuff"
    assert list(cdk_metadata.entries(text)) == [
        "1.90.0!aws-cdk-lib.Stack", "1.90.0!aws-cdk-lib.Construct", "1.90.0!aws-cdk-lib.service.Resource",
        "0.42.1!aws-cdk-lib-experiments.NewStuff"]
    # A trie may share part of the version itself.
    shared = analytics("2.{275.0!aws-cdk-lib.{Stack,aws_lambda.LayerVersion},1.0!other.X},"
                       "Python/3.12!jsii-runtime.Runtime")
    assert cdk_metadata.library_version([shared]) == "2.275.0"


def test_hostile_or_ambiguous_analytics_read_as_unknown() -> None:
    assert cdk_metadata.library_version(["v2:deflate64:not base64!"]) is None
    assert cdk_metadata.library_version(["v1:plain:2.275.0!aws-cdk-lib.Stack"]) is None
    bomb = "v2:deflate64:" + base64.b64encode(gzip.compress(b"0" * (8 * 1024 * 1024))).decode()
    assert cdk_metadata.decode(bomb) is None  # decompresses past the bound: refused, not read
    assert cdk_metadata.library_version([analytics("<script>!aws-cdk-lib.Stack")]) is None
    two = [analytics("2.275.0!aws-cdk-lib.Stack"), analytics("2.253.0!aws-cdk-lib.Stack")]
    assert cdk_metadata.library_version(two) is None  # several versions: say nothing
    deep = analytics("{" * 50_000 + "2.275.0!aws-cdk-lib.Stack" + "}" * 50_000)
    assert cdk_metadata.library_version([deep]) == "2.275.0"  # no recursion to exhaust
