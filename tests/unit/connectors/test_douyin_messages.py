"""Douyin pushed messages: the order ids they name, and what makes one unreadable."""

from __future__ import annotations

import json

import pytest

from orderhub.connectors.douyin.channel import orders_in_message
from orderhub.connectors.kit.bounded_json import UnreadableJson


def _body(*data: object) -> bytes:
    return json.dumps(
        [{"tag": "101", "msg_id": str(i), "data": d} for i, d in enumerate(data)]
    ).encode()


def test_the_orders_a_message_names_come_from_each_items_data() -> None:
    body = _body(json.dumps({"p_id": 6918000000000000007}), {"p_id": "2"}, json.dumps({"x": 1}))
    assert orders_in_message(body) == ["2", "6918000000000000007"]


@pytest.mark.parametrize("body", [b'{"tag": "101", "data": "{}"}', b'"[]"', b"7", b"null"])
def test_a_body_that_is_not_an_array_is_unreadable_not_a_crash(body: bytes) -> None:
    with pytest.raises(UnreadableJson, match="not the array of messages Douyin sends"):
        orders_in_message(body)


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ('{"p_id": ', "[1].data"),
        ('{"p_id": 1, "x": ' + "[" * 100 + "]" * 100 + "}", "[1].data.x"),
        ('{"s_ids": ["\\ud800"]}', "[1].data.s_ids[0]"),
    ],
)
def test_unreadable_data_names_the_item_and_field(data: str, path: str) -> None:
    with pytest.raises(UnreadableJson) as caught:
        orders_in_message(_body(json.dumps({"p_id": 1}), data))
    assert caught.value.path.startswith(path)


@pytest.mark.parametrize(
    "p_id",
    [-1, "9" * 500, "abc", " 6918000000000000007", "６９１８", "1\x00", True, 1.5, [1], {"id": 1}],
)
def test_an_order_id_no_shop_could_have_is_unreadable_naming_the_field(p_id: object) -> None:
    with pytest.raises(UnreadableJson, match="is not a Douyin order id") as caught:
        orders_in_message(
            _body(json.dumps({"p_id": 6918000000000000007}), json.dumps({"p_id": p_id}))
        )
    assert caught.value.path == "[1].data.p_id"


def test_order_ids_are_read_as_digits_whether_sent_as_numbers_or_text() -> None:
    body = _body(json.dumps({"p_id": 2**63 - 1}), json.dumps({"p_id": "0"}))
    assert orders_in_message(body) == ["0", str(2**63 - 1)]
