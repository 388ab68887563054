"""Peak memory stays within 4x a hostile template's size, whatever its shape (issue #14).

`make bench` measures it at 16 and 64 MB with the default bounds. Here the shapes are 4 MB
and the loader's allowance is lowered to 1 MiB (CDK_EXPORT_GUARD_DECODE_ALLOWANCE_MB), so
the bound that matters at scale (2x the size) is what is tested, in a fresh process each:
the peak RSS growth of the analysis, refused or not, against the size on disk.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.hostile import MANY_SHAPES, PADDED_ITEMS, SHAPES, head_bytes, write_shape
from bot.core.assembly import Limits
from bot.core.bounded_json import Shape
from bot.core.memory_budget import json_bytes

ROOT = Path(__file__).resolve().parent.parent
MEGABYTES = 4
ALLOWANCE_MB = 1
LIMIT = 4.0
MANY_MEGABYTES = 16  # 128 files: the last one's decode is a small part of the budget


def measure(what: str, base: Path, head: Path, **limits_mb: int) -> dict[str, Any]:
    """``python -m bench.measure <what> base head`` in a fresh process, with the limits given
    (``DECODE_ALLOWANCE_MB=1`` sets CDK_EXPORT_GUARD_DECODE_ALLOWANCE_MB); its JSON."""
    env = {**os.environ, **{f"CDK_EXPORT_GUARD_{name}": str(value) for name, value in limits_mb.items()}}
    out = subprocess.run([sys.executable, "-m", "bench.measure", what, str(base), str(head)],
                         capture_output=True, text=True, cwd=ROOT, env=env)
    assert out.returncode == 0, out.stderr[-500:]
    measured: dict[str, Any] = json.loads(out.stdout)
    return measured


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak RSS is read from /proc (Linux)")
@pytest.mark.parametrize("shape", SHAPES)
def test_peak_memory_stays_within_4x_a_hostile_template(shape: str, tmp_path: Path) -> None:
    base, head = write_shape(tmp_path, shape, MEGABYTES, Shape(allowance=ALLOWANCE_MB * 1024 * 1024))
    size = head_bytes(head)
    measured = measure("hostile-memory", base, head, DECODE_ALLOWANCE_MB=ALLOWANCE_MB)
    ratio = measured["rss_peak_delta"] / size
    assert ratio <= LIMIT, f"{shape}: {ratio:.2f}x ({measured['outcome'][:120]})"
    if shape in PADDED_ITEMS:  # the costliest file the bound accepts: read, not refused
        assert measured["outcome"] == "analyzed", measured["outcome"]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak RSS is read from /proc (Linux)")
@pytest.mark.parametrize("shape", MANY_SHAPES)
def test_peak_memory_stays_within_4x_many_hostile_templates(shape: str, tmp_path: Path) -> None:
    # 128 templates of 128 KiB, each within the bound on one file (25x once decoded, for tiny
    # objects): the load's budget over all files refuses them before memory passes 4x.
    base, head = write_shape(tmp_path, shape, MANY_MEGABYTES)
    size = head_bytes(head)
    measured = measure("hostile-memory", base, head, MEMORY_ALLOWANCE_MB=ALLOWANCE_MB)
    ratio = measured["rss_peak_delta"] / size
    assert ratio <= LIMIT, f"{shape}: {ratio:.2f}x ({measured['outcome'][:120]})"
    assert measured["outcome"].startswith("refused: template S"), measured["outcome"]
    assert "CDK_EXPORT_GUARD_MAX_MEMORY_RATIO" in measured["outcome"]  # names what raises the limit


def test_a_real_app_with_every_template_changed_is_within_the_budget(tmp_path: Path) -> None:
    # Realistic templates take 3.4x-3.6x the bytes read once decoded; with every template
    # changed both sides are decoded, and the whole analysis (a fresh process) must stay well
    # within the load's budget of 3x the assemblies' JSON (metadata files count), unrefused.
    from bench.generate import ChangePlan, generate

    base, head = generate(tmp_path / "app", stacks=20, resources_per_stack=200, references=200, seed=3,
                          change=ChangePlan.default(20))
    for template in head.rglob("*.template.json"):  # every template's bytes differ from base's
        template.write_text(template.read_text().replace('"Resources"', '"Resources" ', 1))
    measured = measure("memory", base, head, MEMORY_ALLOWANCE_MB=ALLOWANCE_MB)  # fails if refused
    ratio = measured["rss_peak_delta"] / json_bytes(base, head)
    assert ratio < Limits().max_memory_ratio * 2 / 3, f"{ratio:.2f}x"  # measured 1.70x: a third to spare
