"""Check out the pull request's base in a separate git worktree (the head is the workspace)."""

from __future__ import annotations

import subprocess
from pathlib import Path


class CheckoutError(Exception):
    """git could not provide the base commit; the message says what to change."""


def _git(repo: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True, text=True, timeout=timeout, check=False,
    )


def resolve(repo: Path, ref: str) -> str | None:
    done = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return done.stdout.strip() if done.returncode == 0 else None


def add_base_worktree(repo: Path, ref: str, into: Path) -> str:
    """Create a detached worktree of ``ref`` at ``into``; fetch the commit when it is missing.

    Returns the commit SHA. A shallow checkout (actions/checkout's default depth 1)
    lacks the base: it is fetched by SHA from origin.
    """
    sha = resolve(repo, ref)
    if sha is None:
        fetched = _git(repo, "fetch", "--no-tags", "--depth=1", "origin", ref)
        sha = resolve(repo, "FETCH_HEAD") if fetched.returncode == 0 else None
        if sha is None:
            raise CheckoutError(
                f"cannot find base commit {ref} (git fetch: {fetched.stderr.strip().splitlines()[-1:] or ['?']}); "
                "use actions/checkout with fetch-depth: 0, or give base-assembly"
            )
    added = _git(repo, "worktree", "add", "--detach", "--force", str(into), sha)
    if added.returncode != 0:
        raise CheckoutError(f"git worktree add failed: {added.stderr.strip()}")
    return sha


def remove_worktree(repo: Path, path: Path) -> None:
    _git(repo, "worktree", "remove", "--force", str(path))
    _git(repo, "worktree", "prune")
