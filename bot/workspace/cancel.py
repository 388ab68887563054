"""Cancellation: CI stops a job with SIGTERM (after SIGINT); cleanup must run either way.  [I/O]

``terminate_as_interrupt()`` turns SIGTERM into ``KeyboardInterrupt`` in the main thread,
so ``finally`` blocks run (live mode deletes its change sets there), and sets
:data:`CANCELLED` so work in other threads (the Action analyzes in one) stops at its next
check and cleans up too.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

CANCELLED = threading.Event()


def check() -> None:
    """Raise ``KeyboardInterrupt`` when the run was cancelled (call it where waiting is safe to end)."""
    if CANCELLED.is_set():
        raise KeyboardInterrupt


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, frame: FrameType | None) -> None:
        CANCELLED.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_signal)
    previous_int = signal.signal(signal.SIGINT, on_signal)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
