"""Pause the cyclic garbage collector while large acyclic data is built.

Decoded templates are millions of small dicts and lists without reference cycles;
while they are built, the cyclic collector re-scans them over and over (measured at
200 stacks: loading 2.5 s -> 0.9 s without it). Reference counting still frees
everything; only cycles wait until the collector is back on. Re-entrant.

On the way out the survivors are frozen (``gc.freeze``): otherwise the allocations
counted while paused make the very next allocation run a full collection over all of
them. Frozen objects are still freed by reference counting as usual.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


def paused(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` with the cyclic collector paused."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with cyclic_gc_paused():
            return function(*args, **kwargs)

    return wrapper
