"""An assembly meant to exhaust memory: a template of nested empty arrays (issue #12, item 6).

    from bench.hostile import write_nested_arrays
    base, head = write_nested_arrays(tmp / "hostile", megabytes=16)

Head's one template holds ``[[],[],...]`` in a queue's property: 16 MB on disk decoded
to 400 MB of Python lists, and peaked at 1.49 GB before the loader bounded it.
"""

from __future__ import annotations

import json
from pathlib import Path

ENVIRONMENT = "aws://111111111111/us-east-1"


def _write(directory: Path, tags: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    template = b'{"Resources":{"Q":{"Type":"AWS::SQS::Queue","Properties":{"Tags":' + tags + b"}}}}"
    (directory / "S.template.json").write_bytes(template)
    manifest = {"version": "55.0.0", "artifacts": {"S": {
        "type": "aws:cloudformation:stack", "environment": ENVIRONMENT,
        "properties": {"templateFile": "S.template.json", "stackName": "S"}}}}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory


def write_nested_arrays(out_dir: Path, megabytes: int) -> tuple[Path, Path]:
    """Base: the queue with no tags; head: ``megabytes`` MB of nested empty arrays in them."""
    count = megabytes * 1024 * 1024 // 3
    payload = b"[" + b",".join([b"[]"] * count) + b"]"
    return _write(out_dir / "base", b"[]"), _write(out_dir / "head", payload)
