"""The API and the worker may be separate processes, each keeping the configuration it
reads for every order. A change made in one is seen by the other's very next unit of
work: a switch turned, a rule put in force, a new secret for a connector. On SQLite and
PostgreSQL, with two hubs on one database standing for the two processes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import event

from orderhub.config import HubConfig
from orderhub.services import connections
from orderhub.services.hub import Hub
from orderhub.services.rules import activate_rule_set, active_rules, put_rule_set
from orderhub.services.setup import apply_config, put_shop
from orderhub.services.switches import enabled, syncs
from support import make_hub, offline_shop, offline_warehouse


@pytest.fixture
def worker_hub(database_url: str, hub: Hub) -> Iterator[Hub]:
    """A second hub on the same database: the worker process beside the API's."""
    apply_config(hub, HubConfig(shops=[offline_shop("S1")], nodes=[offline_warehouse("WH1")]))
    other = make_hub(database_url)
    yield other
    other.close()


def test_a_switch_turned_in_one_process_holds_at_once_in_another(hub: Hub, worker_hub: Hub) -> None:
    with worker_hub.reader() as uow:  # the worker has both cached
        assert syncs(uow.catalog.shop("S1"), "orders")
        assert enabled(uow.catalog.node("WH1"))

    connections.set_sync(hub, "S1", {"orders": False})
    connections.set_enabled(hub, "node", "WH1", False)

    with worker_hub.reader() as uow:
        assert not syncs(uow.catalog.shop("S1"), "orders")
        assert not enabled(uow.catalog.node("WH1"))
        assert not enabled(uow.catalog.nodes()[0])


def test_a_rule_put_in_force_in_one_process_decides_in_another(hub: Hub, worker_hub: Hub) -> None:
    with worker_hub.reader() as uow:
        assert active_rules(uow).sets == ()
    put_rule_set(
        hub,
        {
            "name": "invoices",
            "rules": [
                {
                    "name": "invoice",
                    "when": "order.remarks.buyer.contains('发票')",
                    "action": "hold",
                    "reason": "the buyer asks for an invoice",
                }
            ],
        },
    )
    activate_rule_set(hub, "invoices")
    with worker_hub.reader() as uow:
        assert [s.name for s in active_rules(uow).sets] == ["invoices"]


def test_a_connector_set_up_anew_in_one_process_is_rebuilt_in_another(
    hub: Hub, worker_hub: Hub
) -> None:
    with worker_hub.reader() as uow:
        before = worker_hub.channel(uow.catalog.shop("S1"))
    with worker_hub.reader() as uow:
        assert worker_hub.channel(uow.catalog.shop("S1")) is before  # kept while unchanged

    put_shop(hub, offline_shop("S1", secrets={"access_token": "new", "webhook_secret": "s"}))

    with worker_hub.reader() as uow:
        after = worker_hub.channel(uow.catalog.shop("S1"))
    assert after is not before
    assert after.settings.access_token == "new"  # type: ignore[attr-defined]


def test_a_job_still_holding_the_shop_as_set_up_before_does_not_build_its_connector_back(
    hub: Hub, worker_hub: Hub
) -> None:
    """A pull reads the shop, then another process sets it up anew and a newer job
    rebuilds the connector: the pull's next call, made with the record it read, must get
    that connector, not replace it (and drop what the newer job's calls hold)."""
    with worker_hub.reader() as uow:
        held = uow.catalog.shop("S1")
        old = worker_hub.channel(held)

    put_shop(hub, offline_shop("S1", secrets={"access_token": "new", "webhook_secret": "s"}))

    with worker_hub.reader() as uow:
        new = worker_hub.channel(uow.catalog.shop("S1"))
    assert new is not old
    assert worker_hub.channel(held) is new
    with worker_hub.reader() as uow:
        assert worker_hub.channel(uow.catalog.shop("S1")) is new

    # A set-up made in memory (a copy with a change) was not read at any version: it is
    # built as it is, as before.
    trial = replace(held, secrets={"access_token": "trial", "webhook_secret": "s"})
    assert trial.version == 0 < held.version
    assert worker_hub.channel(trial).settings.access_token == "trial"  # type: ignore[attr-defined]


def test_a_shop_listed_while_another_process_sets_it_up_anew_does_not_build_the_old_set_up_back(
    hub: Hub, worker_hub: Hub
) -> None:
    """The stock lane lists the shops; the seller's change commits between its read of the
    rows and of the configuration version. What it listed holds the set-up from before,
    and must be known as older: a pull that built the connector anew keeps it."""
    changed = False

    def change_between(conn: object, cursor: object, statement: str, *args: object) -> None:
        nonlocal changed
        if not changed and "FROM shops" in statement:
            changed = True
            new_secrets = {"access_token": "new", "webhook_secret": "s"}
            put_shop(hub, offline_shop("S1", secrets=new_secrets))

    event.listen(worker_hub.db.engine, "after_cursor_execute", change_between)
    try:
        with worker_hub.reader() as uow:
            [listed] = uow.catalog.shops()
    finally:
        event.remove(worker_hub.db.engine, "after_cursor_execute", change_between)
    assert changed

    with worker_hub.reader() as uow:
        current = uow.catalog.shop("S1")
    built = worker_hub.channel(current)
    assert built.settings.access_token == "new"  # type: ignore[attr-defined]
    assert worker_hub.channel(listed) is built
    assert worker_hub.channel(current) is built
