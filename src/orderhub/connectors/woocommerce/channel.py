"""`WooCommerceChannel`: a WooCommerce store as a sales channel of the hub.

Orders arrive as signed `order.created` / `order.updated` webhooks carrying the whole
order, and the pull engine catches up with `GET /orders?modified_after=…&modified_before=…
&dates_are_gmt=true&orderby=id&order=asc`, page by page (`X-WP-Total` says how many).
WordPress compares those bounds strictly (`>` and `<`), so each window is asked one second
wider on both sides; repeats are dropped by the inbox. Sorting by id keeps pages stable
while orders change (dates tie, ids never do).

Shipments: tracking meta, a note, then `completed` (see `shipping`). Stock: the SKU's
product or variation (see `catalog`). Refunds: an order names them (`refunds[].id`); the
hub fetches each whole from `/orders/{id}/refunds/{refund_id}` and reads it with
`parse_refund`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ..base import (
    ChannelItem,
    ChannelRefund,
    OpenedReceiver,
    PulledOrder,
    Rejected,
    WebhookDelivery,
)
from ..kit.http import Transport
from ..kit.pull import Page, Paging, PullRules, Window
from ..kit.settings import required, setting
from . import refunds, shipping, webhooks
from .auth import AUTH_MODES, Credentials
from .catalog import Catalog
from .client import WooClient
from .consts import DEFAULT_TOPICS, MAX_PER_PAGE, PLATFORM, STATUS_CANCELLED, STATUS_DONE

__all__ = ["WooCommerceChannel", "WooCommerceSettings"]

P = "WooCommerce"
EDGE = timedelta(seconds=1)


@dataclass(frozen=True)
class WooCommerceSettings:
    """One store's connection, by WooCommerce's own names; secrets never show in a repr."""

    url: str
    consumer_key: str
    consumer_secret: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    auth: str = "auto"
    page_size: int = MAX_PER_PAGE
    window_days: float = 7.0
    overlap_minutes: float = 2.0
    timeout: float = 10.0
    max_retries: int = 2

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> WooCommerceSettings:
        """Read a settings mapping; a missing or bad key raises ValueError naming it."""
        url = str(settings.get("url") or settings.get("base_url") or "").strip()
        if not url:
            raise ValueError("WooCommerce setting 'url' (the store's address) is missing.")
        if not url.startswith(("http://", "https://")):
            raise ValueError("WooCommerce setting 'url' must start with https:// or http://.")
        auth = str(settings.get("auth") or "auto")
        if auth not in AUTH_MODES:
            raise ValueError(f"WooCommerce setting 'auth' must be one of {', '.join(AUTH_MODES)}.")
        window_days = setting(settings, "window_days", float, 7.0, platform=P)
        if not window_days > 0:
            raise ValueError("WooCommerce setting 'window_days' must be more than 0.")
        page_size = setting(settings, "page_size", int, MAX_PER_PAGE, platform=P)
        if not 1 <= page_size <= MAX_PER_PAGE:
            raise ValueError(f"WooCommerce setting 'page_size' must be 1 to {MAX_PER_PAGE}.")
        return cls(
            url=url.rstrip("/"),
            consumer_key=required(settings, "consumer_key", platform=P),
            consumer_secret=required(settings, "consumer_secret", platform=P),
            webhook_secret=required(settings, "webhook_secret", platform=P),
            auth=auth,
            page_size=page_size,
            window_days=window_days,
            overlap_minutes=setting(settings, "overlap_minutes", float, 2.0, platform=P),
            timeout=setting(settings, "timeout", float, 10.0, platform=P),
            max_retries=setting(settings, "max_retries", int, 2, platform=P),
        )


def _gmt(moment: datetime) -> str:
    """A bound as WooCommerce reads it with `dates_are_gmt=true`: UTC, no offset."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def _order_id(value: str) -> int:
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        raise Rejected(f"{value!r} is not a WooCommerce order id", code="bad_order_id")
    return int(text)


