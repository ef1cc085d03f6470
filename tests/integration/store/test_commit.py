"""A unit of work's commit: its report figures, its jobs and the word to other workers are
kept together, and a write refused at the end keeps nothing of the transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from orderhub.services.hub import Hub
from orderhub.store import tables as t
from orderhub.store.report_figures import Change, SaleLine

DAY = date(2026, 12, 6)


def _change(order_id: str, shop: str | None) -> Change:
    line = SaleLine("SKU-1", "WH1", lines=1, units=2, revenue=Decimal("39.80"))
    return Change(
        order_id,
        "placed",
        sales=[(DAY, "S1", line)],
        orders=[(DAY, shop, {"orders": 1})],  # type: ignore[list-item]
        times=[(DAY, "S1", "WH1", "to_warehouse", 3, 1)],
    )


def _kept(hub: Hub, order_id: str) -> dict[str, object]:
    with hub.reader() as uow:
        conn = uow.figures.conn

        def count(table: object, *where: object) -> int:
            return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar())

        return {
            "mark": count(t.report_marks, t.report_marks.c.order_id == order_id),
            "units": conn.execute(select(func.sum(t.sales_by_day.c.units))).scalar(),
            "orders": conn.execute(select(func.sum(t.orders_by_day.c.orders))).scalar(),
            "times": conn.execute(select(func.sum(t.latency_by_day.c["count"]))).scalar(),
            "jobs": count(t.outbox_jobs, t.outbox_jobs.c.order_id == order_id),
        }


def test_a_commit_keeps_the_figures_and_the_jobs_of_its_orders_and_counts_each_once(
    hub: Hub,
) -> None:
    for _ in range(2):  # the same change again: its mark says it was counted
        with hub.uow() as uow:
            uow.figures.count_once(_change("o-1", "S1"))
            uow.outbox.add("alerts.digest", {}, order_id="o-1", delay=60)
            uow.commit()
    assert _kept(hub, "o-1") == {"mark": 1, "units": 2, "orders": 1, "times": 1, "jobs": 2}


def test_a_write_refused_at_commit_keeps_nothing_and_the_next_commit_goes_through(
    hub: Hub,
) -> None:
    with pytest.raises(IntegrityError), hub.uow() as uow:
        uow.outbox.add("alerts.digest", {}, order_id="o-1", delay=60)
        uow.figures.count_once(_change("o-1", None))  # a day's orders need their shop
        uow.commit()
    assert _kept(hub, "o-1") == {"mark": 0, "units": None, "orders": None, "times": None, "jobs": 0}
    with hub.uow() as uow:
        uow.figures.count_once(_change("o-2", "S1"))
        uow.outbox.add("alerts.digest", {}, order_id="o-2", delay=60)
        uow.commit()
    assert _kept(hub, "o-2") == {"mark": 1, "units": 2, "orders": 1, "times": 1, "jobs": 1}
