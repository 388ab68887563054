"""Synthesize the test apps as the pinned cdk CLI does, once per content.

``synth_cached("layer_cross_stack", "head")`` returns a cloud assembly folder under
``tests/.cache/synth/<name>/<variant>-<key>/``. A Python app runs as the CLI runs it
(``tests/direct_synth.py``: the CLI's environment, learned from it once), in one of this
process's long-lived runners (``tests/batch_synth.py``); the others (``app.ts``) run alone with
their cdk.json's command, as the CLI runs it (``tests/direct_synth.py``). The key hashes the app folder's files,
``bot/workspace/synth.py``, those recipes, the aws-cdk-lib and cdk CLI versions (and, for the TypeScript
apps, the npm lock that installs their aws-cdk-lib): a
rerun reuses the folder, any change synthesizes again. A synth writes to a temporary
folder that is renamed into place only when it succeeded, so an interrupted run never
leaves a half cache. Processes and worktrees may share the cache
(``CDK_EXPORT_GUARD_TEST_CACHE``); ``prewarm`` synthesizes many apps at once, one thread
per runner or ``cdk synth`` child, never the same app and variant twice at a time.
"""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from bot.workspace import synth
from tests import batch_synth, direct_synth

TESTS_DIR = Path(__file__).resolve().parent
REPO_DIR = TESTS_DIR.parent
APPS_DIR = TESTS_DIR / "apps"
EXAMPLE_DIR = REPO_DIR / "examples" / "app"
# Worktrees of one checkout may share a cache: entries are keyed on content and written atomically.
CACHE_DIR = Path(os.environ.get("CDK_EXPORT_GUARD_TEST_CACHE") or TESTS_DIR / ".cache" / "synth")
VARIANTS = ("base", "head", "step1", "step2", "step3")  # step*: the releases of a plan
PREWARMED = ("base", "head")  # every app has these; the pipeline_* apps also have step variants
_IGNORED_PARTS = {"__pycache__", "cdk.out", ".pytest_cache", "node_modules"}


def app_dir(name: str) -> Path:
    """The folder of test app ``name``; ``"example"`` is the bundled ``examples/app``."""
    folder = EXAMPLE_DIR if name == "example" else APPS_DIR / name
    if not (folder / "cdk.json").is_file():
        raise ValueError(f"no test app named {name!r} (looked in {folder})")
    return folder


def is_python(source: Path) -> bool:
    """Python test apps run with this interpreter; the others (``app.ts``) with their cdk.json's
    command, Node 24 from .venv stripping the types (no compile step)."""
    return (source / "app.py").is_file()


def synthesize_app(source: Path, out: Path, context: Mapping[str, str],
                   extra_env: Mapping[str, str] | None = None) -> Path:
    """Synthesize a test app (or a copy of one) into ``out`` as the CLI runs it: a Python app in
    one of this process's long-lived runners (tests/batch_synth.py); any other alone, with its
    cdk.json's command (tests/direct_synth.py: without the CLI's own 1.7 s of CPU)."""
    if is_python(source):
        runners = batch_synth.pool(CACHE_DIR / ".runners", max_idle=default_workers())
        return runners.synthesize(source, out, context, _cdk_cli(), extra_env=extra_env)
    return direct_synth.synthesize_directly(source, out, context, _cdk_cli(), extra_env=extra_env)


