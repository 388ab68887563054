"""Measurements on one pair of assemblies; each runs in a fresh process when called as a module.

    python -m bench.measure time BASE HEAD [--repeats 3] [--no-gc-what-if]
    python -m bench.measure memory BASE HEAD        # peak RSS growth (VmHWM)
    python -m bench.measure tracemalloc BASE HEAD
    python -m bench.measure profile BASE HEAD [--top 30]
    python -m bench.measure hostile-memory BASE HEAD   # peak RSS growth when HEAD is refused

Each prints one JSON object on stdout. "The analysis" is what ``cdk-export-guard
analyze`` does without ``--source``/``--repo`` (``bot.cli.analyze.run_analysis``):
load both assemblies (within ``Limits.from_environment``, as the CLI), ``build_context``,
``analyze``, ``attach_plans``; the phases are timed one by one.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bot.core.analysis import analyze
from bot.core.assembly import AssemblyError, Limits, load_assemblies
from bot.core.context import build_context
from bot.core.model import AnalysisResult
from bot.plans.planner import attach_plans

# Files `load_assembly` reads (tree.json: only its first 64 KiB; *.metadata.json: never).
READ_SUFFIXES = (".template.json", ".assets.json")


def analysis(base: Path, head: Path) -> tuple[AnalysisResult, dict[str, float]]:
    """The analysis, phase by phase: (result, seconds per phase and in total).

    Wall seconds under the phase names, CPU seconds of this process under ``cpu_<phase>``
    (what other users of a shared machine do not inflate).
    """
    marks = [(time.perf_counter(), time.process_time())]
    base_assembly, head_assembly = load_assemblies(base, head, Limits.from_environment(os.environ))
    marks.append((time.perf_counter(), time.process_time()))
    context = build_context(base_assembly, head_assembly)
    marks.append((time.perf_counter(), time.process_time()))
    result = analyze(base_assembly, head_assembly, context)
    marks.append((time.perf_counter(), time.process_time()))
    result = attach_plans(result, context)
    marks.append((time.perf_counter(), time.process_time()))
    phases: dict[str, float] = {}
    spans = zip(marks, marks[1:], strict=False)
    for name, (start, end) in zip(("load", "context", "rules", "plans"), spans, strict=True):
        phases[name] = end[0] - start[0]
        phases[f"cpu_{name}"] = end[1] - start[1]
    phases["total"] = marks[-1][0] - marks[0][0]
    phases["cpu_total"] = marks[-1][1] - marks[0][1]
    return result, phases


def summary(result: AnalysisResult) -> dict[str, Any]:
    """Findings by rule and the stacks `cdk diff` should look at (changed, on both sides)."""
    rules: dict[str, int] = {}
    for finding in result.findings:
        rules[finding.rule] = rules.get(finding.rule, 0) + 1
    base_by_name = {s.stack_name: s for s in result.base.stacks.values()}
    head_by_name = {s.stack_name: s for s in result.head.stacks.values()}
    changed = []
    for stack in result.stacks:
        if stack.status != "changed" or stack.stack_name not in base_by_name or stack.stack_name not in head_by_name:
            continue
        changed.append({
            "stack": head_by_name[stack.stack_name].hierarchical_id,
            "base_template": base_by_name[stack.stack_name].template_file,
        })
    return {"findings": len(result.findings), "rules": rules, "changed_stacks": changed}


def is_json(path: Path) -> bool:
    return path.is_file() and (path.suffix == ".json" or path.name == "cdk.out")


def is_read(path: Path) -> bool:
    return path.name == "manifest.json" or path.name.endswith(READ_SUFFIXES)


def floor(folders: list[Path], *, only_read: bool = False) -> dict[str, float]:
    """Read and ``json.loads`` every JSON file (or only those the loader reads); nothing kept."""
    started = time.perf_counter()
    files = size = 0
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if not is_json(path) or (only_read and not is_read(path)):
                continue
            data = path.read_bytes()
            json.loads(data)
            files += 1
            size += len(data)
    return {"seconds": time.perf_counter() - started, "files": files, "bytes": size}


def disk(folders: list[Path]) -> dict[str, int]:
    total = read = files = 0
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                files += 1
                total += path.stat().st_size
                if is_read(path):
                    read += path.stat().st_size
    return {"files": files, "bytes": total, "bytes_read": read}


def _peak_rss() -> int:
    """This process's peak resident set size, in bytes.

    Linux: ``VmHWM`` from /proc/self/status (its own address space; ``ru_maxrss`` would
    carry over the parent's peak across fork+exec). Elsewhere: ``ru_maxrss``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def measure_time(base: Path, head: Path, repeats: int, gc_what_if: bool) -> dict[str, Any]:
    runs = []
    for _ in range(repeats):
        result, phases = analysis(base, head)
        runs.append(phases)
        del result
        gc.collect()
    out: dict[str, Any] = {
        "runs": runs,
        "median": {k: statistics.median(r[k] for r in runs) for k in runs[0]},
        "best": {k: min(r[k] for r in runs) for k in runs[0]},
    }
    if gc_what_if:
        gc.disable()
        result, phases = analysis(base, head)
        gc.enable()
        del result
        out["gc_disabled"] = phases
    return out


def measure_memory(base: Path, head: Path) -> dict[str, Any]:
    gc.collect()
    before = _peak_rss()
    result, phases = analysis(base, head)
    after = _peak_rss()
    return {"rss_peak_before": before, "rss_peak_after": after, "rss_peak_delta": after - before,
            "seconds": phases["total"], **summary(result)}


def measure_tracemalloc(base: Path, head: Path) -> dict[str, Any]:
    gc.collect()
    tracemalloc.start()
    result, phases = analysis(base, head)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return {"peak": peak, "retained": current, "seconds_under_tracemalloc": phases["total"]}


def measure_hostile_memory(base: Path, head: Path) -> dict[str, Any]:
    """Peak RSS growth while loading an assembly meant to exhaust memory (refused or not)."""
    gc.collect()
    before = _peak_rss()
    started = time.perf_counter()
    try:
        analysis(base, head)
        outcome = "analyzed"
    except AssemblyError as exc:
        outcome = f"refused: {exc}"
    return {"rss_peak_delta": _peak_rss() - before, "seconds": time.perf_counter() - started, "outcome": outcome}


def measure_profile(base: Path, head: Path, top: int) -> dict[str, Any]:
    profiler = cProfile.Profile()
    profiler.enable()
    analysis(base, head)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = []
    for (filename, line, function), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        if "/bot/" not in filename and "json" not in filename:
            continue
        short = filename[filename.rfind("/bot/") + 1:] if "/bot/" in filename else Path(filename).name
        rows.append({"function": f"{short}:{line}({function})", "calls": calls,
                     "tottime": round(tottime, 3), "cumtime": round(cumtime, 3)})
    total = round(stats.total_tt, 3)  # type: ignore[attr-defined]
    return {
        "profiled_seconds": total,
        "by_cumulative": sorted(rows, key=lambda r: -r["cumtime"])[:top],
        "by_own_time": sorted(rows, key=lambda r: -r["tottime"])[:top],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.measure")
    parser.add_argument("what", choices=("time", "memory", "tracemalloc", "profile", "summary", "hostile-memory"))
    parser.add_argument("base", type=Path)
    parser.add_argument("head", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gc-what-if", action="store_true", help="also time one run with the cyclic GC off")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    if args.what == "time":
        out = measure_time(args.base, args.head, max(args.repeats, 1), args.gc_what_if)
    elif args.what == "memory":
        out = measure_memory(args.base, args.head)
    elif args.what == "tracemalloc":
        out = measure_tracemalloc(args.base, args.head)
    elif args.what == "hostile-memory":
        out = measure_hostile_memory(args.base, args.head)
    elif args.what == "profile":
        out = measure_profile(args.base, args.head, args.top)
    else:
        result, phases = analysis(args.base, args.head)
        out = {**summary(result), "seconds": phases}
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
