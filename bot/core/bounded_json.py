"""Read and parse an untrusted JSON file within bounds on its size, depth and decoded size.

A fork's pull request controls the cloud assembly, so a file may be a FIFO (a plain
``open`` waits forever for a writer), nested thousands of levels deep (the analysis
recurses into values: ``RecursionError``), or small on disk and huge once decoded
(16 MB of ``[[],[],...]`` decodes to 400 MB of Python lists; 16 MB of ``["ab",...]``
to 200 MB of strs). The shape is checked on
the bytes, before anything is decoded:

- depth: the brackets outside strings, innermost pairs removed one level per pass;
- decoded size: an upper bound on what decoding takes at its peak (orjson's parse
  buffer and the Python objects), from the counts of brackets, quotes, colons and
  commas and the widest character, which must stay within ``max_expansion`` times the
  file's size plus an allowance that every deployable template fits in.

Every failure is a :class:`JsonLimitError` whose message is one line.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterator
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


class DecodedSizeError(JsonLimitError):
    """The file would take more memory once decoded than its shape allows."""


@dataclass(frozen=True)
class Shape:
    max_depth: int = 100  # real templates: 13 at most (corpus, test apps, bench)
    max_expansion: int = 2  # estimated bytes to decode per byte on disk, past the allowance
    allowance: int = 8 * 1024 * 1024  # estimated bytes to decode always allowed (see below)


# Why 2x past 8 MiB. The loader holds a file's bytes while it decodes them, so decoding
# S bytes within 2 S + 8 MiB peaks at 3 S + 8 MiB: 3.5x at 16 MiB, 3.1x at 64 MiB, under
# the 4x of issue #14 (the analysis that follows adds about 1x to the decoded objects,
# less than the parse buffer it replaces). CloudFormation takes a template of at most 1 MB
# from S3, 51,200 bytes inline
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html),
# and real templates are charged 3-8.6x their size, so a deployable one takes at most
# 8.6 MiB of the 10 MiB a 1 MB file may.
#
# What orjson 3.13 allocates on CPython 3.11 (64-bit), in bytes, rounded up. orjson parses
# with yyjson into one buffer first: a copy of the input, then 16 bytes per value and per
# key (orjson src/deserialize/backend/yyjson.rs; yyjson.c ``yyjson_read_opts`` copies the
# input unless it reads in place), and builds the Python objects while that buffer lives.
# Python objects come from pymalloc in 16-byte size classes (blocks over 512 from malloc).
# Measured against ``sys.getsizeof`` and the RSS of fresh processes (docs/performance.md).
_YYJSON_VALUE = 16
_LIST = 64 + 16  # PyListObject with its GC header (56, rounded); its item array's rounding
_POINTER = 8  # a list item; orjson sizes each list to its length (``PyList_New(len)``)
# A dict presized for n keys takes at most 144 + 48 n: 64 empty, 192 for 1-5 keys (64 and a
# 120-byte key table), 272 for 6, 648 for 11, 1,184 for 22 (the tightest), 37 a key at 1,000.
_DICT, _DICT_ENTRY = 144, 48
_STRING = 15  # a str's rounding to 16; its header below, then 1, 2 or 4 bytes a character
_NUMBER = 48  # an int up to 64 bits (36) or a float (24); true, false, null, -5..256: none
# str headers by widest character (``sys.getsizeof("")``: 49; "é": 74; "中": 76; "😀": 80);
# orjson shares keys of up to 64 bytes through a 2,048-slot direct-mapped cache
# (src/deserialize/pyobject.rs, cache.rs): colliding keys evict each other, so every key
# is charged as a new str.
_ASCII_HEADER, _UCS2_HEADER, _UCS4_HEADER = 49, 74, 76
_FOUR_BYTE_UTF8 = re.compile(rb"[\xf0-\xff]")

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


def string_cost(data: bytes) -> tuple[int, int]:
    """(header, bytes per character) of the widest str ``data`` can decode to.

    Pure ASCII with no ``\\u`` escape: ASCII strs. A character past U+FFFF (a 4-byte UTF-8
    sequence or an escape) makes its whole str 4 bytes a character, ASCII included.
    """
    escaped = b"\\" in data and b"\\u" in data  # the first is a memchr, 10x faster
    if data.isascii() and not escaped:
        return _ASCII_HEADER, 1
    if escaped or _FOUR_BYTE_UTF8.search(data):
        return _UCS4_HEADER, 4
    return _UCS2_HEADER, 2


_CHUNK = 64 * 1024  # a piece of the file checked at once: its splits stay a few megabytes


@dataclass(frozen=True)
class Structure:
    """What the byte-level check counts: strings (keys included), and outside strings the
    ``[``, ``{``, ``:`` and ``,``, and the brackets in order (None: past the cap asked for)."""

    strings: int
    lists: int
    dicts: int
    entries: int
    commas: int
    brackets: bytes | None


def _pieces(data: bytes, size: int) -> Iterator[bytes]:
    """``data`` in pieces of about ``size`` bytes, each ending on a byte that is not a
    backslash, so no escape is cut in two."""
    start, end_of_data = 0, len(data)
    while start < end_of_data:
        end = min(start + size, end_of_data)
        while end < end_of_data and data[end - 1] == 0x5C:
            end += 1
        yield data[start:end]
        start = end


def scan_structure(data: bytes, max_brackets: int | None = None, chunk: int = _CHUNK) -> Structure:
    """The ``Structure`` of ``data``, a piece at a time: no copy of the whole file is made,
    only the brackets are kept (none once there are more than ``max_brackets``).

    Keys like ``Fn::GetAtt`` and ARNs hold colons, text commas: what counts is outside
    strings. In each piece's ``structure``, strings with no structure inside are ``""``
    (dropping two adjacent quotes keeps every other byte on its side); the rest is split at
    the quotes, the pieces outside strings kept.
    """
    strings = lists = dicts = entries = commas = kept = 0
    brackets: list[bytes] | None = []
    inside = False
    for piece in _pieces(data, chunk):
        stream = structure(piece)
        quotes = stream.count(b'"')
        parts = stream.replace(b'""', b"").split(b'"')
        outside = b"".join(parts[1::2] if inside else parts[::2])
        inside ^= quotes % 2 == 1
        strings += quotes
        lists += outside.count(b"[")
        dicts += outside.count(b"{")
        entries += outside.count(b":")
        commas += outside.count(b",")
        if brackets is not None:
            brackets.append(outside.translate(None, b":,"))
            kept += len(brackets[-1])
            if max_brackets is not None and kept > max_brackets:
                brackets = None
    return Structure(strings // 2, lists, dicts, entries, commas,
                     None if brackets is None else b"".join(brackets))


def estimated_decoded_bytes(data: bytes, counts: Structure) -> int:
    """An upper bound on the memory ``orjson.loads(data)`` takes at its peak (yyjson's buffer
    and the Python objects); ``counts`` is ``scan_structure(data)``.

    From the containers, strings (keys included), entries (colons outside strings),
    elements (at most the commas plus one per container and the root) and the values that
    are neither (numbers, literals); characters are at most the file's bytes.
    """
    size = len(data)
    lists, dicts, strings = counts.lists, counts.dicts, counts.strings
    elements = counts.commas + lists + dicts + 1
    numbers = max(0, counts.commas + 2 - strings + counts.entries)  # elements - string and container values
    header, width = string_cost(data)
    return (
        size + _YYJSON_VALUE * (strings + numbers + lists + dicts)
        + lists * _LIST + elements * _POINTER + dicts * _DICT + counts.entries * _DICT_ENTRY
        + strings * (header + _STRING) + width * size + numbers * _NUMBER
    )


def estimate_of(data: bytes) -> int:
    """``estimated_decoded_bytes`` of ``data`` alone (benchmarks and tests)."""
    return estimated_decoded_bytes(data, scan_structure(data, max_brackets=0))


def parse(data: bytes, shape: Shape, admit: Callable[[int], None] | None = None) -> Any:
    """Decode ``data`` within ``shape``: JsonLimitError when over it, ValueError when not JSON.

    The decoded size is checked before decoding (that is the memory to protect); the depth
    after, once the brackets are known to balance (orjson itself stops at 1,024 levels).
    ``admit``, given the estimate of a file within ``shape``, may refuse it too (raising):
    a budget over many files (``memory_budget``).
    """
    # Brackets of a file within the bound are few (each is charged 80 or more); past this
    # many, the scan drops them and a second scan reads them if the file is within it.
    counts = scan_structure(data, max_brackets=len(data) // 16)
    estimate = estimated_decoded_bytes(data, counts)
    limit = shape.max_expansion * len(data) + shape.allowance
    if estimate > limit:
        raise DecodedSizeError(
            f"would take about {_mib(estimate)} once decoded, over the limit of {_mib(limit)} "
            f"({shape.max_expansion}x its {_mib(len(data))} plus {_mib(shape.allowance)})"
        )
    if admit is not None:
        admit(estimate)
    brackets = counts.brackets if counts.brackets is not None else scan_structure(data).brackets or b""
    del counts
    try:
        document = _decode(data)
    except ValueError as exc:
        if "depth limit" in str(exc) or "recursion" in str(exc):  # orjson stops at 1,024 levels
            raise JsonLimitError(f"is nested more than {shape.max_depth} levels deep") from None
        raise
    if depth_exceeds(brackets, shape.max_depth):
        raise JsonLimitError(f"is nested more than {shape.max_depth} levels deep")
    return document


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (decoders may quote the offending text)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:299] + "…"
