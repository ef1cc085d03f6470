"""Orders under any sequence of channel and warehouse events stay in a defined state.

A hypothesis state machine plays one Shopify shop (the ShopifyEmulator only writes the
payloads: orders, their later versions, cancellations and refunds, delivered in any
order and again) against one warehouse with two SKUs of little stock. The warehouse
takes pushed dispatches, answers intercepts, ships whole dispatches or single lines and
counts its stock; the hub runs its database jobs in between. After every step each
order's status is one of the vocabulary, the same in its column and its document; only
an order that still waits at the warehouse holds stock; every level equals its ledger;
and no step or job failed with anything but the hub's own errors (an illegal move of
state counts as a failure: the services must never attempt one).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select, update

from orderhub.config import HubConfig, ListingConfig, NodeConfig, ShopConfig, SkuConfig, StockConfig
from orderhub.connectors.base import (
    CancelResult,
    ChannelConnector,
    InventoryLevel,
    NodeEvent,
    OutboundOrder,
    OutboundReceipt,
    ReturnOrder,
    ShipmentConfirmed,
    ShipmentLine,
)
from orderhub.domain.errors import IllegalTransition, OrderhubError
from orderhub.domain.order import OrderStatus
from orderhub.jobs.worker import Worker
from orderhub.sandbox.shopify import ShopifyEmulator
from orderhub.sandbox.shopify.common import ApiError
from orderhub.services.dispatch import JOB_NODE_CANCEL, JOB_NODE_PUSH
from orderhub.services.hub import Hub
from orderhub.services.ingest import JOB_INBOX, receive_payload
from orderhub.services.inventory import apply_stocktake
from orderhub.services.pipeline import JOB_REROUTE
from orderhub.services.queries import ledger_mismatches
from orderhub.services.setup import apply_config
from orderhub.services.shipping import JOB_CHANNEL_CONFIRM, apply_shipment
from orderhub.store import tables as t
from support import make_hub

Json = dict[str, Any]
T = TypeVar("T")

SKUS = ("SKU-1", "SKU-2")
NODE = "WH1"
NOWHERE = "http://127.0.0.1:9"
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
# Only these states leave an order holding stock at the node.
HOLDING = frozenset(
    {
        OrderStatus.RESERVED,
        OrderStatus.PUSHED,
        OrderStatus.CANCELLING,
        OrderStatus.PARTIALLY_SHIPPED,
    }
)


class Warehouse:
    """The warehouse's side of the API: takes every push; stops an intercepted order
    or answers that it already left, as the test says."""

    platform = "qimen"

    def __init__(self) -> None:
        self.stops = True
        self.pushed: list[str] = []

    def create_outbound(self, order: OutboundOrder) -> OutboundReceipt:
        self.pushed.append(order.code)
        return OutboundReceipt(f"WMS-{order.code}")

    def cancel_outbound(self, *, code: str, reason: str) -> CancelResult:
        return CancelResult(True) if self.stops else CancelResult(False, "already picked")

    def create_return(self, order: ReturnOrder) -> OutboundReceipt:
        return OutboundReceipt(f"WMS-{order.code}")

    def query_inventory(self, skus: Sequence[str]) -> list[InventoryLevel]:
        return []

    def verify_callback(self, query: Mapping[str, str], body: bytes) -> bool:
        return True

    def parse_callback(self, query: Mapping[str, str], body: bytes) -> NodeEvent:
        raise ValueError("this warehouse sends no callbacks")

    def callback_reply(self, *, ok: bool, message: str = "") -> tuple[bytes, str]:
        return b"", "text/plain"

    def close(self) -> None:
        pass


class ShopDesk:
    """The real Shopify channel (payload reading, refunds) whose shipment confirmations
    are taken by a desk instead of the network."""

    def __init__(self, real: ChannelConnector) -> None:
        self.real = real
        self.confirmed = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def confirm_shipment(self, **_: Any) -> str:
        self.confirmed += 1
        return f"F-{self.confirmed}"

    def close(self) -> None:
        self.real.close()


def catalogue(stock: Mapping[str, int]) -> HubConfig:
    return HubConfig(
        shops=[
            ShopConfig(
                code="S1",
                platform="shopify",
                nodes=[NODE],
                settings={"base_url": NOWHERE, "shop_domain": "s1.myshopify.com"},
                secrets={"access_token": "t", "webhook_secret": "s"},
            )
        ],
        nodes=[
            NodeConfig(
                code=NODE,
                platform="qimen",
                settings={
                    "base_url": f"{NOWHERE}/router",
                    "app_key": "k",
                    "customer_id": "c",
                    "owner_code": "c",
                    "warehouse_code": NODE,
                },
                secrets={"app_secret": "x"},
            )
        ],
        skus=[SkuConfig(sku=sku, title=sku) for sku in SKUS],
        listings=[ListingConfig(shop="S1", channel_sku=sku, sku=sku) for sku in SKUS],
        stock=[StockConfig(node=NODE, sku=sku, on_hand=q) for sku, q in stock.items()],
    )


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class ChannelEventMachine(RuleBasedStateMachine):
    """One shop, one warehouse, two SKUs; any event in any order."""

    orders = Bundle("orders")

    def __init__(self, database_url: str, shop: ShopifyEmulator) -> None:
        super().__init__()
        # A tenant of its own per example: a fresh, empty seller on the same database.
        self.hub = make_hub(database_url, tenant=f"prop-{uuid.uuid4().hex[:12]}")
        self.shop = shop
        self.warehouse = Warehouse()
        self.clock = START
        self.sent: dict[int, list[tuple[str, Json]]] = {}  # channel id → (topic, body) sent
        self.paid_later: set[int] = set()
        self.addresses: dict[int, Json] = {}
        self.shipments: list[ShipmentConfirmed] = []
        self.steps: list[str] = []  # what happened, for the failure report

    def teardown(self) -> None:
        # Workers claim due jobs of every seller on the database: this seller's leftovers
        # must not be run by the next example's worker, which serves another seller.
        c = t.outbox_jobs.c
        with self.hub.db.engine.begin() as conn:
            conn.execute(
                update(t.outbox_jobs)
                .where(c.tenant == self.hub.db.tenant, c.status.in_(["pending", "running"]))
                .values(status="dead", last_error="the example ended")
            )
        self.hub.close()

    # ------------------------------------------------------------------ plumbing

    def tick(self) -> str:
        """The channel's clock: every version of an order is a minute later."""
        self.clock += timedelta(minutes=1)
        return stamp(self.clock)

    def survive(self, what: str, call: Callable[[], T]) -> T | None:
        """Run a step; the hub's own refusals are answers, anything else is a failure."""
        self.steps.append(what)
        try:
            return call()
        except IllegalTransition:
            raise
        except OrderhubError:
            return None

    def deliver(self, channel_id: int, topic: str, body: Json) -> None:
        self.sent.setdefault(channel_id, []).append((topic, body))
        self.survive(
            f"{topic} {channel_id}",
            lambda: receive_payload(self.hub, "S1", body, source="webhook", topic=topic),
        )

    def current(self, channel_id: int) -> Json:
        """The order as the shop holds it now, with the test's own changes on top."""
        body = self.shop.order(channel_id)
        if channel_id in self.paid_later and body["financial_status"] == "pending":
            body["financial_status"] = "paid"
        if channel_id in self.addresses:
            body["shipping_address"] = self.addresses[channel_id]
        return body

    def run_jobs(self, kinds: list[str]) -> None:
        self.steps.append(f"run {', '.join(kinds)}")
        Worker(self.hub, threads=1, kinds=kinds).run_until_idle()

    def hub_order_id(self, channel_id: int) -> str | None:
        with self.hub.reader() as uow:
            order = uow.orders.by_channel_ref("S1", str(channel_id))
        return None if order is None else order.id

    # ------------------------------------------------------------------ set-up

    @initialize(stock=st.tuples(st.integers(0, 6), st.integers(0, 6)))
    def configure(self, stock: tuple[int, int]) -> None:
        apply_config(self.hub, catalogue(dict(zip(SKUS, stock, strict=True))))
        # The hub's connectors for this seller: the real Shopify channel with a desk for
        # confirmations, and the warehouse above.
        with self.hub.reader() as uow:
            shop = uow.catalog.shop("S1")
        self.hub.pin_channel("S1", ShopDesk(Hub.build_channel(shop)))
        self.hub.pin_node(NODE, self.warehouse)
        self.steps.append(f"stock {dict(zip(SKUS, stock, strict=True))}")

    # ------------------------------------------------------------------ the channel

    @rule(
        target=orders,
        lines=st.dictionaries(st.sampled_from(SKUS), st.integers(1, 3), min_size=1, max_size=2),
        paid=st.sampled_from([True, True, False]),
    )
    def place(self, lines: dict[str, int], paid: bool) -> int:
        placed = self.tick()
        order = self.shop.place_order(
            {
                "lines": [{"sku": sku, "quantity": q} for sku, q in sorted(lines.items())],
                "financial_status": "paid" if paid else "pending",
            }
        )
        body = {**order, "created_at": placed, "processed_at": placed, "updated_at": placed}
        self.deliver(order["id"], "orders/create", body)
        return int(order["id"])

    @rule(order=orders, change=st.sampled_from(["pay", "address", "no_address", "resend"]))
    def update(self, order: int, change: str) -> None:
        if change == "pay":
            self.paid_later.add(order)
        elif change == "address":
            address = dict(self.shop.order(order)["shipping_address"] or {})
            self.addresses[order] = {**address, "address1": f"{self.clock.minute} New Road"}
        elif change == "no_address":
            self.addresses[order] = {}
        self.deliver(order, "orders/updated", {**self.current(order), "updated_at": self.tick()})

    @rule(order=orders)
    def cancel(self, order: int) -> None:
        try:
            self.shop.cancel_order(order)
        except ApiError:
            return  # the shop refuses (already cancelled): nothing is sent
        self.deliver(order, "orders/cancelled", {**self.current(order), "updated_at": self.tick()})

    @rule(order=orders, goods_back=st.booleans(), whole=st.booleans())
    def refund(self, order: int, goods_back: bool, whole: bool) -> None:
        lines = self.shop.order(order)["line_items"]
        try:
            refund = self.shop.refund_order(
                order,
                lines=None if whole else [(lines[0]["id"], 1)],
                restock_type="return" if goods_back else "no_restock",
            )
        except ApiError:
            return  # nothing left to refund: the shop refuses
        self.deliver(order, "refunds/create", {**refund, "created_at": self.tick()})

    @rule(order=orders, which=st.integers(0, 5))
    def redeliver(self, order: int, which: int) -> None:
        """A webhook comes again, late: the same body, maybe an older version."""
        sent = self.sent.get(order)
        if sent:
            topic, body = sent[which % len(sent)]
            self.deliver(order, topic, body)

    # ------------------------------------------------------------------ the warehouse

    @rule(order=orders, pick=st.integers(0, 3))
    def ship_whole_dispatch(self, order: int, pick: int) -> None:
        self.ship(order, pick, whole=True)

    @rule(order=orders, pick=st.integers(0, 3))
    def ship_one_unit(self, order: int, pick: int) -> None:
        self.ship(order, pick, whole=False)

    def ship(self, order: int, pick: int, *, whole: bool) -> None:
        """The warehouse ships what is left of one of the order's open dispatches, or
        one unit of its first open line."""
        order_id = self.hub_order_id(order)
        if order_id is None:
            return
        with self.hub.reader() as uow:
            open_ = [
                d
                for d in uow.dispatches.of_order(order_id)
                if d.status in ("pending", "pushed", "acknowledged")
                and any(x.shipped < x.quantity for x in d.lines)
            ]
        if not open_:
            return
        dispatch = open_[pick % len(open_)]
        left = [x for x in dispatch.lines if x.shipped < x.quantity]
        parcel = (
            [ShipmentLine(x.sku, x.quantity - x.shipped, x.line_no) for x in left]
            if whole
            else [ShipmentLine(left[0].sku, 1, left[0].line_no)]
        )
        n = len(self.shipments) + 1
        shipment = ShipmentConfirmed(
            code=dispatch.id,
            carrier="SF",
            tracking_no=f"SF{n:04d}",
            lines=parcel,
            confirm_id=f"C{n}",
            final=whole,
        )
        self.shipments.append(shipment)
        self.apply(shipment)

    @precondition(lambda self: bool(self.shipments))
    @rule(which=st.integers(0, 5))
    def ship_again(self, which: int) -> None:
        """The warehouse repeats a shipment confirmation."""
        self.apply(self.shipments[which % len(self.shipments)])

    def apply(self, shipment: ShipmentConfirmed) -> None:
        lines = ", ".join(f"{x.sku}×{x.quantity}@{x.line_no}" for x in shipment.lines)

        def call() -> None:
            with self.hub.uow() as uow:
                apply_shipment(uow, NODE, shipment)
                uow.commit()

        self.survive(f"ship {shipment.code} {shipment.confirm_id}: {lines}", call)

    @rule()
    def warehouse_takes_pushes(self) -> None:
        self.run_jobs([JOB_NODE_PUSH])

    @rule(stops=st.booleans())
    def warehouse_answers_intercepts(self, stops: bool) -> None:
        self.warehouse.stops = stops
        self.steps.append("the warehouse " + ("stops" if stops else "cannot stop") + " orders")
        self.run_jobs([JOB_NODE_CANCEL])

    @rule(sku=st.sampled_from(SKUS), counted=st.integers(0, 6))
    def stocktake(self, sku: str, counted: int) -> None:
        self.survive(
            f"stocktake {sku}={counted}",
            lambda: apply_stocktake(self.hub, NODE, {sku: counted}, reason="count"),
        )

    # ------------------------------------------------------------------ the hub

    @rule()
    def run_database_jobs(self) -> None:
        self.run_jobs([JOB_INBOX, JOB_REROUTE])

    @rule()
    def shop_gets_tracking(self) -> None:
        self.run_jobs([JOB_CHANNEL_CONFIRM])

    # ------------------------------------------------------------------ invariants

    def where(self) -> str:
        return "after: " + " | ".join(self.steps)

    @invariant()
    def every_status_is_defined_and_its_column_equals_its_document(self) -> None:
        c = t.orders.c
        with self.hub.db.engine.connect() as conn:
            rows = conn.execute(
                select(c.id, c.status, c.document).where(c.tenant == self.hub.db.tenant)
            ).all()
        known = {s.value for s in OrderStatus}
        for row in rows:
            assert row.status in known, f"{row.id} is {row.status!r}; {self.where()}"
            document = json.loads(row.document)["status"]
            assert document == row.status, (
                f"{row.id}: column {row.status}, document {document}; {self.where()}"
            )

    @invariant()
    def only_an_order_waiting_at_the_node_holds_stock(self) -> None:
        c = t.orders.c
        with self.hub.db.engine.connect() as conn:
            ids = conn.execute(select(c.id, c.status).where(c.tenant == self.hub.db.tenant)).all()
        with self.hub.reader() as uow:
            held = {oid: uow.stock.held_by(oid) for oid, _ in ids}
        for order_id, status in ids:
            if OrderStatus(status) not in HOLDING:
                assert held[order_id] == [], (
                    f"{order_id} is {status} and holds {held[order_id]}; {self.where()}"
                )

    @invariant()
    def every_level_equals_its_ledger(self) -> None:
        assert ledger_mismatches(self.hub) == [], self.where()

    @invariant()
    def no_job_failed(self) -> None:
        c = t.outbox_jobs.c
        with self.hub.db.engine.connect() as conn:
            failed = conn.execute(
                select(c.kind, c.order_id, c.last_error).where(
                    c.tenant == self.hub.db.tenant, c.last_error.is_not(None)
                )
            ).all()
        assert failed == [], f"{[tuple(r) for r in failed]}; {self.where()}"


