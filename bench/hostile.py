"""Assemblies meant to exhaust memory: one template of a hostile shape (issue #12, item 6; #14).

    from bench.hostile import SHAPES, write_shape
    base, head = write_shape(tmp / "hostile", "nested-arrays", megabytes=16)

Head's one template holds the shape in a queue's property:

- ``nested-arrays``: ``[[],[],...]``; 16 MB decoded to 400 MB of Python lists, and peaked
  at 1.49 GB before the loader bounded it;
- ``tiny-objects``: ``[{"k":0},...]``, a dict per 8 bytes;
- ``long-string``: one string of the whole size;
- ``deep-nesting``: ``[[[...]]]``, half the size deep;
- ``short-strings``: ``["ab",...]`` (a str object per 5 bytes) after a long string that
  pads the loader's estimate to just under its bound: the costliest shape it accepts.
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
    return write_shape(out_dir, "nested-arrays", megabytes)


def _payload(shape: str, size: int) -> bytes:
    if shape == "nested-arrays":
        return b"[" + b",".join([b"[]"] * (size // 3)) + b"]"
    if shape == "tiny-objects":
        return b"[" + b",".join([b'{"k":0}'] * (size // 8)) + b"]"
    if shape == "long-string":
        return b'"' + b"x" * size + b'"'
    if shape == "deep-nesting":
        return b"[" * (size // 2) + b"]" * (size // 2)
    if shape == "short-strings":  # ~60% short strings (estimated ~13x), the rest one padding string (~1x)
        count = size * 3 // 5 // 5
        return b'["' + b"p" * (size - 5 * count) + b'",' + b",".join([b'"ab"'] * count) + b"]"
    raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")


SHAPES = ("nested-arrays", "tiny-objects", "long-string", "deep-nesting", "short-strings")


def write_shape(out_dir: Path, shape: str, megabytes: int) -> tuple[Path, Path]:
    """Base: the queue with no tags; head: ``megabytes`` MB of ``shape`` in them."""
    payload = _payload(shape, megabytes * 1024 * 1024)
    return _write(out_dir / "base", b"[]"), _write(out_dir / "head", payload)
