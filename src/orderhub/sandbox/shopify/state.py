"""The emulated shop's memory: orders, fulfillments, catalog, customers and subscriptions.

Every read and write happens under one re-entrant lock, so the HTTP handlers (event
loop thread) and the in-process helpers used by tests (any thread) see one consistent
shop. Changes that Shopify announces by webhook are handed to `emit(topic, payload)`
while the lock is held, so deliveries are queued in the order the changes happened.
"""

from __future__ import annotations

import copy
import random
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from orderhub.sandbox.shopify import fulfillment as fl
from orderhub.sandbox.shopify.catalog import Catalog
from orderhub.sandbox.shopify.common import (
    ApiError,
    Json,
    deep_merge,
    gid,
    iso,
    not_found,
    shop_tz,
    unprocessable,
)
from orderhub.sandbox.shopify.events import add_event
from orderhub.sandbox.shopify.orders import build_order
from orderhub.sandbox.shopify.payments import Payments
from orderhub.sandbox.shopify.refunds import apply_refund, build_refund

__all__ = ["CANCEL_REASONS", "TOPICS", "Emit", "ShopState"]

Emit = Callable[[str, Json], None]

TOPICS = frozenset(
    {
        "app/uninstalled",
        "customers/create",
        "fulfillments/create",
        "fulfillments/update",
        "inventory_levels/update",
        "orders/cancelled",
        "orders/create",
        "orders/delete",
        "orders/fulfilled",
        "orders/paid",
        "orders/partially_fulfilled",
        "orders/updated",
        "products/create",
        "products/update",
        "refunds/create",
    }
)
CANCEL_REASONS = frozenset({"customer", "fraud", "inventory", "declined", "staff", "other"})
DECREMENT = frozenset({"decrement_ignoring_policy", "decrement_obeying_policy"})


