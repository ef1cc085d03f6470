"""A person acts on one order over HTTP: holds it before the warehouse has it and lets it
go, sends it from another warehouse, corrects the address, cancels it; the warehouse
emulators and the shop's stock show each outcome, and the audit log keeps who and why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx

from orderhub.demo_stack import Stack
from orderhub.services import queries
from orderhub.services.audit import list_entries
from orderhub.store.catalog import SkuRecord
from support import api_token, bearer, wait_until

SKU = "SKU-001"
WINDOW = {"merge_window": 4.0}  # an order waits this long before it goes to its warehouse


CHINESE_ADDRESS = {
    "first_name": "三",
    "last_name": "张",
    "address1": "西湖区文三路 100 号",
    "city": "杭州市",
    "province": "浙江省",
    "zip": "310000",
    "country": "China",
    "country_code": "CN",
    "phone": "13812348000",
}


def _place(
    stack: Stack, shop: str = "SHOP1", address: dict[str, str] | None = None
) -> tuple[dict[str, Any], str]:
    order: dict[str, Any] = {"lines": [{"sku": SKU, "quantity": 1}]}
    if address:
        order["shipping_address"] = address
    placed = stack.shops[shop].place_order(order)

    def found() -> list[str]:
        rows = queries.order_list(stack.hub, shop=shop)
        return [r.id for r in rows if r.channel_order_id == str(placed["id"])]

    wait_until(lambda: bool(found()), what="the order in the hub")
    return placed, found()[0]


def _status(stack: Stack, order_id: str) -> str:
    return str(queries.order_view(stack.hub, order_id).status)


def _act(stack: Stack, token: str, order_id: str, action: str, **body: Any) -> httpx.Response:
    method = "PUT" if action == "address" else "POST"
    return httpx.request(
        method,
        f"{stack.api.url}/api/v1/orders/{order_id}/{action}",
        json=body,
        headers=bearer(token),
    )


def _where(stack: Stack, order_id: str) -> Callable[[], str]:
    """What the order's state is, for a failure to say."""

    def said() -> str:
        order = queries.order_view(stack.hub, order_id)
        trace = [(x.stage, x.status, x.message) for x in order.trace]
        return f"the order at its warehouse; it is {order.status}: {trace}"

    return said


def _at(stack: Stack, node: str) -> dict[str, dict[str, Any]]:
    return stack.warehouses[node].orders()


