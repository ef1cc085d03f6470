"""JSON from outside: numbers no order carries are refused with the path that holds them."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderhub.connectors.kit.bounded_json import UnreadableJson, _body_depth, _depth, loads


@pytest.mark.parametrize(
    ("body", "path", "reason"),
    [
        (b'[{"p_id": 1e300000}]', "[0].p_id", "1e300000 is too large a number"),
        (b'{"lines": [{"quantity": -Infinity}]}', "lines[0].quantity", "-Infinity is not a number"),
        (b'{"q": NaN}', "q", "NaN is not a number"),
        (b'{"id": ' + b"9" * 500 + b"}", "id", "a number of 500 characters is too long"),
    ],
)
def test_a_number_no_order_carries_is_refused_naming_its_field(
    body: bytes, path: str, reason: str
) -> None:
    with pytest.raises(UnreadableJson) as caught:
        loads(body)
    assert caught.value.path == path
    assert caught.value.reason.startswith(reason)


def test_a_bare_number_too_large_is_refused_at_the_top() -> None:
    with pytest.raises(UnreadableJson, match="too large a number") as caught:
        loads(b"1e300000")
    assert caught.value.path == ""


@pytest.mark.parametrize("text", ["", "0" * 60, "4" * 41 + "e5", "ref-" + "1-" * 30])
def test_an_integer_is_refused_by_its_length_alone_whatever_text_is_beside_it(text: str) -> None:
    # A long run of digits in a text makes every integer be read one by one; the
    # outcome is the same as without it.
    body = json.dumps({"note": text, "fits": int("9" * 40)}).encode()
    assert loads(body) == {"note": text, "fits": int("9" * 40)}
    with pytest.raises(UnreadableJson, match="41 characters") as caught:
        loads(body[:-1] + b', "id": ' + b"9" * 41 + b"}")
    assert caught.value.path == "id"


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(min_value=1 - 10**39, max_value=10**39)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_what_json_reads_is_read_the_same(value: object) -> None:
    # Read the same to the type: an integer beyond 64 bits must stay an exact integer,
    # not become the float equal to it.
    for ascii_only in (True, False):
        try:
            body = json.dumps(value, ensure_ascii=ascii_only).encode()
        except UnicodeEncodeError:  # a lone surrogate has no UTF-8 bytes
            continue
        try:
            expected = _typed(json.loads(body))
        except ValueError:
            continue
        if _holds_lone_surrogate(json.loads(body)):
            with pytest.raises(UnreadableJson, match="surrogate"):
                loads(body)
        else:
            assert _typed(loads(body)) == expected


def _typed(value: object) -> object:
    if isinstance(value, dict):
        return {key: _typed(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_typed(child) for child in value]
    return (type(value).__name__, value)


def _holds_lone_surrogate(value: object) -> bool:
    if isinstance(value, dict):
        return any(_holds_lone_surrogate(k) or _holds_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_lone_surrogate(child) for child in value)
    return isinstance(value, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in value)


@pytest.mark.parametrize(
    "number", [9999999999999999999, 18446744073709551615, 2**64, -(2**63), -(10**30), 10**39]
)
def test_integers_at_and_beyond_64_bits_are_read_exactly(number: int) -> None:
    read = loads(json.dumps({"id": number, "price": "19.90"}).encode())
    assert read == {"id": number, "price": "19.90"} and type(read["id"]) is int


@pytest.mark.parametrize(
    "body",
    [
        b"\xef\xbb\xbf" + b'{"a": 1}',
        '{"a": "é"}'.encode("utf-16"),
        b'{"a": 1, "a": 2}',
        b'{"a": 1e-400}',
        b"  [1.5, -0, -0.0]  ",
    ],
)
def test_bodies_the_standard_parser_reads_are_read_as_it_reads_them(body: bytes) -> None:
    assert _typed(loads(body)) == _typed(json.loads(body))


@pytest.mark.parametrize(
    "body", [b"", b'{"a": 1}x', b'{"a": 01}', b'{"a": "\x01"}', b"[1,]", b'{"a" 1}', b"\xff"]
)
def test_what_the_standard_parser_refuses_is_refused(body: bytes) -> None:
    with pytest.raises(ValueError):
        json.loads(body)
    with pytest.raises(UnreadableJson):
        loads(body)


def test_ordinary_numbers_are_read() -> None:
    assert loads(b'{"a": [1, 2.5, -0, 6918000000000000007]}') == {
        "a": [1, 2.5, 0, 6918000000000000007]
    }


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b'{"a": {"b": "x\\ud800y"}}', "a.b"),  # an escaped lone surrogate
        (b'{"a": {"b": "x\xed\xa0\x80y"}}', "a.b"),  # the same surrogate as its UTF-8 bytes
        (b'{"a": [1, {"\\udfff": 2}]}', "a[1]"),  # in a key
    ],
)
def test_a_lone_surrogate_is_refused_naming_its_field(body: bytes, path: str) -> None:
    with pytest.raises(UnreadableJson, match="surrogate") as caught:
        loads(body)
    assert caught.value.path == path


def test_a_surrogate_pair_is_one_character_and_read() -> None:
    assert loads(b'{"emoji": "\\ud83d\\ude00"}') == {"emoji": "\U0001f600"}


@pytest.mark.parametrize(("depth", "readable"), [(64, True), (65, False)])
def test_nesting_is_bounded_whatever_the_body_looks_like(depth: int, readable: bool) -> None:
    body = b"[" * depth + b"]" * depth
    if readable:
        assert loads(body) is not None
    else:
        with pytest.raises(UnreadableJson, match="nested deeper"):
            loads(body)


def test_a_long_text_is_refused_only_beyond_the_limit() -> None:
    assert loads(b'{"t": "' + b"x" * 100 + b'"}', max_string=100) == {"t": "x" * 100}
    with pytest.raises(UnreadableJson, match="longer than 100") as caught:
        loads(b'{"t": "' + b"x" * 101 + b'"}', max_string=100)
    assert caught.value.path == "t"


@pytest.mark.parametrize("text", ["]]]]]]", "[[[[[[", '\\"]]]]]]', "}}}}}}", "\\\\"])
def test_brackets_and_quotes_inside_text_do_not_hide_nesting(text: str) -> None:
    deep = "[" * 65 + "]" * 65
    with pytest.raises(UnreadableJson, match="nested deeper"):
        loads(f'["{text}", {deep}]'.encode())
    shallow = "[" * 63 + "]" * 63
    assert loads(f'["{text}", {shallow}]'.encode())[0] == json.loads(f'"{text}"')


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:'),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"\\a'), children, max_size=3)
    ),
    max_leaves=30,
)


@given(_JSON)
def test_nesting_read_off_the_body_is_the_nesting_of_the_value(value: object) -> None:
    body = json.dumps(value).encode()
    read, limit = _body_depth(body, 64), _body_depth(body, 2)
    assert read is None or read == _depth(value)
    assert limit is None or limit == min(_depth(value), 3)  # counted up to past the limit
