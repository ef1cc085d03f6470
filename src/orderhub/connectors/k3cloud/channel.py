"""Orders keyed in (or imported into) K/3 Cloud, as a sales channel: the drop-ship case.

Audited sales orders are pulled by `FModifyDate`, headers page by page (`StartRow`,
`Limit`), then the entries of the page's orders in one query, so that an order is never
cut across two pages. Sales orders the hub booked itself carry our number in the key
field and are left out, so nothing goes round in a circle. A shipment comes back as a
sales outbound document (SAL_OUTSTOCK) linked to the order, with the carrier and the
tracking number; the whole chain, sales order → purchase order → outbound, is then
visible in the ERP. The ERP holds no stock figure for a shop to show, so `set_stock`
changes nothing there.

The receiver fields of a sales order (`FReceiveAddress`, `FLinkMan`, `FLinkPhone`) are
UNCONFIRMED names: they are settings (`receiver_keys`) and the mapping can be changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from orderhub.domain.geo import split_address

from ..base import (
    ChannelItem,
    ChannelRefund,
    OpenedReceiver,
    PulledOrder,
    Rejected,
)
from ..kit.pull import Page, Paging, PullRules, Window
from ..kit.pulled import PulledOnly
from ..kit.settings import setting
from .client import K3CloudClient
from .consts import DEFAULT_KEY_FIELD

__all__ = ["K3CloudChannel"]

BEIJING = timezone(timedelta(hours=8))
_HEADER = (
    "FID,FBillNo,FDate,FModifyDate,FDocumentStatus,FCancelStatus,FCustId.FNumber,"
    "FSaleOrgId.FNumber,FNote"
)
_ENTRY = "FID,FSaleOrderEntry_FEntryID,FMaterialId.FNumber,FQty,FTaxPrice,FEntryNote"
_RECEIVER = "FReceiveAddress,FLinkMan,FLinkPhone"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _beijing(moment: datetime) -> str:
    """As the ERP compares times: Beijing time, to the millisecond it keeps."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


