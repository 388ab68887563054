"""How much memory decoding JSON files takes, against the loader's bound (issue #14, memory).

    python -m bench.decoded FILE...          # the 8 costliest, and the largest estimate
    python -m bench.decoded --shape short-strings --megabytes 4
    python -m bench.decoded --peak FILE      # one number: the peak RSS growth of decoding FILE

Per file: the peak RSS growth of ``orjson.loads`` in a fresh process (yyjson's buffer and
the Python objects; the file's bytes are read before), and
``bot.core.bounded_json.estimate_of``, which must never be lower. Files under
``--min-bytes`` and ``tree.json`` (the loader reads only its start) are left out.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.hostile import SHAPES, write_shape
from bot.core.bounded_json import estimate_of


def _peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise OSError("no VmHWM in /proc/self/status")


def peak_of_decoding(path: Path) -> int:
    """Peak RSS growth of ``orjson.loads`` of ``path``'s bytes, in a fresh process (Linux)."""
    out = subprocess.run([sys.executable, "-m", "bench.decoded", "--peak", str(path)],
                         check=True, capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    return int(out.stdout)


def _decode_and_report(path: Path) -> int:
    import orjson

    data = path.read_bytes()
    before = _peak_rss()
    document = orjson.loads(data)
    print(_peak_rss() - before)
    del document
    return 0


def measure(path: Path) -> dict[str, float | str]:
    data = path.read_bytes()
    estimate = estimate_of(data)
    size = len(data)
    return {"file": str(path), "bytes": size, "decoded": peak_of_decoding(path) / size, "estimate": estimate / size}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--shape", choices=SHAPES, action="append", default=[])
    parser.add_argument("--megabytes", type=int, default=4)
    parser.add_argument("--min-bytes", type=int, default=20_000)
    parser.add_argument("--peak", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peak:
        return _decode_and_report(args.peak)
    files = [f for f in args.files if f.name != "tree.json" and f.stat().st_size >= args.min_bytes]
    with tempfile.TemporaryDirectory() as scratch:
        for shape in args.shape:
            _, head = write_shape(Path(scratch) / shape, shape, args.megabytes)
            files.append(head / "S.template.json")
        rows = [measure(f) for f in files]
    if not rows:
        print("no files to measure", file=sys.stderr)
        return 2
    print(f"{len(rows)} files; peak RSS growth of decoding, the loader's estimate (x the size)")
    shown = sorted(rows, key=lambda r: -float(r["decoded"]))[:8]
    shown += [r for r in sorted(rows, key=lambda r: -float(r["estimate"]))[:1] if r not in shown]
    for row in shown:
        print(f"{row['decoded']:6.2f} {row['estimate']:6.2f} {row['bytes']:>10,}  {str(row['file'])[-70:]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