class ShopState:
    """One shop's data; methods raise ApiError for what the real API would refuse."""

    def __init__(
        self,
        *,
        shop_domain: str,
        api_version: str,
        currency: str = "USD",
        utc_offset_minutes: int = -240,
        seed: int | None = None,
        emit: Emit | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        self.shop_domain = shop_domain
        self.api_version = api_version
        self.currency = currency
        self.tz = shop_tz(utc_offset_minutes)
        self.shop_id = 548380000 + self.rng.randrange(10_000)
        self._last_id = 5_800_000_000_000 + self.rng.randrange(10**9)
        self._order_number = 1000
        self.emit: Emit = emit or (lambda topic, payload: None)
        self.orders: dict[int, Json] = {}
        self.fulfillment_orders: dict[int, Json] = {}
        self.fo_by_order: dict[int, list[int]] = {}
        self.fulfillments: dict[int, Json] = {}
        self.fulfillment_events: dict[int, list[Json]] = {}
        self.customers: dict[str, Json] = {}
        self.webhooks: dict[int, Json] = {}
        self.decremented: dict[int, list[tuple[int, int]]] = {}
        self.catalog = Catalog(shop_id=self.shop_id, next_id=self.next_id, now=self.now)
        self.payments = Payments(currency=currency, next_id=self.next_id, now=self.now)

    # ids, clock, lookups used by the order builder

    def next_id(self) -> int:
        """A fresh int64-sized id; ids only grow, so id order is creation order."""
        with self.lock:
            self._last_id += self.rng.randint(1, 997)
            return self._last_id

    def next_order_number(self) -> int:
        """The shop's order counter: #1001, #1002, ..."""
        with self.lock:
            self._order_number += 1
            return self._order_number

    def now(self) -> datetime:
        """The shop's clock, in the shop's UTC offset like the API renders it."""
        return datetime.now(self.tz)

    def variant(self, variant_id: int) -> tuple[Json, Json] | None:
        """(variant, product) for a variant id, or None."""
        return self.catalog.variant(variant_id)

    def customer_for(self, data: Mapping[str, Any], email: str | None, phone: str | None) -> Json:
        """The customer with this email, created on first sight like a checkout does."""
        key = str(email or phone or data.get("id") or "")
        if not key:
            key = f"guest-{self.next_id()}"
        customer = self.customers.get(key)
        stamp = iso(self.now())
        if customer is None:
            customer_id = self.next_id()
            customer = {
                "id": customer_id,
                "email": email,
                "created_at": stamp,
                "updated_at": stamp,
                "first_name": data.get("first_name"),
                "last_name": data.get("last_name"),
                "state": "disabled",
                "note": None,
                "verified_email": bool(email),
                "multipass_identifier": None,
                "tax_exempt": False,
                "phone": data.get("phone") or phone,
                "currency": self.currency,
                "tags": "",
                "tax_exemptions": [],
                "admin_graphql_api_id": gid("Customer", customer_id),
                "default_address": None,
            }
            self.customers[key] = customer
            self.emit("customers/create", customer)
        return copy.deepcopy(customer)

    # orders

    def create_order(
        self, body: Mapping[str, Any], override: Mapping[str, Any] | None = None
    ) -> Json:
        """Create an order like POST orders.json; `override` is overlaid on the result."""
        with self.lock:
            order = build_order(self, body)
            behaviour = str(body.get("inventory_behaviour") or "bypass")
            moves = self._inventory_moves(order, behaviour)
            if override:
                deep_merge(order, override)
            for item_id, quantity in moves:
                self.catalog.adjust(item_id, -quantity)
            if moves:
                self.decremented[order["id"]] = moves
            self.orders[order["id"]] = order
            self._open_fulfillment_order(order)
            self.emit("orders/create", order)
            if order.get("financial_status") == "paid":
                self.payments.charge(order)
                self.emit("orders/paid", order)
            return copy.deepcopy(order)

    def _inventory_moves(self, order: Json, behaviour: str) -> list[tuple[int, int]]:
        if behaviour not in DECREMENT:
            return []
        moves: list[tuple[int, int]] = []
        for line in order["line_items"]:
            found = self.catalog.variant(line["variant_id"]) if line["variant_id"] else None
            if found is None or found[0]["inventory_management"] != "shopify":
                continue
            variant = found[0]
            short = variant["inventory_quantity"] < line["quantity"]
            if (
                behaviour == "decrement_obeying_policy"
                and short
                and (variant["inventory_policy"] == "deny")
            ):
                raise unprocessable("line_items", f"{line['title']} is out of stock")
            moves.append((variant["inventory_item_id"], line["quantity"]))
        return moves

    def _open_fulfillment_order(self, order: Json) -> None:
        fo_id = self.next_id()
        line_ids = [self.next_id() for _ in order["line_items"]]
        items: dict[int, int | None] = {}
        for line in order["line_items"]:
            found = self.catalog.variant(line["variant_id"]) if line["variant_id"] else None
            items[line["id"]] = found[0]["inventory_item_id"] if found else None
        fo = fl.build_fulfillment_order(
            fo_id, line_ids, order, self.catalog.primary_location, items
        )
        self.fulfillment_orders[fo_id] = fo
        self.fo_by_order[order["id"]] = [fo_id]

    def order(self, order_id: int) -> Json:
        """The live order dict (callers hold the lock); 404 when unknown."""
        order = self.orders.get(order_id)
        if order is None:
            raise not_found()
        return order

    def cancel_order(self, order_id: int, body: Mapping[str, Any]) -> Json:
        """Cancel like POST orders/{id}/cancel.json: refused once anything has shipped."""
        with self.lock:
            order = self.order(order_id)
            if order["cancelled_at"]:
                raise unprocessable("base", "Order has already been cancelled")
            if any(f["status"] == "success" for f in order["fulfillments"]):
                raise unprocessable("base", "Cannot cancel an order that has fulfillments")
            reason = str(body.get("reason") or "other")
            if reason not in CANCEL_REASONS:
                raise unprocessable("reason", f"{reason} is not a valid reason")
            now = self.now()
            order["cancelled_at"] = order["closed_at"] = order["updated_at"] = iso(now)
            order["cancel_reason"] = reason
            if order["financial_status"] in {"pending", "authorized"}:
                order["financial_status"] = "voided"
            for line in order["line_items"]:
                line["fulfillable_quantity"] = 0
            fl.close_fulfillment_orders(self._fos(order_id), now)
            if body.get("restock"):
                for item_id, quantity in self.decremented.pop(order_id, []):
                    self.catalog.adjust(item_id, quantity)
            self.emit("orders/cancelled", order)
            self.emit("orders/updated", order)
            return copy.deepcopy(order)

    def set_closed(self, order_id: int, closed: bool) -> Json:
        """Archive (close) or re-open an order."""
        with self.lock:
            order = self.order(order_id)
            if not closed and order["cancelled_at"]:
                raise unprocessable("base", "Cannot reopen a cancelled order")
            stamp = iso(self.now())
            order["closed_at"] = stamp if closed else None
            order["updated_at"] = stamp
            self.emit("orders/updated", order)
            return copy.deepcopy(order)

    def _fos(self, order_id: int) -> list[Json]:
        return [self.fulfillment_orders[i] for i in self.fo_by_order.get(order_id, [])]

    def fulfillment_orders_of(self, order_id: int) -> list[Json]:
        """Copies of an order's fulfillment orders; 404 for an unknown order."""
        with self.lock:
            self.order(order_id)
            return copy.deepcopy(self._fos(order_id))

    # refunds

    def create_refund(self, order_id: int, body: Mapping[str, Any]) -> Json:
        """POST orders/{id}/refunds.json: money and/or goods back; restocks as asked."""
        with self.lock:
            order = self.order(order_id)
            refund = build_refund(
                order,
                body,
                next_id=self.next_id,
                now=self.now(),
                default_location_id=int(self.catalog.primary_location["id"]),
            )
            apply_refund(order, refund, self._fos(order_id))
            for item in refund["refund_line_items"]:
                variant_id = item["line_item"].get("variant_id")
                found = self.catalog.variant(variant_id) if variant_id else None
                managed = found is not None and found[0]["inventory_management"] == "shopify"
                if item["restock_type"] != "no_restock" and found is not None and managed:
                    self.catalog.adjust(found[0]["inventory_item_id"], int(item["quantity"]))
            self.payments.refund(order, refund)
            self.emit("refunds/create", refund)
            self.emit("orders/updated", order)
            return copy.deepcopy(refund)

    def refunds_of(self, order_id: int) -> list[Json]:
        """Copies of an order's refunds, oldest first; 404 for an unknown order."""
        with self.lock:
            return copy.deepcopy(list(self.order(order_id)["refunds"]))

    # fulfillments

    def create_fulfillment(self, body: Mapping[str, Any]) -> Json:
        """POST fulfillments.json: ship fulfillment-order lines with tracking."""
        with self.lock:
            fulfillment, order = fl.apply_fulfillment(
                self.next_id(), body, self.orders, self.fulfillment_orders, self.now()
            )
            self.fulfillments[fulfillment["id"]] = fulfillment
            self.emit("fulfillments/create", fulfillment)
            self.emit("orders/updated", order)
            if order["fulfillment_status"] == "fulfilled":
                self.emit("orders/fulfilled", order)
            else:
                self.emit("orders/partially_fulfilled", order)
            return copy.deepcopy(fulfillment)

    def _fulfillment(self, fulfillment_id: int) -> tuple[Json, Json]:
        fulfillment = self.fulfillments.get(fulfillment_id)
        if fulfillment is None:
            raise not_found()
        return fulfillment, self.orders[fulfillment["order_id"]]

    def update_tracking(self, fulfillment_id: int, body: Mapping[str, Any]) -> Json:
        """POST fulfillments/{id}/update_tracking.json."""
        with self.lock:
            fulfillment, order = self._fulfillment(fulfillment_id)
            fl.update_tracking(fulfillment, order, body, self.now())
            self.emit("fulfillments/update", fulfillment)
            self.emit("orders/updated", order)
            return copy.deepcopy(fulfillment)

    def add_fulfillment_event(
        self, order_id: int, fulfillment_id: int, body: Mapping[str, Any]
    ) -> Json:
        """POST orders/{id}/fulfillments/{fid}/events.json."""
        with self.lock:
            order = self.order(order_id)
            events = self.fulfillment_events.setdefault(fulfillment_id, [])
            event = add_event(
                self.next_id(),
                order,
                fulfillment_id,
                body,
                events,
                shop_id=self.shop_id,
                tz=self.tz,
                now=self.now(),
            )
            self.emit("fulfillment_events/create", event)
            return copy.deepcopy(event)

    def events_of(self, order_id: int, fulfillment_id: int) -> list[Json]:
        with self.lock:
            self.order(order_id)
            return copy.deepcopy(self.fulfillment_events.get(fulfillment_id, []))

    def cancel_fulfillment(self, fulfillment_id: int) -> Json:
        """POST fulfillments/{id}/cancel.json: its quantities become fulfillable again."""
        with self.lock:
            fulfillment, order = self._fulfillment(fulfillment_id)
            fl.cancel_fulfillment(fulfillment, order, self._fos(order["id"]), self.now())
            self.emit("fulfillments/update", fulfillment)
            self.emit("orders/updated", order)
            return copy.deepcopy(fulfillment)

    # catalog

    def create_product(self, body: Mapping[str, Any]) -> Json:
        """POST products.json."""
        with self.lock:
            product = self.catalog.create_product(body)
            self.emit("products/create", product)
            return copy.deepcopy(product)

    def set_inventory(self, body: Mapping[str, Any]) -> Json:
        """POST inventory_levels/set.json: absolute stock of an item at a location."""
        missing = [k for k in ("location_id", "inventory_item_id", "available") if k not in body]
        if missing:
            raise ApiError(400, {missing[0]: "Required parameter missing or invalid"})
        try:
            location_id = int(body["location_id"])
            item_id = int(body["inventory_item_id"])
            available = int(body["available"])
        except (TypeError, ValueError) as exc:
            raise unprocessable("available", "must be an integer") from exc
        with self.lock:
            level = self.catalog.set_level(location_id, item_id, available)
            self.emit("inventory_levels/update", level)
            return copy.deepcopy(level)

    def set_inventory_quantities(self, quantities: list[tuple[int, int, int]]) -> list[Json]:
        """(location id, inventory item id, available) for many levels under one lock, as
        GraphQL's inventorySetQuantities sets them; each level announces itself like a
        REST set does. Callers check the input first: an unknown id raises ApiError."""
        with self.lock:
            levels = []
            for location_id, item_id, available in quantities:
                level = self.catalog.set_level(location_id, item_id, available)
                self.emit("inventory_levels/update", level)
                levels.append(copy.deepcopy(level))
            return levels

    def adjust_inventory(self, body: Mapping[str, Any]) -> Json:
        """POST inventory_levels/adjust.json: relative change at a connected location."""
        try:
            location_id = int(body["location_id"])
            item_id = int(body["inventory_item_id"])
            delta = int(body["available_adjustment"])
        except KeyError as exc:
            raise ApiError(400, {exc.args[0]: "Required parameter missing or invalid"}) from exc
        except (TypeError, ValueError) as exc:
            raise unprocessable("available_adjustment", "must be an integer") from exc
        with self.lock:
            if item_id not in self.catalog.inventory_items:
                raise not_found()
            level = self.catalog.adjust(item_id, delta, location_id)
            self.emit("inventory_levels/update", level)
            return copy.deepcopy(level)

    # webhook subscriptions

    def create_webhook(self, body: Mapping[str, Any]) -> Json:
        """POST webhooks.json; one subscription per (topic, address)."""
        topic = str(body.get("topic") or "")
        address = str(body.get("address") or "")
        if topic not in TOPICS:
            raise unprocessable("topic", f"Invalid topic specified: {topic}")
        if not address.startswith(("http://", "https://")):
            raise unprocessable("address", "is invalid")
        with self.lock:
            if any(w["topic"] == topic and w["address"] == address for w in self.webhooks.values()):
                raise unprocessable("address", "for this topic has already been taken")
            webhook_id = self.next_id()
            stamp = iso(self.now())
            webhook: Json = {
                "id": webhook_id,
                "address": address,
                "topic": topic,
                "created_at": stamp,
                "updated_at": stamp,
                "format": str(body.get("format") or "json"),
                "fields": list(body.get("fields") or []),
                "metafield_namespaces": list(body.get("metafield_namespaces") or []),
                "api_version": self.api_version,
                "private_metafield_namespaces": [],
            }
            self.webhooks[webhook_id] = webhook
            return copy.deepcopy(webhook)

    def delete_webhook(self, webhook_id: int) -> None:
        """DELETE webhooks/{id}.json."""
        with self.lock:
            if self.webhooks.pop(webhook_id, None) is None:
                raise not_found()

    def subscriptions(self, topic: str) -> list[Json]:
        """Copies of the subscriptions a change of this topic is delivered to."""
        with self.lock:
            return [copy.deepcopy(w) for w in self.webhooks.values() if w["topic"] == topic]
