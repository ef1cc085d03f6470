"""JSON from outside: numbers no order carries are refused with the path that holds them."""

from __future__ import annotations

import pytest

from orderhub.connectors.kit.bounded_json import UnreadableJson, loads


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


def test_ordinary_numbers_are_read() -> None:
    assert loads(b'{"a": [1, 2.5, -0, 6918000000000000007]}') == {
        "a": [1, 2.5, 0, 6918000000000000007]
    }
