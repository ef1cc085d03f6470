"""An Amazon seller account (merchant-fulfilled orders) as a sales channel, over SP-API.

Orders are pulled (Amazon's notifications go to SQS or EventBridge, not to an HTTP
address): getOrders by `LastUpdatedAfter`/`LastUpdatedBefore`, MFN only, paged by
`NextToken`, with one Restricted Data Token for every page while it lives, so each
order arrives with its buyer and whole address. Without the RDT (the app lacks the
Direct-to-Consumer Shipping role) the address has no street, and the mapping says why:
the order is held, never shipped blind. getOrders carries no items, so each order's are
read with getOrderItems, paced on its own quota and kept by order and update time, so a
pull that runs out of quota resumes where it stopped; a Canceled order needs none.

The stored payload is the Order with its `OrderItems` beside it (getOrder's `payload`
plus getOrderItems' list), which `mapping.yaml` reads. A shipment is confirmed per
package with a `packageReferenceId` made from the tracking number, so sending the same
package twice is one package; stock is the listing's MFN quantity, patched on
`/attributes/fulfillment_availability`; the SKUs come from searchListingsItems.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
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
from .client import SpApiClient
from .consts import MAX_LISTINGS_PAGE, PLANS, Status
from .pacing import Pacer, Patience
from .refunds import read_refund, refund_events
from .settings import AmazonSettings
from .shipping import package_detail, package_reference, unshipped, wanted_lines

__all__ = ["AmazonChannel"]

log = logging.getLogger(__name__)
Json = dict[str, Any]
ITEMS_KEPT = 5000


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AmazonChannel:
    """An Amazon seller's MFN orders, tracking numbers and listing quantities."""

    platform = "amazon"
    can_cancel_orders = False  # Orders v0 has no call for a seller to cancel an order
    refunds_on_order = False  # refunds are the Finances API's RefundEvents, pulled apart
    pushes_ids_only = False

    def __init__(
        self,
        settings: Mapping[str, Any],
        client: httpx.Client | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = AmazonSettings.parse(settings)
        s = self.settings
        plans = {**PLANS, **s.quotas}
        self.api = SpApiClient(
            endpoint=s.endpoint,
            lwa_endpoint=s.lwa_endpoint,
            client_id=s.client_id,
            client_secret=s.client_secret,
            refresh_token=s.refresh_token,
            seller_id=s.seller_id,
            marketplace_id=s.marketplace_id,
            transport=Transport(
                "Amazon",
                timeout=s.timeout,
                max_retries=s.max_retries,
                max_inline_wait=0.0,
                client=client,
            ),
            pacer=Pacer(plans, max_wait=s.max_wait),
            rdt_cooldown=s.rdt_retry_minutes * 60,
        )
        self._now: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        # Each order's items as last read, by order id: (LastUpdateDate, items).
        self._items: OrderedDict[str, tuple[str, list[Json]]] = OrderedDict()
        self._product_types: dict[str, str] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AmazonChannel(seller_id={self.settings.seller_id!r})"

    # pushes: none over HTTP

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        return False

    def describe_webhook(self, headers: Mapping[str, str]) -> WebhookDelivery:
        return WebhookDelivery(topic="", delivery_id="", handled=False)

    def register_webhooks(self, *, address: str, topics: Sequence[str]) -> None:
        """Nothing to register: Amazon notifies through SQS or EventBridge; orders are pulled."""

    def orders_in_message(self, body: bytes) -> list[str]:
        raise ValueError("Amazon pushes nothing over HTTP")

    # orders

    def order_ref(self, payload: Mapping[str, Any]) -> tuple[str, str]:
        order = unwrap(payload)
        if not order.get("AmazonOrderId"):
            raise ValueError("The Amazon order has no 'AmazonOrderId'.")
        if not order.get("LastUpdateDate"):
            raise ValueError("The Amazon order has no 'LastUpdateDate'.")
        return str(order["AmazonOrderId"]), str(order["LastUpdateDate"])

    @property
    def pull_rules(self) -> PullRules:
        """Any span, linked pages; a search ends `lag` before now, as Amazon requires."""
        s = self.settings
        return PullRules(
            max_window=timedelta(days=s.window_days),
            page_size=s.page_size,
            paging=Paging.LINKED,
            overlap=timedelta(minutes=s.overlap_minutes),
            lag=timedelta(seconds=s.lag_seconds),
        )

    def search_orders(self, window: Window, page: int | str | None, size: int) -> Page:
        """One page of MFN orders updated within the window, each with its items."""
        params = {"MarketplaceIds": self.settings.marketplace_id}
        if isinstance(page, str):
            params["NextToken"] = page
        else:
            end = min(window.end, self._now() - timedelta(seconds=self.settings.lag_seconds))
            if end < window.start:
                return Page([])  # nothing Amazon lets us search yet
            params.update(
                LastUpdatedAfter=_utc(window.start),
                LastUpdatedBefore=_utc(end),
                FulfillmentChannels="MFN",
                MaxResultsPerPage=str(min(size, self.settings.page_size)),
            )
        patience = Patience(self.settings.pull_wait)
        found = self.api.get_orders(params, patience=patience)
        orders = [
            self._whole(o, patience) for o in found.get("Orders") or [] if isinstance(o, dict)
        ]
        token = found.get("NextToken")
        return Page(orders, next=str(token) if token else None)

    def fetch_order(self, order_id: str) -> PulledOrder:
        """getOrder (with the RDT) and its items."""
        order = self.api.get_order(order_id)
        return self._whole(order, None)

    def _whole(self, order: Json, patience: Patience | None) -> PulledOrder:
        order_id, updated = self.order_ref(order)
        if order.get("OrderStatus") == Status.CANCELED:
            return PulledOrder(order_id, updated, order)  # nothing to ship: no items needed
        with self._lock:
            kept = self._items.get(order_id)
        if kept is not None and kept[0] == updated:
            items = kept[1]
        else:
            items = self.api.get_order_items(order_id, patience=patience)
            self._keep(order_id, updated, items)
        return PulledOrder(order_id, updated, {**order, "OrderItems": items})

    def _keep(self, order_id: str, updated: str, items: list[Json]) -> None:
        with self._lock:
            self._items[order_id] = (updated, items)
            self._items.move_to_end(order_id)
            while len(self._items) > ITEMS_KEPT:
                self._items.popitem(last=False)

    def _unshipped(self, order_id: str, *, fresh: bool) -> dict[str, int]:
        """What Amazon counts as unshipped: as the pull last read it, or read now."""
        with self._lock:
            kept = self._items.get(order_id)
        if kept is not None and not fresh:
            return unshipped(kept[1])
        return unshipped(self.api.get_order_items(order_id))

    def open_receiver(self, channel_order_id: str, sealed: str) -> OpenedReceiver:
        raise Rejected(
            "Amazon seals no receiver: the address comes whole with a Restricted Data Token.",
            code="not_sealed",
        )

    def parse_refund(self, payload: Mapping[str, Any]) -> ChannelRefund:
        """A RefundEvent of the Finances API, as `search_refunds` found it."""
        return read_refund(payload, restock=self.settings.refunds_restock)

    @property
    def refund_rules(self) -> PullRules:
        """As orders: Amazon's Finances search must also stay two minutes behind now."""
        return self.pull_rules

    def search_refunds(self, window: Window, page: int | str | None, size: int) -> Page:
        """One page of listFinancialEvents posted within the window: its RefundEvents."""
        if isinstance(page, str):
            params = {"NextToken": page}
        else:
            end = min(window.end, self._now() - timedelta(seconds=self.settings.lag_seconds))
            if end < window.start:
                return Page([])
            params = {
                "PostedAfter": _utc(window.start),
                "PostedBefore": _utc(end),
                "MaxResultsPerPage": str(min(size, self.settings.page_size)),
            }
        found = self.api.list_financial_events(params, patience=Patience(self.settings.pull_wait))
        refunds = [
            PulledOrder(str(e.get("AmazonOrderId") or ""), str(e.get("PostedDate") or ""), e)
            for e in refund_events(found)
        ]
        token = found.get("NextToken")
        return Page(refunds, next=str(token) if token else None)

    def cancel_order(self, *, channel_order_id: str, reason: str = "other") -> None:
        raise Rejected(
            "Amazon's Orders API gives a seller no call to cancel an order; cancel it in "
            "Seller Central.",
            code="not_supported",
        )

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
        """confirmShipment of one package; a package Amazon already has counts as done.

        Without lines the package holds what Amazon still counts as unshipped, as the
        pull last read it (no extra call), or read again when Amazon refuses that."""
        reference = package_reference(tracking_no)
        done = f"{channel_order_id}:{reference}"
        whole = not lines
        wanted = wanted_lines(lines) or self._unshipped(channel_order_id, fresh=False)
        if not wanted:
            return done  # Amazon counts every item shipped already
        try:
            self._confirm(channel_order_id, reference, carrier, tracking_no, wanted)
        except Rejected as exc:
            if exc.status_code != 400:
                raise
            left = self._unshipped(channel_order_id, fresh=True)
            if whole and left:
                self._confirm(channel_order_id, reference, carrier, tracking_no, left)
            elif any(left.get(item_id, 0) > 0 for item_id in wanted):
                raise
            else:
                log.info(
                    "Amazon already has package %s of %s: %s", reference, channel_order_id, exc
                )
        return done

    def _confirm(
        self, order_id: str, reference: str, carrier: str, tracking_no: str, items: dict[str, int]
    ) -> None:
        detail = package_detail(
            reference=reference,
            carrier=carrier,
            tracking_no=tracking_no,
            items=items,
            shipped_at=self._now(),
            carrier_codes=self.settings.carrier_codes,
            shipping_method=self.settings.shipping_method,
        )
        self.api.confirm_shipment(order_id, detail)

    # stock and listings

    def set_stock(self, *, channel_sku: str, available: int) -> None:
        """Patch the listing's MFN quantity (`fulfillment_availability`, channel DEFAULT)."""
        body = {
            "productType": self._product_type(channel_sku),
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [
                        {"fulfillment_channel_code": "DEFAULT", "quantity": max(available, 0)}
                    ],
                }
            ],
        }
        answer = self.api.patch_listing(channel_sku, body)
        if answer.get("status") == "INVALID":
            issues = "; ".join(
                str(i.get("message")) for i in answer.get("issues") or [] if isinstance(i, dict)
            )
            self._product_types.pop(channel_sku, None)
            raise Rejected(
                f"Amazon refused the quantity of {channel_sku}: {issues}", code="INVALID"
            )

    def _product_type(self, sku: str) -> str:
        if sku not in self._product_types:
            try:
                item = self.api.get_listing(sku)
            except Rejected as exc:
                if exc.status_code == 404:
                    raise Rejected(
                        f"The Amazon seller lists no SKU {sku!r}.", code="unknown_sku"
                    ) from exc
                raise
            self._product_types[sku] = _summary(item).get("productType") or "PRODUCT"
        return self._product_types[sku]

    def list_items(self) -> list[ChannelItem]:
        """Every listing of the seller in the marketplace, by searchListingsItems (Amazon
        pages through at most 1000; a larger catalogue needs the listings report)."""
        found: list[ChannelItem] = []
        token: str | None = None
        while True:
            page = self.api.search_listings(token, MAX_LISTINGS_PAGE)
            for item in page.get("items") or []:
                if not isinstance(item, dict) or not item.get("sku"):
                    continue
                summary = _summary(item)
                if summary.get("productType"):
                    self._product_types[str(item["sku"])] = str(summary["productType"])
                found.append(
                    ChannelItem(
                        str(item["sku"]),
                        str(summary.get("itemName") or ""),
                        str(summary.get("asin") or ""),
                    )
                )
            pagination = page.get("pagination")
            token = pagination.get("nextToken") if isinstance(pagination, dict) else None
            if not token:
                return found

    def close(self) -> None:
        self.api.close()


def _summary(item: Mapping[str, Any]) -> dict[str, Any]:
    summaries = item.get("summaries")
    if isinstance(summaries, list) and summaries and isinstance(summaries[0], dict):
        return dict(summaries[0])
    return {}


def unwrap(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The order itself, bare or inside getOrder's `payload`."""
    inner = payload.get("payload")
    return dict(inner) if isinstance(inner, dict) else dict(payload)
