"""Golden files: compare a rendered report with ``tests/golden/<name>``.

``UPDATE_GOLDEN=1 python -m pytest tests/render`` rewrites them instead; review the
diff before committing it.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

GOLDEN_DIR = Path(__file__).parent / "golden"


def updating() -> bool:
    return os.environ.get("UPDATE_GOLDEN", "") not in ("", "0")


def assert_golden(name: str, actual: str) -> None:
    """Assert ``actual`` equals the golden file ``name``, or rewrite it when updating."""
    path = GOLDEN_DIR / name
    if updating():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="\n")
        return
    if not path.is_file():
        raise AssertionError(
            f"golden file {path} is missing; create it with UPDATE_GOLDEN=1 and review it"
        )
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"golden/{name}",
                tofile="actual",
            )
        )
        raise AssertionError(
            f"{name} differs from its golden file (UPDATE_GOLDEN=1 rewrites it):\n{diff}"
        )
