"""Read and parse an untrusted JSON file within bounds on its size, depth and decoded size.

A fork's pull request controls the cloud assembly, so a file may be a FIFO (a plain
``open`` waits forever for a writer), nested thousands of levels deep (the analysis
recurses into values: ``RecursionError``), or small on disk and huge once decoded
(16 MB of ``[[],[],...]`` decodes to 400 MB of Python lists). The shape is checked on
the bytes, before anything is decoded:

- depth: the brackets outside strings, innermost pairs removed one level per pass;
- decoded size: an upper estimate from the counts of brackets, quotes, colons and
  commas, which must stay within ``max_expansion`` times the file's size (plus a small
  allowance, so small files are never refused).

Every failure is a :class:`JsonLimitError` whose message is one line.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:  # 3-4x faster than the standard library on large templates; same results for valid JSON
    import orjson

    def _decode(data: bytes) -> Any:
        return orjson.loads(data)
except ImportError:  # pragma: no cover - orjson is a declared dependency
    import json

    def _decode(data: bytes) -> Any:
        return json.loads(data)


class JsonLimitError(Exception):
    """The file cannot be read within the bounds; the message is one line (no path)."""


@dataclass(frozen=True)
class Shape:
    max_depth: int = 100  # real templates: 13 at most (corpus, test apps, bench)
    max_expansion: int = 10  # estimated decoded bytes per byte on disk; real templates: <= 7.6
    allowance: int = 4 * 1024 * 1024  # estimated decoded bytes always allowed (small files)


# CPython 3.11 (64-bit) object sizes, rounded up: a list with its GC header (64), a dict
# (72, and 112 more once it holds a key), a dict entry (40), a str (56), a float or big
# int (32), a pointer (8). orjson reuses repeated keys, so real templates are charged
# about twice what they take (1.2-3.4x their size decoded, 2.5-7.6x estimated); shapes
# made of nothing but containers, keys or numbers are charged at least what they take.
_LIST, _DICT, _DICT_USED, _ENTRY, _STRING, _NUMBER, _POINTER = 64, 72, 112, 40, 56, 32, 8

_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}:,')


def read_regular_file(path: Path, max_bytes: int, *, prefix: int | None = None) -> bytes:
    """The file's bytes; refuses anything but a regular file, and files over ``max_bytes``.

    Opened non-blocking, so a FIFO or a device is refused instead of waited on.
    ``prefix``: read only the first that many bytes, whatever the file's size.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise JsonLimitError("is missing") from None
    except OSError as exc:
        raise JsonLimitError(f"cannot be read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise JsonLimitError("is not a regular file")
        if prefix is None and info.st_size > max_bytes:
            raise JsonLimitError(f"is {info.st_size} bytes, over the limit of {max_bytes} bytes")
        chunks = []
        remaining = prefix if prefix is not None else max_bytes + 1  # a file growing while read is caught
        step = max(info.st_size + 1, 64 * 1024)  # one read for a file that does not grow
        while remaining > 0:
            chunk = os.read(fd, min(remaining, step))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:
        raise JsonLimitError(f"cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if prefix is None and len(data) > max_bytes:
        raise JsonLimitError(f"is over the limit of {max_bytes} bytes")
    return data


def structure(data: bytes) -> bytes:
    """The quotes, brackets, colons and commas of ``data``, in order, escapes removed.

    Escapes go first (``\\\\``, then ``\\"``), so every quote left delimits a string.
    """
    if b"\\" in data:
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    return data.translate(None, _NOT_STRUCTURE)


def outside_strings(stream: bytes) -> bytes:
    """The brackets of a ``structure`` stream that are not inside a JSON string, in order.

    Adjacent quotes are dropped in pairs: an empty string, or a string's end and the
    next one's start with no bracket between them (merging two strings keeps every
    bracket that was inside one inside one). The few strings left contain brackets.
    """
    brackets = stream.translate(None, b":,").replace(b'""', b"")
    if b'"' in brackets:
        brackets = b"".join(brackets.split(b'"')[::2])
    return brackets


_INNERMOST = re.compile(rb"\[\]|\{\}")


def depth_exceeds(brackets: bytes, limit: int) -> bool:
    """Whether balanced ``brackets`` nest more than ``limit`` deep.

    Each pass removes the innermost pairs, and only those (pairs that become adjacent
    wait for the next pass): exactly one level per pass. A quicker first try removes
    one or two levels per pass (``[]`` then ``{}``): emptied within ``limit // 2``
    passes, the depth is within the limit.
    """
    quick = brackets
    for _ in range(limit // 2):
        if not quick:
            return False
        quick = quick.replace(b"[]", b"").replace(b"{}", b"")
    if not quick:
        return False
    for _ in range(limit):
        if not brackets:
            return False
        brackets = _INNERMOST.sub(b"", brackets)
    return bool(brackets)


def estimated_decoded_bytes(size: int, stream: bytes, brackets: bytes) -> int:
    """An upper estimate of the memory a document of ``size`` bytes takes decoded.

    ``stream`` is its ``structure``, ``brackets`` those outside strings. Strings are
    charged their bytes once: a string mixing ASCII with characters outside the Basic
    Multilingual Plane (emoji) takes up to 4x that, which is not charged.
    """
    lists, dicts = brackets.count(b"["), brackets.count(b"{")
    strings, entries, commas = stream.count(b'"') // 2, stream.count(b":"), stream.count(b",")
    numbers = max(0, commas + 1 - strings + entries)  # values that are not strings nor keys
    return (
        lists * _LIST + dicts * _DICT + min(dicts, entries) * _DICT_USED + entries * _ENTRY
        + strings * _STRING + commas * _POINTER + numbers * _NUMBER + size
    )


def parse(data: bytes, shape: Shape) -> Any:
    """Decode ``data`` within ``shape``: JsonLimitError when over it, ValueError when not JSON.

    The decoded size is checked before decoding (that is the memory to protect); the depth
    after, once the brackets are known to balance (orjson itself stops at 1,024 levels).
    """
    stream = structure(data)
    brackets = outside_strings(stream)
    estimate = estimated_decoded_bytes(len(data), stream, brackets)
    del stream
    if estimate > shape.max_expansion * len(data) + shape.allowance:
        raise JsonLimitError(
            f"would take about {estimate // (1024 * 1024)} MiB once decoded, over {shape.max_expansion}x "
            f"its size ({brackets.count(b'[') + brackets.count(b'{')} arrays and objects)"
        )
    try:
        document = _decode(data)
    except ValueError as exc:
        if "depth limit" in str(exc) or "recursion" in str(exc):  # orjson stops at 1,024 levels
            raise JsonLimitError(f"is nested more than {shape.max_depth} levels deep") from None
        raise
    if depth_exceeds(brackets, shape.max_depth):
        raise JsonLimitError(f"is nested more than {shape.max_depth} levels deep")
    return document


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (decoders may quote the offending text)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:299] + "…"
