"""JSON from outside, bounded before anything can grow without limit.

A platform's body is read by this parser only. It refuses, with the path of the
offending value, what no real order carries but what could stall or crash the hub:
nesting deeper than `max_depth`, numbers longer than `max_number` characters (Python
would build a 300,000-digit integer from `1e300000` written as an integer), `NaN` and
`Infinity`, strings longer than `max_string`, and lone UTF-16 surrogates (which no
database can store). The limits are far above any order a platform sends.

    loads(b'{"a": [1, 2]}')            -> {'a': [1, 2]}
    loads(b'{"q": NaN}')               -> UnreadableJson: q: NaN is not a number
    loads(b'[{"n": 1e300000}]')        -> UnreadableJson: [0].n: 1e300000 is too large a number
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

__all__ = ["MAX_DEPTH", "MAX_NUMBER", "MAX_STRING", "UnreadableJson", "dumps", "loads"]

MAX_DEPTH = 64
MAX_NUMBER = 40
MAX_STRING = 65_536


class UnreadableJson(ValueError):
    """The body is not JSON the hub will read; `path` names the offending value."""

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.reason = message


class _Refused:
    """A number refused while parsing, left in its place so the walk names its path."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _number(limit: int, kind: type[int] | type[float], refused: list[_Refused]) -> Any:
    def parse(text: str) -> int | float | _Refused:
        if len(text) > limit:
            refused.append(_Refused(f"a number of {len(text)} characters is too long to be read"))
            return refused[-1]
        value = kind(text)
        if isinstance(value, float) and value in (float("inf"), float("-inf")):
            refused.append(_Refused(f"{text} is too large a number"))
            return refused[-1]
        return value

    return parse


def _constant(refused: list[_Refused]) -> Any:
    def parse(text: str) -> _Refused:
        refused.append(_Refused(f"{text} is not a number"))
        return refused[-1]

    return parse


_SURROGATE = re.compile("[\ud800-\udfff]")
# A surrogate reaches a string from an escape (\ud800) or from its UTF-8 bytes (ED A0 80:
# `json.loads` decodes bytes with "surrogatepass"); a body with neither has none, and
# its strings need not be looked at.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


def _has_lone_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_NOT_MARK = bytes(b for b in range(256) if b not in b'[]{}"')
_ONE_KIND = bytes.maketrans(b"{}", b"[]")


def _body_depth(body: bytes, max_depth: int) -> int | None:
    """How deeply containers nest, up to `max_depth` + 1, read off the brackets of a
    parsed body outside its strings; None when a string holds an escaped quote (the
    quotes then do not split strings from the rest). Each pass takes away the
    innermost pairs, so the passes are the depth.

    Most bodies hold no bracket inside a string: kept to brackets and quotes, each
    string is then an empty pair of quotes, and taking those away leaves no quote. A
    string holding a bracket leaves one (its opening quote has no neighbour to pair
    with), and the body is then split on its quotes to drop the strings' insides."""
    if b'\\"' in body:
        return None
    brackets = body.translate(_ONE_KIND, _NOT_MARK).replace(b'""', b"")
    if b'"' in brackets:
        outside = b"".join(body.split(b'"')[0::2])
        brackets = outside.translate(_ONE_KIND, _NOT_BRACKET)
    for depth in range(max_depth + 1):
        if not brackets:
            return depth
        brackets = brackets.replace(b"[]", b"")
    return max_depth + 1


def _depth(value: Any) -> int:
    """How deeply containers nest (a plain value is 0), walked without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children if isinstance(child, dict | list))
    return deepest


def _check(value: Any, *, max_depth: int, max_string: int) -> None:
    """Refused numbers, depth, string lengths and surrogates, walked without recursion."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, _Refused):
            raise UnreadableJson(item.reason, path=path)
        if isinstance(item, str):
            if len(item) > max_string:
                raise UnreadableJson(
                    f"a text of {len(item)} characters is longer than {max_string}", path=path
                )
            if _has_lone_surrogate(item):
                raise UnreadableJson("the text holds a lone UTF-16 surrogate", path=path)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth >= max_depth:
            raise UnreadableJson(f"nested deeper than {max_depth} levels", path=path)
        if isinstance(item, dict):
            for key, child in item.items():
                if len(key) > max_string or _has_lone_surrogate(key):
                    raise UnreadableJson("a key is too long or holds a lone surrogate", path=path)
                stack.append((child, f"{path}.{key}" if path else key, depth + 1))
        else:
            for index, child in enumerate(item):
                stack.append((child, f"{path}[{index}]", depth + 1))


