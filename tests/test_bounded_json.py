"""The byte-level shape checks of bot/core/bounded_json.py against the decoded documents."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.bounded_json import (
    JsonLimitError,
    Shape,
    depth_exceeds,
    estimated_decoded_bytes,
    outside_strings,
    parse,
    structure,
)

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


@settings(max_examples=300, deadline=None)
@given(documents)
def test_depth_is_exact_whatever_the_strings_hold(document: Any) -> None:
    text = json.dumps(document).encode()
    brackets = outside_strings(structure(text))
    expected = depth(document)
    assert not depth_exceeds(brackets, expected)
    assert expected == 0 or depth_exceeds(brackets, expected - 1)


def decoded_bytes(data: bytes) -> int:
    tracemalloc.start()
    try:
        value = orjson.loads(data)
        size, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del value
    return size


def items(item: bytes, count: int) -> bytes:
    return b"[" + b",".join([item] * count) + b"]"


@pytest.mark.parametrize("data", [
    items(b"[]", 100_000), items(b"{}", 100_000), items(b"[[[[]]]]", 50_000), items(b"1.5", 100_000),
    items(b'"a"', 100_000), items(b'{"a":1}', 50_000), items(b'{"a":[]}', 50_000), items(b"123456789012", 50_000),
    b"{" + b",".join(b'"%d":1' % i for i in range(50_000)) + b"}",
    b"{" + b",".join(b'"%06d":"%06d"' % (i, i) for i in range(50_000)) + b"}",
], ids=["lists", "dicts", "nested", "floats", "strings", "small-dicts", "dicts-of-lists", "big-ints",
        "distinct-keys", "distinct-keys-and-values"])
def test_the_estimate_covers_what_containers_keys_and_numbers_take(data: bytes) -> None:
    stream = structure(data)
    assert estimated_decoded_bytes(len(data), stream, outside_strings(stream)) >= decoded_bytes(data)


def test_a_dense_document_is_refused_before_it_is_decoded() -> None:
    with pytest.raises(JsonLimitError, match="once decoded"):
        parse(items(b"[]", 2_000_000), Shape())


def test_invalid_json_stays_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse(b'{"a": [1, 2}', Shape())
