"""An order's stored JSON reads back as the standard library reads it, whatever it holds."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from orderhub.store.documents import read_document, write_document

_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (1 is not 1.0 here)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@given(_VALUES)
def test_what_is_written_reads_back_exactly_as_the_standard_library_reads_it(value: Any) -> None:
    text = write_document(value)
    assert _same(read_document(text), json.loads(text))
    assert _same(read_document(text), value)


@given(_VALUES)
def test_documents_written_before_read_back_the_same(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assert _same(read_document(text), json.loads(text))


def test_integers_past_64_bits_are_written_and_read_exactly() -> None:
    for number in (2**64, -(2**63) - 1, 10**30, 123456789012345678901234567890):
        value = {"n": number, "list": [number, 1]}
        assert read_document(write_document(value)) == value
        assert isinstance(read_document(write_document(value))["n"], int)


def test_a_long_run_of_digits_in_a_text_reads_back_as_text() -> None:
    value = {"tracking": "12345678901234567890123", "n": 12345678901234567890}
    assert read_document(write_document(value)) == value


def test_text_beyond_ascii_and_keys_that_are_not_text_are_kept() -> None:
    value = {"收货人": "张三", "emoji": "📦"}
    text = write_document(value)
    assert "张三" in text  # written as it is, not escaped
    assert read_document(text) == value
    assert read_document(write_document({1: "a"})) == {"1": "a"}


def test_a_not_a_number_written_by_the_standard_library_is_read() -> None:
    value = read_document(json.dumps({"x": float("nan")}))
    assert math.isnan(value["x"])
