"""Returns and refunds over real HTTP on loopback: connectors against their emulators.

Qimen: the connector announces a return for an order the emulated WMS shipped; the WMS
checks it in (one unit defective) and calls a small receiving server, which verifies and
parses the `returnorder.confirm` with the same connector. Shopify: a refund created
through the Admin API reaches a receiver as a signed `refunds/create` webhook that
`parse_refund` reads; an over-refund is refused with Shopify's 422.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from orderhub.connectors.base import (
    NodeEvent,
    OutboundLine,
    OutboundOrder,
    Rejected,
    ReturnLine,
    ReturnOrder,
)
from orderhub.connectors.qimen import QimenWarehouse
from orderhub.connectors.shopify.consts import DEFAULT_TOPICS
from orderhub.sandbox.qimen import QimenEmulator
from orderhub.sandbox.server import RunningServer, serve_in_thread
from support import make_outbound

APP_KEY, SECRET, CUSTOMER = "erp-app-key", "erp-app-secret", "CUST-1"
Start = Callable[..., Any]
WebhookReceiver = Any


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@dataclass
class Hub:
    """The hub's Qimen callback endpoint: verified, parsed events in arrival order."""

    wms: QimenWarehouse
    events: list[NodeEvent] = field(default_factory=list)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        query = dict(request.query_params)
        ok = self.wms.verify_callback(query, body)
        with self.lock:
            if ok:
                self.events.append(self.wms.parse_callback(query, body))
            else:
                self.bad_signatures += 1
        reply, content_type = self.wms.callback_reply(ok=ok)
        return Response(reply, status_code=200 if ok else 401, media_type=content_type)

    def of(self, method: str) -> list[NodeEvent]:
        with self.lock:
            return [e for e in self.events if e.method == method]


@dataclass
class Warehouse:
    emulator: QimenEmulator
    url: str
    hub: Hub
    wms: QimenWarehouse

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.url}/_sandbox/{path}", json=body)
        response.raise_for_status()
        return response.json()


def settings(url: str) -> dict[str, Any]:
    return {
        "base_url": f"{url}/router/qimen/service",
        "app_key": APP_KEY,
        "app_secret": SECRET,
        "customer_id": CUSTOMER,
        "warehouse_code": "WH1",
        "owner_code": "OWNER1",
        "timeout": 5,
        "retry_backoff": 0.02,
    }


@pytest.fixture
def warehouse() -> Iterator[Warehouse]:
    emulator = QimenEmulator(
        APP_KEY,
        SECRET,
        CUSTOMER,
        seed=7,
        ship_delay=0,
        return_delay=0.1,
        callback_retry_delays=(0.05, 0.1, 0.2),
    )
    servers: list[RunningServer] = [serve_in_thread(emulator)]
    hub = Hub(QimenWarehouse(settings(servers[0].url)))
    servers.append(
        serve_in_thread(Starlette(routes=[Route("/qimen/cb", hub.receive, methods=["POST"])]))
    )
    emulator.configure(callback_url=f"{servers[1].url}/qimen/cb")
    wms = QimenWarehouse(settings(servers[0].url))
    yield Warehouse(emulator, servers[0].url, hub, wms)
    wms.close()
    hub.wms.close()
    for server in servers:
        server.stop()


def outbound(code: str, lines: list[tuple[str, int]]) -> OutboundOrder:
    return make_outbound(code, lines, grand_total=Decimal("30"))


def return_of(code: str, original: str, lines: list[tuple[str, int]]) -> ReturnOrder:
    return ReturnOrder(
        code=code,
        original_code=original,
        shop_code="shop-1",
        channel_order_id=f"TM-{original}",
        sender_name="李四",
        sender_phone="13900000000",
        country="CN",
        province="上海",
        city="上海市",
        address="世纪大道 100 号",
        lines=[
            OutboundLine(str(n), sku, qty, sku, Decimal("10"))
            for n, (sku, qty) in enumerate(lines, start=1)
        ],
        carrier="YTO",
        tracking_no="YT1234567890123",
        reason="不想要了",
    )