class WooCommerceChannel:
    """A WooCommerce store, implementing the hub's ChannelConnector protocol."""

    platform = PLATFORM
    can_cancel_orders = True
    refunds_on_order = False  # an order names its refunds; each is fetched whole
    pushes_ids_only = False
    webhook_topics = DEFAULT_TOPICS

    def __init__(
        self,
        settings: Mapping[str, Any],
        client: httpx.Client | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = WooCommerceSettings.parse(settings)
        s = self.settings
        self.api = WooClient(
            base_url=s.url,
            credentials=Credentials(s.consumer_key, s.consumer_secret, mode=s.auth),
            transport=Transport(P, timeout=s.timeout, max_retries=s.max_retries, client=client),
        )
        self.catalog = Catalog(self.api)
        self._clock = clock

    def __repr__(self) -> str:
        return f"WooCommerceChannel(url={self.settings.url!r})"

    # webhooks

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """True when X-WC-Webhook-Signature matches the raw body."""
        return webhooks.verify(self.settings.webhook_secret, headers, body)

    def describe_webhook(self, headers: Mapping[str, str]) -> WebhookDelivery:
        return webhooks.describe(headers)

    def register_webhooks(self, *, address: str, topics: Sequence[str]) -> None:
        """One active webhook per topic to `address`, signed with the webhook secret; one
        that exists already is set active again with the secret (WooCommerce disables a
        webhook after five failed deliveries in a row)."""
        secret = self.settings.webhook_secret
        existing = {
            str(hook.get("topic")): hook
            for hook in self.api.list_webhooks()
            if hook.get("delivery_url") == address
        }
        for topic in topics:
            hook = existing.get(topic)
            if hook is not None:
                self.api.activate_webhook(int(hook["id"]), secret)
            else:
                self.api.create_webhook(
                    topic=topic, delivery_url=address, secret=secret, name=f"orderhub {topic}"
                )

    # orders

    def order_ref(self, payload: Mapping[str, Any]) -> tuple[str, str]:
        """(id, date_modified_gmt) of a raw order, e.g. ("727", "2017-03-22T19:28:08")."""
        if payload.get("id") in (None, "") or isinstance(payload.get("id"), bool):
            raise ValueError("The WooCommerce order has no 'id'.")
        modified = payload.get("date_modified_gmt") or payload.get("date_modified")
        if not modified:
            raise ValueError("The WooCommerce order has no 'date_modified_gmt'.")
        return str(payload["id"]), str(modified)

    def orders_in_message(self, body: bytes) -> list[str]:
        raise ValueError("WooCommerce webhooks carry whole orders")

    def fetch_order(self, order_id: str) -> PulledOrder:
        """One order whole, by its id."""
        order = self.api.get_order(_order_id(order_id))
        found, modified = self.order_ref(order)
        return PulledOrder(found, modified, order)

    def open_receiver(self, channel_order_id: str, sealed: str) -> OpenedReceiver:
        raise Rejected("WooCommerce orders carry their receiver in clear", code="not_sealed")

    @property
    def pull_rules(self) -> PullRules:
        s = self.settings
        return PullRules(
            max_window=timedelta(days=s.window_days),
            page_size=s.page_size,
            paging=Paging.FORWARD,
            first_page=1,
            overlap=timedelta(minutes=s.overlap_minutes),
        )

    def search_orders(self, window: Window, page: int | str | None, size: int) -> Page:
        """One page of the orders of any status modified within `window`, by id."""
        found = self.api.list_orders(
            {
                "modified_after": _gmt(window.start - EDGE),
                "modified_before": _gmt(window.end + EDGE),
                "dates_are_gmt": "true",
                "orderby": "id",
                "order": "asc",
                "page": page if isinstance(page, int) else 1,
                "per_page": size,
            }
        )
        orders = []
        for order in found.items:
            oid, modified = self.order_ref(order)
            orders.append(PulledOrder(oid, modified, order))
        return Page(orders, total=found.total)

    # refunds

    def refunds_named(self, payload: Mapping[str, Any]) -> list[str]:
        """The ids of the refunds a raw order lists (`refunds[].id`)."""
        named = payload.get("refunds")
        listed = named if isinstance(named, list) else []
        return [
            str(r["id"])
            for r in listed
            if isinstance(r, Mapping) and str(r.get("id") or "").isdigit()
        ]

    def fetch_refund(self, channel_order_id: str, refund_id: str) -> dict[str, Any]:
        """One refund whole, with its lines, as `parse_refund` reads it."""
        return self.api.get_refund(_order_id(channel_order_id), _order_id(refund_id))

    def parse_refund(self, payload: Mapping[str, Any]) -> ChannelRefund:
        """A refund from `/orders/{id}/refunds`; line ids are the order's line item ids."""
        return refunds.parse_refund(payload)

    def cancel_order(self, *, channel_order_id: str, reason: str = "other") -> None:
        """Set the order `cancelled`; one already closed is fine, a completed one (shipped)
        is Rejected."""
        oid = _order_id(channel_order_id)
        status = str(self.api.get_order(oid).get("status") or "")
        if status in STATUS_DONE - {"completed"}:
            return
        if status == "completed":
            raise Rejected(f"WooCommerce order {oid} is completed (shipped).", code="shipped")
        self.api.update_order(oid, {"status": STATUS_CANCELLED})

    # shipments and stock

    def confirm_shipment(
        self,
        *,
        channel_order_id: str,
        carrier: str,
        tracking_no: str,
        lines: Sequence[tuple[str, int]],
        notify_customer: bool = True,
    ) -> str:
        """Tracking meta, a note, and `completed` once all has left; repeats change nothing."""
        return shipping.confirm_shipment(
            self.api,
            _order_id(channel_order_id),
            carrier=carrier,
            tracking_no=tracking_no,
            lines=lines,
            notify_customer=notify_customer,
            now=self._clock(),
        )

    def set_stock(self, *, channel_sku: str, available: int) -> None:
        """Set the stock of the product or variation whose SKU is `channel_sku`."""
        self.catalog.set_stock(channel_sku, available)

    def list_items(self) -> list[ChannelItem]:
        """Every product and variation with a SKU."""
        return self.catalog.items()

    def close(self) -> None:
        self.api.close()
