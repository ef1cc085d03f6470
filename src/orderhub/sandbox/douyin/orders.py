"""Shop orders (店铺单) and their SKU orders (商品单) as Douyin keeps them.

Statuses (platform-apis.md §6.2): 1 待支付, 105 已支付, 2 备货中, 101 部分发货, 3 已发货,
4 已取消, 5 已完成. A refund lives on the SKU order's `after_sale_info` with the
platform's numbers (after_sale_type 0 退货退款 / 1 仅退款 / 2 售前退款; after_sale_status
6 售后申请 / 7 售后退货中 / 12 售后成功; refund_status 1 待退款 / 3 退款成功). Before
shipment a refund succeeds at once and closes the SKU order (status 4), and the shop
order too once nothing is left open; after shipment it stays in progress until settled,
and the order status does not change.

Times are UNIX seconds. Every change bumps `update_time`, the field the incremental
search runs on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .catalog import Sku
from .people import Receiver

__all__ = [
    "CANCELLED",
    "DONE",
    "PAID",
    "PARTLY_SHIPPED",
    "PENDING",
    "PREPARING",
    "SHIPPED",
    "STATUS_DESC",
    "AfterSale",
    "Pack",
    "ShopOrder",
    "SkuOrder",
]

PENDING, PAID, PREPARING, PARTLY_SHIPPED, SHIPPED, CANCELLED, DONE = 1, 105, 2, 101, 3, 4, 5
STATUS_DESC = {
    PENDING: "待支付",
    PAID: "已支付",
    PREPARING: "备货中",
    PARTLY_SHIPPED: "部分发货",
    SHIPPED: "已发货",
    CANCELLED: "已取消",
    DONE: "已完成",
}
RETURN_AND_REFUND, REFUND_ONLY, REFUND_BEFORE_SHIPMENT = 0, 1, 2
APPLIED, RETURNING, AFTERSALE_OK = 6, 7, 12
REFUND_PENDING, REFUND_OK = 1, 3


@dataclass
class AfterSale:
    """One refund request on a SKU order."""

    aftersale_id: int
    kind: int
    status: int
    refund_status: int
    quantity: int
    amount: int
    apply_time: int
    success_time: int = 0

    @property
    def open(self) -> bool:
        return self.refund_status == REFUND_PENDING

    def snapshot(self) -> dict[str, Any]:
        state = "success" if self.refund_status == REFUND_OK else "in_progress"
        return {
            "aftersale_id": str(self.aftersale_id),
            "state": state,
            "after_sale_type": self.kind,
            "after_sale_status": self.status,
            "refund_status": self.refund_status,
            "quantity": self.quantity,
            "amount": self.amount,
        }


@dataclass
class SkuOrder:
    """One line: a SKU, its quantity and unit price in fen, what has shipped."""

    order_id: str
    sku: Sku
    product_name: str
    quantity: int
    price: int
    status: int
    shipped: int = 0
    after_sale: AfterSale | None = None

    @property
    def closed(self) -> bool:
        return self.status == CANCELLED

    @property
    def to_ship(self) -> int:
        return 0 if self.closed else self.quantity - self.shipped


@dataclass
class Pack:
    """One parcel handed to a carrier: which SKU orders, how many of each."""

    pack_id: str
    company_code: str
    tracking_no: str
    lines: list[tuple[str, int]]
    ship_time: int


@dataclass
class ShopOrder:
    """A shop order with its SKU orders, receiver, parcels and remarks."""

    order_id: str
    receiver: Receiver
    ciphers: dict[str, str]
    lines: list[SkuOrder]
    status: int
    create_time: int
    update_time: int
    pay_time: int = 0
    ship_time: int = 0
    finish_time: int = 0
    cancel_time: int = 0
    cancel_reason: str = ""
    buyer_words: str = ""
    seller_words: str = ""
    seller_remark_stars: int = 0
    post_amount: int = 0
    pay_type: int = 1
    packs: list[Pack] = field(default_factory=list)

    @property
    def goods_amount(self) -> int:
        return sum(line.price * line.quantity for line in self.lines)

    @property
    def open_lines(self) -> list[SkuOrder]:
        return [line for line in self.lines if line.to_ship > 0]

    def line(self, sku_order_id: str) -> SkuOrder | None:
        return next((x for x in self.lines if x.order_id == sku_order_id), None)

    def settle_status(self) -> None:
        """Derive the shop order's status from its lines after a shipment or refund."""
        if self.status in (PENDING, CANCELLED, DONE):
            return
        live = [line for line in self.lines if not line.closed]
        if not live:
            self.status = CANCELLED
            return
        shipped_any = any(line.shipped for line in live)
        if all(line.to_ship == 0 for line in live):
            self.status = SHIPPED
            for line in live:
                line.status = SHIPPED
        elif shipped_any:
            self.status = PARTLY_SHIPPED
            for line in live:
                line.status = SHIPPED if line.to_ship == 0 else line.status

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready view for tests and the control routes, clear text included."""
        codes = {line.order_id: line.sku.code for line in self.lines}
        refunds = [line.after_sale for line in self.lines if line.after_sale]
        if not refunds:
            refund_state = "none"
        elif any(r.open for r in refunds):
            refund_state = "in_progress"
        else:
            refund_state = "success"
        return {
            "order_id": self.order_id,
            "status": self.status,
            "status_desc": STATUS_DESC[self.status],
            "create_time": self.create_time,
            "pay_time": self.pay_time,
            "update_time": self.update_time,
            "modified": self.update_time,
            "cancel_reason": self.cancel_reason,
            "buyer_words": self.buyer_words,
            "seller_words": self.seller_words,
            "seller_remark_stars": self.seller_remark_stars,
            "receiver": self.receiver.as_dict(),
            "refund_state": refund_state,
            "lines": [
                {
                    "sku_order_id": line.order_id,
                    "sku": line.sku.code,
                    "sku_id": str(line.sku.sku_id),
                    "product_id": str(line.sku.product_id),
                    "quantity": line.quantity,
                    "price": line.price,
                    "shipped": line.shipped,
                    "status": line.status,
                    "refund": line.after_sale.snapshot() if line.after_sale else None,
                }
                for line in self.lines
            ],
            "shipments": [
                {
                    "pack_id": pack.pack_id,
                    "company_code": pack.company_code,
                    "tracking_no": pack.tracking_no,
                    "ship_time": pack.ship_time,
                    "lines": [
                        {"sku_order_id": sid, "sku": codes[sid], "quantity": num}
                        for sid, num in pack.lines
                    ],
                }
                for pack in self.packs
            ],
        }
