"""Synthesize plan states for the tests, once per content (shared cache, atomic writes).

A plan state is a scratch copy of a test app with a plan's flags and patches applied;
its key hashes the copied files (``tests.synth_cache.cache_key``) and the context, so a
state that is the same in two plans, two runs or two worktrees is synthesized once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from bot import synth
from bot.plan_verify import Tree, VerifyOptions
from tests.synth_cache import CACHE_DIR, _cdk_cli, app_command, app_dir, cache_key

STATES_DIR = CACHE_DIR / "plan-states"


def cached_state_synth(app: Path, out: Path, context: Mapping[str, str],
                       env: Mapping[str, str] | None = None) -> Path:
    """Synthesize a plan state (``env``: extra environment for the app), or reuse it."""
    salt = json.dumps([dict(context), dict(env or {})], sort_keys=True)
    key = hashlib.sha256(f"{cache_key(app)}|{salt}".encode()).hexdigest()[:20]
    target = STATES_DIR / key
    if (target / "manifest.json").is_file():
        return target
    STATES_DIR.mkdir(parents=True, exist_ok=True)
    # Worktrees share the cache and number their states alike: the pid keeps scratch folders apart.
    scratch = STATES_DIR / f".partial-{key}-{out.parent.name}-{os.getpid()}"
    try:
        synth.synthesize(app, scratch, app_command=app_command(app), context=dict(context),
                         cdk_cli=_cdk_cli(), extra_env=env)
        if not target.exists():
            scratch.rename(target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def app_verify_options(name: str, budget_seconds: float = 600.0) -> VerifyOptions:
    """Verification options for a variant test app: one folder, base and head by context."""
    folder = app_dir(name)
    return VerifyOptions(
        base=Tree(folder, {"variant": "base"}),
        head=Tree(folder, {"variant": "head"}),
        budget_seconds=budget_seconds,
        synth=cached_state_synth,
    )
