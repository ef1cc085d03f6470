"""QimenWarehouse returns: the `returnorder.create` it writes and the confirms it reads."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from orderhub.connectors.base import OutboundLine, Rejected, ReturnLine, ReturnOrder
from orderhub.connectors.qimen import QimenWarehouse

SECRET = "wms-secret"
NOW = datetime(2024, 5, 1, 16, 30, 5, tzinfo=UTC)


def make_settings(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "base_url": "http://wms.test/router/qimen/service",
        "app_key": "erp-key",
        "app_secret": SECRET,
        "customer_id": "CUST1",
        "warehouse_code": "WH1",
        "owner_code": "OWNER1",
        "retry_backoff": 0.01,
    }
    settings.update(overrides)
    return settings


def make_return(code: str = "RT-1", **overrides: Any) -> ReturnOrder:
    fields: dict[str, Any] = {
        "code": code,
        "original_code": "SO-1",
        "shop_code": "shop-1",
        "channel_order_id": "T-1001",
        "sender_name": "张三",
        "sender_phone": "13800000000",
        "country": "CN",
        "province": "浙江省",
        "city": "杭州市",
        "address": "文三路 1 号",
        "lines": [
            OutboundLine("1", "SKU-1", 2, "Mug", Decimal("10")),
            OutboundLine("2", "SKU-2", 1, "Lid", Decimal("4")),
        ],
        "carrier": "SF",
        "tracking_no": "SF1234567890123",
        "reason": "wrong size",
    }
    fields.update(overrides)
    return ReturnOrder(**fields)


def reply(flag: str = "success", code: str = "0", message: str = "", extra: str = "") -> bytes:
    return (
        f"<?xml version='1.0' encoding='utf-8'?><response><flag>{flag}</flag>"
        f"<code>{code}</code><message>{message}</message>{extra}</response>"
    ).encode()


@pytest.fixture
def make_wms() -> Iterator[Callable[..., tuple[QimenWarehouse, list[httpx.Request]]]]:
    made: list[QimenWarehouse] = []

    def factory(answer: bytes, **overrides: Any) -> tuple[QimenWarehouse, list[httpx.Request]]:
        seen: list[httpx.Request] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return httpx.Response(200, content=answer)

        client = httpx.Client(transport=httpx.MockTransport(handler))
        wms = QimenWarehouse(
            make_settings(**overrides), client=client, sleep=lambda _: None, clock=lambda: NOW
        )
        made.append(wms)
        return wms, seen

    yield factory
    for wms in made:
        wms.close()


def query_of(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(str(request.url)).query, keep_blank_values=True))


def signed(params: dict[str, str], body: bytes) -> str:
    pairs = "".join(f"{k}{v}" for k, v in sorted(params.items()) if k != "sign" and v)
    digest = hashlib.md5(SECRET.encode() + pairs.encode() + body + SECRET.encode())
    return digest.hexdigest().upper()


def callback(body: str, method: str = "taobao.qimen.returnorder.confirm") -> dict[str, str]:
    params = {
        "method": method,
        "app_key": "erp-key",
        "customerId": "CUST1",
        "timestamp": "2024-05-02 10:00:00",
        "format": "xml",
        "v": "2.0",
        "sign_method": "md5",
    }
    params["sign"] = signed(params, body.encode())
    return params


def test_create_return_posts_a_signed_thrk_return_order(
    make_wms: Callable[..., tuple[QimenWarehouse, list[httpx.Request]]],
) -> None:
    wms, seen = make_wms(reply(extra="<returnOrderId>RO77</returnOrderId>"))

    receipt = wms.create_return(make_return())

    assert receipt.external_id == "RO77"
    [request] = seen
    query = query_of(request)
    assert query["method"] == "taobao.qimen.returnorder.create"
    assert query["sign"] == signed(query, request.content)
    root = ET.fromstring(request.content)
    head = root.find("returnOrder")
    assert head is not None
    assert {child.tag: child.text for child in head if len(child) == 0} == {
        "returnOrderCode": "RT-1",
        "warehouseCode": "WH1",
        "orderType": "THRK",
        "preDeliveryOrderCode": "SO-1",
        "logisticsCode": "SF",
        "expressCode": "SF1234567890123",
        "returnReason": "wrong size",
        "shopNick": "shop-1",
    }
    assert head.findtext("senderInfo/name") == "张三"
    assert head.findtext("senderInfo/mobile") == "13800000000"
    assert head.findtext("senderInfo/detailAddress") == "文三路 1 号"
    lines = root.findall("orderLines/orderLine")
    assert [
        (ln.findtext("orderLineNo"), ln.findtext("itemCode"), ln.findtext("planQty"))
        for ln in lines
    ] == [("1", "SKU-1", "2"), ("2", "SKU-2", "1")]
    assert {ln.findtext("ownerCode") for ln in lines} == {"OWNER1"}
    assert {ln.findtext("sourceOrderCode") for ln in lines} == {"T-1001"}


def test_a_carrier_outside_the_qimen_list_travels_as_a_name_and_our_code_is_the_fallback_id(
    make_wms: Callable[..., tuple[QimenWarehouse, list[httpx.Request]]],
) -> None:
    wms, seen = make_wms(reply(), logistics_code="OTHER")

    receipt = wms.create_return(make_return(carrier="Royal Mail", sender_name=""))

    assert receipt.external_id == "RT-1"
    root = ET.fromstring(seen[0].content)
    assert root.findtext("returnOrder/logisticsCode") == "OTHER"
    assert root.findtext("returnOrder/logisticsName") == "Royal Mail"
    assert root.find("returnOrder/senderInfo") is None


def test_a_refused_return_raises_rejected_with_the_wms_code(
    make_wms: Callable[..., tuple[QimenWarehouse, list[httpx.Request]]],
) -> None:
    wms, _ = make_wms(reply("failure", "ORDER_NOT_SHIPPED", "SO-1 has not shipped"))

    with pytest.raises(Rejected) as caught:
        wms.create_return(make_return())

    assert (caught.value.code, caught.value.message) == (
        "ORDER_NOT_SHIPPED",
        "SO-1 has not shipped",
    )


CONFIRM_SPLIT_LINES = """<?xml version="1.0" encoding="utf-8"?>
<request>
  <returnOrder>
    <returnOrderCode>RT-1</returnOrderCode>
    <returnOrderId>RO77</returnOrderId>
    <warehouseCode>WH1</warehouseCode>
    <outBizCode>RT-RO77-1</outBizCode>
    <orderType>THRK</orderType>
    <orderConfirmTime>2024-05-02 09:15:00</orderConfirmTime>
    <logisticsCode>SF</logisticsCode>
    <expressCode>SF1234567890123</expressCode>
  </returnOrder>
  <orderLines>
    <orderLine><orderLineNo>1</orderLineNo><ownerCode>OWNER1</ownerCode>
      <itemCode>SKU-1</itemCode><inventoryType>ZP</inventoryType>
      <planQty>2</planQty><actualQty>1</actualQty></orderLine>
    <orderLine><orderLineNo>1</orderLineNo><ownerCode>OWNER1</ownerCode>
      <itemCode>SKU-1</itemCode><inventoryType>CC</inventoryType>
      <planQty>2</planQty><actualQty>1</actualQty></orderLine>
    <orderLine><orderLineNo>2</orderLineNo><ownerCode>OWNER1</ownerCode>
      <itemCode>SKU-2</itemCode><planQty>1</planQty><actualQty>1</actualQty></orderLine>
  </orderLines>
