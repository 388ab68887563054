"""One producer, N consumer stacks: the shape that made the plan simulator quadratic.

    from bench.fanout import write_fanout
    base_dir, head_dir = write_fanout(tmp / "fanout", consumers=5000)

The producer exports a Lambda layer; every consumer stack has a function that imports
it (``Fn::ImportValue``) and depends on the producer. Head gives the layer new contents
(a new ``S3Key``), so the export's value changes while every consumer imports it: one
``export-value-change-in-use`` blocker naming all N consumers, whose plans the simulator
must check across N+1 stacks. Consumers' templates are byte-identical between base and
head, as in a real pull request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ENVIRONMENT = "aws://111111111111/us-east-1"
EXPORT = "Producer:ExportsOutputRefSharedLayer0A1B2C3D"


def _producer(key: str) -> dict[str, Any]:
    return {
        "Resources": {
            "SharedLayer": {
                "Type": "AWS::Lambda::LayerVersion",
                "Properties": {"Content": {"S3Bucket": "cdk-assets", "S3Key": f"{key * 64}.zip"}},
                "Metadata": {"aws:cdk:path": "Producer/SharedLayer/Resource"},
            },
        },
        "Outputs": {
            "ExportsOutputRefSharedLayer0A1B2C3D": {"Value": {"Ref": "SharedLayer"}, "Export": {"Name": EXPORT}},
        },
    }


def _consumer(name: str) -> dict[str, Any]:
    return {
        "Resources": {
            "Handler": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": f"{name}-handler",
                    "Runtime": "python3.12",
                    "Handler": "index.handler",
                    "Code": {"ZipFile": "def handler(event, context):\n    return event\n"},
                    "Layers": [{"Fn::ImportValue": EXPORT}],
                },
                "Metadata": {"aws:cdk:path": f"{name}/Handler/Resource"},
            },
        },
    }


def _write_side(directory: Path, consumers: int, key: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Any] = {}
    stacks = [("Producer", _producer(key), [])]
    stacks += [(f"Consumer{i:05d}", _consumer(f"Consumer{i:05d}"), ["Producer"]) for i in range(consumers)]
    for name, template, dependencies in stacks:
        (directory / f"{name}.template.json").write_text(json.dumps(template, indent=1))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": ENVIRONMENT,
            "properties": {"templateFile": f"{name}.template.json", "stackName": name},
            "dependencies": dependencies,
            "displayName": name,
        }
    (directory / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}, indent=1))
    return directory


def write_fanout(out_dir: Path, consumers: int) -> tuple[Path, Path]:
    """Write ``out_dir/base`` and ``out_dir/head``; returns both folders."""
    return _write_side(out_dir / "base", consumers, "a"), _write_side(out_dir / "head", consumers, "b")