def test_an_order_held_before_the_warehouse_has_it_waits_and_released_it_goes(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(routing=WINDOW, ship_delay=3600.0, stock_by_node={"WH1": {SKU: 10}})
    operator = api_token(stack.hub, "operator")
    _, order_id = _place(stack)
    wait_until(lambda: _status(stack, order_id) == "reserved", what="reserved, in its window")

    held = _act(stack, operator, order_id, "hold", reason="the buyer asked us to wait")
    assert held.status_code == 200, held.text
    assert held.json()["status"] == "held"
    again = _act(stack, operator, order_id, "hold", reason="twice")
    assert again.status_code == 409
    exceptions = [e for e in queries.exception_list(stack.hub) if e.order_id == order_id]
    assert [e.code for e in exceptions] == ["held_by_person"]
    assert "the buyer asked us to wait" in exceptions[0].message
    wait_until(
        lambda: stack.shops["SHOP1"].inventory_by_sku().get(SKU) == 10,
        what="the held order's unit offered again",
    )
    assert _at(stack, "WH1") == {}

    released = _act(stack, operator, order_id, "release", reason="the buyer is ready")
    assert released.status_code == 200, released.text
    wait_until(lambda: len(_at(stack, "WH1")) == 1, what="the order at the warehouse")
    wait_until(lambda: _status(stack, order_id) == "pushed", what="the order pushed")
    refused = _act(stack, operator, order_id, "hold", reason="too late")
    assert refused.status_code == 409
    assert "cancel it instead" in refused.json()["message"]

    entries = list_entries(stack.hub, target=f"order_id={order_id}")
    kept = {e.action: e for e in entries}
    hold_entry = kept["POST /api/v1/orders/{order_id}/hold"]
    assert hold_entry.actor.startswith("operator")
    assert hold_entry.after["body"] == {"reason": "the buyer asked us to wait"}
    assert "POST /api/v1/orders/{order_id}/release" in kept


def test_an_order_sent_from_another_warehouse_reaches_that_one_only(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(
        warehouses=2, routing=WINDOW, stock_by_node={"WH1": {SKU: 10}, "WH2": {SKU: 10}}
    )
    operator = api_token(stack.hub, "operator")
    _, order_id = _place(stack)
    wait_until(lambda: _status(stack, order_id) == "reserved", what="reserved, in its window")
    first = queries.order_view(stack.hub, order_id).node

    other = "WH2" if first == "WH1" else "WH1"
    unknown = _act(stack, operator, order_id, "route", node="WH9", reason="closer")
    assert unknown.status_code == 422 and "WH9" in unknown.json()["message"]
    moved = _act(stack, operator, order_id, "route", node=other, reason="closer to the buyer")
    assert moved.status_code == 200, moved.text

    wait_until(lambda: len(_at(stack, other)) == 1, what=f"the order at {other}")
    assert _at(stack, first) == {}
    assert queries.order_view(stack.hub, order_id).node == other
    with stack.hub.reader() as uow:
        left = uow.stock.level(str(first), SKU)
    assert left is not None and left.reserved == 0


def test_an_order_at_one_warehouse_sent_from_another_is_stopped_there_and_sent_on(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(
        warehouses=2, ship_delay=3600.0, stock_by_node={"WH1": {SKU: 10}, "WH2": {SKU: 10}}
    )
    operator = api_token(stack.hub, "operator")
    _, order_id = _place(stack)
    wait_until(lambda: _status(stack, order_id) == "pushed", what="the order at its warehouse")
    first = str(queries.order_view(stack.hub, order_id).node)
    other = "WH2" if first == "WH1" else "WH1"
    assert len(_at(stack, first)) == 1

    same = _act(stack, operator, order_id, "route", node=first, reason="no change")
    assert same.status_code == 409
    moved = _act(stack, operator, order_id, "route", node=other, reason="the buyer moved")
    assert moved.status_code == 200, moved.text

    wait_until(lambda: len(_at(stack, other)) == 1, what=_where(stack, order_id))
    [stopped] = _at(stack, first).values()
    assert stopped["status"] == "CANCELED"
    wait_until(lambda: _status(stack, order_id) == "pushed", what="pushed to the new warehouse")
    assert queries.order_view(stack.hub, order_id).node == other
    with stack.hub.reader() as uow:
        left, taken = uow.stock.level(first, SKU), uow.stock.level(other, SKU)
    assert left is not None and left.reserved == 0
    assert taken is not None and taken.reserved == 1
    [entry] = list_entries(stack.hub, action="POST /api/v1/orders/{order_id}/route")
    assert entry.after["body"] == {"node": other, "reason": "the buyer moved"}


def test_a_second_move_while_the_warehouse_has_not_answered_the_first_is_refused(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(
        warehouses=2, ship_delay=3600.0, stock_by_node={"WH1": {SKU: 10}, "WH2": {SKU: 10}}
    )
    operator = api_token(stack.hub, "operator")
    _, order_id = _place(stack)
    wait_until(lambda: _status(stack, order_id) == "pushed", what="the order at its warehouse")
    first = str(queries.order_view(stack.hub, order_id).node)
    other = "WH2" if first == "WH1" else "WH1"
    stack.warehouses[first].faults.update({"error_rate": 1.0, "error_status": 503})

    moved = _act(stack, operator, order_id, "route", node=other, reason="the buyer moved")
    assert moved.status_code == 200, moved.text
    again = _act(stack, operator, order_id, "route", node=other, reason="still moving")
    assert again.status_code == 409
    assert "wait for its answer" in again.json()["message"]

    stack.warehouses[first].faults.update({"error_rate": 0.0})
    wait_until(lambda: len(_at(stack, other)) == 1, what=_where(stack, order_id))


def test_a_corrected_address_is_the_one_the_warehouse_receives(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(routing=WINDOW, stock_by_node={"WH1": {SKU: 10}})
    operator = api_token(stack.hub, "operator")
    _, order_id = _place(stack)
    wait_until(lambda: _status(stack, order_id) == "reserved", what="reserved, in its window")

    wrong = _act(stack, operator, order_id, "address", reason="typo", receiver={"colour": "red"})
    assert wrong.status_code == 422 and "colour" in wrong.text
    changed = _act(
        stack,
        operator,
        order_id,
        "address",
        reason="the buyer called with a new address",
        receiver={
            "name": "李四",
            "phone": "13911112222",
            "country": "CN",
            "province": "浙江省",
            "city": "杭州市",
            "address1": "西湖区文三路 478 号",
        },
    )
    assert changed.status_code == 200, changed.text

    wait_until(lambda: len(_at(stack, "WH1")) == 1, what=_where(stack, order_id))
    [sent] = _at(stack, "WH1").values()
    shown = str(sent["receiver"])
    assert "李四" in shown and "13911112222" in shown and "文三路 478 号" in shown
    [entry] = list_entries(stack.hub, action="PUT /api/v1/orders/{order_id}/address")
    assert "13911112222" not in str(entry.after) and "李四" not in str(entry.after)
    assert "139****2222" in str(entry.after)

    late = _act(stack, operator, order_id, "address", reason="again", receiver={"city": "x"})
    assert late.status_code == 409


def test_a_cancelled_order_is_stopped_at_the_warehouse_and_its_stock_offered_again(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(ship_delay=3600.0, stock_by_node={"WH1": {SKU: 10}})
    operator = api_token(stack.hub, "operator")
    _, order_id = _place(stack)
    wait_until(lambda: len(_at(stack, "WH1")) == 1, what="the order at the warehouse")
    wait_until(lambda: stack.shops["SHOP1"].inventory_by_sku().get(SKU) == 9, what="9 offered")

    cancelled = _act(stack, operator, order_id, "cancel", reason="the buyer changed their mind")
    assert cancelled.status_code == 200, cancelled.text

    wait_until(lambda: _status(stack, order_id) == "cancelled", what="the order cancelled")
    [at_warehouse] = _at(stack, "WH1").values()
    assert at_warehouse["status"] == "CANCELED"
    wait_until(
        lambda: stack.shops["SHOP1"].inventory_by_sku().get(SKU) == 10,
        what="the unit offered again",
    )
    assert _act(stack, operator, order_id, "cancel", reason="again").status_code == 409


def test_only_those_allowed_and_within_their_shops_act_on_an_order(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(shops=2, routing=WINDOW)
    _, order_id = _place(stack, "SHOP1")
    viewer = api_token(stack.hub, "viewer")
    elsewhere = api_token(stack.hub, "operator", shops=("SHOP2",))

    assert _act(stack, viewer, order_id, "hold", reason="x").status_code == 403
    assert _act(stack, elsewhere, order_id, "hold", reason="x").status_code == 404
    blank = _act(stack, api_token(stack.hub, "operator"), order_id, "hold", reason="")
    assert blank.status_code == 422 and "reason" in blank.text
    assert _status(stack, order_id) in ("received", "reserved")


def test_a_shipped_order_cannot_be_cancelled(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack()
    _, order_id = _place(stack)
    wait_until(lambda: _status(stack, order_id) == "completed", what="the order shipped")
    refused = _act(stack, api_token(stack.hub, "operator"), order_id, "cancel", reason="late")
    assert refused.status_code == 409
    assert "return" in refused.json()["message"]


def test_a_parcel_abroad_waits_for_a_receiver_in_latin_script_which_the_warehouse_then_gets(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(stock_by_node={"WH1": {SKU: 10}})
    # WH1 hands its parcels to a cross-border line: each declares customs.
    with stack.hub.uow() as uow:
        node = uow.catalog.node("WH1")
        customs = {"required": "always", "shipping_methods": {"*": "EMS"}}
        uow.catalog.put_node(replace(node, location={**node.location, "customs": customs}))
        uow.catalog.put_sku(
            SkuRecord(sku=SKU, title="Teapot", hs_code="691200", customs_description="Teapot")
        )
        uow.commit()
    stack.hub.forget_connectors()
    operator = api_token(stack.hub, "operator")
    _, order_id = _place(stack, address=CHINESE_ADDRESS)
    wait_until(lambda: _status(stack, order_id) == "held", what=_where(stack, order_id))
    held = queries.order_view(stack.hub, order_id)
    fields = sorted(e.field for e in held.exceptions if not e.resolved)
    chinese = [f for f in fields if f.startswith("receiver.")]
    assert chinese and all(e.code == "receiver_not_latin" for e in held.exceptions)
    assert _at(stack, "WH1") == {}

    latin = {"name": "Zhang San", "address1": "100 Wensan Road, Xihu", "city": "Hangzhou"}
    changed = _act(
        stack, operator, order_id, "address", reason="label abroad", receiver={"latin": latin}
    )
    assert changed.status_code == 200, changed.text
    wait_until(lambda: len(_at(stack, "WH1")) == 1, what=_where(stack, order_id))
    [sent] = _at(stack, "WH1").values()
    assert "Zhang San" in str(sent["receiver"]) and "Hangzhou" in str(sent["receiver"])
    shown = queries.order_view(stack.hub, order_id)
    assert shown.receiver_latin is not None and shown.receiver_latin.name != "Zhang San"
    [entry] = list_entries(stack.hub, action="PUT /api/v1/orders/{order_id}/address")
    assert "Zhang San" not in str(entry.after) and "Wensan" not in str(entry.after)
