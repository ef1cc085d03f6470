"""`ShopifyChannel`: a Shopify shop as a sales channel of the hub.

Orders are pulled incrementally (`updated_at_min`, `status=any`, following `Link`
rel="next"); shipments are confirmed through the FulfillmentOrder flow; stock is set on
one location, per SKU (REST) or up to 250 SKUs a call (GraphQL, `set_stocks`); webhooks
are verified with the app's client secret; refunds arrive as `refunds/create` webhooks
and are read by `parse_refund`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from orderhub.connectors.base import (
    ChannelItem,
    ChannelRefund,
    ConnectorError,
    OpenedReceiver,
    PulledOrder,
    Rejected,
    WebhookDelivery,
)
from orderhub.connectors.kit.pull import Page, Paging, PullRules, Window
from orderhub.connectors.shopify import refunds, webhooks
from orderhub.connectors.shopify.client import ShopifyClient
from orderhub.connectors.shopify.consts import (
    API_VERSION,
    CARRIER_NAMES,
    DEFAULT_TOPICS,
    EVENT_STATUSES,
    FULFILLABLE_ORDER_STATUSES,
    LIVE_FULFILLMENT_STATUSES,
    MAX_PAGE_SIZE,
    ORDER_STATUS_ANY,
    PLATFORM,
    STOCK_BATCH,
)
from orderhub.connectors.shopify.payments import read_statement
from orderhub.connectors.shopify.stock import InventoryItems, set_stocks
from orderhub.domain.money import Statement

__all__ = ["ShopifyChannel", "ShopifySettings"]

Json = dict[str, Any]


def _setting(
    settings: Mapping[str, Any], key: str, kind: Callable[[Any], Any], default: Any
) -> Any:
    value = settings.get(key)
    if value is None or value == "":
        return default
    try:
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Shopify setting {key!r} has an invalid value.") from exc


@dataclass(frozen=True)
class ShopifySettings:
    """A shop's connection settings, checked once when the channel is built."""

    base_url: str
    shop_domain: str
    access_token: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    api_version: str = API_VERSION
    location_id: int | None = None
    timeout: float = 10.0
    max_retries: int = 2
    max_retry_sleep: float = 2.0
    page_size: int = MAX_PAGE_SIZE
    pull_window_days: int = 7

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> ShopifySettings:
        """Read a settings mapping; a missing or bad key raises ValueError naming it."""
        for key in ("access_token", "webhook_secret"):
            if not settings.get(key):
                raise ValueError(f"Shopify setting {key!r} is missing.")
        shop_domain = str(settings.get("shop_domain") or "")
        base_url = str(settings.get("base_url") or "")
        if not base_url and not shop_domain:
            raise ValueError("Shopify setting 'base_url' (or 'shop_domain') is missing.")
        page_size = _setting(settings, "page_size", int, MAX_PAGE_SIZE)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"Shopify setting 'page_size' must be between 1 and {MAX_PAGE_SIZE}.")
        return cls(
            base_url=base_url or f"https://{shop_domain}",
            shop_domain=shop_domain or httpx.URL(base_url).host,
            access_token=str(settings["access_token"]),
            webhook_secret=str(settings["webhook_secret"]),
            api_version=str(settings.get("api_version") or API_VERSION),
            location_id=_setting(settings, "location_id", int, None),
            timeout=_setting(settings, "timeout", float, 10.0),
            max_retries=_setting(settings, "max_retries", int, 2),
            max_retry_sleep=_setting(settings, "max_retry_sleep", float, 2.0),
            page_size=page_size,
            pull_window_days=_setting(settings, "pull_window_days", int, 7),
        )


