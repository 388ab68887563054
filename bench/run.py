"""`make bench`: how fast and how big the analysis is on a large app, against fixed targets.

    python -m bench.run [--quick] [--json] [--profile] [--keep] [--work DIR] [--strict]

On the same generated inputs (``bench.generate``: 200 stacks, ~40,000 resources, 2,000
cross-stack references by default), it measures

- the analysis (load both assemblies + ``build_context`` + ``analyze`` + ``attach_plans``,
  median of ``--repeats`` runs in a fresh process) against the floor: reading and
  ``json.loads``-ing every JSON file of both assemblies (also shown: only the files the
  loader reads);
- the analysis against ``cdk diff --app HEAD --template BASE_TEMPLATE --exclusively STACK``
  with the pinned CDK CLI, once per changed stack, all of them (offline: no AWS
  credentials are passed to it);
- peak memory (growth of the peak RSS in a fresh process, and the ``tracemalloc`` peak)
  against the assemblies' size on disk;
- scaling: the analysis at 1x, 4x and 16x a base size (stacks and references grow
  together, resources per stack stay), and the ratio between steps (linear: ~4x).

Targets (printed as PASS/FAIL, never hidden): analysis within 2x the JSON floor; peak
memory within 4x the size on disk; at least 20x faster than the `cdk diff` loop; each
scaling step under 8x. ``--strict`` exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import measure
from bench.generate import ChangePlan, generate, load_changes

ROOT = Path(__file__).resolve().parents[1]
TARGET_FLOOR = 2.0
TARGET_MEMORY = 4.0
TARGET_CDK_DIFF = 20.0
TARGET_STEP = 8.0  # 4x the size: ~4x the time when linear, ~16x when quadratic


@dataclass(frozen=True)
class Size:
    stacks: int
    resources: int  # per stack
    references: int

    def times(self, factor: int) -> Size:
        return Size(self.stacks * factor, self.resources, self.references * factor)

    def label(self) -> str:
        return f"{self.stacks} stacks x {self.resources} resources, {self.references} references"


DEFAULT = Size(200, 200, 2000)
DEFAULT_SCALING = Size(25, 200, 250)  # 1x; 4x = 100 stacks, 16x = 400 stacks
QUICK = Size(40, 50, 400)
QUICK_SCALING = Size(10, 50, 100)


def _child(what: str, base: Path, head: Path, *extra: str, timeout: float) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter (clean heap, its own peak RSS)."""
    command = [sys.executable, "-m", "bench.measure", what, str(base), str(head), *extra]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(command)}` failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _cdk_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}  # offline, on purpose
    env.update({"CDK_DISABLE_VERSION_CHECK": "1", "CI": "true", "NO_COLOR": "1",
                "AWS_EC2_METADATA_DISABLED": "true"})
    return env


def find_cdk() -> str | None:
    candidate = ROOT / "node_modules" / ".bin" / "cdk"
    if candidate.is_file():
        return str(candidate)
    return shutil.which("cdk")


def cdk_diff_loop(cli: str, base: Path, head: Path, stacks: list[dict[str, str]], timeout: float) -> dict[str, Any]:
    """`cdk diff` of each changed stack against its base template, one CLI run per stack."""
    env = _cdk_env()
    version = subprocess.run([cli, "--version"], capture_output=True, text=True, env=env, timeout=120, check=False)
    runs = []
    started = time.perf_counter()
    for stack in stacks:
        command = [cli, "diff", "--app", str(head), "--template", str(base / stack["base_template"]),
                   "--exclusively", "--no-color", stack["stack"]]
        t0 = time.perf_counter()
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout,
                                  stdin=subprocess.DEVNULL, check=False)
            ok = done.returncode == 0 and "Stack " in done.stdout + done.stderr
            tail = "" if ok else (done.stdout + done.stderr).strip()[-400:]
        except subprocess.TimeoutExpired:
            ok, tail = False, f"timed out after {timeout:.0f}s"
        runs.append({"stack": stack["stack"], "seconds": time.perf_counter() - t0, "ok": ok, "error": tail})
    seconds = [r["seconds"] for r in runs]
    return {
        "cli": cli,
        "cli_version": (version.stdout or version.stderr).strip().splitlines()[-1] if version.stdout or version.stderr
        else "?",
        "stacks": len(runs),
        "failed": [r for r in runs if not r["ok"]],
        "total": time.perf_counter() - started,
        "per_stack": {"min": min(seconds, default=0.0), "median": statistics.median(seconds) if seconds else 0.0,
                      "max": max(seconds, default=0.0)},
        "command": "cdk diff --app HEAD --template BASE/<stack template> --exclusively --no-color <stack>",
    }


def _generate(work: Path, name: str, size: Size, seed: int, log: Any) -> tuple[Path, Path, float]:
    started = time.perf_counter()
    base, head = generate(work / name, stacks=size.stacks, resources_per_stack=size.resources,
                          references=size.references, seed=seed, change=ChangePlan.default(size.stacks))
    seconds = time.perf_counter() - started
    log(f"generated {size.label()} in {seconds:.1f}s -> {work / name}")
    return base, head, seconds


def run(args: argparse.Namespace) -> dict[str, Any]:
    size = Size(args.stacks, args.resources, args.references) if args.stacks else (QUICK if args.quick else DEFAULT)
    scaling = QUICK_SCALING if args.quick else (
        DEFAULT_SCALING if not args.stacks else Size(max(size.stacks // 8, 2), size.resources,
                                                     max(size.references // 8, 1)))
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="cdk-export-guard-bench-"))
    work.mkdir(parents=True, exist_ok=True)

    def log(line: str) -> None:
        print(f"[bench] {line}", file=sys.stderr, flush=True)

    out: dict[str, Any] = {"seed": args.seed, "size": size.__dict__, "work": str(work)}
    try:
        base, head, out["generate_seconds"] = _generate(work, "main", size, args.seed, log)
        folders = [base, head]
        changes = load_changes(work / "main")
        out["inputs"] = {"base": changes["base"], "head": changes["head"], "disk": measure.disk(folders),
                         "planned_changes": len(changes["changes"]),
                         "expected_rules": changes["expected_rules"]}

        log("JSON floor (3 runs each)")
        out["floor_all"] = min((measure.floor(folders) for _ in range(3)), key=lambda f: f["seconds"])
        out["floor_read"] = min((measure.floor(folders, only_read=True) for _ in range(3)),
                                key=lambda f: f["seconds"])

        log(f"analysis ({args.repeats} runs, fresh process)")
        timing = _child("time", base, head, "--repeats", str(args.repeats), "--gc-what-if", timeout=args.timeout)
        out["analysis"] = timing

        log("peak memory (fresh processes)")
        memory = _child("memory", base, head, timeout=args.timeout)
        out["memory"] = {k: v for k, v in memory.items() if k.startswith("rss_peak")}
        out["findings"] = {"total": memory["findings"], "by_rule": memory["rules"]}
        changed = memory["changed_stacks"]
        out["changed_stacks"] = [c["stack"] for c in changed]
        out["tracemalloc"] = _child("tracemalloc", base, head, timeout=args.timeout * 3)

        cli = find_cdk()
        if args.skip_cdk_diff or cli is None:
            out["cdk_diff"] = {"skipped": "--skip-cdk-diff" if args.skip_cdk_diff else "no cdk CLI (run `npm ci`)"}
        else:
            log(f"cdk diff of {len(changed)} changed stacks, one CLI run each")
            out["cdk_diff"] = cdk_diff_loop(cli, base, head, changed, args.cdk_timeout)

        if args.profile:
            log("profile (cProfile)")
            out["profile"] = _child("profile", base, head, "--top", "25", timeout=args.timeout * 3)
        if not args.keep:
            shutil.rmtree(work / "main", ignore_errors=True)

        out["scaling"] = []
        for factor in (1, 4, 16):
            step = scaling.times(factor)
            b, h, _ = _generate(work, f"x{factor}", step, args.seed, log)
            entry: dict[str, Any] = {"factor": factor, "size": step.__dict__}
            try:
                result = _child("time", b, h, "--repeats", "1" if factor == 16 else "2", timeout=args.scaling_timeout)
                entry["seconds"] = result["best"]
            except subprocess.TimeoutExpired:
                entry["timed_out"] = args.scaling_timeout
            out["scaling"].append(entry)
            if not args.keep:
                shutil.rmtree(work / f"x{factor}", ignore_errors=True)
            if "timed_out" in entry:
                break
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
    out["verdicts"] = verdicts(out)
    return out


def verdicts(out: dict[str, Any]) -> list[dict[str, Any]]:
    analysis = out["analysis"]["median"]["total"]
    disk = out["inputs"]["disk"]["bytes"]
    rows = [
        {"target": f"analysis <= {TARGET_FLOOR:g}x the JSON floor (all JSON files)",
         "ratio": analysis / out["floor_all"]["seconds"], "limit": TARGET_FLOOR, "better": "lower"},
        {"target": f"peak memory (peak RSS growth) <= {TARGET_MEMORY:g}x the size on disk",
         "ratio": out["memory"]["rss_peak_delta"] / disk, "limit": TARGET_MEMORY, "better": "lower"},
        {"target": f"peak memory (tracemalloc) <= {TARGET_MEMORY:g}x the size on disk",
         "ratio": out["tracemalloc"]["peak"] / disk, "limit": TARGET_MEMORY, "better": "lower"},
    ]
    diff = out["cdk_diff"]
    if "total" in diff and diff["stacks"]:
        rows.append({"target": f"at least {TARGET_CDK_DIFF:g}x faster than the cdk diff loop",
                     "ratio": diff["total"] / analysis, "limit": TARGET_CDK_DIFF, "better": "higher"})
    steps = out["scaling"]
    for before, after in zip(steps, steps[1:], strict=False):
        if "seconds" in before and "seconds" in after:
            rows.append({"target": f"scaling {before['factor']}x -> {after['factor']}x under {TARGET_STEP:g}x "
                         "(linear ~4x)", "ratio": after["seconds"]["total"] / before["seconds"]["total"],
                         "limit": TARGET_STEP, "better": "lower"})
        elif "timed_out" in after:
            rows.append({"target": f"scaling {before['factor']}x -> {after['factor']}x under {TARGET_STEP:g}x",
                         "ratio": None, "limit": TARGET_STEP, "better": "lower",
                         "note": f"{after['factor']}x did not finish within {after['timed_out']:.0f}s"})
    for row in rows:
        ratio = row["ratio"]
        lower = row["better"] == "lower"
        row["pass"] = ratio is not None and (ratio <= row["limit"] if lower else ratio >= row["limit"])
    return rows


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"


def _mb(size: float) -> str:
    return f"{size / 1e6:,.1f} MB"


def report(out: dict[str, Any]) -> str:
    inputs = out["inputs"]
    base = inputs["base"]
    disk = inputs["disk"]
    median = out["analysis"]["median"]
    analysis = median["total"]
    lines = [
        "cdk-export-guard benchmark",
        f"inputs (seed {out['seed']}): {base['stacks']} stacks (+{base['nested_stacks']} nested), "
        f"{base['resources']:,} resources, {base['outputs']:,} outputs, {base['references']:,} cross-stack "
        f"references per side ({', '.join(f'{k[11:]} {v}' for k, v in base.items() if k.startswith('references_'))})",
        f"on disk, both sides: {disk['files']:,} files, {_mb(disk['bytes'])} "
        f"({_mb(disk['bytes_read'])} in the files the loader reads); generated in {out['generate_seconds']:.1f} s",
        f"the pull request: {inputs['planned_changes']} changes, {len(out['changed_stacks'])} changed stacks; "
        f"findings: {out['findings']['total']} ("
        + ", ".join(f"{rule} {n}" for rule, n in sorted(out["findings"]["by_rule"].items())) + ")",
        "",
        f"{'measure':<52} {'value':>12}   {'ratio':<34}",
        "-" * 100,
    ]

    def row(name: str, value: str, ratio: str = "") -> None:
        lines.append(f"{name:<52} {value:>12}   {ratio}")

    runs = ", ".join(_s(r["total"]) for r in out["analysis"]["runs"])
    row(f"analysis, median of {len(out['analysis']['runs'])} ({runs})", _s(analysis))
    row("  load assemblies / build_context / rules / plans",
        " / ".join(f"{median[k]:.2f}" for k in ("load", "context", "rules", "plans")))
    if "gc_disabled" in out["analysis"]:
        off = out["analysis"]["gc_disabled"]["total"]
        row("  what if: one run with the cyclic GC off", _s(off), f"{off / analysis:.2f}x the median")
    floor_all, floor_read = out["floor_all"], out["floor_read"]
    row(f"JSON floor: all {floor_all['files']:,} JSON files ({_mb(floor_all['bytes'])})", _s(floor_all["seconds"]),
        f"analysis / floor = {analysis / floor_all['seconds']:.1f}x")
    row(f"JSON floor: the {floor_read['files']:,} files the loader reads", _s(floor_read["seconds"]),
        f"analysis / floor = {analysis / floor_read['seconds']:.1f}x")
    diff = out["cdk_diff"]
    if "total" in diff:
        per = diff["per_stack"]
        row(f"cdk diff loop: {diff['stacks']} changed stacks, one run each", _s(diff["total"]),
            f"loop / analysis = {diff['total'] / analysis:.1f}x")
        row("  per stack: min / median / max", f"{per['min']:.1f}/{per['median']:.1f}/{per['max']:.1f}",
            f"{diff['cli_version']}")
        if diff["failed"]:
            row(f"  failed runs: {len(diff['failed'])}", "", diff["failed"][0]["error"][:60].replace("\n", " "))
    else:
        row("cdk diff loop", "skipped", diff["skipped"])
    memory = out["memory"]
    row("peak memory: peak RSS growth, fresh process", _mb(memory["rss_peak_delta"]),
        f"/ on disk {_mb(disk['bytes'])} = {memory['rss_peak_delta'] / disk['bytes']:.2f}x "
        f"(/ read {memory['rss_peak_delta'] / disk['bytes_read']:.2f}x)")
    trace = out["tracemalloc"]
    row("peak memory: tracemalloc peak", _mb(trace["peak"]),
        f"/ on disk = {trace['peak'] / disk['bytes']:.2f}x (/ read {trace['peak'] / disk['bytes_read']:.2f}x)")
    previous = None
    for step in out["scaling"]:
        size = step["size"]
        name = f"scaling {step['factor']:>2}x: {size['stacks']} stacks, {size['references']} references"
        if "seconds" in step:
            total = step["seconds"]["total"]
            phases = " / ".join(f"{step['seconds'][k]:.2f}" for k in ("load", "context", "rules", "plans"))
            ratio = f"{total / previous:.1f}x the previous step; " if previous else ""
            row(name, _s(total), f"{ratio}phases {phases}")
            previous = total
        else:
            row(name, "timeout", f"did not finish in {step['timed_out']:.0f} s")
            previous = None
    lines += ["", "targets:"]
    for verdict in out["verdicts"]:
        ratio = "n/a" if verdict["ratio"] is None else f"{verdict['ratio']:.2f}x"
        lines.append(f"  {'PASS' if verdict['pass'] else 'FAIL'}  {verdict['target']}: {ratio}"
                     + (f" ({verdict['note']})" if verdict.get("note") else ""))
    if "profile" in out:
        profile = out["profile"]
        lines += ["", f"profile (cProfile, {profile['profiled_seconds']:.1f} s profiled), by cumulative time:"]
        lines += [f"  {r['cumtime']:>8.2f} s  {r['calls']:>9}  {r['function']}" for r in profile["by_cumulative"]]
        lines += ["by own time:"]
        lines += [f"  {r['tottime']:>8.2f} s  {r['calls']:>9}  {r['function']}" for r in profile["by_own_time"][:15]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"small inputs ({QUICK.label()})")
    parser.add_argument("--stacks", type=int, help=f"override the size (default {DEFAULT.label()})")
    parser.add_argument("--resources", type=int, default=DEFAULT.resources)
    parser.add_argument("--references", type=int, default=DEFAULT.references)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="analysis runs for the median")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON after the table")
    parser.add_argument("--profile", action="store_true", help="also profile one analysis (cProfile)")
    parser.add_argument("--skip-cdk-diff", action="store_true")
    parser.add_argument("--work", help="folder for the generated assemblies (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the generated assemblies")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds for each analysis process")
    parser.add_argument("--scaling-timeout", type=float, default=1200, help="seconds for each scaling step")
    parser.add_argument("--cdk-timeout", type=float, default=300, help="seconds for each cdk diff")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    out = run(args)
    sys.stdout.write(report(out))
    if args.json:
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    return 1 if args.strict and not all(v["pass"] for v in out["verdicts"]) else 0


if __name__ == "__main__":
    sys.exit(main())
