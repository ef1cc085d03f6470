"""What a Pinduoduo shop holds in the emulator: goods with SKUs, orders, refunds.

Receivers are kept clear and sent as ciphertext while an order waits to ship, as POP
does; only `pdd.open.decrypt.batch` opens them. Times are written `yyyy-MM-dd HH:mm:ss`
in Beijing time, amounts as yuan numbers.
"""

from __future__ import annotations

import base64
import hashlib
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

__all__ = ["BEIJING", "Goods", "Order", "PddState", "pdd_time"]

BEIJING = timezone(timedelta(hours=8))
WAITING, SHIPPED, RECEIVED = 1, 2, 3
NO_REFUND, REFUND_PENDING, REFUNDING, REFUNDED = 1, 2, 3, 4

_PEOPLE = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"]
_PLACES = [
    ("浙江省", "杭州市", "西湖区", "文一西路 969 号"),
    ("上海市", "上海市", "浦东新区", "世纪大道 100 号"),
    ("广东省", "深圳市", "南山区", "科技园南区 8 栋"),
]


def pdd_time(moment: datetime | None) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


@dataclass
class Goods:
    goods_id: int
    goods_name: str
    skus: dict[str, list[Any]]  # outer_id → [sku_id, quantity, price]


@dataclass
class Item:
    goods_id: int
    sku_id: int
    outer_id: str
    goods_name: str
    goods_price: Decimal
    goods_count: int


@dataclass
class Order:
    order_sn: str
    created: datetime
    pay_time: datetime | None
    updated_at: datetime
    receiver: dict[str, str]
    items: list[Item]
    postage: Decimal = Decimal("0")
    order_status: int = WAITING
    refund_status: int = NO_REFUND
    tracking_number: str = ""
    logistics_id: int = 0
    shipping_time: datetime | None = None
    buyer_memo: str = ""
    remark: str = ""

    def cipher(self, field_name: str) -> str:
        """A ciphertext standing for one receiver field, shaped as POP writes it: a phone
        between `$` marks (`$index$body$0$$`), a name or address between `~` marks."""
        mark = "$" if field_name == "phone" else "~"
        digest = hashlib.sha256(f"{self.order_sn}|{field_name}".encode()).digest()
        index = base64.b64encode(digest[:9]).decode()
        body = base64.b64encode(digest[9:]).decode().rstrip("=")
        return f"{mark}{index}{mark}{body}{mark}0{mark}{mark}"

    def masks(self) -> dict[str, str]:
        """The `*_mask` fields POP sends beside the ciphertexts."""
        r = self.receiver
        return {
            "receiver_name_mask": r["name"][:1] + "*" * max(len(r["name"]) - 1, 1),
            "receiver_phone_mask": r["phone"][:3] + "****" + r["phone"][-4:],
            "receiver_address_mask": r["town"] + "****",
        }

    def view(self) -> dict[str, Any]:
        goods = sum((i.goods_price * i.goods_count for i in self.items), Decimal("0"))
        sealed = self.order_status == WAITING and self.refund_status != REFUNDED
        r = self.receiver
        return {
            "order_sn": self.order_sn,
            "order_status": self.order_status,
            "refund_status": self.refund_status,
            "confirm_status": 1,
            "group_status": 1,
            "after_sales_status": 10 if self.refund_status == REFUNDED else 0,
            "created_time": pdd_time(self.created),
            "confirm_time": pdd_time(self.pay_time),
            "pay_time": pdd_time(self.pay_time),
            "updated_at": pdd_time(self.updated_at),
            "shipping_time": pdd_time(self.shipping_time),
            "receiver_name": self.cipher("name") if sealed else "",
            "receiver_phone": self.cipher("phone") if sealed else "",
            "receiver_address": self.cipher("address") if sealed else "",
            "address": self.cipher("address") if sealed else "",
            **(self.masks() if sealed else {}),
            "country": "中国",
            "province": r["province"],
            "city": r["city"],
            "town": r["town"],
            "goods_amount": float(goods),
            "discount_amount": 0.0,
            "platform_discount": 0.0,
            "seller_discount": 0.0,
            "postage": float(self.postage),
            "pay_amount": float(goods + self.postage),
            "buyer_memo": self.buyer_memo,
            "remark": self.remark,
            "tracking_number": self.tracking_number,
            "logistics_id": self.logistics_id,
            "item_list": [
                {
                    "goods_id": i.goods_id,
                    "sku_id": i.sku_id,
                    "outer_id": i.outer_id,
                    "outer_goods_id": "",
                    "goods_name": i.goods_name,
                    "goods_spec": i.outer_id,
                    "goods_price": float(i.goods_price),
                    "goods_count": i.goods_count,
                }
                for i in self.items
            ],
        }


@dataclass
class PddState:
    """Goods, orders and counters, behind one lock."""

    seed: int | None = None
    goods: dict[int, Goods] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    decrypted: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _rng: random.Random = field(default_factory=random.Random)
    _next: int = 100_000_000

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    def new_number(self) -> int:
        with self.lock:
            self._next += self._rng.randint(1, 999)
            return self._next

    def seed_items(self, rows: list[Mapping[str, Any]]) -> None:
        with self.lock:
            for row in rows:
                goods_id = int(row.get("item_id") or self.new_number())
                goods = self.goods.setdefault(
                    goods_id, Goods(goods_id, str(row.get("title") or row["sku"]), {})
                )
                goods.skus[str(row["sku"])] = [
                    self.new_number() * 10,
                    int(row.get("stock", 0)),
                    Decimal(str(row.get("price", "19.90"))),
                ]

    def sku(self, code: str) -> tuple[Goods, int, Decimal] | None:
        for goods in self.goods.values():
            if code in goods.skus:
                sku_id, _, price = goods.skus[code]
                return goods, int(sku_id), Decimal(price)
        return None

    def order_sn(self, moment: datetime) -> str:
        return f"{moment.astimezone(BEIJING):%y%m%d}-{self.new_number():015d}"

    def random_receiver(self) -> dict[str, str]:
        province, city, town, street = self._rng.choice(_PLACES)
        return {
            "name": self._rng.choice(_PEOPLE),
            "phone": "13" + "".join(str(self._rng.randint(0, 9)) for _ in range(9)),
            "province": province,
            "city": city,
            "town": town,
            "address": street,
        }
