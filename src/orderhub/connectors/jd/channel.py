"""A JD (京东 POP) shop as a sales channel, over JOS.

Orders are pulled (JD's push is not an HTTP webhook): `jingdong.pop.order.enSearch` by
modified time, oldest first, pages from 1 upwards, each item a whole order with its
receiver masked and its `encrypt_*` ciphertexts, which are kept sealed. A result the
search refuses (window, paging) comes back inside `apiResult`, not as an error body.
JD takes one waybill per order, so the first parcel's number is sent. Stock is set as
the full figure on the SKU found by merchant code (`outerId`).
"""

from __future__ import annotations

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
from ..kit.sealed import field_ciphers
from ..kit.settings import required, setting
from .client import BEIJING, JosClient, jd_time
from .consts import (
    CARRIERS,
    DECRYPT_METHOD,
    DECRYPT_OK_CODE,
    MAX_PAGE_SIZE,
    MAX_WINDOW,
    ORDER_FIELDS,
    ORDER_STATES,
    RATE_LIMITED_CODES,
    RETRYABLE_CODES,
    Method,
)

__all__ = ["JdChannel", "JdSettings"]

P = "JD"


def _carriers(value: Any) -> dict[str, str]:
    """`SF:467,YTO:463` → {"SF": "467", "YTO": "463"}."""
    pairs = (item.split(":", 1) for item in str(value).split(",") if ":" in item)
    return {code.strip().upper(): cid.strip() for code, cid in pairs}


@dataclass(frozen=True)
class JdSettings:
    """One shop's JOS connection; secrets never show in a repr."""

    gateway: str
    app_key: str
    app_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    page_size: int = MAX_PAGE_SIZE
    page_cap: int | None = None
    window_days: float = MAX_WINDOW.days
    overlap_minutes: float = 2.0
    carriers: Mapping[str, str] = field(default_factory=lambda: dict(CARRIERS))
    refunded_value: str = "2"
    decrypt_method: str = DECRYPT_METHOD
    timeout: float = 10.0
    max_retries: int = 2

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> JdSettings:
        base = str(settings.get("base_url") or "https://api.jd.com").rstrip("/")
        page_size = setting(settings, "page_size", int, MAX_PAGE_SIZE, platform=P)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"JD setting 'page_size' must be between 1 and {MAX_PAGE_SIZE}.")
        return cls(
            gateway=base if base.endswith("/routerjson") else base + "/routerjson",
            app_key=required(settings, "app_key", platform=P),
            app_secret=required(settings, "app_secret", platform=P),
            access_token=required(settings, "access_token", platform=P),
            page_size=page_size,
            page_cap=setting(settings, "page_cap", int, None, platform=P),
            window_days=setting(settings, "window_days", float, 30.0, platform=P),
            overlap_minutes=setting(settings, "overlap_minutes", float, 2.0, platform=P),
            carriers={**CARRIERS, **setting(settings, "carriers", _carriers, {}, platform=P)},
            refunded_value=str(settings.get("refunded_value") or "2"),
            decrypt_method=str(settings.get("decrypt_method") or DECRYPT_METHOD),
            timeout=setting(settings, "timeout", float, 10.0, platform=P),
            max_retries=setting(settings, "max_retries", int, 2, platform=P),
        )


