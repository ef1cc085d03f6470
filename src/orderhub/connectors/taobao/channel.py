"""A Taobao or Tmall shop as a sales channel, over TOP.

Orders are pulled (TOP pushes through its own long-lived message client, not HTTP):
`taobao.trades.sold.increment.get` lists what changed in a window of at most a day,
newest first, so the engine reads its pages from the last backwards; each trade is then
read whole with `taobao.trade.fullinfo.get` and its OAID, so the receiver stays sealed.
Shipments go out with `taobao.logistics.offline.send` (split by sub-order `oid` when only
some lines left), stock with `taobao.item.quantity.update` setting the full figure.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from orderhub.domain.money import Statement

from ..base import (
    ChannelItem,
    ChannelRefund,
    OpenedReceiver,
    PulledOrder,
    Rejected,
)
from ..kit.http import Transport
from ..kit.pull import Page, Paging, PullRules, Window
from ..kit.pulled import PulledOnly
from ..kit.settings import required, setting, yes_no
from .bills import account_kinds, read_bills
from .client import BEIJING, TopClient, top_time
from .consts import (
    BILL_AMOUNT_UNITS,
    CARRIERS,
    DECRYPT_SCENE,
    DEFAULT_PAGE_SIZE,
    GATEWAY_PATH,
    INCREMENT_FIELDS,
    ITEM_FIELDS,
    MAX_PAGE_SIZE,
    MAX_WINDOW,
    SIGN_METHODS,
    TRADE_FIELDS,
    Method,
)

__all__ = ["TaobaoChannel", "TaobaoSettings", "listed"]

P = "Taobao"
_READ_LIMIT = 5000


def listed(value: Any, key: str) -> list[dict[str, Any]]:
    """TOP's nested lists: `{"trade": [...]}` (or one bare object) as a list."""
    inner = value.get(key) if isinstance(value, dict) else value
    items = inner if isinstance(inner, list) else [inner] if isinstance(inner, dict) else []
    return [item for item in items if isinstance(item, dict)]


@dataclass(frozen=True)
class TaobaoSettings:
    """One shop's TOP connection; secrets never show in a repr."""

    gateway: str
    app_key: str
    app_secret: str = field(repr=False)
    session: str = field(repr=False)
    sign_method: str = "md5"
    page_size: int = DEFAULT_PAGE_SIZE
    page_cap: int | None = None
    window_hours: float = MAX_WINDOW.total_seconds() / 3600
    overlap_minutes: float = 2.0
    timeout: float = 10.0
    max_retries: int = 2
    refunds_restock: bool = True
    decrypt_scene: str = DECRYPT_SCENE
    bill_unit: int = 100
    bill_overlap_minutes: float = 60.0
    bill_days_back: int = 7

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> TaobaoSettings:
        base = str(settings.get("base_url") or "https://eco.taobao.com").rstrip("/")
        gateway = base if base.endswith(GATEWAY_PATH) else base + GATEWAY_PATH
        sign_method = str(settings.get("sign_method") or "md5")
        if sign_method not in SIGN_METHODS:
            raise ValueError(f"Taobao setting 'sign_method' must be one of {sorted(SIGN_METHODS)}.")
        page_size = setting(settings, "page_size", int, DEFAULT_PAGE_SIZE, platform=P)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"Taobao setting 'page_size' must be between 1 and {MAX_PAGE_SIZE}.")
        hours = setting(settings, "window_hours", float, 24.0, platform=P)
        if not 0 < hours <= 24:
            raise ValueError("Taobao setting 'window_hours' must be more than 0 and at most 24.")
        return cls(
            gateway=gateway,
            app_key=required(settings, "app_key", platform=P),
            app_secret=required(settings, "app_secret", platform=P),
            session=required(settings, "session", platform=P),
            sign_method=sign_method,
            page_size=page_size,
            page_cap=setting(settings, "page_cap", int, None, platform=P),
            window_hours=hours,
            overlap_minutes=setting(settings, "overlap_minutes", float, 2.0, platform=P),
            timeout=setting(settings, "timeout", float, 10.0, platform=P),
            max_retries=setting(settings, "max_retries", int, 2, platform=P),
            refunds_restock=setting(settings, "refunds_restock", yes_no, True, platform=P),
            decrypt_scene=str(settings.get("decrypt_scene") or DECRYPT_SCENE),
            bill_unit=_bill_unit(settings),
            bill_overlap_minutes=setting(settings, "bill_overlap_minutes", float, 60.0, platform=P),
            bill_days_back=setting(settings, "bill_days_back", int, 7, platform=P),
        )


def _bill_unit(settings: Mapping[str, Any]) -> int:
    unit = str(settings.get("bill_amount_unit") or "fen")
    if unit not in BILL_AMOUNT_UNITS:
        raise ValueError(
            f"Taobao setting 'bill_amount_unit' must be one of {sorted(BILL_AMOUNT_UNITS)}."
        )
    return BILL_AMOUNT_UNITS[unit]


