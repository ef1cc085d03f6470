"""Warehouse callbacks as warehouses really send them, and as an attacker would.

A signed callback is answered "success" only when the hub could read it: a body nested
thousands deep is kept, shown as an exception and answered with a failure; a GBK body,
as many Chinese warehouse systems send, ships the order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
from sqlalchemy import select

from orderhub.config import SkuConfig
from orderhub.connectors.supplier.sign import signed_headers
from orderhub.demo_stack import QIMEN_KEY, QIMEN_SECRET, SUPPLIER_ID, SUPPLIER_SECRET, Stack
from orderhub.sandbox.qimen.callbacks import qimen_sign
from orderhub.services.exceptions import resolve_exception
from orderhub.services.setup import apply_config
from orderhub.store import tables as t
from support import wait_until

CST = timezone(timedelta(hours=8))


def _post_callback(stack: Stack, method: str, body: bytes) -> httpx.Response:
    params = {
        "method": f"taobao.qimen.{method}",
        "app_key": QIMEN_KEY,
        "customerId": "demo-owner",
        "timestamp": datetime.now(UTC).astimezone(CST).strftime("%Y-%m-%d %H:%M:%S"),
        "format": "xml",
        "v": "2.0",
        "sign_method": "md5",
    }
    params["sign"] = qimen_sign(params, body, QIMEN_SECRET)
    return httpx.post(
        f"{stack.api.url}/callbacks/WH1",
        params=params,
        content=body,
        headers={"Content-Type": "text/xml"},
        timeout=10,
    )


def test_a_callback_nested_five_thousand_deep_is_kept_and_not_told_success(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    body = b"<request>" + b"<a>" * 5000 + b"x" + b"</a>" * 5000 + b"</request>"
    answer = _post_callback(stack, "deliveryorder.confirm", body)
    assert answer.status_code == 200
    assert b"<flag>failure</flag>" in answer.content
    with stack.hub.db.engine.connect() as conn:
        [row] = conn.execute(
            select(t.inbox.c.status, t.inbox.c.error).where(t.inbox.c.source == "node")
        ).all()
        [problem] = conn.execute(
            select(t.exceptions.c.code, t.exceptions.c.message).where(
                t.exceptions.c.status == "open"
            )
        ).all()
    assert row.status == "failed"
    assert problem.code == "malformed_callback" and "nested deeper" in problem.message


def test_a_gbk_shipment_confirmation_ships_the_order(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(ship_delay=3600.0)
    stack.shops["SHOP1"].place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(lambda: len(stack.qimen.orders()) == 1, what="the order at the warehouse")
    [code] = stack.qimen.orders()
    shipped = datetime.now(CST).strftime("%Y-%m-%d %H:%M:%S")
    xml = (
        '<?xml version="1.0" encoding="GBK"?>'
        "<request><deliveryOrder>"
        f"<deliveryOrderCode>{code}</deliveryOrderCode><warehouseCode>WH1</warehouseCode>"
        "<orderType>JYCK</orderType><status>DELIVERED</status><outBizCode>gbk-1</outBizCode>"
        f"<confirmType>0</confirmType><orderConfirmTime>{shipped}</orderConfirmTime>"
        "</deliveryOrder><packages><package><logisticsCode>SF</logisticsCode>"
        "<logisticsName>顺丰速运</logisticsName><expressCode>SF1234567890</expressCode>"
        "<items><item><itemCode>SKU-001</itemCode><quantity>1</quantity></item></items>"
        "</package></packages><orderLines><orderLine><orderLineNo>1</orderLineNo>"
        "<itemCode>SKU-001</itemCode><planQty>1</planQty><actualQty>1</actualQty>"
        "</orderLine></orderLines></request>"
    )
    answer = _post_callback(stack, "deliveryorder.confirm", xml.encode("gbk"))
    assert b"<flag>success</flag>" in answer.content, answer.text

    def tracking() -> str | None:
        with stack.hub.db.engine.connect() as conn:
            return conn.execute(select(t.shipments.c.tracking_no)).scalar()

    wait_until(lambda: tracking() == "SF1234567890", what="the GBK shipment stored")


def _stock_report(*items: tuple[str, str]) -> bytes:
    rows = "".join(
        f"<item><itemCode>{sku}</itemCode><quantity>{quantity}</quantity>"
        "<orderType>PDRK</orderType><outBizCode>count-1</outBizCode></item>"
        for sku, quantity in items
    )
    return f"<request><items>{rows}</items></request>".encode()


def _on_hand(stack: Stack, sku: str) -> int | None:
    with stack.hub.reader() as uow:
        level = uow.stock.level("WH1", sku)
    return level.on_hand if level else None


def _open_problems(stack: Stack) -> list[Any]:
    with stack.hub.db.engine.connect() as conn:
        return list(
            conn.execute(
                select(t.exceptions.c.id, t.exceptions.c.code, t.exceptions.c.field).where(
                    t.exceptions.c.status == "open"
                )
            )
        )


def test_stock_reported_for_an_unknown_sku_is_held_whole_and_applied_once_after_the_fix(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    before = _on_hand(stack, "SKU-001")
    assert before is not None
    body = _stock_report(("SKU-001", "5"), ("NEW-SKU", "7"))
    assert b"<flag>success</flag>" in _post_callback(stack, "stockchange.report", body).content
    wait_until(lambda: _open_problems(stack) != [], what="the report held")
    [problem] = _open_problems(stack)
    assert (problem.code, problem.field) == ("unknown_stock_sku", "items[1].sku")
    assert _on_hand(stack, "SKU-001") == before  # nothing of a held report is applied

    config = stack.hub_config.model_copy(
        update={"skus": [*stack.hub_config.skus, SkuConfig(sku="NEW-SKU")]}
    )
    apply_config(stack.hub, config)
    resolve_exception(stack.hub, problem.id, "retry", by="test")
    assert _on_hand(stack, "SKU-001") == before + 5
    assert _on_hand(stack, "NEW-SKU") == 7
    assert _open_problems(stack) == []


def test_a_quantity_written_as_1e300000_is_named_and_costs_no_time(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    started = time.monotonic()
    answer = _post_callback(stack, "stockchange.report", _stock_report(("SKU-001", "1e300000")))
    assert time.monotonic() - started < 5  # converting 1e300000 took 8 s before
    assert b"<flag>failure</flag>" in answer.content
    [problem] = _open_problems(stack)
    assert problem.code == "malformed_callback"
    with stack.hub.db.engine.connect() as conn:
        message = conn.execute(select(t.exceptions.c.message)).scalar_one()
    assert "quantity for SKU-001" in message and "too large" in message


def test_a_supplier_callback_naming_a_nul_key_and_a_lone_surrogate_is_kept_and_named(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(supplier=True)
    body = b'{"event": {"\\u0000": "\xed\xa0\x80"}, "po_number": "PO-1"}'
    headers = signed_headers(supplier_id=SUPPLIER_ID, secret=SUPPLIER_SECRET, body=body)
    answer = httpx.post(f"{stack.api.url}/callbacks/SUP1", content=body, headers=headers)
    assert answer.status_code == 200 and answer.json()["ok"] is False
    with stack.hub.db.engine.connect() as conn:
        [row] = conn.execute(select(t.inbox.c.status, t.inbox.c.error)).all()
    assert row.status == "failed" and "\\x00" in row.error
    [problem] = _open_problems(stack)
    assert problem.code == "malformed_callback"
