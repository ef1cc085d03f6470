"""An order's stored JSON (its document and its sealed personal data), written and read
by orjson where orjson gives exactly what the standard library gives, several times
faster: every order is written once when it arrives and read and written again on its
way to the warehouse.

orjson refuses what it cannot write exactly (an integer past 64 bits, a key that is not
text, a lone surrogate); such a value is written by the standard library as before. A
text holding a run of 19 digits or more may hold an integer orjson would read as a
float, and a text orjson refuses (`NaN`) is the standard library's: both are read by it.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["read_document", "write_document"]

# Any integer of 18 digits or fewer fits 64 bits, signed; a longer one may not. A run
# of 19 is looked for among the text's UTF-8 bytes with every ASCII digit written as 0
# and anything else as a space: a plain substring search, several times faster than a
# regular expression (a 6.7 kB order: 11 µs against 116). Only ASCII digits make a JSON
# number.
_DIGIT_MARKS = bytes(ord("0") if ord("0") <= b <= ord("9") else ord(" ") for b in range(256))
_LONG_RUN = b"0" * 19


def write_document(value: Any) -> str:
    """`value` as JSON text, non-ASCII characters kept as they are."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False)


def read_document(text: str) -> Any:
    """The value `write_document` (or `json.dumps`) wrote."""
    if _LONG_RUN not in text.encode("utf-8", "surrogatepass").translate(_DIGIT_MARKS):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)
