"""Access to ../shared/corpus (real cloud assemblies); absent on a user's fresh clone."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

CORPUS = Path(os.environ.get("CDK_EXPORT_GUARD_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
ECOM = CORPUS / "e-com67"

requires_corpus = pytest.mark.skipif(
    not (ECOM / "history.tsv").is_file(),
    reason=f"corpus not found at {ECOM} (it ships beside the repository, not in it); "
    "set CDK_EXPORT_GUARD_CORPUS to its folder to run these tests",
)


def transitions() -> list[tuple[str, str, str]]:
    """(base, head, subject) for every consecutive pair of successfully synthesized commits."""
    if not (ECOM / "history.tsv").is_file():
        return []
    with (ECOM / "history.tsv").open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    ok = {r["commit"] for r in rows if r["synth"] == "ok"}
    return [(r["parent"], r["commit"], r["subject"]) for r in rows if r["synth"] == "ok" and r["parent"] in ok]