def store_once(target: Path, build: Callable[[Path], object]) -> Path:
    """``build`` an assembly into a scratch folder beside ``target``, then rename it into place.

    Processes, worktrees and prewarm threads may share the cache: each builds in its own
    scratch folder, and another's finished build of the same content wins the rename.
    """
    if (target / "manifest.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.parent / f".partial-{target.name}-{os.getpid()}-{threading.get_ident()}"
    try:
        build(scratch)
        try:
            scratch.rename(target)
        except OSError:
            if not (target / "manifest.json").is_file():
                raise  # not another process's finished build of the same content
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def synth_cached(name: str, variant: str) -> Path:
    """Synthesize app ``name`` with ``-c variant=<variant>``, or reuse the cached assembly."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    source = app_dir(name)
    slot = CACHE_DIR / name
    target = slot / f"{variant}-{cache_key(source)}"
    if (target / "manifest.json").is_file():
        return target
    store_once(target, lambda scratch: synthesize_app(source, scratch, {"variant": variant}))
    if "CDK_EXPORT_GUARD_TEST_CACHE" not in os.environ:  # a shared cache serves other trees
        _prune(slot, variant, keep=target)
    return target


def all_apps() -> list[str]:
    """Every test app, and the bundled example."""
    return ["example", *sorted(p.name for p in APPS_DIR.iterdir() if (p / "cdk.json").is_file())]


def variants(name: str) -> list[str]:
    """The variants app ``name`` defines: base and head, and the step* an app names in its code."""
    folder = app_dir(name)
    code = "".join(p.read_text(encoding="utf-8") for p in (folder / "app.py", folder / "app.ts") if p.is_file())
    return [*PREWARMED, *(v for v in VARIANTS if v not in PREWARMED and f'"{v}"' in code)]


def missing(names: list[str]) -> list[tuple[str, str]]:
    """(app, variant) pairs not in the cache yet."""
    return [(name, variant) for name in names for variant in variants(name)
            if not (CACHE_DIR / name / f"{variant}-{cache_key(app_dir(name))}" / "manifest.json").is_file()]


def prewarm(pairs: list[tuple[str, str]], workers: int) -> dict[tuple[str, str], str]:
    """Synthesize ``pairs`` with up to ``workers`` synths at once; the errors, by pair.

    A failure is only reported here: the test that needs that app synthesizes it again
    and fails with the full message.
    """
    if not pairs:
        return {}
    _cdk_cli(), _cdk_cli_version()  # resolved once, before the threads share them
    errors: dict[tuple[str, str], str] = {}
    # The apps run alone (not Python) take longest: started first, they end beside the runners' queue.
    pairs = sorted(pairs, key=lambda pair: is_python(app_dir(pair[0])))
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(synth_cached, name, variant): (name, variant) for name, variant in pairs}
        for future in concurrent.futures.as_completed(futures):
            error = future.exception()
            if error is not None:
                errors[futures[future]] = f"{type(error).__name__}: {str(error)[:200]}"
    return errors


def default_workers() -> int:
    """``CDK_EXPORT_GUARD_SYNTH_JOBS``, else the core count: each synth is a Node and a Python process."""
    text = os.environ.get("CDK_EXPORT_GUARD_SYNTH_JOBS", "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else (os.cpu_count() or 1)


def cache_key(source: Path) -> str:
    """sha256 over the app's files, bot/workspace/synth.py, aws-cdk-lib's and the cdk CLI's versions; for an
    app that is not Python, the npm lock too (its aws-cdk-lib comes from the root node_modules)."""
    digest = hashlib.sha256()
    for label, value in (
        ("aws-cdk-lib", importlib.metadata.version("aws-cdk-lib")),
        ("cdk-cli", _cdk_cli_version()),
    ):
        digest.update(f"{label}={value}\0".encode())
    digest.update(b"bot/workspace/synth.py\0" + (REPO_DIR / "bot" / "workspace" / "synth.py").read_bytes() + b"\0")
    digest.update(b"tests/direct_synth.py\0" + direct_synth.recipe() + b"\0")
    digest.update(b"tests/batch_synth.py\0" + batch_synth.recipe() + b"\0")
    if not is_python(source):
        digest.update(b"package-lock.json\0" + (REPO_DIR / "package-lock.json").read_bytes() + b"\0")
    for path in sorted(p for p in source.rglob("*") if p.is_file() and not _ignored(p, source)):
        digest.update(path.relative_to(source).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _ignored(path: Path, root: Path) -> bool:
    relative = path.relative_to(root)
    return bool(_IGNORED_PARTS.intersection(relative.parts)) or path.suffix == ".pyc"


@functools.cache
def _cdk_cli() -> str:
    return synth.find_cdk_cli()


@functools.cache
def _cdk_cli_version() -> str:
    completed = subprocess.run(
        [_cdk_cli(), "--version"], capture_output=True, text=True, timeout=120,
        env={**os.environ, "CI": "true", "CDK_DISABLE_VERSION_CHECK": "1"}, stdin=subprocess.DEVNULL, check=False,
    )
    if completed.returncode != 0:
        raise synth.SynthError(f"`{_cdk_cli()} --version` failed", completed.stdout + completed.stderr)
    return completed.stdout.strip().splitlines()[-1]


def _prune(slot: Path, variant: str, keep: Path) -> None:
    """Drop older cached assemblies of the same app and variant."""
    for stale in slot.glob(f"{variant}-*"):
        if stale != keep and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
