"""Qimen XML: list nesting, replies, refusal of unsafe bodies, and wire times."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderhub.connectors.qimen.xml import (
    XmlError,
    build,
    build_response,
    format_time,
    parse,
    parse_offset,
    parse_response,
    parse_time,
    to_dict,
)

BEIJING = parse_offset("+08:00")


def test_lists_nest_as_plural_wrappers_around_singular_items() -> None:
    body = build(
        {
            "deliveryOrder": {"deliveryOrderCode": "SO-1", "totalAmount": Decimal("12.5")},
            "orderLines": [{"itemCode": "A", "planQty": 2}, {"itemCode": "B", "planQty": 1}],
        }
    )
    root = ET.fromstring(body)
    assert root.tag == "request"
    assert root.findtext("deliveryOrder/totalAmount") == "12.50"
    assert [e.findtext("itemCode") for e in root.findall("orderLines/orderLine")] == ["A", "B"]


def test_empty_and_missing_values_are_left_out() -> None:
    root = ET.fromstring(build({"a": "", "b": None, "c": "x"}))
    assert [child.tag for child in root] == ["c"]


def test_a_list_without_a_known_item_tag_is_refused() -> None:
    with pytest.raises(ValueError, match="widgets"):
        build({"widgets": [{"a": "1"}]})


def test_wrappers_parse_back_to_lists_even_with_one_item() -> None:
    body = b"""<request><packages><package><expressCode>SF1</expressCode>
        <items><item><itemCode>A</itemCode><quantity>1</quantity></item></items>
        </package></packages></request>"""
    data = to_dict(parse(body))
    assert data == {
        "packages": [{"expressCode": "SF1", "items": [{"itemCode": "A", "quantity": "1"}]}]
    }


def test_a_success_reply_keeps_its_extra_fields() -> None:
    reply = parse_response(
        b"<response><flag>success</flag><code>0</code><message>ok</message>"
        b"<deliveryOrderId>DO1</deliveryOrderId></response>"
    )
    assert reply.ok
    assert (reply.code, reply.message, dict(reply.fields)) == (
        "0",
        "ok",
        {"deliveryOrderId": "DO1"},
    )


def test_a_top_error_response_is_a_failure_with_its_sub_code() -> None:
    reply = parse_response(
        b"<error_response><code>15</code><msg>Remote service error</msg>"
        b"<sub_code>isp.top-remote-connection-timeout</sub_code>"
        b"<sub_msg>timeout</sub_msg></error_response>"
    )
    assert not reply.ok
    assert (reply.code, reply.message) == ("isp.top-remote-connection-timeout", "timeout")


def test_build_response_round_trips() -> None:
    reply = parse_response(build_response(ok=False, code="E1", message="nope"))
    assert (reply.flag, reply.code, reply.message) == ("failure", "E1", "nope")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<response><flag>succ",
        b"<html>oops</html>",
        b"<response><code>0</code></response>",
    ],
)
def test_unreadable_replies_raise_xml_error(body: bytes) -> None:
    with pytest.raises(XmlError):
        parse_response(body)


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><request>&x;</request>',
        b'<!doctype request SYSTEM "file:///etc/passwd"><request/>',
        b"<request><!ENTITY x 'y'></request>",
        "<request/>".encode("utf-16"),
    ],
)
def test_doctype_entities_and_non_utf8_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(XmlError):
        parse(body)


def test_xml_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse(b"<request>")


_xml_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufffe\uffff"),
    min_size=1,
)


@given(value=_xml_text)
def test_any_text_value_survives_build_and_parse(value: str) -> None:
    data = to_dict(parse(build({"deliveryOrder": {"buyerMessage": value}})))
    assert data["deliveryOrder"]["buyerMessage"] == value.strip()


def test_times_are_written_in_beijing_time_and_read_back_as_utc() -> None:
    moment = datetime(2024, 5, 1, 16, 30, tzinfo=UTC)
    assert format_time(moment, BEIJING) == "2024-05-02 00:30:00"
    assert parse_time("2024-05-02 00:30:00", BEIJING) == moment


def test_offsets_parse_and_bad_ones_raise() -> None:
    assert parse_offset("-05:30").utcoffset(None).total_seconds() == -(5 * 3600 + 1800)
    assert parse_offset("Z") == UTC
    with pytest.raises(ValueError, match="UTC offset"):
        parse_offset("Beijing")
    with pytest.raises(ValueError):
        parse_time("yesterday", BEIJING)


_line = st.fixed_dictionaries(
    {"itemCode": _xml_text.filter(lambda s: s.strip()), "planQty": st.integers(0, 10**6)}
)


@given(
    code=_xml_text.filter(lambda s: s.strip()),
    lines=st.lists(_line, max_size=4),
    paid=st.booleans(),
)
def test_any_delivery_order_reads_back_as_it_was_written(
    code: str, lines: list[dict[str, object]], paid: bool
) -> None:
    body = build(
        {
            "deliveryOrder": {"deliveryOrderCode": code, "isPaid": paid, "remark": None},
            "orderLines": lines,
            "extendProps": {},
        }
    )
    root = ET.fromstring(body)  # well-formed
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<request>")
    assert root.findtext("deliveryOrder/deliveryOrderCode") == code
    assert root.findtext("deliveryOrder/isPaid") == ("Y" if paid else "N")
    assert root.find("deliveryOrder/remark") is None  # None is left out
    assert root.find("extendProps") is not None and len(root.find("extendProps") or []) == 0
    assert [(e.findtext("itemCode"), e.findtext("planQty")) for e in root.iter("orderLine")] == [
        (line["itemCode"], str(line["planQty"])) for line in lines
    ]


def test_a_reply_names_flag_code_and_message_first_even_when_empty() -> None:
    root = ET.fromstring(build_response(ok=False, code="", message="a < b & c", extra={"n": 1}))
    assert [(e.tag, e.text) for e in root] == [
        ("flag", "failure"),
        ("code", None),
        ("message", "a < b & c"),
        ("n", "1"),
    ]
