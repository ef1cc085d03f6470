"""One buyer across shops: recognised by phone or e-mail (never stored readable), counted,
tagged for rules, exported on request and erased without a trace of who they were."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from sqlalchemy import select

from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.services.rules import activate_rule_set, put_rule_set
from orderhub.store import tables as t
from support import api_call, api_token, bearer, order_status, wait_until

WANG = {"name": "王晓明", "phone": "+8613912345678", "email": "xiaoming.wang@example.cn"}


def every_text_in_the_database(stack: Stack) -> str:
    """Every value of every row of every table, as text."""
    found = []
    with stack.hub.db.engine.connect() as conn:
        for table in t.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes):
                        found.append(value.decode("utf-8", "replace"))
                    elif value is not None:
                        found.append(str(value))
    return "\n".join(found)


def holds(text: str, trace: str) -> bool:
    """Whether `text` still holds `trace`. A number counts only as a whole number (a phone
    also with its +86), so its digits inside an unrelated figure such as a timing do not."""
    if not trace.isdigit():
        return trace in text
    numbers = set(re.findall(r"\d+", text))
    return trace in numbers or f"86{trace}" in numbers


def test_one_buyer_across_two_shops_is_counted_tagged_and_held_by_a_rule(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(shops=2, ship_delay=3600)
    first = stack.shops["SHOP1"].place_order(
        {"lines": [{"sku": "SKU-001", "quantity": 1}], "customer": {**WANG, "email": None}}
    )
    second = stack.shops["SHOP2"].place_order(
        {"lines": [{"sku": "SKU-002", "quantity": 2}], "customer": WANG}
    )
    stranger = stack.shops["SHOP2"].place_order({"lines": [{"sku": "SKU-003", "quantity": 1}]})
    for placed in (first, second, stranger):
        wait_until(
            lambda p=placed: order_status(stack, p["id"]) == "pushed", what="at the warehouse"
        )

    found = api_call(stack, "POST", "/api/v1/buyers/find", phone="139 1234 5678")
    assert found["orders"] == 2
    spent = sum(
        queries.order_view(stack.hub, str(p["id"])).totals.grand_total for p in (first, second)
    )
    assert round(found["spend"], 2) == float(spent)
    by_mail = api_call(stack, "POST", "/api/v1/buyers/find", email="XiaoMing.Wang@example.cn")
    assert by_mail["id"] == found["id"]
    other = api_call(stack, "POST", "/api/v1/buyers/find", order=str(stranger["id"]))
    assert other["id"] != found["id"] and other["orders"] == 1
    # Nothing that identifies the buyer is kept readable to find them.
    assert "13912345678" not in every_text_in_the_database(stack).replace(" ", "")

    tagged = api_call(stack, "PUT", f"/api/v1/buyers/{found['id']}/tags", add=["blacklist", "vip"])
    assert tagged["tags"] == ["blacklist", "vip"]
    put_rule_set(
        stack.hub,
        {
            "name": "buyers",
            "rules": [
                {
                    "name": "blacklisted",
                    "when": "'blacklist' in buyer.tags && buyer.orders > 2",
                    "action": "hold",
                    "reason": "this buyer is on the blacklist",
                }
            ],
        },
    )
    activate_rule_set(stack.hub, "buyers")
    third = stack.shops["SHOP1"].place_order(
        {"lines": [{"sku": "SKU-001", "quantity": 1}], "customer": WANG}
    )
    fourth = stack.shops["SHOP1"].place_order({"lines": [{"sku": "SKU-001", "quantity": 1}]})
    wait_until(
        lambda: order_status(stack, third["id"]) == "held", what="the blacklisted buyer held"
    )
    wait_until(
        lambda: order_status(stack, fourth["id"]) == "pushed", what="another buyer's order goes"
    )
    assert api_call(stack, "GET", f"/api/v1/buyers/{found['id']}")["orders"] == 3


def test_a_buyer_is_exported_then_erased_without_a_trace(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(ship_delay=0.05)
    shop = stack.shops["SHOP1"]
    address = {
        "first_name": "晓明",
        "last_name": "王",
        "address1": "南京西路 1266 号恒隆广场 4201",
        "city": "上海",
        "province": "上海",
        "country_code": "CN",
        "zip": "200040",
        "phone": WANG["phone"],
    }
    placed = [
        shop.place_order(
            {
                "lines": [{"sku": "SKU-001", "quantity": 1}],
                "customer": WANG,
                "shipping_address": address,
                "note": "请放在前台，王晓明收",
            }
        )
        for _ in range(2)
    ]
    for order in placed:
        wait_until(lambda o=order: order_status(stack, o["id"]) == "completed", what="shipped")
    buyer = api_call(stack, "POST", "/api/v1/buyers/find", phone=WANG["phone"])

    exported = api_call(
        stack, "POST", f"/api/v1/buyers/{buyer['id']}/export", reason="access request 2026-12"
    )
    assert len(exported["orders"]) == 2
    assert {o["receiver"]["address1"] for o in exported["orders"]} == {address["address1"]}
    assert {o["buyer"]["email"] for o in exported["orders"]} == {WANG["email"]}

    forbidden = httpx.post(
        f"{stack.api.url}/api/v1/buyers/{buyer['id']}/erase",
        json={"reason": "erasure request"},
        headers=bearer(api_token(stack.hub, "operator")),
    )
    assert forbidden.status_code == 403
    erased = api_call(
        stack, "POST", f"/api/v1/buyers/{buyer['id']}/erase", reason="erasure request 2026-12"
    )
    assert erased["orders"] == 2 and erased["payloads"] >= 2

    everything = every_text_in_the_database(stack)
    for trace in ("王晓明", "晓明", "13912345678", "xiaoming.wang", "南京西路", "恒隆", "200040"):
        assert not holds(everything, trace), trace
    # The books keep their figures: the orders, their amounts and SKUs are still there.
    for order in placed:
        kept = queries.order_view(stack.hub, str(order["id"]), reveal=True)
        assert kept.status == "completed" and kept.totals.grand_total > 0
        assert kept.lines[0].sku == "SKU-001"
        assert kept.receiver.name == "" and kept.buyer.email == ""
    entries = api_call(stack, "GET", "/api/v1/audit", role="owner")
    actions = [e["action"] for e in (entries if isinstance(entries, list) else entries["entries"])]
    assert "buyer.erase" in actions and "buyer.export" in actions
    gone = httpx.post(
        f"{stack.api.url}/api/v1/buyers/find",
        json={"phone": WANG["phone"]},
        headers=bearer(api_token(stack.hub, "owner")),
    )
    assert gone.status_code == 404
