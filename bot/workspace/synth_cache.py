"""Reuse the base side's synth across runs of one pull request (and across PRs on one base).

The key is the base commit, the app folder, the synth and install commands, this
tool's version and the app's lock files: the same key means the same cloud assembly.
The folder is kept by the workflow (actions/cache on `cache-dir`). Entries are
written to a temporary folder and renamed into place, so an interrupted run never
leaves half an assembly behind.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from pathlib import Path

from bot import __version__

LOCK_FILES = (
    "cdk.json", "cdk.context.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "requirements.txt",
    "requirements.lock", "poetry.lock", "Pipfile.lock", "uv.lock", "go.sum", "pom.xml", "packages.lock.json",
)


def cache_key(commit: str, app_dir: Path, *, app_command: str | None, install_command: str | None) -> str:
    digest = hashlib.sha256()
    for part in (commit, __version__, app_command or "", install_command or ""):
        digest.update(part.encode() + b"\0")
    for name in LOCK_FILES:
        path = app_dir / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:24]


def lookup(cache_dir: Path, key: str) -> Path | None:
    entry = cache_dir / key
    return entry if (entry / "manifest.json").is_file() else None


def store(cache_dir: Path, key: str, assembly: Path) -> Path:
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = cache_dir / f".tmp-{uuid.uuid4().hex}"
    shutil.copytree(assembly, staging, symlinks=True)
    entry = cache_dir / key
    try:
        staging.rename(entry)
    except OSError:  # another run stored it first: keep theirs
        shutil.rmtree(staging, ignore_errors=True)
    return entry
