"""Access to ../shared/corpus (real cloud assemblies); absent on a user's fresh clone."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from tests.tiers import IN_CI

CORPUS = Path(os.environ.get("CDK_EXPORT_GUARD_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
ECOM = CORPUS / "e-com67"

# The corpus runs in CI (CI=true) or when asked for by CDK_EXPORT_GUARD_CORPUS: it is the
# slowest part of the suite, and a local `make test` stays a few minutes without it.
_WANTED = IN_CI or bool(os.environ.get("CDK_EXPORT_GUARD_CORPUS"))

requires_corpus = pytest.mark.skipif(
    not _WANTED or not (ECOM / "history.tsv").is_file(),
    reason=f"corpus not found at {ECOM} (it ships beside the repository, not in it); "
    "set CDK_EXPORT_GUARD_CORPUS to its folder to run these tests"
    if _WANTED else "the corpus runs in CI (CI=true) or with CDK_EXPORT_GUARD_CORPUS set",
)

SOURCE = CORPUS / "e-com67-src"  # the corpus app's CDK source at the commits that matter
requires_source = pytest.mark.skipif(
    not _WANTED or not (SOURCE / "f0d9370" / "app.py").is_file(),
    reason=f"corpus source not found at {SOURCE} (it ships beside the repository); set CDK_EXPORT_GUARD_CORPUS"
    if _WANTED else "the corpus runs in CI (CI=true) or with CDK_EXPORT_GUARD_CORPUS set",
)


def transitions() -> list[tuple[str, str, str]]:
    """(base, head, subject) for every consecutive pair of successfully synthesized commits."""
    if not (ECOM / "history.tsv").is_file():
        return []
    with (ECOM / "history.tsv").open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    ok = {r["commit"] for r in rows if r["synth"] == "ok"}
    return [(r["parent"], r["commit"], r["subject"]) for r in rows if r["synth"] == "ok" and r["parent"] in ok]
