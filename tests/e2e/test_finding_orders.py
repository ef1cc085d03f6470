"""Finding an order the way people refer to it, and reading why it waits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from orderhub.demo_stack import Stack
from orderhub.services import queries
from support import TEST_KEYS, api_token, bearer, wait_until


def _cli(database_url: str, *args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERHUB_")}
    env.update(
        ORDERHUB_DATABASE_URL=database_url,
        ORDERHUB_ENCRYPTION_KEYS=TEST_KEYS,
        ORDERHUB_LOG_LEVEL="warning",
        ORDERHUB_TIMEZONE="Asia/Shanghai",
        COLUMNS=str(columns),
    )
    return subprocess.run(
        [sys.executable, "-c", "from orderhub.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_an_order_is_found_by_its_shop_number_platform_id_or_the_start_of_its_id(
    make_stack: Callable[..., Stack], database_url: str
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    placed = [shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]}) for _ in range(2)]
    wait_until(lambda: stack.summary()["received"] == 2, what="both orders in the hub")
    listed = json.loads(_cli(database_url, "orders", "list", "--json").stdout)
    first = next(r for r in listed if r["channel_order_id"] == str(placed[0]["id"]))

    for ref in (
        str(placed[0]["id"]),
        placed[0]["name"],
        placed[0]["name"].lstrip("#"),
        first["id"][:-4],
    ):
        shown = _cli(database_url, "orders", "show", ref, "--json")
        assert shown.returncode == 0, (ref, shown.stderr)
        assert json.loads(shown.stdout)["id"] == first["id"]

    ambiguous = _cli(database_url, "orders", "show", first["id"][:3])
    assert ambiguous.returncode == 2
    assert "could be any of 2 orders" in ambiguous.stderr and first["id"] in ambiguous.stderr

    searched = json.loads(
        _cli(database_url, "orders", "list", "--search", str(placed[1]["id"]), "--json").stdout
    )
    assert [r["channel_order_id"] for r in searched] == [str(placed[1]["id"])]

    narrow = _cli(database_url, "orders", "list").stdout
    assert "…" not in narrow  # ids fold onto a second line instead of being cut
    wide = _cli(database_url, "orders", "list", columns=200).stdout
    assert first["id"] in wide and "$19.90" in wide and "CST" in wide


def test_an_order_in_its_merge_window_says_why_it_waits(
    make_stack: Callable[..., Stack], database_url: str
) -> None:
    stack = make_stack(routing={"merge_window": 300})
    placed = stack.shops["SHOP1"].place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(lambda: stack.summary()["received"] == 1, what="the order in the hub")
    shown = _cli(database_url, "orders", "show", str(placed["id"]))
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.split())
    assert "waiting: waits for the merge window of WH1 until" in text
    assert "other orders of the same buyer may join it in one parcel" in text


def test_orders_are_found_by_tracking_number_sku_and_the_days_they_were_placed(
    make_stack: Callable[..., Stack], database_url: str
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    mug = shop.place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    cup = shop.place_order({"lines": [{"sku": "SKU-002", "quantity": 2}]})
    wait_until(lambda: stack.summary()["completed"] == 2, what="both orders shipped")
    token = api_token(stack.hub, "viewer")

    def listed(**query: str) -> list[str]:
        answer = httpx.get(f"{stack.api.url}/api/v1/orders", params=query, headers=bearer(token))
        assert answer.status_code == 200, answer.text
        return [row["channel_order_id"] for row in answer.json()]

    [cup_row] = [r for r in queries.order_list(stack.hub) if r.channel_order_id == str(cup["id"])]
    [parcel] = queries.order_view(stack.hub, cup_row.id).fulfillments
    assert listed(tracking_no=parcel.tracking_no) == [str(cup["id"])]
    assert listed(tracking_no="SF0000000000") == []
    assert listed(sku="SKU-001") == [str(mug["id"])]
    assert listed(sku="SKU-001", status="cancelled") == []

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    both = sorted([str(mug["id"]), str(cup["id"])])
    assert sorted(listed(placed_from=str(today), placed_to=str(today))) == both
    assert listed(placed_to=str(today - timedelta(days=1))) == []
    assert listed(placed_from=str(today + timedelta(days=1))) == []
    refused = httpx.get(
        f"{stack.api.url}/api/v1/orders", params={"placed_from": "yesterday"}, headers=bearer(token)
    )
    assert refused.status_code == 422 and "placed_from" in refused.text

    by_cli = json.loads(
        _cli(database_url, "orders", "list", "--tracking", parcel.tracking_no, "--json").stdout
    )
    assert [r["channel_order_id"] for r in by_cli] == [str(cup["id"])]
    by_sku = json.loads(
        _cli(
            database_url, "orders", "list", "--sku", "SKU-002", "--from", str(today), "--json"
        ).stdout
    )
    assert [r["channel_order_id"] for r in by_sku] == [str(cup["id"])]
