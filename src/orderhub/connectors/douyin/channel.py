"""A Douyin shop (抖店) as a sales channel.

Orders come two ways. Douyin pushes order messages (a signed JSON array naming order ids,
not the orders), so a message only makes the hub fetch those orders whole; and the pull
engine searches `order.searchList` by update time, oldest first, page 0 upwards, whose
items are whole orders already, so a search costs no detail calls. Shipments go out
with `order.logisticsAdd`, or `order.logisticsAddMultiPack` when only some SKU orders
left in this parcel; stock with `sku.syncStock` setting the full figure by merchant code.
Amounts arrive in fen and times in UNIX seconds; the mapping file converts both.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
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
from ..kit import bounded_json
from ..kit.http import Transport
from ..kit.pull import Page, Paging, PullRules, Window
from ..kit.sealed import field_ciphers, opened
from ..kit.settings import required, setting
from .client import DouyinClient
from .consts import CARRIERS, DEFAULT_WINDOW, MAX_PAGE_SIZE, Method

__all__ = ["DouyinChannel", "DouyinSettings", "orders_in_message"]

P = "Douyin"
HEADER_SIGN = "event-sign"
REFUND_DONE = 3
ORDER_ID_DIGITS = 20
"""Douyin order ids are int64s (19 digits); more digits name no order."""


@dataclass(frozen=True)
class DouyinSettings:
    """One shop's connection; secrets never show in a repr."""

    base_url: str
    app_key: str
    shop_id: str
    app_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    sign_method: str = "hmac-sha256"
    page_size: int = MAX_PAGE_SIZE
    page_cap: int | None = None
    window_hours: float = DEFAULT_WINDOW.total_seconds() / 3600
    overlap_minutes: float = 2.0
    timeout: float = 10.0
    max_retries: int = 2

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> DouyinSettings:
        sign_method = str(settings.get("sign_method") or "hmac-sha256")
        if sign_method not in ("md5", "hmac-sha256"):
            raise ValueError("Douyin setting 'sign_method' must be md5 or hmac-sha256.")
        page_size = setting(settings, "page_size", int, MAX_PAGE_SIZE, platform=P)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"Douyin setting 'page_size' must be between 1 and {MAX_PAGE_SIZE}.")
        return cls(
            base_url=str(settings.get("base_url") or "https://openapi-fxg.jinritemai.com"),
            app_key=required(settings, "app_key", platform=P),
            shop_id=str(settings.get("shop_id") or ""),
            app_secret=required(settings, "app_secret", platform=P),
            access_token=required(settings, "access_token", platform=P),
            sign_method=sign_method,
            page_size=page_size,
            page_cap=setting(settings, "page_cap", int, None, platform=P),
            window_hours=setting(settings, "window_hours", float, 24.0, platform=P),
            overlap_minutes=setting(settings, "overlap_minutes", float, 2.0, platform=P),
            timeout=setting(settings, "timeout", float, 10.0, platform=P),
            max_retries=setting(settings, "max_retries", int, 2, platform=P),
        )


def orders_in_message(body: bytes) -> list[str]:
    """The order ids a pushed message names (`p_id` of each item's `data`); UnreadableJson,
    naming the field, when the body is not an array or an item's `data` is unreadable."""
    items = bounded_json.loads(body)
    if not isinstance(items, list):
        raise bounded_json.UnreadableJson(
            f"a JSON {_json_kind(items)}, not the array of messages Douyin sends"
        )
    found = []
    for index, item in enumerate(items):
        data = item.get("data") if isinstance(item, dict) else None
        try:
            inner = bounded_json.loads(data.encode()) if isinstance(data, str) else data
        except bounded_json.UnreadableJson as exc:
            path = exc.path if exc.path.startswith("[") or not exc.path else f".{exc.path}"
            raise bounded_json.UnreadableJson(exc.reason, path=f"[{index}].data{path}") from exc
        if isinstance(inner, dict) and inner.get("p_id") not in (None, ""):
            found.append(_order_id(inner["p_id"], path=f"[{index}].data.p_id"))
    return sorted(set(found))


