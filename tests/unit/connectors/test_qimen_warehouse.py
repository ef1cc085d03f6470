"""QimenWarehouse against httpx.MockTransport: the wire it writes and how it reads answers."""

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

from orderhub.connectors.base import (
    CancelResult,
    InventoryLevel,
    NodeConnector,
    OutboundLine,
    OutboundOrder,
    RateLimited,
    Rejected,
    ShipmentLine,
    Unavailable,
)
from orderhub.connectors.qimen import QimenWarehouse, from_settings

SECRET = "wms-secret"
NOW = datetime(2024, 5, 1, 16, 30, 5, tzinfo=UTC)
Handler = Callable[[httpx.Request], httpx.Response]


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


def make_order(code: str = "SO-1", *, platform: str = "taobao", **overrides: Any) -> OutboundOrder:
    fields: dict[str, Any] = {
        "code": code,
        "shop_code": "shop-1",
        "platform": platform,
        "channel_order_id": "T-1001",
        "placed_at": datetime(2024, 5, 1, 16, 0, tzinfo=UTC),
        "paid_at": datetime(2024, 5, 1, 16, 1, tzinfo=UTC),
        "currency": "CNY",
        "grand_total": Decimal("25"),
        "shipping_fee": Decimal("5"),
        "discount": Decimal("4"),
        "receiver_name": "张三",
        "receiver_phone": "13800000000",
        "country": "CN",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "address": "文三路 1 号",
        "postcode": "310000",
        "lines": [
            OutboundLine("1", "SKU-1", 2, "Mug", Decimal("10")),
            OutboundLine("2", "SKU-2", 1, "Lid", Decimal("4")),
        ],
        "buyer_remark": "please hurry",
        "buyer_nick": "buyer-9",
    }
    fields.update(overrides)
    return OutboundOrder(**fields)


def reply(flag: str = "success", code: str = "0", message: str = "", extra: str = "") -> bytes:
    return (
        f"<?xml version='1.0' encoding='utf-8'?><response><flag>{flag}</flag>"
        f"<code>{code}</code><message>{message}</message>{extra}</response>"
    ).encode()


