"""Synthesize the test apps with the real cdk CLI, once per content.

``synth_cached("layer_cross_stack", "head")`` returns a cloud assembly folder under
``tests/.cache/synth/<name>/<variant>-<key>/``. The key hashes the app folder's files,
``bot/synth.py`` (the CLI flags), the aws-cdk-lib version and the cdk CLI version: a
rerun reuses the folder, any change synthesizes again. A synth writes to a temporary
folder that is renamed into place only when it succeeded, so an interrupted run never
leaves a half cache. Not thread-safe (pytest runs it in one process).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from bot import synth

TESTS_DIR = Path(__file__).resolve().parent
REPO_DIR = TESTS_DIR.parent
APPS_DIR = TESTS_DIR / "apps"
EXAMPLE_DIR = REPO_DIR / "examples" / "app"
# Worktrees of one checkout may share a cache: entries are keyed on content and written atomically.
CACHE_DIR = Path(os.environ.get("CDK_EXPORT_GUARD_TEST_CACHE") or TESTS_DIR / ".cache" / "synth")
VARIANTS = ("base", "head", "step1", "step2", "step3")  # step*: the releases of a plan
_IGNORED_PARTS = {"__pycache__", "cdk.out", ".pytest_cache"}


def app_dir(name: str) -> Path:
    """The folder of test app ``name``; ``"example"`` is the bundled ``examples/app``."""
    folder = EXAMPLE_DIR if name == "example" else APPS_DIR / name
    if not (folder / "app.py").is_file():
        raise ValueError(f"no test app named {name!r} (looked in {folder})")
    return folder


def synth_cached(name: str, variant: str) -> Path:
    """Synthesize app ``name`` with ``-c variant=<variant>``, or reuse the cached assembly."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    source = app_dir(name)
    slot = CACHE_DIR / name
    target = slot / f"{variant}-{cache_key(source)}"
    if (target / "manifest.json").is_file():
        return target
    slot.mkdir(parents=True, exist_ok=True)
    scratch = slot / f".partial-{target.name}-{os.getpid()}"  # processes may share the cache
    try:
        synth.synthesize(
            source, scratch,
            app_command=f"{shlex.quote(sys.executable)} app.py",
            context={"variant": variant},
            cdk_cli=_cdk_cli(),
        )
        try:
            scratch.rename(target)
        except OSError:
            if not (target / "manifest.json").is_file():
                raise  # not another process's finished synth of the same content
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if "CDK_EXPORT_GUARD_TEST_CACHE" not in os.environ:  # a shared cache serves other trees
        _prune(slot, variant, keep=target)
    return target


def cache_key(source: Path) -> str:
    """sha256 over the app's files, bot/synth.py, aws-cdk-lib's and the cdk CLI's versions."""
    digest = hashlib.sha256()
    for label, value in (
        ("aws-cdk-lib", importlib.metadata.version("aws-cdk-lib")),
        ("cdk-cli", _cdk_cli_version()),
    ):
        digest.update(f"{label}={value}\0".encode())
    digest.update(b"bot/synth.py\0" + (REPO_DIR / "bot" / "synth.py").read_bytes() + b"\0")
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
