"""Rows handed straight to the driver are stored exactly as Core would store them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, bindparam, insert, select, update

from orderhub.services.hub import Hub
from orderhub.store import tables as t
from orderhub.store.many_rows import ManyRows

_LEDGER = t.stock_ledger.c
_SHANGHAI = timezone(timedelta(hours=8))


def _rows(prefix: str) -> list[dict[str, object]]:
    moments = [
        datetime(2026, 12, 5, 1, 2, 3, tzinfo=UTC),  # no microseconds: SQLite's text differs
        datetime(2026, 12, 5, 1, 2, 3, 450000, tzinfo=UTC),
        datetime(2026, 12, 5, 9, 2, 3, 7, tzinfo=_SHANGHAI),  # stored in UTC
    ]
    return [
        {
            "tenant": "default",
            "node": "WH1",
            "sku": f"SKU-{i}",
            "kind": "reservation",
            "on_hand_delta": 0,
            "reserved_delta": i + 1,
            "order_id": f"{prefix}{i}" if i else None,
            "reason": "待发货 reason" if i == 2 else "",
            "at": at,
        }
        for i, at in enumerate(moments)
    ]


def test_rows_run_through_the_driver_are_stored_as_core_stores_them(hub: Hub) -> None:
    with hub.db.engine.begin() as conn:
        conn.execute(insert(t.stock_ledger), _rows("core-"))
        assert ManyRows(insert(t.stock_ledger)).run(conn, _rows("many-")) == 3
    with hub.db.engine.connect() as conn:
        # What the database holds, as the driver gives it back: text on SQLite.
        stored = conn.exec_driver_sql(
            "SELECT reserved_delta, sku, kind, reason, order_id, at FROM stock_ledger ORDER BY id"
        ).all()
        typed = conn.execute(select(_LEDGER.at, _LEDGER.order_id).order_by(_LEDGER.id)).all()
    core, many = stored[:3], stored[3:]
    assert [row[:4] for row in many] == [row[:4] for row in core]
    assert [row[5] for row in many] == [row[5] for row in core]
    assert [row.order_id for row in typed] == [None, "core-1", "core-2", None, "many-1", "many-2"]
    assert [row.at for row in typed[3:]] == [row.at for row in typed[:3]]
    assert typed[2].at == datetime(2026, 12, 5, 1, 2, 3, 7, tzinfo=UTC)


def test_an_update_run_for_many_rows_counts_the_rows_it_changed(hub: Hub) -> None:
    levels = t.stock_levels.c
    with hub.uow() as uow:
        for sku in ("A", "B", "C"):
            uow.stock.adjust("WH1", sku, 5)
        uow.commit()
    # A literal in the statement (the 0) goes to the driver with the rows' own values.
    take = ManyRows(
        update(t.stock_levels)
        .where(
            levels.tenant == bindparam("t"),
            levels.sku == bindparam("s"),
            levels.on_hand - levels.reserved - bindparam("q", type_=Integer) >= 0,
        )
        .values(reserved=levels.reserved + bindparam("q"))
    )
    with hub.db.engine.begin() as conn:
        changed = take.run(
            conn,
            [
                {"t": "default", "s": "A", "q": 2},
                {"t": "default", "s": "B", "q": 6},  # more than there is: not changed
                {"t": "default", "s": "C", "q": 5},
                {"t": "default", "s": "missing", "q": 1},
            ],
        )
        assert take.run(conn, []) == 0
    assert changed == 2
    with hub.reader() as uow:
        left = {level.sku: level.reserved for level in uow.stock.levels(skus=["A", "B", "C"])}
    assert left == {"A": 2, "B": 0, "C": 5}


def test_a_statement_whose_column_has_a_python_side_default_is_refused(hub: Hub) -> None:
    # Core would fill such a column for each row; the driver would not, so the statement
    # is refused before anything is written.
    stamped = Table(
        "stamped",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("n", Integer, default=1),
    )
    with hub.db.engine.connect() as conn, pytest.raises(ValueError, match=r"stamped\.n"):
        ManyRows(insert(stamped)).run(conn, [{"id": 1}])


def test_a_payload_stored_twice_is_new_once_and_then_names_its_first_copy(hub: Hub) -> None:
    with hub.uow() as uow:
        first = uow.inbox.add(
            shop="SHOP1", source="webhook", topic="orders/create", dedup_key="k-1", body=b"{}"
        )
        again = uow.inbox.add(
            shop="SHOP1", source="webhook", topic="orders/create", dedup_key="k-1", body=b"[]"
        )
        other = uow.inbox.add(
            shop="SHOP1", source="webhook", topic="orders/create", dedup_key="k-2", body=b"[1]"
        )
        uow.commit()
    assert first[1] is True and other[1] is True
    assert again == (first[0], False)
    with hub.reader() as uow:
        assert uow.inbox.get(first[0]).body == b"{}"
        assert uow.inbox.get(other[0]).body == b"[1]"
