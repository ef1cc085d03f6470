"""Booking into 金蝶云星辰 from the running hub: a sale and its shipment reach the tenant
once each, the shipment with the parcel's tracking number, and the order's page says so."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from orderhub.config import ErpConfig
from orderhub.demo_stack import Stack
from orderhub.domain.errors import NotFound
from orderhub.sandbox.jdy import JdyEmulator
from orderhub.sandbox.server import serve_in_thread
from orderhub.services import queries
from orderhub.services.setup import erp_record
from support import api_token, bearer, wait_until


def order_of(stack: Stack, placed: dict[str, Any]) -> Any:
    return queries.order_view(stack.hub, queries.find_order_id(stack.hub, str(placed["id"])))


def status_of(stack: Stack, placed: dict[str, Any]) -> str | None:
    try:
        return str(order_of(stack, placed).status)
    except NotFound:
        return None


def test_a_sale_and_its_shipment_are_booked_into_jdy_once_each(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    tenant = JdyEmulator()
    tenant.seed(materials=stack.sku_codes, customers=["SHOP1"], stocks=["CK001"])
    server = serve_in_thread(tenant.app)
    try:
        c = tenant.credentials
        erp = ErpConfig(
            platform="jdy",
            name="金蝶云星辰",
            settings={
                "base_url": server.url,
                "domain": c["domain"],
                "client_id": c["client_id"],
                "app_key": c["app_key"],
                "stocks": {"WH1": "CK001"},
                "book": ["sale_order", "outbound"],
            },
            secrets={"client_secret": c["client_secret"], "app_secret": c["app_secret"]},
        )
        with stack.hub.uow() as uow:
            uow.books.put_erp(erp_record(erp))
            uow.commit()
        shop = stack.shops["SHOP1"]
        placed = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 2, "price": "19.90"}]})
        wait_until(lambda: status_of(stack, placed) == "completed", what="the order to complete")
        wait_until(
            lambda: len(tenant.bills("sal_out_bound")) == 1,
            what=lambda: f"the outbound booked: {tenant.stats()} {order_of(stack, placed).trace}",
        )
        order = order_of(stack, placed)
        [sale] = tenant.bills("sal_order")
        assert sale["bill_no"] == order.id and sale["customer_number"] == "SHOP1"
        [line] = sale["material_entity"]
        assert (line["material_number"], line["qty"], line["tax_price"]) == ("SKU-001", 2, 19.9)
        assert line["stock_number"] == "CK001"
        [outbound] = tenant.bills("sal_out_bound")
        assert outbound["logistics_number"] == order.fulfillments[0].tracking_no
        assert outbound["src_bill_no"] == sale["bill_no"]
        expected = [
            ("sale_order", sale["bill_no"], "booked"),
            ("outbound", outbound["bill_no"], "booked"),
        ]

        viewer = bearer(api_token(stack.hub, "viewer"))

        def books() -> list[tuple[str, str, str]]:
            answer = httpx.get(
                f"{stack.api.url}/api/v1/orders/{order.id}/books",
                headers=viewer,
            ).json()
            return [(b["kind"], b["bill_no"], b["status"]) for b in answer]

        # The tenant holds the bill a moment before the hub records the booking.
        wait_until(lambda: books() == expected, what=lambda: f"the order's books: {books()}")
        assert len(tenant.bills("sal_order")) == 1
    finally:
        server.stop()
