"""Reports against figures worked out here from the same orders: what was placed on the
shop, what the warehouse shipped, what was cancelled and what was refunded."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import openpyxl

from orderhub.demo_stack import Stack
from orderhub.services import queries
from support import api_token, bearer, order_status, wait_until

SPECS = [
    [("SKU-001", 1)],
    [("SKU-001", 2), ("SKU-002", 1)],
    [("SKU-002", 3)],
    [("SKU-003", 1), ("SKU-001", 1)],
    [("SKU-003", 2)],
    [("SKU-002", 1)],
    [("SKU-001", 4)],
]
CANCELLED = {2, 5}  # refunded before they ship: cancelled
REFUNDED = {1}  # one unit of SKU-001 taken back after shipping
PRICE = Decimal("19.90")


def report(stack: Stack, name: str, role: str = "finance", **params: Any) -> Any:
    answer = httpx.get(
        f"{stack.api.url}/api/v1/reports/{name}",
        params=params,
        headers=bearer(api_token(stack.hub, role)),
    )
    assert answer.status_code == 200, answer.text
    return answer


def test_sales_fulfilment_and_stock_reports_match_the_orders(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(ship_delay=3600, skus=4)
    shop = stack.shops["SHOP1"]
    placed = [
        shop.place_order({"lines": [{"sku": s, "quantity": q} for s, q in spec]}) for spec in SPECS
    ]
    for order in placed:
        wait_until(
            lambda o=order: order_status(stack, o["id"]) == "pushed", what="at the warehouse"
        )
    for n in sorted(CANCELLED):
        shop.refund_order(placed[n]["id"], restock_type="cancel", note="changed my mind")
    for n in range(len(SPECS)):
        if n not in CANCELLED:
            code = queries.order_view(stack.hub, str(placed[n]["id"])).id
            stack.qimen.ship_now(code)
    for n, order in enumerate(placed):
        wanted = "cancelled" if n in CANCELLED else "completed"
        wait_until(lambda o=order, w=wanted: order_status(stack, o["id"]) == w, what=wanted)
    for n in sorted(REFUNDED):
        shop.refund_order(placed[n]["id"], lines=[("SKU-001", 1)], restock_type="no_restock")
    refunds = {
        n: sum(
            Decimal(str(t["amount"]))
            for r in shop.refunds_of(placed[n]["id"])
            for t in r.get("transactions", [])
        )
        for n in REFUNDED
    }
    assert all(amount > 0 for amount in refunds.values())
    wait_until(
        lambda: (
            sum(Decimal(r["refunds"]) for r in report(stack, "sales").json()["rows"])
            == sum(refunds.values())
        ),
        what="the refund counted",
    )

    # What the figures must be, worked out from the orders as placed.
    zone = ZoneInfo("Asia/Shanghai")
    days = {datetime.fromisoformat(o["created_at"]).astimezone(zone).date() for o in placed}
    [day] = days
    units = {sku: 0 for sku in ("SKU-001", "SKU-002", "SKU-003")}
    cancelled_units = dict.fromkeys(units, 0)
    for n, spec in enumerate(SPECS):
        for sku, quantity in spec:
            units[sku] += quantity
            if n in CANCELLED:
                cancelled_units[sku] += quantity
    revenue = sum(units.values()) * PRICE
    cancelled_revenue = sum(cancelled_units.values()) * PRICE

    sales = report(stack, "sales", by=["day", "shop"]).json()
    [row] = sales["rows"]
    assert row["day"] == day.isoformat() and row["shop"] == "SHOP1"
    assert row["orders"] == len(SPECS)
    assert row["units"] == sum(units.values())
    assert Decimal(row["revenue"]) == revenue
    assert row["cancelled_units"] == sum(cancelled_units.values())
    assert Decimal(row["cancelled_revenue"]) == cancelled_revenue
    assert Decimal(row["refunds"]) == sum(refunds.values())
    assert Decimal(row["net"]) == revenue - cancelled_revenue - sum(refunds.values())

    by_sku = {r["sku"]: r for r in report(stack, "sales", by="sku").json()["rows"]}
    assert {sku: r["units"] for sku, r in by_sku.items()} == units
    assert {sku: r["cancelled_units"] for sku, r in by_sku.items()} == cancelled_units
    assert {r["node"] for r in report(stack, "sales", by="node").json()["rows"]} == {"WH1"}

    fulfilment = report(stack, "fulfilment", by="shop").json()["rows"]
    [shipped] = fulfilment
    assert shipped["shipped"] == len(SPECS) - len(CANCELLED)
    assert shipped["cancelled"] == len(CANCELLED)
    assert shipped["shipped_late"] == 0
    assert shipped["to_ship_p50_h"] is not None and shipped["to_node_p95_h"] is not None

    stock = {r["sku"]: r for r in report(stack, "stock", days=7).json()["rows"]}
    for sku, count in units.items():
        assert stock[sku]["sold"] == count - cancelled_units[sku]
        assert stock[sku]["dead"] is False
    assert stock["SKU-004"]["sold"] == 0 and stock["SKU-004"]["dead"] is True

    # The same report as CSV and as Excel.
    text = report(stack, "sales", by="sku", format="csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["sku"]: int(r["units"]) for r in rows} == units
    book = openpyxl.load_workbook(
        io.BytesIO(report(stack, "sales", by="sku", format="xlsx").content)
    )
    sheet = book.active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    found = {
        r[0]: r[header.index("units")]
        for r in sheet.iter_rows(min_row=2, values_only=True)
        if r[0] in units
    }
    assert found == units


def test_a_person_limited_to_one_shop_reports_only_on_that_shop(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(shops=2, ship_delay=3600)
    for code in ("SHOP1", "SHOP2"):
        placed = stack.shops[code].place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
        wait_until(lambda p=placed: order_status(stack, p["id"]) == "pushed", what="pushed")
    token = api_token(stack.hub, "owner", shops=("SHOP2",))
    answer = httpx.get(
        f"{stack.api.url}/api/v1/reports/sales",
        params={"by": "shop"},
        headers=bearer(token),
    )
    assert [r["shop"] for r in answer.json()["rows"]] == ["SHOP2"]
    wrong = httpx.get(
        f"{stack.api.url}/api/v1/reports/sales",
        params={"by": "colour"},
        headers=bearer(token),
    )
    assert wrong.status_code in (400, 422) and "by" in wrong.text
