"""Douyin's message push (消息推送): order messages POSTed to the hub, signed, retried.

Wire (platform-apis.md §6.6, zsmhub/doudian-sdk `message/doudian_message.go`,
`doudian_sign.go`, `message/*消息.go`): the body is a JSON array
`[{"tag": "100", "msg_id": "…", "data": "<JSON string>"}]`, header `event-sign` =
lower-hex md5(app_key + raw body + app_secret); the hub answers
`{"code": 0, "msg": "success"}`, anything else is a failure and is sent again (same
body, same msg_id) after the next of `retry_delays`, until they run out. One message
per POST here.

Tags (the SDK's message structs; the reference marks refund numbers UNCONFIRMED, so the
whole table is the `push_tags` setting): 100 TradeCreate, 101 TradePaid, 102
TradeSellerShip, 108 TradePartlySellerShip, 103 TradeSuccess, 106 TradeCanceled, 113
TradeMemoModify, 200 RefundCreated, 206 RefundSuccess. Every data object carries
`p_id`, `shop_id` and `update_time` (UNIX seconds; the SDK types refund messages'
`update_time` as a time, which is UNCONFIRMED and not followed); trade messages carry
`s_ids` and `order_status`, refund messages `s_id` and `aftersale_id`. The receiver in a
ship message is ciphertext, as in the order.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from orderhub.sandbox.faults import Faults
from orderhub.sandbox.loop import EmulatorLoop

from .orders import Pack, ShopOrder, SkuOrder
from .state import CARRIERS
from .wire import dump

__all__ = ["DEFAULT_PUSH_TAGS", "PushOutbox", "PushWorker", "event_sign", "message_data"]

DEFAULT_PUSH_TAGS: Mapping[str, str] = {
    "created": "100",
    "paid": "101",
    "shipped": "102",
    "partly_shipped": "108",
    "success": "103",
    "canceled": "106",
    "memo": "113",
    "refund_created": "200",
    "refund_success": "206",
}
MSG_BASE = 7_400_000_000_000_000_000
PENDING, SENT, FAILED = "pending", "sent", "failed"


def event_sign(app_key: str, body: bytes, app_secret: str) -> str:
    """lower-hex md5(app_key + body + app_secret)."""
    return hashlib.md5(app_key.encode() + body + app_secret.encode()).hexdigest()


def _trade(order: ShopOrder, shop_id: int) -> dict[str, Any]:
    return {
        "biz": 2,
        "order_status": order.status,
        "order_type": 0,
        "p_id": int(order.order_id),
        "s_ids": [int(line.order_id) for line in order.lines],
        "shop_id": shop_id,
        "update_time": order.update_time,
    }


def _ship(order: ShopOrder, pack: Pack, partly: bool) -> dict[str, Any]:
    lines = {line.order_id: line for line in order.lines}
    logistics: dict[str, Any] = {
        "express_company_id": str(CARRIERS[pack.company_code][0]),
        "logistics_code": pack.tracking_no,
    }
    if partly:
        logistics["pack_id"] = pack.pack_id
        logistics["shipped_order_info"] = [
            {
                "product_id": lines[sid].sku.product_id,
                "shipped_num": num,
                "shipped_order_id": int(sid),
                "sku_id": lines[sid].sku.sku_id,
                "sku_num": lines[sid].quantity,
            }
            for sid, num in pack.lines
        ]
    receiver = {"addr": order.ciphers["addr"], "name": order.ciphers["name"]}
    receiver["tel"] = order.ciphers["tel"]
    return {"logistics_msg": logistics, "receiver_msg": receiver}


def _refund(order: ShopOrder, line: SkuOrder, shop_id: int, event: str) -> dict[str, Any]:
    sale = line.after_sale
    assert sale is not None
    data: dict[str, Any] = {
        "aftersale_id": sale.aftersale_id,
        "aftersale_status": sale.status,
        "aftersale_type": sale.kind,
        "apply_time": sale.apply_time,
        "p_id": int(order.order_id),
        "reason_code": 1,
        "refund_amount": sale.amount,
        "refund_post_amount": 0,
        "refund_voucher_num": 0,
        "s_id": int(line.order_id),
        "shop_id": shop_id,
        "update_time": order.update_time,
    }
    if event == "refund_success":
        data["success_time"] = sale.success_time
    return data


def message_data(
    event: str, order: ShopOrder, details: Mapping[str, Any], shop_id: int
) -> dict[str, Any]:
    """The `data` object of one message, from the order as it is now."""
    if event in ("refund_created", "refund_success"):
        return _refund(order, details["line"], shop_id, event)
    if event == "memo":
        return {
            "p_id": int(order.order_id),
            "remark": order.seller_words,
            "shop_id": shop_id,
            "star": order.seller_remark_stars,
            "update_time": order.update_time,
        }
    data = _trade(order, shop_id)
    if event == "created":
        data["create_time"] = order.create_time
    elif event == "paid":
        data.update(pay_amount=order.goods_amount + order.post_amount, pay_time=order.pay_time)
        data["pay_type"] = order.pay_type
    elif event in ("shipped", "partly_shipped"):
        data.update(_ship(order, details["pack"], event == "partly_shipped"))
    elif event == "success":
        data["complete_time"] = order.finish_time
    elif event == "canceled":
        data.update(cancel_reason=order.cancel_reason, cancel_time=order.cancel_time)
    return data


@dataclass
class PushMessage:
    """One message owed to the hub, with its attempts."""

    seq: int
    tag: str
    msg_id: str
    order_id: str
    body: bytes
    status: str = PENDING
    attempts: int = 0
    next_at: float = 0.0
    last_error: str = ""
    history: list[str] = field(default_factory=list)

    def snapshot(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "tag": self.tag,
            "msg_id": self.msg_id,
            "order_id": self.order_id,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "history": list(self.history),
            "body": self.body.decode("utf-8"),
        }


class PushOutbox:
    """The messages owed and sent; its own lock, so the worker never waits on the shop."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[PushMessage] = []
        self._seq = 0

    def add(self, tag: str, order_id: str, data: Mapping[str, Any], copies: int = 1) -> None:
        """Owe the hub one message (sent `copies` times: duplicate deliveries)."""
        with self.lock:
            self._seq += 1
            msg_id = str(MSG_BASE + self._seq * 17)
            body = dump([{"tag": tag, "msg_id": msg_id, "data": dump(data).decode("utf-8")}])
            for _ in range(max(copies, 1)):
                self.messages.append(
                    PushMessage(self._seq, tag, msg_id, order_id, body, next_at=time.monotonic())
                )

    def due(self) -> list[PushMessage]:
        now = time.monotonic()
        with self.lock:
            return [m for m in self.messages if m.status == PENDING and m.next_at <= now]

    def record(self, message: PushMessage, ok: bool, error: str, delays: Sequence[float]) -> None:
        """Note one attempt; schedule the next or give up once the delays run out."""
        with self.lock:
            message.attempts += 1
            message.history.append("ok" if ok else error)
            if ok:
                message.status = SENT
            elif message.attempts > len(delays):
                message.status, message.last_error = FAILED, error
            else:
                message.last_error = error
                message.next_at = time.monotonic() + delays[message.attempts - 1]

    def log(self) -> list[dict[str, Any]]:
        with self.lock:
            return [m.snapshot() for m in self.messages]

    def counts(self) -> dict[str, int]:
        with self.lock:
            statuses = [m.status for m in self.messages]
            return {
                "push_sent": statuses.count(SENT),
                "push_failed": statuses.count(FAILED),
                "push_pending": statuses.count(PENDING),
                "push_attempts": sum(m.attempts for m in self.messages),
            }