def test_a_return_for_a_shipped_order_comes_back_with_one_defective_unit(
    warehouse: Warehouse,
) -> None:
    warehouse.control("POST", "stock", {"items": {"SKU-1": 10, "SKU-2": 4}})
    warehouse.wms.create_outbound(outbound("SO-1", [("SKU-1", 2), ("SKU-2", 1)]))
    warehouse.control("POST", "ship/SO-1")
    wait_until(lambda: len(warehouse.hub.of("deliveryorder.confirm")) == 1)
    warehouse.control("POST", "returns/defective", {"sku": "SKU-1", "quantity": 1})

    request = return_of("RT-1", "SO-1", [("SKU-1", 2), ("SKU-2", 1)])
    first = warehouse.wms.create_return(request)
    again = warehouse.wms.create_return(request)

    assert first == again and first.external_id.startswith("RO")
    stats = warehouse.emulator.stats()
    assert (stats["return_create_calls"], stats["distinct_returns"]) == (2, 1)
    wait_until(lambda: len(warehouse.hub.of("returnorder.confirm")) == 1)
    returned = warehouse.hub.of("returnorder.confirm")[0].returned
    assert returned is not None
    assert returned.code == "RT-1"
    assert sorted(returned.lines, key=lambda ln: (ln.sku, ln.quality)) == [
        ReturnLine("SKU-1", 1, "defective", "1"),
        ReturnLine("SKU-1", 1, "good", "1"),
        ReturnLine("SKU-2", 1, "good", "2"),
    ]
    assert returned.confirm_id
    assert returned.received_at is not None
    assert abs(returned.received_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert warehouse.hub.bad_signatures == 0
    stock = {
        level.sku: level.quantity for level in warehouse.wms.query_inventory(["SKU-1", "SKU-2"])
    }
    assert stock == {"SKU-1": 9, "SKU-2": 4}
    kept = warehouse.control("GET", "returns/RT-1")
    assert kept["status"] == "FULFILLED"
    assert (kept["lines"][0]["good_qty"], kept["lines"][0]["defective_qty"]) == (1, 1)


def test_a_repeated_confirm_delivery_keeps_its_confirm_id(warehouse: Warehouse) -> None:
    warehouse.emulator.configure(return_delay=0, defective_ratio=1.0)
    warehouse.control("PUT", "faults", {"duplicate_webhooks": 1})
    warehouse.wms.create_outbound(outbound("SO-2", [("SKU-3", 1)]))
    warehouse.control("POST", "ship/SO-2")
    warehouse.wms.create_return(return_of("RT-2", "SO-2", [("SKU-3", 1)]))

    warehouse.control("POST", "receive/RT-2")

    wait_until(lambda: len(warehouse.hub.of("returnorder.confirm")) == 2)
    events = warehouse.hub.of("returnorder.confirm")
    received = [e.returned for e in events if e.returned is not None]
    assert len({r.confirm_id for r in received}) == 1
    assert [list(r.lines) for r in received] == [[ReturnLine("SKU-3", 1, "defective", "1")]] * 2


def test_the_wms_refuses_returns_for_orders_it_did_not_ship(warehouse: Warehouse) -> None:
    warehouse.wms.create_outbound(outbound("SO-3", [("SKU-1", 1)]))
    warehouse.wms.create_outbound(outbound("SO-4", [("SKU-1", 1)]))
    warehouse.control("POST", "ship/SO-4")

    refused: dict[str, str] = {}
    for code, request in {
        "not shipped": return_of("RT-3", "SO-3", [("SKU-1", 1)]),
        "unknown": return_of("RT-4", "SO-404", [("SKU-1", 1)]),
        "too many": return_of("RT-5", "SO-4", [("SKU-1", 2)]),
        "other sku": return_of("RT-6", "SO-4", [("SKU-9", 1)]),
    }.items():
        with pytest.raises(Rejected) as caught:
            warehouse.wms.create_return(request)
        refused[code] = caught.value.code

    assert refused == {
        "not shipped": "ORDER_NOT_SHIPPED",
        "unknown": "ORDER_NOT_FOUND",
        "too many": "INVALID_FIELD",
        "other sku": "INVALID_FIELD",
    }
    assert warehouse.emulator.stats()["distinct_returns"] == 0


def test_a_refund_reaches_the_hub_as_a_signed_webhook_parse_refund_reads(
    shopify_sandbox: Start, webhook_receiver: WebhookReceiver
) -> None:
    sandbox = shopify_sandbox()
    ids = sandbox.emulator.seed_product({"skus": ["MUG-1"], "price": "12.50", "stock": 5})
    order = sandbox.emulator.place_order(
        {"lines": [{"sku": "MUG-1", "quantity": 2}, {"title": "Card", "quantity": 1}]}
    )
    mug, card = order["line_items"]
    channel = sandbox.channel()
    try:
        channel.register_webhooks(address=webhook_receiver.url, topics=DEFAULT_TOPICS)
        with sandbox.admin() as admin:
            created = admin.post(
                f"/orders/{order['id']}/refunds.json",
                json={
                    "refund": {
                        "note": "cracked on arrival",
                        "refund_line_items": [
                            {"line_item_id": mug["id"], "quantity": 1, "restock_type": "return"}
                        ],
                        "transactions": [
                            {"kind": "refund", "gateway": "manual", "amount": "12.50"}
                        ],
                    }
                },
            )
            over = admin.post(
                f"/orders/{order['id']}/refunds.json",
                json={
                    "refund": {
                        "refund_line_items": [
                            {"line_item_id": mug["id"], "quantity": 2, "restock_type": "return"}
                        ]
                    }
                },
            )
            listed = admin.get(f"/orders/{order['id']}/refunds.json").json()["refunds"]
        assert sandbox.emulator.wait_for_webhooks()
        [hook] = webhook_receiver.of("refunds/create")
        assert channel.verify_webhook(hook.headers, hook.body)
        assert channel.describe_webhook(hook.headers).topic == "refunds/create"
        refund = channel.parse_refund(httpx.Response(200, content=hook.body).json())
        pulled = channel.api.list_refunds(order["id"])
    finally:
        channel.close()

    assert created.status_code == 201
    assert refund.refund_id == str(created.json()["refund"]["id"])
    assert refund.channel_order_id == str(order["id"])
    assert list(refund.lines) == [(str(mug["id"]), 1)]
    assert (refund.amount, refund.restock, refund.reason) == (
        Decimal("12.50"),
        True,
        "cracked on arrival",
    )
    assert over.status_code == 422
    assert over.json() == {
        "errors": {"refund_line_items.quantity": ["cannot refund more items than were purchased"]}
    }
    assert [r["id"] for r in listed] == [r["id"] for r in pulled] == [int(refund.refund_id)]
    shop_order = sandbox.emulator.order(order["id"])
    assert shop_order["financial_status"] == "partially_refunded"
    assert shop_order["line_items"][0]["current_quantity"] == 1
    assert sandbox.emulator.inventory_by_sku()["MUG-1"] == 5 - 2 + 1
    assert ids["variant_ids"]["MUG-1"] == mug["variant_id"]
    assert card["sku"] is None


def test_a_buyer_refund_of_everything_left_fully_refunds_the_order(
    shopify_sandbox: Start, webhook_receiver: WebhookReceiver
) -> None:
    sandbox = shopify_sandbox()
    sandbox.emulator.seed_product({"skus": ["MUG-1"], "price": "12.50", "stock": 5})
    order = sandbox.emulator.place_order({"lines": [{"sku": "MUG-1", "quantity": 2}]})
    channel = sandbox.channel()
    try:
        channel.register_webhooks(address=webhook_receiver.url, topics=["refunds/create"])
        partial = httpx.post(
            f"{sandbox.url}/_sandbox/orders/{order['id']}/refunds",
            json={"lines": [{"sku": "MUG-1", "quantity": 1}], "restock_type": "no_restock"},
        )
        rest = sandbox.emulator.refund_order(order["id"], note="changed mind")
        assert sandbox.emulator.wait_for_webhooks()
        # Webhooks may arrive in either order: the money-only refund first.
        refunds = sorted(
            (
                channel.parse_refund(httpx.Response(200, content=hook.body).json())
                for hook in webhook_receiver.of("refunds/create")
            ),
            key=lambda r: r.restock,
        )
    finally:
        channel.close()

    assert partial.status_code == 201
    assert [(r.restock, r.amount, list(r.lines)) for r in refunds] == [
        (False, Decimal("12.50"), [(str(order["line_items"][0]["id"]), 1)]),
        (True, Decimal("12.50"), [(str(order["line_items"][0]["id"]), 1)]),
    ]
    assert refunds[1].refund_id == str(rest["id"])
    assert sandbox.emulator.order(order["id"])["financial_status"] == "refunded"
    assert sandbox.emulator.inventory_by_sku()["MUG-1"] == 5 - 2 + 1
