"""Everything one emulated store holds, behind one lock, and the events its changes fire.

Orders, products, variations and refunds share one id sequence (WordPress posts); line
items, meta and notes another. A change that saves an order fires `order.updated` (status,
meta, refunds; a note does not save the order), a new order `order.created`, to every
active webhook of that topic.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timezone
from typing import Any

from .catalog import Catalog
from .orders import OrderBook, StoredOrder
from .refunds import create_refund
from .wire import Json, WooError, site_dates

__all__ = ["StoreState", "valid_topic"]

RESOURCES = frozenset({"coupon", "customer", "order", "product"})
EVENTS = frozenset({"created", "updated", "deleted", "restored"})


def valid_topic(topic: str) -> bool:
    """`wc_is_webhook_valid_topic`: a resource.event pair, or a custom `action.<hook>`."""
    resource, dot, event = topic.partition(".")
    if resource == "action":
        return bool(dot and event)
    return resource in RESOURCES and event in EVENTS


class StoreState:
    """One store: catalogue, orders, webhooks; `emit(webhook, payload, id)` sends."""

    def __init__(
        self,
        *,
        offset: timezone,
        currency: str,
        base_url: Callable[[], str],
        emit: Callable[[Json, Any, Any], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.lock = threading.RLock()
        self.offset = offset
        self.base_url = base_url
        self._emit = emit
        self.clock = clock
        self._posts = itertools.count(100)
        self._items = itertools.count(1000)
        self.catalog = Catalog(
            next_id=lambda: next(self._posts), now=clock, offset=offset, base_url=base_url
        )
        self.book = OrderBook(
            self.catalog,
            next_id=lambda: next(self._posts),
            next_item=lambda: next(self._items),
            now=clock,
            offset=offset,
            currency=currency,
        )
        self.webhooks: dict[int, Json] = {}

    # orders, as the REST API shows them

    def order_json(self, stored: StoredOrder) -> Json:
        root = f"{self.base_url()}/wp-json/wc/v3/orders"
        links: Json = {
            "self": [{"href": f"{root}/{stored.data['id']}"}],
            "collection": [{"href": root}],
        }
        if stored.data["customer_id"]:
            customer = f"{self.base_url()}/wp-json/wc/v3/customers/{stored.data['customer_id']}"
            links["customer"] = [{"href": customer}]
        return {**copy.deepcopy(stored.data), "_links": links}

    def refund_json(self, stored: StoredOrder, refund: Json) -> Json:
        own = f"{self.base_url()}/wp-json/wc/v3/orders/{stored.data['id']}"
        links = {
            "self": [{"href": f"{own}/refunds/{refund['id']}"}],
            "collection": [{"href": f"{own}/refunds"}],
            "up": [{"href": own}],
        }
        return {**copy.deepcopy(refund), "_links": links}

    def note_json(self, stored: StoredOrder, note: Json) -> Json:
        own = f"{self.base_url()}/wp-json/wc/v3/orders/{stored.data['id']}"
        return {
            **note,
            "_links": {
                "self": [{"href": f"{own}/notes/{note['id']}"}],
                "collection": [{"href": f"{own}/notes"}],
                "up": [{"href": own}],
            },
        }

    def _fire(self, topic: str, stored: StoredOrder) -> None:
        hooks = [
            h for h in self.webhooks.values() if h["topic"] == topic and h["status"] == "active"
        ]
        if hooks:
            payload = self.order_json(stored)
            for hook in hooks:
                self._emit(hook, payload, stored.data["id"])

    # changes

    def create_order(self, body: Mapping[str, Any], *, at: datetime | None = None) -> Json:
        with self.lock:
            stored = self.book.create(body, at=at)
            self._fire("order.created", stored)
            return self.order_json(stored)

    def update_order(
        self, order_id: int, body: Mapping[str, Any], *, at: datetime | None = None
    ) -> Json:
        """PUT /orders/{id}: `status`, `set_paid`, `meta_data`, `customer_note`, addresses."""
        with self.lock:
            stored = self.book.get(order_id)
            changed = False
            for meta in body.get("meta_data") or []:
                self.book.set_meta(stored, meta)
                changed = True
            for key in ("customer_note", "transaction_id"):
                if key in body:
                    stored.data[key] = str(body[key] or "")
                    changed = True
            for key in ("billing", "shipping"):
                if isinstance(body.get(key), Mapping):
                    stored.data[key].update(
                        {k: str(v) for k, v in body[key].items() if k in stored.data[key]}
                    )
                    changed = True
            status = "processing" if body.get("set_paid") else body.get("status")
            if status:
                changed = self.book.set_status(stored, str(status), at=at) or changed
            if changed:
                self.book.touch(stored, at)
                self._fire("order.updated", stored)
            return self.order_json(stored)

    def add_note(self, order_id: int, body: Mapping[str, Any]) -> Json:
        note = str(body.get("note") or "").strip()
        if not note:
            raise WooError(
                400, "rest_missing_callback_param", "Missing parameter(s): note", params=["note"]
            )
        with self.lock:
            stored = self.book.get(order_id)
            made = self.book.add_note(
                stored,
                note,
                customer_note=bool(body.get("customer_note")),
                by_user=bool(body.get("added_by_user")),
            )
            return self.note_json(stored, made)

    def add_refund(
        self, order_id: int, body: Mapping[str, Any], *, at: datetime | None = None
    ) -> Json:
        with self.lock:
            stored = self.book.get(order_id)
            refund = create_refund(
                self.book,
                stored,
                body,
                next_id=lambda: next(self._posts),
                next_item=lambda: next(self._items),
                now=at or self.clock(),
                offset=self.offset,
            )
            self._fire("order.updated", stored)
            return self.refund_json(stored, refund)

    # webhooks

    def create_webhook(self, body: Mapping[str, Any]) -> Json:
        topic = str(body.get("topic") or "")
        if not valid_topic(topic):
            raise WooError(
                400,
                "woocommerce_rest_webhook_invalid_topic",
                "Webhook topic is required and must be valid.",
            )
        url = str(body.get("delivery_url") or "")
        if not url.startswith(("http://", "https://")):
            raise WooError(
                400,
                "woocommerce_rest_webhook_invalid_delivery_url",
                "Webhook delivery URL must be a valid URL starting with http:// or https://.",
            )
        status = str(body.get("status") or "active")
        if status not in ("active", "paused", "disabled"):
            raise WooError(
                400,
                "rest_invalid_param",
                "Invalid parameter(s): status",
                params={"status": "status is not one of active, paused, and disabled."},
            )
        with self.lock:
            hook_id = next(self._posts)
            local, gmt = site_dates(self.clock(), self.offset)
            resource, _, event = topic.partition(".")
            self.webhooks[hook_id] = {
                "id": hook_id,
                "name": str(body.get("name") or f"Webhook created on {local}"),
                "status": status,
                "topic": topic,
                "resource": resource,
                "event": event,
                "hooks": [],
                "delivery_url": url,
                "secret": str(body.get("secret") or ""),
                "failure_count": 0,
                "date_created": local,
                "date_created_gmt": gmt,
                "date_modified": local,
                "date_modified_gmt": gmt,
            }
            return self.webhooks[hook_id]

    def update_webhook(self, hook_id: int, body: Mapping[str, Any]) -> Json:
        with self.lock:
            hook = self.webhook(hook_id)
            if "status" in body:
                if body["status"] not in ("active", "paused", "disabled"):
                    raise WooError(400, "rest_invalid_param", "Invalid parameter(s): status")
                hook["status"] = str(body["status"])
                if hook["status"] == "active":
                    hook["failure_count"] = 0
            for key in ("secret", "name", "delivery_url"):
                if key in body:
                    hook[key] = str(body[key] or "")
            local, gmt = site_dates(self.clock(), self.offset)
            hook["date_modified"], hook["date_modified_gmt"] = local, gmt
            return hook

    def webhook(self, hook_id: int) -> Json:
        hook = self.webhooks.get(hook_id)
        if hook is None:
            raise WooError(404, "woocommerce_rest_shop_webhook_invalid_id", "Invalid ID.")
        return hook

    def delivered(self, hook_id: int, ok: bool, *, max_failures: int) -> None:
        """Count a delivery's outcome; past `max_failures` failures the webhook is disabled."""
        with self.lock:
            hook = self.webhooks.get(hook_id)
            if hook is None:
                return
            if ok:
                hook["failure_count"] = 0
            elif hook["failure_count"] > max_failures:
                hook["status"] = "disabled"
            else:
                hook["failure_count"] += 1
