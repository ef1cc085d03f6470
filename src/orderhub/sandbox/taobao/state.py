"""What a Taobao shop holds in the emulator: items with SKUs, trades, refunds.

Times are kept as aware datetimes and written as TOP writes them, Beijing time without
an offset. Receivers are kept clear and shown masked; the OAID stands for the clear one
and only `decrypt` opens it, as `top.oaid.decrypt` does.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

__all__ = ["BEIJING", "ShopState", "SubOrder", "Trade", "masked_receiver", "top_time"]

BEIJING = timezone(timedelta(hours=8))

_SURNAMES = "王李张刘陈杨黄赵吴周"
_GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军"]
_PLACES = [
    ("浙江省", "杭州市", "西湖区", "文新街道", "文一西路 969 号"),
    ("上海", "上海市", "浦东新区", "花木街道", "世纪大道 100 号"),
    ("广东省", "深圳市", "南山区", "粤海街道", "科技园南区 8 栋"),
    ("北京", "北京市", "朝阳区", "望京街道", "阜通东大街 6 号"),
]


def top_time(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _mask_name(name: str) -> str:
    return name[:1] + "**" if name else ""


def _mask_mobile(mobile: str) -> str:
    return mobile[:3] + "****" + mobile[-4:] if len(mobile) >= 7 else "****"


def _mask_address(address: str) -> str:
    return address[:1] + "***" + address[-1:] if address else ""


@dataclass
class SubOrder:
    """One line of a trade (TOP `Order`), identified by its `oid`."""

    oid: int
    num_iid: int
    sku_id: int
    outer_iid: str
    outer_sku_id: str
    title: str
    price: Decimal
    num: int
    status: str = "WAIT_SELLER_SEND_GOODS"
    refund_status: str = "NO_REFUND"
    refund_id: int | None = None
    invoice_no: str = ""
    logistics_company: str = ""
    consign_time: datetime | None = None

    def view(self) -> dict[str, Any]:
        total = self.price * self.num
        found: dict[str, Any] = {
            "oid": self.oid,
            "num_iid": self.num_iid,
            "sku_id": str(self.sku_id),
            "outer_iid": self.outer_iid,
            "outer_sku_id": self.outer_sku_id,
            "title": self.title,
            "price": f"{self.price:.2f}",
            "num": self.num,
            "total_fee": f"{total:.2f}",
            "payment": f"{total:.2f}",
            "discount_fee": "0.00",
            "adjust_fee": "0.00",
            "status": self.status,
            "refund_status": self.refund_status,
        }
        if self.refund_id is not None:
            found["refund_id"] = self.refund_id
        if self.invoice_no:
            found.update(invoice_no=self.invoice_no, logistics_company=self.logistics_company)
        if self.consign_time is not None:
            found["consign_time"] = top_time(self.consign_time)
        return found


@dataclass
class Trade:
    """A buyer's trade with its sub-orders and the clear receiver behind the OAID."""

    tid: int
    status: str
    created: datetime
    pay_time: datetime | None
    modified: datetime
    buyer_nick: str
    buyer_message: str
    receiver: dict[str, str]
    oaid: str
    orders: list[SubOrder]
    post_fee: Decimal = Decimal("0")
    seller_memo: str = ""
    consign_time: datetime | None = None

    def view(self, *, include_oaid: bool) -> dict[str, Any]:
        """The trade as `taobao.trade.fullinfo.get` answers: amounts as yuan strings."""
        items = sum((o.price * o.num for o in self.orders), Decimal("0"))
        found: dict[str, Any] = {
            "tid": self.tid,
            "status": self.status,
            "type": "fixed",
            "created": top_time(self.created),
            "modified": top_time(self.modified),
            "total_fee": f"{items:.2f}",
            "post_fee": f"{self.post_fee:.2f}",
            "discount_fee": "0.00",
            "adjust_fee": "0.00",
            "payment": f"{items + self.post_fee:.2f}",
            "buyer_nick": self.buyer_nick[:1] + "**",
            "buyer_message": self.buyer_message,
            "seller_memo": self.seller_memo,
            **masked_receiver(self.receiver),
            "orders": {"order": [o.view() for o in self.orders]},
        }
        if self.pay_time is not None:
            found["pay_time"] = top_time(self.pay_time)
        if self.consign_time is not None:
            found["consign_time"] = top_time(self.consign_time)
        if include_oaid:
            found["oaid"] = self.oaid
        return found


def masked_receiver(receiver: Mapping[str, str]) -> dict[str, str]:
    """Receiver fields as TOP shows them to an app: region clear, the rest masked."""
    return {
        "receiver_name": _mask_name(receiver["name"]),
        "receiver_mobile": _mask_mobile(receiver["mobile"]),
        "receiver_phone": "",
        "receiver_country": "",
        "receiver_state": receiver["state"],
        "receiver_city": receiver["city"],
        "receiver_district": receiver["district"],
        "receiver_town": receiver["town"],
        "receiver_address": _mask_address(receiver["address_detail"]),
        "receiver_zip": receiver.get("zip", "000000"),
    }


@dataclass
class Item:
    num_iid: int
    title: str
    outer_id: str
    skus: dict[str, tuple[int, int, Decimal]]  # merchant code → (sku_id, quantity, price)


@dataclass
class ShopState:
    """Items, trades and the counters the control routes report."""

    seed: int | None = None
    items: dict[int, Item] = field(default_factory=dict)
    trades: dict[int, Trade] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    decrypted: int = 0
    bills: dict[int, Any] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _rng: random.Random = field(default_factory=random.Random)
    _next: int = 3_920_391_847_261_000_000

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    def new_id(self) -> int:
        with self.lock:
            self._next += self._rng.randint(1, 9999)
            return self._next

    def seed_items(self, rows: list[Mapping[str, Any]]) -> None:
        """One item per row, each with one SKU whose merchant code is the row's `sku`."""
        with self.lock:
            for row in rows:
                num_iid = int(row.get("item_id") or self.new_id() % 10**12)
                item = self.items.setdefault(
                    num_iid, Item(num_iid, str(row.get("title") or row["sku"]), "", {})
                )
                item.skus[str(row["sku"])] = (
                    self.new_id() % 10**13,
                    int(row.get("stock", 0)),
                    Decimal(str(row.get("price", "19.90"))),
                )

    def sku(self, code: str) -> tuple[Item, int, Decimal] | None:
        for item in self.items.values():
            if code in item.skus:
                sku_id, _, price = item.skus[code]
                return item, sku_id, price
        return None

    def random_receiver(self) -> dict[str, str]:
        state, city, district, town, street = self._rng.choice(_PLACES)
        return {
            "name": self._rng.choice(_SURNAMES) + self._rng.choice(_GIVEN),
            "mobile": "13" + "".join(str(self._rng.randint(0, 9)) for _ in range(9)),
            "state": state,
            "city": city,
            "district": district,
            "town": town,
            "address_detail": street,
            "zip": "310000",
        }

    def oaid_for(self, tid: int) -> str:
        digest = hashlib.sha256(f"oaid:{tid}:{self.seed}".encode()).hexdigest()
        return "1" + digest[:27]