class PushWorker(EmulatorLoop):
    """Sends what the outbox owes to `push_url`, signed, in the background."""

    name = "douyin-push"

    def __init__(
        self,
        outbox: PushOutbox,
        faults: Faults,
        *,
        app_key: str,
        app_secret: str,
        push_url: str | None,
        retry_delays: Sequence[float],
        tick: float = 0.02,
        timeout: float = 5.0,
    ) -> None:
        super().__init__(tick=tick, timeout=timeout)
        self.outbox = outbox
        self.faults = faults
        self.push_url = push_url
        self.retry_delays = list(retry_delays)
        self._app_key = app_key
        self._app_secret = app_secret

    def step(self) -> None:
        url = self.push_url
        if not url or self._http is None:
            return
        batch = self.outbox.due()
        if self.faults.reorder_webhooks:
            batch.reverse()
        for message in batch:
            if self._stop.is_set():
                return
            ok, error = self._send(self._http, url, message.body)
            self.outbox.record(message, ok, error, self.retry_delays)

    def _send(self, http: httpx.Client, url: str, body: bytes) -> tuple[bool, str]:
        headers = {
            "Content-Type": "application/json",
            "event-sign": event_sign(self._app_key, body, self._app_secret),
        }
        try:
            response = http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return False, f"{type(exc).__name__}: {exc}"
        if not 200 <= response.status_code < 300:
            return False, f"HTTP {response.status_code}"
        try:
            reply = response.json()
        except ValueError:
            return False, "unreadable reply"
        if isinstance(reply, dict) and reply.get("code") == 0:
            return True, ""
        return False, f"not success: {response.text[:200]}"
