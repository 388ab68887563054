"""What runs only in CI (``CI=true``, as ``.ci/run`` runs the suite), to keep a local
``make test`` short: the long fuzz run, the corpus (``tests/corpus.py``), every test-app
variant against the CLI, the replays of installs (pip and uv from the network), and the
full count of each property test's examples (a third of them locally)."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI") == "true"


def ci_only(what: str) -> pytest.MarkDecorator:
    """Skip outside CI, saying what runs there."""
    return pytest.mark.skipif(not IN_CI, reason=f"{what} runs in CI (CI=true)")


def examples(in_ci: int) -> int:
    """A property test's example count: ``in_ci`` in CI, a third of it locally (each run
    draws new examples, so CI and every local run keep finding different ones)."""
    return in_ci if IN_CI else max(1, in_ci // 3)
