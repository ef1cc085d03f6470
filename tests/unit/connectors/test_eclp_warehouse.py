"""EclpWarehouse against httpx.MockTransport: the addOrder it writes, how it reads ECLP's
answers, and how a polled order becomes a shipment or a cancellation."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from orderhub.connectors.base import (
    NodeConnector,
    OutboundLine,
    OutboundOrder,
    Rejected,
    ShipmentLine,
)
from orderhub.connectors.capabilities import CancelsByNodeId, PolledNode
from orderhub.connectors.eclp import EclpWarehouse

Handler = Callable[[str, dict[str, Any]], dict[str, Any]]
SETTINGS = {
    "base_url": "http://jos.test",
    "app_key": "k",
    "app_secret": "s",
    "access_token": "t",
    "department_no": "EBU1",
    "warehouse_no": "110001",
    "shop_no": "ESP1",
    "isv_source": "ISV1",
}


def warehouse(answer: Handler, sent: list[tuple[str, dict[str, Any]]], **extra: Any) -> Any:
    def respond(request: httpx.Request) -> httpx.Response:
        form = dict(parse_qsl(request.content.decode()))
        assert form["sign"] and form["app_key"] == "k" and form["access_token"] == "t"
        business = json.loads(form["360buy_param_json"])
        sent.append((form["method"], business))
        return httpx.Response(200, json=answer(form["method"], business))

    client = httpx.Client(transport=httpx.MockTransport(respond))
    return EclpWarehouse({**SETTINGS, **extra}, client=client)


def outbound(*lines: OutboundLine, platform: str = "shopify") -> OutboundOrder:
    return OutboundOrder(
        code="o-7",
        shop_code="SHOP1",
        platform=platform,
        channel_order_id="1001",
        placed_at=datetime(2026, 12, 4, 2, 0, tzinfo=UTC),
        paid_at=None,
        currency="CNY",
        grand_total=Decimal("39.80"),
        shipping_fee=Decimal("0"),
        discount=Decimal("0"),
        receiver_name="张三",
        receiver_phone="13812348000",
        country="CN",
        province="浙江",
        city="杭州市",
        district="西湖区",
        address="文三路100号",
        postcode="310012",
        lines=lines or [OutboundLine("1", "SKU-1", 2, "杯", Decimal("19.9"))],
        seller_remark="加急",
    )


def queried(*codes: str, waybill: str = "JDVA1,JDVA2", shipper: str = "CYS0000010") -> Any:
    return {
        "jingdong_eclp_order_queryOrder_responce": {
            "code": "0",
            "queryorder_result": {
                "eclpSoNo": "ESL9",
                "isvUUID": "o-7",
                "shipperNo": shipper,
                "wayBill": waybill,
                "orderStatusList": [
                    {"soStatusCode": c, "operateTime": "2026-12-04 10:00:00"} for c in codes
                ],
                "orderDetailList": [{"goodsNo": "EMG1", "isvGoodsNo": "SKU-1", "quantity": 2}],
            },
        }
    }


def test_it_is_a_polled_node_that_cancels_by_its_own_number() -> None:
    wms: NodeConnector = EclpWarehouse(SETTINGS)
    assert isinstance(wms, PolledNode) and isinstance(wms, CancelsByNodeId)
    assert wms.verify_callback({}, b"{}") is False
    with pytest.raises(Rejected):
        wms.cancel_outbound(code="o-7", reason="x")
    wms.close()


def test_add_order_sends_our_code_as_isv_uuid_and_goods_as_parallel_fields() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    answer = {"jingdong_eclp_order_addOrder_responce": {"code": "0", "eclpSoNo": "ESL9"}}
    wms = warehouse(lambda method, business: answer, sent)
    two = (
        OutboundLine("1", "SKU-1", 2, "杯", Decimal("19.9")),
        OutboundLine("2-TEA", "TEA-1", 1, "茶"),
    )
    assert wms.create_outbound(outbound(*two)).external_id == "ESL9"
    method, business = sent[0]
    assert method == "jingdong.eclp.order.addOrder"
    assert {k: business[k] for k in ("isvUUID", "isvSource", "departmentNo", "warehouseNo")} == {
        "isvUUID": "o-7",
        "isvSource": "ISV1",
        "departmentNo": "EBU1",
        "warehouseNo": "110001",
    }
    assert (business["shopNo"], business["shipperNo"]) == ("ESP1", "CYS0000010")
    assert (business["isvGoodsNo"], business["quantity"]) == ("SKU-1,TEA-1", "2,1")
    assert (business["price"], business["orderLine"]) == ("19.90,0.00", "1,2-TEA")
    assert business["salePlatformSource"] == "6" and business["salesPlatformOrderNo"] == "1001"
    assert business["salesPlatformCreateTime"] == "2026-12-04 10:00:00"
    assert business["orderMark"] == "0" * 50 and business["sellerNote"] == "加急"
    assert "addressTown" not in business  # empty fields are left out
    jd = outbound(platform="jd")
    wms.create_outbound(jd)
    assert sent[1][1]["salePlatformSource"] == "1"


def test_a_sku_with_a_comma_is_refused_before_anything_is_sent() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    wms = warehouse(lambda method, business: {}, sent)
    with pytest.raises(Rejected, match="comma"):
        wms.create_outbound(outbound(OutboundLine("1", "A,B", 1)))
    assert sent == []


def test_refusals_come_back_with_jos_code_and_cancel_code_2_is_an_answer() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    def answer(method: str, business: dict[str, Any]) -> dict[str, Any]:
        if method.endswith("addOrder"):
            return {"error_response": {"code": "10100007", "zh_desc": "商品[X]不存在"}}
        return {
            "jingdong_eclp_order_cancelOrder_responce": {
                "code": "0",
                "cancelorder_result": {"code": 2, "msg": "订单已出库"},
            }
        }

    wms = warehouse(answer, sent)
    with pytest.raises(Rejected) as refused:
        wms.create_outbound(outbound())
    assert (refused.value.code, refused.value.message) == ("10100007", "商品[X]不存在")
    result = wms.cancel_outbound_at(code="o-7", external_id="ESL9", reason="x")
    assert (result.cancelled, result.reason) == (False, "订单已出库")
    assert sent[-1] == ("jingdong.eclp.order.cancelOrder", {"eclpSoNo": "ESL9"})


def test_a_shipped_order_polls_as_a_shipment_that_reads_back_the_same() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    answers = {"ESL9": queried("10010", "10018"), "ESL8": queried("10010", waybill="")}
    wms = warehouse(lambda method, business: answers[business["eclpSoNo"]], sent)
    events = wms.poll_events({"o-7": "ESL9", "o-8": "ESL8"})
    assert len(events) == 1
    shipment = events[0].shipment
    assert (shipment.code, shipment.carrier, shipment.tracking_no) == ("o-7", "JD", "JDVA1")
    assert shipment.lines == [ShipmentLine("SKU-1", 2)]
    assert shipment.confirm_id == "ESL9:JDVA1" and shipment.final
    assert shipment.shipped_at == datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
    stored = json.dumps(events[0].raw).encode()
    assert wms.parse_callback({"method": events[0].method}, stored) == events[0]
    with pytest.raises(ValueError):
        wms.parse_callback({}, b'{"code": "o-7"}')


def test_a_cancelled_order_polls_as_cancelled_and_settings_map_codes_and_carriers() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    answers = {
        "ESL9": queried("10010", "10028", waybill=""),
        "ESL8": queried("10010", "90001", shipper="CYS-SF"),
    }
    wms = warehouse(
        lambda method, business: answers[business["eclpSoNo"]],
        sent,
        shipped_codes="90001",
        shippers="CYS-SF:SF",
    )
    events = wms.poll_events({"o-7": "ESL9", "o-8": "ESL8"})
    assert [e.cancelled for e in events] == ["o-7", None]
    assert events[1].shipment.carrier == "SF"


def test_stock_is_asked_per_sku_by_merchant_code_usable_free_and_the_rest_locked() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    def answer(method: str, business: dict[str, Any]) -> dict[str, Any]:
        rows = {
            "SKU-1": [{"warehouseNo": "110001", "totalNum": 10, "usableNum": "7"}],
            "SKU-2": [{"warehouseNo": "999", "totalNum": 5, "usableNum": 5}],
        }.get(business["isvSku"], [])
        return {"jingdong_eclp_stock_queryStock_responce": {"code": "0", "querystock_result": rows}}

    wms = warehouse(answer, sent)
    levels = wms.query_inventory(["SKU-1", "SKU-2", "SKU-1"])
    assert [(x.sku, x.quantity, x.locked) for x in levels] == [("SKU-1", 7, 3), ("SKU-2", 0, 0)]
    assert sent[0][1]["deptNo"] == "EBU1" and sent[0][1]["stockStatus"] == "1"


def test_a_missing_setting_is_named() -> None:
    with pytest.raises(ValueError, match="department_no"):
        EclpWarehouse({k: v for k, v in SETTINGS.items() if k != "department_no"})