def loads(
    body: bytes | str,
    *,
    max_depth: int = MAX_DEPTH,
    max_number: int = MAX_NUMBER,
    max_string: int = MAX_STRING,
) -> Any:
    """Parse a body from outside; raises UnreadableJson (a ValueError) on anything odd.

    A body with no long run of number characters is read by orjson, several times
    faster; anything orjson refuses is read again by the standard parser, whose hooks
    and checks name what is wrong. There, the full walk, which names the path, runs
    only when a cheap look says something may be: a refused number, a surrogate escape,
    a body longer than the longest string allowed, or nesting too deep. Every float is
    checked as it is read (floats are few); integers are, only when the body holds a
    run of number characters longer than an integer may be."""
    marks = None
    if isinstance(body, bytes):
        marks = body.translate(_NUMBER_MARKS)
        value = _fast(body) if _FAST_NUMBER_RUN not in marks else _NOT_FAST
        if value is not _NOT_FAST:
            if len(body) > max_string or _deeper_than(max_depth, body, value):
                _check(value, max_depth=max_depth, max_string=max_string)
            return value
    refused: list[_Refused] = []
    hooks: dict[str, Any] = {
        "parse_float": _number(max_number, float, refused),
        "parse_constant": _constant(refused),
    }
    if marks is None or b"0" * (max_number + 1) in marks:
        hooks["parse_int"] = _number(max_number, int, refused)
    try:
        value = json.loads(body, **hooks)
    except UnreadableJson:
        raise
    except RecursionError as exc:
        raise UnreadableJson(f"nested deeper than {max_depth} levels") from exc
    except UnicodeDecodeError as exc:
        raise UnreadableJson(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except ValueError as exc:
        raise UnreadableJson(f"not valid JSON ({exc})") from exc
    suspect = (
        refused
        or not isinstance(body, bytes)
        or len(body) > max_string
        or (_may_hold_surrogate(body) and _SURROGATE_ESCAPE.search(body) is not None)
        or _deeper_than(max_depth, body, value)
    )
    if suspect:
        _check(value, max_depth=max_depth, max_string=max_string)
    return value


# Number characters as one mark, everything else as a space: a run of marks longer than
# a number may be is then a plain substring search.
_NUMBER_MARKS = bytes(ord("0") if chr(b) in "-+.eE0123456789" else ord(" ") for b in range(256))
# orjson reads an integer beyond 64 bits as a float; with no run of number characters
# longer than this, every integer in the body has at most 19 digits and fits.
_FAST_NUMBER_RUN = b"0" * 20
_NOT_FAST = object()


def _fast(body: bytes) -> Any:
    """The body read by orjson, or _NOT_FAST for anything it refuses (not UTF-8, a
    byte-order mark, NaN, a number too large for a double, a lone surrogate, bad JSON):
    the standard parser then reads it, and names what is wrong. What orjson accepts holds
    no lone surrogate and no infinite number, so only length and depth remain to check."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return _NOT_FAST


def _may_hold_surrogate(body: bytes) -> bool:
    """A quick look for the start of a surrogate escape or of its UTF-8 bytes (any
    escaped character, such as Chinese text sent as ASCII, starts with a plain \\u)."""
    return b"\\ud" in body or b"\\uD" in body or b"\xed" in body


def _deeper_than(max_depth: int, body: bytes, value: Any) -> bool:
    depth = _body_depth(body, max_depth)
    return (_depth(value) if depth is None else depth) > max_depth


def dumps(value: Any) -> bytes:
    """A payload as stored bytes; a lone surrogate is kept as its escape, so the stored
    body can always be written and `loads` later names the field that holds it."""
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, sort_keys=True).encode()
