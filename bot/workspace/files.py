"""Reading a repository safely: bounded, no symlinks out of it, text files only.

Shared by the scanners that look for deploy commands (`bot.plans.deploy_scan`) and for
constructs (`bot.plans.source`); the repository may come from a fork's pull request.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

SKIP_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", "node_modules", ".venv", "venv", "cdk.out", "build", "dist",
        "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache",
        ".hypothesis", ".eggs", ".cdk.staging", "coverage", "target",
    }
)  # fmt: skip


def repo_files(
    root: Path,
    accept: Callable[[PurePosixPath], bool],
    *,
    max_files: int,
    skip_dirs: frozenset[str] = SKIP_DIRS,
) -> Iterator[tuple[str, Path]]:
    """(posix path relative to root, path to read) of accepted files, sorted, capped.

    Symlinked directories are not entered; a symlinked file is read only when its
    target lies inside ``root``.
    """
    top = root.resolve()
    seen = 0
    for folder, dirs, files in os.walk(top, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in skip_dirs)
        here = Path(folder)
        for name in sorted(files):
            relative = PurePosixPath((here / name).relative_to(top).as_posix())
            if not accept(relative):
                continue
            path = here / name
            if path.is_symlink():
                try:
                    path = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    continue
                if not path.is_relative_to(top):
                    continue
            seen += 1
            if seen > max_files:
                return
            yield relative.as_posix(), path


def read_text(path: Path, max_bytes: int) -> str | None:
    """A regular UTF-8 text file's content; None when big, binary, undecodable or unreadable."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError:
        return None
    if len(data) > max_bytes or b"\0" in data:
        return None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return None
