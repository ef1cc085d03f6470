"""Qimen signing: the official worked example's shape, and what changes the sign."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from orderhub.connectors.qimen.sign import sign, sign_payload, verify

OFFICIAL_PARAMS = {
    "method": "taobao.qimen.itemlack.report",
    "timestamp": "2015-04-26 00:00:07",
    "format": "xml",
    "app_key": "testerp_appkey",
    "v": "2.0",
    "sign_method": "md5",
    "customerId": "stub-cust-code",
}
BODY = b"<request><warehouseCode>WH1</warehouseCode></request>"


def test_the_signed_string_matches_the_official_worked_example() -> None:
    expected = (
        b"testapp_keytesterp_appkeycustomerIdstub-cust-codeformatxml"
        b"methodtaobao.qimen.itemlack.reportsign_methodmd5timestamp2015-04-26 00:00:07v2.0"
        + BODY
        + b"test"
    )
    assert sign_payload(OFFICIAL_PARAMS, BODY, "test") == expected


def test_the_sign_is_the_upper_hex_md5_of_that_string() -> None:
    payload = sign_payload(OFFICIAL_PARAMS, BODY, "test")
    assert sign(OFFICIAL_PARAMS, BODY, "test") == hashlib.md5(payload).hexdigest().upper()


def test_the_sign_parameter_and_empty_values_are_left_out() -> None:
    noisy = {**OFFICIAL_PARAMS, "sign": "ABC", "partner_id": ""}
    assert sign(noisy, BODY, "test") == sign(OFFICIAL_PARAMS, BODY, "test")


def test_the_body_is_signed_byte_for_byte() -> None:
    reformatted = BODY.replace(b"><", b">\n<")
    assert sign(OFFICIAL_PARAMS, reformatted, "test") != sign(OFFICIAL_PARAMS, BODY, "test")


def test_verify_accepts_the_right_sign_in_any_case_and_refuses_others() -> None:
    good = sign(OFFICIAL_PARAMS, BODY, "test")
    assert verify({**OFFICIAL_PARAMS, "sign": good}, BODY, "test")
    assert verify({**OFFICIAL_PARAMS, "sign": good.lower()}, BODY, "test")
    assert not verify({**OFFICIAL_PARAMS, "sign": good}, BODY, "other-secret")
    assert not verify({**OFFICIAL_PARAMS, "sign": good}, BODY + b" ", "test")
    assert not verify(OFFICIAL_PARAMS, BODY, "test")


@given(value=st.text(min_size=1), body=st.binary())
def test_any_utf8_parameter_and_body_verify_after_signing(value: str, body: bytes) -> None:
    params = {**OFFICIAL_PARAMS, "customerId": value}
    assert verify({**params, "sign": sign(params, body, "s3cret")}, body, "s3cret")
