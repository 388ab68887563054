"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.synth_cache import APPS_DIR, synth_cached

__all__ = ["APPS_DIR"]

# The moto server fixture (`moto_url`) for the AWS tests.
pytest_plugins = ["tests.aws_fixtures"]


@pytest.fixture(scope="session")
def synth_app() -> Callable[[str, str], Path]:
    """``synth_app(name, variant) -> cdk.out folder`` for ``tests/apps/<name>`` (``"example"``: examples/app).

    Synthesizes with the real cdk CLI; results are cached under ``tests/.cache/synth``.
    """
    return synth_cached
