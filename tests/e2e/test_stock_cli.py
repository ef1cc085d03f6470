"""`orderhub stock ...` as an operator runs it: a real process on a SQLite file that the
hub's services (or a running stack) share with the test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import select, text

from orderhub.config import HubConfig, ListingConfig, NodeConfig, ShopConfig, SkuConfig, StockConfig
from orderhub.demo_stack import Stack
from orderhub.services.hub import Hub
from orderhub.services.inventory import read_counts, stocktake_preview
from orderhub.services.setup import apply_config
from orderhub.store import tables as t
from orderhub.store.db import make_engine, upgrade_schema
from support import TEST_KEYS, wait_until

Json = dict[str, Any]
Result = subprocess.CompletedProcess[str]
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A migrated SQLite file the commands and the test share."""
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    engine = make_engine(url)
    upgrade_schema(engine)
    engine.dispose()
    return url


@pytest.fixture
def seeded(hub: Hub) -> Hub:
    """Shop S1 (safety stock 2, shows half) served by WH1: 20 × SKU-001, 10 × SKU-002,
    none of SKU-003. The shop and the warehouse are never called."""
    apply_config(
        hub,
        HubConfig(
            shops=[
                ShopConfig(
                    code="S1",
                    platform="shopify",
                    nodes=["WH1"],
                    safety_stock=2,
                    sync_ratio=Decimal("0.5"),
                    settings={"base_url": NOWHERE, "shop_domain": "s1.myshopify.com"},
                    secrets={"access_token": "t", "webhook_secret": "s"},
                )
            ],
            nodes=[
                NodeConfig(
                    code="WH1",
                    platform="qimen",
                    settings={
                        "base_url": f"{NOWHERE}/router",
                        "app_key": "k",
                        "customer_id": "c",
                        "owner_code": "c",
                        "warehouse_code": "WH1",
                    },
                    secrets={"app_secret": "x"},
                )
            ],
            skus=[SkuConfig(sku=f"SKU-00{i}", title=f"Item {i}") for i in (1, 2, 3)],
            listings=[
                ListingConfig(shop="S1", channel_sku=f"S1-00{i}", sku=f"SKU-00{i}")
                for i in (1, 2, 3)
            ],
            stock=[
                StockConfig(node="WH1", sku="SKU-001", on_hand=20),
                StockConfig(node="WH1", sku="SKU-002", on_hand=10),
            ],
        ),
    )
    return hub


