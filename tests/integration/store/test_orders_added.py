"""New orders are held and written together with the unit of work's other writes; until
then, whatever reads orders in the same unit of work sees them as stored."""

from __future__ import annotations

import pytest

from orderhub.services.hub import Hub
from support import make_order


def test_an_order_added_is_read_back_at_once_by_its_id_its_reference_and_its_buyer(
    hub: Hub,
) -> None:
    with hub.uow() as uow:
        order = make_order(channel_order_id="8001")
        uow.orders.add(order, buyer_id="b-1")
        assert uow.orders.get(order.id).channel_order_id == "8001"
        found = uow.orders.by_channel_ref("S1", "8001")
        assert found is not None and found.id == order.id
        second = make_order(channel_order_id="8002")
        uow.orders.add(second, buyer_id="b-1")
        assert uow.buyers.orders_of("b-1") == sorted([order.id, second.id])
        uow.commit()
    with hub.reader() as uow:
        assert uow.orders.count_by_status() == {"received": 2}


def test_orders_added_in_a_savepoint_undone_are_never_written(hub: Hub) -> None:
    with hub.uow() as uow:
        kept = make_order(channel_order_id="8101")
        uow.orders.add(kept)
        with pytest.raises(RuntimeError), uow.savepoint():
            uow.orders.add(make_order(channel_order_id="8102"))
            raise RuntimeError("the job failed")
        uow.commit()
    with hub.reader() as uow:
        assert uow.orders.by_channel_ref("S1", "8101") is not None
        assert uow.orders.by_channel_ref("S1", "8102") is None
        assert uow.orders.get(kept.id).lines == kept.lines