</request>"""


def test_a_return_confirm_reads_good_and_defective_units_per_line(
    make_wms: Callable[..., tuple[QimenWarehouse, list[httpx.Request]]],
) -> None:
    wms, _ = make_wms(reply())
    query = callback(CONFIRM_SPLIT_LINES)

    assert wms.verify_callback(query, CONFIRM_SPLIT_LINES.encode())
    event = wms.parse_callback(query, CONFIRM_SPLIT_LINES.encode())

    assert event.method == "returnorder.confirm"
    assert event.shipment is None
    returned = event.returned
    assert returned is not None
    assert returned.code == "RT-1"
    assert returned.confirm_id == "RT-RO77-1"
    assert returned.received_at == datetime(2024, 5, 2, 1, 15, tzinfo=UTC)
    assert list(returned.lines) == [
        ReturnLine("SKU-1", 1, "good", "1"),
        ReturnLine("SKU-1", 1, "defective", "1"),
        ReturnLine("SKU-2", 1, "good", "2"),
    ]


CONFIRM_BATCHES = """<request>
  <returnOrder><returnOrderCode>RT-2</returnOrderCode><warehouseCode>WH1</warehouseCode>
    <logisticsCode>YTO</logisticsCode></returnOrder>
  <orderLines>
    <orderLine><orderLineNo>1</orderLineNo><itemCode>SKU-1</itemCode>
      <planQty>3</planQty><actualQty>3</actualQty>
      <batchs>
        <batch><batchCode>B1</batchCode><inventoryType>ZP</inventoryType><actualQty>1</actualQty></batch>
        <batch><batchCode>B2</batchCode><inventoryType>JS</inventoryType><actualQty>1</actualQty></batch>
        <batch><batchCode>B3</batchCode><inventoryType>XS</inventoryType><actualQty>1</actualQty></batch>
      </batchs>
    </orderLine>
    <orderLine><orderLineNo>2</orderLineNo><itemCode>SKU-2</itemCode>
      <inventoryType>CC</inventoryType><planQty>1</planQty><actualQty>0</actualQty></orderLine>
  </orderLines>
</request>"""


def test_batches_carry_the_quality_and_a_missing_out_biz_code_falls_back_to_a_body_hash(
    make_wms: Callable[..., tuple[QimenWarehouse, list[httpx.Request]]],
) -> None:
    wms, _ = make_wms(reply())
    body = CONFIRM_BATCHES.encode()

    event = wms.parse_callback({"method": "returnorder.confirm"}, body)

    returned = event.returned
    assert returned is not None
    assert list(returned.lines) == [
        ReturnLine("SKU-1", 1, "good", "1"),
        ReturnLine("SKU-1", 2, "defective", "1"),
    ]
    assert returned.confirm_id == hashlib.sha256(body).hexdigest()
    assert returned.received_at is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            "<request><returnOrder><warehouseCode>WH1</warehouseCode></returnOrder></request>",
            "returnOrderCode",
        ),
        (
            "<request><returnOrder><returnOrderCode>RT-3</returnOrderCode></returnOrder>"
            "<orderLines><orderLine><itemCode>SKU-1</itemCode><actualQty>two</actualQty>"
            "</orderLine></orderLines></request>",
            "actualQty",
        ),
        (
            "<request><returnOrder><returnOrderCode>RT-3</returnOrderCode></returnOrder>"
            "<orderLines><orderLine><actualQty>1</actualQty></orderLine></orderLines></request>",
            "itemCode",
        ),
    ],
)
def test_an_unreadable_return_confirm_raises_value_error_naming_the_field(
    make_wms: Callable[..., tuple[QimenWarehouse, list[httpx.Request]]], body: str, problem: str
) -> None:
    wms, _ = make_wms(reply())

    with pytest.raises(ValueError, match=problem):
        wms.parse_callback({"method": "taobao.qimen.returnorder.confirm"}, body.encode())
