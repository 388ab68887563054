"""Memory while loading, held to a multiple of the input (issue #14: <= 4x any input).

Each file is bounded on its own (``bounded_json.Shape``: 2x its size plus 8 MiB), but a
bound per file does not bound an assembly: 400 templates of 128 KiB of tiny objects, each
within it, took 1.3 GB for 52 MB on disk (25x). The budget holds the whole load, both
assemblies, to ``ratio`` x their JSON on disk plus ``allowance``.

The input is every JSON file of the assemblies (``json_bytes``), read or not: metadata files
are never read, and a load grows by 3.4x-3.6x the bytes it reads (a generated 400-stack
pair with every template changed: 502 MiB for 150 MiB read), 1.4x its JSON on disk.

What is held is the process's resident memory, measured, not an estimate: the decode
estimate is an upper bound (it must be, to protect), 2.5x to 4x what real templates take
(measured: 1.9x-3.3x decoded against 7.6x-8.3x estimated), so a budget of estimates would
refuse real apps. Measuring costs a read of /proc/self/statm, so the budget measures only
when the estimates since the last measurement could have passed it. A file is refused when
the load already holds its budget: the peak is the budget plus one file's decode, which the
bound on one file holds.
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path

MIB = 1024 * 1024


class MemoryBudgetError(Exception):
    """The load already holds more memory than its budget: the next file is not read."""


def resident_bytes() -> int:
    """This process's resident memory now (Linux), else its peak so far."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


class MemoryBudget:
    """Admit each decode while growth since the start stays within ``ratio`` x ``input_bytes`` + ``allowance``."""

    def __init__(self, ratio: int, allowance: int, input_bytes: int) -> None:
        self.ratio, self.allowance, self.input_bytes = ratio, allowance, input_bytes
        self.limit = ratio * input_bytes + allowance
        self._start = resident_bytes()
        self._growth = 0  # at the last measurement, plus the estimates admitted since: an upper bound

    def admit(self, estimate: int) -> None:
        """Raise MemoryBudgetError when the load already holds more than its budget; else count
        the next decode's ``estimate``. Its own size is the per-file bound's to hold: an estimate
        is up to 4x what a real file takes, and charging it here refused a 5,000-stack manifest."""
        if self._growth > self.limit:
            self._growth = max(0, resident_bytes() - self._start)
            if self._growth > self.limit:
                raise MemoryBudgetError(
                    f"was not read: the load already holds about {_mib(self._growth)} in memory, over its budget "
                    f"of {_mib(self.limit)} ({self.ratio}x the assemblies' {_mib(self.input_bytes)} of JSON "
                    f"plus {_mib(self.allowance)})")
        self._growth += estimate


def json_bytes(*roots: Path) -> int:
    """The size of every JSON file under ``roots`` (nested assemblies too; asset folders skipped)."""
    total = 0
    todo = list(roots)
    while todo:
        try:
            with os.scandir(todo.pop()) as entries:
                for entry in entries:
                    if entry.name.startswith("asset."):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        todo.append(Path(entry.path))
                    elif entry.name.endswith(".json") and entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
        except OSError:  # a folder that cannot be listed counts nothing: the budget only gets smaller
            continue
    return total


def _mib(size: int) -> str:
    return f"{size / MIB:.1f} MiB"
