"""How much memory JSON files take decoded, against the loader's estimate (issue #14, memory).

    python -m bench.decoded FILE...          # the 8 costliest, and the largest estimate
    python -m bench.decoded --shape short-strings --megabytes 4

Per file: the bytes ``orjson.loads`` leaves allocated (tracemalloc, one file at a time),
``bot.core.bounded_json.estimated_decoded_bytes``, and that estimate with each repeated
object key charged once (orjson shares repeated keys of up to 64 bytes): what a loader
that told repeated keys from distinct ones could charge. Files under ``--min-bytes``
(the loader always allows 4 MiB) and ``tree.json`` (the loader reads only its start)
are left out.
"""

from __future__ import annotations

import argparse
import gc
import re
import sys
import tempfile
import tracemalloc
from pathlib import Path

import orjson

from bench.hostile import SHAPES, write_shape
from bot.core.bounded_json import _STRING, estimated_decoded_bytes, outside_strings, structure

_KEY = re.compile(rb'"((?:[^"\\]|\\.){0,64})"\s*:')


def distinct_keys(data: bytes, cap: int = 65536) -> int | None:
    """Distinct object keys of up to 64 bytes; None past ``cap``."""
    seen: set[bytes] = set()
    for match in _KEY.finditer(data):
        seen.add(match.group(1))
        if len(seen) > cap:
            return None
    return len(seen)


def decoded_bytes(data: bytes) -> int:
    gc.collect()
    tracemalloc.start()
    document = orjson.loads(data)
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del document
    return current


def measure(path: Path) -> dict[str, float | str]:
    data = path.read_bytes()
    stream = structure(data)
    estimate = estimated_decoded_bytes(len(data), stream, outside_strings(stream))
    keys, distinct = stream.count(b":"), distinct_keys(data)
    refined = estimate if distinct is None else estimate - (keys - distinct) * _STRING
    size = len(data)
    return {"file": str(path), "bytes": size, "decoded": decoded_bytes(data) / size,
            "estimate": estimate / size, "distinct_keys_estimate": refined / size}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--shape", choices=SHAPES, action="append", default=[])
    parser.add_argument("--megabytes", type=int, default=4)
    parser.add_argument("--min-bytes", type=int, default=20_000)
    args = parser.parse_args(argv)
    files = [f for f in args.files if f.name != "tree.json" and f.stat().st_size >= args.min_bytes]
    with tempfile.TemporaryDirectory() as scratch:
        for shape in args.shape:
            _, head = write_shape(Path(scratch) / shape, shape, args.megabytes)
            files.append(head / "S.template.json")
        rows = [measure(f) for f in files]
    if not rows:
        print("no files to measure", file=sys.stderr)
        return 2
    print(f"{len(rows)} files; decoded, estimate, estimate with repeated keys charged once (x the size)")
    shown = sorted(rows, key=lambda r: -float(r["decoded"]))[:8]
    shown += [r for r in sorted(rows, key=lambda r: -float(r["distinct_keys_estimate"]))[:1] if r not in shown]
    for row in shown:
        print(f"{row['decoded']:6.2f} {row['estimate']:6.2f} {row['distinct_keys_estimate']:6.2f}"
              f" {row['bytes']:>10,}  {str(row['file'])[-70:]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
