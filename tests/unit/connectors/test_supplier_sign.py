"""Supplier API signing: the HMAC is over timestamp "." body, and stale timestamps fail."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderhub.connectors.supplier import ApiSupplier
from orderhub.connectors.supplier.sign import sign, signed_headers, signing_payload, verify

SECRET = "s3cret"
BODY = '{"po_number":"PO-1","remark":"轻放"}'.encode()
NOW = 1_718_000_000


def test_the_signature_is_base64_hmac_sha256_of_timestamp_dot_body() -> None:
    mac = hmac.new(SECRET.encode(), b"1718000000." + BODY, hashlib.sha256).digest()
    assert signing_payload("1718000000", BODY) == b"1718000000." + BODY
    assert sign(SECRET, "1718000000", BODY) == base64.b64encode(mac).decode()


def test_signed_headers_name_the_supplier_and_verify_at_the_same_moment() -> None:
    headers = signed_headers(supplier_id="SUP-1", secret=SECRET, body=BODY, now=NOW)
    assert headers["X-Orderhub-Supplier"] == "SUP-1"
    assert headers["X-Orderhub-Timestamp"] == str(NOW)
    assert verify(
        SECRET,
        timestamp=headers["X-Orderhub-Timestamp"],
        signature=headers["X-Orderhub-Signature"],
        body=BODY,
        now=NOW,
    )


def test_a_timestamp_beyond_300_seconds_either_way_is_refused() -> None:
    stamp = str(NOW)
    signature = sign(SECRET, stamp, BODY)
    assert verify(SECRET, timestamp=stamp, signature=signature, body=BODY, now=NOW + 300)
    assert verify(SECRET, timestamp=stamp, signature=signature, body=BODY, now=NOW - 300)
    assert not verify(SECRET, timestamp=stamp, signature=signature, body=BODY, now=NOW + 301)
    assert not verify(SECRET, timestamp=stamp, signature=signature, body=BODY, now=NOW - 301)


def test_a_signature_for_another_timestamp_does_not_carry_over() -> None:
    signature = sign(SECRET, str(NOW), BODY)
    assert not verify(SECRET, timestamp=str(NOW + 1), signature=signature, body=BODY, now=NOW)


def test_missing_or_malformed_parts_fail_without_raising() -> None:
    good = sign(SECRET, str(NOW), BODY)
    assert not verify(SECRET, timestamp="", signature=good, body=BODY, now=NOW)
    assert not verify(SECRET, timestamp="17e8", signature=good, body=BODY, now=NOW)
    assert not verify(SECRET, timestamp=str(NOW), signature="", body=BODY, now=NOW)
    assert not verify(SECRET, timestamp=str(NOW), signature="签名", body=BODY, now=NOW)


@given(st.binary(max_size=200), st.binary(min_size=1, max_size=8))
def test_any_change_to_the_body_breaks_the_signature(body: bytes, extra: bytes) -> None:
    signature = sign(SECRET, str(NOW), body)
    assert verify(SECRET, timestamp=str(NOW), signature=signature, body=body, now=NOW)
    assert not verify(SECRET, timestamp=str(NOW), signature=signature, body=body + extra, now=NOW)


def connector(now: float = NOW) -> ApiSupplier:
    settings = {"base_url": "http://supplier.invalid", "supplier_id": "SUP-1", "secret": SECRET}
    return ApiSupplier(settings, clock=lambda: now)


def test_the_connector_reads_callback_headers_in_any_letter_case() -> None:
    headers = signed_headers(supplier_id="SUP-1", secret=SECRET, body=BODY, now=NOW)
    lowered = {key.lower(): value for key, value in headers.items()}
    supplier = connector()
    assert supplier.verify_callback(headers, BODY)
    assert supplier.verify_callback({**lowered, "unrelated": "x"}, BODY)


def test_the_connector_refuses_another_supplier_a_stale_callback_and_a_wrong_secret() -> None:
    other = signed_headers(supplier_id="SUP-2", secret=SECRET, body=BODY, now=NOW)
    wrong = signed_headers(supplier_id="SUP-1", secret="guessed", body=BODY, now=NOW)
    fresh = signed_headers(supplier_id="SUP-1", secret=SECRET, body=BODY, now=NOW)
    supplier = connector()
    assert not supplier.verify_callback(other, BODY)
    assert not supplier.verify_callback(wrong, BODY)
    assert not supplier.verify_callback({}, BODY)
    assert not connector(now=NOW + 301).verify_callback(fresh, BODY)


def test_a_shipped_callback_becomes_a_shipment_and_an_ack_names_its_po() -> None:
    shipped = {
        "event": "shipped",
        "po_number": "PO-1",
        "shipment_id": "SHP-9",
        "carrier": "SF",
        "tracking_no": "SF1234567890123",
        "lines": [{"line_no": "1", "sku": "SKU-1", "quantity": 2}],
        "shipped_at": "2024-06-10T08:00:00Z",
        "final": False,
    }
    supplier = connector()
    event = supplier.parse_callback({}, json.dumps(shipped).encode())
    ack = supplier.parse_callback({}, b'{"event":"acknowledged","po_number":"PO-1","at":"x"}')

    assert event.method == "shipped" and event.shipment is not None
    assert (event.shipment.code, event.shipment.tracking_no) == ("PO-1", "SF1234567890123")
    assert (event.shipment.confirm_id, event.shipment.final) == ("SHP-9", False)
    assert event.shipment.shipped_at is not None
    assert event.shipment.shipped_at.isoformat() == "2024-06-10T08:00:00+00:00"
    assert [(x.sku, x.quantity, x.line_no) for x in event.shipment.lines] == [("SKU-1", 2, "1")]
    assert (ack.method, ack.acknowledged, ack.shipment) == ("acknowledged", "PO-1", None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"po_number":"PO-1"}', "no event"),
        (b'{"event":"shipped","po_number":"PO-1","carrier":"SF","lines":[]}', "no tracking_no"),
        (
            b'{"event":"shipped","po_number":"PO-1","carrier":"SF","tracking_no":"T1",'
            b'"lines":[{"sku":"A","quantity":0}]}',
            "must be positive",
        ),
    ],
)
def test_unreadable_callbacks_raise_value_error_naming_what_is_wrong(
    body: bytes, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        connector().parse_callback({}, body)
