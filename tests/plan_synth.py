"""Synthesize plan states for the tests, once per content (shared cache, atomic writes).

A plan state is a scratch copy of a test app with a plan's flags and patches applied;
its key hashes the copied files (``tests.synth_cache.cache_key``) and the context, so a
state that is the same in two plans, two runs or two worktrees is synthesized once.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from bot.plans.verify import Tree, VerifyOptions
from tests.synth_cache import CACHE_DIR, app_dir, cache_key, store_once, synthesize_app

STATES_DIR = CACHE_DIR / "plan-states"


def cached_state_synth(app: Path, out: Path, context: Mapping[str, str],
                       env: Mapping[str, str] | None = None) -> Path:
    """Synthesize a plan state (``env``: extra environment for the app), or reuse it; the
    cache, not ``out``, decides where it lives."""
    salt = json.dumps([dict(context), dict(env or {})], sort_keys=True)
    key = hashlib.sha256(f"{cache_key(app)}|{salt}".encode()).hexdigest()[:20]
    return store_once(STATES_DIR / key, lambda scratch: synthesize_app(app, scratch, context, extra_env=env))


def app_verify_options(name: str, budget_seconds: float = 600.0) -> VerifyOptions:
    """Verification options for a variant test app: one folder, base and head by context."""
    folder = app_dir(name)
    return VerifyOptions(
        base=Tree(folder, {"variant": "base"}),
        head=Tree(folder, {"variant": "head"}),
        budget_seconds=budget_seconds,
        synth=cached_state_synth,
    )


def plans_key(names: list[str]) -> str:
    """What the plan states of ``names`` depend on: the apps (their cache keys) and ``bot/``'s code."""
    digest = hashlib.sha256()
    for name in sorted(names):
        digest.update(f"{name}={cache_key(app_dir(name))}\0".encode())
    bot_dir = Path(__file__).resolve().parents[1] / "bot"
    for path in sorted(bot_dir.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json"):
            digest.update(path.relative_to(bot_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def prewarm_plan_states(names: list[str], workers: int) -> dict[str, str]:
    """Synthesize every state the verified plans of ``names`` deploy, ``workers`` at a time;
    the errors, by app. Each app is analyzed with its plans verified as the tests do (one
    state at a time per app, several apps at once); the results are dropped, the cache
    stays. Skipped when a marker says this code and these apps were prewarmed already.
    """
    from bot.cli.analyze import run_analysis
    from tests.synth_cache import synth_cached

    marker = STATES_DIR / f".prewarmed-{plans_key(names)}"
    if marker.is_file():
        return {}

    def verify(name: str) -> None:
        options = replace(app_verify_options(name), workers=1)
        run_analysis(synth_cached(name, "base"), synth_cached(name, "head"), source=app_dir(name),
                     base_source=app_dir(name), verify=options)

    errors: dict[str, str] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(verify, name): name for name in names}
        for future in concurrent.futures.as_completed(futures):
            error = future.exception()
            if error is not None:
                errors[futures[future]] = f"{type(error).__name__}: {str(error)[:200]}"
    if not errors:
        STATES_DIR.mkdir(parents=True, exist_ok=True)
        marker.touch()
    return errors