class JdChannel(PulledOnly):
    """A JD shop: pulled orders, one waybill per order, full stock figures."""

    platform = "jd"
    platform_title = "JD"
    can_cancel_orders = False  # JOS gives a POP merchant no call to cancel a paid order
    refunds_on_order = True
    pushes_ids_only = False

    def __init__(self, settings: Mapping[str, Any], client: httpx.Client | None = None) -> None:
        self.settings = JdSettings.parse(settings)
        s = self.settings
        self.api = JosClient(
            gateway=s.gateway,
            app_key=s.app_key,
            app_secret=s.app_secret,
            access_token=s.access_token,
            errors=ErrorCodes(P, rate_limited=RATE_LIMITED_CODES, retryable=RETRYABLE_CODES),
            transport=Transport(P, timeout=s.timeout, max_retries=s.max_retries, client=client),
        )
        self._skus: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"JdChannel(app_key={self.settings.app_key!r})"

    def fetch_order(self, order_id: str) -> PulledOrder:
        found = self.api.call(
            Method.GET,
            {"order_id": order_id, "optional_fields": ORDER_FIELDS, "order_state": ORDER_STATES},
        )
        detail = found.get("orderDetailInfo") or {}
        _check(detail.get("apiResult"), f"order {order_id}")
        info = detail.get("orderInfo")
        if not isinstance(info, dict):
            raise Rejected(f"JD returned no order {order_id}.", code="no_order")
        oid, modified = self.order_ref(info)
        return PulledOrder(oid, modified, info)

    def open_receiver(self, channel_order_id: str, sealed: str) -> OpenedReceiver:
        """JD's OAID decrypt of the order (one of its ciphertexts names it; counted by JD)."""
        _, phone_cipher, _ = field_ciphers(sealed, P)
        method = self.settings.decrypt_method
        order_id = int(channel_order_id) if channel_order_id.isdigit() else channel_order_id
        request = {"orderInfos": [{"orderId": order_id, "oaid": phone_cipher}]}
        found = self.api.call(method, {"getReceiverInfoListReqVO": request})
        result = found.get("returnType") or {}
        rows = result.get("data") if isinstance(result, dict) else None
        succeeded = str(result.get("code")) == str(DECRYPT_OK_CODE)
        if not succeeded or not isinstance(rows, list) or not rows:
            raise Rejected(f"JD would not open the receiver: {result.get('message', '')}")
        r = rows[0] if isinstance(rows[0], dict) else {}
        phone = str(r.get("consMobilePhone") or r.get("customerPhone") or "")
        return OpenedReceiver(
            str(r.get("customerName") or ""), phone, str(r.get("address") or ""), method
        )

    def order_ref(self, payload: Mapping[str, Any]) -> tuple[str, str]:
        order = unwrap(payload)
        if not order.get("orderId"):
            raise ValueError("The JD order has no 'orderId'.")
        if not order.get("modified"):
            raise ValueError("The JD order has no 'modified'.")
        return str(order["orderId"]), str(order["modified"])

    @property
    def pull_rules(self) -> PullRules:
        s = self.settings
        return PullRules(
            # The search excludes its end, so each window asks for one second more.
            max_window=timedelta(days=s.window_days) - timedelta(seconds=1),
            page_size=s.page_size,
            paging=Paging.FORWARD,
            first_page=1,
            overlap=timedelta(minutes=s.overlap_minutes),
            page_cap=s.page_cap,
        )

    def search_orders(self, window: Window, page: int | str | None, size: int) -> Page:
        """Whole orders of every state modified in the window, oldest first."""
        found = self.api.call(
            Method.SEARCH,
            {
                "start_date": jd_time(window.start),
                "end_date": jd_time(window.end + timedelta(seconds=1)),
                "order_state": ORDER_STATES,
                "optional_fields": ORDER_FIELDS,
                "page": page if isinstance(page, int) else 1,
                "page_size": size,
                "sortType": 0,
                "dateType": 0,
            },
        )
        result = found.get("searchorderinfo_result") or {}
        _check(result.get("apiResult"), "the order search")
        orders = []
        for info in result.get("orderInfoList") or []:
            if isinstance(info, dict):
                oid, modified = self.order_ref(info)
                orders.append(PulledOrder(oid, modified, info))
        return Page(orders, total=int(result.get("orderTotal") or 0))

    def parse_refund(self, payload: Mapping[str, Any]) -> ChannelRefund:
        order = unwrap(payload)
        oid, modified = self.order_ref(order)
        if str(order.get("refundStatus", "")) != self.settings.refunded_value:
            raise ValueError(f"JD order {oid} is not refunded.")
        items = [x for x in order.get("itemInfoList") or [] if isinstance(x, dict)]
        return ChannelRefund(
            channel_order_id=oid,
            refund_id=f"refund:{oid}",
            lines=[(str(x.get("skuId")), int(str(x.get("itemTotal") or 0))) for x in items],
            amount=Decimal(str(order.get("orderPayment") or "0")),
            restock=True,
            created_at=datetime.fromisoformat(modified.replace(" ", "T")).replace(tzinfo=BEIJING),
        )

    def cancel_order(self, *, channel_order_id: str, reason: str = "other") -> None:
        raise Rejected(
            "JD gives a POP merchant no call to cancel a paid order.", code="not_supported"
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
        """The order's waybill; a later parcel of the same order stays in the hub."""
        order = self.fetch_order(channel_order_id).payload
        if order.get("waybill"):
            return f"{channel_order_id}:{order['waybill']}"
        carrier_id = self.settings.carriers.get(carrier.strip().upper())
        if carrier_id is None:
            raise Rejected(f"JD has no carrier id for {carrier!r}: set 'carriers'.", code="carrier")
        found = self.api.call(
            Method.SHIP,
            {"orderId": channel_order_id, "logiCoprId": carrier_id, "logiNo": tracking_no},
        )
        result = found.get("sopjosshipment_result") or {}
        if not result.get("success"):
            message = str(result.get("chineseErrCode") or result.get("englishErrCode") or "")
            raise Rejected(f"JD refused the waybill: {message}", code=str(result.get("errorCode")))
        return f"{channel_order_id}:{tracking_no}"

    def set_stock(self, *, channel_sku: str, available: int) -> None:
        """Set the full figure of the SKU whose merchant code (`outerId`) is `channel_sku`."""
        self.api.call(Method.STOCK, {"skuId": self._sku(channel_sku), "stockNum": available})

    def list_items(self) -> list[ChannelItem]:
        found, page = [], 1
        while True:
            listed = self.api.call(Method.SKUS, {"pageNo": page, "page_size": MAX_PAGE_SIZE})
            rows = (listed.get("page") or {}).get("data") or []
            for row in rows:
                if isinstance(row, dict) and row.get("outerId"):
                    ref = f"{row.get('wareId')}/{row.get('skuId')}"
                    title = str(row.get("skuName") or "")
                    found.append(ChannelItem(str(row["outerId"]), title, ref))
            total = int((listed.get("page") or {}).get("totalItem") or 0)
            if page * MAX_PAGE_SIZE >= total or not rows:
                return found
            page += 1

    def _sku(self, code: str) -> str:
        if code not in self._skus:
            found = self.api.call(Method.SKUS, {"outId": code, "pageNo": 1, "page_size": 20})
            for row in (found.get("page") or {}).get("data") or []:
                if isinstance(row, dict) and row.get("outerId"):
                    self._skus[str(row["outerId"])] = str(row["skuId"])
        if code not in self._skus:
            raise Rejected(f"No JD SKU has the merchant code {code!r}.", code="unknown_sku")
        return self._skus[code]

    def close(self) -> None:
        self.api.close()


def _check(result: Any, what: str) -> None:
    if isinstance(result, dict) and result.get("success") is False:
        message = str(result.get("chineseErrCode") or result.get("englishErrCode") or "")
        raise Rejected(f"JD refused {what}: {message}", code=str(result.get("numberCode", "")))


def unwrap(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The order itself, bare or inside `jingdong_pop_order_enGet_responce`."""
    inner = payload.get("jingdong_pop_order_enGet_responce")
    if isinstance(inner, dict):
        info = (inner.get("orderDetailInfo") or {}).get("orderInfo")
        if isinstance(info, dict):
            return dict(info)
    return dict(payload)