def start(database_url: str, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}
    env.update(
        ORDERHUB_DATABASE_URL=database_url,
        ORDERHUB_ENCRYPTION_KEYS=TEST_KEYS,
        ORDERHUB_LOG_LEVEL="warning",
    )
    return subprocess.Popen(
        [sys.executable, "-c", "from orderhub.cli import main; main()", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait(process: subprocess.Popen[str]) -> Result:
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def orderhub(database_url: str, *args: str) -> Result:
    return wait(start(database_url, *args))


def together(database_url: str, *commands: list[str]) -> list[Result]:
    """Commands that only read, started at once (each start-up takes about a second)."""
    return [wait(p) for p in [start(database_url, *args) for args in commands]]


def ok(result: Result) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout


def refused(result: Result) -> str:
    """The one line a refused command printed; exit code 2 and no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.stdout, result.stderr)
    [line] = result.stderr.strip().splitlines()
    return line


def on_hand(hub: Hub) -> dict[str, tuple[int, int]]:
    with hub.uow() as uow:
        return {x.sku: (x.on_hand, x.reserved) for x in uow.stock.levels(nodes=["WH1"])}


def ledger(hub: Hub, sku: str) -> list[tuple[str, int, str]]:
    c = t.stock_ledger.c
    with hub.db.engine.connect() as conn:
        rows = conn.execute(
            select(c.kind, c.on_hand_delta, c.reason).where(c.sku == sku).order_by(c.id)
        ).all()
    return [(kind, delta, reason) for kind, delta, reason in rows]


# show


def test_stock_show_lists_levels_and_what_every_listing_shows_with_the_steps_behind_it(
    seeded: Hub, database_url: str
) -> None:
    shown, table = together(database_url, ["stock", "show", "--json"], ["stock", "show"])

    view = json.loads(ok(shown))
    assert [
        (x["node"], x["sku"], x["on_hand"], x["reserved"], x["available"]) for x in view["levels"]
    ] == [("WH1", "SKU-001", 20, 0, 20), ("WH1", "SKU-002", 10, 0, 10)]
    listings = {x["channel_sku"]: x for x in view["listings"]}
    # (on hand − reserved − safety 2) × 0.5, rounded down; nothing in stock shows 0.
    assert {k: x["available_to_sell"] for k, x in listings.items()} == {
        "S1-001": 9,
        "S1-002": 4,
        "S1-003": 0,
    }
    assert [(s["step"], s["value"]) for s in listings["S1-001"]["steps"]][:2] == [
        ("SKU-001: 20 on hand − 0 reserved", 20),
        ("SKU-001: less safety stock 2 at each node", 18),
    ]
    assert listings["S1-001"]["steps"][-1]["value"] == 9
    lines = ok(table).splitlines()
    assert any("SKU-001" in line and "20" in line for line in lines)
    assert any("S1-001" in line and " 9 " in line for line in lines)


def test_reconcile_reports_then_corrects_and_the_shop_shows_the_warehouse_count(
    make_stack: Callable[..., Stack], database_url: str
) -> None:
    stack = make_stack(stock=100)
    stack.qimen.set_stock({"SKU-001": 90})

    reported = ok(orderhub(database_url, "stock", "reconcile", "WH1"))
    with stack.hub.uow() as uow:
        level = uow.stock.level("WH1", "SKU-001")
    assert level is not None and level.on_hand == 100
    corrected = ok(orderhub(database_url, "stock", "reconcile", "WH1", "--apply"))

    assert reported.splitlines() == ["SKU-001: hub 100, warehouse 90 (-10)", "1 difference(s)"]
    assert corrected.splitlines()[-1] == "1 difference(s) corrected"
    wait_until(
        lambda: stack.shops["SHOP1"].inventory_by_sku().get("SKU-001") == 90,
        what="the shop to list the warehouse's count",
    )
    wait_until(stack.settled, what="the hub to settle")
    view = json.loads(ok(orderhub(database_url, "stock", "show", "--json", "--sku", "SKU-001")))
    assert [(x["on_hand"], x["available"]) for x in view["levels"]] == [(90, 90)]
    [listing] = view["listings"]
    assert (listing["available_to_sell"], listing["last_pushed"]) == (90, 90)


# adjust and verify


def test_an_adjustment_by_hand_changes_on_hand_and_verify_still_proves_every_level(
    seeded: Hub, database_url: str
) -> None:
    added = orderhub(
        database_url, "stock", "adjust", "WH1", "SKU-001", "5", "--reason", "found in returns"
    )
    removed, verified, too_many = together(
        database_url,
        ["stock", "adjust", "WH1", "SKU-002", "-3", "--reason", "broken in transit"],
        ["stock", "verify"],
        ["stock", "adjust", "WH1", "SKU-001", "-26", "--reason", "write-off"],
    )

    assert ok(added).strip() == "SKU-001 at WH1: +5 (found in returns)"
    assert ok(removed).strip() == "SKU-002 at WH1: -3 (broken in transit)"
    assert ok(verified).strip() == "every stock level equals its ledger"
    assert refused(too_many) == "orderhub: SKU-001 at WH1 would go below zero on hand"
    assert on_hand(seeded) == {"SKU-001": (25, 0), "SKU-002": (7, 0)}
    assert ledger(seeded, "SKU-001")[-1] == ("adjustment", 5, "found in returns")
    assert ledger(seeded, "SKU-002")[-1] == ("adjustment", -3, "broken in transit")


def test_a_level_changed_behind_the_ledgers_back_fails_verify_naming_the_sku(
    seeded: Hub, database_url: str
) -> None:
    with seeded.db.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE stock_levels SET on_hand = on_hand + 3 "
                "WHERE node = 'WH1' AND sku = 'SKU-002'"
            )
        )

    result = orderhub(database_url, "stock", "verify")

    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "SKU-002 at WH1: on hand 13 vs ledger 10, reserved 0 vs ledger 0"
    ]
    assert "every stock level equals its ledger" not in result.stdout


# stocktake import


def test_a_stocktake_file_is_previewed_without_change_and_applied_with_apply(
    seeded: Hub, database_url: str, tmp_path: Path
) -> None:
    counts = tmp_path / "counts.csv"
    counts.write_text("sku,quantity\nSKU-001,18\nSKU-002,10\nSKU-003,7\n", encoding="utf-8")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (["SKU", "Counted"], ["SKU-001", 18], ["SKU-002", 10], ["SKU-003", 7]):
        sheet.append(row)
    book.save(tmp_path / "counts.xlsx")

    preview, excel = together(
        database_url,
        ["stock", "import", str(counts), "--node", "WH1", "--json"],
        ["stock", "import", str(tmp_path / "counts.xlsx"), "--node", "WH1", "--json"],
    )
    levels_before = on_hand(seeded)
    applied = orderhub(database_url, "stock", "import", str(counts), "--node", "WH1", "--apply")

    differences = [
        {"node": "WH1", "sku": "SKU-001", "hub": 20, "counted": 18, "delta": -2},
        {"node": "WH1", "sku": "SKU-003", "hub": 0, "counted": 7, "delta": 7},
    ]
    assert json.loads(ok(preview)) == {"applied": False, "differences": differences}
    assert json.loads(ok(excel)) == {"applied": False, "differences": differences}
    assert levels_before == {"SKU-001": (20, 0), "SKU-002": (10, 0)}
    table = ok(applied).splitlines()
    assert any("SKU-001" in line and "-2" in line for line in table)
    assert any("SKU-003" in line and "+7" in line for line in table)
    assert table[-1] == "2 difference(s) applied"
    assert on_hand(seeded) == {"SKU-001": (18, 0), "SKU-002": (10, 0), "SKU-003": (7, 0)}
    assert ledger(seeded, "SKU-001")[-1] == ("stocktake", -2, "stocktake counts.csv")
    assert ledger(seeded, "SKU-003") == [("stocktake", 7, "stocktake counts.csv")]
    assert stocktake_preview(seeded, "WH1", read_counts(counts)) == []
    with seeded.uow() as uow:
        assert uow.stock.ledger_mismatches() == []


def test_a_bad_stocktake_file_is_refused_in_one_line_naming_the_row_and_nothing_changes(
    seeded: Hub, database_url: str, tmp_path: Path
) -> None:
    no_sku = tmp_path / "no-sku.csv"
    no_sku.write_text("sku,quantity\nSKU-001,18\n,7\n", encoding="utf-8")
    gbk = tmp_path / "binary.csv"
    gbk.write_bytes(b"sku,quantity\nSKU-001,\x80\xff\n")

    results = together(
        database_url,
        *[["stock", "import", str(path), "--node", "WH1", "--apply"] for path in (no_sku, gbk)],
    )

    assert [refused(r) for r in results] == [
        f"orderhub: {no_sku}: row 3 has no SKU",
        f"orderhub: {gbk} is neither UTF-8 nor GBK text; save it as CSV or an Excel workbook",
    ]
    assert on_hand(seeded) == {"SKU-001": (20, 0), "SKU-002": (10, 0)}


# alerts


def test_stock_alerts_shows_daily_sales_days_of_cover_and_what_to_reorder(
    seeded: Hub, database_url: str
) -> None:
    with seeded.uow() as uow:
        for i, (sku, quantity) in enumerate([("SKU-001", 14), ("SKU-002", 7)]):
            assert uow.stock.reserve("WH1", sku, quantity, order_id=f"o-{i}")
            uow.stock.consume(f"o-{i}", {sku: quantity}, node="WH1")
        uow.commit()

    as_json = orderhub(database_url, "stock", "alerts", "--json")

    rows = {r["sku"]: r for r in json.loads(ok(as_json))}
    # SKU-001: 14 shipped in 14 days, 6 left; SKU-002: 7 shipped, 3 left.
    assert rows["SKU-001"] == {
        "node": "WH1",
        "sku": "SKU-001",
        "available": 6,
        "daily_sales": 1.0,
        "days_of_cover": 6.0,
        "suggested": 21 - 6,
        "low": False,
    }
    assert rows["SKU-002"] == {
        "node": "WH1",
        "sku": "SKU-002",
        "available": 3,
        "daily_sales": 0.5,
        "days_of_cover": 6.0,
        "suggested": 11 - 3,  # 0.5 a day × 21 days is 10.5 units: order enough for all
        "low": False,
    }
