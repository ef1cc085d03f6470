"""Statements run on the driver's cursor read and write exactly what Core would, are
seen by the engine's listeners, and fail with SQLAlchemy's errors."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import bindparam, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from orderhub.services.hub import Hub
from orderhub.store import tables as t
from orderhub.store.db import Queued
from orderhub.store.driver import MAX_PLANS, Query
from support import make_hub

_L = t.stock_ledger.c
_SHANGHAI = timezone(timedelta(hours=8))

_BY_SKUS = (
    select(_L.id, _L.sku, _L.reserved_delta, _L.reason, _L.at, _L.order_id)
    .where(
        _L.tenant == bindparam("t"),
        _L.sku.in_(bindparam("skus", expanding=True)),
        _L.kind.in_(["reservation", "adjustment"]),  # a list written in the statement
        _L.at >= bindparam("since"),
    )
    .order_by(_L.id)
)
_SUMS = select(func.sum(_L.reserved_delta), func.max(_L.at)).where(_L.tenant == bindparam("t"))
_MOVE = (
    update(t.stock_ledger)
    .where(_L.id.in_(bindparam("ids", expanding=True)))
    .values(reason=bindparam("why"))
)


def _ledger(hub: Hub) -> None:
    moments = [
        datetime(2026, 12, 5, 1, 2, 3, tzinfo=UTC),
        datetime(2026, 12, 5, 1, 2, 3, 450000, tzinfo=UTC),
        datetime(2026, 12, 5, 9, 2, 3, 7, tzinfo=_SHANGHAI),
    ]
    rows = [
        {
            "tenant": "default",
            "node": "WH1",
            "sku": f"SKU-{i % 3}",
            "kind": ("reservation", "adjustment", "release")[i % 3],
            "on_hand_delta": 0,
            "reserved_delta": i + 1,
            "order_id": f"o{i}" if i % 2 else None,
            "reason": "待发货" if i == 4 else "",
            "at": moments[i % 3],
        }
        for i in range(9)
    ]
    with hub.uow() as uow:
        uow.stock.conn.execute(insert(t.stock_ledger), rows)
        uow.commit()


@pytest.mark.parametrize("skus", [["SKU-0"], ["SKU-0", "SKU-1"], ["SKU-1", "SKU-2", "SKU-9"]])
def test_a_query_reads_what_core_reads_for_lists_of_any_length(hub: Hub, skus: list[str]) -> None:
    _ledger(hub)
    query = Query(_BY_SKUS)
    params: dict[str, Any] = {
        "t": "default",
        "skus": skus,
        "since": datetime(2026, 12, 5, tzinfo=UTC),
    }
    with hub.reader() as uow:
        conn = uow.stock.conn
        core = [tuple(row) for row in conn.execute(_BY_SKUS, params)]
        mine = query.all(conn, params)
        # Asked again with the other lengths too: each length has its own statement.
        again = query.all(conn, {**params, "skus": ["SKU-0", "SKU-1", "SKU-2"]})
        assert len(again) == 6
        assert query.all(conn, params) == mine
    assert [tuple(row) for row in mine] == core and core
    assert {row.sku for row in mine} <= set(skus)
    assert all(row.at.tzinfo is not None for row in mine)
    assert "待发货" in {row.reason for row in mine} or "SKU-1" not in skus
    assert all(
        row.at == datetime(2026, 12, 5, 1, 2, 3, 7, tzinfo=UTC) or row.sku != "SKU-2"
        for row in mine
    )


def test_a_query_without_parameters_of_its_own_reads_its_aggregates(hub: Hub) -> None:
    _ledger(hub)
    with hub.reader() as uow:
        total, latest = Query(_SUMS).first(uow.stock.conn, {"t": "default"})
        assert Query(_SUMS).scalar(uow.stock.conn, {"t": "nobody"}) is None
    assert Decimal(total) == 45
    assert latest == datetime(2026, 12, 5, 1, 2, 3, 450000, tzinfo=UTC)


def test_a_write_says_how_many_rows_it_changed_and_listeners_see_it(hub: Hub) -> None:
    _ledger(hub)
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement.split()[0])

    with hub.uow() as uow:
        conn = uow.stock.conn
        ids = [
            row.id
            for row in Query(_BY_SKUS).all(
                conn, {"t": "default", "skus": ["SKU-0"], "since": datetime(2000, 1, 1, tzinfo=UTC)}
            )
        ]
        event.listen(hub.db.engine, "before_cursor_execute", note)
        try:
            changed = Query(_MOVE).run(conn, {"ids": ids, "why": "recount"})
        finally:
            event.remove(hub.db.engine, "before_cursor_execute", note)
        uow.commit()
    assert changed == len(ids) == 3
    assert seen == ["UPDATE"]
    with hub.reader() as uow:
        reasons = uow.stock.conn.execute(select(_L.reason).where(_L.id.in_(ids))).scalars().all()
    assert reasons == ["recount"] * 3


def test_a_refused_statement_raises_sqlalchemys_error_and_writes_nothing(hub: Hub) -> None:
    _ledger(hub)
    with hub.reader() as uow:
        first = Query(select(_L.id).order_by(_L.id)).first(uow.stock.conn, {})
    assert first is not None
    clash = Query(
        update(t.stock_ledger).where(_L.id == bindparam("other")).values(id=bindparam("taken"))
    )
    with pytest.raises(IntegrityError), hub.uow() as uow:
        clash.run(uow.stock.conn, {"other": first.id + 1, "taken": first.id})
    with hub.reader() as uow:
        count = uow.stock.conn.execute(select(func.count()).select_from(t.stock_ledger)).scalar()
    assert count == 9


def test_lists_of_many_lengths_keep_a_bounded_number_of_statements(hub: Hub) -> None:
    _ledger(hub)
    query = Query(_BY_SKUS)
    since = datetime(2000, 1, 1, tzinfo=UTC)
    with hub.reader() as uow:
        for length in range(1, MAX_PLANS + 20):
            skus = ["SKU-1", *(f"NONE-{i}" for i in range(length - 1))]
            rows = query.all(uow.stock.conn, {"t": "default", "skus": skus, "since": since})
            assert [row.sku for row in rows] == ["SKU-1"] * 3
    assert len(query._plans) == MAX_PLANS


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_jobs_queued_in_one_process_wake_the_workers_listening_in_another(
    hub: Hub, database_url: str
) -> None:
    other = make_hub(database_url)  # another process's hub: its own engine and listener
    heard: list[Queued] = []
    stop = threading.Event()
    listener = threading.Thread(target=other.db.listen_for_jobs, args=(heard.append, stop))
    listener.start()
    try:
        time.sleep(0.5)  # listening
        with hub.uow() as uow:
            uow.outbox.add("alerts.digest", {}, delay=30)
            uow.commit()
        deadline = time.monotonic() + 10
        while not any(q and "alerts.digest" in q for q in heard) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        listener.join(timeout=10)
        other.close()
    [queued] = [q for q in heard if q and "alerts.digest" in q]
    due = queued["alerts.digest"]
    assert due is not None and 25 < due - time.time() <= 30