class TaobaoChannel(PulledOnly):
    """A Taobao/Tmall shop: pulled orders, offline shipment, full stock figures."""

    platform = "taobao"
    platform_title = "Taobao"
    can_cancel_orders = False  # TOP has no call for a seller to cancel a paid trade
    refunds_on_order = True
    pushes_ids_only = False

    def __init__(self, settings: Mapping[str, Any], client: httpx.Client | None = None) -> None:
        self.settings = TaobaoSettings.parse(settings)
        s = self.settings
        self.api = TopClient(
            gateway=s.gateway,
            app_key=s.app_key,
            app_secret=s.app_secret,
            session=s.session,
            sign_method=s.sign_method,
            transport=Transport(P, timeout=s.timeout, max_retries=s.max_retries, client=client),
        )
        self._skus: dict[str, tuple[str, str]] = {}
        # Trades read whole while paging one window, by (tid, modified): a page read twice
        # (the engine reads the first page again last) costs no second detail call. It is
        # forgotten with the window, since `modified` is only to the second.
        self._read: dict[tuple[str, str], dict[str, Any]] = {}
        self._read_window: Window | None = None
        self._bill_kinds: dict[str, str] | None = None

    def __repr__(self) -> str:
        return f"TaobaoChannel(app_key={self.settings.app_key!r})"

    # orders (TOP has no webhooks over HTTP)

    def order_ref(self, payload: Mapping[str, Any]) -> tuple[str, str]:
        """(tid, modified) of a trade, e.g. ("3920391847261029384", "2026-11-23 18:00:00")."""
        trade = unwrap(payload)
        if trade.get("tid") in (None, ""):
            raise ValueError("The Taobao trade has no 'tid'.")
        if not trade.get("modified"):
            raise ValueError("The Taobao trade has no 'modified'.")
        return str(trade["tid"]), str(trade["modified"])

    def fetch_order(self, order_id: str) -> PulledOrder:
        trade = self.trade(order_id)
        tid, modified = self.order_ref(trade)
        return PulledOrder(tid, modified, trade)

    def open_receiver(self, channel_order_id: str, sealed: str) -> OpenedReceiver:
        """`top.oaid.decrypt` of the trade's OAID (a shipping scene, counted by TOP)."""
        query = [{"tid": channel_order_id, "oaid": sealed, "scene": self.settings.decrypt_scene}]
        found = self.api.call(Method.OAID_DECRYPT, {"query_list": json.dumps(query)})
        rows = listed(found.get("receiver_list"), "receiver")
        if not rows:
            raise Rejected(f"{P} opened no receiver for trade {channel_order_id}")
        r = rows[0]
        street = "".join(
            str(r.get(key) or "") for key in ("state", "city", "district", "town", "address_detail")
        )
        phone = str(r.get("mobile") or r.get("phone") or "")
        return OpenedReceiver(str(r.get("name") or ""), phone, street, Method.OAID_DECRYPT.value)

    @property
    def pull_rules(self) -> PullRules:
        s = self.settings
        return PullRules(
            max_window=timedelta(hours=s.window_hours),
            page_size=s.page_size,
            paging=Paging.BACKWARD,
            first_page=1,
            overlap=timedelta(minutes=s.overlap_minutes),
            page_cap=s.page_cap,
        )

    def search_orders(self, window: Window, page: int | str | None, size: int) -> Page:
        """One page of trades modified in the window, each read whole with its OAID."""
        if window != self._read_window:
            self._read.clear()
            self._read_window = window
        found = self.api.call(
            Method.TRADES_INCREMENT,
            {
                "fields": INCREMENT_FIELDS,
                "start_modified": top_time(window.start),
                "end_modified": top_time(window.end),
                "page_no": page if isinstance(page, int) else 1,
                "page_size": size,
                "use_has_next": "false",
            },
        )
        orders = []
        for brief in listed(found.get("trades"), "trade"):
            key = (str(brief.get("tid", "")), str(brief.get("modified", "")))
            trade = self._read.get(key)
            if trade is None:
                trade = self.trade(key[0])
                if len(self._read) >= _READ_LIMIT:
                    self._read.clear()
                self._read[key] = trade
            tid, modified = self.order_ref(trade)
            orders.append(PulledOrder(tid, modified, trade))
        return Page(orders, total=int(found.get("total_results") or 0))

    def trade(self, tid: str) -> dict[str, Any]:
        """One trade with every field the mapping reads, its receiver sealed by an OAID."""
        found = self.api.call(
            Method.TRADE_FULLINFO, {"fields": TRADE_FIELDS, "tid": tid, "include_oaid": "true"}
        )
        trade = found.get("trade")
        if not isinstance(trade, dict):
            raise Rejected(f"Taobao returned no trade {tid}.", code="no_trade")
        return trade

    # refunds ride on the trade: each sub-order carries its refund status

    def parse_refund(self, payload: Mapping[str, Any]) -> ChannelRefund:
        """The refunded sub-orders of a trade as one ChannelRefund; ValueError if none."""
        trade = unwrap(payload)
        tid, modified = self.order_ref(trade)
        lines, amount, ids = [], Decimal("0"), []
        for order in listed(trade.get("orders"), "order"):
            if order.get("refund_status") == "SUCCESS":
                lines.append((str(order.get("oid", "")), int(order.get("num") or 0)))
                amount += Decimal(str(order.get("payment") or "0"))
                ids.append(str(order.get("refund_id") or order.get("oid", "")))
        if not lines:
            raise ValueError(f"Taobao trade {tid} has no refunded sub-order.")
        return ChannelRefund(
            channel_order_id=tid,
            refund_id=",".join(ids),
            lines=lines,
            amount=amount,
            restock=self.settings.refunds_restock,
            created_at=datetime.fromisoformat(modified).replace(tzinfo=BEIJING),
        )

    def cancel_order(self, *, channel_order_id: str, reason: str = "other") -> None:
        raise Rejected(
            "Taobao has no call for a seller to cancel a paid trade: close it in Qianniu (千牛).",
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
        """Send the parcel; only some sub-orders (`lines`) make it a split shipment.
        A repeat of a confirmation TOP already has is recognised and not an error."""
        company = CARRIERS.get(carrier.strip().upper(), carrier.strip().upper())
        params: dict[str, Any] = {
            "tid": channel_order_id,
            "out_sid": tracking_no,
            "company_code": company,
        }
        oids = [line_id for line_id, _ in lines]
        if oids and set(oids) != self._all_oids(channel_order_id):
            params.update({"sub_tid": ",".join(oids), "is_split": 1})
        try:
            self.api.call(Method.OFFLINE_SEND, params)
        except Rejected:
            if not self._already_sent(channel_order_id, tracking_no, oids):
                raise
        return f"{channel_order_id}:{tracking_no}"

    def _all_oids(self, tid: str) -> set[str]:
        return {str(o.get("oid")) for o in listed(self.trade(tid).get("orders"), "order")}

    def _already_sent(self, tid: str, tracking_no: str, oids: Sequence[str]) -> bool:
        sent = {
            str(o.get("oid"))
            for o in listed(self.trade(tid).get("orders"), "order")
            if o.get("invoice_no") == tracking_no
        }
        return bool(sent) and (not oids or set(oids) <= sent)

    # stock

    def set_stock(self, *, channel_sku: str, available: int) -> None:
        """Set the full figure of the SKU whose merchant code is `channel_sku`."""
        num_iid, sku_id = self._sku(channel_sku)
        params: dict[str, Any] = {"num_iid": num_iid, "quantity": available, "type": 1}
        if sku_id:
            params["sku_id"] = sku_id
        self.api.call(Method.ITEM_QUANTITY, params)

    def items(self) -> list[dict[str, Any]]:
        """Every on-sale item with its SKUs, as TOP lists them."""
        found: list[dict[str, Any]] = []
        page_no = 1
        while True:
            page = self.api.call(
                Method.ITEMS_ONSALE,
                {"fields": ITEM_FIELDS, "page_no": page_no, "page_size": MAX_PAGE_SIZE},
            )
            found.extend(listed(page.get("items"), "item"))
            if page_no * MAX_PAGE_SIZE >= int(page.get("total_results") or 0):
                return found
            page_no += 1

    def list_items(self) -> list[ChannelItem]:
        found = []
        for item in self.items():
            skus = listed(item.get("skus"), "sku")
            for sku in skus:
                if sku.get("outer_id"):
                    ref = f"{item.get('num_iid')}/{sku.get('sku_id')}"
                    found.append(ChannelItem(str(sku["outer_id"]), str(item.get("title", "")), ref))
            if not skus and item.get("outer_id"):
                found.append(
                    ChannelItem(
                        str(item["outer_id"]), str(item.get("title", "")), str(item["num_iid"])
                    )
                )
        return found

    def _sku(self, code: str) -> tuple[str, str]:
        if code not in self._skus:
            for item in self.items():
                num_iid = str(item.get("num_iid", ""))
                skus = listed(item.get("skus"), "sku")
                for sku in skus:
                    if sku.get("outer_id"):
                        self._skus[str(sku["outer_id"])] = (num_iid, str(sku.get("sku_id", "")))
                if not skus and item.get("outer_id"):
                    self._skus[str(item["outer_id"])] = (num_iid, "")
        if code not in self._skus:
            raise Rejected(f"No Taobao item has the merchant code {code!r}.", code="unknown_sku")
        return self._skus[code]

    def statement(self, after: str | None) -> Statement:
        """The Taobao bill's lines after the cursor: payments, refunds, commissions."""
        s = self.settings
        if self._bill_kinds is None:
            self._bill_kinds = account_kinds(self.api)
        return read_bills(
            self.api,
            after,
            now=datetime.now(UTC),
            overlap=timedelta(minutes=s.bill_overlap_minutes),
            days_back=s.bill_days_back,
            per_unit=s.bill_unit,
            kinds=self._bill_kinds,
        )

    def close(self) -> None:
        self.api.close()


def unwrap(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The trade itself, whether given bare or in TOP's `trade_fullinfo_get_response`."""
    inner = payload.get("trade_fullinfo_get_response")
    if isinstance(inner, dict) and isinstance(inner.get("trade"), dict):
        return dict(inner["trade"])
    return dict(payload)