class K3CloudChannel(PulledOnly):
    """Sales orders of one 账套 (optionally one sales org) as a shop's orders."""

    platform = "k3cloud"
    platform_title = "K/3 Cloud"
    can_cancel_orders = False
    refunds_on_order = False
    pushes_ids_only = False

    def __init__(self, client: K3CloudClient, settings: Mapping[str, Any]) -> None:
        self.client = client
        p = "k3cloud"
        self.key_field = setting(settings, "key_field", str, DEFAULT_KEY_FIELD, platform=p)
        self.org = setting(settings, "org", str, "", platform=p)
        self.page_size = setting(settings, "page_size", int, 200, platform=p)
        self.receiver_keys = setting(settings, "receiver_keys", str, _RECEIVER, platform=p)
        self.outbound_bill_type = setting(
            settings, "outbound_bill_type", str, "XSCKD01_SYS", platform=p
        )
        self.audit = str(settings.get("audit", True)).lower() not in ("false", "0", "no")

    # -- orders in -----------------------------------------------------------------

    @property
    def pull_rules(self) -> PullRules:
        return PullRules(
            max_window=timedelta(days=7),
            page_size=self.page_size,
            paging=Paging.LINKED,
            overlap=timedelta(minutes=2),
        )

    def _filter(self, extra: str) -> str:
        parts = ["FDocumentStatus = 'C'", f"{self.key_field} = ''", extra]
        if self.org:
            parts.append(f"FSaleOrgId.FNumber = {_quoted(self.org)}")
        return " AND ".join(p for p in parts if p)

    def search_orders(self, window: Window, page: int | str | None, size: int) -> Page:
        start = int(page) if isinstance(page, str) and page.isdigit() else 0
        since, until = _beijing(window.start), _beijing(window.end)
        keys = f"{_HEADER},{self.receiver_keys}" if self.receiver_keys else _HEADER
        heads = self.client.query(
            {
                "FormId": "SAL_SaleOrder",
                "FieldKeys": keys,
                "FilterString": self._filter(
                    f"FModifyDate >= {_quoted(since)} AND FModifyDate <= {_quoted(until)}"
                ),
                "OrderString": "FID ASC",
                "StartRow": start,
                "Limit": size,
            }
        )
        orders = self._with_entries(keys.split(","), heads)
        following = str(start + size) if len(heads) == size else None
        return Page(orders, next=following)

    def _with_entries(self, keys: list[str], heads: list[list[Any]]) -> list[PulledOrder]:
        if not heads:
            return []
        ids = ",".join(str(int(row[0])) for row in heads)
        entries = self.client.query(
            {
                "FormId": "SAL_SaleOrder",
                "FieldKeys": _ENTRY,
                "FilterString": f"FID IN ({ids})",
                "OrderString": "FID ASC",
                "Limit": 10000,
            }
        )
        by_order: dict[int, list[dict[str, Any]]] = {}
        for fid, entry_id, material, qty, price, note in entries:
            by_order.setdefault(int(fid), []).append(
                {
                    "FEntryID": entry_id,
                    "FMaterialId": material,
                    "FQty": qty,
                    "FTaxPrice": price,
                    "FEntryNote": note,
                }
            )
        pulled = []
        for row in heads:
            payload: dict[str, Any] = {
                key.replace(".", "_"): value for key, value in zip(keys, row, strict=False)
            }
            payload["entries"] = by_order.get(int(row[0]), [])
            province, city, district, street = split_address(
                str(payload.get("FReceiveAddress") or "")
            )
            payload["address"] = {
                "province": province,
                "city": city,
                "district": district,
                "street": street,
            }
            payload["amount"] = str(
                sum(
                    (
                        Decimal(str(e["FQty"] or 0)) * Decimal(str(e["FTaxPrice"] or 0))
                        for e in payload["entries"]
                    ),
                    Decimal("0"),
                )
            )
            bill_no, modified = self.order_ref(payload)
            pulled.append(PulledOrder(bill_no, modified, payload))
        return pulled

    def order_ref(self, payload: Mapping[str, Any]) -> tuple[str, str]:
        if not payload.get("FBillNo"):
            raise ValueError("The K/3 Cloud sales order has no 'FBillNo'.")
        if not payload.get("FModifyDate"):
            raise ValueError("The K/3 Cloud sales order has no 'FModifyDate'.")
        return str(payload["FBillNo"]), str(payload["FModifyDate"])

    def fetch_order(self, order_id: str) -> PulledOrder:
        keys = f"{_HEADER},{self.receiver_keys}" if self.receiver_keys else _HEADER
        heads = self.client.query(
            {
                "FormId": "SAL_SaleOrder",
                "FieldKeys": keys,
                "FilterString": f"FBillNo = {_quoted(order_id)}",
            }
        )
        found = self._with_entries(keys.split(","), heads)
        if not found:
            raise Rejected(f"K/3 Cloud has no sales order {order_id}.", code="no_order")
        return found[0]

    # -- tracking back ------------------------------------------------------------

    def confirm_shipment(
        self,
        *,
        channel_order_id: str,
        carrier: str,
        tracking_no: str,
        lines: Sequence[tuple[str, int]],
        notify_customer: bool = True,
    ) -> str:
        """A sales outbound document for the parcel, linked to the order; once per
        parcel (our number `<bill>:<tracking>` is looked up first)."""
        our_no = f"{channel_order_id}:{tracking_no}"
        found = self.client.query(
            {
                "FormId": "SAL_OUTSTOCK",
                "FieldKeys": "FBillNo",
                "FilterString": f"{self.key_field} = {_quoted(our_no)}",
            }
        )
        if found:
            return str(found[0][0])
        rows = self.client.query(
            {
                "FormId": "SAL_SaleOrder",
                "FieldKeys": "FSaleOrderEntry_FEntryID,FMaterialId.FNumber,FQty,FTaxPrice,"
                "FCustId.FNumber,FSaleOrgId.FNumber",
                "FilterString": f"FBillNo = {_quoted(channel_order_id)}",
            }
        )
        if not rows:
            raise Rejected(f"K/3 Cloud has no sales order {channel_order_id}.", code="no_order")
        wanted = {str(line_id): qty for line_id, qty in lines}
        entries = [
            {
                "FMaterialID": {"FNumber": material},
                "FRealQty": wanted.get(str(entry_id), qty) if wanted else qty,
                "FTaxPrice": price,
                "FSoorDerno": channel_order_id,
                "FSrcBillNo": channel_order_id,
            }
            for entry_id, material, qty, price, _, _ in rows
            if not wanted or str(entry_id) in wanted
        ]
        customer, org = rows[0][4], rows[0][5]
        model: dict[str, Any] = {
            "FBillTypeID": {"FNumber": self.outbound_bill_type},
            "FCustomerID": {"FNumber": customer},
            "FCarrierID": {"FNumber": carrier},
            "FCarriageNO": tracking_no,
            "FNote": f"orderhub {channel_order_id} {carrier} {tracking_no}",
            self.key_field: our_no,
            "FEntity": entries,
        }
        if org:
            model["FSaleOrgId"] = {"FNumber": org}
            model["FStockOrgId"] = {"FNumber": org}
        saved = self.client.operation("Save", "SAL_OUTSTOCK", {"Model": model})
        if self.audit:
            for step in ("Submit", "Audit"):
                self.client.operation(step, "SAL_OUTSTOCK", {"Ids": str(saved["Id"])})
        return str(saved["Number"])

    # -- what a sales channel offers that an ERP does not ---------------------------

    def set_stock(self, *, channel_sku: str, available: int) -> None:
        """The ERP keeps its own stock; the hub does not overwrite it."""

    def list_items(self) -> list[ChannelItem]:
        rows = self.client.query(
            {"FormId": "BD_MATERIAL", "FieldKeys": "FNumber,FName", "Limit": 10000}
        )
        return [ChannelItem(str(code), str(name or ""), str(code)) for code, name in rows]

    def open_receiver(self, channel_order_id: str, sealed: str) -> OpenedReceiver:
        raise Rejected("K/3 Cloud does not seal receivers.", code="not_supported")

    def parse_refund(self, payload: Mapping[str, Any]) -> ChannelRefund:
        raise ValueError("K/3 Cloud sales orders carry no refunds")

    def cancel_order(self, *, channel_order_id: str, reason: str = "other") -> None:
        raise Rejected("The hub does not cancel sales orders in the ERP.", code="not_supported")

    def close(self) -> None:
        self.client.transport.close()
