"""Keeping the hub's stock true, on SQLite and PostgreSQL: stocktakes from CSV and Excel,
adjustments, replenishment from sales, low-stock alerts and held orders coming back.

The shop and the warehouses point at closed ports: these tests run only the jobs that
stay inside the database (order processing and re-routing) and look at what is queued.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, update

from orderhub.config import HubConfig, ListingConfig, NodeConfig, ShopConfig, SkuConfig, StockConfig
from orderhub.domain.errors import OrderhubError
from orderhub.domain.order import Order
from orderhub.jobs.worker import Worker
from orderhub.sandbox.shopify import ShopifyEmulator
from orderhub.services.hub import Hub
from orderhub.services.ingest import JOB_INBOX, receive_payload
from orderhub.services.inventory import (
    Difference,
    adjust_stock,
    apply_stocktake,
    read_counts,
    replenishment,
    stocktake_preview,
)
from orderhub.services.pipeline import JOB_NODE_PUSH, JOB_REROUTE, JOB_STOCK_PUSH
from orderhub.services.setup import apply_config
from orderhub.store import tables as t

Json = dict[str, Any]

SKUS = ("SKU-1", "SKU-2", "SKU-3")
NOWHERE = "http://127.0.0.1:9"


def configure(hub: Hub, stock: dict[tuple[str, str], int], *, low_at: int | None = None) -> None:
    """Shop S1 served by WH1 (WH2 exists but serves no shop); SKU-3 is low at `low_at`."""
    apply_config(
        hub,
        HubConfig(
            shops=[
                ShopConfig(
                    code="S1",
                    platform="shopify",
                    nodes=["WH1"],
                    settings={"base_url": NOWHERE, "shop_domain": "s1.myshopify.com"},
                    secrets={"access_token": "t", "webhook_secret": "s"},
                )
            ],
            nodes=[
                NodeConfig(
                    code=code,
                    platform="qimen",
                    settings={
                        "base_url": f"{NOWHERE}/router",
                        "app_key": "k",
                        "customer_id": "c",
                        "owner_code": "c",
                        "warehouse_code": code,
                    },
                    secrets={"app_secret": "x"},
                )
                for code in ("WH1", "WH2")
            ],
            skus=[
                SkuConfig(
                    sku=sku, title=sku, low_stock_threshold=low_at if sku == "SKU-3" else None
                )
                for sku in SKUS
            ],
            listings=[ListingConfig(shop="S1", channel_sku=sku, sku=sku) for sku in SKUS],
            stock=[StockConfig(node=n, sku=s, on_hand=q) for (n, s), q in stock.items()],
        ),
    )


def on_hand(hub: Hub) -> dict[tuple[str, str], tuple[int, int]]:
    """(node, sku) → (on hand, reserved)."""
    with hub.uow() as uow:
        return {(x.node, x.sku): (x.on_hand, x.reserved) for x in uow.stock.levels()}


def ledger(hub: Hub, sku: str) -> list[tuple[str, str, int, int, str]]:
    """Every ledger row of a SKU, oldest first: (node, kind, on hand Δ, reserved Δ, reason)."""
    c = t.stock_ledger.c
    with hub.db.engine.connect() as conn:
        rows = conn.execute(
            select(c.node, c.kind, c.on_hand_delta, c.reserved_delta, c.reason)
            .where(c.tenant == hub.db.tenant, c.sku == sku)
            .order_by(c.id)
        ).all()
    return [(r.node, r.kind, r.on_hand_delta, r.reserved_delta, r.reason) for r in rows]


def jobs(hub: Hub, kind: str) -> list[tuple[str, Json, str | None]]:
    """(idempotency key, payload, order id) of every job of a kind."""
    c = t.outbox_jobs.c
    with hub.db.engine.connect() as conn:
        rows = conn.execute(
            select(c.idempotency_key, c.payload, c.order_id)
            .where(c.tenant == hub.db.tenant, c.kind == kind)
            .order_by(c.id)
        ).all()
    return [(key, json.loads(payload), order_id) for key, payload, order_id in rows]


def job_count(hub: Hub) -> int:
    with hub.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.outbox_jobs)).scalar_one())


def mismatches(hub: Hub) -> list[tuple[str, str, int, int, int, int]]:
    with hub.uow() as uow:
        return uow.stock.ledger_mismatches()


def ship(hub: Hub, node: str, sku: str, quantity: int, *, order_id: str) -> None:
    """An order reserves and ships `quantity` units: a shipment row in the ledger."""
    with hub.uow() as uow:
        assert uow.stock.reserve(node, sku, quantity, order_id=order_id)
        uow.stock.consume(order_id, {sku: quantity}, node=node)
        uow.commit()


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


# stocktakes


def test_a_stocktake_preview_shows_every_difference_and_changes_nothing(hub: Hub) -> None:
    configure(hub, {("WH1", "SKU-1"): 10, ("WH1", "SKU-2"): 10})
    before, jobs_before = on_hand(hub), job_count(hub)

    differences = stocktake_preview(hub, "WH1", {"SKU-1": 7, "SKU-2": 10, "SKU-3": 4})

    assert differences == [
        Difference("WH1", "SKU-1", hub=10, counted=7),
        Difference("WH1", "SKU-3", hub=0, counted=4),
    ]
    assert [d.delta for d in differences] == [-3, 4]
    assert on_hand(hub) == before
    assert ledger(hub, "SKU-1") == [("WH1", "stocktake", 10, 0, "opening stock from configuration")]
    assert ledger(hub, "SKU-3") == []
    assert job_count(hub) == jobs_before


def test_applying_a_stocktake_writes_stocktake_rows_and_levels_equal_the_ledger(
    hub: Hub,
) -> None:
    configure(hub, {("WH1", "SKU-1"): 10, ("WH1", "SKU-2"): 10, ("WH2", "SKU-1"): 6})
    with hub.uow() as uow:
        assert uow.stock.reserve("WH1", "SKU-1", 3, order_id="o-1")
        uow.commit()

    applied = apply_stocktake(
        hub, "WH1", {"SKU-1": 8, "SKU-2": 10, "SKU-3": 4}, reason="stocktake 2026-11"
    )

    assert [(d.sku, d.hub, d.counted) for d in applied] == [("SKU-1", 10, 8), ("SKU-3", 0, 4)]
    levels = on_hand(hub)
    # The count sets on-hand; reservations stand; the other warehouse is not touched.
    assert levels[("WH1", "SKU-1")] == (8, 3)
    assert levels[("WH1", "SKU-2")] == (10, 0)
    assert levels[("WH1", "SKU-3")] == (4, 0)
    assert levels[("WH2", "SKU-1")] == (6, 0)
    assert ledger(hub, "SKU-1")[-1] == ("WH1", "stocktake", -2, 0, "stocktake 2026-11")
    assert ledger(hub, "SKU-3") == [("WH1", "stocktake", 4, 0, "stocktake 2026-11")]
    assert [r for r in ledger(hub, "SKU-2") if r[4] == "stocktake 2026-11"] == []
    assert mismatches(hub) == []
    # The shops are told about both changes; only the SKU that grew wakes waiting orders.
    assert {p["sku"] for _, p, _ in jobs(hub, JOB_STOCK_PUSH)} >= {"SKU-1", "SKU-3"}
    assert [p["sku"] for _, p, _ in jobs(hub, JOB_REROUTE)] == ["SKU-3"]


def test_counts_are_read_alike_from_csv_and_excel(tmp_path: Path) -> None:
    csv_file = write_csv(
        tmp_path / "counts.csv",
        "\ufeffSKU,Location,Quantity\n SKU-1 ,A-01,12\nSKU-2,A-02,0\n,,\nSKU-3,B-07,5.0\n",
    )
    xlsx_file = write_xlsx(
        tmp_path / "counts.xlsx",
        [
            ["sku", "location", "counted"],
            ["SKU-1", "A-01", 12],
            ["SKU-2", "A-02", 0],
            [None, None],
            ["SKU-3", "B-07", 5.0],
        ],
    )

    assert read_counts(csv_file) == {"SKU-1": 12, "SKU-2": 0, "SKU-3": 5}
    assert read_counts(xlsx_file) == read_counts(csv_file)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("sku,quantity\nSKU-1,4\n,7\n", ["row 3", "no SKU"]),
        ("sku,quantity\nSKU-1,4\nSKU-2,ten\n", ["row 3", "'ten'", "not a quantity"]),
        ("sku,quantity\nSKU-1,-2\n", ["row 2", "'-2'", "not a whole count"]),
        ("sku,quantity\nSKU-1,2.5\n", ["row 2", "'2.5'", "not a whole count"]),
        ("sku,quantity\nSKU-1,4\nSKU-2,1\nSKU-1,3\n", ["row 4", "SKU-1", "counted twice"]),
        ("SKU-1,4\nSKU-2,1\n", ["first row", "sku and quantity"]),
        ("sku,location\nSKU-1,A-01\n", ["first row", "sku and quantity"]),
        ("sku,quantity\nSKU-1,inf\n", ["row 2", "'inf'"]),
        ("", ["empty"]),
    ],
    ids=[
        "missing-sku",
        "not-a-number",
        "negative",
        "fraction",
        "duplicate",
        "no-header",
        "no-quantity-column",
        "infinite",
        "empty",
    ],
)
def test_a_bad_stocktake_file_is_refused_in_one_sentence_naming_the_row(
    tmp_path: Path, text: str, words: list[str]
) -> None:
    path = write_csv(tmp_path / "bad.csv", text)

    with pytest.raises(OrderhubError) as caught:
        read_counts(path)

    message = str(caught.value)
    assert "\n" not in message and "bad.csv" in message
    for word in words:
        assert word in message


def test_a_bad_excel_stocktake_names_the_row_too(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "bad.xlsx", [["sku", "quantity"], ["SKU-1", 3], ["SKU-2", "lots"]])

    with pytest.raises(OrderhubError, match=r"bad\.xlsx: row 3: 'lots' is not a quantity"):
        read_counts(path)


def test_a_gbk_csv_is_read_and_a_renamed_or_binary_file_is_refused_in_one_sentence(
    tmp_path: Path,
) -> None:
    gbk = tmp_path / "counts.csv"
    gbk.write_bytes("sku,品名,quantity\nSKU-1,马克杯,4\n".encode("gbk"))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"sku,quantity\nSKU-1,\x80\xff\n")
    fake = write_csv(tmp_path / "counts.xlsx", "sku,quantity\nSKU-1,4\n")

    assert read_counts(gbk) == {"SKU-1": 4}  # Excel on a Chinese Windows saves CSV so
    with pytest.raises(OrderhubError) as not_text:
        read_counts(binary)
    with pytest.raises(OrderhubError) as not_excel:
        read_counts(fake)

    assert str(not_text.value) == (
        f"{binary} is neither UTF-8 nor GBK text; save it as CSV or an Excel workbook"
    )
    assert str(not_excel.value) == f"{fake} is not an Excel workbook"


# adjustments


def test_an_adjustment_is_written_to_the_ledger_with_its_reason(hub: Hub) -> None:
    configure(hub, {("WH1", "SKU-1"): 10})

    adjust_stock(hub, "WH1", "SKU-1", -4, reason="broken in the warehouse")
    adjust_stock(hub, "WH1", "SKU-2", 6, reason="found in returns")

    assert on_hand(hub)[("WH1", "SKU-1")] == (6, 0)
    assert on_hand(hub)[("WH1", "SKU-2")] == (6, 0)
    assert ledger(hub, "SKU-1")[-1] == ("WH1", "adjustment", -4, 0, "broken in the warehouse")
    assert ledger(hub, "SKU-2") == [("WH1", "adjustment", 6, 0, "found in returns")]
    assert mismatches(hub) == []


def test_an_adjustment_without_reason_or_below_zero_is_refused_and_changes_nothing(
    hub: Hub,
) -> None:
    configure(hub, {("WH1", "SKU-1"): 10})
    before, jobs_before = on_hand(hub), job_count(hub)
    refusals = []

    for sku, delta, reason in [
        ("SKU-1", 5, ""),
        ("SKU-1", 5, "   "),
        ("SKU-1", -11, "write-off"),
        ("SKU-2", -1, "write-off"),
    ]:
        with pytest.raises(OrderhubError) as caught:
            adjust_stock(hub, "WH1", sku, delta, reason=reason)
        refusals.append(str(caught.value))

    assert refusals == [
        "an adjustment needs a reason",
        "an adjustment needs a reason",
        "SKU-1 at WH1 would go below zero on hand",
        "SKU-2 at WH1 would go below zero on hand",
    ]
    assert on_hand(hub) == before
    assert len(ledger(hub, "SKU-1")) == 1 and ledger(hub, "SKU-2") == []
    assert job_count(hub) == jobs_before


# replenishment and low-stock alerts


def test_replenishment_counts_daily_sales_from_shipments_days_of_cover_and_what_to_order(
    hub: Hub,
) -> None:
    configure(hub, {("WH1", "SKU-1"): 40, ("WH1", "SKU-2"): 30, ("WH1", "SKU-3"): 9}, low_at=5)
    ship(hub, "WH1", "SKU-1", 28, order_id="o-1")  # 2 a day over 14 days, 12 left
    ship(hub, "WH1", "SKU-2", 20, order_id="o-2")
    ship(hub, "WH1", "SKU-2", 8, order_id="o-3")  # 2 a day, 2 left: one day of cover
    ship(hub, "WH1", "SKU-3", 4, order_id="o-4")
    # A sale from a month ago is outside the 14 days of history.
    c = t.stock_ledger.c
    with hub.db.engine.begin() as conn:
        conn.execute(
            update(t.stock_ledger)
            .where(c.order_id == "o-4", c.kind == "shipment")
            .values(at=datetime.now(UTC) - timedelta(days=30))
        )
    with hub.uow() as uow:
        assert uow.stock.reserve("WH1", "SKU-1", 2, order_id="o-5")  # 10 available
        uow.commit()

    rows = {(r.node, r.sku): r for r in replenishment(hub)}

    one = rows[("WH1", "SKU-1")]
    assert (one.available, one.daily_sales, one.days_of_cover) == (10, 2.0, 5.0)
    assert (one.suggested, one.low) == (2 * (7 + 14) - 10, False)
    two = rows[("WH1", "SKU-2")]
    assert (two.available, two.daily_sales, two.days_of_cover) == (2, 2.0, 1.0)
    assert (two.suggested, two.low) == (40, True)
    three = rows[("WH1", "SKU-3")]
    assert (three.available, three.daily_sales, three.days_of_cover) == (5, 0.0, None)
    assert (three.suggested, three.low) == (0, True)  # at its threshold of 5
    shorter = {(r.node, r.sku): r.suggested for r in replenishment(hub, lead_days=2, cover_days=5)}
    assert shorter[("WH1", "SKU-1")] == 2 * 7 - 10


@pytest.fixture(scope="module")
def shopify() -> Iterator[ShopifyEmulator]:
    """A shop to write Shopify-shaped order payloads; nothing is served."""
    shop = ShopifyEmulator(seed=5)
    shop.seed_product({"skus": list(SKUS), "price": "19.90", "stock": 50})
    yield shop
    shop.close()


def shopify_order(shop: ShopifyEmulator, sku: str, quantity: int, *, placed: datetime) -> Json:
    payload = shop.place_order({"lines": [{"sku": sku, "quantity": quantity}]})
    stamp = placed.isoformat().replace("+00:00", "Z")
    return {**payload, "created_at": stamp, "processed_at": stamp}


def run_database_jobs(hub: Hub) -> int:
    """Process orders and re-route held ones; the calls out stay queued."""
    return Worker(hub, threads=1, kinds=[JOB_INBOX, JOB_REROUTE]).run_until_idle()


def hub_order(hub: Hub, payload: Json) -> Order:
    with hub.uow() as uow:
        order = uow.orders.by_channel_ref("S1", str(payload["id"]))
    assert order is not None, f"order {payload['id']} is not in the hub"
    return order


def status_and_open_exceptions(hub: Hub, payload: Json) -> tuple[str, list[str]]:
    order = hub_order(hub, payload)
    with hub.uow() as uow:
        problems = [e.code for e in uow.orders.exceptions_of(order.id) if not e.resolved]
    return order.status.value, problems


def test_stock_from_a_stocktake_releases_held_orders_oldest_first_as_far_as_it_goes(
    hub: Hub, shopify: ShopifyEmulator
) -> None:
    configure(hub, {("WH1", "SKU-1"): 0, ("WH1", "SKU-2"): 0})
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    # Placed in the order first, second, third; they reach the hub third, first, second.
    first, second, third = (
        shopify_order(shopify, "SKU-1", 2, placed=start + timedelta(minutes=m)) for m in (0, 5, 9)
    )
    other = shopify_order(shopify, "SKU-2", 1, placed=start - timedelta(hours=1))
    for payload in (third, first, other, second):
        assert receive_payload(hub, "S1", payload, source="import").new
    run_database_jobs(hub)
    for payload in (first, second, third, other):
        assert status_and_open_exceptions(hub, payload) == ("held", ["out_of_stock"])

    apply_stocktake(hub, "WH1", {"SKU-1": 5}, reason="stocktake after delivery")
    run_database_jobs(hub)

    # 5 units cover the two oldest orders of 2; the third still waits for one more unit.
    assert status_and_open_exceptions(hub, first) == ("reserved", [])
    assert status_and_open_exceptions(hub, second) == ("reserved", [])
    assert status_and_open_exceptions(hub, third) == ("held", ["out_of_stock"])
    assert status_and_open_exceptions(hub, other) == ("held", ["out_of_stock"])
    assert on_hand(hub)[("WH1", "SKU-1")] == (5, 4)
    pushed = {order_id for _, _, order_id in jobs(hub, JOB_NODE_PUSH)}
    assert pushed == {hub_order(hub, first).id, hub_order(hub, second).id}
    assert mismatches(hub) == []
