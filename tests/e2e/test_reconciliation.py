"""Payment reconciliation against the Shopify Payments statement, over real HTTP: a fee, a
refund, a missing payment and an amount off by 0.01 are each found, nothing else is
flagged, and a late statement line clears its difference when the day is run again."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx

from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.services.sync import pull_orders
from support import api_call, api_token, bearer, order_status, run_orderhub, wait_until


def test_a_fee_a_refund_a_missing_payment_and_a_cent_off_are_each_found_and_nothing_else(
    make_stack: Callable[..., Stack], database_url: str
) -> None:
    stack = make_stack(ship_delay=0.05)
    shop = stack.shops["SHOP1"]
    placed = [
        shop.place_order({"lines": [{"sku": sku, "quantity": n}]})
        for sku, n in (("SKU-001", 1), ("SKU-002", 2), ("SKU-003", 1), ("SKU-001", 3))
    ]
    _, refunded, missing, off = placed
    for order in placed:
        wait_until(lambda o=order: order_status(stack, o["id"]) == "completed", what="shipped")
    shop.refund_order(refunded["id"], lines=[("SKU-002", 1)], restock_type="no_restock")
    wait_until(
        lambda: any(line["type"] == "refund" for line in shop.statement()), what="the refund line"
    )
    charges = {
        line["source_order_id"]: line for line in shop.statement() if line["type"] == "charge"
    }
    assert all(Decimal(charges[o["id"]]["fee"]) > 0 for o in placed)
    shop.drop_statement_line(charges[missing["id"]]["id"])
    wrong = Decimal(charges[off["id"]]["amount"]) - Decimal("0.01")
    shop.change_statement_line(charges[off["id"]]["id"], amount=str(wrong))

    day = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    result = api_call(
        stack, "POST", "/api/v1/finance/reconciliations", "finance", shop="SHOP1", date=day
    )
    found = {(d["kind"], d["ref"]): d for d in result["listed"]}
    assert set(found) == {
        ("shipped_not_paid", str(missing["id"])),
        ("amount_differs", str(off["id"])),
    }
    assert Decimal(found[("amount_differs", str(off["id"]))]["received"]) == wrong
    statement = shop.statement()
    assert Decimal(result["fees"]) == sum(Decimal(line["fee"]) for line in statement)
    refund = -sum(Decimal(line["amount"]) for line in statement if line["type"] == "refund")
    assert Decimal(result["refunds"]) == refund > 0
    assert result["shipped_orders"] == 4
    assert Decimal(result["received"]) == sum(
        Decimal(line["amount"]) for line in statement if line["type"] == "charge"
    )

    # The missing payment arrives late: the same day again clears it, and only it.
    total = queries.order_view(stack.hub, str(missing["id"])).totals.grand_total
    shop.add_statement_line("charge", str(total), order_id=int(missing["id"]), fee="0.50")
    again = run_orderhub(
        database_url, "finance", "reconcile", "--shop", "SHOP1", "--date", day, "--json"
    )
    assert again.returncode == 0, again.stderr
    rerun = json.loads(again.stdout)
    assert rerun["new_statement_lines"] == 1 and rerun["cleared"] == 1
    states = {(d["kind"], d["ref"]): d["status"] for d in rerun["listed"]}
    assert states == {
        ("shipped_not_paid", str(missing["id"])): "cleared",
        ("amount_differs", str(off["id"])): "open",
    }

    [cent] = [d for d in rerun["listed"] if d["kind"] == "amount_differs"]
    noted = api_call(
        stack,
        "POST",
        f"/api/v1/finance/differences/{cent['id']}",
        "finance",
        note="rounding at Shopify",
        resolve=False,
    )
    assert noted["status"] == "open" and noted["note"] == "rounding at Shopify"
    settled = api_call(
        stack,
        "POST",
        f"/api/v1/finance/differences/{cent['id']}",
        "finance",
        note="written off, 0.01",
    )
    assert settled["status"] == "resolved" and settled["resolved_by"].startswith("finance")
    viewer = httpx.get(
        f"{stack.api.url}/api/v1/finance/differences",
        headers=bearer(api_token(stack.hub, "viewer")),
    )
    assert viewer.status_code == 403


def test_a_taobao_day_is_reconciled_against_its_bill_commissions_as_fees(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(shops=0, marketplaces=("taobao",), ship_delay=0.05)
    shop = stack.marketplaces["TB1"]
    placed = [
        shop.place_order({"lines": [{"sku": sku, "quantity": n}]})
        for sku, n in (("SKU-001", 1), ("SKU-002", 2), ("SKU-003", 1))
    ]
    settled, short, unpaid = placed
    pull_orders(stack.hub, "TB1")
    for tid in placed:
        wait_until(
            lambda t=tid: shop.orders()[t]["status"] == "WAIT_BUYER_CONFIRM_GOODS",
            what="tracking on Taobao",
        )
    paid = {tid: Decimal(shop.orders()[tid]["payment"]) for tid in placed}
    shop.settle(settled, commission_rate="0.05")
    shop.settle(short, commission_rate="0.05", paid=paid[short] - Decimal("0.01"))
    shop.add_bill(settled, "-5.00")  # an after-sale refund, after the buyer confirmed
    stranger = shop.add_bill("1234567", "12.00")

    day = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    result = api_call(
        stack, "POST", "/api/v1/finance/reconciliations", "finance", shop="TB1", date=day
    )
    found = {(d["kind"], d["ref"]) for d in result["listed"]}
    assert found == {
        ("shipped_not_paid", unpaid),
        ("amount_differs", short),
        ("unknown_payment", str(stranger["bid"])),
    }
    bills = shop.bills()
    commissions = -sum(Decimal(b["amount"]) for b in bills if b["account_id"] == 10002) / 100
    assert Decimal(result["fees"]) == commissions > 0
    assert Decimal(result["refunds"]) == Decimal("5.00")
    assert Decimal(result["received"]) == paid[settled] + paid[short] - Decimal("0.01") + 12
    assert result["shipped_orders"] == 3