class Recorder:
    """A MockTransport handler that plays queued answers and keeps every request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_wms(sleeps: list[float]) -> Iterator[Callable[..., QimenWarehouse]]:
    made: list[QimenWarehouse] = []

    def factory(handler: Handler, **overrides: Any) -> QimenWarehouse:
        client = httpx.Client(transport=httpx.MockTransport(handler))
        wms = QimenWarehouse(
            make_settings(**overrides), client=client, sleep=sleeps.append, clock=lambda: NOW
        )
        made.append(wms)
        return wms

    yield factory
    for wms in made:
        wms.close()


def query_of(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(str(request.url)).query, keep_blank_values=True))


def expected_sign(params: dict[str, str], body: bytes, secret: str = SECRET) -> str:
    pairs = "".join(f"{k}{v}" for k, v in sorted(params.items()) if k != "sign" and v)
    return (
        hashlib.md5(secret.encode() + pairs.encode() + body + secret.encode()).hexdigest().upper()
    )


def test_create_outbound_posts_a_signed_delivery_order(
    make_wms: Callable[..., QimenWarehouse],
) -> None:
    recorder = Recorder(
        httpx.Response(200, content=reply(extra="<deliveryOrderId>DO9</deliveryOrderId>"))
    )
    receipt = make_wms(recorder).create_outbound(make_order())

    assert receipt.external_id == "DO9"
    [request] = recorder.requests
    params = query_of(request)
    assert params["method"] == "taobao.qimen.deliveryorder.create"
    assert params["timestamp"] == "2024-05-02 00:30:05"
    assert {k: params[k] for k in ("format", "v", "sign_method", "app_key", "customerId")} == {
        "format": "xml", "v": "2.0", "sign_method": "md5", "app_key": "erp-key",
        "customerId": "CUST1",
    }  # fmt: skip
    assert params["sign"] == expected_sign(params, request.content)
    assert request.headers["Content-Type"] == "text/xml;charset=utf-8"

    root = ET.fromstring(request.content)
    head = root.find("deliveryOrder")
    assert head is not None
    assert head.findtext("deliveryOrderCode") == "SO-1"
    assert head.findtext("orderType") == "JYCK"
    assert head.findtext("warehouseCode") == "WH1"
    assert head.findtext("sourcePlatformCode") == "TB"
    assert head.findtext("placeOrderTime") == "2024-05-02 00:00:00"
    assert head.findtext("payTime") == "2024-05-02 00:01:00"
    assert head.findtext("shopNick") == "shop-1"
    assert head.findtext("logisticsCode") == "OTHER"
    assert (head.findtext("totalAmount"), head.findtext("itemAmount")) == ("25.00", "24.00")
    assert (head.findtext("discountAmount"), head.findtext("freight")) == ("4.00", "5.00")
    assert head.findtext("receiverInfo/mobile") == "13800000000"
    assert head.findtext("receiverInfo/area") == "西湖区"
    assert head.findtext("buyerMessage") == "please hurry"
    lines = root.findall("orderLines/orderLine")
    assert [(ln.findtext("itemCode"), ln.findtext("planQty")) for ln in lines] == [
        ("SKU-1", "2"),
        ("SKU-2", "1"),
    ]
    assert {ln.findtext("ownerCode") for ln in lines} == {"OWNER1"}
    assert {ln.findtext("sourceOrderCode") for ln in lines} == {"T-1001"}
    assert {ln.findtext("inventoryType") for ln in lines} == {"ZP"}


def test_platform_codes_default_to_other_and_can_be_overridden(
    make_wms: Callable[..., QimenWarehouse],
) -> None:
    recorder = Recorder(httpx.Response(200, content=reply()))
    wms = make_wms(recorder, platform_codes={"woocommerce": "WOO"}, method_prefix="")
    receipt = wms.create_outbound(make_order(platform="shopify"))
    wms.create_outbound(make_order(platform="WooCommerce"))

    assert receipt.external_id == "SO-1"
    codes = [
        ET.fromstring(r.content).findtext("deliveryOrder/sourcePlatformCode")
        for r in recorder.requests
    ]
    assert codes == ["OTHER", "WOO"]
    assert query_of(recorder.requests[0])["method"] == "deliveryorder.create"


def test_base_url_query_parameters_are_kept_and_signed(
    make_wms: Callable[..., QimenWarehouse],
) -> None:
    recorder = Recorder(httpx.Response(200, content=reply()))
    make_wms(recorder, base_url="http://wms.test/api?tenant=t1").create_outbound(make_order())
    params = query_of(recorder.requests[0])
    assert params["tenant"] == "t1"
    assert params["sign"] == expected_sign(params, recorder.requests[0].content)


def test_a_failure_flag_is_rejected_with_the_wms_code_and_not_retried(
    make_wms: Callable[..., QimenWarehouse],
) -> None:
    recorder = Recorder(
        httpx.Response(200, content=reply("failure", "MISSING_FIELD", "mobile is required"))
    )
    with pytest.raises(Rejected) as caught:
        make_wms(recorder).create_outbound(make_order())
    assert (caught.value.code, caught.value.message) == ("MISSING_FIELD", "mobile is required")
    assert len(recorder.requests) == 1


def test_503_is_retried_with_growing_backoff_then_unavailable(
    make_wms: Callable[..., QimenWarehouse], sleeps: list[float]
) -> None:
    recorder = Recorder(httpx.Response(503, text="busy"))
    with pytest.raises(Unavailable) as caught:
        make_wms(recorder, max_retries=2).create_outbound(make_order())
    assert caught.value.status_code == 503
    assert len(recorder.requests) == 3
    assert len(sleeps) == 2 and 0 < sleeps[0] <= 0.01 and 0.01 <= sleeps[1] <= 0.02


def test_a_retry_after_a_5xx_can_succeed(make_wms: Callable[..., QimenWarehouse]) -> None:
    recorder = Recorder(
        httpx.Response(502),
        httpx.Response(200, content=reply(extra="<deliveryOrderId>DO1</deliveryOrderId>")),
    )
    assert make_wms(recorder).create_outbound(make_order()).external_id == "DO1"
    for request in recorder.requests:
        params = query_of(request)
        assert params["sign"] == expected_sign(params, request.content)


def test_a_long_429_raises_rate_limited_with_retry_after(
    make_wms: Callable[..., QimenWarehouse],
) -> None:
    recorder = Recorder(httpx.Response(429, headers={"Retry-After": "30"}))
    with pytest.raises(RateLimited) as caught:
        make_wms(recorder).create_outbound(make_order())
    assert caught.value.retry_after == 30.0
    assert len(recorder.requests) == 1


def test_a_short_429_is_waited_out(
    make_wms: Callable[..., QimenWarehouse], sleeps: list[float]
) -> None:
    recorder = Recorder(
        httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, content=reply())
    )
    make_wms(recorder).create_outbound(make_order())
    assert sleeps == [1.0]
    assert len(recorder.requests) == 2


def test_a_top_ban_reads_its_duration_from_the_message(
    make_wms: Callable[..., QimenWarehouse],
) -> None:
    body = (
        b"<error_response><code>7</code><msg>App Call Limited</msg>"
        b"<sub_code>accesscontrol.limited-by-app-access-count</sub_code>"
        b"<sub_msg>This ban will last for 12 more seconds</sub_msg></error_response>"
    )
    with pytest.raises(RateLimited) as caught:
        make_wms(Recorder(httpx.Response(200, content=body))).create_outbound(make_order())
    assert caught.value.retry_after == 12.0


@pytest.mark.parametrize("code", ["SYSTEM_BUSY", "isp.top-remote-unknown-error", "MY_BUSY"])
def test_retryable_failure_codes_are_unavailable(
    make_wms: Callable[..., QimenWarehouse], code: str
) -> None:
    recorder = Recorder(httpx.Response(200, content=reply("failure", code, "later")))
    with pytest.raises(Unavailable):
        make_wms(recorder, retry_codes="SYSTEM_BUSY, MY_BUSY").create_outbound(make_order())
    assert len(recorder.requests) == 3


def test_timeouts_and_garbled_replies_are_unavailable_from_the_cause(
    make_wms: Callable[..., QimenWarehouse],
) -> None:
    timeout = httpx.ReadTimeout("slow")
    with pytest.raises(Unavailable) as caught:
        make_wms(Recorder(timeout), max_retries=0).create_outbound(make_order())
    assert caught.value.__cause__ is timeout
    garbled = Recorder(httpx.Response(200, content=b"<response><flag>succ"))
    with pytest.raises(Unavailable):
        make_wms(garbled, max_retries=0).create_outbound(make_order())


def test_a_4xx_without_qimen_xml_is_rejected(make_wms: Callable[..., QimenWarehouse]) -> None:
    with pytest.raises(Rejected) as caught:
        make_wms(Recorder(httpx.Response(404, text="no such path"))).create_outbound(make_order())
    assert (caught.value.code, caught.value.status_code) == ("http-404", 404)


def test_cancel_answers_true_false_or_raises(make_wms: Callable[..., QimenWarehouse]) -> None:
    recorder = Recorder(
        httpx.Response(200, content=reply()),
        httpx.Response(
            200, content=reply("failure", "ORDER_SHIPPED", "order SO-1 has already shipped")
        ),
        httpx.Response(200, content=reply("failure", "ORDER_NOT_FOUND", "order SO-9 is not known")),
    )
    wms = make_wms(recorder)
    assert wms.cancel_outbound(code="SO-1", reason="buyer asked") == CancelResult(cancelled=True)
    assert wms.cancel_outbound(code="SO-1", reason="again") == CancelResult(
        cancelled=False, reason="order SO-1 has already shipped"
    )
    with pytest.raises(Rejected, match="not known"):
        wms.cancel_outbound(code="SO-9", reason="x")
    root = ET.fromstring(recorder.requests[0].content)
    assert query_of(recorder.requests[0])["method"] == "taobao.qimen.order.cancel"
    assert (root.findtext("orderCode"), root.findtext("warehouseCode")) == ("SO-1", "WH1")
    assert root.findtext("cancelReason") == "buyer asked"


def test_inventory_sums_sellable_batches_and_zero_fills(
    make_wms: Callable[..., QimenWarehouse],
) -> None:
    items = (
        "<items>"
        "<item><itemCode>SKU-1</itemCode><inventoryType>ZP</inventoryType><quantity>5</quantity>"
        "<lockQuantity>1</lockQuantity></item>"
        "<item><itemCode>SKU-1</itemCode><inventoryType>ZP</inventoryType><quantity>3</quantity></item>"
        "<item><itemCode>SKU-1</itemCode><inventoryType>CC</inventoryType><quantity>9</quantity></item>"
        "</items>"
    )
    recorder = Recorder(httpx.Response(200, content=reply(extra=items)))
    levels = make_wms(recorder).query_inventory(["SKU-1", "SKU-2", "SKU-1"])
    assert levels == [InventoryLevel("SKU-1", 8, 1), InventoryLevel("SKU-2", 0, 0)]
    root = ET.fromstring(recorder.requests[0].content)
    assert [c.findtext("itemCode") for c in root.findall("criteriaList/criteria")] == [
        "SKU-1",
        "SKU-2",
    ]


def test_inventory_counts_millions_of_one_item_and_refuses_a_count_past_a_billion(
    make_wms: Callable[..., QimenWarehouse],
) -> None:
    def counted(quantity: str) -> Recorder:
        item = (
            f"<items><item><itemCode>SKU-1</itemCode><inventoryType>ZP</inventoryType>"
            f"<quantity>{quantity}</quantity><lockQuantity>-2</lockQuantity></item></items>"
        )
        return Recorder(httpx.Response(200, content=reply(extra=item)))

    # A cloud warehouse holding 2.5 million of a cheap item, 2 oversold and counted below 0.
    levels = make_wms(counted("2500000")).query_inventory(["SKU-1"])
    assert levels == [InventoryLevel("SKU-1", 2_500_000, -2)]
    with pytest.raises(ValueError, match=r"quantity: 1000000001 is more than 1,000,000,000"):
        make_wms(counted("1000000001")).query_inventory(["SKU-1"])


CONFIRM = """<?xml version="1.0" encoding="utf-8"?>
<request>
  <deliveryOrder>
    <deliveryOrderCode>SO-1</deliveryOrderCode><deliveryOrderId>DO7</deliveryOrderId>
    <warehouseCode>WH1</warehouseCode><orderType>JYCK</orderType><status>DELIVERED</status>
    <outBizCode>OB-77</outBizCode><confirmType>0</confirmType>
    <orderConfirmTime>2024-05-02 09:15:00</orderConfirmTime>
  </deliveryOrder>
  <packages><package>
    <logisticsCode>SF</logisticsCode><logisticsName>顺丰速运</logisticsName>
    <expressCode>SF1234567890123</expressCode>
    <items><item><itemCode>SKU-1</itemCode><quantity>2</quantity></item></items>
  </package></packages>
  <orderLines>
    <orderLine><orderLineNo>1</orderLineNo><itemCode>SKU-1</itemCode><planQty>2</planQty>
      <actualQty>2</actualQty></orderLine>
    <orderLine><orderLineNo>2</orderLineNo><itemCode>SKU-2</itemCode><planQty>1</planQty>
      <actualQty>0</actualQty></orderLine>
  </orderLines>
