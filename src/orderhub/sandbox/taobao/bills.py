"""The seller's bill (账单): what Taobao and Alipay moved for each trade, line by line.

`taobao.bill.accounts.get` names the accounts (科目): the trade's payment, the Tmall
commission, the card fee, points. `taobao.bill.bills.get` lists bill lines by payment or
completion time, a day at most per call unless one trade is asked for, newest first,
amounts in fen, a refund negative.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .methods import Method, TopError
from .state import BEIJING, ShopState, Trade, top_time

__all__ = ["ACCOUNTS", "BILL_METHODS", "Bill", "settle_trade"]

PAYMENT, COMMISSION, CARD_FEE, POINTS, DEPOSIT = 10001, 10002, 10003, 10004, 10005

ACCOUNTS: dict[int, dict[str, Any]] = {
    aid: {"name": name, "code": code, "type": kind, "related_order": related}
    for aid, name, code, kind, related in [
        (PAYMENT, "交易收款", "TRADE_PAYMENT", 2, 1),
        (COMMISSION, "天猫佣金", "TMALL_COMMISSION", 3, 1),
        (CARD_FEE, "信用卡支付服务费", "CREDIT_CARD_FEE", 4, 1),
        (POINTS, "天猫积分", "TMALL_POINTS", 5, 1),
        (DEPOSIT, "消费者保障服务保证金", "DEPOSIT", 1, 0),
    ]
}
"""Account types: 1 virtual account, 2 trade, 3 commission, 4 service fee, 5 points, 6 other."""

MAX_SPAN = timedelta(days=1)
MAX_RESULTS = 5000


@dataclass
class Bill:
    bid: int
    account_id: int
    trade_id: int
    order_id: int
    total_amount: int
    amount: int
    pay_time: datetime
    biz_time: datetime
    status: int = 1
    num_iid: int = 0
    notice: str = ""

    def view(self) -> dict[str, Any]:
        return {
            "bid": self.bid,
            "account_id": self.account_id,
            "trade_id": str(self.trade_id),
            "order_id": str(self.order_id),
            "total_amount": self.total_amount,
            "amount": self.amount,
            "book_time": top_time(self.pay_time),
            "biz_time": top_time(self.biz_time),
            "pay_time": top_time(self.pay_time),
            "alipay_mail": "seller@example.com",
            "obj_alipay_mail": "tmall@example.com",
            "alipay_outno": f"T200P{self.trade_id}",
            "alipay_notice": self.notice,
            "status": self.status,
            "gmt_create": top_time(self.pay_time),
            "gmt_modified": top_time(self.pay_time),
            "num_iid": str(self.num_iid),
        }


def _fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def settle_trade(
    shop: ShopState,
    trade: Trade,
    *,
    at: datetime,
    commission_rate: Decimal,
    paid: Decimal | None = None,
) -> list[Bill]:
    """The buyer confirmed receipt: the payment reaches the seller and the commission is
    taken, one pair of lines per sub-order. `paid` overrides what the whole trade paid."""
    lines = []
    total = sum((o.price * o.num for o in trade.orders), Decimal("0")) + trade.post_fee
    share = (paid / total) if paid is not None and total else Decimal("1")
    for index, order in enumerate(trade.orders):
        gross = order.price * order.num + (trade.post_fee if index == 0 else Decimal("0"))
        received = _fen(gross * share)
        lines.append((PAYMENT, order, received, received))
        if commission_rate:
            fee = _fen(gross * share * commission_rate)
            lines.append((COMMISSION, order, received, -fee))
    made = []
    for account, order, total_fen, amount in lines:
        bill = Bill(
            bid=shop.new_id() % 10**15,
            account_id=account,
            trade_id=trade.tid,
            order_id=order.oid,
            total_amount=total_fen,
            amount=amount,
            pay_time=at,
            biz_time=at,
            num_iid=order.num_iid,
        )
        shop.bills[bill.bid] = bill
        made.append(bill)
    return made


def _parse_time(params: Mapping[str, str], name: str) -> datetime | None:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError as exc:
        raise _invalid(name, f"{text!r} is not yyyy-MM-dd HH:mm:ss") from exc


def _invalid(name: str, why: str) -> TopError:
    return TopError(41, "Invalid arguments", "isv.invalid-parameter", f"{name}: {why}")


def _number(params: Mapping[str, str], name: str, default: int | None) -> int | None:
    text = params.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or len(text) > 20:
        raise _invalid(name, f"{text!r} is not a number")
    return int(text)


def _fields(params: Mapping[str, str]) -> set[str]:
    wanted = {f.strip() for f in params.get("fields", "").split(",") if f.strip()}
    if not wanted:
        raise TopError(
            40, "Missing required arguments", "isv.missing-parameter", "fields is required"
        )
    return wanted


def bills_get(shop: ShopState, params: Mapping[str, str], _: int | None) -> dict[str, Any]:
    """`taobao.bill.bills.get`: lines of a day at most (or of one trade), newest first."""
    wanted = _fields(params)
    trade_id = _number(params, "trade_id", None)
    order_id = _number(params, "order_id", None)
    account_id = _number(params, "account_id", None)
    start, end = _parse_time(params, "start_time"), _parse_time(params, "end_time")
    if trade_id is None and order_id is None:
        if start is None or end is None:
            raise TopError(
                40,
                "Missing required arguments",
                "isv.missing-parameter",
                "start_time and end_time are required unless trade_id or order_id is given",
            )
        if end < start:
            raise _invalid("end_time", "must not be before start_time")
        if end - start > MAX_SPAN:
            raise _invalid("end_time", "end_time - start_time must not exceed one day")
    time_type = _number(params, "time_type", 2)
    if time_type not in (1, 2):
        raise _invalid("time_type", "must be 1 (biz_time) or 2 (pay_time)")
    page_no = _number(params, "page_no", 1) or 1
    size = _number(params, "page_size", 40) or 40
    if not 40 <= size <= 100:
        raise _invalid("page_size", "must be between 40 and 100")

    def when(bill: Bill) -> datetime:
        return bill.biz_time if time_type == 1 else bill.pay_time

    found = [
        b
        for b in shop.bills.values()
        if (trade_id is None or b.trade_id == trade_id)
        and (order_id is None or b.order_id == order_id)
        and (account_id is None or b.account_id == account_id)
        and (start is None or start <= when(b).replace(microsecond=0))
        and (end is None or when(b).replace(microsecond=0) <= end)
    ]
    if (page_no - 1) * size >= MAX_RESULTS:
        raise _invalid("page_no", f"at most {MAX_RESULTS} bills can be read for one query")
    found.sort(key=lambda b: (when(b), b.bid), reverse=True)
    found = found[:MAX_RESULTS]
    page = found[(page_no - 1) * size : page_no * size]
    return {
        "bills": {"bill": [{k: v for k, v in b.view().items() if k in wanted} for b in page]},
        "has_next": page_no * size < len(found),
        "total_results": len(page),
    }


def accounts_get(shop: ShopState, params: Mapping[str, str], _: int | None) -> dict[str, Any]:
    """`taobao.bill.accounts.get`: the accounts asked for (`aids`), or all of them."""
    wanted = _fields(params)
    aids = {a.strip() for a in params.get("aids", "").split(",") if a.strip()}
    rows = [
        {
            "account_id": aid,
            "account_name": acc["name"],
            "account_code": acc["code"],
            "account_type": acc["type"],
            "related_order": acc["related_order"],
            "status": 1,
            "gmt_create": "2020-01-01 00:00:00",
            "gmt_modified": "2020-01-01 00:00:00",
        }
        for aid, acc in ACCOUNTS.items()
        if not aids or str(aid) in aids
    ]
    return {
        "accounts": {"account": [{k: v for k, v in r.items() if k in wanted} for r in rows]},
        "total_results": len(rows),
    }


BILL_METHODS: dict[str, Method] = {
    "taobao.bill.bills.get": bills_get,
    "taobao.bill.accounts.get": accounts_get,
}
