"""A Pinduoduo shop as a sales channel, over POP.

Orders are pulled (POP's push is not an HTTP webhook): the increment search lists whole
orders updated in a half-hour window, newest first, so the engine reads pages from the
last backwards and needs no detail call. The receiver is ciphertext while an order waits
to ship; it is kept sealed. POP has one tracking number per order, so the first parcel's
number is sent and later parcels of a split order stay in the hub. Stock is set as the
full figure on the goods' SKU found by merchant code (`outer_id`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from ..base import (
    ChannelItem,
    ChannelRefund,
    OpenedReceiver,
    PulledOrder,
    Rejected,
)
from ..kit.envelopes import ErrorCodes
from ..kit.http import Transport
from ..kit.pull import Page, Paging, PullRules, Window
from ..kit.pulled import PulledOnly
from ..kit.sealed import field_ciphers, opened
from ..kit.settings import required, setting
from .client import PddClient
from .consts import MAX_PAGE_SIZE, MAX_WINDOW, RATE_LIMITED_CODES, RETRYABLE_CODES, Api

__all__ = ["PddChannel", "PddSettings"]

P = "Pinduoduo"
WAITING, REFUNDED = 1, 4


def _codes(value: Any) -> frozenset[str]:
    return frozenset(x.strip() for x in str(value).split(",") if x.strip())


@dataclass(frozen=True)
class PddSettings:
    """One shop's POP connection; secrets never show in a repr."""

    gateway: str
    client_id: str
    client_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    page_size: int = MAX_PAGE_SIZE
    page_cap: int | None = None
    overlap_minutes: float = 2.0
    lag_seconds: float = 0.0
    rate_limited_codes: frozenset[str] = RATE_LIMITED_CODES
    retryable_codes: frozenset[str] = RETRYABLE_CODES
    timeout: float = 10.0
    max_retries: int = 2

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> PddSettings:
        base = str(settings.get("base_url") or "https://gw-api.pinduoduo.com").rstrip("/")
        page_size = setting(settings, "page_size", int, MAX_PAGE_SIZE, platform=P)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"Pinduoduo setting 'page_size' must be 1 to {MAX_PAGE_SIZE}.")
        return cls(
            gateway=base if base.endswith("/api/router") else base + "/api/router",
            client_id=required(settings, "client_id", platform=P),
            client_secret=required(settings, "client_secret", platform=P),
            access_token=required(settings, "access_token", platform=P),
            page_size=page_size,
            page_cap=setting(settings, "page_cap", int, None, platform=P),
            overlap_minutes=setting(settings, "overlap_minutes", float, 2.0, platform=P),
            lag_seconds=setting(settings, "lag_seconds", float, 0.0, platform=P),
            rate_limited_codes=setting(
                settings, "rate_limited_codes", _codes, RATE_LIMITED_CODES, platform=P
            ),
            retryable_codes=setting(
                settings, "retryable_codes", _codes, RETRYABLE_CODES, platform=P
            ),
            timeout=setting(settings, "timeout", float, 10.0, platform=P),
            max_retries=setting(settings, "max_retries", int, 2, platform=P),
        )