</request>""".encode()


def callback_query(
    method: str, body: bytes, *, secret: str = SECRET, **changes: str
) -> dict[str, str]:
    params = {
        "method": method, "app_key": "erp-key", "customerId": "CUST1", "format": "xml",
        "v": "2.0", "sign_method": "md5", "timestamp": "2024-05-02 09:15:01",
    }  # fmt: skip
    params["sign"] = expected_sign(params, body, secret)
    params.update(changes)
    return params


def test_verify_callback_accepts_only_our_signed_callbacks(
    make_wms: Callable[..., QimenWarehouse],
) -> None:
    wms = make_wms(Recorder(httpx.Response(500)))
    good = callback_query("taobao.qimen.deliveryorder.confirm", CONFIRM)
    assert wms.verify_callback(good, CONFIRM)
    assert not wms.verify_callback(good, CONFIRM.replace(b"SF123", b"SF999"))
    assert not wms.verify_callback(
        callback_query("deliveryorder.confirm", CONFIRM, secret="x"), CONFIRM
    )
    assert not wms.verify_callback({**good, "app_key": "other"}, CONFIRM)
    assert not wms.verify_callback({**good, "customerId": "CUST2"}, CONFIRM)
    assert not wms.verify_callback({k: v for k, v in good.items() if k != "sign"}, CONFIRM)


@pytest.mark.parametrize("method", ["taobao.qimen.deliveryorder.confirm", "deliveryorder.confirm"])
def test_parse_callback_reads_a_shipment(
    make_wms: Callable[..., QimenWarehouse], method: str
) -> None:
    event = make_wms(Recorder(httpx.Response(500))).parse_callback(
        callback_query(method, CONFIRM), CONFIRM
    )
    assert event.method == "deliveryorder.confirm"
    shipment = event.shipment
    assert shipment is not None
    assert (shipment.code, shipment.carrier, shipment.tracking_no) == (
        "SO-1",
        "SF",
        "SF1234567890123",
    )
    assert list(shipment.lines) == [ShipmentLine("SKU-1", 2, "1")]
    assert shipment.confirm_id == "OB-77"
    assert shipment.final
    assert shipment.shipped_at == datetime(2024, 5, 2, 1, 15, tzinfo=UTC)


def test_a_partial_confirm_without_order_lines_uses_package_items(
    make_wms: Callable[..., QimenWarehouse],
) -> None:
    body = (
        b"<request><deliveryOrder><deliveryOrderCode>SO-2</deliveryOrderCode>"
        b"<confirmType>1</confirmType><outBizCode>X</outBizCode></deliveryOrder>"
        b"<packages><package><logisticsCode>YTO</logisticsCode><expressCode>YT1</expressCode>"
        b"<items><item><itemCode>A</itemCode><quantity>3</quantity><orderLineNo>4</orderLineNo>"
        b"</item></items></package></packages></request>"
    )
    event = make_wms(Recorder(httpx.Response(500))).parse_callback(
        {"method": "deliveryorder.confirm"}, body
    )
    assert event.shipment is not None
    assert list(event.shipment.lines) == [ShipmentLine("A", 3, "4")]
    assert not event.shipment.final
    assert event.shipment.shipped_at is None


def test_stock_reports_and_unknown_methods_come_back_raw(
    make_wms: Callable[..., QimenWarehouse],
) -> None:
    wms = make_wms(Recorder(httpx.Response(500)))
    body = (
        b"<request><items><item><itemCode>A</itemCode><quantity>-2</quantity></item></items>"
        b"</request>"
    )
    event = wms.parse_callback({"method": "taobao.qimen.stockchange.report"}, body)
    assert (event.method, event.shipment) == ("stockchange.report", None)
    assert event.raw == {"items": [{"itemCode": "A", "quantity": "-2"}]}
    other = wms.parse_callback(
        {"method": "taobao.qimen.entryorder.confirm"}, b"<request><a>1</a></request>"
    )
    assert (other.method, dict(other.raw)) == ("entryorder.confirm", {"a": "1"})


@pytest.mark.parametrize(
    "body",
    [
        b"<request><deliveryOrder>",
        b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><request>&e;</request>',
        b"<request><deliveryOrder><deliveryOrderCode>SO-1</deliveryOrderCode></deliveryOrder></request>",
        b"<response><flag>success</flag></response>",
    ],
)
def test_unreadable_callbacks_raise_value_error(
    make_wms: Callable[..., QimenWarehouse], body: bytes
) -> None:
    with pytest.raises(ValueError):
        make_wms(Recorder(httpx.Response(500))).parse_callback(
            {"method": "deliveryorder.confirm"}, body
        )


def test_callback_reply_is_the_xml_a_wms_waits_for(make_wms: Callable[..., QimenWarehouse]) -> None:
    wms = make_wms(Recorder(httpx.Response(500)))
    body, content_type = wms.callback_reply(ok=True, message="stored")
    root = ET.fromstring(body)
    assert (root.tag, root.findtext("flag"), root.findtext("code"), root.findtext("message")) == (
        "response", "success", "0", "stored",
    )  # fmt: skip
    assert content_type == "text/xml;charset=utf-8"
    assert ET.fromstring(wms.callback_reply(ok=False)[0]).findtext("flag") == "failure"


@pytest.mark.parametrize(
    "key", ["base_url", "app_key", "app_secret", "customer_id", "warehouse_code", "owner_code"]
)
def test_a_missing_setting_is_named(key: str) -> None:
    settings = make_settings()
    del settings[key]
    with pytest.raises(ValueError, match=f"'{key}' is required"):
        from_settings(settings)


def test_it_is_a_node_connector_whose_secret_never_shows_in_a_repr() -> None:
    wms: NodeConnector = from_settings(make_settings())
    try:
        assert isinstance(wms, QimenWarehouse)
        assert SECRET not in repr(wms.settings)
        assert wms.platform == "qimen"
    finally:
        wms.close()


def test_a_bad_utc_offset_is_a_plain_value_error() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        from_settings(make_settings(utc_offset="Asia/Shanghai"))
