"""Saving an order rewrites only what changed since it was read: a new status leaves its
lines and its sealed personal data as they were, a changed line or receiver is written
again, and personal data sealed with a retired key is sealed again with the current one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select

from orderhub.crypto import Cipher
from orderhub.domain.order import OrderStatus
from orderhub.services.hub import Hub
from orderhub.store import tables as t
from support import make_order


def stored(hub: Hub, order_id: str) -> tuple[str, list[tuple[str, str | None, int]]]:
    """The sealed personal data and the lines table's rows of an order."""
    with hub.db.engine.connect() as conn:
        pii = conn.execute(select(t.orders.c.pii).where(t.orders.c.id == order_id)).scalar_one()
        lines = conn.execute(
            select(t.order_lines.c.line_id, t.order_lines.c.node, t.order_lines.c.quantity)
            .where(t.order_lines.c.order_id == order_id)
            .order_by(t.order_lines.c.line_id)
        ).all()
    return str(pii), [tuple(row) for row in lines]


def saved(hub: Hub, order_id: str, change: Any) -> list[str]:
    """Read the order, change it, save it; the statements the save sent."""
    asked: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        asked.append(" ".join(statement.split()))

    with hub.uow() as uow:
        order = uow.orders.get(order_id, for_update=True)
        change(order)
        event.listen(hub.db.engine, "before_cursor_execute", note)
        try:
            uow.orders.save(order)
        finally:
            event.remove(hub.db.engine, "before_cursor_execute", note)
        uow.commit()
    return asked


def test_saving_writes_lines_and_personal_data_again_only_when_they_changed(hub: Hub) -> None:
    with hub.uow() as uow:
        order_id = uow.orders.add(make_order(lines=[("SKU-1", 1), ("SKU-2", 2)]))
        uow.commit()
    pii, lines = stored(hub, order_id)

    asked = saved(hub, order_id, lambda o: o.move_to(OrderStatus.CANCELLED))
    assert [s.split()[0] for s in asked] == ["UPDATE"]
    assert stored(hub, order_id) == (pii, lines)

    def to_node(order: Any) -> None:
        order.lines[1].node = "WH2"

    asked = saved(hub, order_id, to_node)
    assert [s.split()[0] for s in asked] == ["UPDATE", "DELETE", "INSERT"]
    assert stored(hub, order_id) == (pii, [("1", None, 1), ("2", "WH2", 2)])

    def moved_house(order: Any) -> None:
        order.receiver.address1 = "文二路 8 号"

    saved(hub, order_id, moved_house)
    new_pii, _ = stored(hub, order_id)
    assert new_pii != pii
    with hub.reader() as uow:
        order = uow.orders.get(order_id)
        assert order.status is OrderStatus.CANCELLED
        assert order.receiver.address1 == "文二路 8 号"
        assert order.receiver.name == "张三"
        assert [(x.line_id, x.node) for x in order.lines] == [("1", None), ("2", "WH2")]


def test_personal_data_under_a_retired_key_is_sealed_again_when_the_order_is_saved(
    hub: Hub,
) -> None:
    with hub.uow() as uow:
        order_id = uow.orders.add(make_order())
        uow.commit()
    old_pii, _ = stored(hub, order_id)
    assert old_pii.startswith("v1:test:")
    hub.db.cipher = Cipher({"test": b"k" * 32, "next": b"n" * 32}, "next")
    saved(hub, order_id, lambda o: o.move_to(OrderStatus.CANCELLED))
    new_pii, _ = stored(hub, order_id)
    assert new_pii.startswith("v1:next:")
    with hub.reader() as uow:
        assert uow.orders.get(order_id).receiver.phone == "13812348000"
