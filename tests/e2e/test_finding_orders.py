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
from sqlalchemy import select, update

from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.services.keeping import index_phone_tails
from orderhub.store import tables as t
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


def _address(phone: str) -> dict[str, str]:
    return {
        "first_name": "伟",
        "last_name": "王",
        "address1": "文一西路 969 号",
        "city": "杭州市",
        "province": "浙江省",
        "province_code": "ZJ",
        "zip": "311121",
        "country": "China",
        "country_code": "CN",
        "phone": phone,
    }


def test_orders_are_found_by_the_last_four_digits_of_the_receivers_phone_kept_only_as_a_keyed_hash(
    make_stack: Callable[..., Stack], database_url: str
) -> None:
    stack = make_stack()
    shop = stack.shops["SHOP1"]
    phones = ("+86 138-0013-8000", "13912348000", "(0571) 8888 1234")
    placed = [
        shop.place_order(
            {"lines": [{"sku": "SKU-001", "quantity": 1}], "shipping_address": _address(phone)}
        )
        for phone in phones
    ]
    wait_until(lambda: stack.summary()["received"] == 3, what="the three orders in the hub")
    token = api_token(stack.hub, "viewer")

    def found(digits: str) -> httpx.Response:
        return httpx.get(
            f"{stack.api.url}/api/v1/orders",
            params={"phone_last4": digits},
            headers=bearer(token),
        )

    def platform_ids(digits: str) -> set[str]:
        return {r["channel_order_id"] for r in found(digits).json()}

    assert platform_ids("8000") == {str(placed[0]["id"]), str(placed[1]["id"])}
    assert platform_ids("1234") == {str(placed[2]["id"])}
    assert platform_ids("0000") == set()
    for wrong in ("800", "8000a", "８０００"):
        refused = found(wrong)
        assert refused.status_code == 422, wrong
        assert "phone_last4" in refused.text

    # What the database holds is a keyed hash, never the digits.
    with stack.hub.reader() as uow:
        rows = uow.orders.conn.execute(select(t.orders)).mappings().all()
    for row in rows:
        assert len(row["phone_tail"]) == 64
        for value in row.values():
            assert str(value) not in ("8000", "1234")
            assert not any(d in str(value) for d in ("00138000", "12348000", "88881234"))

    # Orders kept before phones were indexed are found once the hub has started again.
    with stack.hub.uow() as uow:
        uow.orders.conn.execute(update(t.orders).values(phone_tail=None))
        uow.commit()
    assert platform_ids("8000") == set()
    # The pipeline may save an order again meanwhile (and hash its tail itself), so the
    # count done here is at most three; afterwards none is left without one.
    assert index_phone_tails(stack.hub) <= 3
    with stack.hub.reader() as uow:
        tails = uow.orders.conn.execute(select(t.orders.c.phone_tail)).scalars().all()
    assert len(tails) == 3 and None not in tails
    assert index_phone_tails(stack.hub) == 0
    assert platform_ids("8000") == {str(placed[0]["id"]), str(placed[1]["id"])}

    listed = _cli(database_url, "orders", "list", "--phone", "1234", "--json")
    assert [r["channel_order_id"] for r in json.loads(listed.stdout)] == [str(placed[2]["id"])]
    refused_cli = _cli(database_url, "orders", "list", "--phone", "12")
    assert refused_cli.returncode == 2 and "last four digits" in refused_cli.stderr


def test_a_day_no_order_can_be_placed_on_is_refused_with_the_field_named(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack()
    token = api_token(stack.hub, "viewer")
    for field, day in (("placed_from", "0001-01-01"), ("placed_to", "9999-12-31")):
        refused = httpx.get(
            f"{stack.api.url}/api/v1/orders", params={field: day}, headers=bearer(token)
        )
        assert refused.status_code == 422, refused.text
        assert field in refused.json()["message"]
