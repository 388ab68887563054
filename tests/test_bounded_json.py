"""The byte-level shape checks of bot/core/bounded_json.py against the decoded documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.decoded import peak_of_decoding
from bot.core.bounded_json import (
    JsonLimitError,
    Shape,
    depth_exceeds,
    estimate_of,
    parse,
    scan_structure,
)
from tests.tiers import examples

tricky_strings = st.sampled_from(['[', ']', '{"}', 'x\\"[', "\\", '\\\\"', "{}[]", "é😀", ""]) | st.text(max_size=8)
documents = st.recursive(
    st.none() | st.booleans() | st.integers() | tricky_strings,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(tricky_strings, children, max_size=4),
    max_leaves=40,
)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


@settings(max_examples=examples(300), deadline=None)
@given(documents)
def test_depth_is_exact_whatever_the_strings_hold(document: Any) -> None:
    text = json.dumps(document).encode()
    brackets = scan_structure(text).brackets or b""
    expected = depth(document)
    assert not depth_exceeds(brackets, expected)
    assert expected == 0 or depth_exceeds(brackets, expected - 1)


def items(item: bytes, count: int) -> bytes:
    return b"[" + b",".join([item] * count) + b"]"


linux_only = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak RSS is read from /proc (Linux)")
RSS_NOISE = 256 * 1024  # page and arena granularity of one fresh process's peak


@linux_only
@pytest.mark.parametrize("data", [
    items(b"[]", 300_000), items(b"{}", 300_000), items(b"[[[[]]]]", 100_000), items(b"1.5", 300_000),
    items(b'"a"', 300_000), items(b'{"a":1}', 150_000), items(b'{"a":[]}', 150_000), items(b"123456789012", 100_000),
    items(b"0", 500_000), items(b"null", 300_000), items(b'""', 300_000), items(b'"ab"', 300_000),
    items('"é"'.encode(), 200_000), items('"中"'.encode(), 200_000), items('"😀"'.encode(), 200_000),
    items('"😀xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"'.encode(), 30_000), items(b'"x\\u00e9"', 150_000),
    b"[" + b",".join(b'"%x"' % i for i in range(200_000)) + b"]",
    b"{" + b",".join(b'"%d":1' % i for i in range(150_000)) + b"}",
    b"{" + b",".join(b'"%06d":"%06d"' % (i, i) for i in range(100_000)) + b"}",
    b"[" + b",".join(b'{"%x":0}' % i for i in range(150_000)) + b"]",
    b"{" + b",".join(b'"%070d":0' % i for i in range(30_000)) + b"}",
    b"[" + b",".join(b'{"k%d":%d}' % (i, i) * 1 + b"" for i in range(100_000)) + b"]",
    b'["' + b"x" * 2_000_000 + b'"]',
], ids=["lists", "dicts", "nested", "floats", "strings", "small-dicts", "dicts-of-lists", "big-ints",
        "small-ints", "nulls", "empty-strings", "short-strings", "latin1", "ucs2", "ucs4", "ucs4-mixed",
        "escapes", "distinct-strings", "distinct-keys", "distinct-keys-and-values", "one-key-dicts",
        "long-keys", "numbered-dicts", "long-string"])
def test_the_estimate_covers_the_peak_of_decoding(data: bytes, tmp_path: Path) -> None:
    """Measured, not modelled: the peak RSS growth of orjson.loads in a fresh process."""
    path = tmp_path / "data.json"
    path.write_bytes(data)
    assert estimate_of(data) + RSS_NOISE >= peak_of_decoding(path)


def containers(value: Any) -> tuple[int, int, int, int]:
    """(lists, dicts, dict entries, commas) of a decoded document: its ``[``, ``{``, ``:``, ``,``."""
    children = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else []
    own = (int(isinstance(value, list)), int(isinstance(value, dict)),
           len(value) if isinstance(value, dict) else 0, max(len(children) - 1, 0))
    totals = [containers(child) for child in children]
    return tuple(sum(column) for column in zip(own, *totals, strict=False))  # type: ignore[return-value]


@settings(max_examples=examples(300), deadline=None)
@given(documents, st.integers(min_value=1, max_value=9))
def test_the_counts_outside_strings_are_exact(document: Any, chunk: int) -> None:
    """Whole, and in pieces of a few bytes (a piece may end inside a string or an escape)."""
    text = json.dumps(document).encode()
    whole, pieces = scan_structure(text), scan_structure(text, chunk=chunk)
    assert whole == pieces
    assert (whole.lists, whole.dicts, whole.entries, whole.commas) == containers(document)


def test_a_dense_document_is_refused_before_it_is_decoded() -> None:
    with pytest.raises(JsonLimitError, match="once decoded"):
        parse(items(b"[]", 2_000_000), Shape())


def test_invalid_json_stays_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse(b'{"a": [1, 2}', Shape())