def _order_id(value: Any, *, path: str) -> str:
    """A shop order id as Douyin writes it: an int64, as a number or its digits."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= ORDER_ID_DIGITS:
        return text
    shown = repr(value)
    shown = shown if len(shown) <= 40 else f"{shown[:40]}…"
    raise bounded_json.UnreadableJson(f"{shown} is not a Douyin order id", path=path)


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "true/false value" if isinstance(value, bool) else "number"


class DouyinChannel:
    """A Douyin shop: pushed and pulled orders, parcels, full stock figures."""

    platform = "douyin"
    can_cancel_orders = False  # Douyin has no call for a seller to cancel a paid order
    refunds_on_order = True
    pushes_ids_only = True

    def __init__(self, settings: Mapping[str, Any], client: httpx.Client | None = None) -> None:
        self.settings = DouyinSettings.parse(settings)
        s = self.settings
        self.api = DouyinClient(
            base_url=s.base_url,
            app_key=s.app_key,
            app_secret=s.app_secret,
            access_token=s.access_token,
            sign_method=s.sign_method,
            transport=Transport(P, timeout=s.timeout, max_retries=s.max_retries, client=client),
        )

    def __repr__(self) -> str:
        return (
            f"DouyinChannel(app_key={self.settings.app_key!r}, shop_id={self.settings.shop_id!r})"
        )

    # pushed messages

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """`event-sign` is lower-hex md5(app_key + body + app_secret)."""
        given = next((v for k, v in headers.items() if k.lower() == HEADER_SIGN), "")
        s = self.settings
        expected = hashlib.md5(s.app_key.encode() + body + s.app_secret.encode()).hexdigest()
        return bool(given) and hmac.compare_digest(expected, given.lower())

    def describe_webhook(self, headers: Mapping[str, str]) -> WebhookDelivery:
        """A message is named by its signature: a message sent again is the same one."""
        sign = next((v for k, v in headers.items() if k.lower() == HEADER_SIGN), "")
        return WebhookDelivery(topic="douyin/message", delivery_id=f"msg:{sign}")

    def register_webhooks(self, *, address: str, topics: Sequence[str]) -> None:
        """Nothing to call: the push address is set in the Douyin open platform console."""

    def orders_in_message(self, body: bytes) -> list[str]:
        return orders_in_message(body)

    def fetch_order(self, order_id: str) -> PulledOrder:
        """One order whole, as a pull would have found it."""
        found = self.api.call(Method.DETAIL, {"shop_order_id": order_id})
        order = found.get("shop_order_detail") if isinstance(found, dict) else None
        if not isinstance(order, dict):
            raise Rejected(f"Douyin returned no order {order_id}.", code="no_order")
        oid, updated = self.order_ref(order)
        return PulledOrder(oid, updated, order)

    def open_receiver(self, channel_order_id: str, sealed: str) -> OpenedReceiver:
        """`order.batchDecrypt` of the order's three ciphertexts (counted by Douyin)."""
        ciphers = field_ciphers(sealed, P)
        infos = [{"auth_id": channel_order_id, "cipher_text": c} for c in ciphers]
        found = self.api.call(Method.DECRYPT, {"cipher_infos": infos})
        rows = found.get("decrypt_infos") if isinstance(found, dict) else None
        clear: dict[str, str] = {}
        for row in rows if isinstance(rows, list) else ():
            if not isinstance(row, dict):
                continue
            if row.get("err_no"):
                raise Rejected(f"{P} would not open the receiver: {row.get('err_msg', '')}")
            clear[str(row.get("cipher_text"))] = str(row.get("decrypt_text") or "")
        return opened(clear, ciphers, Method.DECRYPT.value, P)

    # orders

    def order_ref(self, payload: Mapping[str, Any]) -> tuple[str, str]:
        order = unwrap(payload)
        if order.get("order_id") in (None, ""):
            raise ValueError("The Douyin order has no 'order_id'.")
        if order.get("update_time") in (None, ""):
            raise ValueError("The Douyin order has no 'update_time'.")
        return str(order["order_id"]), str(order["update_time"])

    @property
    def pull_rules(self) -> PullRules:
        s = self.settings
        return PullRules(
            max_window=timedelta(hours=s.window_hours),
            page_size=s.page_size,
            paging=Paging.FORWARD,
            first_page=0,
            overlap=timedelta(minutes=s.overlap_minutes),
            page_cap=s.page_cap,
        )

    def search_orders(self, window: Window, page: int | str | None, size: int) -> Page:
        """Orders updated in the window, oldest first; each item is the whole order."""
        data = self.api.call(
            Method.SEARCH,
            {
                "update_time_start": int(window.start.timestamp()),
                "update_time_end": int(window.end.timestamp()),
                "order_by": "update_time",
                "order_asc": True,
                "page": page if isinstance(page, int) else 0,
                "size": size,
            },
        )
        data = data if isinstance(data, dict) else {}
        orders = []
        for order in data.get("shop_order_list") or []:
            if isinstance(order, dict):
                oid, updated = self.order_ref(order)
                orders.append(PulledOrder(oid, updated, order))
        return Page(orders, total=int(data.get("total") or 0))

    def parse_refund(self, payload: Mapping[str, Any]) -> ChannelRefund:
        """The refunded SKU orders of an order as one ChannelRefund; ValueError if none."""
        order = unwrap(payload)
        oid, updated = self.order_ref(order)
        lines, amount, ids = [], Decimal("0"), []
        for line in order.get("sku_order_list") or []:
            sale = line.get("after_sale_info") or {} if isinstance(line, dict) else {}
            if sale.get("refund_status") == REFUND_DONE:
                lines.append((str(line.get("order_id")), int(line.get("item_num") or 0)))
                amount += Decimal(int(line.get("pay_amount") or 0)) / 100
                ids.append(str(line.get("order_id")))
        if not lines:
            raise ValueError(f"Douyin order {oid} has no refunded SKU order.")
        return ChannelRefund(
            channel_order_id=oid,
            refund_id="refund:" + ",".join(ids),
            lines=lines,
            amount=amount,
            restock=True,
            created_at=datetime.fromtimestamp(int(updated), UTC),
        )

    def cancel_order(self, *, channel_order_id: str, reason: str = "other") -> None:
        raise Rejected(
            "Douyin has no call for a seller to cancel a paid order: cancel it in 抖店.",
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
        """The whole order in one parcel, or these SKU orders as one pack of several."""
        company = CARRIERS.get(carrier.strip().upper(), carrier.strip().lower())
        order = self.fetch_order(channel_order_id).payload
        if _has_tracking(order, tracking_no):
            return f"{channel_order_id}:{tracking_no}"
        every = {str(x.get("order_id")): int(x.get("item_num") or 0) for x in _lines(order)}
        wanted = {line_id: quantity for line_id, quantity in lines}
        if not wanted or wanted == every:
            self.api.call(
                Method.SHIP,
                {
                    "order_id": channel_order_id,
                    "company_code": company,
                    "logistics_code": tracking_no,
                },
            )
        else:
            self.api.call(
                Method.SHIP_PACKS,
                {
                    "order_id": channel_order_id,
                    "request_id": f"{channel_order_id}:{tracking_no}",
                    "pack_list": [
                        {
                            "company_code": company,
                            "logistics_code": tracking_no,
                            "shipped_order_info": [
                                {"shipped_order_id": line_id, "shipped_num": quantity}
                                for line_id, quantity in sorted(wanted.items())
                            ],
                        }
                    ],
                },
            )
        return f"{channel_order_id}:{tracking_no}"

    # stock

    def set_stock(self, *, channel_sku: str, available: int) -> None:
        """Set the full figure of the SKU whose merchant code (`code`) is `channel_sku`."""
        self.api.call(
            Method.STOCK, {"code": channel_sku, "stock_num": available, "incremental": False}
        )

    def list_items(self) -> list[ChannelItem]:
        found, page = [], 1
        while True:
            data = self.api.call(Method.PRODUCTS, {"page": page, "size": MAX_PAGE_SIZE})
            data = data if isinstance(data, dict) else {}
            for product in data.get("data") or []:
                for sku in product.get("sku_list") or []:
                    if sku.get("code"):
                        ref = f"{product.get('product_id')}/{sku.get('id') or sku.get('sku_id')}"
                        title = str(product.get("name") or "")
                        found.append(ChannelItem(str(sku["code"]), title, ref))
            if page * MAX_PAGE_SIZE >= int(data.get("total") or 0):
                return found
            page += 1

    def close(self) -> None:
        self.api.close()


def unwrap(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The order itself, bare or inside `order.orderDetail`'s envelope."""
    data = payload.get("data")
    if isinstance(data, dict) and isinstance(data.get("shop_order_detail"), dict):
        return dict(data["shop_order_detail"])
    if isinstance(payload.get("shop_order_detail"), dict):
        return dict(payload["shop_order_detail"])
    return dict(payload)


def _lines(order: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [x for x in order.get("sku_order_list") or [] if isinstance(x, dict)]


def _has_tracking(order: Mapping[str, Any], tracking_no: str) -> bool:
    return any(
        isinstance(x, dict) and x.get("tracking_no") == tracking_no
        for x in order.get("logistics_info") or []
    )