class PddChannel(PulledOnly):
    """A Pinduoduo shop: pulled orders, one tracking number per order, full stock figures."""

    platform = "pdd"
    platform_title = "Pinduoduo"
    can_cancel_orders = False  # POP has no call for a merchant to cancel a paid order
    refunds_on_order = True
    pushes_ids_only = False

    def __init__(self, settings: Mapping[str, Any], client: httpx.Client | None = None) -> None:
        self.settings = PddSettings.parse(settings)
        s = self.settings
        self.api = PddClient(
            gateway=s.gateway,
            client_id=s.client_id,
            client_secret=s.client_secret,
            access_token=s.access_token,
            errors=ErrorCodes(
                P,
                rate_limited=s.rate_limited_codes,
                retryable=s.retryable_codes,
                retryable_prefixes=("isp.",),
            ),
            transport=Transport(P, timeout=s.timeout, max_retries=s.max_retries, client=client),
        )
        self._companies: dict[str, int] = {}
        self._skus: dict[str, tuple[str, str]] = {}

    def __repr__(self) -> str:
        return f"PddChannel(client_id={self.settings.client_id!r})"

    def fetch_order(self, order_id: str) -> PulledOrder:
        info = self.api.call(Api.DETAIL, {"order_sn": order_id}).get("order_info")
        if not isinstance(info, dict):
            raise Rejected(f"Pinduoduo returned no order {order_id}.", code="no_order")
        sn, updated = self.order_ref(info)
        return PulledOrder(sn, updated, info)

    def open_receiver(self, channel_order_id: str, sealed: str) -> OpenedReceiver:
        """`pdd.open.decrypt.batch` of the order's three ciphertexts (counted by POP)."""
        ciphers = field_ciphers(sealed, P)
        items = [{"data_tag": channel_order_id, "encrypted_data": c} for c in ciphers]
        found = self.api.call(Api.DECRYPT, {"data_list": json.dumps(items)})
        rows = found.get("data_decrypt_list")
        clear = {
            str(row.get("encrypted_data")): str(row.get("decrypted_data"))
            for row in (rows if isinstance(rows, list) else [])
            if isinstance(row, dict) and row.get("decrypted_data")
        }
        return opened(clear, ciphers, Api.DECRYPT.value, P)

    def order_ref(self, payload: Mapping[str, Any]) -> tuple[str, str]:
        order = unwrap(payload)
        if not order.get("order_sn"):
            raise ValueError("The Pinduoduo order has no 'order_sn'.")
        if not order.get("updated_at"):
            raise ValueError("The Pinduoduo order has no 'updated_at'.")
        return str(order["order_sn"]), str(order["updated_at"])

    @property
    def pull_rules(self) -> PullRules:
        s = self.settings
        return PullRules(
            max_window=MAX_WINDOW,
            page_size=s.page_size,
            paging=Paging.BACKWARD,
            first_page=1,
            overlap=timedelta(minutes=s.overlap_minutes),
            lag=timedelta(seconds=s.lag_seconds),
            page_cap=s.page_cap,
        )

    def search_orders(self, window: Window, page: int | str | None, size: int) -> Page:
        """Whole orders of any status updated within the window."""
        found = self.api.call(
            Api.INCREMENT,
            {
                "start_updated_at": int(window.start.timestamp()),
                "end_updated_at": int(window.end.timestamp()),
                "order_status": 5,
                "refund_status": 5,
                "page": page if isinstance(page, int) else 1,
                "page_size": size,
                "use_has_next": "false",
            },
        )
        orders = []
        for info in found.get("order_sn_list") or []:
            if isinstance(info, dict):
                sn, updated = self.order_ref(info)
                orders.append(PulledOrder(sn, updated, info))
        return Page(orders, total=int(found.get("total_count") or 0))

    def parse_refund(self, payload: Mapping[str, Any]) -> ChannelRefund:
        """A refund POP marks on the whole order (refund_status 4, 退款成功)."""
        order = unwrap(payload)
        sn, updated = self.order_ref(order)
        if order.get("refund_status") != REFUNDED:
            raise ValueError(f"Pinduoduo order {sn} is not refunded.")
        items = [x for x in order.get("item_list") or [] if isinstance(x, dict)]
        return ChannelRefund(
            channel_order_id=sn,
            refund_id=f"refund:{sn}",
            lines=[(str(x.get("sku_id")), int(x.get("goods_count") or 0)) for x in items],
            amount=Decimal(str(order.get("pay_amount") or 0)),
            restock=True,
            created_at=datetime.fromisoformat(updated.replace(" ", "T")),
        )

    def cancel_order(self, *, channel_order_id: str, reason: str = "other") -> None:
        raise Rejected(
            "Pinduoduo has no call for a merchant to cancel a paid order.", code="not_supported"
        )

    def confirm_shipment(
        self,
        *,
        channel_order_id: str,
        carrier: str,
        tracking_no: str,
        lines: Sequence[tuple[str, int]],
        notify_customer: bool = True,
    ) -> str:
        """Send the order's tracking number; a later parcel of the same order is kept in
        the hub, since POP takes one number per order."""
        order = self.fetch_order(channel_order_id).payload
        if order.get("tracking_number"):
            return f"{channel_order_id}:{order['tracking_number']}"
        self.api.call(
            Api.SEND,
            {
                "order_sn": channel_order_id,
                "logistics_id": self._company(carrier),
                "tracking_number": tracking_no,
            },
        )
        return f"{channel_order_id}:{tracking_no}"

    def _company(self, carrier: str) -> int:
        if not self._companies:
            found = self.api.call(Api.COMPANIES, {}).get("logistics_companies") or []
            self._companies = {
                str(c.get("code", "")).upper(): int(c["id"])
                for c in found
                if isinstance(c, dict) and c.get("id") is not None
            }
        code = carrier.strip().upper()
        if code not in self._companies:
            raise Rejected(f"Pinduoduo knows no carrier {carrier!r}.", code="unknown_carrier")
        return self._companies[code]

    def set_stock(self, *, channel_sku: str, available: int) -> None:
        """Set the full figure of the SKU whose merchant code (`outer_id`) is `channel_sku`."""
        goods_id, sku_id = self._sku(channel_sku)
        self.api.call(
            Api.QUANTITY,
            {"goods_id": goods_id, "sku_id": sku_id, "quantity": available, "update_type": 1},
        )

    def list_items(self) -> list[ChannelItem]:
        found, page = [], 1
        while True:
            listed = self.api.call(Api.GOODS, {"page": page, "page_size": MAX_PAGE_SIZE})
            for goods in listed.get("goods_list") or []:
                for sku in goods.get("sku_list") or []:
                    if sku.get("outer_id"):
                        ref = f"{goods.get('goods_id')}/{sku.get('sku_id')}"
                        title = str(goods.get("goods_name", ""))
                        found.append(ChannelItem(str(sku["outer_id"]), title, ref))
            if page * MAX_PAGE_SIZE >= int(listed.get("total_count") or 0):
                return found
            page += 1

    def _sku(self, code: str) -> tuple[str, str]:
        if code not in self._skus:
            page = 1
            while True:
                found = self.api.call(Api.GOODS, {"page": page, "page_size": MAX_PAGE_SIZE})
                for goods in found.get("goods_list") or []:
                    for sku in goods.get("sku_list") or []:
                        if sku.get("outer_id"):
                            self._skus[str(sku["outer_id"])] = (
                                str(goods["goods_id"]),
                                str(sku["sku_id"]),
                            )
                if page * MAX_PAGE_SIZE >= int(found.get("total_count") or 0):
                    break
                page += 1
        if code not in self._skus:
            raise Rejected(
                f"No Pinduoduo goods has the merchant code {code!r}.", code="unknown_sku"
            )
        return self._skus[code]

    def close(self) -> None:
        self.api.close()


def unwrap(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The order itself, bare or inside `order_info_get_response`."""
    inner = payload.get("order_info_get_response")
    if isinstance(inner, dict) and isinstance(inner.get("order_info"), dict):
        return dict(inner["order_info"])
    return dict(payload)