def _run(database_url: str, *, examples: int, steps: int) -> None:
    shop = ShopifyEmulator(seed=11)
    shop.seed_product({"skus": list(SKUS), "price": "19.90", "stock": 1000})
    try:
        run_state_machine_as_test(
            lambda: ChannelEventMachine(database_url, shop),
            settings=settings(
                max_examples=examples,
                stateful_step_count=steps,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        shop.close()


def test_no_sequence_of_channel_and_warehouse_events_leaves_an_order_undefined(
    database_url: str,
) -> None:
    on_postgres = database_url.startswith("postgresql")
    _run(database_url, examples=20 if on_postgres else 40, steps=25 if on_postgres else 30)


def test_a_return_from_a_partly_shipped_order_leaves_the_rest_to_ship(
    database_url: str,
) -> None:
    shop = ShopifyEmulator(seed=11)
    shop.seed_product({"skus": list(SKUS), "price": "19.90", "stock": 1000})
    machine = ChannelEventMachine(database_url, shop)
    try:
        machine.configure(stock=(3, 0))
        order = machine.place({"SKU-1": 3}, paid=True)
        machine.run_database_jobs()  # reserved: 3 × SKU-1 at WH1
        machine.ship_one_unit(order, pick=0)  # partially shipped: 2 still at the node
        machine.refund(order, goods_back=True, whole=False)  # the shipped unit comes back
        machine.run_database_jobs()

        order_id = machine.hub_order_id(order)
        assert order_id is not None
        with machine.hub.reader() as uow:
            status = uow.orders.get(order_id).status
            held = uow.stock.held_by(order_id)
        # The rest still ships: the order keeps its place and its reservation for it.
        assert status is OrderStatus.PARTIALLY_SHIPPED
        assert held == [("WH1", "SKU-1", 2)]
        with machine.hub.reader() as uow:
            [opened] = uow.returns.of_order(order_id)
        assert opened.is_open
    finally:
        machine.teardown()
        shop.close()
