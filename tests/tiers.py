"""What runs only in CI (``CI=true``, as ``.ci/run`` runs the suite), to keep a local
``make test`` short: the long fuzz run, the corpus (``tests/corpus.py``), every test-app
variant against the CLI, and the replays of installs (pip and uv from the network)."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI") == "true"


def ci_only(what: str) -> pytest.MarkDecorator:
    """Skip outside CI, saying what runs there."""
    return pytest.mark.skipif(not IN_CI, reason=f"{what} runs in CI (CI=true)")