def _iso(moment: datetime) -> str:
    """A watermark as Shopify expects it; a naive time is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="seconds")


class ShopifyChannel:
    """A Shopify shop, implementing the hub's ChannelConnector protocol."""

    platform = PLATFORM
    can_cancel_orders = True
    refunds_on_order = False
    pushes_ids_only = False
    webhook_topics = DEFAULT_TOPICS  # what the hub subscribes a shop to
    stock_batch = STOCK_BATCH  # figures one `set_stocks` call to Shopify sets

    def __init__(
        self,
        settings: Mapping[str, Any],
        client: httpx.Client | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = ShopifySettings.parse(settings)
        s = self.settings
        self.api = ShopifyClient(
            base_url=s.base_url,
            access_token=s.access_token,
            api_version=s.api_version,
            timeout=s.timeout,
            max_retries=s.max_retries,
            max_retry_sleep=s.max_retry_sleep,
            client=client,
            sleep=sleep,
        )
        self._items = InventoryItems(self.api)
        self._location_id = s.location_id

    def __repr__(self) -> str:
        return f"ShopifyChannel(shop_domain={self.settings.shop_domain!r})"

    # webhooks

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """True when X-Shopify-Hmac-Sha256 matches the raw body."""
        return webhooks.verify(self.settings.webhook_secret, headers, body)

    def describe_webhook(self, headers: Mapping[str, str]) -> WebhookDelivery:
        """Topic and delivery id; the delivery id is the same on every retry."""
        return webhooks.describe(headers)

    def register_webhooks(self, *, address: str, topics: Sequence[str]) -> None:
        """Subscribe `address` to each topic it is not subscribed to yet."""
        existing = {
            hook["topic"]
            for hook in self.api.list_webhooks(address=address)
            if hook.get("address") == address
        }
        for topic in topics:
            if topic in existing:
                continue
            try:
                self.api.create_webhook(topic=topic, address=address)
            except Rejected as exc:
                if "already been taken" not in exc.message:
                    raise
            existing.add(topic)

    # orders

    def order_ref(self, payload: Mapping[str, Any]) -> tuple[str, str]:
        """(id, updated_at) of a raw order, e.g. ("5800611184337", "2025-07-02T11:38:15-04:00")."""
        if payload.get("id") is None:
            raise ValueError("The Shopify order payload has no 'id'.")
        if not payload.get("updated_at"):
            raise ValueError("The Shopify order payload has no 'updated_at'.")
        return str(payload["id"]), str(payload["updated_at"])

    def orders_in_message(self, body: bytes) -> list[str]:
        raise ValueError("Shopify webhooks carry whole orders")

    def fetch_order(self, order_id: str) -> PulledOrder:
        """One order whole, by its Shopify id."""
        try:
            number = int(order_id)
        except ValueError as exc:
            raise Rejected(f"{order_id!r} is not a Shopify order id", code="bad_order_id") from exc
        order = self.api.get_order(number)
        found_id, updated_at = self.order_ref(order)
        return PulledOrder(found_id, updated_at, order)

    def open_receiver(self, channel_order_id: str, sealed: str) -> OpenedReceiver:
        """Shopify seals no receiver: the order already holds it."""
        raise Rejected("Shopify orders carry their receiver in clear", code="not_sealed")

    @property
    def pull_rules(self) -> PullRules:
        """Shopify searches any span of `updated_at` and links each page to the next."""
        return PullRules(
            max_window=timedelta(days=self.settings.pull_window_days),
            page_size=self.settings.page_size,
            paging=Paging.LINKED,
        )

    def search_orders(self, window: Window, page: int | str | None, size: int) -> Page:
        """One page of orders of any status updated within `window`."""
        if isinstance(page, str):
            found = self.api.list_orders({"limit": size, "page_info": page})
        else:
            found = self.api.list_orders(
                {
                    "status": ORDER_STATUS_ANY,
                    "limit": size,
                    "updated_at_min": _iso(window.start),
                    "updated_at_max": _iso(window.end),
                }
            )
        orders = []
        for order in found.items:
            order_id, updated_at = self.order_ref(order)
            orders.append(
                PulledOrder(channel_order_id=order_id, updated_at=updated_at, payload=order)
            )
        return Page(orders, next=found.next_page_info)

    def parse_refund(self, payload: Mapping[str, Any]) -> ChannelRefund:
        """A `refunds/create` body (or one REST refund) as a ChannelRefund; ValueError if
        unreadable. Line ids are Shopify line item ids, as `confirm_shipment` takes them."""
        return refunds.parse_refund(payload)

    # cancellations

    def cancel_order(self, *, channel_order_id: str, reason: str = "other") -> None:
        """Cancel the order on the shop; an order the shop already cancelled is fine, one
        that has shipped is Rejected with Shopify's own words."""
        try:
            order_id = int(channel_order_id)
        except ValueError as exc:
            raise Rejected(
                f"{channel_order_id!r} is not a Shopify order id", code="bad_order_id"
            ) from exc
        try:
            self.api.cancel_order(order_id, reason=reason)
        except Rejected as exc:
            if "already been cancelled" in exc.message:
                return
            raise

    # shipments

    def confirm_shipment(
        self,
        *,
        channel_order_id: str,
        carrier: str,
        tracking_no: str,
        lines: Sequence[tuple[str, int]],
        notify_customer: bool = True,
    ) -> str:
        """Create a fulfillment with tracking; repeating a confirmation changes nothing.

        A confirmation is a repeat when a live fulfillment with the same tracking number
        already covers the requested lines (or, for the whole order, nothing is left open).
        """
        try:
            order_id = int(channel_order_id)
        except ValueError as exc:
            raise Rejected(
                f"{channel_order_id!r} is not a Shopify order id", code="bad_order_id"
            ) from exc
        needed = _needed(lines)
        if needed and (done := self._fulfilled_with(order_id, tracking_no, needed)):
            return done
        open_orders = [
            fo
            for fo in self.api.list_fulfillment_orders(order_id)
            if fo.get("status") in FULFILLABLE_ORDER_STATUSES
        ]
        if not needed and not _plan_whole(open_orders):
            done = self._fulfilled_with(order_id, tracking_no, needed)
            if done is not None:
                return done
        groups = _plan(open_orders, needed) if needed else _plan_whole(open_orders)
        if not groups:
            raise Rejected(
                f"Shopify order {order_id} has nothing left to fulfil.", code="nothing_to_fulfill"
            )
        body = {
            "line_items_by_fulfillment_order": groups,
            "tracking_info": {
                "number": tracking_no,
                "company": CARRIER_NAMES.get(carrier.strip().upper(), carrier),
            },
            "notify_customer": notify_customer,
        }
        try:
            return str(self.api.create_fulfillment(body)["id"])
        except Rejected:
            again = self._fulfilled_with(order_id, tracking_no, needed)
            if again is None:
                raise
            return again

    def report_parcel_status(
        self,
        *,
        channel_order_id: str,
        channel_fulfillment_id: str,
        status: str,
        happened_at: datetime,
        message: str = "",
    ) -> bool:
        """A fulfillment event, which the buyer's order status page shows."""
        event_status = EVENT_STATUSES.get(status)
        if event_status is None or not channel_fulfillment_id.isdigit():
            return False
        event = {"status": event_status, "happened_at": happened_at.isoformat()}
        self.api.add_fulfillment_event(
            int(channel_order_id),
            int(channel_fulfillment_id),
            {**event, "message": message} if message else event,
        )
        return True

    def _fulfilled_with(
        self, order_id: int, tracking_no: str, needed: Mapping[int, int]
    ) -> str | None:
        """The fulfillment a concurrent confirmation created for this tracking number."""
        same = [
            f
            for f in self.api.list_fulfillments(order_id)
            if f.get("status") in LIVE_FULFILLMENT_STATUSES
            and tracking_no in {f.get("tracking_number"), *(f.get("tracking_numbers") or [])}
        ]
        if same and (not needed or _covers(same, needed)):
            return str(same[0]["id"])
        return None

    # stock

    def set_stock(self, *, channel_sku: str, available: int) -> None:
        """Set the listing's stock at the configured (or first) location."""
        location_id = self._location()
        cached = self._items.cached(channel_sku)
        item_id = self._items.get(channel_sku)
        try:
            self.api.set_inventory_level(
                location_id=location_id, inventory_item_id=item_id, available=available
            )
        except Rejected as exc:
            if not cached or exc.status_code not in (404, 422):
                raise
            self._items.forget(channel_sku)
            fresh = self._items.get(channel_sku)
            if fresh == item_id:
                raise
            self.api.set_inventory_level(
                location_id=location_id, inventory_item_id=fresh, available=available
            )

    def set_stocks(self, figures: Sequence[tuple[str, int]]) -> dict[str, ConnectorError]:
        """Set many listings' stock at the configured (or first) location, `stock_batch`
        (channel SKU, available) figures per GraphQL call; the SKUs not set, each with why
        (an unknown SKU, or one Shopify refused). A call lost or refused as a whole raises
        (RateLimited, Unavailable, Rejected), so the caller tries again; see `stock.py`."""
        return set_stocks(
            self._items, location_id=self._location(), figures=figures, batch=self.stock_batch
        )

    def list_items(self) -> list[ChannelItem]:
        """Every variant with a SKU, from the shop's products."""
        return [
            ChannelItem(
                str(variant["sku"]),
                str(product.get("title") or ""),
                f"{product.get('id')}/{variant.get('id')}",
            )
            for product in self.api.each_product("id,title,variants")
            for variant in product.get("variants") or []
            if variant.get("sku")
        ]

    def _location(self) -> int:
        if self._location_id is None:
            active = [loc for loc in self.api.list_locations() if loc.get("active", True)]
            if not active:
                raise Rejected("The Shopify shop has no active location.", code="no_location")
            self._location_id = int(active[0]["id"])
        return self._location_id

    def statement(self, after: str | None) -> Statement:
        """The Shopify Payments balance transactions after the cursor."""
        return read_statement(self.api, after)

    def close(self) -> None:
        """Release the HTTP client (only if the channel created it)."""
        self.api.close()


def _needed(lines: Sequence[tuple[str, int]]) -> dict[int, int]:
    """Requested quantity per Shopify line item id, repeated lines added together."""
    needed: dict[int, int] = {}
    for line_id, quantity in lines:
        try:
            key = int(line_id)
        except ValueError as exc:
            raise Rejected(f"{line_id!r} is not a Shopify line item id", code="bad_line") from exc
        needed[key] = needed.get(key, 0) + int(quantity)
    return needed


def _covers(fulfillments: list[Json], needed: Mapping[int, int]) -> bool:
    """True when these fulfillments already shipped at least the needed quantities."""
    shipped: dict[int, int] = {}
    for fulfillment in fulfillments:
        for item in fulfillment.get("line_items") or []:
            shipped[int(item["id"])] = shipped.get(int(item["id"]), 0) + int(item["quantity"])
    return all(shipped.get(line_id, 0) >= qty for line_id, qty in needed.items())


def _plan_whole(fulfillment_orders: list[Json]) -> list[Json]:
    """Every fulfillment order with something left; omitting its lines ships all of them."""
    return [
        {"fulfillment_order_id": fo["id"]}
        for fo in fulfillment_orders
        if any(item.get("fulfillable_quantity", 0) > 0 for item in fo.get("line_items", []))
    ]


def _plan(fulfillment_orders: list[Json], needed: Mapping[int, int]) -> list[Json]:
    """Spread the needed (line item id: qty) over fulfillment-order line items."""
    remaining = dict(needed)
    groups = []
    for fo in fulfillment_orders:
        picked = []
        for item in fo.get("line_items", []):
            line_id = int(item["line_item_id"])
            take = min(remaining.get(line_id, 0), int(item.get("fulfillable_quantity", 0)))
            if take > 0:
                picked.append({"id": item["id"], "quantity": take})
                remaining[line_id] -= take
        if picked:
            groups.append(
                {"fulfillment_order_id": fo["id"], "fulfillment_order_line_items": picked}
            )
    short = {line_id: qty for line_id, qty in remaining.items() if qty > 0}
    if short:
        detail = ", ".join(f"line {k} × {v}" for k, v in short.items())
        raise Rejected(
            f"Shopify cannot fulfil {detail}: more than is still open.", code="over_fulfillment"
        )
    return groups
