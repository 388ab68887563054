"""Assemblies meant to exhaust memory: one template of a hostile shape (issue #12, item 6; #14).

    from bench.hostile import SHAPES, write_shape
    base, head = write_shape(tmp / "hostile", "nested-arrays", megabytes=16)

Head's one template holds the shape in a queue's property:

- ``nested-arrays``: ``[[],[],...]``; 16 MB decoded to 400 MB of Python lists, and peaked
  at 1.49 GB before the loader bounded it;
- ``tiny-objects``: ``[{"k":0},...]``, a dict per 8 bytes;
- ``long-string``: one string of the whole size;
- ``deep-nesting``: ``[[[...]]]``, half the size deep;
- ``structure-in-strings``: strings of 1,024 brackets, colons and commas (the check's
  split at the quotes);
- ``many-<shape>`` (``MANY_SHAPES``): the size split into templates of 128 KiB, one per
  stack, each within the bound on one file: 400 of tiny objects took 1.3 GB for 52 MB
  (25x) before the load was held to a budget over all its files;
- padded shapes (``PADDED_ITEMS``): one long string, then as many small items as the
  loader's bound accepts: ``short-strings`` (``"ab"``, a str per 5 bytes),
  ``distinct-strings``, ``latin1-strings`` and ``emoji-strings`` (wider strs),
  ``small-numbers``, ``floats``, ``literals`` (``true``/``null``/``false``),
  ``one-key-dicts`` (distinct keys) and ``long-keys`` (65 bytes: past orjson's key
  cache). These are the costliest files of each kind the loader reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bot.core.bounded_json import Shape, estimate_of

ENVIRONMENT = "aws://111111111111/us-east-1"


def _template(tags: bytes) -> bytes:
    return b'{"Resources":{"Q":{"Type":"AWS::SQS::Queue","Properties":{"Tags":' + tags + b"}}}}"


def _write(directory: Path, tags: bytes, stacks: int = 1) -> Path:
    """One stack ``S`` holding ``tags``; or ``stacks`` of them, ``S0``..., each a file of its own."""
    directory.mkdir(parents=True, exist_ok=True)
    names = ["S"] if stacks == 1 else [f"S{i}" for i in range(stacks)]
    artifacts = {}
    for number, name in enumerate(names):
        # The queue's id differs from file to file: identical files would be decoded once.
        template = _template(tags).replace(b'"Q"', b'"Q%d"' % number) if stacks > 1 else _template(tags)
        (directory / f"{name}.template.json").write_bytes(template)
        artifacts[name] = {"type": "aws:cloudformation:stack", "environment": ENVIRONMENT,
                           "properties": {"templateFile": f"{name}.template.json", "stackName": name}}
    (directory / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": artifacts}))
    return directory


def write_nested_arrays(out_dir: Path, megabytes: int) -> tuple[Path, Path]:
    """Base: the queue with no tags; head: ``megabytes`` MB of nested empty arrays in them."""
    return write_shape(out_dir, "nested-arrays", megabytes)


# Items of the padded shapes: each is repeated after one long string that pads the file
# to its size, as many times as the loader's bound accepts (the costliest file it reads).
PADDED_ITEMS: dict[str, Callable[[int], bytes]] = {
    "short-strings": lambda i: b'"ab"',
    "distinct-strings": lambda i: b'"%x"' % i,
    "latin1-strings": lambda i: '"é"'.encode(),
    "emoji-strings": lambda i: '"😀"'.encode(),
    "small-numbers": lambda i: b"7",
    "floats": lambda i: b"0.5",
    "literals": lambda i: (b"true", b"null", b"false")[i % 3],
    "one-key-dicts": lambda i: b'{"%x":0}' % i,
    "long-keys": lambda i: b'{"%064x":0}' % i,
}


def _padded(items: list[bytes], size: int) -> bytes:
    joined = b",".join(items)
    padding = size - len(joined) - 6
    return b'["' + b"p" * max(padding, 0) + b'"' + (b"," + joined if joined else b"") + b"]"


def _costliest_accepted(item: Callable[[int], bytes], size: int, shape: Shape) -> bytes:
    """The padded shape with as many items as ``shape`` accepts (bisection)."""
    items = [item(i) for i in range(size // (len(item(0)) + 1))]
    low, high = 0, len(items)
    while low < high:
        middle = (low + high + 1) // 2
        data = _template(_padded(items[:middle], size))
        fits = estimate_of(data) <= shape.max_expansion * len(data) + shape.allowance
        low, high = (middle, high) if fits else (low, middle - 1)
    return _padded(items[:low], size)


def _payload(shape: str, size: int, bound: Shape) -> bytes:
    if shape == "nested-arrays":
        return b"[" + b",".join([b"[]"] * (size // 3)) + b"]"
    if shape == "tiny-objects":
        return b"[" + b",".join([b'{"k":0}'] * (size // 8)) + b"]"
    if shape == "long-string":
        return b'"' + b"x" * size + b'"'
    if shape == "deep-nesting":
        return b"[" * (size // 2) + b"]" * (size // 2)
    if shape == "structure-in-strings":
        item = b'"' + b"[{:," * 256 + b'"'
        return b"[" + b",".join([item] * (size // (len(item) + 1))) + b"]"
    if shape in PADDED_ITEMS:
        return _costliest_accepted(PADDED_ITEMS[shape], size, bound)
    raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")


SHAPES = ("nested-arrays", "tiny-objects", "long-string", "deep-nesting", "structure-in-strings", *PADDED_ITEMS)
MANY_SHAPES = ("many-tiny-objects", "many-one-key-dicts", "many-nested-arrays")
MANY_FILE_BYTES = 128 * 1024


def write_shape(out_dir: Path, shape: str, megabytes: float, bound: Shape | None = None) -> tuple[Path, Path]:
    """Base: the queue with no tags; head: ``megabytes`` MB of ``shape`` in them (the
    padded shapes as many items as ``bound`` accepts, the loader's default bound if None)."""
    size = int(megabytes * 1024 * 1024)
    if shape in MANY_SHAPES:
        stacks = max(1, size // MANY_FILE_BYTES)
        payload = _payload(shape.removeprefix("many-"), MANY_FILE_BYTES, bound or Shape())
        return _write(out_dir / "base", b"[]", stacks), _write(out_dir / "head", payload, stacks)
    payload = _payload(shape, size, bound or Shape())
    return _write(out_dir / "base", b"[]"), _write(out_dir / "head", payload)


def head_bytes(head: Path) -> int:
    """The size of a hostile head's templates on disk (what its peak memory is measured against)."""
    return sum(path.stat().st_size for path in head.glob("*.template.json"))
