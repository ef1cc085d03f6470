"""Stock cannot be changed for what the hub does not know, counts come in Chinese too, and
a supplier with no stock feed is shown and listed as unlimited, not as sold out."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook

from orderhub.demo_stack import Stack
from orderhub.domain.errors import InvalidRuleSet, OrderhubError
from orderhub.services import queries
from orderhub.services.inventory import (
    adjust_stock,
    read_counts,
    replenishment,
    stocktake_preview,
)
from orderhub.services.rules import activate_rule_set, put_rule_set
from support import TEST_KEYS, wait_until


def test_unknown_skus_nodes_and_absurd_adjustments_are_refused(
    make_stack: Callable[..., Stack],
) -> None:
    hub = make_stack(start_worker=False).hub
    for node, sku, delta, words in (
        ("WH1", "", 5, "needs a SKU"),
        ("WH1", "NOT-OURS", 5, "unknown SKU 'NOT-OURS'"),
        ("NOWHERE", "SKU-001", 5, "NOWHERE"),
        ("WH1", "SKU-001", 2_484_550_772, "is refused"),
        ("WH1", "SKU-001", 0, "is refused"),
    ):
        with pytest.raises(OrderhubError, match=words):
            adjust_stock(hub, node, sku, delta, reason="test")
    with pytest.raises(OrderhubError, match="unknown SKU 'GHOST'"):
        stocktake_preview(hub, "WH1", {"SKU-001": 3, "GHOST": 1})


def test_a_rule_routing_to_a_node_that_does_not_exist_is_refused(
    make_stack: Callable[..., Stack],
) -> None:
    hub = make_stack(start_worker=False).hub
    body = {
        "name": "west",
        "rules": [
            {"name": "xj", "when": "true", "action": "route", "node": "WH-WEST", "reason": "w"}
        ],
    }
    put_rule_set(hub, body)  # a draft may name a node still to come
    with pytest.raises(InvalidRuleSet, match="routes to node 'WH-WEST', which does not exist"):
        activate_rule_set(hub, "west")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_a_stocktake_with_chinese_headers_is_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "盘点.csv"
    path.write_bytes(
        "商品编码,商品名称,数量\nSKU-001,蓝色马克杯,12\nSKU-002,台灯,0\n".encode(encoding)
    )
    assert read_counts(path) == {"SKU-001": 12, "SKU-002": 0}


def test_an_excel_stocktake_with_chinese_headers_is_read(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["货号", "实盘数量"])
    sheet.append(["SKU-001", 7])
    path = tmp_path / "count.xlsx"
    book.save(path)
    assert read_counts(path) == {"SKU-001": 7}


def test_an_unlimited_supplier_is_listed_with_its_figure_and_never_low(
    make_stack: Callable[..., Stack], database_url: str
) -> None:
    stack = make_stack(
        settings={"unlimited_stock_listed": 250},
        supplier=True,
        stock_by_node={"WH1": {}},
        routing={"strategies": ["stock_first", "home_node"]},
    )
    shop = stack.shops["SHOP1"]
    shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(lambda: stack.summary()["completed"] == 1, timeout=60, what="shipped by SUP1")
    wait_until(
        lambda: shop.inventory_by_sku().get("SKU-001") == 250,
        timeout=30,
        what="the shop showing the supplier's set figure",
    )
    view = queries.stock_view(stack.hub)
    assert [n["node"] for n in view["unlimited"]] == ["SUP1"]
    assert all(row["on_hand"] >= 0 for row in view["levels"])
    assert [r for r in replenishment(stack.hub) if r.node == "SUP1"] == []
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}
    env.update(ORDERHUB_DATABASE_URL=database_url, ORDERHUB_ENCRYPTION_KEYS=TEST_KEYS)
    shown = subprocess.run(
        [sys.executable, "-c", "from orderhub.cli import main; main()", "stock", "show"],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "200"},
        timeout=60,
    )
    assert "unlimited" in shown.stdout and "-1" not in shown.stdout
